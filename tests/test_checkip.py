"""checkip.py: parsing checkip's answer, and the CIDR form."""

from __future__ import annotations

import ipaddress

import pytest

from petgate import checkip


@pytest.mark.parametrize(
    ("answer", "address"),
    [
        ("203.0.113.7\n", "203.0.113.7"),
        ("  203.0.113.7  \r\n", "203.0.113.7"),
        ("2001:db8::7\n", "2001:db8::7"),
    ],
)
def test_parse_good_answers(answer: str, address: str) -> None:
    assert checkip.parse_answer(answer) == ipaddress.ip_address(address)


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ("", "empty"),
        ("\n\n", "empty"),
        ("<html><body>Log in to the hotel wifi</body></html>", "a page, not an address"),
        ("203.0.113.7\n198.51.100.1\n", "2 lines"),
        ("203.0.113.7, 198.51.100.1", "several addresses"),
        ("not-an-ip", "not an IP address"),
        ("999.1.1.1", "not an IP address"),
    ],
)
def test_parse_refuses_bad_answers(answer: str, message: str) -> None:
    with pytest.raises(checkip.CheckipAnswerError, match=message):
        checkip.parse_answer(answer)


def test_as_cidr_is_32_for_ipv4_and_128_for_ipv6() -> None:
    assert checkip.as_cidr(ipaddress.ip_address("203.0.113.7")) == "203.0.113.7/32"
    assert checkip.as_cidr(ipaddress.ip_address("2001:db8::7")) == "2001:db8::7/128"


def test_is_public() -> None:
    assert checkip.is_public(ipaddress.ip_address("8.8.8.8"))
    assert not checkip.is_public(ipaddress.ip_address("127.0.0.1"))
    assert not checkip.is_public(ipaddress.ip_address("10.1.2.3"))
