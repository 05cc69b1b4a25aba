"""petgate/policy/evaluate.py: IPv4-mapped IPv6 addresses (issue 16: a request from
::ffff:192.0.2.1 is a request from 192.0.2.1, a policy CIDR written mapped names the IPv4
addresses), and IAM's rules (issue 17 item 7) for NotPrincipal, `?` and `*` in Resource, case,
and the ForAllValues/ForAnyValue qualifiers on a missing key, as the IAM User Guide states them
(reference_policies_elements_notprincipal, _resource, _condition, condition-single-vs-multi-valued-context-keys)."""

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


def stmt(effect: str, resource: str = "execute-api:/*", condition: dict | None = None, **extra: object) -> dict:
    s: dict = {"Effect": effect, "Principal": "*", "Action": "execute-api:Invoke", "Resource": resource}
    if condition:
        s["Condition"] = condition
    s.update(extra)
    return {k: v for k, v in s.items() if v is not None}


def allow_at(resource: str) -> list[dict]:
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
def test_iam_rules(name: str, stmts: list[dict], request_: p.Request, allowed: bool, reason: str) -> None:
    policy = {"Version": p.POLICY_VERSION, "Statement": stmts}
    decision = p.evaluate(policy, request_, resource_prefix=PREFIX)
    assert (decision.allowed, decision.reason) == (allowed, reason)
    if reason != "implicit-deny":
        assert decision.statement is not None and decision.statement in stmts
        assert decision.statement_index == stmts.index(decision.statement)


@pytest.mark.parametrize("stmts", [row[1] for row in IAM_TABLE], ids=[row[0] for row in IAM_TABLE])
def test_the_table_policies_are_ones_petgate_accepts(stmts: list[dict]) -> None:
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
