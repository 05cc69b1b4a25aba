"""Issue 18 item 4's walkthroughs, the CLI run in-process against a `petgate local` the tests start:
`walkthrough --accounts` (signed callers of three accounts, Tables A and B of the developer guide's
"How API Gateway resource policies affect authorization workflow") and `walkthrough --private` (a
PRIVATE API through two VPC endpoints and from a plain address, with --vpc-endpoint mappings).
Each check's outcome and reason, the exit code, a step that fails naming itself, and the refusals
off petgate local. Only 127.0.0.0/8 is touched; no sleeps."""

from __future__ import annotations

import json
import socket
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from petgate.ops import walkthrough as ops_walkthrough
from tests.conftest import petgate_local, run_cli
from tests.test_errors import assert_one_clear_line

B, C = ops_walkthrough.ACCOUNT_B, ops_walkthrough.ACCOUNT_C
HOME = "123456789012"  # moto's default account: petgate's local keys, so the API's
ENDPOINT_A, VPC, FROM_A = "vpce-0abc1234", "vpc-0def5678", "127.0.0.9"
ENDPOINT_B, FROM_B = "vpce-0bbb2222", "127.0.0.10"
MAPPINGS = (f"{ENDPOINT_A}:{VPC}={FROM_A}", f"{ENDPOINT_B}:{VPC}={FROM_B}")


def checks(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for step in report["steps"] if "verify" in step]


def iam_client(url: str, keys: dict[str, str] | None = None) -> Any:
    keys = keys or {"AccessKeyId": "test", "SecretAccessKey": "test"}
    return boto3.client("iam", endpoint_url=url, region_name="us-east-1", aws_access_key_id=keys["AccessKeyId"],
                        aws_secret_access_key=keys["SecretAccessKey"], aws_session_token=keys.get("SessionToken"))


def keys_in(url: str, account: str) -> dict[str, str]:
    sts = boto3.client("sts", endpoint_url=url, region_name="us-east-1", aws_access_key_id="test",
                       aws_secret_access_key="test")
    credentials: dict[str, str] = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/check",
                                                  RoleSessionName="check")["Credentials"]
    return credentials


# --- walkthrough --accounts ------------------------------------------------------------------------

def test_accounts_walkthrough_passes_each_step_with_its_reason(petgate: Any, local_url: str) -> None:
    result = petgate("-o", "json", "walkthrough", "--accounts", "--name", "AccountsWalk", "--new", "--cleanup",
                     "--timeout", "10")
    assert result.exit_code == 0, result.stderr[-2000:]
    report = result.json
    assert report["ok"] is True and all(step["ok"] for step in report["steps"]) and len(report["steps"]) == 15
    api_id = report["api_id"]
    prefix = f"petgate-walkthrough-{api_id}"
    assert [(c["account"], c["verify"]["outcome"], c["verify"]["reason"], c["expected_reason"]) for c in checks(report)] == [
        (HOME, "allowed", "allowed", "allowed"),
        (HOME, "denied", "iam-implicit-deny", "iam-implicit-deny"),
        (B, "denied", "policy-implicit-deny", "policy-implicit-deny"),
        (B, "allowed", "allowed", "allowed"),
        (C, "denied", "policy-implicit-deny", "policy-implicit-deny"),
        (HOME, "allowed", "allowed", "allowed"),
    ]
    callers = [c["caller"] for c in checks(report)]
    assert callers[0] == f"arn:aws:iam::{HOME}:user/{prefix}-invoker"
    assert callers[1] == f"arn:aws:iam::{HOME}:user/{prefix}-no-policy"
    assert callers[2] == f"arn:aws:sts::{B}:assumed-role/{prefix}-account-b/walkthrough"
    assert all(c["verify"]["signed"] is True and c["verify"]["signed_as"] == c["caller"] for c in checks(report))
    assert checks(report)[0]["rule"].startswith("Table A") and checks(report)[2]["rule"].startswith("Table B")
    required = next(s for s in report["steps"] if s["title"].startswith("Require IAM"))
    assert "GET /pets" in required["methods"] and required["journal_id"]
    allowed = next(s for s in report["steps"] if s["title"].startswith("Allow account"))
    assert (allowed["accounts"], allowed["list"]) == ([B], [f"arn:aws:iam::{B}:root"])
    made = [i for s in report["steps"] if "identities" in s for i in s["identities"]]
    assert [(i["account"], i["kind"], i["may_invoke"]) for i in made] == [
        (HOME, "user", True), (HOME, "user", False), (B, "role", True), (C, "role", True)]
    assert all(set(s) >= {"step", "title", "ok", "elapsed_s"} for s in report["steps"])

    cleanup = report["steps"][-1]
    assert cleanup["deleted"] is True and cleanup["api_id"] == api_id
    assert sorted(cleanup["identities_deleted"]) == sorted(i["arn"] for i in made)
    # nothing of it is left: the API, the users in its account, the roles in the others
    assert petgate("status", "--api", api_id).exit_code != 0
    assert not [u for u in iam_client(local_url).list_users()["Users"] if u["UserName"].startswith(prefix)]
    for account in (B, C):
        roles = iam_client(local_url, keys_in(local_url, account)).list_roles()["Roles"]
        assert not [r for r in roles if r["RoleName"].startswith(prefix)], account
    # people see each step's reason
    text = result.stderr
    assert "denied (iam-implicit-deny, HTTP 403)" in text and "denied (policy-implicit-deny, HTTP 403)" in text


