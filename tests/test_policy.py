"""policy.py: build, merge, remove, validate, decode, describe, evaluate."""

from __future__ import annotations

import copy
import ipaddress
import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from petgate import policy as p

USER_STATEMENT = {
    "Sid": "TeamAllowOffice",
    "Effect": "Allow",
    "Principal": "*",
    "Action": "execute-api:Invoke",
    "Resource": "execute-api:/*/GET/*",
    "Condition": {"IpAddress": {"aws:SourceIp": ["198.51.100.0/24"]}},
}


def test_build_deny_has_the_console_template_shape() -> None:
    policy = p.build_deny(["192.0.2.0/24"])
    deny, allow = policy["Statement"]
    assert policy["Version"] == "2012-10-17"
    assert deny["Effect"] == "Deny" and allow["Effect"] == "Allow"
    for statement in (deny, allow):
        assert statement["Principal"] == "*"
        assert statement["Action"] == "execute-api:Invoke"
        assert statement["Resource"] == ["execute-api:/*"]
    assert deny["Condition"] == {"IpAddress": {"aws:SourceIp": ["192.0.2.0/24"]}}
    assert "Condition" not in allow


def test_block_merges_and_keeps_the_users_statements() -> None:
    user_policy = {"Version": "2012-10-17", "Statement": [copy.deepcopy(USER_STATEMENT)]}
    merged, added = p.block(user_policy, ["203.0.113.7/32"])
    assert added == ["203.0.113.7/32"]
    assert USER_STATEMENT in merged["Statement"]
    assert p.blocked_cidrs(merged) == ["203.0.113.7/32"]
    # no Allow * is added to someone else's policy: it could open what they closed
    assert not any(s.get("Sid") == p.ALLOW_SID for s in merged["Statement"])
    assert user_policy["Statement"] == [USER_STATEMENT], "the input is not mutated"


def test_block_is_idempotent_and_compares_networks_not_text() -> None:
    once, _ = p.block(None, ["203.0.113.7/32"])
    twice, added = p.block(once, ["203.0.113.7/32"])
    assert added == [] and twice == once
    _, added_again = p.block(once, [str(ipaddress.ip_network("203.0.113.7/32"))])
    assert added_again == []


def test_block_collapses_adjacent_and_contained_networks() -> None:
    policy, _ = p.block(None, ["192.0.2.0/25"])
    policy, added = p.block(policy, ["192.0.2.128/25", "192.0.2.7/32"])
    assert added == ["192.0.2.128/25"], "192.0.2.7 was already covered"
    assert p.blocked_cidrs(policy) == ["192.0.2.0/24"]
    policy, removed = p.unblock(policy, ["192.0.2.0/25", "192.0.2.128/25"])
    assert removed == ["192.0.2.0/24"] and policy is None


def test_unblocking_inside_a_wider_block_splits_it() -> None:
    policy, _ = p.block(None, ["192.0.2.0/24"])
    result, removed = p.unblock(policy, ["192.0.2.7"])
    assert removed == ["192.0.2.7/32"]
    assert len(p.blocked_cidrs(result)) == 8
    assert p.evaluate(result, req("192.0.2.7"), resource_prefix=PREFIX).allowed
    assert not p.evaluate(result, req("192.0.2.6"), resource_prefix=PREFIX).allowed
    assert not p.evaluate(result, req("192.0.2.200"), resource_prefix=PREFIX).allowed


def test_how_many_fit_under_the_size_quota() -> None:
    many = [f"10.{i // 256}.{i % 256}.1/32" for i in range(1000)]
    fit = p.how_many_fit(None, many)
    assert 100 < fit < 1000
    ok, _ = p.block(None, many[:fit])
    too_big, _ = p.block(None, many[: fit + 1])
    assert len(p.encode(ok)) <= p.MAX_POLICY_CHARS < len(p.encode(too_big))


