"""`explain`'s pure part: the layers API Gateway walks for one request, in its order, over what a
stage serves (its GetExport and its web ACL), each with its decision and the statement or rule
behind it, and the answer AWS would send, rendered from the stage's deployed gateway responses.

The order is local/dataplane.py's (the local gateway's ground truth) and the Developer Guide's:
the stage -> a PRIVATE API's VPC endpoint gate -> the web ACL -> the route -> an API key -> the
resource policy's explicit-deny pre-check (Lambda authorizers; and a PRIVATE API with no policy)
-> authentication -> the resource policy, with the identity policies by Table A or B. No I/O:
ops/explain.py reads what this needs.

Where petgate cannot see (identity policies it cannot read, SCPs, authorizer code, WAF statements
it does not model), the decision is "unknown", named, never guessed.
"""

from __future__ import annotations

import ipaddress
import json
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from petgate import policy as policies
from petgate import response_types, vtl
from petgate.ops.policy_view import VERIFY_REASONS, _deciding
from petgate.ops.results import Result

PASS, REFUSE, UNKNOWN = "pass", "refuse", "unknown"
DECISIONS = (PASS, REFUSE, UNKNOWN)
LAYERS = ("stage", "vpc-endpoint", "waf", "route", "api-key", "policy-precheck", "authentication", "policy")

FORBIDDEN_BODY = '{"message":"Forbidden"}'
# x-amzn-ErrorType of each gateway response type an access refusal uses (local/dataplane.py's;
# API Gateway marks a policy refusal AccessDeniedException, an unsigned or unrouted call
# MissingAuthenticationTokenException, WAF's and an API key's 403 ForbiddenException: AWS
# knowledge center "api-gateway-troubleshoot-403-forbidden")
ERROR_TYPES = {
    "ACCESS_DENIED": "AccessDeniedException",
    "MISSING_AUTHENTICATION_TOKEN": "MissingAuthenticationTokenException",
    "WAF_FILTERED": "ForbiddenException",
    "INVALID_API_KEY": "ForbiddenException",
}
# the ACCESS_DENIED message's ending for each refusal (local/dataplane.py's _DENIED_ENDINGS: the
# resource policy's explicit deny; the identity side in IAM's wording, knowledge center
# "api-gateway-iam-sigv4-mismatch", IAM User Guide "troubleshoot_access-denied")
DENIED_ENDINGS = {
    "explicit-deny": " with an explicit deny",
    "implicit-deny": "",
    "iam-explicit-deny": " with an explicit deny in an identity-based policy",
    "iam-implicit-deny": " because no identity-based policy allows the execute-api:Invoke action",
}
_ANY_METHOD = "x-amazon-apigateway-any-method"


@dataclass(frozen=True, kw_only=True)
class Layer(Result):
    """One layer's decision ("pass", "refuse", "unknown") and why; `statement` the policy
    statement that decided (None: none did), `rule` the web ACL rule (None: none did)."""

    layer: str
    decision: str
    because: str
    statement: policies.Statement | None = None
    rule: str | None = None


@dataclass(frozen=True, kw_only=True)
class Outcome(Result):
    """The answer AWS would send. `known`: every layer decided (else what petgate could not see
    decides, and `status`/`error_type` are what follows if it lets the request through).
    `reason` is verify's word (probe.REASONS) or "unknown"; `status` None: the integration's
    own (an HTTP backend's) answer; `response_type` the gateway response rendered (None: none)."""

    known: bool
    allowed: bool | None
    reason: str
    status: int | None
    error_type: str | None
    body: str | None
    response_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class WebAcl:
    """The stage's web ACL as wafv2 gives it (GetWebACLForResource), with the addresses of the
    IP sets its rules reference (ARN -> CIDRs; a set missing here could not be read)."""

    name: str
    rules: Sequence[Mapping[str, Any]]
    default_action: Mapping[str, Any]
    custom_bodies: Mapping[str, Any]
    ip_sets: Mapping[str, Sequence[str]]


