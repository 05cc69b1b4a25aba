"""`petgate audit` against a `petgate local` of this module's own (so the session gateway's APIs
do not count): crafted APIs for the findings the CLI makes end to end, a clean API with none, the
exit codes with --fail-on, and the SARIF output parsed (and validated against the schema)."""

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
    os.environ.pop("PETGATE_LOCAL_URL", None)
    return made


def findings_of(data: dict[str, Any], api: str) -> set[str]:
    return {f["rule"] for f in data["findings"] if f["api_id"] == api}


def test_each_crafted_api_shows_its_findings_and_the_clean_one_none(cli: Any, region: dict[str, str]) -> None:
    result = cli("-o", "json", "audit", "--fail-on", "low")
    assert result.exit_code == 1
    data = result.json
    assert findings_of(data, region["open"]) == {"PG001", "PG005", "PG007"}
    assert findings_of(data, region["clean"]) == {"PG007"}  # the local gateway attaches no web ACL
    assert findings_of(data, region["accounts"]) == {"PG007", "PG009"}
    assert findings_of(data, region["undeployed"]) >= {"PG006"}
    assert findings_of(data, region["private"]) == {"PG003"}
    assert all(api["calls"] <= 24 for api in data["apis"]), data["apis"]
    assert "apigatewayv2" in data["http_apis"]
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
