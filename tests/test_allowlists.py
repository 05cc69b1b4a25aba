"""petgate/policy/allow.py: the console's allow-list templates as pure functions over plain dicts
(add, remove, values, account_arn, principal_arn, would_refuse, describe_kind); the CLI and the gateway are
tests/e2e/test_allowlists.py's."""

from __future__ import annotations

import copy

import pytest

from petgate.policy import allow
from petgate.policy import model as m

USER = {
    "Sid": "TeamAllowOffice",
    "Effect": "Allow",
    "Principal": "*",
    "Action": "execute-api:Invoke",
    "Resource": "execute-api:/*/GET/*",
    "Condition": {"IpAddress": {"aws:SourceIp": ["198.51.100.0/24"]}},
}
PETGATE_ALLOW = {
    "Sid": "PetgateAllowInvoke", "Effect": "Allow", "Principal": "*",
    "Action": "execute-api:Invoke", "Resource": ["execute-api:/*"],
}


def user_policy() -> dict:
    return {"Version": "2012-10-17", "Statement": [copy.deepcopy(USER)]}


def sids(policy: dict | None) -> list[str]:
    return [s.get("Sid") for s in (policy or {}).get("Statement", [])]


# --- the templates --------------------------------------------------------------------------


def test_only_ips_on_no_policy_is_the_console_template() -> None:
    policy, added = allow.add(None, allow.ONLY_IPS, ["198.51.100.0/24", "203.0.113.7"])
    assert added == ["198.51.100.0/24", "203.0.113.7/32"]
    assert policy == {"Version": "2012-10-17", "Statement": [
        {"Sid": "PetgateAllowOnlyIps", "Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke",
         "Resource": ["execute-api:/*"], "Condition": {"NotIpAddress": {"aws:SourceIp": ["198.51.100.0/24", "203.0.113.7/32"]}}},
        PETGATE_ALLOW,
    ]}
    m.validate(policy)


def test_accounts_on_no_policy_is_an_allow_without_petgates_allow_everyone() -> None:
    policy, added = allow.add(None, allow.ACCOUNTS, ["111122223333", "arn:aws:iam::444455556666:user/ci"])
    assert added == ["arn:aws:iam::111122223333:root", "arn:aws:iam::444455556666:user/ci"]
    assert policy["Statement"] == [
        {"Sid": "PetgateAllowAccounts", "Effect": "Allow", "Principal": {"AWS": added},
         "Action": "execute-api:Invoke", "Resource": ["execute-api:/*"]},
    ]
    m.validate(policy)


@pytest.mark.parametrize(("kind", "sid", "key"), [
    (allow.ONLY_VPCS, "PetgateAllowOnlyVpcs", "aws:SourceVpc"),
    (allow.ONLY_VPCES, "PetgateAllowOnlyVpces", "aws:SourceVpce"),
])
def test_vpc_lists_deny_every_other_vpc(kind: allow.ListStatement, sid: str, key: str) -> None:
    policy, added = allow.add(None, kind, ["vpc-1", "vpc-2", "vpc-1"])
    assert added == ["vpc-1", "vpc-2"], "values are kept once, in order"
    first, second = policy["Statement"]
    assert first["Sid"] == sid and first["Effect"] == "Deny"
    assert first["Condition"] == {"StringNotEquals": {key: ["vpc-1", "vpc-2"]}}
    assert second == PETGATE_ALLOW
    m.validate(policy)


def test_the_sids_are_the_models() -> None:
    assert (allow.ONLY_IPS_SID, allow.ACCOUNTS_SID, allow.VPC_SID, allow.VPCE_SID) == (
        m.ONLY_IPS_SID, m.ACCOUNTS_SID, m.VPC_SID, m.VPCE_SID)
    assert {allow.ONLY_IPS.sid, allow.ACCOUNTS.sid, allow.ONLY_VPCS.sid, allow.ONLY_VPCES.sid} <= m.PETGATE_SIDS


# --- add ------------------------------------------------------------------------------------


def test_add_canonicalises_cidrs() -> None:
    policy, added = allow.add(None, allow.ONLY_IPS, ["198.51.100.7/24", "::ffff:203.0.113.7", " 2001:db8::1 "])
    assert added == ["198.51.100.0/24", "203.0.113.7/32", "2001:db8::1/128"]
    assert allow.values(policy, allow.ONLY_IPS) == added


