"""`policy check --principal` through the CLI: every cell of Tables A and B (API Gateway's
"apigateway-authorization-flow" outcome tables, the same cells and readings as
tests/test_policy_authorization.py), with the identity side given by --identity and by
--identity-policy files, and read from the local IAM (users of this account and of another);
`--auth none`; the answer in words; and the bad inputs that stop it (exit 2, one line)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.conftest import run_cli
from tests.test_policy_authorization import READINGS, TABLE_A, TABLE_B

API_ACCOUNT = "111122223333"
OTHER_ACCOUNT = "444455556666"
STRANGER_ACCOUNT = "999988887777"
API_ID = "abc123defg"
PREFIX = f"arn:aws:execute-api:us-east-1:{API_ACCOUNT}:{API_ID}"
CALLERS = {"A": f"arn:aws:iam::{API_ACCOUNT}:user/alice", "B": f"arn:aws:iam::{OTHER_ACCOUNT}:user/bob"}
VERIFY_WORDS = {"explicit-deny": "policy-explicit-deny", "implicit-deny": "policy-implicit-deny"}
SIDE = {"allow": "allowed", "deny": "explicit-deny", "neither": "implicit-deny"}


def document(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def resource_statement(effect: str, account: str, sid: str) -> dict[str, Any]:
    return {"Sid": sid, "Effect": effect, "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
            "Action": "execute-api:Invoke", "Resource": "execute-api:/*"}


def resource_policy(kind: str, account: str) -> dict[str, Any]:
    """Allows the caller's account, denies it, or is silent about it (allows a stranger only)."""
    stranger = resource_statement("Allow", STRANGER_ACCOUNT, "ResourceStranger")
    return {"allow": document(resource_statement("Allow", account, "ResourceAllow")),
            "deny": document(stranger, resource_statement("Deny", account, "ResourceDeny")),
            "neither": document(stranger)}[kind]


def identity_policy(kind: str) -> dict[str, Any]:
    """Allows Invoke on this API, denies it, or is about another API only."""
    return document({
        "allow": {"Sid": "IdentityAllow", "Effect": "Allow", "Action": "execute-api:Invoke", "Resource": f"{PREFIX}/*"},
        "deny": {"Sid": "IdentityDeny", "Effect": "Deny", "Action": "execute-api:Invoke", "Resource": f"{PREFIX}/*/GET/*"},
        "neither": {"Sid": "IdentityElsewhere", "Effect": "Allow", "Action": "execute-api:Invoke",
                    "Resource": f"arn:aws:execute-api:us-east-1:{API_ACCOUNT}:otherapi00/*"},
    }[kind])


def written(tmp_path: Path, name: str, content: Any) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(content) if not isinstance(content, str) else content)
    return str(path)


def check(tmp_path: Path, table: str, resource: str, *identity: str) -> Any:
    """`policy check --file` for the caller of this table, with these identity options."""
    policy_file = written(tmp_path, f"resource-{table}-{resource}.json", resource_policy(resource, CALLERS[table].split(":")[4]))
    return run_cli("-o", "json", "--region", "us-east-1", "policy", "check", "--file", policy_file, "--api-id", API_ID,
                   "--account", API_ACCOUNT, "--ip", "203.0.113.7", "--path", "/pets", "--principal", CALLERS[table],
                   *identity)


CELLS = [("A", *row) for row in TABLE_A] + [("B", *row) for row in TABLE_B]


def expected_outcome(result: Any) -> str:
    data = result.json
    return "Allow" if data["allowed"] else "Explicit Deny" if data["reason"].endswith("explicit-deny") else "Implicit Deny"


@pytest.mark.parametrize("given", ["option", "file"])
@pytest.mark.parametrize(("table", "identity", "resource", "expected"), CELLS,
                         ids=[f"table {c[0]}: identity {c[1]}, resource {c[2]}" for c in CELLS])
def test_every_cell_of_tables_a_and_b(tmp_path: Path, given: str, table: str, identity: str, resource: str,
                                      expected: str) -> None:
    options = (("--identity", identity) if given == "option"
               else ("--identity-policy", written(tmp_path, "identity.json", identity_policy(identity))))
    result = check(tmp_path, table, resource, *options)
    assert result.exit_code == 0, result.stderr
    data = result.json
    assert (data["table"], expected_outcome(result)) == (table, expected)
    assert (data["principal"], data["auth"], data["identity_source"]) == (CALLERS[table], "iam", given)
    assert data["identity_decision"] == SIDE[identity] and data["decision"] == SIDE[resource]


@pytest.mark.parametrize(("table", "identity", "resource", "reason", "decided_by", "sid"), READINGS,
                         ids=[f"table {r[0]}: identity {r[1]}, resource {r[2]}" for r in READINGS])