@dataclass(frozen=True)
class Served:
    """What the stage serves: its deployed definition (GetExport, oas30 with API Gateway's
    extensions), whether the API is PRIVATE now (an endpoint type needs no redeploy), its web ACL
    (None: none; `waf_unknown`: it could not be read, and why), and the API's account."""

    api_id: str
    stage: str
    region: str
    account: str
    export: Mapping[str, Any]
    private: bool
    deployment_id: str | None = None
    web_acl: WebAcl | None = None
    waf_unknown: str | None = None
    stage_variables: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Endpoint:
    """The VPC endpoint a request comes through; `vpc_id` None: not known (petgate reads no EC2)."""

    vpce_id: str
    vpc_id: str | None


@dataclass(frozen=True)
class Identity:
    """A signed caller's identity side: its policies (name, compiled) when readable, else
    `unknown` says why not."""

    policies: Sequence[tuple[str, policies.CompiledPolicy]] = ()
    unknown: str | None = None


@dataclass(frozen=True)
class Asked:
    """The request: method, path under the stage, the source address API Gateway sees, headers
    (lower-case names), the VPC endpoint it comes through, and the caller SigV4 proves (ANONYMOUS:
    unsigned) with its identity side (None: not read, as for a method without AWS_IAM).
    `scps_visible`: no organization policy can deny (petgate local); on AWS they are unknown."""

    method: str
    path: str
    source_ip: str
    headers: Mapping[str, str] = field(default_factory=dict)
    endpoint: Endpoint | None = None
    caller: policies.Caller = policies.ANONYMOUS
    identity: Identity | None = None
    now: float = 0.0
    scps_visible: bool = False


@dataclass(frozen=True)
class MethodAuth:
    """A deployed method's authorization as its export says (`security` and its schemes):
    kind "NONE", "AWS_IAM", "COGNITO_USER_POOLS" or "CUSTOM" (a Lambda authorizer), the
    authorizer's scheme name, and whether it requires an API key."""

    kind: str
    authorizer: str | None = None
    api_key: bool = False


@dataclass(frozen=True)
class Route:
    """The deployed resource a call routes to, its method's operation, and whether ANY served it."""

    template: str
    operation: Mapping[str, Any]
    by_any: bool = False


@dataclass
class _Walk:
    """The layers so far and what could not be seen."""

    layers: list[Layer] = field(default_factory=list)
    unknowns: list[str] = field(default_factory=list)

    def add(self, layer: str, decision: str, because: str, **more: Any) -> None:
        self.layers.append(Layer(layer=layer, decision=decision, because=because, **more))
        if decision == UNKNOWN:
            self.unknowns.append(f"{layer}: {because}")


