"""What a hostile newcomer tried: each gets one clear line and the documented exit code."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from petgate import policy as policies
from tests.conftest import petgate_local, run_cli
from tests.test_errors import assert_one_clear_line


def stored(apigw: Any, api_id: str) -> Any:
    return policies.decode_stored(apigw.get_rest_api(restApiId=api_id).get("policy"))


# --- the state directory and the journal -----------------------------------------------------


def test_a_state_dir_that_is_a_file(petgate: Any, api_id: str, apigw: Any, tmp_path: Path, monkeypatch: Any) -> None:
    a_file = tmp_path / "not-a-dir"
    a_file.write_text("x")
    monkeypatch.setenv("PETGATE_STATE_DIR", str(a_file))
    assert_one_clear_line(petgate("history"), 2, f"cannot read the journal {a_file}/journal.jsonl: Not a directory")
    assert_one_clear_line(petgate("undo"), 2, "PETGATE_STATE_DIR must be a directory")
    blocked = petgate("block-my-ip", "--api", api_id, "--cidr", "192.0.2.1", "--no-deploy")
    assert blocked.exit_code == 0 and "this change was made but not journaled" in blocked.stderr
    assert policies.blocked_cidrs(stored(apigw, api_id)) == ["192.0.2.1/32"]


def test_unreadable_journal_lines_are_skipped_and_nothing_after_them_is_lost(
    petgate: Any, api_id: str, state_dir: Path
) -> None:
    state_dir.mkdir(parents=True, exist_ok=True)
    journal = state_dir / "journal.jsonl"
    # valid JSON that is not an entry, then a line torn by a crash (no newline at its end)
    journal.write_text('[1, 2]\n"a string"\n{"id": "torn", "kind": "pol')
    assert petgate("block-my-ip", "--api", api_id, "--cidr", "192.0.2.2", "--no-deploy").exit_code == 0
    result = petgate("-o", "json", "history")
    assert result.exit_code == 0
    assert [e["kind"] for e in result.json["entries"]] == ["policy"]  # (the import was journaled before the overwrite)
    assert "skipped 3 unreadable line(s)" in result.stderr and "(line 1, 2, 3)" in result.stderr
    assert journal.read_text().splitlines()[3].startswith('{"after"'), "the new entry starts on a line of its own"


# --- undo ------------------------------------------------------------------------------------


def test_undo_is_scoped_to_an_api(petgate: Any, apigw: Any, monkeypatch: Any) -> None:
    first = petgate("-o", "json", "import-example", "--name", "UndoScopeA", "--new").json["api_id"]
    second = petgate("-o", "json", "import-example", "--name", "UndoScopeB", "--new").json["api_id"]
    petgate("block-my-ip", "--api", first, "--cidr", "192.0.2.10", "--no-deploy")
    petgate("block-my-ip", "--api", second, "--cidr", "192.0.2.11", "--no-deploy")
    undone = petgate("-o", "json", "undo", "--api", first, "--no-deploy")
    assert undone.exit_code == 0 and undone.json["api_id"] == first
    assert stored(apigw, first) is None and policies.blocked_cidrs(stored(apigw, second)) == ["192.0.2.11/32"]
    monkeypatch.setenv("PETGATE_API", "UndoScopeA")  # a name, from the environment
    assert_one_clear_line(petgate("undo", "--no-deploy"), 2, "nothing to undo for API UndoScopeA")
    assert policies.blocked_cidrs(stored(apigw, second)) == ["192.0.2.11/32"]


def test_undo_of_an_empty_entry_is_refused(petgate: Any, api_id: str, apigw: Any) -> None:
    petgate("block-my-ip", "--api", api_id, "--cidr", "192.0.2.12", "--no-deploy")
    assert_one_clear_line(petgate("undo", ""), 2, "an empty ENTRY names no journal entry")
    assert policies.blocked_cidrs(stored(apigw, api_id)) == ["192.0.2.12/32"]


def test_undo_explains_a_change_to_an_api_the_walkthrough_deleted(petgate: Any) -> None:
    walked = petgate("-o", "json", "walkthrough", "--name", "UndoAfterCleanup", "--new", "--cleanup", "--timeout", "10")
    assert walked.exit_code == 0
    result = petgate("undo")
    assert_one_clear_line(result, 2, f"changed API {walked.json['api_id']}, which `walkthrough --cleanup` deleted")
    history = petgate("history").stdout
    assert "deleted the API (walkthrough --cleanup)" in history


def test_undo_refuses_a_403_template_that_changed_since(petgate: Any, api_id: str) -> None:
    entry = petgate("-o", "json", "set-403-template", "--api", api_id, "--template", '{"m":"first"}', "--no-deploy")
    petgate("set-403-template", "--api", api_id, "--template", '{"m":"second"}', "--no-deploy")
    refused = petgate("undo", entry.json["journal_id"], "--no-deploy")
    assert_one_clear_line(refused, 2, f"the gateway response of API {api_id} changed after entry {entry.json['journal_id']}")


# --- policies petgate will not write -------------------------------------------------------


def test_a_duplicate_petgate_statement_is_refused(petgate: Any, api_id: str, apigw: Any) -> None:
    deny = policies.deny_statement(["192.0.2.0/24"])
    twice = {"Version": "2012-10-17", "Statement": [deny, {**deny, "Condition": {"IpAddress": {"aws:SourceIp": ["198.51.100.0/24"]}}},
                                                     policies.allow_statement()]}
    apigw.update_rest_api(restApiId=api_id, patchOperations=[{"op": "replace", "path": "/policy", "value": json.dumps(twice)}])
    before = stored(apigw, api_id)
    for args in (("block-my-ip", "--cidr", "203.0.113.1"), ("unblock", "--cidr", "192.0.2.0/24"),
                 ("allow-only", "--cidr", "203.0.113.0/24", "--force")):
        result = petgate(*args, "--api", api_id, "--no-deploy")
        assert_one_clear_line(result, 2, "statement PetgateDenyIps appears more than once")
    assert stored(apigw, api_id) == before


@pytest.mark.parametrize("everyone", ["0.0.0.0/0", "::/0"])
def test_blocking_everyone_needs_force(petgate: Any, api_id: str, apigw: Any, everyone: str) -> None:
    assert_one_clear_line(petgate("block-my-ip", "--api", api_id, "--cidr", everyone), 2,
                          f"blocking {everyone} denies every caller of that IP version, you included")
    assert stored(apigw, api_id) is None
    forced = petgate("block-my-ip", "--api", api_id, "--cidr", everyone, "--force", "--no-deploy")
    assert forced.exit_code == 0 and policies.blocked_cidrs(stored(apigw, api_id)) == [everyone]


def test_allow_vpc_on_a_regional_api_needs_force(petgate: Any, api_id: str, apigw: Any) -> None:
    refused = petgate("allow-vpc", "--api", api_id, "--vpc", "vpc-0abc1234")
    assert_one_clear_line(refused, 2, f"API {api_id} is REGIONAL: its callers have no aws:SourceVpc")
    assert stored(apigw, api_id) is None
    forced = petgate("allow-vpc", "--api", api_id, "--vpc", "vpc-0abc1234", "--force", "--no-deploy")
    assert forced.exit_code == 0 and stored(apigw, api_id) is not None


def test_allow_only_names_the_deny_list_when_that_is_what_locks_you_out(petgate: Any, api_id: str, apigw: Any) -> None:
    petgate("block-my-ip", "--api", api_id, "--no-deploy")  # 127.0.0.1, as the local checkip sees it
    before = stored(apigw, api_id)
    result = petgate("allow-only", "--api", api_id, "--cidr", "198.51.100.0/24", "--my-ip", "--no-deploy")
    assert_one_clear_line(result, 2, "your address 127.0.0.1/32 is on petgate's deny list (PetgateDenyIps)")
    assert "run `petgate unblock` first" in result.stderr
    assert stored(apigw, api_id) == before


@pytest.mark.parametrize("stage", ["te st", "test/x", "tést", "a" * 129, ""])
def test_stage_names_outside_aws_alphabet_are_refused(petgate: Any, api_id: str, stage: str) -> None:
    for command in (("deploy",), ("verify",), ("block-my-ip", "--cidr", "192.0.2.1"), ("status",)):
        result = petgate(*command, "--api", api_id, "--stage", stage)
        assert result.exit_code == 2 and "is not a stage name: AWS allows letters, digits" in result.stderr


# --- what is shown ---------------------------------------------------------------------------


def test_control_characters_in_an_api_name_are_escaped(petgate: Any, apigw: Any) -> None:
    name = "Evil\x1b[2J\x07\nName"
    api_id = apigw.create_rest_api(name=name)["id"]
    for args in (("status", "--api", api_id), ("import-example", "--name", name)):
        result = petgate(*args)
        assert result.exit_code == 0, result.stderr
        assert "\x1b" not in result.stdout + result.stderr and "\x07" not in result.stdout + result.stderr
    assert "Evil\\x1b[2J\\x07\\nName" in petgate("status", "--api", api_id).stdout


def test_a_template_file_over_the_quota_is_refused_not_echoed(petgate: Any, api_id: str, tmp_path: Path) -> None:
    big = tmp_path / "big.vtl"
    big.write_text("x" * (300 * 1024 + 1))
    result = petgate("set-403-template", "--api", api_id, "--template-file", str(big))
    assert_one_clear_line(result, 2, "has 307,201 bytes; API Gateway takes at most 307,200")
    assert len(result.stderr) < 500
    fits = tmp_path / "fits.vtl"
    fits.write_text('{"message":"' + "y" * 5000 + '"}')
    shown = petgate("set-403-template", "--api", api_id, "--template-file", str(fits), "--no-deploy")
    assert shown.exit_code == 0 and "(5,014 characters)" in shown.stderr and len(shown.stderr) < 1500


def test_context_variables_render_and_a_leaked_account_id_is_flagged(petgate: Any, api_id: str) -> None:
    petgate("block-my-ip", "--api", api_id, "--no-deploy")
    template = ('{"account":"$context.accountId","api":"$context.apiId","id":"$context.extendedRequestId",'
                '"ip":"$context.identity.sourceIp","type":"$context.error.responseType","proto":"$context.protocol"}')
    assert petgate("set-403-template", "--api", api_id, "--template", template).exit_code == 0
    result = petgate("-o", "json", "verify", "--api", api_id, "--expect", "denied", "--timeout", "5")
    assert result.exit_code == 0 and result.json["reason"] == "policy-deny"
    body = json.loads(result.json["body"])
    assert body["account"] == "123456789012" and body["api"] == api_id and body["ip"] == "127.0.0.1"
    assert body["type"] == "ACCESS_DENIED" and body["proto"] == "HTTP/1.1" and len(body["id"]) == 16
    kinds = {leak["kind"] for leak in result.json["leaks"]}
    assert {"account_id", "api_id"} <= kinds


# --- a change written but not deployed -------------------------------------------------------


@pytest.fixture()
def throttled(monkeypatch: Any) -> Iterator[str]:
    with petgate_local("--throttle") as url:
        monkeypatch.setenv("PETGATE_LOCAL_URL", url)
        yield url


def use_up_the_deployment_quota(url: str, api_id: str) -> None:
    """One CreateDeployment now, taken or refused: either way none is left for 5 s, however long
    the commands before took (on a busy machine the test's own steps can outlast the 5 s)."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError

    client = boto3.client("apigateway", endpoint_url=url, region_name="us-east-1", aws_access_key_id="test",
                          aws_secret_access_key="test", config=Config(retries={"max_attempts": 1, "mode": "standard"}))
    try:
        client.create_deployment(restApiId=api_id, stageName="test")
    except ClientError as exc:
        assert exc.response["Error"]["Code"] == "TooManyRequestsException"


def test_a_change_written_but_not_deployed_says_so(throttled: str, monkeypatch: Any) -> None:
    api_id = run_cli("--local", "-o", "json", "import-example", "--name", "NotDeployed", "--new").json["api_id"]
    assert run_cli("--local", "deploy", "--api", api_id).exit_code == 0
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # the next CreateDeployment is inside its 5 s quota: no retry
    use_up_the_deployment_quota(throttled, api_id)
    result = run_cli("--local", "-o", "json", "block-my-ip", "--api", api_id, "--cidr", "192.0.2.30")
    assert result.exit_code == 3, result.stderr
    data = json.loads(result.stdout)  # one object: the change, with why it was not deployed
    assert data["added"] == ["192.0.2.30/32"] and data["deployed"] is False
    assert data["deploy_error"]["code"] == "TooManyRequestsException"
    use_up_the_deployment_quota(throttled, api_id)
    text = run_cli("--local", "block-my-ip", "--api", api_id, "--cidr", "192.0.2.31")
    assert text.exit_code == 3
    assert "The change was written but NOT deployed" in text.stderr and "error: deploying API" in text.stderr
