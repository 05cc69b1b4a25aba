"""policy_eval.py and IPv4-mapped IPv6 addresses (issue 16): a request from ::ffff:192.0.2.1 is
a request from 192.0.2.1, and a policy CIDR written mapped names the IPv4 addresses."""

from __future__ import annotations

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
