"""allow-only / allow-accounts / allow-principals / allow-vpc, and `policy check` agreeing with the gateway."""

from __future__ import annotations

import json
from typing import Any

import pytest

from petgate import policy as policies
from petgate.policy import allow as allowlists
from tests.conftest import run_subprocess
from tests.e2e.test_dataplane import client_from, invoke


def stored(apigw: Any, api_id: str) -> dict | None:
    return policies.decode_stored(apigw.get_rest_api(restApiId=api_id).get("policy"))


def test_allow_only_refuses_to_lock_me_out(petgate: Any, api_id: str, apigw: Any) -> None:
    refused = petgate("allow-only", "--api", api_id, "--cidr", "198.51.100.0/24")
    assert refused.exit_code == 2
    assert "would lock out your own address 127.0.0.1/32" in refused.stderr
    assert stored(apigw, api_id) is None, "nothing was written"
    allowed = petgate("-o", "json", "allow-only", "--api", api_id, "--cidr", "198.51.100.0/24", "--my-ip")
    assert allowed.exit_code == 0, allowed.stderr
    assert allowed.json["list"] == ["198.51.100.0/24", "127.0.0.1/32"]
    policy = stored(apigw, api_id)
    assert [s["Sid"] for s in policy["Statement"]] == [allowlists.ONLY_IPS_SID, policies.ALLOW_SID]
    forced = petgate("allow-only", "--api", api_id, "--cidr", "127.0.0.1", "--remove", "--force", "--no-deploy")
    assert forced.exit_code == 0
    assert allowlists.values(stored(apigw, api_id), allowlists.ONLY_IPS) == ["198.51.100.0/24"]


def test_allow_only_is_enforced_by_the_gateway(petgate: Any, api_id: str, local_url: str) -> None:
    result = petgate("--source-address", "127.0.0.7", "allow-only", "--api", api_id, "--cidr", "127.0.0.8", "--my-ip")
    assert result.exit_code == 0, result.stderr
    url = invoke(local_url, api_id)
    assert client_from("127.0.0.7").get(url).status_code == 200
    assert client_from("127.0.0.8").get(url).status_code == 200
    assert client_from("127.0.0.9").get(url).status_code == 403


def test_allow_accounts_and_vpcs_merge_with_their_own_sids(petgate: Any, api_id: str, apigw: Any) -> None:
    assert petgate("require-iam", "--api", api_id, "--no-deploy").exit_code == 0
    accounts = petgate("allow-accounts", "--api", api_id, "111122223333", "444455556666", "--no-deploy")
    assert accounts.exit_code == 0 and "IAM authorization" not in accounts.stderr, accounts.stderr
    short = petgate("allow-accounts", "--api", api_id, "12345")
    assert short.exit_code == 2 and "error: not an AWS account id: '12345' (12 digits)" in short.stderr
    # the PetStore is REGIONAL: a VPC list would refuse everyone, so it takes --force
    vpc = petgate("-o", "json", "allow-vpc", "--api", api_id, "--vpc", "vpc-0abc1234", "--no-deploy", "--force")
    assert vpc.exit_code == 0 and vpc.json["added"] == ["vpc-0abc1234"]
    policy = stored(apigw, api_id)
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert by_sid[allowlists.ACCOUNTS_SID]["Principal"] == {
        "AWS": ["arn:aws:iam::111122223333:root", "arn:aws:iam::444455556666:root"]
    }
    assert by_sid[allowlists.VPC_SID]["Condition"] == {"StringNotEquals": {"aws:SourceVpc": ["vpc-0abc1234"]}}
    both = petgate("allow-vpc", "--api", api_id, "--vpc", "v", "--vpce", "e")
    assert both.exit_code == 2 and "give --vpc or --vpce (one kind at a time)" in both.stderr
    undone = petgate("undo", "--no-deploy")
    assert undone.exit_code == 0
    assert allowlists.VPC_SID not in {s["Sid"] for s in stored(apigw, api_id)["Statement"]}


