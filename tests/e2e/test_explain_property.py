"""explain's prediction against the live local gateway (issue 20's property): for random requests
(a source address among 127.0.0.x, a signed principal or none, method, path, a VPC endpoint or
none) against random configurations (a resource policy of IP denies and allows, account and
principal allows, an endpoint allow; a web ACL on the stage or none; methods with NONE or AWS_IAM;
routes present or not; PRIVATE or REGIONAL; a custom ACCESS_DENIED or none), the status and
x-amzn-ErrorType explain predicts are the ones the gateway answers. One gateway (started with
--vpc-endpoint mappings) for the whole test; each configuration is an API of its own."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from petgate.app import App
from petgate.ops import explain as explain_ops
from petgate.output import Output
from petgate.target import Target
from tests.conftest import petgate_local

ACCOUNT = "123456789012"  # moto's default: the API's and the users'
ENDPOINTS = {"vpce-0abc1234": "127.0.0.9", "vpce-0bbb2222": "127.0.0.10"}
MAPPINGS = [f"{vpce}:vpc-0def5678={address}" for vpce, address in ENDPOINTS.items()]
PLAIN = [f"127.0.0.{n}" for n in range(1, 7)]
ROUTES = [("/pets", "GET"), ("/pets", "GET"), ("/pets", "POST"), ("/pets/{id}", "GET"), ("/{proxy+}", "ANY")]
MOCK = {"type": "mock", "requestTemplates": {"application/json": '{"statusCode": 200}'},
        "responses": {"default": {"statusCode": "200"}}}
INVOKE_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*"}]}


def client(url: str, service: str, **keys: str) -> Any:
    return boto3.client(service, endpoint_url=url, region_name="us-east-1",  # type: ignore[call-overload]
                        aws_access_key_id=keys.get("key", "test"), aws_secret_access_key=keys.get("secret", "test"))


@pytest.fixture(scope="module")
def world() -> Iterator[dict[str, Any]]:
    """The gateway, two IAM users (one whose policy invokes anything, one with none), two web ACLs
    (a Block rule on some addresses; default Block with an Allow rule), and sessions per address."""
    with petgate_local(*[p for m in MAPPINGS for p in ("--vpc-endpoint", m)]) as url:
        iam, waf = client(url, "iam"), client(url, "wafv2")
        users = {}
        for name, document in (("allowed", INVOKE_ALL), ("silent", None)):
            arn = iam.create_user(UserName=f"x{name}")["User"]["Arn"]
            if document is not None:
                iam.put_user_policy(UserName=f"x{name}", PolicyName="p", PolicyDocument=json.dumps(document))
            key = iam.create_access_key(UserName=f"x{name}")["AccessKey"]
            users[name] = {"arn": arn, "key": key["AccessKeyId"], "secret": key["SecretAccessKey"]}
        visibility = {"SampledRequestsEnabled": False, "CloudWatchMetricsEnabled": False, "MetricName": "m"}

        def ip_set(name: str, addresses: list[str]) -> str:
            return str(waf.create_ip_set(Name=name, Scope="REGIONAL", IPAddressVersion="IPV4",
                                         Addresses=addresses)["Summary"]["ARN"])

        def rule(name: str, priority: int, arn: str, action: str) -> dict[str, Any]:
            return {"Name": name, "Priority": priority, "Statement": {"IPSetReferenceStatement": {"ARN": arn}},
                    "Action": {action: {}}, "VisibilityConfig": visibility}

        blocked, allowed = ip_set("blocked", ["127.0.0.3/32", "127.0.0.9/32"]), ip_set("allowed", ["127.0.0.2/32", "127.0.0.10/32"])
        acls = {
            "block": waf.create_web_acl(Name="block", Scope="REGIONAL", DefaultAction={"Allow": {}},
                                        Rules=[rule("counted", 0, allowed, "Count"), rule("deny", 1, blocked, "Block")],
                                        VisibilityConfig=visibility)["Summary"]["ARN"],
            "allowlist": waf.create_web_acl(Name="allowlist", Scope="REGIONAL", DefaultAction={"Block": {}},
                                            Rules=[rule("only", 0, allowed, "Allow")], VisibilityConfig=visibility)["Summary"]["ARN"],
        }
        sessions = {a: Target(local=True, source_address=a).http_session() for a in [*PLAIN, *ENDPOINTS.values()]}
        app = App(Target(local=True, local_url=url, region="us-east-1"), Output(mode="json"))
        yield {"url": url, "apigw": client(url, "apigateway"), "waf": waf, "users": users, "acls": acls,
               "sessions": sessions, "app": app}


def _statement(kind: str, value: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"Action": "execute-api:Invoke", "Resource": "execute-api:/*", "Principal": "*"}
    if kind == "ip-deny":
        return {**base, "Effect": "Deny", "Condition": {"IpAddress": {"aws:SourceIp": value}}}
    if kind == "ip-allow":
        return {**base, "Effect": "Allow", "Condition": {"IpAddress": {"aws:SourceIp": value}}}
    if kind == "vpce-allow":
        return {**base, "Effect": "Allow", "Condition": {"StringEquals": {"aws:SourceVpce": value}}}
    if kind == "principal-allow":
        return {**base, "Effect": "Allow", "Principal": {"AWS": value}}
    return {**base, "Effect": "Allow"}  # allow-all


addresses = st.lists(st.sampled_from([f"{a}/32" for a in [*PLAIN[:4], *ENDPOINTS.values()]]), min_size=1, max_size=3,
                     unique=True)
statements = st.one_of(
    st.tuples(st.just("ip-deny"), addresses), st.tuples(st.just("ip-allow"), addresses),
    st.tuples(st.just("vpce-allow"), st.sampled_from(sorted(ENDPOINTS))),
    st.tuples(st.just("principal-allow"), st.sampled_from(["allowed", "silent", ACCOUNT, "222222222222"])),
    st.tuples(st.just("allow-all"), st.none()),
)
configurations = st.fixed_dictionaries({
    "private": st.booleans(),
    "routes": st.lists(st.tuples(st.sampled_from(ROUTES), st.sampled_from(["NONE", "NONE", "AWS_IAM"])), min_size=1, max_size=4,
                       unique_by=lambda r: r[0]),
    "policy": st.one_of(st.none(), st.lists(statements, min_size=1, max_size=3)),
    "web_acl": st.sampled_from([None, None, None, "block", "allowlist"]),
    "access_denied": st.booleans(),
})
request = st.fixed_dictionaries({
    # mostly the way in the API's type calls for (an endpoint for a PRIVATE API), sometimes the other
    "fitting": st.sampled_from([True, True, True, False]),
    "vpce": st.sampled_from(sorted(ENDPOINTS)),
    "address": st.sampled_from(PLAIN[:4] + PLAIN),
    "caller": st.sampled_from([None, "allowed", "silent"]),
    "method": st.sampled_from(["GET", "GET", "GET", "POST", "DELETE"]),
    "path": st.sampled_from(["/pets", "/pets", "/pets/7", "/other/x", "/"]),
})


def configure(world: dict[str, Any], config: dict[str, Any]) -> str:
    """The configuration as an API of its own (ImportRestApi), deployed to stage test."""
    apigw = world["apigw"]
    paths: dict[str, Any] = {}
    for (path, method), auth in config["routes"]:
        operation: dict[str, Any] = {"responses": {"200": {"description": "ok"}}, "x-amazon-apigateway-integration": MOCK}
        if auth == "AWS_IAM":
            operation["security"] = [{"sigv4": []}]
        paths.setdefault(path, {})["x-amazon-apigateway-any-method" if method == "ANY" else method.lower()] = operation
    document: dict[str, Any] = {"openapi": "3.0.1", "info": {"title": f"p{time.monotonic_ns()}", "version": "1"},
                                "paths": paths}
    chosen = config["policy"] if config["policy"] is not None or not config["private"] else [("allow-all", None)]
    if chosen is not None:  # a PRIVATE API cannot be deployed without one
        users = world["users"]
        document["x-amazon-apigateway-policy"] = {"Version": "2012-10-17", "Statement": [
            _statement(kind, users[value]["arn"] if isinstance(value, str) and value in users else value) for kind, value in chosen]}
    endpoint_type = "PRIVATE" if config["private"] else "REGIONAL"
    api_id = str(apigw.import_rest_api(body=json.dumps(document).encode(),
                                       parameters={"endpointConfigurationTypes": endpoint_type})["id"])
    if config["access_denied"]:
        apigw.put_gateway_response(restApiId=api_id, responseType="ACCESS_DENIED", statusCode="401",
                                   responseTemplates={"application/json": '{"message":"no"}'})
    apigw.create_deployment(restApiId=api_id, stageName="test")
    if config["web_acl"] is not None:
        world["waf"].associate_web_acl(WebACLArn=world["acls"][config["web_acl"]],
                                       ResourceArn=f"arn:aws:apigateway:us-east-1::/restapis/{api_id}/stages/test")
    return api_id


def live(world: dict[str, Any], api_id: str, asked: dict[str, Any], address: str) -> tuple[int, str | None]:
    """The request itself: from the address, through the endpoint's alias Host if any, signed by the user if any."""
    headers: dict[str, str] = {}
    if asked["vpce"]:
        headers["host"] = f"{api_id}-{asked['vpce']}.execute-api.us-east-1.amazonaws.com"
        url = f"{world['url']}/test{asked['path']}"
    else:
        url = f"{world['url']}/restapis/{api_id}/test/_user_request_{asked['path']}"
    if asked["caller"]:
        user = world["users"][asked["caller"]]
        signed = AWSRequest(method=asked["method"], url=url, headers=headers)
        SigV4Auth(Credentials(user["key"], user["secret"]), "execute-api", "us-east-1").add_auth(signed)
        headers = dict(signed.headers.items())
    answer = world["sessions"][address].request(asked["method"], url, headers=headers, timeout=10)
    return answer.status_code, answer.headers.get("x-amzn-ErrorType")


@settings(max_examples=100, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(config=configurations, asked_all=st.lists(request, min_size=1, max_size=3))
def test_explain_predicts_the_live_gateways_status_and_error_type(world: dict[str, Any], config: dict[str, Any],
                                                                  asked_all: list[dict[str, Any]]) -> None:
    api_id = configure(world, config)
    for index, drawn in enumerate(asked_all):
        through = config["private"] == drawn["fitting"]
        asked = {**drawn, "vpce": drawn["vpce"] if through else None}
        address = ENDPOINTS[asked["vpce"]] if asked["vpce"] else asked["address"]
        caller = world["users"][asked["caller"]]["arn"] if asked["caller"] else None
        # every other time without --vpce: the address the gateway maps names the endpoint by itself
        data = explain_ops.explain(world["app"], api_id, "test", ip=address, principal=caller,
                                   vpce=asked["vpce"] if index % 2 == 0 else None,
                                   method=asked["method"], path=asked["path"])
        assert data.outcome.known, (config, asked, data.unknowns)
        answered = live(world, api_id, asked, address)
        predicted = (data.outcome.status, data.outcome.error_type)
        assert predicted == answered, (config, asked, [layer.to_json() for layer in data.layers])
