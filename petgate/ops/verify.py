"""verify's probe: request a URL until the expectation holds, signed with SigV4 when asked, and
settle an ambiguous answer with what the control plane says (does the stage exist and serve this
route, is the API private, does the policy it serves, or its web ACL, refuse this caller)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from petgate import probe
from petgate.errors import AwsError, ExpectationNotMetError, NetworkError, PetgateError
from petgate.gateway import exported_policy
from petgate.ops import apis, myip
from petgate.ops.results import FLAT, Result
from petgate.ops.services import Services

SIGNING_SERVICE = "execute-api"


@dataclass(frozen=True, kw_only=True)
class Leak(Result):
    """What a 403 body reveals about the account (probe.find_leaks): an ARN, an account id
    (masked or not), the API id."""

    kind: str
    value: str


@dataclass(frozen=True, kw_only=True)
class Probed(Result):
    """The URL requested until the expectation held or the timeout passed: the last answer,
    its reason and outcome (probe.py), and what its body leaks. `signed`: the requests carried
    SigV4 (`verify --sign` / `--as`); `signed_as`: the ARN STS gives for the credentials that
    signed (None: unsigned, STS could not say, or the gateway did not recognize the key)."""

    url: str
    expected: str
    status: int | None  # None: no answer (unreachable)
    outcome: str
    ok: bool
    attempts: int
    elapsed_s: float
    body: str
    leaks: list[Leak]
    error: str | None
    reason: str
    error_type: str | None
    signed: bool = False
    signed_as: str | None = None

    @classmethod
    def of(cls, result: probe.ProbeResult, signer: Signer | None = None) -> Probed:
        signed_as = signer.signed_as if signer is not None and result.reason != "unrecognized-client" else None
        return cls(
            url=result.url, expected=result.expected, status=result.status, outcome=result.outcome, ok=result.ok,
            attempts=result.attempts, elapsed_s=result.elapsed_s, body=result.body,
            leaks=[Leak(kind=leak["kind"], value=leak["value"]) for leak in result.leaks],
            error=result.error, reason=result.reason, error_type=result.error_type,
            signed=signer is not None, signed_as=signed_as,
        )


@dataclass(frozen=True, kw_only=True)
class Verified(Result):
    """`petgate verify`: the API (None: a --url of its own) and stage, and the probe's answer."""

    api_id: str | None
    stage: str
    probed: Probed = field(metadata=FLAT)


@dataclass(frozen=True)
class Signer:
    """SigV4 for execute-api with one set of credentials (botocore's SigV4Auth over an
    AWSRequest: no cryptography of petgate's own), and whom STS says they are."""

    credentials: Any  # botocore ReadOnlyCredentials
    region: str
    signed_as: str | None

    def headers(self, method: str, url: str, sent: Mapping[str, str] | None = None) -> dict[str, str]:
        """The headers that sign this request now (Authorization, X-Amz-Date, and the session
        token of temporary credentials); signed again for every attempt, so none goes stale.
        `sent`: headers the request carries besides (a Host of its own, say), signed with it and
        returned with the signing ones."""
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        request = AWSRequest(method=method, url=url, headers=dict(sent or {}))
        credentials = Credentials(self.credentials.access_key, self.credentials.secret_key, self.credentials.token)
        SigV4Auth(credentials, SIGNING_SERVICE, self.region).add_auth(request)
        return dict(request.headers.items())


def signer_for(app: Services, sign: bool, as_profile: str | None) -> Signer | None:
    """The signer `--sign` (the active credentials) or `--as PROFILE` asks for, None for neither.
    A profile that does not exist, or no credentials at all: a UsageError (exit 2) before anything
    is sent. Who the credentials are is asked of STS once; an answer STS cannot give is a warning."""
    if not sign and as_profile is None:
        return None
    from petgate import iam

    option = "--as" if as_profile is not None else "--sign"
    session = iam.signing_session(app.target, as_profile)
    credentials = iam.credentials_of(session, option)
    region = app.target.resolved_region()
    try:
        signed_as: str | None = iam.build(session, app.target).caller_identity()["Arn"] or None
    except PetgateError as exc:
        app.output.warn(f"cannot tell whom the credentials belong to: {exc.line()}")
        signed_as = None
    return Signer(credentials, region, signed_as)


def verify(
    app: Services, api_ref: str, stage: str, path: str, expect: str, timeout: float, url: str | None = None,
    sign: bool = False, as_profile: str | None = None,
) -> Verified:
    """`petgate verify`: the stage's invoke URL (+ path), or `url`, probed until `expect` holds;
    signed with the active credentials (`sign`) or a profile's (`as_profile`)."""
    signer = signer_for(app, sign, as_profile)  # bad input first: nothing is requested yet
    api_id = None
    if url is None:
        # an id needs no lookup: a wrong one shows as a failed probe, explained below
        api_id = apis.resolve_api(app.gateway, api_ref, look_up_ids=False).id
        url = app.target.invoke_url(api_id, stage) + "/" + path.lstrip("/")
    result = run_probe(app, url, expect, timeout, api_id, stage, "GET", path, signer=signer)
    if result.reason == "stage-not-found" and api_id is not None and app.gateway.get_api_or_none(api_id) is None:
        raise AwsError(f"no REST API with id or name {api_id!r}", "check --api", "NotFoundException")
    return Verified(api_id=api_id, stage=stage, probed=result)