def test_add_refuses_what_is_not_a_cidr_or_an_account() -> None:
    with pytest.raises(m.PolicyError, match="not an IP address or CIDR"):
        allow.add(None, allow.ONLY_IPS, ["not-an-ip"])
    with pytest.raises(m.PolicyError, match=r"not an AWS account id: '12345' \(12 digits\)"):
        allow.add(None, allow.ACCOUNTS, ["12345"])


def test_add_to_the_users_policy_goes_first_and_adds_no_allow_everyone() -> None:
    before = user_policy()
    policy, added = allow.add(before, allow.ONLY_IPS, ["203.0.113.0/24"])
    assert added == ["203.0.113.0/24"]
    assert sids(policy) == ["PetgateAllowOnlyIps", "TeamAllowOffice"]
    assert policy["Statement"][1] == USER
    assert before == user_policy(), "the input is not mutated"


def test_add_merges_into_its_statement_and_says_only_what_is_new() -> None:
    once, _ = allow.add(user_policy(), allow.ONLY_IPS, ["203.0.113.0/24"])
    twice, added = allow.add(once, allow.ONLY_IPS, ["203.0.113.0/24", "192.0.2.1"])
    assert added == ["192.0.2.1/32"]
    assert allow.values(twice, allow.ONLY_IPS) == ["203.0.113.0/24", "192.0.2.1/32"]
    again, nothing = allow.add(twice, allow.ONLY_IPS, ["192.0.2.1/32"])
    assert nothing == [] and again == twice
    assert sids(twice) == sids(once)


def test_the_kinds_keep_their_own_statements() -> None:
    policy, _ = allow.add(None, allow.ONLY_IPS, ["203.0.113.0/24"])
    policy, _ = allow.add(policy, allow.ONLY_VPCS, ["vpc-1"])
    policy, _ = allow.add(policy, allow.ACCOUNTS, ["111122223333"])
    assert sids(policy) == ["PetgateAllowAccounts", "PetgateAllowOnlyVpcs", "PetgateAllowOnlyIps", "PetgateAllowInvoke"]
    assert allow.values(policy, allow.ONLY_IPS) == ["203.0.113.0/24"]
    assert allow.values(policy, allow.ONLY_VPCS) == ["vpc-1"]
    assert allow.values(policy, allow.ONLY_VPCES) == []
    assert allow.values(policy, allow.ACCOUNTS) == ["arn:aws:iam::111122223333:root"]


# --- values, read from what AWS or a hand wrote -------------------------------------------------


def test_values_of_nothing() -> None:
    assert allow.values(None, allow.ONLY_IPS) == []
    assert allow.values({}, allow.ACCOUNTS) == []
    assert allow.values(user_policy(), allow.ONLY_VPCS) == []