def test_block_adds_to_the_existing_deny_statement() -> None:
    policy, _ = p.block(None, ["203.0.113.7/32"])
    policy, added = p.block(policy, ["2001:db8::1/128", "203.0.113.7/32"])
    assert added == ["2001:db8::1/128"]
    assert p.blocked_cidrs(policy) == ["203.0.113.7/32", "2001:db8::1/128"]


def test_unblock_removes_what_block_added_and_the_policy_when_empty() -> None:
    policy, _ = p.block(None, ["203.0.113.7/32", "192.0.2.0/24"])
    policy2, removed = p.unblock(policy, ["192.0.2.0/24"])
    assert removed == ["192.0.2.0/24"]
    assert p.blocked_cidrs(policy2) == ["203.0.113.7/32"]
    gone, removed = p.unblock(policy2, ["203.0.113.7/32"])
    assert removed == ["203.0.113.7/32"] and gone is None


def test_unblock_keeps_user_statements_and_petgates_allow() -> None:
    policy, _ = p.block(None, ["203.0.113.7/32"])
    policy["Statement"].append(copy.deepcopy(USER_STATEMENT))
    result, removed = p.unblock(policy, ["203.0.113.7/32"])
    assert removed == ["203.0.113.7/32"]
    assert result is not None
    sids = [s.get("Sid") for s in result["Statement"]]
    assert sids == [p.ALLOW_SID, "TeamAllowOffice"]


def test_unblock_of_something_not_blocked_changes_nothing() -> None:
    policy, _ = p.block(None, ["203.0.113.7/32"])
    result, removed = p.unblock(policy, ["198.51.100.1/32"])
    assert removed == [] and result == policy


def test_a_hand_edited_petgate_statement_is_refused() -> None:
    policy, _ = p.block(None, ["203.0.113.7/32"])
    policy["Statement"][0]["Condition"] = {"NotIpAddress": {"aws:SourceIp": ["1.2.3.4/32"]}}
    with pytest.raises(p.PolicyError, match="changed by hand"):
        p.block(policy, ["192.0.2.1/32"])
    with pytest.raises(p.PolicyError, match="unblock --all"):
        p.unblock(policy, ["192.0.2.1/32"])


@pytest.mark.parametrize(
    ("text", "network", "normalised"),
    [
        ("203.0.113.7", "203.0.113.7/32", False),
        ("203.0.113.7/32", "203.0.113.7/32", False),
        ("192.0.2.77/24", "192.0.2.0/24", True),
        ("2001:db8::1", "2001:db8::1/128", False),
        ("2001:db8::1/64", "2001:db8::/64", True),
        (" 10.0.0.0/8 ", "10.0.0.0/8", False),
    ],
)
def test_parse_cidr(text: str, network: str, normalised: bool) -> None:
    cidr = p.parse_cidr(text)
    assert cidr.network == network
    assert cidr.normalised is normalised


@pytest.mark.parametrize("text", ["", "garbage", "300.1.1.1", "1.2.3.4/33", "2001:db8::/129", "1.2.3"])
def test_parse_cidr_rejects_garbage(text: str) -> None:
    with pytest.raises(p.PolicyError, match="not an IP address or CIDR"):
        p.parse_cidr(text)