def test_allow_accounts_and_principals_refuse_an_api_without_iam_methods(petgate: Any, api_id: str, apigw: Any) -> None:
    for command, value in (("allow-accounts", "111122223333"), ("allow-principals", "arn:aws:iam::111122223333:role/ci")):
        refused = petgate(command, "--api", api_id, value)
        assert refused.exit_code == 2, refused.stderr
        errors = [line for line in refused.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and f"no method of API {api_id} uses IAM authorization (AWS_IAM)" in errors[0]
        assert f"run `petgate require-iam --api {api_id}` first, or pass --force to `{command}` anyway" in errors[0]
        as_json = petgate("-o", "json", command, "--api", api_id, value)
        assert as_json.exit_code == 2 and as_json.json["error"]["code"] == "UsageError"
    assert stored(apigw, api_id) is None, "nothing was written"
    forced = petgate("-o", "json", "allow-principals", "--api", api_id, "arn:aws:iam::111122223333:role/ci", "--force",
                     "--no-deploy")
    assert forced.exit_code == 0 and forced.json["added"] == ["arn:aws:iam::111122223333:role/ci"]
    assert "warning: account allow-lists only apply to methods that use IAM authorization" in forced.stderr


def test_allow_principals_joins_the_accounts_statement(petgate: Any, api_id: str, apigw: Any) -> None:
    assert petgate("require-iam", "--api", api_id, "--path", "/pets", "--method", "GET", "--no-deploy").exit_code == 0
    assert petgate("allow-accounts", "--api", api_id, "111122223333", "--no-deploy").exit_code == 0
    principals = ["arn:aws:iam::444455556666:role/ci", "arn:aws:iam::444455556666:user/alice", "111122223333"]
    added = petgate("-o", "json", "allow-principals", "--api", api_id, *principals, "--no-deploy")
    assert added.exit_code == 0, added.stderr
    assert added.json["values"] == [*principals[:2], "arn:aws:iam::111122223333:root"], "canonical"
    assert added.json["added"] == principals[:2] and added.json["kind"] == "allowed principals"
    assert added.json["list"] == ["arn:aws:iam::111122223333:root", *principals[:2]]
    statements = [s for s in stored(apigw, api_id)["Statement"] if s["Sid"] == allowlists.ACCOUNTS_SID]
    assert len(statements) == 1 and statements[0]["Principal"] == {"AWS": added.json["list"]}
    bad = petgate("allow-principals", "--api", api_id, "arn:aws:iam::444455556666:user/alice", "arn:aws:iam::4444:role/x")
    assert bad.exit_code == 2 and "error: not an IAM principal ARN: 'arn:aws:iam::4444:role/x'" in bad.stderr
    gone = petgate("-o", "json", "allow-principals", "--api", api_id, principals[0], "--remove", "--no-deploy")
    assert gone.exit_code == 0 and gone.json["removed"] == [principals[0]]
    assert allowlists.values(stored(apigw, api_id), allowlists.PRINCIPALS) == [
        "arn:aws:iam::111122223333:root", principals[1]]


REQUESTS = [
    ("127.0.0.21", "GET", "/"),
    ("127.0.0.22", "GET", "/"),
    ("127.0.0.22", "GET", "/pets"),
    ("127.0.0.23", "GET", "/pets/1"),
    ("127.0.0.23", "POST", "/pets"),
    ("127.0.0.24", "GET", "/pets"),
]


def test_policy_check_agrees_with_the_gateway(petgate: Any, api_id: str, apigw: Any, local_url: str) -> None:
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*"},
            {"Sid": "NoPetsFor22", "Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke",
             "Resource": "execute-api:/*/GET/pets", "Condition": {"IpAddress": {"aws:SourceIp": "127.0.0.22/32"}}},
            {"Sid": "ReadOnlyFor23", "Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke",
             "NotResource": "execute-api:/*/GET/*", "Condition": {"IpAddress": {"aws:SourceIp": "127.0.0.23"}}},
        ],
    }
    apigw.update_rest_api(restApiId=api_id, patchOperations=[{"op": "replace", "path": "/policy", "value": json.dumps(policy)}])
    petgate("block-my-ip", "--api", api_id, "--cidr", "127.0.0.24")
    for source, method, path in REQUESTS:
        check = petgate("-o", "json", "policy", "check", "--api", api_id, "--deployed", "--ip", source, "--method", method, "--path", path)
        assert check.exit_code == 0, check.stderr
        response = client_from(source).request(method, invoke(local_url, api_id, path), json={"type": "cat"})
        assert check.json["allowed"] is (response.status_code != 403), (source, method, path, check.json, response.status_code)
    denied = petgate("-o", "json", "policy", "check", "--api", api_id, "--ip", "127.0.0.24")
    assert denied.json["statement_sid"] == policies.DENY_SID and denied.json["reason"] == "policy-explicit-deny" and denied.json["decision"] == "explicit-deny"
    assert petgate("policy", "check", "--api", api_id, "--ip", "127.0.0.24", "--expect", "allowed").exit_code == 1