def test_values_read_a_single_string_as_a_list() -> None:
    policy = {"Statement": [
        {"Sid": "PetgateAllowOnlyIps", "Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke",
         "Resource": "execute-api:/*", "Condition": {"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}},
        {"Sid": "PetgateAllowAccounts", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
         "Action": "execute-api:Invoke", "Resource": "execute-api:/*"},
    ]}
    assert allow.values(policy, allow.ONLY_IPS) == ["203.0.113.0/24"]
    assert allow.values(policy, allow.ACCOUNTS) == ["arn:aws:iam::111122223333:root"]


def test_a_lone_statement_object_is_read_too() -> None:
    policy, _ = allow.add(None, allow.ONLY_VPCES, ["vpce-1"])
    lone = {"Version": "2012-10-17", "Statement": policy["Statement"][0]}
    assert allow.values(lone, allow.ONLY_VPCES) == ["vpce-1"]
    merged, added = allow.add(lone, allow.ONLY_VPCES, ["vpce-2"])
    assert added == ["vpce-2"] and allow.values(merged, allow.ONLY_VPCES) == ["vpce-1", "vpce-2"]


# --- remove ---------------------------------------------------------------------------------


def test_remove_takes_values_out_canonically() -> None:
    policy, _ = allow.add(None, allow.ONLY_IPS, ["198.51.100.0/24", "203.0.113.7"])
    after, removed = allow.remove(policy, allow.ONLY_IPS, ["198.51.100.9/24", "192.0.2.1"])
    assert removed == ["198.51.100.0/24"], "only what was there is reported"
    assert allow.values(after, allow.ONLY_IPS) == ["203.0.113.7/32"]
    assert allow.values(policy, allow.ONLY_IPS) == ["198.51.100.0/24", "203.0.113.7/32"], "not mutated"


def test_removing_the_last_value_drops_the_statement_and_a_lone_allow() -> None:
    policy, _ = allow.add(None, allow.ONLY_IPS, ["203.0.113.7"])
    after, removed = allow.remove(policy, allow.ONLY_IPS, ["203.0.113.7/32"])
    assert (after, removed) == (None, ["203.0.113.7/32"]), "only petgate's Allow was left: no policy"


def test_removing_the_last_value_keeps_the_users_statements() -> None:
    policy, _ = allow.add(user_policy(), allow.ACCOUNTS, ["111122223333"])
    after, removed = allow.remove(policy, allow.ACCOUNTS, ["111122223333"])
    assert removed == ["arn:aws:iam::111122223333:root"]
    assert after == user_policy()


def test_removing_the_last_value_keeps_petgates_allow_beside_the_users() -> None:
    policy, _ = allow.add(None, allow.ONLY_VPCS, ["vpc-1"])
    policy["Statement"].append(copy.deepcopy(USER))
    after, _ = allow.remove(policy, allow.ONLY_VPCS, ["vpc-1"])
    assert after is not None and sids(after) == ["PetgateAllowInvoke", "TeamAllowOffice"]


def test_remove_from_nothing_or_from_no_statement() -> None:
    assert allow.remove(None, allow.ONLY_IPS, ["203.0.113.7"]) == (None, [])
    after, removed = allow.remove(user_policy(), allow.ONLY_IPS, ["203.0.113.7"])
    assert removed == [] and after == user_policy()


def test_add_then_remove_restores_the_users_policy() -> None:
    for kind, values in ((allow.ONLY_IPS, ["203.0.113.0/24"]), (allow.ACCOUNTS, ["111122223333"]),
                         (allow.ONLY_VPCS, ["vpc-1"]), (allow.ONLY_VPCES, ["vpce-1"])):
        added_policy, added = allow.add(user_policy(), kind, values)
        after, removed = allow.remove(added_policy, kind, values)
        assert removed == added and after == user_policy(), kind.sid


# --- account_arn, describe_kind ------------------------------------------------------------------


@pytest.mark.parametrize(("given", "arn"), [
    ("111122223333", "arn:aws:iam::111122223333:root"),
    (" 111122223333 ", "arn:aws:iam::111122223333:root"),
    ("arn:aws:iam::111122223333:role/ci", "arn:aws:iam::111122223333:role/ci"),
])
def test_account_arn(given: str, arn: str) -> None:
    assert allow.account_arn(given) == arn


@pytest.mark.parametrize("given", ["12345", "1111222233334", "11112222333a", "", "account"])
def test_account_arn_refuses(given: str) -> None:
    with pytest.raises(m.PolicyError, match="not an AWS account id"):
        allow.account_arn(given)


@pytest.mark.parametrize("given", ["arn:aws:iam::111122223333:usr/ci", "arn:", "arn:aws:iam::1111:root"])
def test_account_arn_refuses_an_arn_that_is_no_principals(given: str) -> None:
    with pytest.raises(m.PolicyError, match="not an IAM principal ARN"):
        allow.account_arn(given)


@pytest.mark.parametrize(("given", "arn"), [
    ("111122223333", "arn:aws:iam::111122223333:root"),
    (" 111122223333\t", "arn:aws:iam::111122223333:root"),
    ("arn:aws:iam::111122223333:root", "arn:aws:iam::111122223333:root"),
    ("arn:aws:iam::111122223333:user/alice", "arn:aws:iam::111122223333:user/alice"),
    ("arn:aws:iam::111122223333:user/division/team/alice+ci@example.com",
     "arn:aws:iam::111122223333:user/division/team/alice+ci@example.com"),
    ("arn:aws:iam::111122223333:role/service-role/ci_deploy=1,2.", "arn:aws:iam::111122223333:role/service-role/ci_deploy=1,2."),
    ("arn:aws:sts::111122223333:assumed-role/ci/build-42", "arn:aws:sts::111122223333:assumed-role/ci/build-42"),
    ("arn:aws-cn:iam::111122223333:role/ci", "arn:aws-cn:iam::111122223333:role/ci"),
    ("arn:aws-us-gov:iam::111122223333:user/x", "arn:aws-us-gov:iam::111122223333:user/x"),
])
def test_principal_arn(given: str, arn: str) -> None:
    assert allow.principal_arn(given) == arn


@pytest.mark.parametrize("given", [
    "", "alice", "12345", "1111222233334",
    "arn:aws:iam::111122223333:usr/alice",          # no such resource type
    "arn:aws:iam::111122223333:group/admins",       # a group is no principal
    "arn:aws:iam::111122223333:user/*",             # no wildcards in a principal's ARN
    "arn:aws:iam::111122223333:role/",              # a role needs a name
    "arn:aws:iam::11112222333:root",                # eleven digits
    "arn:aws:iam:us-east-1:111122223333:user/x",    # IAM ARNs name no region
    "arn:aws:s3:::bucket",
    "arn:aws:iam::111122223333:user/" + "a" * 65,   # names are up to 64 characters
    "arn:aws:sts::111122223333:assumed-role/ci",    # a session ARN names its session
    "arn:aws:iam::111122223333:root\nx",
])
def test_principal_arn_refuses(given: str) -> None:
    with pytest.raises(m.PolicyError, match=r"^not an IAM principal") as refused:
        allow.principal_arn(given)
    assert repr(given) in str(refused.value) and "account id (12 digits)" in str(refused.value)


def test_principals_share_the_accounts_statement() -> None:
    """One Principal list, as the developer guide's cross-account example writes it: accounts
    and roles side by side, read and removed by either kind."""
    policy, _ = allow.add(None, allow.ACCOUNTS, ["111122223333"])
    policy, added = allow.add(policy, allow.PRINCIPALS, ["arn:aws:iam::444455556666:role/ci", "111122223333"])
    assert added == ["arn:aws:iam::444455556666:role/ci"], "the account is there already"
    assert sids(policy) == ["PetgateAllowAccounts"]
    assert allow.values(policy, allow.ACCOUNTS) == allow.values(policy, allow.PRINCIPALS) == [
        "arn:aws:iam::111122223333:root", "arn:aws:iam::444455556666:role/ci"]
    after, removed = allow.remove(policy, allow.ACCOUNTS, ["111122223333"])
    assert removed == ["arn:aws:iam::111122223333:root"]
    assert allow.values(after, allow.PRINCIPALS) == ["arn:aws:iam::444455556666:role/ci"]
    assert allow.remove(after, allow.PRINCIPALS, ["arn:aws:iam::444455556666:role/ci"]) == (
        None, ["arn:aws:iam::444455556666:role/ci"]), "the last one out takes the policy petgate made"


def test_describe_kind() -> None:
    assert [allow.describe_kind(k) for k in (allow.ONLY_IPS, allow.ACCOUNTS, allow.ONLY_VPCS, allow.ONLY_VPCES)] == [
        "allowed addresses", "allowed accounts", "allowed VPCs", "allowed VPC endpoints"]
    assert allow.describe_kind(allow.PRINCIPALS) == "allowed principals"


# --- would_refuse ---------------------------------------------------------------------------


def test_would_refuse_an_address_outside_the_list() -> None:
    policy, _ = allow.add(None, allow.ONLY_IPS, ["198.51.100.0/24"])
    inside = allow.would_refuse(policy, "198.51.100.5")
    assert inside.allowed and inside.reason == "allowed"
    outside = allow.would_refuse(policy, "203.0.113.7")
    assert not outside.allowed and outside.reason == "explicit-deny"
    assert outside.statement is not None and outside.statement["Sid"] == "PetgateAllowOnlyIps"
    assert allow.would_refuse(policy, "::ffff:198.51.100.5").allowed, "an IPv4-mapped caller is its IPv4 address"


def test_would_refuse_with_no_policy_or_keys() -> None:
    assert allow.would_refuse(None, "203.0.113.7").reason == "no-policy"
    policy, _ = allow.add(None, allow.ONLY_VPCS, ["vpc-1"])
    assert not allow.would_refuse(policy, "203.0.113.7").allowed, "no VPC: refused"
    assert allow.would_refuse(policy, "203.0.113.7", {"aws:SourceVpc": "vpc-1"}).allowed
    assert not allow.would_refuse(policy, "203.0.113.7", {"aws:SourceVpc": "vpc-2"}).allowed


def test_would_refuse_reads_a_stored_policy_in_its_own_api() -> None:
    """AWS expands `execute-api:/...` when it saves: the stored statements still apply."""
    policy, _ = allow.add(None, allow.ONLY_IPS, ["198.51.100.0/24"])
    stored = m.expand_resources(policy, "eu-west-1", "444455556666", "a1b2c3d4e5")
    assert not allow.would_refuse(stored, "203.0.113.7").allowed
    assert allow.would_refuse(stored, "198.51.100.1").allowed


def test_only_accounts_refuse_every_anonymous_caller() -> None:
    policy, _ = allow.add(None, allow.ACCOUNTS, ["111122223333"])
    decision = allow.would_refuse(policy, "203.0.113.7")
    assert not decision.allowed and decision.reason == "implicit-deny"
