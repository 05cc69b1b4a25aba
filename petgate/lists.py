"""Block lists as data: read a list file (or stdin) into CIDRs, and the change gate of a sync.

One address or CIDR per line; `#` starts a comment (whole line or trailing); blank lines are
ignored; a bare address means /32 (IPv4) or /128 (IPv6); an IPv4-mapped IPv6 one
(::ffff:192.0.2.7) is the IPv4 address; a UTF-8 byte order mark at the start is ignored. A bad
line is refused naming its line number, before anything is written. Pure: no I/O but what the
caller hands in.
"""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction

from petgate.policy import MappedPrefixError, PolicyError, network_or_none, parse_cidr

BOM = "\ufeff"


class ListFileError(ValueError):
    """A line that is not an address or CIDR."""


def parse(text: str, source: str = "the list") -> list[str]:
    """The networks the text lists, normalised (host bits cleared, IPv4-mapped as IPv4), in
    order, without repeats."""
    networks: list[str] = []
    for number, raw in enumerate(text.removeprefix(BOM).splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            networks.append(parse_cidr(line).network)
        except MappedPrefixError as exc:
            raise ListFileError(f"{source}, line {number}: {exc} (nothing was written)") from None
        except PolicyError:
            shown = line if len(line) <= 60 else line[:57] + "..."
            raise ListFileError(f"{source}, line {number}: {shown!r} is not an IP address or CIDR (nothing was written)") from None
    return list(dict.fromkeys(networks))


def diff(current: list[str], desired: list[str]) -> tuple[list[str], list[str]]:
    """(added, removed) entries to turn the current list into the desired one."""
    now, wanted = set(current), set(desired)
    return [c for c in desired if c not in now], [c for c in current if c not in wanted]


# --- the change gate -------------------------------------------------------------------------

Spans = dict[int, list[tuple[int, int]]]  # IP version: merged [first, last] address ranges, sorted


def _spans(cidrs: Iterable[str]) -> Spans:
    ranges: dict[int, list[tuple[int, int]]] = {4: [], 6: []}
    for network in (network_or_none(c) for c in cidrs):
        if network is not None:
            ranges[network.version].append((int(network.network_address), int(network.broadcast_address)))
    merged: Spans = {4: [], 6: []}
    for version, spans in ranges.items():
        for first, last in sorted(spans):
            if merged[version] and first <= merged[version][-1][1] + 1:
                merged[version][-1] = (merged[version][-1][0], max(last, merged[version][-1][1]))
            else:
                merged[version].append((first, last))
    return merged


def _size(spans: list[tuple[int, int]]) -> int:
    return sum(last - first + 1 for first, last in spans)


def _overlap(one: list[tuple[int, int]], other: list[tuple[int, int]]) -> int:
    """How many addresses two sets of merged, sorted ranges have in common."""
    shared, i, j = 0, 0, 0
    while i < len(one) and j < len(other):
        first, last = max(one[i][0], other[j][0]), min(one[i][1], other[j][1])
        if first <= last:
            shared += last - first + 1
        if one[i][1] < other[j][1]:
            i += 1
        else:
            j += 1
    return shared


def changed_addresses(current: list[str], added: list[str], removed: list[str]) -> dict[int, tuple[int, int]]:
    """Per IP version (4, 6): (addresses added or removed, addresses listed now). Addresses, not
    entries: a /16 is 65,536 of them, and 40 consecutive /32s are 40 however they collapse."""
    gone = set(removed)
    before, after = _spans(current), _spans([c for c in current if c not in gone] + added)
    counts = {}
    for version in (4, 6):
        listed, wanted = _size(before[version]), _size(after[version])
        kept = _overlap(before[version], after[version])
        counts[version] = (listed - kept + wanted - kept, listed)
    return counts


def _percent(value: Fraction) -> str:
    number = float(value)
    text = f"{number:.2g}" if 0 < number < 0.1 else f"{number:,.1f}".removesuffix(".0")
    return text + "%"


def change_gate(current: list[str], added: list[str], removed: list[str], max_change_pct: float) -> str | None:
    """Why a sync must not run unattended (None: it may). The gate counts addresses, IPv4 and
    IPv6 each against the addresses of its own version listed now: more than `max_change_pct`
    of them added or removed is refused. A version with nothing listed now (a list that is
    empty, or holds only the other version) has nothing to lose, and is not gated."""
    if not current:
        return None
    limit = Fraction(max_change_pct)
    over = []
    for version, (changed, listed) in changed_addresses(current, added, removed).items():
        if listed and Fraction(100 * changed, listed) > limit:
            over.append(f"{changed:,} IPv{version} address{'es' if changed != 1 else ''} against the {listed:,} "
                        f"listed now ({_percent(Fraction(100 * changed, listed))})")
    if not over:
        return None
    return (f"this sync would add or remove {' and '.join(over)}, counting addresses and each IP version "
            f"on its own, more than --max-change {max_change_pct:g}%; nothing was written")
