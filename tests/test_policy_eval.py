"""petgate/policy/evaluate.py: IPv4-mapped IPv6 addresses (issue 16: a request from
::ffff:192.0.2.1 is a request from 192.0.2.1, a policy CIDR written mapped names the IPv4
addresses), and IAM's rules (issue 17 item 7) for NotPrincipal, `?` and `*` in Resource, case,
and the ForAllValues/ForAnyValue qualifiers on a missing key, as the IAM User Guide states them
(reference_policies_elements_notprincipal, _resource, _condition, condition-single-vs-multi-valued-context-keys);
and (issue 18) who a statement reaches when IAM knows the caller (accounts, :root, users, roles and
their sessions, sessions, NotPrincipal link by link, Service), the caller's condition keys, identity
policies, and principals in words (describe.py)."""

from __future__ import annotations

import fnmatch
import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from petgate import policy as p

PREFIX = "arn:aws:execute-api:us-east-1:123456789012:abc123defg"
ALLOW_ALL = {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*"}


def deny(*cidrs: str, operator: str = "IpAddress") -> p.Policy:
    statement = {**ALLOW_ALL, "Effect": "Deny", "Condition": {operator: {"aws:SourceIp": list(cidrs)}}}
    return {"Version": p.POLICY_VERSION, "Statement": [statement, ALLOW_ALL]}


def allowed(policy: p.Policy, ip: str) -> bool:
    arn = p.request_arn("us-east-1", "123456789012", "abc123defg", "test", "GET", "/")
    return p.evaluate(policy, p.Request(source_ip=ip, resource_arn=arn), resource_prefix=PREFIX).allowed


@pytest.mark.parametrize(("cidrs", "ip", "is_allowed"), [
    # a mapped request address is its IPv4 address
    (["127.0.0.61/32"], "::ffff:127.0.0.61", False),
    (["127.0.0.61/32"], "::ffff:7f00:3d", False),
    (["127.0.0.0/24"], "::ffff:127.0.0.200", False),
    (["127.0.0.61/32"], "::ffff:127.0.0.62", True),
    # a policy CIDR written mapped matches the IPv4 address...
    (["::ffff:127.0.0.61/128"], "127.0.0.61", False),
    (["::ffff:7f00:0/120"], "127.0.0.9", False),
    (["::ffff:7f00:0/120"], "127.0.1.9", True),
    # ...and the mapped request address
    (["::ffff:127.0.0.61/128"], "::ffff:127.0.0.61", False),
    # IPv6 stays IPv6: a mapped range is not IPv6 at large, ::/0 does not hold IPv4 callers
    (["::ffff:0:0/96"], "2001:db8::1", True),
    (["::/0"], "127.0.0.61", True),
    (["2001:db8::/32"], "::ffff:127.0.0.61", True),
    (["0.0.0.0/0"], "::ffff:127.0.0.61", False),
    (["0.0.0.0/0"], "2001:db8::1", True),
])
def test_ipv4_mapped_addresses_are_compared_as_ipv4(cidrs: list[str], ip: str, is_allowed: bool) -> None:
    assert allowed(deny(*cidrs), ip) is is_allowed


def test_not_ip_address_is_mapped_too() -> None:
    only_office = deny("192.0.2.0/24", operator="NotIpAddress")  # an allow-list: everyone else is denied
    assert allowed(only_office, "192.0.2.5") and allowed(only_office, "::ffff:192.0.2.5")
    assert not allowed(only_office, "198.51.100.1") and not allowed(only_office, "::ffff:198.51.100.1")
    mapped_office = deny("::ffff:192.0.2.0/120", operator="NotIpAddress")
    assert allowed(mapped_office, "192.0.2.5") and not allowed(mapped_office, "198.51.100.1")


def test_ip_set_membership() -> None:
    ips = p.IpSet([ipaddress.ip_network("192.0.2.0/24"), ipaddress.ip_network("::ffff:198.51.100.0/120")])
    assert "192.0.2.1" in ips and "::ffff:192.0.2.1" in ips
    assert "::ffff:198.51.100.1" in ips, "a mapped network in an IpSet still holds the mapped address"
    assert "198.51.100.1" not in ips, "IpSet itself keeps its networks as given; policies unmap them first"
    assert "not an address" not in ips and "2001:db8::1" not in ips


@settings(max_examples=200, deadline=None)
@given(address=st.integers(0, 2**32 - 1), prefix=st.integers(8, 32), probe=st.integers(0, 2**32 - 1),
       mapped_rule=st.booleans(), mapped_request=st.booleans())
def test_mapped_or_not_the_decision_is_the_ipv4_one(address: int, prefix: int, probe: int, mapped_rule: bool,
                                                    mapped_request: bool) -> None:
    network = ipaddress.ip_network(f"{ipaddress.IPv4Address(address)}/{prefix}", strict=False)
    rule = f"::ffff:{network.network_address}/{96 + prefix}" if mapped_rule else str(network)
    caller = ipaddress.IPv4Address(probe)
    ip = f"::ffff:{caller}" if mapped_request else str(caller)
    assert allowed(deny(rule), ip) is (caller not in network)


# --- IAM's rules, row by row --------------------------------------------------------------------

ACCOUNT = "123456789012"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"


def req(ip: str = "203.0.113.7", method: str = "GET", path: str = "/", action: str = "execute-api:Invoke",
        **keys: str) -> p.Request:
    arn = p.request_arn("us-east-1", ACCOUNT, "abc123defg", "test", method, path)
    return p.Request(source_ip=ip, resource_arn=arn, action=action,
                     keys={k.replace("_", ":", 1): v for k, v in keys.items()})


def stmt(effect: str, resource: str = "execute-api:/*", condition: p.Statement | None = None, **extra: object) -> p.Statement:
    s: p.Statement = {"Effect": effect, "Principal": "*", "Action": "execute-api:Invoke", "Resource": resource}
    if condition:
        s["Condition"] = condition
    s.update(extra)
    return {k: v for k, v in s.items() if v is not None}


def allow_at(resource: str) -> list[p.Statement]:
    return [stmt("Allow", resource)]


IAM_TABLE = [
    # (name, statements, request, allowed, reason)
    # NotPrincipal: the statement applies to every principal it does not name; an anonymous caller
    # is named only by "*", so an account's root leaves it in
    ("Deny NotPrincipal account denies anonymous", [ALLOW_ALL, stmt("Deny", Principal=None, NotPrincipal={"AWS": ROOT})], req(), False, "explicit-deny"),
    ("Deny NotPrincipal account list denies anonymous", [ALLOW_ALL, stmt("Deny", Principal=None, NotPrincipal={"AWS": [ROOT, "arn:aws:iam::111122223333:root"]})], req(), False, "explicit-deny"),
    ("Deny NotPrincipal account with an IP condition: other address", [ALLOW_ALL, stmt("Deny", Principal=None, NotPrincipal={"AWS": ROOT}, condition={"IpAddress": {"aws:SourceIp": "198.51.100.0/24"}})], req(), True, "allowed"),
    ("Deny NotPrincipal account with an IP condition: that address", [ALLOW_ALL, stmt("Deny", Principal=None, NotPrincipal={"AWS": ROOT}, condition={"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}})], req(), False, "explicit-deny"),
    ("Deny NotPrincipal AWS * names everyone: applies to no one", [ALLOW_ALL, stmt("Deny", Principal=None, NotPrincipal={"AWS": "*"})], req(), True, "allowed"),
    ("Allow NotPrincipal account allows anonymous", [stmt("Allow", Principal=None, NotPrincipal={"AWS": ROOT})], req(), True, "allowed"),
    ("Allow NotPrincipal account, a Deny still wins", [stmt("Allow", Principal=None, NotPrincipal={"AWS": ROOT}), stmt("Deny")], req(), False, "explicit-deny"),
    ("Allow NotPrincipal * allows no one", [stmt("Allow", Principal=None, NotPrincipal="*")], req(), False, "implicit-deny"),
    ("Allow Principal account, not anonymous", [stmt("Allow", Principal={"AWS": [ROOT]})], req(), False, "implicit-deny"),
    ("Allow Principal list holding *", [stmt("Allow", Principal={"AWS": [ROOT, "*"]})], req(), True, "allowed"),
    # ? is exactly one character, / included
    ("? one character", allow_at("execute-api:/test/GET/pets/?"), req(path="/pets/7"), True, "allowed"),
    ("? not none", allow_at("execute-api:/test/GET/pets/?"), req(path="/pets/"), False, "implicit-deny"),
    ("? not two", allow_at("execute-api:/test/GET/pets/?"), req(path="/pets/12"), False, "implicit-deny"),
    ("?? two", allow_at("execute-api:/test/GET/pets/??"), req(path="/pets/12"), True, "allowed"),
    ("? stands for a slash too", allow_at("execute-api:/test/GET/pets?7"), req(path="/pets/7"), True, "allowed"),
    ("? in the stage", allow_at("execute-api:/tes?/GET/*"), req(), True, "allowed"),
    # * is any run, none and / included
    ("* matches none", allow_at("execute-api:/test/GET/pets*"), req(path="/pets"), True, "allowed"),
    ("* matches a run", allow_at("execute-api:/test/GET/pets*"), req(path="/petshop"), True, "allowed"),
    ("* runs over slashes", allow_at("execute-api:/test/GET/*"), req(path="/pets/1/toys"), True, "allowed"),
    ("* in the middle runs over slashes", allow_at("execute-api:/*/pets"), req(path="/a/b/pets"), True, "allowed"),
    ("* in the middle, the rest must follow", allow_at("execute-api:/*/pets"), req(path="/pets/1"), False, "implicit-deny"),
    ("* inside a word", allow_at("execute-api:/test/GET/pe*s"), req(path="/peas"), True, "allowed"),
    ("* inside a word, the end must match", allow_at("execute-api:/test/GET/pe*s"), req(path="/pet"), False, "implicit-deny"),
    ("*/ needs its slash", allow_at("execute-api:/test/GET/pets/*"), req(path="/pets"), False, "implicit-deny"),
    ("a dot is a dot", allow_at("execute-api:/test/GET/a.b"), req(path="/axb"), False, "implicit-deny"),
    ("brackets are literal", allow_at("execute-api:/test/GET/[ab]"), req(path="/a"), False, "implicit-deny"),
    ("Resource *", allow_at("*"), req(path="/pets/1"), True, "allowed"),
    # the wildcards work within ARN segments; a * ending a segment runs on past its colons
    ("* within the region segment", allow_at(f"arn:aws:execute-api:us-*-1:{ACCOUNT}:abc123defg/*"), req(), True, "allowed"),
    ("* within the region segment, other region", allow_at(f"arn:aws:execute-api:eu-*-1:{ACCOUNT}:abc123defg/*"), req(), False, "implicit-deny"),
    ("* ending the account segment", allow_at("arn:aws:execute-api:us-east-1:*:abc123defg/*"), req(), True, "allowed"),
    ("* ending a segment runs past colons", allow_at("arn:aws:execute-api:*"), req(path="/pets"), True, "allowed"),
    ("* inside a segment stops at a colon", allow_at(f"arn:aws:execute-api:us-east-1:{ACCOUNT}:abc123defg/test/GET/a*b"), req(path="/a:b"), False, "implicit-deny"),
    ("* inside a segment, no colon", allow_at(f"arn:aws:execute-api:us-east-1:{ACCOUNT}:abc123defg/test/GET/a*b"), req(path="/a/b"), True, "allowed"),
    ("? is not a colon", allow_at("execute-api:/test/GET/a?b"), req(path="/a:b"), False, "implicit-deny"),
    ("* ending the path segment takes a colon", allow_at("execute-api:/test/GET/a*"), req(path="/a:b"), True, "allowed"),
    ("a Deny * inside a segment stops at a colon", [ALLOW_ALL, stmt("Deny", "execute-api:/test/GET/a*b")], req(path="/a:b"), True, "allowed"),
    # case: actions and condition key names are case-insensitive; ARNs and values are not
    ("action lower case", [stmt("Allow", Action="execute-api:invoke")], req(), True, "allowed"),
    ("action upper case", [stmt("Allow", Action="EXECUTE-API:INVOKE")], req(), True, "allowed"),
    ("action wildcard mixed case", [stmt("Allow", Action="Execute-Api:*")], req(), True, "allowed"),
    ("action list, one matches", [stmt("Allow", Action=["execute-api:ManageConnections", "execute-api:invoke"])], req(), True, "allowed"),
    ("request action in another case", [stmt("Allow")], req(action="EXECUTE-API:invoke"), True, "allowed"),
    ("NotAction lower case leaves Invoke out", [ALLOW_ALL, stmt("Deny", Action=None, NotAction="execute-api:invoke")], req(), True, "allowed"),
    ("NotAction other action denies Invoke", [ALLOW_ALL, stmt("Deny", Action=None, NotAction="execute-api:ManageConnections")], req(), False, "explicit-deny"),
    ("resource stage case-sensitive", allow_at("execute-api:/TEST/GET/*"), req(), False, "implicit-deny"),
    ("resource method case-sensitive", allow_at("execute-api:/test/get/*"), req(), False, "implicit-deny"),
    ("resource path case-sensitive", allow_at("execute-api:/test/GET/Pets"), req(path="/pets"), False, "implicit-deny"),
    ("resource API id case-sensitive", allow_at(f"arn:aws:execute-api:us-east-1:{ACCOUNT}:ABC123DEFG/*"), req(), False, "implicit-deny"),
    ("Deny resource case-sensitive", [ALLOW_ALL, stmt("Deny", "execute-api:/test/GET/Pets")], req(path="/pets"), True, "allowed"),
    ("NotResource case-sensitive", [ALLOW_ALL, stmt("Deny", Resource=None, NotResource="execute-api:/test/GET/Pets")], req(path="/pets"), False, "explicit-deny"),
    ("condition key lower case in the policy", [ALLOW_ALL, stmt("Deny", condition={"StringLike": {"aws:useragent": "curl/*"}})], req(aws_UserAgent="curl/8.0"), False, "explicit-deny"),
    ("condition key upper case in the request", [ALLOW_ALL, stmt("Deny", condition={"StringLike": {"aws:UserAgent": "curl/*"}})], req(AWS_USERAGENT="curl/8.0"), False, "explicit-deny"),
    ("condition key case, source IP", [stmt("Allow", condition={"NotIpAddress": {"Aws:SourceIP": "198.51.100.0/24"}})], req(), True, "allowed"),
    ("StringEquals value case-sensitive", [stmt("Allow", condition={"StringEquals": {"aws:Referer": "https://A.example"}})], req(aws_Referer="https://a.example"), False, "implicit-deny"),
    ("StringEqualsIgnoreCase value", [stmt("Allow", condition={"StringEqualsIgnoreCase": {"aws:Referer": "https://A.example"}})], req(aws_Referer="https://a.example"), True, "allowed"),
    ("StringNotEqualsIgnoreCase value", [ALLOW_ALL, stmt("Deny", condition={"StringNotEqualsIgnoreCase": {"aws:SourceVpc": "VPC-1"}})], req(aws_SourceVpc="vpc-1"), True, "allowed"),
    ("StringLike value case-sensitive", [ALLOW_ALL, stmt("Deny", condition={"StringLike": {"aws:UserAgent": "curl/*"}})], req(aws_UserAgent="Curl/8.0"), True, "allowed"),
    ("StringLike ? is one character", [ALLOW_ALL, stmt("Deny", condition={"StringLike": {"aws:UserAgent": "curl/?"}})], req(aws_UserAgent="curl/80"), True, "allowed"),
    # a missing key: negated operators and IfExists hold; ForAllValues holds, ForAnyValue fails
    ("StringNotLike absent key holds", [ALLOW_ALL, stmt("Deny", condition={"StringNotLike": {"aws:UserAgent": "curl/*"}})], req(), False, "explicit-deny"),
    ("Null true on an absent key", [stmt("Allow", condition={"Null": {"aws:SourceVpce": "true"}})], req(), True, "allowed"),
    ("Null false on an absent key", [stmt("Allow", condition={"Null": {"aws:SourceVpce": "false"}})], req(), False, "implicit-deny"),
    ("ForAllValues absent key holds", [stmt("Allow", condition={"ForAllValues:StringEquals": {"aws:SourceVpce": "vpce-1"}})], req(), True, "allowed"),
    ("ForAllValues present key compared", [stmt("Allow", condition={"ForAllValues:StringEquals": {"aws:SourceVpce": "vpce-1"}})], req(aws_SourceVpce="vpce-2"), False, "implicit-deny"),
    ("ForAllValues present key equal", [stmt("Allow", condition={"ForAllValues:StringEquals": {"aws:SourceVpce": "vpce-1"}})], req(aws_SourceVpce="vpce-1"), True, "allowed"),
    ("ForAnyValue absent key fails", [stmt("Allow", condition={"ForAnyValue:StringEquals": {"aws:SourceVpce": "vpce-1"}})], req(), False, "implicit-deny"),
    ("ForAnyValue negated absent key fails", [ALLOW_ALL, stmt("Deny", condition={"ForAnyValue:StringNotEquals": {"aws:SourceVpc": "vpc-1"}})], req(), True, "allowed"),
    ("ForAnyValue present key compared", [ALLOW_ALL, stmt("Deny", condition={"ForAnyValue:StringNotEquals": {"aws:SourceVpc": "vpc-1"}})], req(aws_SourceVpc="vpc-2"), False, "explicit-deny"),
]


@pytest.mark.parametrize(("name", "stmts", "request_", "allowed", "reason"), IAM_TABLE, ids=[row[0] for row in IAM_TABLE])
def test_iam_rules(name: str, stmts: list[p.Statement], request_: p.Request, allowed: bool, reason: str) -> None:
    policy = {"Version": p.POLICY_VERSION, "Statement": stmts}
    decision = p.evaluate(policy, request_, resource_prefix=PREFIX)
    assert (decision.allowed, decision.reason) == (allowed, reason)
    if reason != "implicit-deny":
        assert decision.statement is not None and decision.statement in stmts
        assert decision.statement_index == stmts.index(decision.statement)


@pytest.mark.parametrize("stmts", [row[1] for row in IAM_TABLE], ids=[row[0] for row in IAM_TABLE])
def test_the_table_policies_are_ones_petgate_accepts(stmts: list[p.Statement]) -> None:
    p.validate({"Version": p.POLICY_VERSION, "Statement": stmts})


def test_compiled_once_evaluated_many_times_agrees() -> None:
    for _name, stmts, request_, allowed, reason in IAM_TABLE:
        compiled = p.compile_policy({"Version": p.POLICY_VERSION, "Statement": stmts}, resource_prefix=PREFIX)
        for _ in range(2):
            decision = compiled.evaluate(request_)
            assert (decision.allowed, decision.reason) == (allowed, reason)


@settings(max_examples=200, deadline=None)
@given(segment=st.text(alphabet="ab/", max_size=6), pattern=st.text(alphabet="ab/*?", max_size=6))
def test_resource_wildcards_match_fnmatch_within_a_segment(segment: str, pattern: str) -> None:
    """Within one segment (no colon) `*` and `?` are fnmatch's, with `/` an ordinary character."""
    policy = {"Version": p.POLICY_VERSION, "Statement": allow_at("execute-api:/test/GET/" + pattern)}
    request_ = p.Request(source_ip="203.0.113.7", resource_arn=f"{PREFIX}/test/GET/{segment}")
    assert p.evaluate(policy, request_, resource_prefix=PREFIX).allowed is fnmatch.fnmatchcase(segment, pattern)


# --- principals: who a statement reaches (issue 18) ---------------------------------------------------
# IAM User Guide, "Principal" and "NotPrincipal": an account (id or :root) names every IAM principal
# of that account, a role ARN its assumed-role sessions, a user or session ARN itself; "*" and
# {"AWS": "*"} everyone, the anonymous caller included. A Deny NotPrincipal leaves out only a caller
# whose every link it names (account, role, session or user); an Allow NotPrincipal reaches only
# callers it names by no link.

A = "111122223333"
B = "444455556666"
ALICE = p.Caller(arn=f"arn:aws:iam::{A}:user/alice", user_id="AIDAALICEEXAMPLE")
CAROL = p.Caller(arn=f"arn:aws:iam::{A}:user/carol")
BOB = p.Caller(arn=f"arn:aws:iam::{A}:user/division/bob", user_id="AIDABOBEXAMPLE")
ALICE_IN_B = p.Caller(arn=f"arn:aws:iam::{B}:user/alice")
READER = f"arn:aws:iam::{A}:role/reader"
SESSION = p.Caller(arn=f"arn:aws:sts::{A}:assumed-role/reader/s1", user_id="AROAREADEREXAMPLE:s1")
SESSION_2 = p.Caller(arn=f"arn:aws:sts::{A}:assumed-role/reader/s2", user_id="AROAREADEREXAMPLE:s2")
READER_IN_B = p.Caller(arn=f"arn:aws:sts::{B}:assumed-role/reader/s1")
A_ROOT = p.Caller(arn=f"arn:aws:iam::{A}:root")
ANON = p.ANONYMOUS
ROOT_A = f"arn:aws:iam::{A}:root"


def by(caller: p.Caller, **keys: str) -> p.Request:
    return p.Request(source_ip="203.0.113.7", resource_arn=p.request_arn("us-east-1", ACCOUNT, "abc123defg", "test", "GET", "/"),
                     keys={k.replace("_", ":", 1): v for k, v in keys.items()}, caller=caller)


def allow_to(principal: object) -> list[p.Statement]:
    return [stmt("Allow", Principal=principal)]


def deny_but(not_principal: object) -> list[p.Statement]:
    return [ALLOW_ALL, stmt("Deny", Principal=None, NotPrincipal=not_principal)]


def allow_but(not_principal: object) -> list[p.Statement]:
    return [stmt("Allow", Principal=None, NotPrincipal=not_principal)]


OK, IMPLICIT, EXPLICIT = (True, "allowed"), (False, "implicit-deny"), (False, "explicit-deny")

PRINCIPAL_TABLE = [
    # (name, statements, caller, (allowed, reason))
    ('"*": anonymous', allow_to("*"), ANON, OK),
    ('"*": a user', allow_to("*"), ALICE, OK),
    ('"*": a session', allow_to("*"), SESSION, OK),
    ('AWS "*": anonymous', allow_to({"AWS": "*"}), ANON, OK),
    ('AWS "*": a user of another account', allow_to({"AWS": "*"}), ALICE_IN_B, OK),
    ("account id: its user", allow_to({"AWS": A}), ALICE, OK),
    ("account id: its user with a path", allow_to({"AWS": A}), BOB, OK),
    ("account id: its session", allow_to({"AWS": A}), SESSION, OK),
    ("account id: its root user", allow_to({"AWS": A}), A_ROOT, OK),
    ("account id: not anonymous", allow_to({"AWS": A}), ANON, IMPLICIT),
    ("account id: not another account's user", allow_to({"AWS": A}), ALICE_IN_B, IMPLICIT),
    ("account id: not another account's session", allow_to({"AWS": A}), READER_IN_B, IMPLICIT),
    (":root: its user", allow_to({"AWS": ROOT_A}), ALICE, OK),
    (":root: its session", allow_to({"AWS": [ROOT_A]}), SESSION, OK),
    (":root: its root user", allow_to({"AWS": ROOT_A}), A_ROOT, OK),
    (":root: not anonymous", allow_to({"AWS": ROOT_A}), ANON, IMPLICIT),
    (":root: not another account", allow_to({"AWS": ROOT_A}), ALICE_IN_B, IMPLICIT),
    ("user ARN: that user", allow_to({"AWS": ALICE.arn}), ALICE, OK),
    ("user ARN: not another user of the account", allow_to({"AWS": ALICE.arn}), CAROL, IMPLICIT),
    ("user ARN: not the same name in another account", allow_to({"AWS": ALICE.arn}), ALICE_IN_B, IMPLICIT),
    ("user ARN: not the account's root user", allow_to({"AWS": ALICE.arn}), A_ROOT, IMPLICIT),
    ("user ARN with a path: that user", allow_to({"AWS": BOB.arn}), BOB, OK),
    ("user ARN: no wildcards in a principal", allow_to({"AWS": f"arn:aws:iam::{A}:user/*"}), ALICE, IMPLICIT),
    ("role ARN: its session", allow_to({"AWS": READER}), SESSION, OK),
    ("role ARN: its other session", allow_to({"AWS": READER}), SESSION_2, OK),
    ("role ARN: not a user", allow_to({"AWS": READER}), ALICE, IMPLICIT),
    ("role ARN: not the same role name in another account", allow_to({"AWS": READER}), READER_IN_B, IMPLICIT),
    ("role ARN: not anonymous", allow_to({"AWS": READER}), ANON, IMPLICIT),
    ("session ARN: that session", allow_to({"AWS": SESSION.arn}), SESSION, OK),
    ("session ARN: not another session of the role", allow_to({"AWS": SESSION.arn}), SESSION_2, IMPLICIT),
    ("a list: one names the caller", allow_to({"AWS": [CAROL.arn, READER]}), SESSION, OK),
    ("a list: none names the caller", allow_to({"AWS": [CAROL.arn, READER]}), ALICE, IMPLICIT),
    ("Service: not a user", allow_to({"Service": "lambda.amazonaws.com"}), ALICE, IMPLICIT),
    ("Service: not a session", allow_to({"Service": ["apigateway.amazonaws.com"]}), SESSION, IMPLICIT),
    ("Service: not anonymous", allow_to({"Service": "lambda.amazonaws.com"}), ANON, IMPLICIT),
    ("Service beside an account: the account counts", allow_to({"Service": "lambda.amazonaws.com", "AWS": A}), ALICE, OK),
    ("Federated: not a user", allow_to({"Federated": "cognito-identity.amazonaws.com"}), ALICE, IMPLICIT),
    ("a Deny of the account reaches its user", [ALLOW_ALL, stmt("Deny", Principal={"AWS": A})], ALICE, EXPLICIT),
    ("a Deny of the account misses anonymous", [ALLOW_ALL, stmt("Deny", Principal={"AWS": A})], ANON, OK),
    ("a Deny of a role reaches its session", [ALLOW_ALL, stmt("Deny", Principal={"AWS": READER})], SESSION, EXPLICIT),
    ("a Deny of a session misses the role's other session", [ALLOW_ALL, stmt("Deny", Principal={"AWS": SESSION.arn})], SESSION_2, OK),
    # Deny NotPrincipal: every link must be named
    ("Deny NotPrincipal account: its root user is left out", deny_but({"AWS": ROOT_A}), A_ROOT, OK),
    ("Deny NotPrincipal account alone: its user is still denied", deny_but({"AWS": ROOT_A}), ALICE, EXPLICIT),
    ("Deny NotPrincipal account alone: its session is still denied", deny_but({"AWS": A}), SESSION, EXPLICIT),
    ("Deny NotPrincipal account: another account denied", deny_but({"AWS": ROOT_A}), ALICE_IN_B, EXPLICIT),
    ("Deny NotPrincipal user and account: that user left out", deny_but({"AWS": [ALICE.arn, ROOT_A]}), ALICE, OK),
    ("Deny NotPrincipal user and account id: that user left out", deny_but({"AWS": [ALICE.arn, A]}), ALICE, OK),
    ("Deny NotPrincipal user and account: another user denied", deny_but({"AWS": [ALICE.arn, ROOT_A]}), CAROL, EXPLICIT),
    ("Deny NotPrincipal user alone: the account is missing", deny_but({"AWS": ALICE.arn}), ALICE, EXPLICIT),
    ("Deny NotPrincipal session, role and account: the session left out", deny_but({"AWS": [SESSION.arn, READER, ROOT_A]}), SESSION, OK),
    ("Deny NotPrincipal session, role and account: another session denied", deny_but({"AWS": [SESSION.arn, READER, ROOT_A]}), SESSION_2, EXPLICIT),
    ("Deny NotPrincipal role and account: a session is never named by its role", deny_but({"AWS": [READER, ROOT_A]}), SESSION, EXPLICIT),
    ("Deny NotPrincipal session and account: the role is missing", deny_but({"AWS": [SESSION.arn, ROOT_A]}), SESSION, EXPLICIT),
    ("Deny NotPrincipal session and role: the account is missing", deny_but({"AWS": [SESSION.arn, READER]}), SESSION, EXPLICIT),
    ("Deny NotPrincipal *: no one denied", deny_but("*"), ALICE, OK),
    ("Deny NotPrincipal AWS *: no one denied", deny_but({"AWS": "*"}), SESSION, OK),
    ("Deny NotPrincipal Service: a user denied", deny_but({"Service": "lambda.amazonaws.com"}), ALICE, EXPLICIT),
    # Allow NotPrincipal: reaches only callers named by no link
    ("Allow NotPrincipal account: anonymous allowed", allow_but({"AWS": ROOT_A}), ANON, OK),
    ("Allow NotPrincipal account: its user not allowed", allow_but({"AWS": ROOT_A}), ALICE, IMPLICIT),
    ("Allow NotPrincipal account: another account's user allowed", allow_but({"AWS": ROOT_A}), ALICE_IN_B, OK),
    ("Allow NotPrincipal user: that user not allowed", allow_but({"AWS": ALICE.arn}), ALICE, IMPLICIT),
    ("Allow NotPrincipal user: another user allowed", allow_but({"AWS": ALICE.arn}), CAROL, OK),
    ("Allow NotPrincipal role: its session not allowed", allow_but({"AWS": READER}), SESSION, IMPLICIT),
    ("Allow NotPrincipal *: no one allowed", allow_but("*"), ALICE, IMPLICIT),
]


@pytest.mark.parametrize(("name", "stmts", "request_", "expected"),
                         [(n, s, by(c), e) for n, s, c, e in PRINCIPAL_TABLE], ids=[row[0] for row in PRINCIPAL_TABLE])
def test_principals(name: str, stmts: list[p.Statement], request_: p.Request, expected: tuple[bool, str]) -> None:
    policy = {"Version": p.POLICY_VERSION, "Statement": stmts}
    decision = p.evaluate(policy, request_, resource_prefix=PREFIX)
    assert (decision.allowed, decision.reason) == expected
    compiled = p.compile_policy(policy, resource_prefix=PREFIX)
    assert compiled.evaluate(request_) == compiled.evaluate(request_) == decision, "compiled once, evaluated again"


@pytest.mark.parametrize("stmts", [row[1] for row in PRINCIPAL_TABLE], ids=[row[0] for row in PRINCIPAL_TABLE])
def test_the_principal_table_policies_are_ones_petgate_accepts(stmts: list[p.Statement]) -> None:
    p.validate({"Version": p.POLICY_VERSION, "Statement": stmts})


@pytest.mark.parametrize(("name", "stmts", "request_", "allowed", "reason"), IAM_TABLE, ids=[row[0] for row in IAM_TABLE])
def test_the_anonymous_caller_is_the_default(name: str, stmts: list[p.Statement], request_: p.Request, allowed: bool, reason: str) -> None:
    assert request_.caller == p.ANONYMOUS and request_.caller.anonymous
    explicit = p.Request(request_.source_ip, request_.resource_arn, request_.action, request_.keys, caller=p.Caller())
    decision = p.evaluate({"Version": p.POLICY_VERSION, "Statement": stmts}, explicit, resource_prefix=PREFIX)
    assert (decision.allowed, decision.reason) == (allowed, reason)


# --- the caller's condition keys ------------------------------------------------------------------------


def when(operator: str, key: str, value: object) -> list[p.Statement]:
    return [stmt("Allow", condition={operator: {key: value}})]


CALLER_KEYS = [
    # (name, statements, caller, (allowed, reason))
    ("PrincipalAccount of a user", when("StringEquals", "aws:PrincipalAccount", A), ALICE, OK),
    ("PrincipalAccount of a session", when("StringEquals", "aws:PrincipalAccount", A), SESSION, OK),
    ("PrincipalAccount of another account", when("StringEquals", "aws:PrincipalAccount", A), ALICE_IN_B, IMPLICIT),
    ("PrincipalAccount absent for anonymous", when("StringEquals", "aws:PrincipalAccount", A), ANON, IMPLICIT),
    ("PrincipalAccount absent for anonymous: Null true", when("Null", "aws:PrincipalAccount", "true"), ANON, OK),
    ("PrincipalAccount present for a user: Null false", when("Null", "aws:PrincipalAccount", "false"), ALICE, OK),
    ("PrincipalAccount key name in any case", when("StringEquals", "AWS:principalACCOUNT", A), ALICE, OK),
    ("PrincipalArn of a user is its ARN", when("StringEquals", "aws:PrincipalArn", ALICE.arn), ALICE, OK),
    ("PrincipalArn of a session is its role's", when("StringEquals", "aws:PrincipalArn", READER), SESSION, OK),
    ("PrincipalArn of a session is not the session's", when("StringEquals", "aws:PrincipalArn", SESSION.arn), SESSION, IMPLICIT),
    ("PrincipalArn StringLike over roles", when("StringLike", "aws:PrincipalArn", f"arn:aws:iam::{A}:role/*"), SESSION, OK),
    ("PrincipalArn StringLike over roles: not a user", when("StringLike", "aws:PrincipalArn", f"arn:aws:iam::{A}:role/*"), ALICE, IMPLICIT),
    ("PrincipalArn of the root user", when("StringEquals", "aws:PrincipalArn", ROOT_A), A_ROOT, OK),
    ("userid of a user", when("StringEquals", "aws:userid", "AIDAALICEEXAMPLE"), ALICE, OK),
    ("userid of a session", when("StringLike", "aws:userid", "AROAREADEREXAMPLE:*"), SESSION, OK),
    ("userid of the root user is the account", when("StringEquals", "aws:userid", A), A_ROOT, OK),
    ("userid absent for anonymous", when("StringLike", "aws:userid", "*"), ANON, IMPLICIT),
    ("username of a user", when("StringEquals", "aws:username", "alice"), ALICE, OK),
    ("username of a user with a path is its name", when("StringEquals", "aws:username", "bob"), BOB, OK),
    ("username absent for a session", when("Null", "aws:username", "true"), SESSION, OK),
    ("username absent for the root user", when("Null", "aws:username", "true"), A_ROOT, OK),
    ("PrincipalType User", when("StringEquals", "aws:PrincipalType", "User"), ALICE, OK),
    ("PrincipalType AssumedRole", when("StringEquals", "aws:PrincipalType", "AssumedRole"), SESSION, OK),
    ("PrincipalType Account", when("StringEquals", "aws:PrincipalType", "Account"), A_ROOT, OK),
    ("PrincipalType Anonymous", when("StringEquals", "aws:PrincipalType", "Anonymous"), ANON, OK),
    ("PrincipalType not User for a session", when("StringEquals", "aws:PrincipalType", "User"), SESSION, IMPLICIT),
    ("Deny unless the account: another account denied", [ALLOW_ALL, stmt("Deny", condition={"StringNotEquals": {"aws:PrincipalAccount": A}})], ALICE_IN_B, EXPLICIT),
    ("Deny unless the account: its user allowed", [ALLOW_ALL, stmt("Deny", condition={"StringNotEquals": {"aws:PrincipalAccount": A}})], ALICE, OK),
    ("Deny unless the account: anonymous denied (absent key)", [ALLOW_ALL, stmt("Deny", condition={"StringNotEquals": {"aws:PrincipalAccount": A}})], ANON, EXPLICIT),
]


@pytest.mark.parametrize(("name", "stmts", "request_", "expected"),
                         [(n, s, by(c), e) for n, s, c, e in CALLER_KEYS], ids=[row[0] for row in CALLER_KEYS])
def test_the_callers_condition_keys(name: str, stmts: list[p.Statement], request_: p.Request, expected: tuple[bool, str]) -> None:
    decision = p.evaluate({"Version": p.POLICY_VERSION, "Statement": stmts}, request_, resource_prefix=PREFIX)
    assert (decision.allowed, decision.reason) == expected


@pytest.mark.parametrize("key", ["aws:PrincipalAccount", "aws:PrincipalArn", "aws:userid", "aws:username", "aws:PrincipalType"])
def test_the_callers_keys_come_from_the_caller_alone(key: str) -> None:
    """A key of the request (a header, say) cannot pose as the caller's."""
    policy = {"Version": p.POLICY_VERSION, "Statement": when("StringEquals", key, "forged")}
    for caller in (ANON, ALICE, SESSION):
        assert not p.evaluate(policy, by(caller, **{key.replace(":", "_", 1): "forged"}), resource_prefix=PREFIX).allowed


@pytest.mark.parametrize(("caller", "expected"), [(ANON, "Anonymous"), (A_ROOT, "Account"), (ALICE, "User"), (SESSION, "AssumedRole"),
                                                  (p.Caller(arn=f"arn:aws:sts::{A}:federated-user/dana"), "FederatedUser")])
def test_principal_type(caller: p.Caller, expected: str) -> None:
    assert p.principal_type(caller) == expected


# --- identity policies: no principal to check -----------------------------------------------------------


def test_an_identity_policy_reaches_its_caller_whoever_it_is() -> None:
    identity: p.Policy = {"Version": p.POLICY_VERSION, "Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": f"{PREFIX}/*"}]}
    compiled = p.compile_policy(identity, identity=True)
    assert compiled.identity and not p.compile_policy(identity).identity
    for caller in (ALICE, SESSION, ALICE_IN_B, A_ROOT):
        assert compiled.evaluate(by(caller)).allowed
    assert p.evaluate(identity, by(ALICE), identity=True).reason == "allowed"
    other_api = {**identity, "Statement": [{**identity["Statement"][0], "Resource": "arn:aws:execute-api:us-east-1:123456789012:other/*"}]}
    assert p.evaluate(other_api, by(ALICE), identity=True).reason == "implicit-deny"


def test_identity_mode_ignores_a_principal_element() -> None:
    with_principal = {"Version": p.POLICY_VERSION, "Statement": [stmt("Allow", Principal={"AWS": B})]}
    assert not p.evaluate(with_principal, by(ALICE), resource_prefix=PREFIX).allowed
    assert p.evaluate(with_principal, by(ALICE), resource_prefix=PREFIX, identity=True).allowed


# --- principals in words (describe.py) ------------------------------------------------------------------

DESCRIBED = [
    # (statement's principal element, effect, words)
    ({"Principal": "*"}, "Allow", "allows everyone"),
    ({"Principal": {"AWS": "*"}}, "Allow", "allows everyone"),
    ({"Principal": {"AWS": ROOT_A}}, "Allow", f"allows account {A}"),
    ({"Principal": {"AWS": [B, ALICE.arn]}}, "Allow", f"allows account {B} and user alice of account {A}"),
    ({"Principal": {"AWS": BOB.arn}}, "Allow", f"allows user bob of account {A}"),
    ({"Principal": {"AWS": READER}}, "Allow", f"allows role reader of account {A} (its sessions)"),
    ({"Principal": {"AWS": SESSION.arn}}, "Allow", f"allows session s1 of role reader in account {A}"),
    ({"Principal": {"AWS": f"arn:aws:sts::{A}:federated-user/dana"}}, "Allow", f"allows federated user dana of account {A}"),
    ({"Principal": {"Service": "lambda.amazonaws.com"}}, "Allow", "allows service lambda.amazonaws.com"),
    ({"Principal": {"AWS": A, "Service": ["a.amazonaws.com"]}}, "Deny", f"denies account {A} and service a.amazonaws.com"),
    ({"Principal": {"AWS": "arn:aws:iam::123:user/x"}}, "Allow", "allows AWS principal arn:aws:iam::123:user/x"),
    ({"NotPrincipal": "*"}, "Deny", "denies no one"),
    ({"NotPrincipal": {"AWS": ROOT_A}}, "Deny", f"denies everyone but the root user of account {A}"),
    ({"NotPrincipal": {"AWS": [ALICE.arn, A]}}, "Deny", f"denies everyone but the root user of account {A} and user alice of account {A}"),
    ({"NotPrincipal": {"AWS": ALICE.arn}}, "Deny",
     f"denies everyone (naming user alice of account {A} spares no one by itself: a user is spared with its account, "
     "a session with its role and account)"),
    ({"NotPrincipal": {"AWS": [SESSION.arn, READER, ROOT_A]}}, "Deny",
     f"denies everyone but the root user of account {A} and session s1 of role reader in account {A}"),
    ({"NotPrincipal": {"AWS": [READER, ROOT_A]}}, "Deny",
     f"denies everyone but the root user of account {A} (naming role reader of account {A} spares no one by itself: "
     "a user is spared with its account, a session with its role and account)"),
    ({"NotPrincipal": {"AWS": ROOT_A}}, "Allow", f"allows everyone but account {A}"),
    ({"NotPrincipal": "*"}, "Allow", "allows no one"),
]


@pytest.mark.parametrize(("element", "effect", "words"), DESCRIBED, ids=[row[2] for row in DESCRIBED])
def test_principals_in_words(element: p.Statement, effect: str, words: str) -> None:
    statement = {"Effect": effect, **element, "Action": "execute-api:Invoke", "Resource": "execute-api:/*"}
    assert p.describe({"Version": p.POLICY_VERSION, "Statement": [statement]})[0] == words


@pytest.mark.parametrize("caller", [A_ROOT, ALICE, CAROL, SESSION, SESSION_2, ALICE_IN_B], ids=lambda c: c.arn)
@pytest.mark.parametrize("not_principal", [{"AWS": ROOT_A}, {"AWS": [ALICE.arn, A]}, {"AWS": ALICE.arn},
                                           {"AWS": [SESSION.arn, READER, ROOT_A]}, {"AWS": [READER, ROOT_A]}], ids=str)
def test_the_words_name_whom_the_evaluator_spares(caller: p.Caller, not_principal: p.Statement) -> None:
    """Who a Deny NotPrincipal spares, as describe words it, is whom the evaluator lets through."""
    stmts = deny_but(not_principal)
    words = p.describe({"Version": p.POLICY_VERSION, "Statement": stmts})[1].split(" (naming")[0]
    phrase = {A_ROOT: f"the root user of account {A}", ALICE: f"user alice of account {A}", CAROL: f"user carol of account {A}",
              SESSION: f"session s1 of role reader in account {A}", SESSION_2: f"session s2 of role reader in account {A}",
              ALICE_IN_B: f"user alice of account {B}"}[caller]
    allowed = p.evaluate({"Version": p.POLICY_VERSION, "Statement": stmts}, by(caller), resource_prefix=PREFIX).allowed
    assert allowed is (phrase in words), words


# --- aws:SourceIp absent (a call through a VPC endpoint) ---------------------------------------


@pytest.mark.parametrize(("condition", "holds"), [
    ({"Null": {"aws:SourceIp": "true"}}, True),
    ({"Null": {"aws:SourceIp": "false"}}, False),
    ({"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}, False),
    ({"IpAddressIfExists": {"aws:SourceIp": "192.0.2.0/24"}}, True),
    ({"NotIpAddress": {"aws:SourceIp": "192.0.2.0/24"}}, True),
])
def test_an_absent_source_ip_is_an_absent_key(condition: dict[str, object], holds: bool) -> None:
    arn = "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/test/GET/"
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": arn, "Condition": condition}]}
    through_endpoint = p.evaluate(policy, p.Request(source_ip=None, resource_arn=arn, keys={"aws:VpcSourceIp": "10.0.0.7"}))
    assert through_endpoint.allowed is holds