def walk(served: Served, asked: Asked) -> tuple[list[Layer], Outcome, list[str]]:
    """The layers for this request, the outcome, and what petgate could not see."""
    done = _Walk()
    done.add("stage", PASS, f"stage {served.stage} exists" + (
        f" and serves deployment {served.deployment_id}" if served.deployment_id else ""))

    # a PRIVATE API only through a VPC endpoint; an endpoint reaches private APIs only (knowledge
    # center "api-gateway-vpc-connections": "Because VPC endpoints can route traffic only to
    # private APIs, the result is an HTTP 403 error"); AWS's plain Forbidden, no gateway response
    endpoint = asked.endpoint
    if served.private and endpoint is None:
        done.add("vpc-endpoint", REFUSE, f"API {served.api_id} is PRIVATE: it answers only through a VPC endpoint (--vpce)")
        return _end(done, _forbidden("private-endpoint-required"))
    if endpoint is not None and not served.private:
        done.add("vpc-endpoint", REFUSE, f"{endpoint.vpce_id} is a VPC endpoint, and API {served.api_id} is not PRIVATE: "
                 "an endpoint reaches private APIs only")
        return _end(done, _forbidden("forbidden"))
    if endpoint is not None:
        vpc = f" of {endpoint.vpc_id}" if endpoint.vpc_id else " (its VPC not known)"
        done.add("vpc-endpoint", PASS, f"through {endpoint.vpce_id}{vpc}, to a PRIVATE API")
    else:
        done.add("vpc-endpoint", PASS, "a public (REGIONAL or EDGE) API, called from outside any VPC endpoint")

    context = _context(served, asked)
    waf = _waf_layer(served, asked, done)
    if waf is not None:
        return _end(done, _rendered(served, asked, context, "WAF_FILTERED", "Forbidden", "waf-block")
                    if waf == "gateway-response" else _waf_custom(served, waf))

    route = route_of(served.export.get("paths") or {}, asked.method, asked.path)
    if route is None:
        done.add("route", REFUSE, f"the deployment has no {asked.method} {asked.path} (nor ANY on the resource that matches)")
        return _end(done, _rendered(served, asked, context, "MISSING_AUTHENTICATION_TOKEN", "Missing Authentication Token",
                                    "missing-route"))
    done.add("route", PASS, f"{_method_name(route, asked.method)} {route.template}")
    context["resourcePath"] = route.template
    auth = method_auth(served.export, route.operation)

    if auth.api_key:
        if "x-api-key" not in asked.headers:
            done.add("api-key", REFUSE, "the method requires an API key, and the request has no x-api-key header")
            return _end(done, _rendered(served, asked, context, "INVALID_API_KEY", "Forbidden", "forbidden"))
        done.add("api-key", UNKNOWN, "the method requires an API key: petgate does not check that this one is valid "
                 "and in a usage plan of the stage")
    else:
        done.add("api-key", PASS, "the method requires no API key")

    policy = _exported_policy(served)
    compiled = policies.compile_policy(policy, policies.api_arn(served.region, served.account, served.api_id))
    request = _request(served, asked)
    if endpoint is not None and policy is None:
        # Developer Guide, "apigateway-resource-policies-create-attach": "For private APIs ... until
        # you attach the resource policy to the private API, all calls to the API will fail"
        done.add("policy-precheck", REFUSE, "a PRIVATE API with no resource policy: every call fails")
        return _end(done, _access_denied(served, asked, context, "anonymous", "implicit-deny", "policy-implicit-deny"))
    if auth.kind == "CUSTOM":
        # "apigateway-authorization-flow": "Before calling the Lambda authorizer, API Gateway first
        # evaluates the policy and checks for any explicit denials. If found, the caller is denied"
        first = compiled.evaluate(replace(request, caller=policies.ANONYMOUS))
        if first.reason == "explicit-deny":
            done.add("policy-precheck", REFUSE, f"{_statement_words(first.statement, first.statement_index)} denies "
                     "before the Lambda authorizer is called", statement=first.statement)
            return _end(done, _access_denied(served, asked, context, "anonymous", "explicit-deny", "policy-explicit-deny"))
        done.add("policy-precheck", PASS, "no statement of the resource policy denies explicitly: "
                 "the Lambda authorizer is called")
    else:
        done.add("policy-precheck", PASS, "only for Lambda authorizers (and a PRIVATE API with no policy)")

    if auth.kind == "AWS_IAM":
        if asked.caller.anonymous:
            done.add("authentication", REFUSE, "the method uses IAM authorization (AWS_IAM), and the request is not "
                     "signed: refused before any policy")
            return _end(done, _rendered(served, asked, context, "MISSING_AUTHENTICATION_TOKEN", "Missing Authentication Token",
                                        "missing-signature"))
        done.add("authentication", PASS, f"AWS_IAM: signed (SigV4) as {asked.caller.arn} (the signature itself is "
                 "checked only by the live request)")
        return _end(done, _iam_policy_layer(served, asked, context, compiled, request, route, done))
    if auth.kind in ("COGNITO_USER_POOLS", "CUSTOM"):
        what = "Cognito user pool" if auth.kind == "COGNITO_USER_POOLS" else "Lambda"
        done.add("authentication", UNKNOWN, f"{what} authorizer {auth.authorizer}: not evaluated offline "
                 "(its tokens and code are not petgate's to see)")
        outcome = _anonymous_policy_layer(served, asked, context, compiled, request, route, done, lambda_side=auth.kind == "CUSTOM")
        return _end(done, outcome)
    done.add("authentication", PASS, "the method has no authorization (NONE): the caller is anonymous to the policy")
    return _end(done, _anonymous_policy_layer(served, asked, context, compiled, request, route, done))


def _end(done: _Walk, outcome: Outcome) -> tuple[list[Layer], Outcome, list[str]]:
    unknown = bool(done.unknowns) and any(layer.decision == UNKNOWN for layer in done.layers)
    if unknown and outcome.allowed is not False:
        outcome = replace(outcome, known=False, reason="unknown", allowed=None)
    elif unknown:
        # a refusal after an unknown layer: the unknown one may refuse first, with its own answer
        outcome = replace(outcome, known=False)
    return done.layers, outcome, done.unknowns


# --- the layers ----------------------------------------------------------------------------------