def test_each_cell_says_why_who_and_which_statement(tmp_path: Path, table: str, identity: str, resource: str,
                                                    reason: str, decided_by: str, sid: str | None) -> None:
    identity_file = written(tmp_path, "identity.json", identity_policy(identity))
    data = check(tmp_path, table, resource, "--identity-policy", identity_file).json
    assert (data["reason"], data["decided_by"], data["statement_sid"]) == (VERIFY_WORDS.get(reason, reason), decided_by, sid)
    side = None if sid is None else "identity-policy" if sid.startswith("Identity") else "resource-policy"
    assert data["statement_source"] == side
    assert data["statement_policy"] == (identity_file if side == "identity-policy" else None)
    assert data["identity_policies"] == [identity_file]
    # the stand-in says the same (its own statement: Sid IdentityAllow / IdentityDeny)
    stand_in = check(tmp_path, table, resource, "--identity", identity).json
    assert (stand_in["reason"], stand_in["decided_by"]) == (data["reason"], data["decided_by"])
    assert stand_in["statement_policy"] == (f"--identity {identity}" if side == "identity-policy" else None)


def test_the_answer_in_words(tmp_path: Path) -> None:
    text = run_cli("--region", "us-east-1", "policy", "check", "--file",
                   written(tmp_path, "p.json", resource_policy("allow", OTHER_ACCOUNT)), "--api-id", API_ID, "--account",
                   API_ACCOUNT, "--ip", "203.0.113.7", "--principal", CALLERS["B"], "--identity", "neither")
    assert text.exit_code == 0, text.stderr
    assert ("Table B (another account): both must allow; the resource policy allows, no identity policy does: denied"
            in text.stderr)
    assert "iam-implicit-deny" in text.stderr and "identity policies (given): none" in text.stderr
    denied = run_cli("--region", "us-east-1", "policy", "check", "--file",
                     written(tmp_path, "p.json", resource_policy("neither", API_ACCOUNT)), "--api-id", API_ID,
                     "--account", API_ACCOUNT, "--ip", "203.0.113.7", "--path", "/pets", "--principal", CALLERS["A"],
                     "--identity-policy", written(tmp_path, "i.json", identity_policy("deny")), "--expect", "allowed")
    assert denied.exit_code == 1, "--expect allowed, and the identity policy denies"
    assert "Table A (same account)" in denied.stderr and "an identity policy denies: denied" in denied.stderr
    assert "decided by IdentityDeny of identity policy" in denied.stderr and "denies execute-api:Invoke on" in denied.stderr


def test_a_role_is_checked_as_its_session_and_the_root_user_needs_no_identity_policy(tmp_path: Path) -> None:
    policy_file = written(tmp_path, "p.json", resource_policy("allow", OTHER_ACCOUNT))
    base = ("-o", "json", "--region", "us-east-1", "policy", "check", "--file", policy_file, "--api-id", API_ID,
            "--account", API_ACCOUNT, "--ip", "203.0.113.7")
    role = run_cli(*base, "--principal", f"arn:aws:iam::{OTHER_ACCOUNT}:role/ops/caller", "--identity", "allow")
    assert role.exit_code == 0 and role.json["allowed"] is True and role.json["table"] == "B"
    root = run_cli(*base, "--principal", OTHER_ACCOUNT, "--identity-policy", written(tmp_path, "i.json", identity_policy("allow")))
    assert root.exit_code == 2 and "root user" in root.stderr
    # the root user's identity side allows everything: from IAM, nothing is read
    assert run_cli(*base, "--principal", f"arn:aws:iam::{OTHER_ACCOUNT}:root").json["decided_by"] == "both"


def test_auth_none_makes_the_caller_anonymous(tmp_path: Path) -> None:
    policy_file = written(tmp_path, "p.json", resource_policy("allow", API_ACCOUNT))
    result = run_cli("-o", "json", "--region", "us-east-1", "policy", "check", "--file", policy_file, "--api-id", API_ID,
                     "--account", API_ACCOUNT, "--ip", "203.0.113.7", "--principal", CALLERS["A"], "--auth", "none")
    assert result.exit_code == 0, result.stderr
    data = result.json
    assert (data["allowed"], data["reason"], data["auth"], data["table"], data["identity_decision"]) == (
        False, "policy-implicit-deny", "none", None, None), "an account principal never names the anonymous caller"


