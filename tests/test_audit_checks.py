"""audit's pure checks (petgate/ops/audit_checks.py): each finding on a crafted API, none on a
clean one; and the SARIF log (petgate/sarif.py) against the SARIF 2.1.0 schema (OASIS's
sarif-schema-2.1.0.json, kept beside this test)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema

from petgate import sarif
from petgate.http_apis import Route
from petgate.ops.audit_checks import RULES, ApiInfo, HttpApiInfo, MethodInfo, StageInfo, check, check_http_api

API = "a1b2c3d4e5"
ARN = f"arn:aws:execute-api:us-east-1:111122223333:{API}"
SCHEMA = json.loads((Path(__file__).parent / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
CLEAN_403 = {"ACCESS_DENIED": {"statusCode": "403", "responseTemplates": {"application/json": '{"message":"Access denied"}'}}}


def allow_only(cidrs: list[str]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": f"{ARN}/*"},
        {"Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke", "Resource": f"{ARN}/*",
         "Condition": {"NotIpAddress": {"aws:SourceIp": cidrs}}}]}


def export(policy: dict[str, Any] | None, responses: dict[str, Any] | None = None) -> dict[str, Any]:
    document: dict[str, Any] = {"openapi": "3.0.1", "paths": {}}
    if policy is not None:
        document["x-amazon-apigateway-policy"] = policy
    if responses is not None:
        document["x-amazon-apigateway-gateway-responses"] = responses
    return document


def api(policy: dict[str, Any] | None = None, types: tuple[str, ...] = ("REGIONAL",), auth: str = "NONE",
        responses: dict[str, Any] | None = None, deployed: dict[str, Any] | None = None, acl: Any = "present",
        ip: str = "ipv4") -> ApiInfo:
    given = CLEAN_403 if responses is None else responses
    current = {kind: {**value, "defaultResponse": False} for kind, value in given.items()}
    return ApiInfo(
        api_id=API, name="Crafted", region="us-east-1", endpoint_types=types, ip_address_type=ip, policy=policy,
        methods=(MethodInfo("/", "GET", auth), MethodInfo("/pets", "OPTIONS", "NONE")),
        responses={"ACCESS_DENIED": current.get("ACCESS_DENIED"), "DEFAULT_4XX": current.get("DEFAULT_4XX")},
        stages=(StageInfo("test", deployed if deployed is not None else export(policy, given),
                          {"Name": "acl"} if acl == "present" else acl),),
    )


def rules(info: ApiInfo) -> list[str]:
    return [f.rule for f in check(info)]


def test_a_clean_api_has_no_finding() -> None:
    assert rules(api(allow_only(["198.51.100.0/24"]))) == []
    assert rules(api(None, auth="AWS_IAM")) == []


def test_pg001_public_no_policy_no_authorization() -> None:
    [finding] = check(api(None))
    assert (finding.rule, finding.severity, finding.stage, finding.methods) == ("PG001", "high", "test", ["GET /"])
    assert "petgate allow-only" in finding.fix and "petgate require-iam" in finding.fix


def test_pg002_a_policy_that_admits_anyone_found_by_evaluating_it() -> None:
    everyone = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": f"{ARN}/*"},
        {"Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke", "Resource": f"{ARN}/*",
         "Condition": {"IpAddress": {"aws:SourceIp": ["192.0.2.1/32"]}}}]}
    assert rules(api(everyone)) == ["PG002"]
    # the same shape with a NotIpAddress allow-list is not open: evaluation, not the text, decides
    assert rules(api(allow_only(["0.0.0.0/1"]))) == []  # half the v4 space: not "from anywhere"
    assert rules(api(allow_only(["0.0.0.0/0", "::/0"]))) == ["PG002"]


def test_pg003_private_api_without_a_vpc_condition() -> None:
    open_private = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": f"{ARN}/*"}]}
    assert rules(api(open_private, types=("PRIVATE",), ip="dualstack")) == ["PG003"]


def test_pg004_several_endpoints_each_behind_its_own_deny() -> None:
    statements: list[dict[str, Any]] = [
        {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": f"{ARN}/*"}]
    for vpce in ("vpce-0aaa", "vpce-0bbb"):
        statements.append({"Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke", "Resource": f"{ARN}/*",
                           "Condition": {"StringNotEquals": {"aws:SourceVpce": vpce}}})
    findings = check(api({"Version": "2012-10-17", "Statement": statements}, types=("PRIVATE",)))
    assert [(f.rule, f.severity) for f in findings] == [("PG004", "high")]
    assert "--vpce vpce-0aaa --vpce vpce-0bbb" in findings[0].fix
    one = {"Version": "2012-10-17", "Statement": statements[:1] + [
        {**statements[1], "Condition": {"StringNotEquals": {"aws:SourceVpce": ["vpce-0aaa", "vpce-0bbb"]}}}]}
    assert rules(api(one, types=("PRIVATE",))) == []


def test_pg005_the_deployed_403_leaks_aws_default_and_a_template_naming_the_account() -> None:
    policy = allow_only(["198.51.100.0/24"])
    assert rules(api(policy, responses={})) == ["PG005"]  # AWS's default: messageString holds the ARN
    leaky = {"ACCESS_DENIED": {"responseTemplates": {"application/json": '{"account":"$context.accountId"}'}}}
    assert rules(api(policy, responses=leaky)) == ["PG005"]
    literal = {**CLEAN_403, "DEFAULT_4XX": {"responseTemplates": {"application/json": f'{{"arn":"{ARN}/test"}}'}}}
    [finding] = check(api(policy, responses=literal))
    assert finding.rule == "PG005" and "DEFAULT_4XX" in finding.message and "set-403-template" in finding.fix


def test_pg006_changed_but_not_deployed() -> None:
    policy = allow_only(["198.51.100.0/24"])
    [finding] = check(api(policy, deployed=export(allow_only(["203.0.113.0/24"]), CLEAN_403)))
    assert (finding.rule, finding.severity) == ("PG006", "low") and finding.fix.startswith("petgate deploy")
    assert "resource policy" in finding.message


def test_pg007_no_web_acl_and_unknown_is_not_a_finding() -> None:
    assert rules(api(allow_only(["198.51.100.0/24"]), acl=None)) == ["PG007"]
    assert rules(api(allow_only(["198.51.100.0/24"]), acl="unknown")) == []


def test_pg008_dual_stack_with_ipv4_lists_only() -> None:
    assert rules(api(allow_only(["198.51.100.0/24"]), ip="dualstack")) == ["PG008"]
    assert rules(api(allow_only(["198.51.100.0/24", "2001:db8::/32"]), ip="dualstack")) == []


def test_pg009_account_list_without_iam() -> None:
    accounts = {"Version": "2012-10-17", "Statement": [
        {"Sid": "PetgateAllowAccounts", "Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::222233334444:root"]},
         "Action": "execute-api:Invoke", "Resource": f"{ARN}/*"}]}
    [finding] = check(api(accounts))
    assert (finding.rule, finding.severity) == ("PG009", "high") and "refuses everyone" in finding.message
    assert finding.fix == f"petgate require-iam --api {API}"
    assert rules(api(accounts, auth="AWS_IAM")) == []


def test_sarif_is_valid_sarif_2_1_0() -> None:
    findings = [f.to_json() for info in (api(None, responses={}, acl=None), api(allow_only(["10.0.0.0/8"]), ip="dualstack"))
                for f in check(info)]
    log = sarif.render(findings, RULES, "0.0.0")
    jsonschema.validate(log, SCHEMA)
    [run] = log["runs"]
    assert run["tool"]["driver"]["name"] == "petgate"
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == list(RULES)
    assert {(r["ruleId"], r["level"]) for r in run["results"]} == {
        ("PG001", "error"), ("PG005", "warning"), ("PG007", "note"), ("PG008", "warning")}
    first = run["results"][0]
    names = [loc["name"] for loc in first["locations"][0]["logicalLocations"]]
    assert names == ["us-east-1", "Crafted (a1b2c3d4e5)", "test", "GET /"], "the region first, then the API"
    assert first["locations"][0]["logicalLocations"][1]["fullyQualifiedName"] == f"us-east-1/{API}"
    assert first["properties"]["region"] == "us-east-1"


# --- HTTP APIs (PG010) ------------------------------------------------------------------------


def http_api(*routes: tuple[str, str], read: bool = True) -> HttpApiInfo:
    return HttpApiInfo(api_id="h1t2p3", name="Http", region="eu-west-1", stages=("$default",),
                       routes=tuple(Route(f"r{i}", key, auth) for i, (key, auth) in enumerate(routes)) if read else None)


def test_pg010_every_http_api_is_listed_with_its_open_routes_named() -> None:
    [finding] = check_http_api(http_api(("GET /pets", "NONE"), ("POST /pets", "AWS_IAM"), ("$default", "NONE")))
    assert (finding.rule, finding.severity, finding.region, finding.stage) == ("PG010", "low", "eu-west-1", None)
    assert finding.methods == ["GET /pets", "$default"]
    assert "2 of its 3 route(s) have authorizationType NONE" in finding.message
    assert "no resource policy" in finding.message and "AWS WAF cannot be associated" in finding.message
    for alternative in ("--route-id r0 --authorization-type AWS_IAM", "JWT", "Lambda authorizer (CUSTOM)",
                        "CloudFront with an AWS WAF web ACL", "REST API, where a resource policy"):
        assert alternative in finding.fix, alternative


def test_pg010_also_when_every_route_has_an_authorizer_or_none_could_be_read() -> None:
    [guarded] = check_http_api(http_api(("GET /pets", "JWT"), ("POST /pets", "CUSTOM")))
    assert guarded.methods == [] and "each of its 2 route(s) has an authorizer (CUSTOM, JWT)" in guarded.message
    assert "--route-id ROUTE_ID" in guarded.fix
    [unread] = check_http_api(http_api(read=False))
    assert "its routes could not be read" in unread.message and unread.methods == []
    [empty] = check_http_api(http_api())
    assert "it has no routes yet" in empty.message


def test_sarif_of_an_http_api_finding_validates_and_names_its_routes() -> None:
    log = sarif.render([f.to_json() for f in check_http_api(http_api(("GET /pets", "NONE")))], RULES, "0.0.0")
    jsonschema.validate(log, SCHEMA)
    [result] = log["runs"][0]["results"]
    assert (result["ruleId"], result["level"]) == ("PG010", "note")
    assert [loc["fullyQualifiedName"] for loc in result["locations"][0]["logicalLocations"]] == [
        "eu-west-1", "eu-west-1/h1t2p3", "eu-west-1/h1t2p3/GET /pets"]