def _waf_layer(served: Served, asked: Asked, done: _Walk) -> Any:
    """None: WAF lets the request through (or cannot tell: "unknown"); "gateway-response": WAF's
    plain Block; a rule's custom response (a Mapping with the web ACL) otherwise."""
    if served.waf_unknown is not None:
        done.add("waf", UNKNOWN, f"the stage's web ACL cannot be read ({served.waf_unknown})")
        return None
    acl = served.web_acl
    if acl is None:
        done.add("waf", PASS, "no web ACL on the stage")
        return None
    verdict = waf_verdict(acl, asked.source_ip)
    if verdict.decision == UNKNOWN:
        done.add("waf", UNKNOWN, verdict.because, rule=verdict.rule)
        return None
    done.add("waf", verdict.decision, verdict.because, rule=verdict.rule)
    if verdict.decision == PASS:
        return None
    return verdict.custom or "gateway-response"


@dataclass(frozen=True)
class WafVerdict:
    decision: str
    because: str
    rule: str | None = None
    custom: Mapping[str, Any] | None = None  # the Block action's CustomResponse, with its body


def waf_verdict(acl: WebAcl, address: str) -> WafVerdict:
    """The web ACL's rules by priority: the first that matches with Allow or Block decides (Count
    goes on); none: the default action (AWS WAF Developer Guide, "web ACL rule and rule group
    evaluation"; local/waf_enforce.py does the same). A statement petgate does not model makes the
    verdict unknown, unless its rule only counts."""
    for rule in sorted(acl.rules, key=lambda r: int(r.get("Priority", 0))):
        name = str(rule.get("Name", ""))
        action = rule.get("Action") or {}
        if "OverrideAction" in rule and not action:
            return WafVerdict(UNKNOWN, f"rule {name} is a rule group, which petgate does not evaluate", name)
        matched = _statement_matches(acl, rule.get("Statement") or {}, address)
        if matched is None:
            if "Count" in action:
                continue
            return WafVerdict(UNKNOWN, f"rule {name} uses a statement petgate does not evaluate "
                              f"({', '.join(sorted(rule.get('Statement') or {})) or 'none'})", name)
        if not matched:
            continue
        if "Block" in action:
            return WafVerdict(REFUSE, f"rule {name} (priority {rule.get('Priority', 0)}) blocks {address}", name,
                              _custom(acl, action["Block"] or {}))
        if "Allow" in action:
            return WafVerdict(PASS, f"rule {name} (priority {rule.get('Priority', 0)}) allows {address}", name)
    default = acl.default_action or {}
    if "Block" in default:
        return WafVerdict(REFUSE, f"no rule of web ACL {acl.name} matches {address}, and its default action is Block",
                          None, _custom(acl, default["Block"] or {}))
    return WafVerdict(PASS, f"no Block rule of web ACL {acl.name} matches {address} (default action Allow)")


def _statement_matches(acl: WebAcl, statement: Mapping[str, Any], address: str) -> bool | None:
    """Whether the statement matches the address; None: a statement petgate does not model."""
    if "IPSetReferenceStatement" in statement:
        reference = statement["IPSetReferenceStatement"] or {}
        if reference.get("IPSetForwardedIPConfig"):
            return None  # the address is a header's, not the peer's
        cidrs = acl.ip_sets.get(str(reference.get("ARN", "")))
        if cidrs is None:
            return None
        parsed = policies.unmapped_address(ipaddress.ip_address(address))
        networks = (ipaddress.ip_network(c, strict=False) for c in cidrs)
        return any(parsed.version == n.version and parsed in n for n in networks)
    if "NotStatement" in statement:
        inner = _statement_matches(acl, (statement["NotStatement"] or {}).get("Statement") or {}, address)
        return None if inner is None else not inner
    for key, combine in (("AndStatement", all), ("OrStatement", any)):
        if key in statement:
            parts = [_statement_matches(acl, s, address) for s in (statement[key] or {}).get("Statements") or []]
            if None in parts:
                return None
            return bool(combine(parts))
    return None


