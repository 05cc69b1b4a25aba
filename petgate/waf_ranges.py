"""The address arithmetic of a WAF list's sets (pure): lifting addresses out of a set, splitting
a stored wider range around them (policy.subtract, as the policy store does), and what a new
version of a set added and removed."""

from __future__ import annotations

import ipaddress
from bisect import bisect_left, bisect_right
from collections.abc import Iterable

from petgate.policy import collapse, covered, subtract


class Disjoint:
    """Networks, collapsed into disjoint ones sorted by start: those a network overlaps are
    found by bisection (a set holds up to 10,000 addresses: a scan per address costs seconds)."""

    def __init__(self, cidrs: Iterable[str]) -> None:
        self._by_version: dict[int, tuple[list[int], list[int], list[str]]] = {4: ([], [], []), 6: ([], [], [])}
        for text in collapse(cidrs):
            network = ipaddress.ip_network(text)
            starts, ends, names = self._by_version[network.version]
            starts.append(int(network.network_address))
            ends.append(int(network.broadcast_address))
            names.append(text)

    def overlapping(self, cidr: str) -> list[str]:
        network = ipaddress.ip_network(cidr, strict=False)
        starts, ends, names = self._by_version[network.version]
        return names[bisect_left(ends, int(network.network_address)):bisect_right(starts, int(network.broadcast_address))]

    def covers(self, cidr: str) -> bool:
        return covered(cidr, self.overlapping(cidr))


def lift(current: list[str], removing: Iterable[str]) -> list[str]:
    """`current` without the addresses of `removing`: an entry they overlap is split around them
    (policy.subtract), the others stay as they are, in their order."""
    holes = Disjoint(removing)
    kept: list[str] = []
    for entry in current:
        hit = holes.overlapping(entry)
        kept += subtract([entry], hit) if hit else [entry]
    return kept


def difference(before: list[str], after: list[str]) -> tuple[list[str], list[str]]:
    """(added, removed) between two versions of a set: the entries that block what was not
    blocked before, and the addresses no longer blocked (a split entry's lifted part only;
    the pieces left of it add nothing, and entries merged into a wider one remove nothing)."""
    had, has = set(before), set(after)  # sets: with 10,000 addresses, list lookups cost seconds
    gone = [a for a in before if a not in has]
    new = [a for a in after if a not in had]
    old, fresh = Disjoint(gone), Disjoint(new)
    added = [a for a in new if not old.covers(a)]
    removed = [piece for a in gone for piece in subtract([a], fresh.overlapping(a))]
    return added, removed
