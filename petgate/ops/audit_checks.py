"""audit's checks: pure functions over what `ops/audit.py` read of one REST API or HTTP API (no
I/O), each returning the findings it makes. Policies are judged by evaluating them (`policy.evaluate` with an
anonymous request for each method's ARN and a few representative addresses), not by matching
their text; the ACCESS_DENIED and DEFAULT_4XX responses are judged as the stage's export
(GetExport) deploys them, AWS's default when absent.

The rules (`RULES`: id, severity, title) are what `-o sarif` lists.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any, Final

from petgate import policy as policies
from petgate.gateway import exported_policy
from petgate.http_apis import NO_AUTHORIZATION, Route
from petgate.ops.results import Result
from petgate.policy.evaluate import ANONYMOUS, Request, api_arn, compile_policy, request_arn
from petgate.policy.model import as_list, operator_base
from petgate.probe import find_leaks

HIGH: Final = "high"
MEDIUM: Final = "medium"
LOW: Final = "low"
SEVERITIES: Final = (LOW, MEDIUM, HIGH)  # in rising order

IAM: Final = "AWS_IAM"
NONE: Final = "NONE"
ACCESS_DENIED: Final = "ACCESS_DENIED"
DEFAULT_4XX: Final = "DEFAULT_4XX"
GATEWAY_RESPONSES_KEY: Final = "x-amazon-apigateway-gateway-responses"
# AWS's default ACCESS_DENIED body: messageString holds "User: anonymous is not authorized to
# perform: execute-api:Invoke on resource: arn:aws:execute-api:REGION:ACCOUNT:API/..."
AWS_DEFAULT_TEMPLATE: Final = {"application/json": '{"message":$context.error.messageString}'}
# representative callers from anywhere: public IPv4 addresses far apart, and IPv6 ones
ANYWHERE: Final = ("1.1.1.1", "44.192.0.10", "203.0.113.50", "2600:1f18::1", "2a05:d018::10")

RULES: Final[dict[str, tuple[str, str]]] = {
    "PG001": (HIGH, "Public API with no resource policy and no authorization: anyone, from anywhere"),
    "PG002": (HIGH, "The resource policy admits anonymous callers from any address"),
    "PG003": (MEDIUM, "PRIVATE API whose policy has no aws:SourceVpce / aws:SourceVpc condition"),
    "PG004": (HIGH, "Several VPC endpoints each behind its own Deny: every endpoint is denied"),
    "PG005": (MEDIUM, "The deployed ACCESS_DENIED / DEFAULT_4XX response leaks the account id or an ARN"),
    "PG006": (LOW, "A policy or gateway response changed but is not deployed"),
    "PG007": (LOW, "No web ACL (AWS WAF) on the stage"),
    "PG008": (MEDIUM, "Dual-stack API whose IP lists hold only IPv4 addresses"),
    "PG009": (HIGH, "An account or principal allow-list on an API with no AWS_IAM method: it grants nothing"),
    "PG010": (LOW, "HTTP API: no resource policy possible, and no AWS WAF; only its routes' authorizers decide who calls"),
}

# a template that names these says the account (or the caller's ARN) to whoever is refused
_LEAKING_VARIABLES = re.compile(
    r"\$(?:\{)?context\.(?:accountId|identity\.accountId|identity\.userArn|identity\.caller|identity\.user"
    r"|error\.messageString|error\.message)\b")
_PATH_PARAMETER = re.compile(r"\{[^}/]+\}")


@dataclass(frozen=True, kw_only=True)
class Finding(Result):
    """One problem: its rule, severity, where (API, stage, methods) and the petgate command that fixes it."""

    rule: str
    severity: str
    region: str
    api_id: str
    api_name: str
    stage: str | None
    methods: list[str]  # "GET /pets", ... (empty: the API or stage as a whole)
    message: str
    fix: str


@dataclass(frozen=True)
class MethodInfo:
    path: str
    method: str
    authorization_type: str

    @property
    def name(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class StageInfo:
    """What audit read of one stage: its export (None: unreadable) and its web ACL (None: none;
    "unknown": WAF could not be read)."""

    name: str
    exported: dict[str, Any] | None
    web_acl: dict[str, Any] | str | None


@dataclass(frozen=True)
class ApiInfo:
    """What audit read of one REST API (GetRestApis' item, GetResources, GetGatewayResponse, stages)."""

    api_id: str
    name: str
    region: str
    endpoint_types: tuple[str, ...]
    ip_address_type: str | None
    policy: policies.Policy | None  # as stored
    methods: tuple[MethodInfo, ...]
    responses: dict[str, dict[str, Any] | None]  # ACCESS_DENIED, DEFAULT_4XX as GetGatewayResponse gives them
    stages: tuple[StageInfo, ...] = field(default=())

    @property
    def private(self) -> bool:
        return "PRIVATE" in self.endpoint_types


def _finding(api: ApiInfo, rule: str, stage: str | None, methods: list[str], message: str, fix: str) -> Finding:
    return Finding(rule=rule, severity=RULES[rule][0], region=api.region, api_id=api.api_id, api_name=api.name, stage=stage,
                   methods=methods, message=message, fix=fix)


def _anonymous_methods(api: ApiInfo) -> list[MethodInfo]:
    """Methods an anonymous caller reaches: authorization NONE (an OPTIONS preflight is left out:
    browsers never sign it, and it is open by design)."""
    return [m for m in api.methods if m.authorization_type == NONE and m.method != "OPTIONS"]


def _served_policy(api: ApiInfo, stage: StageInfo | None) -> policies.Policy | None:
    """The policy the stage serves (its export's), else the stored one."""
    if stage is None or stage.exported is None:
        return api.policy
    try:
        return exported_policy(stage.exported)
    except policies.PolicyError:
        return api.policy


def _method_arn(api: ApiInfo, account: str, stage: str, method: MethodInfo) -> str:
    verb = "GET" if method.method == "ANY" else method.method
    return request_arn(api.region, account, api.api_id, stage, verb, _PATH_PARAMETER.sub("x", method.path))


def _stages_or_none(api: ApiInfo) -> list[StageInfo | None]:
    return list(api.stages) if api.stages else [None]


def check_open(api: ApiInfo) -> list[Finding]:
    """PG001 and PG002: a public API's methods without authorization that any anonymous caller
    from anywhere may invoke (no policy at all, or a policy that allows every representative
    address)."""
    if api.private:
        return []
    found = []
    open_methods = _anonymous_methods(api)
    if not open_methods:
        return []
    for stage in _stages_or_none(api):
        stage_name = stage.name if stage else None
        policy = _served_policy(api, stage)
        fix = (f"petgate allow-only --api {api.api_id} --cidr CIDR (only these addresses) or "
               f"petgate require-iam --api {api.api_id} (signed callers only)")
        if policy is None:
            found.append(_finding(api, "PG001", stage_name, [m.name for m in open_methods],
                                  "no resource policy and no authorization: anyone, from anywhere, may invoke", fix))
            continue
        account = policies.account_in(policy, api.api_id)
        compiled = compile_policy(policy, api_arn(api.region, account, api.api_id))
        admitted = [m for m in open_methods
                    if all(compiled.evaluate(Request(source_ip=address, caller=ANONYMOUS,
                                                     resource_arn=_method_arn(api, account, stage_name or "*", m))).allowed
                           for address in ANYWHERE)]
        if admitted:
            found.append(_finding(api, "PG002", stage_name, [m.name for m in admitted],
                                  "the resource policy lets anonymous callers in from any address "
                                  f"(evaluated for {', '.join(ANYWHERE)})", fix))
    return found


def _condition_keys(statement: policies.Statement) -> set[str]:
    keys: set[str] = set()
    condition = statement.get("Condition") or {}
    if isinstance(condition, dict):
        for block in condition.values():
            if isinstance(block, dict):
                keys.update(str(k).lower() for k in block)
    return keys


def check_private(api: ApiInfo) -> list[Finding]:
    """PG003: a PRIVATE API whose policy names no VPC or endpoint; PG004: several endpoints each
    in its own Deny StringNotEquals, so that (evaluated) every one of them is denied."""
    if not api.private:
        return []
    found = []
    for stage in _stages_or_none(api):
        stage_name = stage.name if stage else None
        policy = _served_policy(api, stage)
        statements = policies.statements(policy)
        if not any(_condition_keys(s) & {"aws:sourcevpce", "aws:sourcevpc"} for s in statements):
            found.append(_finding(api, "PG003", stage_name, [],
                                  "the PRIVATE API's policy limits no VPC or VPC endpoint: any endpoint in any account may reach it",
                                  f"petgate allow-vpc --api {api.api_id} --vpce VPCE_ID"))
            continue
        by_key: dict[str, list[tuple[int, str]]] = {}
        for index, statement in enumerate(statements):
            if statement.get("Effect") != "Deny":
                continue
            for operator, block in (statement.get("Condition") or {}).items():
                if operator_base(str(operator)) != "StringNotEquals" or not isinstance(block, dict):
                    continue
                for key, values in block.items():
                    if str(key).lower() in ("aws:sourcevpce", "aws:sourcevpc"):
                        by_key.setdefault(str(key).lower(), []).extend((index, str(v)) for v in as_list(values))
        account = policies.account_in(policy, api.api_id)
        compiled = compile_policy(policy, api_arn(api.region, account, api.api_id))
        resource = request_arn(api.region, account, api.api_id, stage_name or "*", "GET", "")
        for key, named in by_key.items():
            if len({index for index, _ in named}) < 2:
                continue
            denied = [value for _, value in named
                      if compiled.evaluate(Request(source_ip=None, resource_arn=resource,
                                                   keys={"aws:SourceVpce" if key == "aws:sourcevpce" else "aws:SourceVpc": value})).explicit]
            if len(denied) == len(named):
                flag = "--vpce" if key == "aws:sourcevpce" else "--vpc"
                found.append(_finding(api, "PG004", stage_name, [],
                                      f"each of {', '.join(sorted(set(denied)))} is behind its own Deny StringNotEquals "
                                      f"on {key}: each endpoint is denied by the others' statements, so everyone is",
                                      f"petgate allow-vpc --api {api.api_id} " + " ".join(f"{flag} {v}" for v in sorted(set(denied)))
                                      + " (one statement naming them all)"))
    return found


def deployed_response(exported: dict[str, Any], response_type: str) -> dict[str, str]:
    """A response type's templates as the export deploys them: its own, else (ACCESS_DENIED)
    DEFAULT_4XX's, else AWS's default."""
    responses = exported.get(GATEWAY_RESPONSES_KEY) or {}
    own = responses.get(response_type)
    if own is not None:
        return dict(own.get("responseTemplates") or {})
    if response_type == ACCESS_DENIED and responses.get(DEFAULT_4XX) is not None:
        return dict(responses[DEFAULT_4XX].get("responseTemplates") or {}) or dict(AWS_DEFAULT_TEMPLATE)
    return dict(AWS_DEFAULT_TEMPLATE)


def template_leaks(template: str, response_type: str, api_id: str) -> list[str]:
    """What the template tells a refused caller: a literal ARN or account id, or a variable that
    holds one ($context.error.messageString holds the ARN only for ACCESS_DENIED)."""
    said = [f"{leak['kind']} {leak['value']}" for leak in find_leaks(template, api_id) if leak["kind"] != "api_id"]
    for variable in _LEAKING_VARIABLES.findall(template):
        if "error.message" in variable and response_type != ACCESS_DENIED:
            continue
        said.append(variable)
    return said


def check_leaks(api: ApiInfo) -> list[Finding]:
    """PG005: the deployed ACCESS_DENIED (its own, DEFAULT_4XX's or AWS's default) or DEFAULT_4XX
    says the account id or an ARN."""
    found = []
    for stage in api.stages:
        if stage.exported is None:
            continue
        own = (stage.exported.get(GATEWAY_RESPONSES_KEY) or {})
        kinds = [ACCESS_DENIED] + ([DEFAULT_4XX] if own.get(DEFAULT_4XX) is not None else [])
        for kind in kinds:
            leaks = sorted({leak for template in deployed_response(stage.exported, kind).values()
                            for leak in template_leaks(template, kind, api.api_id)})
            if leaks:
                source = "AWS's default" if kind not in own and (kind != ACCESS_DENIED or DEFAULT_4XX not in own) else "its template"
                found.append(_finding(api, "PG005", stage.name, [],
                                      f"the deployed {kind} response ({source}) tells a refused caller "
                                      f"the account or an ARN: {', '.join(leaks)}",
                                      f"petgate set-403-template --api {api.api_id} --stage {stage.name}"))
    return found


def _templates(response: dict[str, Any] | None) -> dict[str, str]:
    if not response or response.get("defaultResponse", True):
        return {}
    return dict(response.get("responseTemplates") or {})


def check_undeployed(api: ApiInfo) -> list[Finding]:
    """PG006: the stage serves another policy, ACCESS_DENIED or DEFAULT_4XX than the API holds."""
    found = []
    for stage in api.stages:
        if stage.exported is None:
            continue
        changed = []
        try:
            if (exported_policy(stage.exported) or None) != (api.policy or None):
                changed.append("the resource policy")
        except policies.PolicyError:
            changed.append("the resource policy (the deployed one is unreadable)")
        deployed = stage.exported.get(GATEWAY_RESPONSES_KEY) or {}
        for kind in (ACCESS_DENIED, DEFAULT_4XX):
            if dict((deployed.get(kind) or {}).get("responseTemplates") or {}) != _templates(api.responses.get(kind)):
                changed.append(f"the {kind} response")
        if changed:
            found.append(_finding(api, "PG006", stage.name, [],
                                  f"{' and '.join(changed)} changed since stage {stage.name} was deployed",
                                  f"petgate deploy --api {api.api_id} --stage {stage.name}"))
    return found


def check_web_acl(api: ApiInfo) -> list[Finding]:
    """PG007: a stage with no web ACL (one WAF could not read is not a finding)."""
    return [_finding(api, "PG007", stage.name, [], f"stage {stage.name} has no AWS WAF web ACL",
                     f"petgate waf attach --api {api.api_id} --stage {stage.name}")
            for stage in api.stages if stage.web_acl is None]


def _source_ip_values(policy: policies.Policy | None) -> list[str]:
    values: list[str] = []
    for statement in policies.statements(policy):
        for operator, block in (statement.get("Condition") or {}).items():
            if operator_base(str(operator)) not in ("IpAddress", "NotIpAddress") or not isinstance(block, dict):
                continue
            for key, given in block.items():
                if str(key).lower() == "aws:sourceip":
                    values.extend(str(v) for v in as_list(given))
    return values


def check_dual_stack(api: ApiInfo) -> list[Finding]:
    """PG008: a dual-stack public API whose policy's IP lists (aws:SourceIp) hold only IPv4:
    IPv6 callers are neither denied nor allowed by them."""
    if api.private or (api.ip_address_type or "").lower() != "dualstack":
        return []
    found = []
    for stage in _stages_or_none(api):
        values = _source_ip_values(_served_policy(api, stage))
        networks = [ipaddress.ip_network(v, strict=False) for v in values if policies.network_or_none(v) is not None]
        if networks and all(n.version == 4 for n in networks):
            found.append(_finding(api, "PG008", stage.name if stage else None, [],
                                  f"the API answers IPv6 (dualstack) but its policy's IP lists hold only IPv4 ({len(networks)} entries): "
                                  "IPv6 callers pass a deny list and miss an allow-list",
                                  f"petgate block-my-ip --api {api.api_id} --cidr IPV6_CIDR / "
                                  f"petgate allow-only --api {api.api_id} --cidr IPV6_CIDR"))
    return found


def _names_aws_principals(statement: policies.Statement) -> bool:
    principal = statement.get("Principal")
    if not isinstance(principal, dict) or "AWS" not in principal:
        return False
    return any(str(p) != "*" for p in as_list(principal["AWS"]))


def check_principal_lists(api: ApiInfo) -> list[Finding]:
    """PG009: an Allow naming AWS accounts or principals (PetgateAllowAccounts, or any) on an
    API none of whose methods uses AWS_IAM: an unsigned caller is anonymous, so it never matches."""
    if any(m.authorization_type == IAM for m in api.methods):
        return []
    found = []
    for stage in _stages_or_none(api):
        allows = [s for s in policies.statements(_served_policy(api, stage)) if s.get("Effect") == "Allow"]
        naming = [s for s in allows if s.get("Sid") == policies.ACCOUNTS_SID or _names_aws_principals(s)]
        if naming:
            only = len(naming) == len(allows)
            found.append(_finding(api, "PG009", stage.name if stage else None, [],
                                  "the policy allows AWS accounts or principals, but no method uses AWS_IAM: callers are "
                                  "anonymous and never match, so the list grants nothing"
                                  + (" and, as the only Allow, refuses everyone" if only else ""),
                                  f"petgate require-iam --api {api.api_id}"))
    return found


CHECKS: Final = (check_open, check_private, check_leaks, check_undeployed, check_web_acl, check_dual_stack,
                 check_principal_lists)


def check(api: ApiInfo) -> list[Finding]:
    """Every finding on one API, by rule then stage."""
    found = [finding for run in CHECKS for finding in run(api)]
    return sorted(found, key=lambda f: (f.rule, f.stage or ""))


# --- HTTP APIs (apigatewayv2) ------------------------------------------------------------------
#
# An HTTP API takes no resource policy (Developer Guide, "http-api-vs-rest": resource policies
# and AWS WAF are REST API features; HTTP APIs have neither) and AWS WAF cannot be associated
# with one (AWS WAF Developer Guide, "web-acl-associating-aws-resource": of API Gateway, only the
# "Amazon API Gateway REST API" is a regional resource a web ACL associates with). Who may call
# a route is decided by its authorizationType alone: AWS_IAM, JWT, CUSTOM (a Lambda authorizer),
# or NONE, open to anyone (Developer Guide, "http-api-access-control").


@dataclass(frozen=True)
class HttpApiInfo:
    """What audit read of one HTTP API: GetApis' item, GetRoutes (None: not read), GetStages."""

    api_id: str
    name: str
    region: str
    routes: tuple[Route, ...] | None
    stages: tuple[str, ...] = ()


def check_http_api(api: HttpApiInfo) -> list[Finding]:
    """PG010, one for every HTTP API: no resource policy can be attached and no web ACL
    associated, so the fix names the alternatives (authorizers on the routes whose
    authorizationType is NONE, which are named; CloudFront with a web ACL in front; a REST API)."""
    routes = api.routes
    open_routes = [r for r in routes or () if r.authorization_type == NO_AUTHORIZATION]
    if routes is None:
        said = "its routes could not be read"
    elif not routes:
        said = "it has no routes yet"
    elif open_routes:
        said = (f"{len(open_routes)} of its {len(routes)} route(s) have authorizationType NONE, "
                "open to anyone from anywhere")
    else:
        said = f"each of its {len(routes)} route(s) has an authorizer ({', '.join(sorted({r.authorization_type for r in routes}))})"
    example = open_routes[0].route_id if open_routes else "ROUTE_ID"
    fix = (f"put an authorizer on each route with authorizationType NONE: IAM (aws apigatewayv2 update-route "
           f"--api-id {api.api_id} --route-id {example} --authorization-type AWS_IAM), a JWT authorizer (JWT) or "
           "a Lambda authorizer (CUSTOM); to refuse callers by address, put CloudFront with an AWS WAF web ACL in "
           "front of it, or serve it as a REST API, where a resource policy (petgate allow-only, block-my-ip) "
           "and WAF (petgate waf attach) apply")
    return [Finding(rule="PG010", severity=RULES["PG010"][0], region=api.region, api_id=api.api_id, api_name=api.name,
                    stage=None, methods=[r.route_key for r in open_routes],
                    message=f"HTTP APIs take no resource policy and AWS WAF cannot be associated with them; {said}",
                    fix=fix)]


def at_or_above(severity: str, threshold: str) -> bool:
    return SEVERITIES.index(severity) >= SEVERITIES.index(threshold)
