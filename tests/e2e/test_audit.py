"""`petgate audit` against a `petgate local` of this module's own (so the session gateway's APIs
do not count): crafted APIs for the findings the CLI makes end to end, a clean API with none, the
exit codes with --fail-on, and the SARIF output parsed (and validated against the schema); HTTP
APIs (apigatewayv2) listed with their open routes; several regions in one run, each read through
clients of its own (the local gateway keeps a backend per region, so an API read through another
region's client would not be found), and a region that cannot be listed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import jsonschema
import pytest

from tests.conftest import Result, petgate_local, run_cli

SCHEMA = json.loads((Path(__file__).parent.parent / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def own_url() -> Iterator[str]:
    with petgate_local() as url:
        yield url


@pytest.fixture()
def cli(own_url: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("PETGATE_LOCAL_URL", own_url)
    for name in ("PETGATE_LOCAL", "PETGATE_OUTPUT", "PETGATE_API", "PETGATE_STAGE", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)

    def run(*args: str) -> Result:
        return run_cli("--local", *args)

    return run


@pytest.fixture(scope="module")
def region(own_url: str) -> dict[str, str]:
    """Crafted APIs, by what they should show: made once for the module through the CLI and boto3."""
    import os

    os.environ["PETGATE_LOCAL_URL"] = own_url
    apigw = boto3.client("apigateway", endpoint_url=own_url, region_name="us-east-1",
                         aws_access_key_id="test", aws_secret_access_key="test")

    def make(name: str, *args: str) -> str:
        result = run_cli("--local", "-o", "json", "import-example", "--name", name, "--new")
        assert result.exit_code == 0, result.stderr
        api = str(result.json["api_id"])
        assert run_cli("--local", "deploy", "--api", api).exit_code == 0
        return api

    made = {"open": make("Open")}
    clean = make("Clean")
    for step in (["set-403-template"], ["allow-only", "--cidr", "198.51.100.0/24", "--cidr", "2001:db8::/32", "--force"]):
        result = run_cli("--local", *step[:1], "--api", clean, *step[1:])
        assert result.exit_code == 0, result.stderr
    for step in (["waf", "block", "--list", "clean", "--cidr", "192.0.2.200"], ["waf", "attach", "--list", "clean", "--api", clean]):
        result = run_cli("--local", *step)
        assert result.exit_code == 0, result.stderr
    made["clean"] = clean
    accounts = make("Accounts")
    assert run_cli("--local", "set-403-template", "--api", accounts).exit_code == 0
    result = run_cli("--local", "allow-accounts", "--api", accounts, "222233334444", "--force")
    assert result.exit_code == 0, result.stderr
    made["accounts"] = accounts
    undeployed = make("Undeployed")
    assert run_cli("--local", "set-403-template", "--api", undeployed).exit_code == 0
    result = run_cli("--local", "block-my-ip", "--api", undeployed, "--cidr", "192.0.2.1", "--no-deploy")
    assert result.exit_code == 0, result.stderr
    made["undeployed"] = undeployed
    private = apigw.create_rest_api(name="Private", endpointConfiguration={"types": ["PRIVATE"]},
                                    policy=json.dumps({"Version": "2012-10-17", "Statement": [
                                        {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke",
                                         "Resource": "execute-api:/*"}]}))
    made["private"] = private["id"]
    v2 = boto3.client("apigatewayv2", endpoint_url=own_url, region_name="us-east-1",
                      aws_access_key_id="test", aws_secret_access_key="test")
    http = v2.create_api(Name="Http", ProtocolType="HTTP")["ApiId"]
    made["http_open_route"] = v2.create_route(ApiId=http, RouteKey="GET /pets")["RouteId"]
    v2.create_route(ApiId=http, RouteKey="POST /pets", AuthorizationType="AWS_IAM")
    v2.create_stage(ApiId=http, StageName="$default")
    made["http"] = http
    v2.create_api(Name="Chat", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action")
    west = boto3.client("apigateway", endpoint_url=own_url, region_name="eu-west-1",
                        aws_access_key_id="test", aws_secret_access_key="test")
    made["west"] = west.create_rest_api(name="West")["id"]
    made["west_http"] = boto3.client("apigatewayv2", endpoint_url=own_url, region_name="eu-west-1",
                                     aws_access_key_id="test", aws_secret_access_key="test").create_api(
        Name="WestHttp", ProtocolType="HTTP")["ApiId"]
    os.environ.pop("PETGATE_LOCAL_URL", None)
    return made


def findings_of(data: dict[str, Any], api: str) -> set[str]:
    return {f["rule"] for f in data["findings"] if f["api_id"] == api}


def test_each_crafted_api_shows_its_findings_and_the_clean_one_none(cli: Any, region: dict[str, str]) -> None:
    result = cli("-o", "json", "audit", "--fail-on", "low")
    assert result.exit_code == 1
    data = result.json
    assert findings_of(data, region["open"]) == {"PG001", "PG005", "PG007"}
    assert findings_of(data, region["clean"]) == set()
    assert findings_of(data, region["accounts"]) == {"PG007", "PG009"}
    assert findings_of(data, region["undeployed"]) >= {"PG006"}
    assert findings_of(data, region["private"]) == {"PG003"}
    assert all(api["calls"] <= 24 for api in data["apis"]), data["apis"]
    assert {a["api_id"] for a in data["apis"]} == {region[k] for k in ("open", "clean", "accounts", "undeployed", "private")}
    assert data["region"] == "us-east-1" and [r["region"] for r in data["regions"]] == ["us-east-1"]
    assert all(f["region"] == "us-east-1" for f in data["findings"]), "eu-west-1's APIs are another region's"
    opened = next(f for f in data["findings"] if f["rule"] == "PG001")
    assert opened["stage"] == "test" and "GET /pets" in opened["methods"] and "require-iam" in opened["fix"]


def test_exit_codes_follow_fail_on(cli: Any, region: dict[str, str]) -> None:
    assert cli("audit").exit_code == 1  # PG001 is high
    text = cli("audit", "--fail-on", "medium")
    assert text.exit_code == 1 and f"API {region['open']} (Open)" in text.stdout and "fix: petgate" in text.stdout


def test_sarif_output_parses_and_validates(cli: Any, region: dict[str, str]) -> None:
    result = cli("audit", "-o", "sarif", "--fail-on", "low")
    assert result.exit_code == 1
    log = json.loads(result.stdout)
    jsonschema.validate(log, SCHEMA)
    [run] = log["runs"]
    assert run["tool"]["driver"]["name"] == "petgate"
    levels = {r["ruleId"]: r["level"] for r in run["results"]}
    assert levels["PG001"] == "error" and levels["PG005"] == "warning" and levels["PG007"] == "note"


def test_http_apis_are_listed_with_their_open_routes_and_the_alternatives(cli: Any, region: dict[str, str]) -> None:
    result = cli("-o", "json", "audit", "--fail-on", "low")
    data = result.json
    [listed] = data["http_apis"]
    assert (listed["api_id"], listed["api_name"], listed["region"], listed["stages"]) == (region["http"], "Http", "us-east-1", ["$default"])
    assert listed["calls"] == 2 and listed["error"] is None, "GetRoutes and GetStages, one page each"
    [finding] = [f for f in data["findings"] if f["api_id"] == region["http"]]
    assert (finding["rule"], finding["severity"], finding["methods"]) == ("PG010", "low", ["GET /pets"])
    assert f"--route-id {region['http_open_route']} --authorization-type AWS_IAM" in finding["fix"]
    assert "AWS WAF cannot be associated" in finding["message"] and "CloudFront" in finding["fix"]
    [us_east] = data["regions"]
    assert (us_east["rest_apis"], us_east["http_apis"], us_east["websocket_apis"], us_east["error"]) == (5, 1, 1, None)
    assert us_east["calls"] == sum(a["calls"] for a in data["apis"] + data["http_apis"]) + 2, "and GetRestApis, GetApis"
    text = cli("audit", "--fail-on", "low")
    assert f"HTTP API {region['http']} (Http) in us-east-1: 1 finding(s), 2 calls" in text.stdout
    assert "LOW    PG010 us-east-1 the API [GET /pets]" in text.stdout
    assert "1 WebSocket API(s) not audited" in text.stderr and "5 REST API(s) and 1 HTTP API(s) in us-east-1" in text.stderr
    quiet = cli("audit", "--fail-on", "high")
    assert quiet.exit_code == 1, "PG001 still high; PG010 alone is low"


def test_several_regions_in_one_run_each_finding_names_its_region(cli: Any, region: dict[str, str]) -> None:
    result = cli("-o", "json", "audit", "--region", "us-east-1", "--region", "eu-west-1", "--fail-on", "low")
    assert result.exit_code == 1, result.stderr
    data = result.json
    assert [r["region"] for r in data["regions"]] == ["us-east-1", "eu-west-1"] and data["region"] == "us-east-1"
    west = next(r for r in data["regions"] if r["region"] == "eu-west-1")
    assert (west["rest_apis"], west["http_apis"], west["error"]) == (1, 1, None)
    [west_api] = [a for a in data["apis"] if a["region"] == "eu-west-1"]
    assert west_api["api_id"] == region["west"] and west_api["error"] is None, "read through eu-west-1's clients"
    assert {f["region"] for f in data["findings"] if f["api_id"] in (region["west"], region["west_http"])} == {"eu-west-1"}
    assert {f["region"] for f in data["findings"] if f["api_id"] == region["open"]} == {"us-east-1"}
    assert {(a["region"], a["api_id"]) for a in data["http_apis"]} == {("us-east-1", region["http"]), ("eu-west-1", region["west_http"])}
    text = cli("audit", "--region", "eu-west-1", "--region", "us-east-1", "--region", "eu-west-1")
    assert text.exit_code == 1 and f"HTTP API {region['west_http']} (WestHttp) in eu-west-1" in text.stdout
    assert "in eu-west-1, us-east-1:" in text.stderr, "each region once, in the order given"
    sarif = cli("audit", "--region", "us-east-1", "--region", "eu-west-1", "-o", "sarif", "--fail-on", "low")
    log = json.loads(sarif.stdout)
    jsonschema.validate(log, SCHEMA)
    results = log["runs"][0]["results"]
    assert {r["properties"]["region"] for r in results} == {"us-east-1", "eu-west-1"}
    west_result = next(r for r in results if r["properties"]["region"] == "eu-west-1" and r["ruleId"] == "PG010")
    assert west_result["locations"][0]["logicalLocations"][0] == {
        "name": "eu-west-1", "fullyQualifiedName": "eu-west-1", "kind": "namespace"}


def test_the_default_region_is_the_global_options(cli: Any, region: dict[str, str]) -> None:
    result = cli("--region", "eu-west-1", "-o", "json", "audit", "--fail-on", "low")
    data = result.json
    assert data["region"] == "eu-west-1" and [r["region"] for r in data["regions"]] == ["eu-west-1"]
    assert [a["api_id"] for a in data["apis"]] == [region["west"]]
    assert result.exit_code == 1, "the West API has findings at low"


def test_a_region_that_cannot_be_listed_is_reported_and_ends_the_run_with_its_code(cli: Any, region: dict[str, str]) -> None:
    result = cli("-o", "json", "audit", "--region", "us-east-1", "--region", "xx-nowhere-9", "--fail-on", "low")
    assert result.exit_code == 3, "the AWS error's exit code, after the report"
    data = result.json
    nowhere = next(r for r in data["regions"] if r["region"] == "xx-nowhere-9")
    assert nowhere["error"]["code"] == "InvalidSignatureException" and nowhere["rest_apis"] == 0
    assert findings_of(data, region["open"]) >= {"PG001"}, "the region that answers is still audited"
    assert "InvalidSignatureException" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(("given", "says"), [("eu west 1", "'eu west 1' is not an AWS region name"), ("", "an empty region name")])
def test_a_region_that_is_no_region_name_is_a_usage_error(cli: Any, given: str, says: str,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from petgate.target import Target

    built: list[str] = []
    original = Target.gateway
    monkeypatch.setattr(Target, "gateway", lambda self: built.append(str(self.region)) or original(self))
    result = cli("audit", "--region", "us-east-1", "--region", given)
    assert result.exit_code == 2 and says in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == "" and built == [], "refused before any region is read"
