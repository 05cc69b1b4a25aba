"""`explain`'s pure part: the layers API Gateway walks for one request, in its order, over what a
stage serves (its GetExport and its web ACL), each with its decision and the statement or rule
behind it, and the answer AWS would send, rendered from the stage's deployed gateway responses.

The order is local/dataplane.py's (the local gateway's ground truth) and the Developer Guide's:
the stage -> a PRIVATE API's VPC endpoint gate -> the web ACL -> the route -> an API key -> the
resource policy's explicit-deny pre-check (Lambda authorizers; and a PRIVATE API with no policy)
-> authentication -> the resource policy, with the identity policies by Table A or B. No I/O:
ops/explain.py reads what this needs.

This module walks the layers and holds the policy's; the web ACL's verdict is explain_waf.py's,
route matching explain_routes.py's, the answer's rendering explain_answer.py's, and the walk's
input and output types explain_model.py's.

Where petgate cannot see (identity policies it cannot read, SCPs, authorizer code, WAF statements
it does not model), the decision is "unknown", named, never guessed.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, replace
from typing import Any

from petgate import policy as policies
from petgate.ops.explain_answer import (
    access_denied,
    forbidden,
    gateway_context,
    gateway_response,
    integration_answer,
)
from petgate.ops.explain_model import PASS, REFUSE, UNKNOWN, Asked, Identity, Layer, Outcome, Served
from petgate.ops.explain_routes import Route, method_auth, route_of
from petgate.ops.explain_waf import custom_answer, waf_verdict
from petgate.ops.policy_view import VERIFY_REASONS, deciding_statement


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
        return _end(done, forbidden("private-endpoint-required"))
    if endpoint is not None and not served.private:
        done.add("vpc-endpoint", REFUSE, f"{endpoint.vpce_id} is a VPC endpoint, and API {served.api_id} is not PRIVATE: "
                 "an endpoint reaches private APIs only")
        return _end(done, forbidden("forbidden"))
    if endpoint is not None:
        vpc = f" of {endpoint.vpc_id}" if endpoint.vpc_id else " (its VPC not known)"
        done.add("vpc-endpoint", PASS, f"through {endpoint.vpce_id}{vpc}, to a PRIVATE API")
    else:
        done.add("vpc-endpoint", PASS, "a public (REGIONAL or EDGE) API, called from outside any VPC endpoint")

    context = gateway_context(served, asked)
    waf = _waf_layer(served, asked, done)
    if waf is not None:
        return _end(done, gateway_response(served, asked, context, "WAF_FILTERED", "Forbidden", "waf-block")
                    if waf == "gateway-response" else custom_answer(waf))

    route = route_of(served.export.get("paths") or {}, asked.method, asked.path)
    if route is None:
        done.add("route", REFUSE, f"the deployment has no {asked.method} {asked.path} (nor ANY on the resource that matches)")
        return _end(done, gateway_response(served, asked, context, "MISSING_AUTHENTICATION_TOKEN", "Missing Authentication Token",
                                    "missing-route"))
    done.add("route", PASS, f"{_method_name(route, asked.method)} {route.template}")
    context["resourcePath"] = route.template
    auth = method_auth(served.export, route.operation)

    if auth.api_key:
        if "x-api-key" not in asked.headers:
            done.add("api-key", REFUSE, "the method requires an API key, and the request has no x-api-key header")
            return _end(done, gateway_response(served, asked, context, "INVALID_API_KEY", "Forbidden", "forbidden"))
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
        return _end(done, access_denied(served, asked, context, "anonymous", "implicit-deny", "policy-implicit-deny"))
    if auth.kind == "CUSTOM":
        # "apigateway-authorization-flow": "Before calling the Lambda authorizer, API Gateway first
        # evaluates the policy and checks for any explicit denials. If found, the caller is denied"
        first = compiled.evaluate(replace(request, caller=policies.ANONYMOUS))
        if first.reason == "explicit-deny":
            done.add("policy-precheck", REFUSE, f"{_statement_words(first.statement, first.statement_index)} denies "
                     "before the Lambda authorizer is called", statement=first.statement)
            return _end(done, access_denied(served, asked, context, "anonymous", "explicit-deny", "policy-explicit-deny"))
        done.add("policy-precheck", PASS, "no statement of the resource policy denies explicitly: "
                 "the Lambda authorizer is called")
    else:
        done.add("policy-precheck", PASS, "only for Lambda authorizers (and a PRIVATE API with no policy)")

    if auth.kind == "AWS_IAM":
        if asked.caller.anonymous:
            done.add("authentication", REFUSE, "the method uses IAM authorization (AWS_IAM), and the request is not "
                     "signed: refused before any policy")
            return _end(done, gateway_response(served, asked, context, "MISSING_AUTHENTICATION_TOKEN", "Missing Authentication Token",
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


def _anonymous_policy_layer(served: Served, asked: Asked, context: dict[str, Any], compiled: policies.CompiledPolicy,
                            request: policies.Request, route: Route, done: _Walk, lambda_side: bool = False) -> Outcome:
    """A method without IAM authorization: the resource policy alone, for an anonymous caller."""
    if _vpc_unknown(served, asked, done):
        return integration_answer(served, asked, context, route)
    outcome = policies.authorize(compiled, request, served.account, None)
    statement, _, index, _ = deciding_statement(outcome, [])
    if lambda_side and outcome.reason != "explicit-deny":
        done.add("policy", UNKNOWN, "with a Lambda authorizer the resource policy is evaluated together with the "
                 "policy the authorizer returns, which petgate cannot see")
        return integration_answer(served, asked, context, route)
    if outcome.allowed:
        because = "no resource policy: everyone may invoke" if outcome.reason == "no-policy" else (
            f"{_statement_words(statement, index)} allows {_who(asked)}")
        done.add("policy", PASS, because, statement=statement)
        return integration_answer(served, asked, context, route)
    because = (f"{_statement_words(statement, index)} denies {_who(asked)}" if outcome.reason == "explicit-deny"
               else f"no statement of the resource policy allows {_who(asked)} (an implicit deny)")
    done.add("policy", REFUSE, because, statement=statement)
    return access_denied(served, asked, context, "anonymous", outcome.reason, VERIFY_REASONS[outcome.reason])


def _iam_policy_layer(served: Served, asked: Asked, context: dict[str, Any], compiled: policies.CompiledPolicy,
                      request: policies.Request, route: Route, done: _Walk) -> Outcome:
    """AWS_IAM: the resource policy and the caller's identity policies, Table A (same account)
    or B (another): policy/authorization.authorize."""
    if _vpc_unknown(served, asked, done):
        return integration_answer(served, asked, context, route)
    caller = asked.caller
    request = replace(request, caller=caller)
    identity = asked.identity or Identity(unknown="the caller's identity policies were not read")
    table = "A" if caller.account == served.account else "B"
    if identity.unknown is not None:
        resource = compiled.evaluate(request)
        if resource.reason == "explicit-deny":  # a Deny decides whatever the identity side says
            done.add("policy", REFUSE, f"{_statement_words(resource.statement, resource.statement_index)} denies "
                     f"{caller.arn} (Table {table}; the identity side does not matter)", statement=resource.statement)
            return access_denied(served, asked, context, caller.arn or "", "explicit-deny", "policy-explicit-deny")
        done.add("policy", UNKNOWN, f"Table {table}: {identity.unknown}; the resource policy says {resource.reason}",
                 statement=resource.statement)
        return integration_answer(served, asked, context, route)
    outcome = policies.authorize(compiled, request, served.account, [c for _, c in identity.policies])
    statement, side, index, holder = deciding_statement(outcome, identity.policies)
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
        return integration_answer(served, asked, context, route)
    because = {
        "explicit-deny": f"{where} denies {caller.arn}",
        "iam-explicit-deny": f"{where} denies {caller.arn} (an identity policy's explicit deny)",
        "implicit-deny": f"Table {table}: no statement of the resource policy allows {caller.arn}",
        "iam-implicit-deny": f"Table {table}: no identity policy of {caller.arn} allows execute-api:Invoke",
    }[outcome.reason]
    done.add("policy", REFUSE, because if because.startswith("Table") else f"Table {table}: {because}", statement=statement)
    return access_denied(served, asked, context, caller.arn or "", outcome.reason, VERIFY_REASONS[outcome.reason])


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