def _custom(acl: WebAcl, block: Mapping[str, Any]) -> Mapping[str, Any] | None:
    custom = block.get("CustomResponse")
    if not custom:
        return None
    body = (acl.custom_bodies or {}).get(str(custom.get("CustomResponseBodyKey", "")), {})
    return {"status": int(custom.get("ResponseCode", 403)), "content": str(body.get("Content", "")),
            "content_type": {"APPLICATION_JSON": "application/json", "TEXT_HTML": "text/html"}.get(
                str(body.get("ContentType", "")), "text/plain")}


def _waf_custom(served: Served, custom: Mapping[str, Any]) -> Outcome:
    """A Block rule's custom response: WAF's own answer, before any gateway response ("AWS WAF
    custom responses take precedence over custom gateway responses": Developer Guide,
    "supported-gateway-response-types")."""
    return Outcome(known=True, allowed=False, reason="waf-block", status=int(custom["status"]), error_type=None,
                   body=str(custom["content"]), headers={"Content-Type": str(custom["content_type"])})


def _anonymous_policy_layer(served: Served, asked: Asked, context: dict[str, Any], compiled: policies.CompiledPolicy,
                            request: policies.Request, route: Route, done: _Walk, lambda_side: bool = False) -> Outcome:
    """A method without IAM authorization: the resource policy alone, for an anonymous caller."""
    if _vpc_unknown(served, asked, done):
        return _allowed(served, asked, context, route)
    outcome = policies.authorize(compiled, request, served.account, None)
    statement, _, index, _ = _deciding(outcome, [])
    if lambda_side and outcome.reason != "explicit-deny":
        done.add("policy", UNKNOWN, "with a Lambda authorizer the resource policy is evaluated together with the "
                 "policy the authorizer returns, which petgate cannot see")
        return _allowed(served, asked, context, route)
    if outcome.allowed:
        because = "no resource policy: everyone may invoke" if outcome.reason == "no-policy" else (
            f"{_statement_words(statement, index)} allows {_who(asked)}")
        done.add("policy", PASS, because, statement=statement)
        return _allowed(served, asked, context, route)
    because = (f"{_statement_words(statement, index)} denies {_who(asked)}" if outcome.reason == "explicit-deny"
               else f"no statement of the resource policy allows {_who(asked)} (an implicit deny)")
    done.add("policy", REFUSE, because, statement=statement)
    return _access_denied(served, asked, context, "anonymous", outcome.reason, VERIFY_REASONS[outcome.reason])


def _iam_policy_layer(served: Served, asked: Asked, context: dict[str, Any], compiled: policies.CompiledPolicy,
                      request: policies.Request, route: Route, done: _Walk) -> Outcome:
    """AWS_IAM: the resource policy and the caller's identity policies, Table A (same account)
    or B (another): policy/authorization.authorize."""
    if _vpc_unknown(served, asked, done):
        return _allowed(served, asked, context, route)
    caller = asked.caller
    request = replace(request, caller=caller)
    identity = asked.identity or Identity(unknown="the caller's identity policies were not read")
    table = "A" if caller.account == served.account else "B"
    if identity.unknown is not None:
        resource = compiled.evaluate(request)
        if resource.reason == "explicit-deny":  # a Deny decides whatever the identity side says
            done.add("policy", REFUSE, f"{_statement_words(resource.statement, resource.statement_index)} denies "
                     f"{caller.arn} (Table {table}; the identity side does not matter)", statement=resource.statement)
            return _access_denied(served, asked, context, caller.arn or "", "explicit-deny", "policy-explicit-deny")
        done.add("policy", UNKNOWN, f"Table {table}: {identity.unknown}; the resource policy says {resource.reason}",
                 statement=resource.statement)
        return _allowed(served, asked, context, route)
    outcome = policies.authorize(compiled, request, served.account, [c for _, c in identity.policies])
    statement, side, index, holder = _deciding(outcome, identity.policies)
    where = f"{holder}'s statement" if holder else _statement_words(statement, index)
    if side == "resource-policy":
        where = _statement_words(statement, index)
    if outcome.allowed:
        by = {"both": "both the resource policy and an identity policy allow",
              "resource-policy": f"{where} allows", "identity-policy": f"{where} allows"}[outcome.decided_by]
        done.add("policy", PASS, f"Table {table}: {by} {caller.arn}", statement=statement)
        if not asked.scps_visible:
            done.unknowns.append("policy: service control policies and permission boundaries are not readable here: "
                                 "they can deny what the tables allow")
        return _allowed(served, asked, context, route)
    because = {
        "explicit-deny": f"{where} denies {caller.arn}",
        "iam-explicit-deny": f"{where} denies {caller.arn} (an identity policy's explicit deny)",
        "implicit-deny": f"Table {table}: no statement of the resource policy allows {caller.arn}",
        "iam-implicit-deny": f"Table {table}: no identity policy of {caller.arn} allows execute-api:Invoke",
    }[outcome.reason]
    done.add("policy", REFUSE, because if because.startswith("Table") else f"Table {table}: {because}", statement=statement)
    return _access_denied(served, asked, context, caller.arn or "", outcome.reason, VERIFY_REASONS[outcome.reason])