@pytest.mark.parametrize(
    ("options", "said"),
    [
        (("--principal", "arn:aws:iam::11112222333:user/short"), "is not an IAM principal ARN"),
        (("--principal", "bob"), "is not an IAM principal ARN"),
        (("--identity", "allow"), "go with --principal"),
        (("--auth", "iam"), "--auth iam needs --principal"),
        (("--principal", CALLERS["A"], "--identity", "allow", "--identity-policy", "IDENTITY"), "not both"),
        (("--principal", CALLERS["A"], "--auth", "none", "--identity", "deny"), "go with --auth iam"),
        (("--principal", CALLERS["A"], "--identity-policy", "NOT_A_POLICY"), "is not an identity policy"),
        (("--principal", CALLERS["A"], "--identity-policy", "RESOURCE_POLICY"), "names a Principal"),
        (("--principal", CALLERS["A"], "--identity-policy", "NOT_JSON"), "is not JSON"),
        (("--principal", CALLERS["A"], "--identity-policy", "MISSING"), "cannot read identity policy file"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, options: tuple[str, ...], said: str) -> None:
    files = {"IDENTITY": written(tmp_path, "i.json", identity_policy("allow")),
             "NOT_A_POLICY": written(tmp_path, "n.json", {"Statement": [{"Effect": "Allow", "Resource": "*"}]}),
             "RESOURCE_POLICY": written(tmp_path, "r.json", resource_policy("allow", API_ACCOUNT)),
             "NOT_JSON": written(tmp_path, "x.json", "{not json"), "MISSING": str(tmp_path / "none.json")}
    policy_file = written(tmp_path, "p.json", resource_policy("allow", API_ACCOUNT))
    result = run_cli("--region", "us-east-1", "policy", "check", "--file", policy_file, "--ip", "203.0.113.7",
                     *(files.get(option, option) for option in options))
    assert result.exit_code == 2, result.stderr
    assert said in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr


# --- the identity side read from the local IAM --------------------------------------------------------

LOCAL_ACCOUNT = "123456789012"  # moto's default: the account petgate local's APIs and test keys are in
SECOND_ACCOUNT = "222222222222"
INVOKE_ALL = document({"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*"})


def iam_of(local_url: str, account: str | None = None) -> Any:
    keys: dict[str, Any] = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
    if account is not None:  # another account's keys: AssumeRole into it (moto makes the session there)
        sts = boto3.client("sts", endpoint_url=local_url, region_name="us-east-1", **keys)
        credentials = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/admin", RoleSessionName="setup")["Credentials"]
        keys = {"aws_access_key_id": credentials["AccessKeyId"], "aws_secret_access_key": credentials["SecretAccessKey"],
                "aws_session_token": credentials["SessionToken"]}
    return boto3.client("iam", endpoint_url=local_url, region_name="us-east-1", **keys)


def local_user(iam: Any, *policies: dict[str, Any], group_policy: dict[str, Any] | None = None) -> str:
    name = f"c{time.monotonic_ns()}"
    arn = str(iam.create_user(UserName=name)["User"]["Arn"])
    for index, policy in enumerate(policies):
        iam.put_user_policy(UserName=name, PolicyName=f"p{index}", PolicyDocument=json.dumps(policy))
    if group_policy is not None:
        iam.create_group(GroupName=f"g{name}")
        iam.put_group_policy(GroupName=f"g{name}", PolicyName="team", PolicyDocument=json.dumps(group_policy))
        iam.add_user_to_group(GroupName=f"g{name}", UserName=name)
    return arn


def test_the_identity_side_from_the_local_iam(petgate: Any, api_id: str, local_url: str, apigw: Any) -> None:
    alice = local_user(iam_of(local_url), INVOKE_ALL)
    base = ("-o", "json", "policy", "check", "--api", api_id, "--ip", "127.0.0.1", "--path", "/pets")
    # Table A, no resource policy (the API's account is the credentials'): the identity policy allows
    same = petgate(*base, "--principal", alice)
    assert same.exit_code == 0, same.stderr
    assert (same.json["allowed"], same.json["table"], same.json["decided_by"]) == (True, "A", "identity-policy")
    assert (same.json["identity_source"], same.json["identity_policies"]) == ("iam", ["inline policy p0"])
    assert same.json["statement_policy"] == "inline policy p0"

    # Table B: another account's user, read from that account's IAM; its group's policy allows too
    there = iam_of(local_url, SECOND_ACCOUNT)
    bob = local_user(there, group_policy=INVOKE_ALL)
    nobody = local_user(there)
    apigw.update_rest_api(restApiId=api_id, patchOperations=[{"op": "replace", "path": "/policy", "value": json.dumps(
        document(resource_statement("Allow", SECOND_ACCOUNT, "SecondAccount")))}])
    both = petgate(*base, "--principal", bob)
    assert both.exit_code == 0, both.stderr
    assert (both.json["allowed"], both.json["table"], both.json["decided_by"]) == (True, "B", "both")
    assert both.json["identity_policies"] == [f"group g{bob.rsplit('/', 1)[1]}: inline policy team"]
    silent = petgate(*base, "--principal", nobody, "--expect", "denied")
    assert silent.exit_code == 0, silent.stderr
    assert (silent.json["reason"], silent.json["decided_by"], silent.json["identity_policies"]) == (
        "iam-implicit-deny", "identity-policy", [])

    unknown = petgate("policy", "check", "--api", api_id, "--ip", "127.0.0.1", "--principal",
                      f"arn:aws:iam::{LOCAL_ACCOUNT}:user/nosuch{time.monotonic_ns()}")
    assert unknown.exit_code == 3 and "IAM has no user nosuch" in unknown.stderr