def test_a_refused_account_let_in_fails_its_step(petgate: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A policy that also lets account C in: the check that C is refused fails, naming its step,
    exit 1, and the story stops there."""
    from petgate.commands import walkthrough as command

    allow = command.allow_lists.accounts
    monkeypatch.setattr(command.allow_lists, "accounts",
                        lambda app, stage, ids, **kw: allow(app, stage, [*ids, C], **kw))
    result = petgate("-o", "json", "walkthrough", "--accounts", "--name", "AccountsLeak", "--new", "--timeout", "0.3")
    assert result.exit_code == 1, result.stderr[-2000:]
    report = result.json
    assert report["ok"] is False
    last = report["steps"][-1]
    assert (last["step"], last["ok"], last["verify"]["reason"], last["expected_reason"]) == (
        13, False, "allowed", "policy-implicit-deny")
    assert f"step 13 (Verify account {C}'s caller is still refused" in result.stderr
    assert "expected denied (policy-implicit-deny), got allowed (allowed)" in result.stderr


# --- walkthrough --private -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def private_gateway() -> Iterator[str]:
    with petgate_local(*[part for mapping in MAPPINGS for part in ("--vpc-endpoint", mapping)]) as url:
        yield url


@pytest.fixture()
def private_cli(private_gateway: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("PETGATE_LOCAL_URL", private_gateway)
    for name in ("PETGATE_LOCAL", "PETGATE_OUTPUT", "PETGATE_API", "PETGATE_STAGE", "PETGATE_SOURCE_ADDRESS", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    return lambda *args: run_cli("--local", *args)


def assert_private_report(report: dict[str, Any]) -> None:
    assert report["ok"] is True and all(step["ok"] for step in report["steps"]) and len(report["steps"]) == 6
    assert report["steps"][0]["vpc_endpoints"] == [ENDPOINT_A]
    assert [(c["source_address"], c["vpc_endpoint"], c["verify"]["outcome"], c["verify"]["reason"])
            for c in checks(report)] == [
        (FROM_A, ENDPOINT_A, "allowed", "allowed"),
        (FROM_B, ENDPOINT_B, "denied", "policy-explicit-deny"),
        ("127.0.0.1", None, "other", "private-endpoint-required"),
    ]
    assert all(c["expected_reason"] == c["verify"]["reason"] and c["rule"] for c in checks(report))
    assert report["steps"][-1]["deleted"] is True


def test_the_gateway_names_its_vpc_endpoint_mappings(private_gateway: str) -> None:
    with urllib.request.urlopen(f"{private_gateway}/_petgate/vpc-endpoints", timeout=10) as response:
        assert json.loads(response.read()) == {"vpc_endpoints": [
            {"address": FROM_A, "vpce_id": ENDPOINT_A, "vpc_id": VPC},
            {"address": FROM_B, "vpce_id": ENDPOINT_B, "vpc_id": VPC}]}


def test_private_walkthrough_on_a_running_gateway(private_cli: Any) -> None:
    result = private_cli("-o", "json", "walkthrough", "--private", "--name", "PrivateWalk", "--cleanup", "--timeout", "10")
    assert result.exit_code == 0, result.stderr[-2000:]
    assert_private_report(result.json)
    assert private_cli("status", "--api", result.json["api_id"]).exit_code != 0
    assert "other (private-endpoint-required, HTTP 403)" in result.stderr


def test_a_second_endpoint_let_in_fails_its_step(private_cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from petgate.commands import walkthrough as command

    real = command.deploys.import_example
    monkeypatch.setattr(command.deploys, "import_example",
                        lambda app, name, new, kind, vpces: real(app, name, new, kind, [*vpces, ENDPOINT_B]))
    result = private_cli("-o", "json", "walkthrough", "--private", "--name", "PrivateLeak", "--timeout", "0.3")
    assert result.exit_code == 1, result.stderr[-2000:]
    last = result.json["steps"][-1]
    assert (last["step"], last["ok"], last["verify"]["reason"]) == (4, False, "allowed")
    assert f"step 4 (Verify a caller through {ENDPOINT_B} ({FROM_B}) is denied by the policy)" in result.stderr


def test_private_walkthrough_refuses_a_gateway_without_two_endpoints(petgate: Any) -> None:
    result = petgate("walkthrough", "--private", "--name", "PrivateNoMappings")
    assert_one_clear_line(result, 2, "walkthrough --private needs the local gateway at")
    assert "petgate local --vpc-endpoint vpce-0abc1234:vpc-0def5678=127.0.0.9 --vpc-endpoint" in result.stderr


def test_private_walkthrough_starts_its_own_gateway_with_two_endpoints(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as sock:  # a port nothing answers on: the walkthrough starts its own gateway
        sock.bind(("127.0.0.1", 0))
        free = sock.getsockname()[1]
    monkeypatch.setenv("PETGATE_LOCAL_URL", f"http://127.0.0.1:{free}")
    for name in ("PETGATE_LOCAL", "PETGATE_OUTPUT", "PETGATE_SOURCE_ADDRESS", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    result = run_cli("--local", "-o", "json", "walkthrough", "--private", "--cleanup", "--timeout", "10")
    assert result.exit_code == 0, result.stderr[-2000:]
    assert "Started a local gateway for this run" in result.stderr
    assert_private_report(result.json)


# --- off petgate local, and bad combinations -------------------------------------------------------

@pytest.mark.parametrize(("option", "text"), [
    ("--accounts", "walkthrough --accounts runs against petgate local only"),
    ("--private", "walkthrough --private runs against petgate local only"),
])
def test_against_aws_they_refuse_before_anything(option: str, text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PETGATE_LOCAL", "PETGATE_ENDPOINT_URL", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    result = run_cli("--region", "us-east-1", "walkthrough", option)
    assert_one_clear_line(result, 2, text)


def test_one_walkthrough_at_a_time(petgate: Any) -> None:
    assert_one_clear_line(petgate("walkthrough", "--accounts", "--private"), 2, "give one of them")