# --- the answer ----------------------------------------------------------------------------------


def _forbidden(reason: str) -> Outcome:
    """API Gateway's plain 403 (no stage, a PRIVATE API from outside, an endpoint to a public API)."""
    return Outcome(known=True, allowed=False, reason=reason, status=403, error_type="ForbiddenException",
                   body=FORBIDDEN_BODY, headers={"Content-Type": "application/json"})


def _access_denied(served: Served, asked: Asked, context: dict[str, Any], who: str, decision: str, reason: str) -> Outcome:
    message = (f"User: {who} is not authorized to perform: execute-api:Invoke on resource: "
               f"{masked_arn(served, asked)}{DENIED_ENDINGS.get(decision, '')}")
    return _rendered(served, asked, context, "ACCESS_DENIED", message, reason)


def _rendered(served: Served, asked: Asked, context: dict[str, Any], response_type: str, message: str,
              reason: str) -> Outcome:
    """The stage's gateway response for the type, as local/dataplane.py's gateway_response
    renders it: the deployed response, or DEFAULT_4XX's, or the type's default."""
    customised = served.export.get("x-amazon-apigateway-gateway-responses") or {}
    selected = response_types.select(response_type, dict(customised))
    error = {"message": message, "messageString": json.dumps(message), "responseType": response_type,
             "validationErrorString": ""}
    content_type, template = pick_template(selected.templates, asked.headers.get("accept", ""))
    body = vtl.render(template, {**context, "error": error}, stage_variables=dict(served.stage_variables)) if template else ""
    headers = {"Content-Type": content_type or "application/json"}
    for target, expression in selected.parameters.items():
        if target.startswith("gatewayresponse.header."):
            value = _header_value(str(expression), context, asked, served)
            if value is not None:
                headers[target[len("gatewayresponse.header."):]] = value
    error_type = ERROR_TYPES.get(response_type)
    if error_type is not None:
        headers["x-amzn-ErrorType"] = error_type
    return Outcome(known=True, allowed=False, reason=reason, status=selected.status, error_type=error_type, body=body,
                   response_type=response_type, headers=headers)


def _allowed(served: Served, asked: Asked, context: dict[str, Any], route: Route) -> Outcome:
    """Through every layer: the integration answers. A MOCK integration's status is known from
    its request template and integration responses (local/dataplane.py's _mock_status); an HTTP
    backend's is its own."""
    integration = route.operation.get("x-amazon-apigateway-integration")
    if not isinstance(integration, Mapping):
        # no integration in the export: API_CONFIGURATION_ERROR (the local gateway's answer)
        rendered = _rendered(served, asked, context, "API_CONFIGURATION_ERROR", "Internal server error", "other")
        return replace(rendered, allowed=True, reason="allowed")
    status: int | None = None
    if str(integration.get("type", "")).lower() == "mock":
        status = _mock_status(integration, context)
    return Outcome(known=True, allowed=True, reason="allowed", status=status, error_type=None, body=None)


def _mock_status(integration: Mapping[str, Any], context: dict[str, Any]) -> int | None:
    templates = integration.get("requestTemplates") or {}
    _, template = pick_template(dict(templates), "")
    requested = 200
    if template:
        try:
            requested = int(json.loads(vtl.render(template, context)).get("statusCode", 200))
        except (ValueError, AttributeError, TypeError):
            requested = 200
    default = None
    for pattern, response in (integration.get("responses") or {}).items():
        code = str((response or {}).get("statusCode", ""))
        if pattern == "default":
            default = default or code
        elif re.fullmatch(str(pattern), str(requested)):
            return int(code) if code.isdigit() else None
    return int(default) if default and default.isdigit() else None


