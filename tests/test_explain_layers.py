"""explain's pure walker on definitions shaped like AWS's exports, for what petgate local does not
serve: API keys, Lambda and Cognito authorizers, WAF custom responses and statements petgate does
not model, a principal whose identity policies cannot be read, and DEFAULT_4XX inheritance."""

from __future__ import annotations

import json
from typing import Any

from petgate import policy as policies
from petgate.ops import explain_layers as walker
from petgate.ops import explain_model as model
from petgate.ops import explain_routes as routes

MOCK = {"type": "mock", "requestTemplates": {"application/json": '{"statusCode": 200}'},
        "responses": {"default": {"statusCode": "200"}}}
SCHEMES = {
    "api_key": {"type": "apiKey", "name": "x-api-key", "in": "header"},
    "sigv4": {"type": "apiKey", "name": "Authorization", "in": "header", "x-amazon-apigateway-authtype": "awsSigv4"},
    "lambda": {"type": "apiKey", "name": "Authorization", "in": "header", "x-amazon-apigateway-authtype": "custom",
               "x-amazon-apigateway-authorizer": {"type": "token"}},
    "pool": {"type": "apiKey", "name": "Authorization", "in": "header", "x-amazon-apigateway-authtype": "cognito_user_pools"},
}
DENY_5 = {"Version": "2012-10-17", "Statement": [
    {"Sid": "Allow", "Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*"},
    {"Sid": "NoFive", "Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*",
     "Condition": {"IpAddress": {"aws:SourceIp": "127.0.0.5/32"}}}]}


def served(security: list[dict[str, list[str]]] | None = None, policy: dict[str, Any] | None = None,
           responses: dict[str, Any] | None = None, **more: Any) -> model.Served:
    operation: dict[str, Any] = {"x-amazon-apigateway-integration": MOCK}
    if security is not None:
        operation["security"] = security
    export: dict[str, Any] = {"paths": {"/pets": {"get": operation}}, "components": {"securitySchemes": SCHEMES}}
    if policy is not None:
        export["x-amazon-apigateway-policy"] = json.dumps(policy)
    if responses is not None:
        export["x-amazon-apigateway-gateway-responses"] = responses
    return model.Served(api_id="a1b2c3d4e5", stage="test", region="us-east-1", account="111122223333", export=export,
                         private=False, **more)


def run(data: model.Served, **asked: Any) -> tuple[list[model.Layer], model.Outcome, list[str]]:
    return walker.walk(data, model.Asked(method="GET", path="/pets", source_ip=asked.pop("ip", "127.0.0.1"), **asked))


def decisions(layers: list[model.Layer]) -> dict[str, str]:
    return {layer.layer: layer.decision for layer in layers}


def test_an_api_key_missing_is_refused_and_one_sent_is_unknown() -> None:
    layers, outcome, _ = run(served([{"api_key": []}]))
    assert decisions(layers)["api-key"] == "refuse"
    assert (outcome.status, outcome.error_type, outcome.response_type) == (403, "ForbiddenException", "INVALID_API_KEY")
    layers, outcome, unknowns = run(served([{"api_key": []}]), headers={"x-api-key": "k"})
    assert decisions(layers)["api-key"] == "unknown" and not outcome.known and outcome.reason == "unknown"
    assert unknowns and "usage plan" in unknowns[0]


def test_a_lambda_authorizer_meets_the_explicit_deny_pre_check_first() -> None:
    layers, outcome, _ = run(served([{"lambda": []}], DENY_5), ip="127.0.0.5")
    assert decisions(layers)["policy-precheck"] == "refuse" and layers[-1].statement is not None
    assert (outcome.reason, outcome.error_type) == ("policy-explicit-deny", "AccessDeniedException")
    layers, outcome, unknowns = run(served([{"lambda": []}], DENY_5), ip="127.0.0.6")
    assert decisions(layers)["authentication"] == "unknown" and "not evaluated offline" in unknowns[0]
    assert outcome.allowed is None and not outcome.known


