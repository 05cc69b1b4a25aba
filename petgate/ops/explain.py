"""`petgate explain`: which layer lets one request through or refuses it, and why, over what the
stage serves (explain_layers.py walks the layers; this module reads what they need), and with
`live` the request itself, sent as verify sends it, to say whether the answer agrees.

Reads: GetRestApi (the endpoint type), GetStage, GetExport (the deployed definition, policy and
gateway responses), the stage's web ACL and the IP sets its rules name, STS (the API's account
when the policy names none; whom `--as` credentials are), and IAM for a signed caller's identity
policies on an AWS_IAM method. Changes nothing.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from petgate import policy as policies
from petgate import probe
from petgate.errors import AwsError, ExpectationNotMetError, NetworkError, PetgateError, UsageError
from petgate.gateway import exported_policy
from petgate.ops import apis, myip
from petgate.ops.explain_answer import forbidden
from petgate.ops.explain_layers import walk
from petgate.ops.explain_model import PASS, REFUSE, Asked, Endpoint, Identity, Layer, Outcome, Served, WebAcl
from petgate.ops.explain_routes import method_auth, route_of
from petgate.ops.policy_view import Principal, identity_policies_from_iam, principal_of
from petgate.ops.results import UNSET, Result, Unset
from petgate.ops.services import Services
from petgate.ops.verify import Signer, signer_for

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


@dataclass(frozen=True, kw_only=True)
class LiveAnswer(Result):
    """What the stage answered (`live`): status (None: unreachable), x-amzn-ErrorType, verify's
    reason, and whether it agrees with the explanation (None: the explanation was not known, so
    the answer settles it); `differs` names what did not agree."""

    url: str
    status: int | None
    error_type: str | None
    reason: str
    body: str
    agrees: bool | None
    differs: list[str]
    signed_as: str | None


@dataclass(frozen=True, kw_only=True)
class Explained(Result):
    """`petgate explain`: the request (method, path, source address, VPC endpoint, the caller:
    None anonymous), each layer in AWS's order, the outcome, what petgate could not see, and with
    --live the answer."""

    api_id: str
    stage: str
    method: str
    path: str
    source_ip: str
    vpce: str | None
    principal: str | None
    signed: bool
    layers: list[Layer]
    outcome: Outcome
    unknowns: list[str]
    live: LiveAnswer | Unset = UNSET


def explain(
    app: Services, api_ref: str, stage: str, *, ip: str | None = None, principal: str | None = None,
    as_profile: str | None = None, vpce: str | None = None, method: str = "GET", path: str = "/",
    headers: Mapping[str, str] | None = None, live: bool = False,
) -> Explained:
    """Explain one request; with `live` send it too (see the module's docstring)."""
    method, path = method.upper(), "/" + path.lstrip("/")
    if "#" in path or any(segment in (".", "..") for segment in path.split("/")):
        raise UsageError(f"--path {path!r} is not what an HTTP client sends (a fragment, or a . or .. segment)",
                         "give the path as it is sent: /pets/1")
    if method not in METHODS:
        raise UsageError(f"--method {method!r} is not an HTTP method API Gateway routes", f"one of {', '.join(METHODS)}")
    if principal is not None and as_profile is not None:
        raise UsageError("give --principal ARN or --as PROFILE, not both",
                         "--as signs with that profile's credentials and explains for whom STS says they are")
    sent = {k.lower(): v for k, v in (headers or {}).items()}
    address = _address(ip) if ip is not None else None
    who = principal_of(principal) if principal is not None else None
    signer: Signer | None = None
    if as_profile is not None or (live and who is not None):
        signer = signer_for(app, False, as_profile) if as_profile is not None else signer_for(app, True, None)
        assert signer is not None  # asked to sign: a signer, or a UsageError
        who = _signed_principal(signer, who, as_profile)

    api, api_doc = apis.read_api(app.gateway, api_ref)
    found = app.gateway.get_stage(api.id, stage)
    region = app.target.resolved_region()
    endpoint, mapped = _endpoint(app, vpce, address)
    if address is None:
        address = mapped or app.target.source_address or myip.my_address(app)
    if endpoint is None and vpce is None and app.target.local:
        endpoint = _mapped_endpoint(app, address)  # an address the gateway maps comes through its endpoint
    if live:
        _check_live_source(app, address, endpoint, ip is not None)
    private = "PRIVATE" in ((api_doc.get("endpointConfiguration") or {}).get("types") or [])
    if found is None:  # a typo or a stage never deployed: the first of the 403's causes
        layer = Layer(layer="stage", decision=REFUSE, because=(
            f"API {api.id} has no stage {stage!r} (never deployed, or a typo): API Gateway answers its plain "
            "403 Forbidden before any other layer; `petgate status` lists the stages"))
        data = Explained(api_id=api.id, stage=stage, method=method, path=path, source_ip=address,
                         vpce=endpoint.vpce_id if endpoint else None, principal=who.caller.arn if who else None,
                         signed=who is not None, layers=[layer], outcome=forbidden("stage-not-found"), unknowns=[])
        served = Served(api_id=api.id, stage=stage, region=region, account="", export={}, private=private)
        return data.but(live=_send(app, data, served, sent, signer)) if live else data
    export = app.gateway.get_stage_export(api.id, stage)
    served = Served(
        api_id=api.id, stage=stage, region=region, account=_account(app, export, api.id),
        export=export, private=private,
        deployment_id=found.get("deploymentId"), stage_variables=dict(found.get("variables") or {}),
        **_web_acl(app, region, api.id, stage),
    )
    asked = Asked(method=method, path=path, source_ip=address, headers=sent, endpoint=endpoint,
                  caller=who.caller if who is not None else policies.ANONYMOUS, now=app.clock(),
                  scps_visible=app.target.local)
    route = route_of(export.get("paths") or {}, method, path)
    if who is not None and route is not None and method_auth(export, route.operation).kind == "AWS_IAM":
        asked = dataclasses.replace(asked, identity=_identity(app, who))
    walked, outcome, unknowns = walk(served, asked)
    data = Explained(api_id=api.id, stage=stage, method=method, path=path, source_ip=address,
                     vpce=endpoint.vpce_id if endpoint else None, principal=who.caller.arn if who else None,
                     signed=who is not None, layers=walked, outcome=outcome, unknowns=unknowns)
    if live:
        data = data.but(live=_send(app, data, served, sent, signer))
    return data


def disagreement(data: Explained) -> PetgateError | None:
    """The error explain --live ends with: 1 when the answer disagrees, 4 when there was none."""
    live = data.live
    if not isinstance(live, LiveAnswer) or live.agrees is not False:
        return None
    if live.status is None:
        return NetworkError(f"cannot reach {live.url} ({live.body})")
    return ExpectationNotMetError(
        f"the live answer disagrees with the explanation: {', '.join(live.differs)}",
        "`-o json` shows the explanation and the answer side by side; what petgate reads of the stage (its export, "
        "its web ACL) cannot show what decided here",
    )


# --- reading --------------------------------------------------------------------------------------


def _address(text: str) -> str:
    try:
        return str(policies.unmapped_address(ipaddress.ip_address(text.strip())))
    except ValueError:
        raise UsageError(f"--ip {text!r} is not an IP address") from None


def _signed_principal(signer: Signer, given: Principal | None, as_profile: str | None) -> Principal:
    """Whom the signing credentials are (STS); with --principal, they must be that principal."""
    if signer.signed_as is None:
        raise UsageError(f"{'--as ' + as_profile if as_profile else '--live'}: STS cannot say whom the credentials belong to",
                         "check the credentials, or explain without --live for --principal ARN")
    signed = principal_of(signer.signed_as)
    if given is not None and not _same(given, signed):
        raise UsageError(f"--live signs with the active credentials, which are {signer.signed_as}, not {given.given}",
                         "use --as PROFILE with that principal's profile, or leave out --live")
    return signed


def _same(given: Principal, signed: Principal) -> bool:
    if given.kind == "role" and signed.kind == "session":
        return given.caller.account == signed.caller.account and given.name == signed.name
    return given.caller.arn == signed.caller.arn


def _account(app: Services, export: Mapping[str, Any], api_id: str) -> str:
    """The API's account: the one its deployed policy names (AWS stores full ARNs), else STS's."""
    account = policies.account_in(exported_policy(dict(export)), api_id)
    if account != policies.PLACEHOLDER_ACCOUNT:
        return account
    try:
        return app.iam.account()
    except PetgateError:
        return account


def _web_acl(app: Services, region: str, api_id: str, stage: str) -> dict[str, Any]:
    """The stage's web ACL and the IP sets its rules name, or why they cannot be read."""
    from petgate.waf import stage_arn

    try:
        acl = app.waf.web_acl_for(stage_arn(region, api_id, stage))
        if acl is None:
            return {}
        ip_sets: dict[str, list[str]] = {}
        for arn in sorted(_ip_set_arns([*(acl.get("Rules") or [])])):
            name, set_id = arn.split("/")[-2:]
            ip_set, _ = app.waf.get_ip_set({"Name": name, "Id": set_id})
            ip_sets[arn] = list(ip_set.get("Addresses") or [])
    except PetgateError as exc:
        return {"waf_unknown": exc.line()}
    return {"web_acl": WebAcl(name=str(acl.get("Name", "")), rules=list(acl.get("Rules") or []),
                              default_action=dict(acl.get("DefaultAction") or {}),
                              custom_bodies=dict(acl.get("CustomResponseBodies") or {}), ip_sets=ip_sets)}


def _ip_set_arns(found: Any) -> set[str]:
    if isinstance(found, dict):
        reference = found.get("IPSetReferenceStatement")
        arns = {str(reference["ARN"])} if isinstance(reference, dict) and reference.get("ARN") else set()
        return arns.union(*(_ip_set_arns(v) for k, v in found.items() if k != "IPSetReferenceStatement"))
    if isinstance(found, list):
        return set().union(*(_ip_set_arns(v) for v in found))
    return set()


def _endpoint(app: Services, vpce: str | None, address: str | None) -> tuple[Endpoint | None, str | None]:
    """The VPC endpoint `--vpce` names and, on petgate local, a source address its mapping gives
    (the VPC from `petgate local --vpc-endpoint`; on AWS the VPC is not read)."""
    if vpce is None:
        return None, None
    vpce = vpce.strip()
    if not vpce.startswith("vpce-"):
        raise UsageError(f"--vpce {vpce!r} is not a VPC endpoint id (vpce-...)")
    if not app.target.local:
        return Endpoint(vpce, None), None
    mappings = _local_endpoints(app)
    addresses = [a for a, (e, _) in mappings.items() if e == vpce]
    if not addresses:
        raise UsageError(f"the local gateway maps no source address to {vpce}",
                         f"start it with `petgate local --vpc-endpoint {vpce}:vpc-0def5678=127.0.0.9`")
    if address is not None and address not in addresses:
        raise UsageError(f"--ip {address} does not come through {vpce} on the local gateway (it maps {', '.join(addresses)})",
                         "leave out --ip, or give one of those")
    return Endpoint(vpce, mappings[addresses[0]][1]), addresses[0]


def _mapped_endpoint(app: Services, address: str) -> Endpoint | None:
    """On petgate local, the VPC endpoint `--vpc-endpoint` maps the source address to (README:
    requests from ADDRESS come through that endpoint), or None."""
    mapped = _local_endpoints(app).get(address)
    return Endpoint(mapped[0], mapped[1]) if mapped is not None else None


def _local_endpoints(app: Services) -> dict[str, tuple[str, str]]:
    """petgate local's --vpc-endpoint mappings (/_petgate/vpc-endpoints): address -> (vpce, vpc)."""
    import requests

    url = app.target.local_url.rstrip("/") + "/_petgate/vpc-endpoints"
    try:
        found = app.http.get(url, timeout=10).json()["vpc_endpoints"]
        return {str(e["address"]): (str(e["vpce_id"]), str(e["vpc_id"])) for e in found}
    except (requests.RequestException, ValueError, KeyError, TypeError) as exc:
        raise NetworkError(f"cannot read the local gateway's VPC endpoints at {url} ({exc})") from None


def _identity(app: Services, who: Principal) -> Identity:
    """The signed caller's identity policies from IAM, or why they cannot be seen (another
    account's IAM, or IAM refusing): unknown, never guessed."""
    try:
        return Identity(policies=[(name, policies.compile_policy(doc, identity=True))
                                  for name, doc in identity_policies_from_iam(app, who)])
    except UsageError as exc:
        return Identity(unknown=f"the identity policies of {who.given} cannot be read ({exc.message})")
    except AwsError as exc:
        if exc.code == "NoSuchEntity":  # no such caller: it cannot sign at all
            raise AwsError(exc.message, "check --principal (IAM must hold it to sign)", exc.code) from None
        return Identity(unknown=f"the identity policies of {who.given} cannot be read ({exc.message})")


# --- the live request -------------------------------------------------------------------------------


def _check_live_source(app: Services, address: str, endpoint: Endpoint | None, given: bool) -> None:
    """--live sends from the address it explains for: one this machine can bind (a loopback one)."""
    if not given and endpoint is None:
        return  # the caller's own address, as checkip sees it
    parsed = ipaddress.ip_address(address)
    if not parsed.is_loopback or not _bindable(address):
        raise UsageError(f"--live sends from {address}, which is not a loopback address this machine can bind",
                         "leave out --ip to send from your own address")


def _bindable(address: str) -> bool:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.bind((address, 0))
    except OSError:
        return False
    return True


def _send(app: Services, data: Explained, served: Served, sent: Mapping[str, str], signer: Signer | None) -> LiveAnswer:
    """The request, once, as verify sends it (its classification, probe.py), from the explained
    address and through the VPC endpoint's Route 53 alias (Host {api}-{vpce}.execute-api...:
    Developer Guide "apigateway-private-api-test-invoke-url") when there is one."""
    import requests

    headers = dict(sent)
    if data.vpce is not None:
        headers["host"] = f"{data.api_id}-{data.vpce}.execute-api.{served.region}.amazonaws.com"
        base = (app.target.control_url or f"https://{headers['host']}") + f"/{data.stage}"
    else:
        base = app.target.invoke_url(data.api_id, data.stage)
    url = base + data.path
    local_source = app.target.source_address != data.source_ip and ipaddress.ip_address(data.source_ip).is_loopback
    session = (dataclasses.replace(app.target, source_address=data.source_ip).http_session()
               if local_source and _bindable(data.source_ip) else app.http)

    def fetch() -> probe.Answer:
        signed = signer.headers(data.method, url, headers) if signer is not None else headers
        response = session.request(data.method, url, headers=signed, timeout=10, allow_redirects=False)
        return probe.Answer(response.status_code, response.text, response.headers.get("x-amzn-ErrorType"))

    def decided(name: str, decision: str) -> bool:
        return any(layer.layer == name and layer.decision == decision for layer in data.layers)

    # an ambiguous answer's reason settled with what was read for the explanation (verify's facts)
    facts = probe.Facts(stage_exists=lambda: not decided("stage", REFUSE), route_exists=lambda: decided("route", PASS),
                        private_api=lambda: served.private and data.vpce is None,
                        waf_refusal=lambda: decided("waf", REFUSE))
    with app.output.waiting(f"Sending {data.method} {url}..."):
        result = probe.run(url, fetch, "any", 0.0, api_id=data.api_id, network_errors=(requests.RequestException,),
                           facts=facts, signed=signer is not None)
    return _compare(data.outcome, result, signer)


def _compare(outcome: Outcome, result: probe.ProbeResult, signer: Signer | None) -> LiveAnswer:
    """Status and x-amzn-ErrorType against the explanation's; an allowed request whose status is
    the backend's agrees when no gateway error came back; an explanation with an unknown layer
    neither agrees nor disagrees (None): the answer settles what petgate could not see."""
    error_type = (result.error_type or "").split(":")[0].strip() or None
    differs: list[str] = []
    if result.status is None:
        differs.append(f"no answer ({result.error})")
    elif outcome.allowed is True and outcome.status is None:
        if result.reason != "allowed" and error_type is not None:
            differs.append(f"a gateway error {result.status} {error_type}, explained the backend's answer")
    else:
        if outcome.status != result.status:
            differs.append(f"status {result.status}, explained {outcome.status}")
        if outcome.error_type != error_type:
            differs.append(f"x-amzn-ErrorType {error_type}, explained {outcome.error_type}")
    agrees: bool | None = not differs
    if not outcome.known and result.status is not None:
        agrees = None
    return LiveAnswer(url=result.url, status=result.status, error_type=error_type, reason=result.reason,
                      body=result.body if result.status is not None else (result.error or ""), agrees=agrees,
                      differs=differs, signed_as=signer.signed_as if signer is not None else None)