def masked_arn(served: Served, asked: Asked) -> str:
    """The resource in AWS's ACCESS_DENIED message: the account masked but its last 4 digits."""
    account = "********" + served.account[-4:]
    return (f"arn:aws:execute-api:{served.region}:{account}:{served.api_id}/{served.stage}/{asked.method}/"
            f"{asked.path.lstrip('/')}")


def pick_template(templates: Mapping[str, str], accept: str) -> tuple[str, str | None]:
    """The template for the Accept header, else application/json, else the first (as the local gateway picks)."""
    if not templates:
        return "", None
    for wanted in [a.split(";")[0].strip() for a in accept.split(",") if a.strip()] + ["application/json"]:
        if wanted in templates:
            return wanted, templates[wanted]
    first = next(iter(templates))
    return first, templates[first]


def _header_value(expression: str, context: dict[str, Any], asked: Asked, served: Served) -> str | None:
    if len(expression) >= 2 and expression.startswith("'") and expression.endswith("'"):
        return expression[1:-1]
    if expression.startswith("method.request.header."):
        return asked.headers.get(expression[len("method.request.header."):].lower())
    if expression.startswith("stageVariables."):
        return served.stage_variables.get(expression[len("stageVariables."):])
    if expression.startswith("context."):
        value: Any = context
        for part in expression[len("context."):].split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return None if value is None else str(value)
    return None


def _context(served: Served, asked: Asked) -> dict[str, Any]:
    """`$context` as a gateway response sees it (local/dataplane.py's Call.context); the request
    ids are placeholders: each real answer has its own."""
    caller = asked.caller
    host = asked.headers.get("host", "")
    return {
        "accountId": served.account, "apiId": served.api_id, "domainName": host,
        "domainPrefix": host.split(".")[0] if host else "", "extendedRequestId": "(extended request id)",
        "httpMethod": asked.method, "path": f"/{served.stage}{asked.path}", "protocol": "HTTP/1.1",
        "requestId": "(request id)", "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(asked.now)),
        "requestTimeEpoch": int(asked.now * 1000), "resourceId": "", "resourcePath": "", "stage": served.stage,
        "identity": {"sourceIp": asked.source_ip, "userAgent": asked.headers.get("user-agent", ""),
                     "accountId": caller.account or "", "accessKey": caller.access_key or "", "apiKey": "",
                     "apiKeyId": "", "caller": caller.user_id or "", "user": caller.user_id or "",
                     "userArn": caller.arn or ""},
    }


