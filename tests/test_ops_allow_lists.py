"""ops/allow_lists.py with stand-in collaborators and no server: what each command asks once
(the caller's address, the account warning, which kind of VPC list), the lock-out guard, the
PRIVATE check, and the edit and `intended` it hands policy_changes.change_policy (stood in
here; the CLI over the local gateway is tests/e2e/test_allowlists.py's)."""

from __future__ import annotations

import types
from typing import Any

import pytest

from petgate import policy as policies
from petgate.errors import AwsError, UsageError
from petgate.gateway import ApiRef
from petgate.ops import allow_lists, deploys, policy_changes
from petgate.policy import allow as allowlists

MINE = "203.0.113.9/32"
API_ID = "abcdefghij"
NAMED = "petstore01"  # a name that looks like an API id


class NoHttp:
    """checkip must not be asked: the address is known already, or not wanted."""

    def get(self, *_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("checkip was asked")


class FakeGateway:
    def __init__(self, types_: list[str], authorization: str = "NONE") -> None:
        self.doc = {"id": API_ID, "name": "PetStore", "endpointConfiguration": {"types": types_}}
        self.calls: list[str] = []
        self.resources = [{"id": "r0", "path": "/", "resourceMethods": {"GET": {"authorizationType": "NONE"}}},
                          {"id": "r1", "path": "/pets", "resourceMethods": {"GET": {"authorizationType": authorization}}}]

    def get_resources(self, api_id: str) -> list[dict[str, Any]]:
        self.calls.append(f"get_resources {api_id}")
        if api_id != API_ID:
            raise AwsError(f"no API {api_id}", code="NotFoundException")
        return self.resources

    def get_api_or_none(self, ref: str) -> dict[str, Any] | None:
        self.calls.append("get_api_or_none")
        return self.doc if ref == API_ID else None

    def get_api(self, api_id: str) -> dict[str, Any]:
        self.calls.append("get_api")
        return self.doc

    def find_apis_named(self, name: str) -> list[Any]:
        self.calls.append("find_apis_named")
        return [ApiRef(API_ID, name)] if name == NAMED else []


@pytest.fixture()
def warned() -> list[str]:
    return []


def stand_in(warned: list[str], checkip: str | None = MINE.split("/")[0], types_: list[str] | None = None,
             authorization: str = "NONE") -> Any:
    return types.SimpleNamespace(
        checkip_address=checkip, http=NoHttp(), gateway=FakeGateway(types_ or ["REGIONAL"], authorization),
        output=types.SimpleNamespace(warn=warned.append, info=lambda _m: None),
        target=types.SimpleNamespace(effective_checkip_url="http://checkip.invalid", kind="local"),
    )


@pytest.fixture()
def written(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """change_policy and after_change stood in: the edit runs on `written["before"]`, and what
    they were called with is kept."""
    seen: dict[str, Any] = {"before": None}

    def change_policy(app: Any, ref: str, stage: str, command: str, edit: Any, intended: Any,
                      dry_run: bool = False) -> tuple[policy_changes.PolicyChange, list[str]]:
        after, touched = edit(seen["before"])
        seen.update(ref=ref, stage=stage, command=command, intended=intended, dry_run=dry_run)
        return policy_changes.PolicyChange(
            api_id=API_ID, api_name="", stage=stage, previous_policy=seen["before"], policy=after,
            changed=after != seen["before"], dry_run=dry_run), touched

    def after_change(app: Any, result: Any, no_deploy: bool, description: str) -> Any:
        seen.update(no_deploy=no_deploy, description=description)
        return result

    monkeypatch.setattr(policy_changes, "change_policy", change_policy)
    monkeypatch.setattr(deploys, "after_change", after_change)
    return seen


# --- what a command asks once ------------------------------------------------------------------


def test_allow_only_adds_the_callers_address_with_my_ip_and_guards_with_it(warned: list[str]) -> None:
    change = allow_lists.only_ips(stand_in(warned), "test", ["198.51.100.0/24"], my_ip=True, force=False)
    assert change.values == ("198.51.100.0/24", MINE) and change.guard_address == MINE
    assert change.kind is allowlists.ONLY_IPS and change.command == "allow-only"


def test_allow_only_guards_with_the_callers_address_even_without_my_ip(warned: list[str]) -> None:
    change = allow_lists.only_ips(stand_in(warned), "test", ["198.51.100.0/24"], my_ip=False, force=False)
    assert change.values == ("198.51.100.0/24",) and change.guard_address == MINE


def test_allow_only_with_force_asks_no_checkip_and_guards_nothing(warned: list[str]) -> None:
    change = allow_lists.only_ips(stand_in(warned, checkip=None), "test", ["198.51.100.0/24"], my_ip=False, force=True)
    assert change.guard_address is None


def test_allow_only_with_my_ip_and_force_adds_the_address_but_guards_nothing(warned: list[str]) -> None:
    change = allow_lists.only_ips(stand_in(warned), "test", [], my_ip=True, force=True)
    assert change.values == (MINE,) and change.guard_address is None


def test_allow_only_with_nothing_to_list_is_refused(warned: list[str]) -> None:
    with pytest.raises(UsageError, match="give at least one --cidr, or --my-ip"):
        allow_lists.only_ips(stand_in(warned, checkip=None), "test", [], my_ip=False, force=True)


def test_allow_accounts_checks_for_iam_methods_unless_force_or_remove(warned: list[str]) -> None:
    app = stand_in(warned)
    change = allow_lists.accounts(app, "test", ["111122223333", " 111122223333"])
    assert change.iam_only and change.kind is allowlists.ACCOUNTS and change.command == "allow-accounts"
    assert change.values == ("arn:aws:iam::111122223333:root",), "canonical, once"
    assert not allow_lists.accounts(app, "test", ["111122223333"], remove=True).iam_only
    assert warned == [], "checked per API, so no warning"
    forced = allow_lists.accounts(app, "test", ["111122223333"], force=True)
    assert not forced.iam_only and warned == [allow_lists.ACCOUNTS_WARNING], "with --force, the warning (once)"
    assert app.gateway.calls == [], "nothing is read to set up"


def test_allow_principals_takes_users_roles_sessions_and_accounts(warned: list[str]) -> None:
    given = ["arn:aws:iam::111122223333:user/alice", "arn:aws:iam::111122223333:role/team/ci",
             "arn:aws:sts::111122223333:assumed-role/ci/build-7", "444455556666", "arn:aws:iam::777788889999:root"]
    change = allow_lists.principals(stand_in(warned), "test", given)
    assert change.kind is allowlists.PRINCIPALS and change.command == "allow-principals" and change.iam_only
    assert change.values == (*given[:3], "arn:aws:iam::444455556666:root", given[4])


@pytest.mark.parametrize("given", [
    "arn:aws:iam::111122223333:usr/alice", "arn:aws:iam::1111:user/alice", "arn:aws:iam::111122223333:user/*",
    "arn:aws:s3:::bucket", "arn:aws:iam::111122223333:role/", "alice", "arn:aws:iam::111122223333:group/admins",
])
def test_a_malformed_principal_is_one_line_before_any_call(warned: list[str], given: str) -> None:
    app = stand_in(warned)
    with pytest.raises(UsageError, match=r"^not an IAM principal") as refused:
        allow_lists.principals(app, "test", ["arn:aws:iam::111122223333:user/ok", given])
    assert given in str(refused.value) and "\n" not in str(refused.value)
    assert app.gateway.calls == []


@pytest.mark.parametrize(("vpc", "vpce"), [([], []), (["vpc-1"], ["vpce-1"])])
def test_allow_vpc_takes_one_kind_at_a_time(vpc: list[str], vpce: list[str]) -> None:
    with pytest.raises(UsageError, match="give --vpc or --vpce"):
        allow_lists.vpcs("test", vpc, vpce, force=False)


def test_allow_vpc_checks_the_endpoint_type_unless_force_or_remove() -> None:
    assert allow_lists.vpcs("test", ["vpc-1"], [], force=False).private_only
    assert allow_lists.vpcs("test", [], ["vpce-1"], force=False).kind is allowlists.ONLY_VPCES
    assert not allow_lists.vpcs("test", ["vpc-1"], [], force=True).private_only
    assert not allow_lists.vpcs("test", ["vpc-1"], [], force=False, remove=True).private_only


# --- per API -----------------------------------------------------------------------------------


def test_a_vpc_list_on_an_api_that_is_not_private_is_refused_before_anything_is_read(
    warned: list[str], written: dict[str, Any]
) -> None:
    app = stand_in(warned, types_=["REGIONAL"])
    with pytest.raises(UsageError, match=f"API {API_ID} is REGIONAL: its callers have no aws:SourceVpc") as refused:
        allow_lists.change_list(app, API_ID, allow_lists.vpcs("test", ["vpc-1"], [], force=False))
    assert refused.value.hint == "pass --force if that is what you want"
    assert "command" not in written, "change_policy was not called"


def test_a_vpc_list_on_a_private_api_is_written(warned: list[str], written: dict[str, Any]) -> None:
    app = stand_in(warned, types_=["PRIVATE"])
    data = allow_lists.change_list(app, API_ID, allow_lists.vpcs("test", ["vpc-1"], [], force=False)).to_json()
    assert data["added"] == ["vpc-1"] and data["kind"] == "allowed VPCs" and written["command"] == "allow-vpc"


def test_an_account_list_on_an_api_without_iam_methods_is_refused_with_the_way_out(
    warned: list[str], written: dict[str, Any]
) -> None:
    app = stand_in(warned)
    for setup in (allow_lists.accounts, allow_lists.principals):
        with pytest.raises(UsageError, match=f"no method of API {API_ID} uses IAM authorization") as refused:
            allow_lists.change_list(app, API_ID, setup(app, "test", ["111122223333"]))
        assert refused.value.hint is not None and f"petgate require-iam --api {API_ID}" in refused.value.hint
        assert "--force" in refused.value.hint
    assert app.gateway.calls == [f"get_resources {API_ID}"] * 2, "one read each, by the id as given"
    assert "command" not in written, "change_policy was not called"


def test_an_account_list_on_an_api_with_an_iam_method_is_written(warned: list[str], written: dict[str, Any]) -> None:
    app = stand_in(warned, authorization="AWS_IAM")
    data = allow_lists.change_list(app, API_ID, allow_lists.principals(app, "test", ["arn:aws:iam::111122223333:role/ci"]))
    assert data.to_json()["added"] == ["arn:aws:iam::111122223333:role/ci"] and written["command"] == "allow-principals"
    assert data.kind == "allowed principals" and warned == []


def test_the_iam_check_resolves_a_name_that_looks_like_an_id(warned: list[str], written: dict[str, Any]) -> None:
    app = stand_in(warned, authorization="AWS_IAM")
    allow_lists.change_list(app, NAMED, allow_lists.accounts(app, "test", ["111122223333"]))
    assert app.gateway.calls == [f"get_resources {NAMED}", "get_api_or_none", "find_apis_named", f"get_resources {API_ID}"]
    assert written["ref"] == NAMED


def test_removing_from_an_account_list_needs_no_iam_method(warned: list[str], written: dict[str, Any]) -> None:
    written["before"], _ = allowlists.add(None, allowlists.ACCOUNTS, ["111122223333"])
    app = stand_in(warned)
    data = allow_lists.change_list(app, API_ID, allow_lists.accounts(app, "test", ["111122223333"], remove=True))
    assert data.to_json()["removed"] == ["arn:aws:iam::111122223333:root"] and app.gateway.calls == []


def test_change_list_adds_then_redeploys_as_the_command(warned: list[str], written: dict[str, Any]) -> None:
    change = allow_lists.ListChange("allow-only", allowlists.ONLY_IPS, ("198.51.100.7", MINE), "prod", no_deploy=True)
    data = allow_lists.change_list(stand_in(warned), API_ID, change).to_json()
    assert data["values"] == ["198.51.100.7/32", MINE], "canonical"
    assert data["added"] == ["198.51.100.7/32", MINE] and "touched" not in data and "removed" not in data
    assert data["list"] == ["198.51.100.7/32", MINE] and data["kind"] == "allowed addresses"
    assert written["stage"] == "prod" and written["no_deploy"] is True and written["description"] == "petgate allow-only"
    intended = written["intended"]
    assert intended(data["policy"]) and not intended(None), "added: every value must be stored"


def test_change_list_removes(warned: list[str], written: dict[str, Any]) -> None:
    written["before"], _ = allowlists.add(None, allowlists.ACCOUNTS, ["111122223333", "444455556666"])
    change = allow_lists.ListChange("allow-accounts", allowlists.ACCOUNTS, ("111122223333",), "test", remove=True)
    data = allow_lists.change_list(stand_in(warned), API_ID, change).to_json()
    assert data["removed"] == ["arn:aws:iam::111122223333:root"] and "added" not in data
    assert data["list"] == ["arn:aws:iam::444455556666:root"]
    intended = written["intended"]
    assert intended(data["policy"]) and intended(None) and not intended(written["before"]), "removed: none stored"


def test_a_value_that_is_not_one_is_a_usage_error(warned: list[str], written: dict[str, Any]) -> None:
    change = allow_lists.ListChange("allow-accounts", allowlists.ACCOUNTS, ("1234",), "test")
    with pytest.raises(UsageError, match="not an AWS account id"):
        allow_lists.change_list(stand_in(warned), API_ID, change)


def test_the_guard_runs_in_the_edit(warned: list[str], written: dict[str, Any]) -> None:
    change = allow_lists.ListChange("allow-only", allowlists.ONLY_IPS, ("198.51.100.0/24",), "test", guard_address=MINE)
    with pytest.raises(policies.PolicyError, match="would lock out your own address"):
        allow_lists.change_list(stand_in(warned), API_ID, change)


# --- the lock-out guard ------------------------------------------------------------------------


def test_a_list_that_holds_the_callers_address_passes() -> None:
    after, _ = allowlists.add(None, allowlists.ONLY_IPS, ["198.51.100.0/24", MINE])
    allow_lists.refuse_lock_out(after, MINE)
    allow_lists.refuse_lock_out(None, MINE)


def test_a_list_without_the_callers_address_is_refused() -> None:
    after, _ = allowlists.add(None, allowlists.ONLY_IPS, ["198.51.100.0/24"])
    with pytest.raises(policies.PolicyError, match=f"this allow-list would lock out your own address {MINE}; add --my-ip"):
        allow_lists.refuse_lock_out(after, MINE)


def test_the_deny_list_holding_the_callers_address_is_named() -> None:
    blocked, _ = policies.block(None, [MINE])
    after, _ = allowlists.add(blocked, allowlists.ONLY_IPS, [MINE])
    with pytest.raises(policies.PolicyError, match=r"is on petgate's deny list \(.*\).*run `petgate unblock` first"):
        allow_lists.refuse_lock_out(after, MINE)


def test_another_statement_refusing_the_caller_is_named() -> None:
    theirs = {"Version": "2012-10-17", "Statement": [{
        "Sid": "TeamDeny", "Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke",
        "Resource": "execute-api:/*", "Condition": {"IpAddress": {"aws:SourceIp": [MINE]}}}]}
    after, _ = allowlists.add(theirs, allowlists.ONLY_IPS, [MINE])
    with pytest.raises(policies.PolicyError, match=f"statement TeamDeny of the policy refuses your address {MINE}"):
        allow_lists.refuse_lock_out(after, MINE)
