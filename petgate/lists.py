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


def diff(current: list[str], desired: list[str]) -> tuple[list[str], list[str]]:
    """(added, removed) to turn the current list into the desired one."""
    now, wanted = set(current), set(desired)
    return [c for c in desired if c not in now], [c for c in current if c not in wanted]


def change_gate(current: list[str], added: list[str], removed: list[str], max_change_pct: float) -> str | None:
    """Why a sync must not run unattended (None: it may). More than `max_change_pct` of the
    current entries added or removed is refused; an empty list has nothing to lose."""
    if not current:
        return None
    changed = len(added) + len(removed)
    percent = 100.0 * changed / len(current)
    if percent <= max_change_pct:
        return None
    return (f"this sync would change {changed} entries against {len(current)} listed now ({percent:.0f}%), "
            f"more than --max-change {max_change_pct:g}%; nothing was written")