def test_policy_check_offline_from_a_file(tmp_path: Any) -> None:
    document = tmp_path / "policy.json"
    document.write_text(json.dumps(policies.build_deny(["10.0.0.0/8"])))
    env = {"PETGATE_LOCAL": None, "AWS_ACCESS_KEY_ID": None, "AWS_PROFILE": None}
    inside = run_subprocess("-o", "json", "policy", "check", "--file", str(document), "--ip", "10.1.2.3", env=env)
    assert inside.exit_code == 0 and json.loads(inside.stdout)["allowed"] is False
    outside = run_subprocess("policy", "check", "--file", str(document), "--ip", "11.1.2.3", "--expect", "allowed", env=env)
    assert outside.exit_code == 0
    assert "GET / from 11.1.2.3: allowed (a statement allows it and none denies it)" in outside.stderr


def test_policy_check_from_a_file_applies_only_statements_for_this_api(tmp_path: Any) -> None:
    """Statements naming another API, account or region do not apply (the request is this API's)."""
    deny_for = lambda arn: {"Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke", "Resource": arn,  # noqa: E731
                            "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}
    document = tmp_path / "policy.json"
    document.write_text(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*"},
        deny_for("arn:aws:execute-api:us-east-1:111122223333:otherapi00/*"),  # another API
        deny_for("arn:aws:execute-api:eu-west-1:111122223333:a1b2c3d4e5/*"),  # another region
        deny_for("arn:aws:execute-api:us-east-1:999999999999:a1b2c3d4e5/*"),  # another account
    ]}))
    env = {"PETGATE_LOCAL": None, "AWS_ACCESS_KEY_ID": None, "AWS_PROFILE": None, "AWS_REGION": None, "AWS_DEFAULT_REGION": None}
    args = ["-o", "json", "policy", "check", "--file", str(document), "--ip", "10.1.2.3", "--region", "us-east-1"]
    mine = run_subprocess(*args, "--api-id", "a1b2c3d4e5", "--account", "111122223333", env=env)
    assert mine.exit_code == 0, mine.stderr
    assert json.loads(mine.stdout)["allowed"] is True, "no deny statement names this API in this account and region"
    assert json.loads(mine.stdout)["resource_arn"] == "arn:aws:execute-api:us-east-1:111122223333:a1b2c3d4e5/test/GET/"
    other = run_subprocess(*args, "--api-id", "otherapi00", "--account", "111122223333", env=env)
    assert json.loads(other.stdout)["reason"] == "policy-explicit-deny"
    bad = run_subprocess("policy", "check", "--file", str(document), "--ip", "10.1.2.3", "--account", "123", env=env)
    assert bad.exit_code == 2 and "--account must be a 12-digit AWS account id, not '123'" in bad.stderr


def test_policy_show(petgate: Any, api_id: str) -> None:
    petgate("block-my-ip", "--api", api_id, "--cidr", "192.0.2.0/24", "--no-deploy")
    shown = petgate("policy", "show", "--api", api_id)
    assert shown.exit_code == 0 and "denies everyone from 192.0.2.0/24" in shown.stdout
    assert '"PetgateDenyIps"' in shown.stdout
    data = petgate("-o", "json", "policy", "show", "--api", api_id).json
    assert data["source"] == "stored" and data["policy"]["Statement"][0]["Sid"] == policies.DENY_SID


@pytest.mark.parametrize("env", [{"NO_COLOR": "1"}, {}])
def test_piped_output_has_no_escape_codes(env: dict, local_env: str) -> None:
    result = run_subprocess("--local", "walkthrough", "--name", "NoColor", "--cleanup", "--timeout", "10", env=env)
    assert result.exit_code == 0, result.stderr
    assert "\x1b[" not in result.stderr and "\x1b[" not in result.stdout
    assert "All 13 steps passed." in result.stderr