def test_decode_undoes_aws_escaping() -> None:
    policy = p.expand_resources(p.build_deny(["192.0.2.0/24"]), "us-east-1", "123456789012", "abc123defg")
    stored = p.escape_for_storage(policy)
    assert '\\"' in stored and "192.0.2.0\\/24" in stored  # what GetRestApi really returns
    assert p.decode_stored(stored) == policy
    assert p.decode_stored(json.dumps(policy)) == policy  # plain JSON too
    assert p.decode_stored(json.dumps(json.dumps(policy))) == policy  # and one layer more
    assert p.decode_stored(None) is None and p.decode_stored("") is None
    with pytest.raises(p.PolicyError):
        p.decode_stored("{not json")


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ({"Version": "2012-10-17"}, "at least one Statement"),
        ({"Statement": [{"Effect": "Maybe", "Principal": "*", "Action": "x", "Resource": "y"}]}, "Effect"),
        ({"Statement": [{"Effect": "Allow", "Action": "x", "Resource": "y"}]}, "Principal"),
        ({"Statement": [{"Effect": "Allow", "Principal": "*", "Resource": "y"}]}, "Action"),
        ({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "x"}]}, "Resource"),
        (
            {"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "x", "Resource": "y",
                            "Condition": {"IpAddress": {"aws:SourceIp": ["nope"]}}}]},
            "not an IP address",
        ),
        (
            {"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "x", "Resource": "y",
                            "Condition": {"IpAdress": {"aws:SourceIp": ["1.2.3.4"]}}}]},
            "unknown condition operator",
        ),
        (p.build_deny([f"10.{i // 256}.{i % 256}.0/24" for i in range(600)]), "at most 8192"),
    ],
)
def test_validate_rejects(policy: dict, message: str) -> None:
    with pytest.raises(p.PolicyError, match=message):
        p.validate(policy)


def test_describe_in_words() -> None:
    policy, _ = p.block(None, ["203.0.113.7/32"])
    lines = p.describe(policy)
    assert lines[0] == "denies everyone from 203.0.113.7/32 [PetgateDenyIps]"
    assert lines[1] == "allows everyone [PetgateAllowInvoke]"
    assert p.describe(None) == ["no resource policy: everyone may invoke the API"]
    deny_only = {"Statement": [policy["Statement"][0]]}
    assert p.describe(deny_only)[-1] == "no statement allows anything: every request is refused"


# --- evaluation --------------------------------------------------------------------------

PREFIX = "arn:aws:execute-api:us-east-1:123456789012:abc123defg"


def req(ip: str = "203.0.113.7", method: str = "GET", path: str = "/", **keys: str) -> p.Request:
    arn = p.request_arn("us-east-1", "123456789012", "abc123defg", "test", method, path)
    return p.Request(source_ip=ip, resource_arn=arn, keys={k.replace("_", ":", 1): v for k, v in keys.items()})


def statement(effect: str, resource: str = "execute-api:/*", condition: dict | None = None, **extra: object) -> dict:
    s = {"Effect": effect, "Principal": "*", "Action": "execute-api:Invoke", "Resource": resource}
    if condition:
        s["Condition"] = condition
    s.update(extra)
    return s


ALLOW_ALL = statement("Allow")


def deny_ip(*cidrs: str) -> dict:
    return statement("Deny", condition={"IpAddress": {"aws:SourceIp": list(cidrs)}})


