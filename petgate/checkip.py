"""The caller's public IP, as checkip.amazonaws.com reports it, written as a CIDR.

`parse_answer` and `as_cidr` are pure and import nothing of petgate's; `fetch_my_ip`
does the request (with an optional source address, like curl's --interface).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

DEFAULT_CHECKIP_URL = "https://checkip.amazonaws.com"
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class CheckipAnswerError(ValueError):
    """checkip answered something that is not one IP address."""


def parse_answer(text: str) -> IpAddress:
    """checkip answers one address and a newline; anything else (a captive portal's HTML,
    an empty body, two addresses) is refused rather than guessed at."""
    stripped = text.strip()
    if not stripped:
        raise CheckipAnswerError("checkip answered an empty body")
    if len(stripped) > 64 or "<" in stripped:
        raise CheckipAnswerError(
            "checkip answered a page, not an address (a captive portal or proxy?)"
        )
    lines = stripped.splitlines()
    if len(lines) != 1:
        raise CheckipAnswerError(f"checkip answered {len(lines)} lines, expected one address")
    candidate = lines[0].strip()
    parts = [p for p in re.split(r"[,\s]+", candidate) if p]
    if len(parts) > 1 and all(_is_address(p) for p in parts):
        raise CheckipAnswerError(f"checkip answered several addresses: {candidate!r}")
    try:
        address = ipaddress.ip_address(candidate)
    except ValueError:
        raise CheckipAnswerError(f"checkip answered {candidate!r}, not an IP address") from None
    # a dual-stack server reports an IPv4 caller as ::ffff:192.0.2.1: that caller is 192.0.2.1
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def as_cidr(address: IpAddress) -> str:
    """One address as a CIDR: /32 for IPv4, /128 for IPv6."""
    return f"{address}/{address.max_prefixlen}"


def is_public(address: IpAddress) -> bool:
    return address.is_global


def fetch_my_ip(url: str, session: Any, timeout: float = 5.0) -> IpAddress:
    """GET the checkip URL with a requests session; raise CheckipAnswerError or requests' own."""
    response = session.get(url, timeout=timeout)
    if response.status_code != 200:
        raise CheckipAnswerError(f"checkip answered HTTP {response.status_code}")
    return parse_answer(response.text)