def _request(served: Served, asked: Asked) -> policies.Request:
    """What the resource policy sees (local/dataplane.py's _policy_request): the call's ARN, the
    source address (through a VPC endpoint aws:SourceVpce, aws:SourceVpc and aws:VpcSourceIp
    instead, and no aws:SourceIp: Developer Guide "apigateway-resource-policies-aws-condition-keys",
    IAM User Guide "reference_policies_condition-keys"), over HTTPS, at this time."""
    keys = {"aws:SecureTransport": "true",
            "aws:CurrentTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(asked.now))}
    for header, key in (("user-agent", "aws:UserAgent"), ("referer", "aws:Referer")):
        if header in asked.headers:
            keys[key] = asked.headers[header]
    source_ip: str | None = asked.source_ip
    if asked.endpoint is not None:
        keys["aws:SourceVpce"] = asked.endpoint.vpce_id
        if asked.endpoint.vpc_id:
            keys["aws:SourceVpc"] = asked.endpoint.vpc_id
        keys["aws:VpcSourceIp"] = asked.source_ip
        source_ip = None
    arn = policies.request_arn(served.region, served.account, served.api_id, served.stage, asked.method, asked.path)
    return policies.Request(source_ip=source_ip, resource_arn=arn, keys=keys)


def _exported_policy(served: Served) -> policies.Policy | None:
    found = served.export.get("x-amazon-apigateway-policy")
    return policies.decode_stored(found) if isinstance(found, str) else found


def _vpc_unknown(served: Served, asked: Asked, done: _Walk) -> bool:
    """Whether the policy reads aws:SourceVpc of a request whose endpoint's VPC is not known (then
    the policy layer is unknown)."""
    endpoint = asked.endpoint
    if endpoint is None or endpoint.vpc_id or '"aws:sourcevpc"' not in json.dumps(_exported_policy(served) or {}).lower():
        return False
    done.add("policy", UNKNOWN, f"the resource policy reads aws:SourceVpc, and the VPC of {endpoint.vpce_id} is not "
             "known (petgate reads no EC2)")
    return True


# --- routes and methods -------------------------------------------------------------------------


def route_of(paths: Mapping[str, Any], method: str, path: str) -> Route | None:
    """The deployed resource API Gateway routes the path to (literal segments before `{param}`
    before `{proxy+}`: local/routing.py's order), and its method or ANY; None: no route (a
    resource that matches best but lacks the method is no route either)."""
    parts = [p for p in path.split("?")[0].split("/") if p]
    # resources form a tree, so every prefix of an exported path is a resource too; one without
    # methods is left out of the export, and still wins the match (then: no route). A leaf resource
    # without methods cannot be seen this way.
    resources: dict[str, Any] = {}
    for template, operations in paths.items():
        segments = [s for s in str(template).split("/") if s]
        for end in range(len(segments)):
            resources.setdefault("/" + "/".join(segments[:end]), {})
        resources[str(template)] = operations
    best: tuple[tuple[int, ...], str, Mapping[str, Any]] | None = None
    for template, operations in resources.items():
        if not isinstance(operations, Mapping):
            continue
        score = _score([s for s in str(template).split("/") if s], parts)
        if score is not None and (best is None or score > best[0]):
            best = (score, str(template), operations)
    if best is None:
        return None
    own = best[2].get(method.lower())
    if isinstance(own, Mapping):
        return Route(best[1], own)
    fallback = best[2].get(_ANY_METHOD)
    return Route(best[1], fallback, by_any=True) if isinstance(fallback, Mapping) else None


def _score(template: list[str], parts: list[str]) -> tuple[int, ...] | None:
    score: list[int] = []
    for index, segment in enumerate(template):
        if segment.startswith("{") and segment.endswith("+}"):
            return tuple([*score, 0]) if parts[index:] else None
        if index >= len(parts):
            return None
        if segment.startswith("{") and segment.endswith("}"):
            score.append(1)
        elif segment == parts[index]:
            score.append(2)
        else:
            return None
    return tuple(score) if len(template) == len(parts) else None


def method_auth(export: Mapping[str, Any], operation: Mapping[str, Any]) -> MethodAuth:
    """The method's authorization from its `security` requirements and their schemes: `sigv4`
    (x-amazon-apigateway-authtype awsSigv4: Developer Guide "x-amazon-apigateway-authtype
    property") is AWS_IAM; cognito_user_pools a Cognito authorizer; token/request authorizers
    (x-amazon-apigateway-authorizer) Lambda; `api_key` (apiKey in x-api-key) an API key
    ("api-key-usage-plan-oas")."""
    schemes = (export.get("components") or {}).get("securitySchemes") or export.get("securityDefinitions") or {}
    kind, authorizer, api_key = "NONE", None, False
    for requirement in operation.get("security") or []:
        for name in requirement or {}:
            scheme = schemes.get(name) or {}
            authtype = str(scheme.get("x-amazon-apigateway-authtype", "")).lower()
            authorizer_type = str((scheme.get("x-amazon-apigateway-authorizer") or {}).get("type", "")).lower()
            if authtype == "awssigv4" or (name == "sigv4" and not scheme):
                kind = "AWS_IAM"
            elif "cognito_user_pools" in (authtype, authorizer_type):
                kind, authorizer = "COGNITO_USER_POOLS", name
            elif authorizer_type in ("token", "request") or authtype == "custom":
                kind, authorizer = "CUSTOM", name
            elif str(scheme.get("type", "")).lower() == "apikey" or name == "api_key":
                api_key = True
    return MethodAuth(kind, authorizer, api_key)


def _method_name(route: Route, method: str) -> str:
    return f"{method} (by ANY)" if route.by_any else method


def _statement_words(statement: policies.Statement | None, index: int | None) -> str:
    if statement is None:
        return "the resource policy"
    sid = statement.get("Sid")
    return f"statement {sid!r}" if sid else f"statement #{(index or 0) + 1} (no Sid)"


def _who(asked: Asked) -> str:
    if asked.endpoint is not None:
        return f"an anonymous caller at {asked.source_ip} through {asked.endpoint.vpce_id}"
    return f"an anonymous caller from {asked.source_ip}"