EVALUATION_TABLE = [
    # (name, statements or None, request, allowed, reason)
    ("no policy allows", None, req(), True, "no-policy"),
    ("allow all", [ALLOW_ALL], req(), True, "allowed"),
    ("deny-list hit", [deny_ip("203.0.113.0/24"), ALLOW_ALL], req(), False, "explicit-deny"),
    ("deny-list miss", [deny_ip("198.51.100.0/24"), ALLOW_ALL], req(), True, "allowed"),
    ("deny only refuses everyone", [deny_ip("198.51.100.0/24")], req(), False, "implicit-deny"),
    ("order does not matter", [ALLOW_ALL, deny_ip("203.0.113.7/32")], req(), False, "explicit-deny"),
    ("ipv6 deny hit", [deny_ip("2001:db8::/32"), ALLOW_ALL], req("2001:db8::5"), False, "explicit-deny"),
    ("ipv6 rule, ipv4 caller", [deny_ip("2001:db8::/32"), ALLOW_ALL], req("203.0.113.7"), True, "allowed"),
    ("allow-list NotIpAddress in", [ALLOW_ALL, statement("Deny", condition={"NotIpAddress": {"aws:SourceIp": ["203.0.113.0/24"]}})], req(), True, "allowed"),
    ("allow-list NotIpAddress out", [ALLOW_ALL, statement("Deny", condition={"NotIpAddress": {"aws:SourceIp": ["198.51.100.0/24"]}})], req(), False, "explicit-deny"),
    ("resource wildcard matches method", [statement("Allow", "execute-api:/test/GET/*")], req(path="/pets"), True, "allowed"),
    ("resource wildcard other method", [statement("Allow", "execute-api:/test/GET/*")], req(method="POST", path="/pets"), False, "implicit-deny"),
    ("resource ? wildcard", [statement("Allow", "execute-api:/test/GET/pets/?")], req(path="/pets/1"), True, "allowed"),
    ("resource ? is one char", [statement("Allow", "execute-api:/test/GET/pets/?")], req(path="/pets/12"), False, "implicit-deny"),
    ("full ARN resource", [statement("Allow", PREFIX + "/*/*/*")], req(path="/pets"), True, "allowed"),
    ("other API's ARN", [statement("Allow", "arn:aws:execute-api:us-east-1:123456789012:other/*")], req(), False, "implicit-deny"),
    ("NotResource", [ALLOW_ALL, statement("Deny", NotResource=["execute-api:/test/GET/"]) | {"Resource": None}], req(path="/pets"), False, "explicit-deny"),
    ("account principal does not match anonymous", [statement("Allow", Principal={"AWS": "arn:aws:iam::111122223333:root"})], req(), False, "implicit-deny"),
    ("AWS * principal matches", [statement("Allow", Principal={"AWS": "*"})], req(), True, "allowed"),
    ("execute-api:* action", [statement("Allow", Action="execute-api:*")], req(), True, "allowed"),
    ("* action", [statement("Allow", Action="*")], req(), True, "allowed"),
    ("other action", [statement("Allow", Action="execute-api:ManageConnections")], req(), False, "implicit-deny"),
    ("StringEquals vpc absent", [ALLOW_ALL, statement("Deny", condition={"StringNotEquals": {"aws:SourceVpc": "vpc-1"}})], req(), False, "explicit-deny"),
    ("StringEquals vpc present equal", [ALLOW_ALL, statement("Deny", condition={"StringNotEquals": {"aws:SourceVpc": "vpc-1"}})], req(aws_SourceVpc="vpc-1"), True, "allowed"),
    ("StringEquals absent key no match", [statement("Allow", condition={"StringEquals": {"aws:SourceVpce": "vpce-1"}})], req(), False, "implicit-deny"),
    ("StringLike user agent", [ALLOW_ALL, statement("Deny", condition={"StringLike": {"aws:UserAgent": "curl/*"}})], req(aws_UserAgent="curl/8.0"), False, "explicit-deny"),
    ("StringNotLike user agent", [ALLOW_ALL, statement("Deny", condition={"StringNotLike": {"aws:UserAgent": "curl/*"}})], req(aws_UserAgent="curl/8.0"), True, "allowed"),
    ("StringEquals referer", [statement("Allow", condition={"StringEquals": {"aws:Referer": "https://a.example"}})], req(aws_Referer="https://a.example"), True, "allowed"),
    ("Bool secure transport", [statement("Allow", condition={"Bool": {"aws:SecureTransport": "true"}})], req(aws_SecureTransport="true"), True, "allowed"),
    ("IfExists absent key matches", [statement("Allow", condition={"StringEqualsIfExists": {"aws:Referer": "x"}})], req(), True, "allowed"),
    ("IfExists present key compared", [statement("Allow", condition={"StringEqualsIfExists": {"aws:Referer": "x"}})], req(aws_Referer="y"), False, "implicit-deny"),
    ("keys ANDed", [statement("Allow", condition={"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}, "StringEquals": {"aws:Referer": "x"}})], req(aws_Referer="y"), False, "implicit-deny"),
    ("values ORed", [statement("Allow", condition={"IpAddress": {"aws:SourceIp": ["198.51.100.0/24", "203.0.113.0/24"]}})], req(), True, "allowed"),
    ("condition key case-insensitive", [statement("Allow", condition={"IpAddress": {"AWS:SOURCEIP": "203.0.113.7/32"}})], req(), True, "allowed"),
]


@pytest.mark.parametrize(("name", "stmts", "request_", "allowed", "reason"), EVALUATION_TABLE, ids=[row[0] for row in EVALUATION_TABLE])
def test_evaluate(name: str, stmts: list | None, request_: p.Request, allowed: bool, reason: str) -> None:
    policy = None
    if stmts is not None:
        cleaned = [{k: v for k, v in s.items() if v is not None} for s in stmts]
        policy = {"Version": "2012-10-17", "Statement": cleaned}
    decision = p.evaluate(policy, request_, resource_prefix=PREFIX)
    assert (decision.allowed, decision.reason) == (allowed, reason)
    if reason in ("explicit-deny", "allowed"):
        assert decision.statement is not None


def test_decision_names_the_deciding_statement() -> None:
    policy, _ = p.block(None, ["203.0.113.7/32"])
    decision = p.evaluate(policy, req(), resource_prefix=PREFIX)
    assert decision.statement is not None and decision.statement["Sid"] == p.DENY_SID
    assert decision.statement_index == 0


# --- properties ---------------------------------------------------------------------------

ipv4_networks = st.builds(
    lambda addr, prefix: str(ipaddress.ip_network(f"{ipaddress.IPv4Address(addr)}/{prefix}", strict=False)),
    st.integers(0, 2**32 - 1),
    st.integers(8, 32),
)
ipv6_networks = st.builds(
    lambda addr, prefix: str(ipaddress.ip_network(f"{ipaddress.IPv6Address(addr)}/{prefix}", strict=False)),
    st.integers(0, 2**128 - 1),
    st.integers(16, 128),
)
networks = st.lists(st.one_of(ipv4_networks, ipv6_networks), min_size=1, max_size=12, unique=True)
user_statements = st.lists(
    st.builds(
        lambda sid, effect, cidr: {
            "Sid": f"User{sid}",
            "Effect": effect,
            "Principal": "*",
            "Action": "execute-api:Invoke",
            "Resource": "execute-api:/*",
            "Condition": {"IpAddress": {"aws:SourceIp": [cidr]}},
        },
        st.integers(0, 10_000),
        st.sampled_from(["Allow", "Deny"]),
        ipv4_networks,
    ),
    max_size=4,
)


@settings(max_examples=150, deadline=None)
@given(user=user_statements, blocked=networks)
def test_unblock_after_block_restores_the_users_statements(user: list, blocked: list) -> None:
    original = {"Version": "2012-10-17", "Statement": user} if user else None
    blocked_policy, _ = p.block(original, blocked)
    restored, removed = p.unblock(blocked_policy, blocked)
    assert set(removed) == set(p.collapse(blocked))
    assert p.user_statements(restored) == user
    assert p.blocked_cidrs(restored) == []


@settings(max_examples=150, deadline=None)
@given(user=user_statements, a=networks, b=networks)
def test_block_is_idempotent_and_valid(user: list, a: list, b: list) -> None:
    original = {"Version": "2012-10-17", "Statement": user} if user else None
    once, _ = p.block(original, a)
    again, added = p.block(once, a)
    assert again == once and added == []
    both, _ = p.block(once, b)
    p.validate(both)
    assert p.blocked_cidrs(both) == p.collapse(a + b)


@settings(max_examples=100, deadline=None)
@given(blocked=networks, lifted=networks, probe_int=st.integers(0, 2**32 - 1))
def test_unblock_lifts_exactly_the_given_addresses(blocked: list, lifted: list, probe_int: int) -> None:
    policy, _ = p.block(None, blocked)
    result, _ = p.unblock(policy, lifted)
    address = ipaddress.IPv4Address(probe_int)
    inside = lambda cidrs: any(address in ipaddress.ip_network(c) for c in cidrs if ipaddress.ip_network(c).version == 4)  # noqa: E731
    expected_denied = inside(blocked) and not inside(lifted)
    assert p.evaluate(result, req(str(address)), resource_prefix=PREFIX).allowed is not expected_denied


@settings(max_examples=100, deadline=None)
@given(blocked=networks, probe_int=st.integers(0, 2**32 - 1))
def test_evaluation_of_the_deny_list_matches_ipaddress(blocked: list, probe_int: int) -> None:
    policy, _ = p.block(None, blocked)
    address = str(ipaddress.IPv4Address(probe_int))
    expected_denied = any(ipaddress.ip_address(address) in ipaddress.ip_network(c) for c in blocked)
    decision = p.evaluate(policy, req(address), resource_prefix=PREFIX)
    assert decision.allowed is not expected_denied


def scattered(count: int, seed: int) -> list[str]:
    """`count` /32s that never collapse into each other (even addresses, none adjacent)."""
    rng = random.Random(seed)
    return [f"{ipaddress.IPv4Address(0x0A000000 + 2 * n)}/32" for n in rng.sample(range(2**22), count)]


# 8,192 characters hold about 430 of these /32s: these counts straddle the limit, so both the
# refusal and the acceptance are reached in most runs (about half the examples each)
@settings(max_examples=60, deadline=None)
@given(count=st.integers(390, 480), seed=st.integers(0, 2**32 - 1))
def test_an_over_size_policy_never_passes_validation_silently(count: int, seed: int) -> None:
    many = scattered(count, seed)
    policy, _ = p.block(None, many)
    too_big = len(p.encode(policy)) > p.MAX_POLICY_CHARS
    if too_big:
        with pytest.raises(p.PolicyError, match="at most 8192"):
            p.validate(policy)
        fit = p.how_many_fit(None, many)
        assert len(p.encode(p.block(None, many[:fit])[0])) <= p.MAX_POLICY_CHARS
    else:
        p.validate(policy)


# --- IPv4-mapped IPv6 input (issue 16) -------------------------------------------------------


@pytest.mark.parametrize(("text", "network", "note"), [
    ("::ffff:127.0.0.61", "127.0.0.61/32", "is an IPv4-mapped IPv6 address"),
    ("::ffff:7f00:3d", "127.0.0.61/32", "is an IPv4-mapped IPv6 address"),
    ("::FFFF:127.0.0.61/128", "127.0.0.61/32", "is an IPv4-mapped IPv6 address"),
    ("::ffff:192.0.2.0/120", "192.0.2.0/24", "is an IPv4-mapped IPv6 address"),
    ("::ffff:192.0.2.77/120", "192.0.2.0/24", "is an IPv4-mapped IPv6 address with host bits set"),
    ("::ffff:0:0/96", "0.0.0.0/0", "is an IPv4-mapped IPv6 address"),
    # not mapped: as before
    ("192.0.2.77/24", "192.0.2.0/24", "has host bits set"),
    ("203.0.113.7", "203.0.113.7/32", None),
    ("2001:db8::1", "2001:db8::1/128", None),
    ("::127.0.0.61", "::7f00:3d/128", None),  # IPv4-compatible (deprecated), not mapped
    ("64:ff9b::192.0.2.1", "64:ff9b::c000:201/128", None),  # NAT64 is IPv6
])
def test_parse_cidr_of_ipv4_mapped_addresses_gives_the_ipv4_one(text: str, network: str, note: str | None) -> None:
    cidr = p.parse_cidr(text)
    assert cidr.network == network
    assert cidr.note == note
    assert cidr.mapped is (note is not None and "mapped" in note)


@pytest.mark.parametrize("text", ["::ffff:127.0.0.61/95", "::ffff:127.0.0.0/80", "::ffff:0:0/64"])
def test_an_ipv4_mapped_prefix_shorter_than_96_is_refused(text: str) -> None:
    with pytest.raises(p.MappedPrefixError, match=f"{text} is an IPv4-mapped address .* with a prefix shorter than /96"):
        p.parse_cidr(text)
    assert issubclass(p.MappedPrefixError, p.PolicyError), "callers that catch PolicyError refuse it too"


def test_unmapped_networks_and_addresses() -> None:
    net = ipaddress.ip_network
    assert p.unmapped(net("::ffff:c000:200/120")) == net("192.0.2.0/24")
    assert p.unmapped(net("::ffff:0:0/96")) == net("0.0.0.0/0")
    for other in ("::/0", "::fffe:0:0/95", "2001:db8::/32", "192.0.2.0/24", "::1/128"):
        assert p.unmapped(net(other)) == net(other)
    assert p.unmapped_address(ipaddress.ip_address("::ffff:192.0.2.1")) == ipaddress.ip_address("192.0.2.1")
    assert p.unmapped_address(ipaddress.ip_address("2001:db8::1")) == ipaddress.ip_address("2001:db8::1")


def test_a_deny_list_holds_a_mapped_cidr_as_its_ipv4_network() -> None:
    policy, added = p.block(None, ["::ffff:192.0.2.1/128", "192.0.2.1/32"])
    assert p.blocked_cidrs(policy) == ["192.0.2.1/32"]
    # a policy an older petgate wrote with the mapped form is read, and unblocked, as IPv4
    old = p.build_deny(["::ffff:c000:201/128", "198.51.100.0/24"])
    assert p.blocked_cidrs(old) == ["192.0.2.1/32", "198.51.100.0/24"]
    assert p.still_blocking(old, "192.0.2.1/32") == ["192.0.2.1/32"]
    lifted, removed = p.unblock(old, ["192.0.2.1/32"])
    assert removed == ["192.0.2.1/32"] and p.blocked_cidrs(lifted) == ["198.51.100.0/24"]


# --- `added`: what is newly blocked, each range once (issue 16) ------------------------------


@pytest.mark.parametrize(("blocking", "added"), [
    (["10.0.0.0/24", "10.0.0.5/32"], ["10.0.0.0/24"]),
    (["10.0.0.5/32", "10.0.0.0/24"], ["10.0.0.0/24"]),
    (["10.0.0.5/32", "10.0.0.0/25", "10.0.0.0/24", "10.0.0.200/32"], ["10.0.0.0/24"]),
    (["10.0.0.0/25", "10.0.0.128/25"], ["10.0.0.0/25", "10.0.0.128/25"]),  # adjacent: both new
    (["10.0.0.0/24", "2001:db8::/32", "2001:db8::1/128", "10.0.1.1/32"], ["10.0.0.0/24", "2001:db8::/32", "10.0.1.1/32"]),
    (["10.0.0.0/8", "10.0.0.0/16", "11.0.0.0/16"], ["10.0.0.0/8", "11.0.0.0/16"]),
])
def test_added_lists_only_what_is_newly_blocked(blocking: list[str], added: list[str]) -> None:
    policy, reported = p.block(None, blocking)
    assert reported == added
    assert p.blocked_cidrs(policy) == p.collapse(blocking)
    again, reported = p.block(policy, [*blocking, "192.0.2.0/24", "192.0.2.9/32"])
    assert reported == ["192.0.2.0/24"], "what was blocked already is not added either"


@settings(max_examples=150, deadline=None)
@given(blocked=networks, adding=networks)
def test_added_is_the_outermost_of_what_was_not_blocked(blocked: list, adding: list) -> None:
    policy, _ = p.block(None, blocked) if blocked else (None, [])
    after, added = p.block(policy, adding)
    nets = [ipaddress.ip_network(c) for c in added]
    for i, one in enumerate(nets):  # none inside another, none blocked before
        assert not any(i != j and one.version == other.version and one.subnet_of(other) for j, other in enumerate(nets))
        assert not p.still_blocking(policy, str(one))
    # and together with what was blocked, they block exactly what the block asked for
    assert p.collapse(p.blocked_cidrs(policy) + added) == p.collapse(blocked + adding) == p.blocked_cidrs(after)