def test_a_cognito_authorizer_is_unknown_but_the_policy_still_refuses() -> None:
    layers, outcome, _ = run(served([{"pool": []}], DENY_5), ip="127.0.0.5")
    assert decisions(layers)["authentication"] == "unknown" and decisions(layers)["policy"] == "refuse"
    assert outcome.allowed is False and not outcome.known  # the authorizer may refuse first, otherwise


def test_identity_policies_that_cannot_be_read_are_unknown_unless_the_resource_policy_denies() -> None:
    caller = policies.Caller(arn="arn:aws:iam::222222222222:user/bob")
    unread = model.Identity(unknown="IAM shows each account only its own users")
    layers, outcome, unknowns = run(served([{"sigv4": []}], DENY_5), caller=caller, identity=unread)
    assert decisions(layers)["policy"] == "unknown" and "Table B" in layers[-1].because and not outcome.known
    layers, outcome, _ = run(served([{"sigv4": []}], DENY_5), ip="127.0.0.5", caller=caller, identity=unread)
    assert decisions(layers)["policy"] == "refuse" and outcome.known and outcome.reason == "policy-explicit-deny"
    assert json.loads(outcome.body or "")["Message"].startswith("User: arn:aws:iam::222222222222:user/bob is not authorized")


def test_scps_are_named_for_an_allowed_iam_caller_on_aws() -> None:
    caller = policies.Caller(arn="arn:aws:iam::111122223333:root")
    _, outcome, unknowns = run(served([{"sigv4": []}]), caller=caller, identity=model.Identity())
    assert outcome.allowed and outcome.known and outcome.status == 200
    assert any("service control policies" in u for u in unknowns)
    _, _, local = run(served([{"sigv4": []}]), caller=caller, identity=model.Identity(), scps_visible=True)
    assert local == []


def test_waf_custom_responses_unknown_statements_and_default_4xx() -> None:
    acl = model.WebAcl(name="acl", default_action={"Allow": {}}, ip_sets={"arn:set": ["127.0.0.0/30"]},
                        custom_bodies={"teapot": {"ContentType": "TEXT_PLAIN", "Content": "go away"}},
                        rules=[{"Name": "custom", "Priority": 1, "Statement": {"IPSetReferenceStatement": {"ARN": "arn:set"}},
                                "Action": {"Block": {"CustomResponse": {"ResponseCode": 418, "CustomResponseBodyKey": "teapot"}}}},
                               {"Name": "geo", "Priority": 2, "Statement": {"GeoMatchStatement": {"CountryCodes": ["NZ"]}},
                                "Action": {"Block": {}}}])
    layers, outcome, _ = run(served(web_acl=acl), ip="127.0.0.2")
    assert layers[-1].rule == "custom" and (outcome.status, outcome.body, outcome.error_type) == (418, "go away", None)
    layers, outcome, unknowns = run(served(web_acl=acl), ip="127.0.0.9")
    assert decisions(layers)["waf"] == "unknown" and "GeoMatchStatement" in unknowns[0] and outcome.reason == "unknown"
    plain = model.WebAcl(name="acl", default_action={"Block": {}}, ip_sets={}, custom_bodies={}, rules=[])
    four = {"DEFAULT_4XX": {"statusCode": "404", "responseTemplates": {"application/json": '{"m":$context.error.messageString}'}}}
    _, outcome, _ = run(served(web_acl=plain, responses=four))
    assert (outcome.status, outcome.body, outcome.response_type) == (404, '{"m":"Forbidden"}', "WAF_FILTERED")


def test_routes_prefer_literal_segments_and_a_methodless_prefix_is_no_route() -> None:
    paths = {"/pets/{id}": {"get": {}}, "/{proxy+}": {"x-amazon-apigateway-any-method": {}}}
    assert routes.route_of(paths, "GET", "/pets/7") == routes.Route("/pets/{id}", {})
    assert routes.route_of(paths, "GET", "/pets") is None  # /pets exists (a prefix) and has no method
    assert routes.route_of(paths, "POST", "/toys/1") == routes.Route("/{proxy+}", {}, by_any=True)
    assert routes.route_of(paths, "POST", "/pets/7") is None