_HINTS = {
    "stage-not-found": "API {api_id} has no stage {stage!r}: run `petgate deploy`, or check --stage",
    "missing-route": "the API has no such path or method: check --path",
    "missing-signature": "the method uses IAM authorization (AWS_IAM): sign the request with --sign or --as PROFILE",
    "invalid-signature": "the signature was refused: check the secret key, the region and this machine's clock",
    "unrecognized-client": "IAM does not know the access key (deleted, inactive, or another partition's)",
    "expired-token": "the session's credentials have expired: get new ones (aws sts assume-role, aws sso login)",
    "private-endpoint-required": "API {api_id} is PRIVATE: call it through its VPC endpoint "
    "(with petgate local: --source-address of an address `petgate local --vpc-endpoint` maps)",
    "forbidden": "a 403 that is not the resource policy's (an API key, WAF, or the backend)",
}


def unmet(data: Verified, expect: str) -> PetgateError | None:
    """The error verify ends with when the expectation did not hold (exit 1; 4 unreachable)."""
    result = data.probed
    if result.ok:
        return None
    if result.outcome == "unreachable":
        return NetworkError(f"cannot reach {result.url} ({result.error})")
    return ExpectationNotMetError(
        f"expected {expect}, got {result.outcome} ({result.reason}, HTTP {result.status}) after "
        f"{result.attempts} attempts in {result.elapsed_s:.1f}s",
        _HINTS.get(result.reason, "").format(api_id=data.api_id, stage=data.stage) or None,
    )


def run_probe(
    app: Services, url: str, expect: str, timeout: float, api_id: str | None, stage: str | None = None,
    method: str = "GET", path: str = "/", signer: Signer | None = None,
) -> Probed:
    """Probe the URL with the app's HTTP session (and source address), signed by `signer` if
    given; an ambiguous answer is settled with the control plane when the API and stage are known."""
    import requests

    def fetch() -> probe.Answer:
        headers = signer.headers("GET", url) if signer is not None else None
        response = app.http.get(url, headers=headers, timeout=10, allow_redirects=False)
        return probe.Answer(response.status_code, response.text, response.headers.get("x-amzn-ErrorType"))

    facts = control_plane_facts(app, api_id, stage, method, path) if api_id and stage else None
    signed = " (signed)" if signer is not None else ""
    with app.output.waiting(f"Requesting {url}{signed} (expecting {expect})..."):
        result = probe.run(
            url,
            fetch,
            expect,
            timeout,
            api_id=api_id,
            network_errors=(requests.RequestException,),
            facts=facts,
            signed=signer is not None,
        )
    return Probed.of(result, signer)


def control_plane_facts(app: Services, api_id: str, stage: str, method: str, path: str) -> probe.Facts:
    """What the control plane says about a refusal: does the stage exist, serve this route, is the
    API private, and does the policy the stage serves refuse this caller (the address checkip sees)?
    Each is read when asked: the stage may change between two answers of one probe."""
    from petgate import policy as policies
    from petgate.ops.policy_view import evaluate_call

    def exported() -> dict[str, Any]:
        return app.gateway.get_stage_export(api_id, stage)

    def stage_exists() -> bool:
        return app.gateway.get_stage(api_id, stage) is not None

    def route_exists() -> bool:
        try:
            paths = exported().get("paths") or {}
        except PetgateError:
            return False  # cannot be known: the answer stays a missing route
        return isinstance(paths, dict) and serves_route(paths, method, path)

    def private_api() -> bool:
        try:
            api = app.gateway.get_api_or_none(api_id)
        except PetgateError:
            return False
        types = ((api or {}).get("endpointConfiguration") or {}).get("types") or []
        return "PRIVATE" in types

    def policy_refusal() -> str | None:
        try:
            document = exported_policy(exported())
            if document is None:
                return None
            address = myip.my_address(app)
        except PetgateError:
            return None  # cannot be known: the answer stays a plain 403
        _, decision = evaluate_call(
            document, region=app.target.resolved_region(), account=policies.account_in(document, api_id),
            api_id=api_id, stage=stage, method=method, path=path, source_ip=address,
        )
        return None if decision.allowed else ("explicit" if decision.explicit else "implicit")

    def waf_refusal() -> bool:
        from petgate.waf import stage_arn
        from petgate.waf_stages import blocking_rule

        try:
            arn = stage_arn(app.target.resolved_region(), api_id, stage)
            return blocking_rule(app, arn, myip.my_address(app)) is not None
        except PetgateError:
            return False  # cannot be known (no WAF permission, say): the answer stays a plain 403

    return probe.Facts(stage_exists=stage_exists, policy_refusal=policy_refusal, waf_refusal=waf_refusal,
                       route_exists=route_exists, private_api=private_api)


_ANY_METHOD = "x-amazon-apigateway-any-method"


def serves_route(paths: dict[str, Any], method: str, path: str) -> bool:
    """Whether an export's `paths` (OpenAPI templates: `{name}` one segment, `{name+}` the rest)
    hold this method on this path, as API Gateway routes a call."""
    segments = [s for s in path.split("?")[0].split("/") if s]
    for template, operations in paths.items():
        if not isinstance(operations, dict) or not (method.lower() in operations or _ANY_METHOD in operations):
            continue
        if _matches([s for s in str(template).split("/") if s], segments):
            return True
    return False


def _matches(template: list[str], segments: list[str]) -> bool:
    for index, part in enumerate(template):
        if part.startswith("{") and part.endswith("+}"):
            return len(segments) > index  # a greedy parameter takes one segment or more
        if index >= len(segments):
            return False
        parameter = part.startswith("{") and part.endswith("}")
        if not parameter and part != segments[index]:
            return False
    return len(template) == len(segments)
