"""Block lists as data: read a list file (or stdin) into CIDRs.

One address or CIDR per line; `#` starts a comment (whole line or trailing); blank lines are
ignored; a bare address means /32 (IPv4) or /128 (IPv6). A bad line is refused naming its
line number, before anything is written. Pure: no I/O but what the caller hands in.
"""

from __future__ import annotations

import ipaddress


class ListFileError(ValueError):
    """A line that is not an address or CIDR."""


def parse(text: str, source: str = "the list") -> list[str]:
    """The networks the text lists, normalised (host bits cleared), in order, without repeats."""
    networks: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            network = ipaddress.ip_network(line, strict=False)
        except ValueError:
            shown = line if len(line) <= 60 else line[:57] + "..."
            raise ListFileError(f"{source}, line {number}: {shown!r} is not an IP address or CIDR (nothing was written)") from None
        networks.append(str(network))
    return list(dict.fromkeys(networks))
