"""petgate's deny list inside a resource policy: the permanent statement PetgateDenyIps and
the statements of blocks that end, merged into the user's policy and taken out again; which
Sids are petgate's, and the user's statements (the rest).

Pure functions over dicts on model.py's policies; of petgate only model and expiry. Reachable as
`petgate.policy.block` and so on.
"""

from __future__ import annotations

import copy
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from petgate import expiry
from petgate.policy.model import (
    ALL_RESOURCES,
    ALLOW_SID,
    DENY_SID,
    DENY_UNTIL_PREFIX,
    INVOKE_ACTION,
    MAX_POLICY_CHARS,
    PETGATE_SIDS,
    POLICY_VERSION,
    IpNetwork,
    Policy,
    PolicyError,
    Statement,
    allow_statement,
    as_list,
    network_or_none,
    size,
    statements,
)

# --- petgate's deny list ---------------------------------------------------------------------
# Permanent blocks live in the statement PetgateDenyIps; blocks that end live in statements
# grouped by their end, Sid PetgateDenyUntil<yyyymmddThhmmssZ>, so the expiry is kept in AWS
# with the addresses. An address may be in several groups: it stays denied until the last ends.


@dataclass(frozen=True)
class DenyGroup:
    """One of petgate's deny statements and when it ends (None: never)."""

    until: datetime | None
    statement: Statement

    @property
    def sid(self) -> str:
        return str(self.statement.get("Sid"))

    @property
    def cidrs(self) -> list[str]:
        condition = self.statement.get("Condition", {}).get("IpAddress", {})
        return [str(v) for v in as_list(condition.get("aws:SourceIp"))]

    def networks(self) -> list[IpNetwork]:
        return [n for n in (network_or_none(c) for c in self.cidrs) if n is not None]


def deny_sid(until: datetime | None) -> str:
    return DENY_SID if until is None else DENY_UNTIL_PREFIX + expiry.stamp(until)


def _group_until(sid: Any) -> tuple[bool, datetime | None]:
    """(is it one of petgate's deny Sids, when that group ends)."""
    if sid == DENY_SID:
        return True, None
    if isinstance(sid, str) and sid.startswith(DENY_UNTIL_PREFIX):
        until = expiry.from_stamp(sid[len(DENY_UNTIL_PREFIX):])
        return until is not None, until
    return False, None


def group_end(sid: Any) -> datetime | None:
    """When the deny group with this Sid ends (None: permanent, or not a deny group of petgate's)."""
    return _group_until(sid)[1]


def is_deny_sid(sid: Any) -> bool:
    return _group_until(sid)[0]


def is_petgate_sid(sid: Any) -> bool:
    return sid in PETGATE_SIDS or is_deny_sid(sid)


def user_statements(policy: Policy | None) -> list[Statement]:
    """The statements that are not petgate's own."""
    return [s for s in statements(policy) if not is_petgate_sid(s.get("Sid"))]


def deny_groups(policy: Policy | None) -> list[DenyGroup]:
    """petgate's deny statements: the permanent one first, then by when they end."""
    groups = []
    for statement in statements(policy):
        ours, until = _group_until(statement.get("Sid"))
        if ours:
            groups.append(DenyGroup(until, statement))
    return sorted(groups, key=lambda g: (g.until is not None, g.until or datetime.min.replace(tzinfo=UTC)))


def deny_statement(cidrs: Iterable[str], until: datetime | None = None) -> Statement:
    """The Deny of the console's "IP Range Blacklist" template, with petgate's Sid."""
    return {
        "Sid": deny_sid(until),
        "Effect": "Deny",
        "Principal": "*",
        "Action": INVOKE_ACTION,
        "Resource": [ALL_RESOURCES],
        "Condition": {"IpAddress": {"aws:SourceIp": list(cidrs)}},
    }


def build_deny(cidrs: Iterable[str], until: datetime | None = None) -> Policy:
    """A fresh "IP Range Blacklist" policy (Deny listed first, as the console does)."""
    return {"Version": POLICY_VERSION, "Statement": [deny_statement(cidrs, until), allow_statement()]}


def _find(policy: Policy | None, sid: str) -> Statement | None:
    return next((s for s in statements(policy) if s.get("Sid") == sid), None)


def blocked_cidrs(policy: Policy | None) -> list[str]:
    """Every CIDR petgate denies, permanent or not (collapsed)."""
    return collapse(c for g in deny_groups(policy) for c in g.cidrs)


def permanent_cidrs(policy: Policy | None) -> list[str]:
    """The CIDRs denied until someone unblocks them (what `sync` manages)."""
    statement = _find(policy, DENY_SID)
    return DenyGroup(None, statement).cidrs if statement else []


def expiring(policy: Policy | None) -> list[tuple[str, datetime]]:
    """The CIDRs whose block ends, each with its last end; those also blocked for good are left out."""
    groups = deny_groups(policy)  # the permanent one first, then by end
    kept: list[IpNetwork] = [n for g in groups if g.until is None for n in g.networks()]
    found: list[tuple[str, datetime]] = []
    for group in reversed(groups):  # the latest end first, so each address reports its last end
        if group.until is None:
            continue
        for cidr in group.cidrs:
            if not _covered(cidr, kept):
                found.append((cidr, group.until))
                kept += [n for n in [network_or_none(cidr)] if n is not None]
    return sorted(found, key=lambda f: (f[1], f[0]))


def check_own_statements_unique(policy: Policy | None) -> None:
    """Each of petgate's Sids appears at most once: with two, which one is petgate's list?"""
    sids = [s.get("Sid") for s in statements(policy) if is_petgate_sid(s.get("Sid"))]
    twice = sorted({str(sid) for sid in sids if sids.count(sid) > 1})
    if twice:
        raise PolicyError(
            f"statement {', '.join(twice)} appears more than once (edited by hand); petgate will not guess "
            "which one is its own: merge them yourself, or remove the whole policy with `unblock --all`"
        )


def check_known_shape(policy: Policy | None) -> None:
    """petgate only edits a policy whose own statements still have the shape it wrote."""
    check_own_statements_unique(policy)
    for statement in statements(policy):
        sid = statement.get("Sid")
        if isinstance(sid, str) and sid.startswith(DENY_UNTIL_PREFIX) and not is_deny_sid(sid):
            raise PolicyError(
                f"statement {sid} looks like petgate's but does not name a time (yyyymmddThhmmssZ); "
                "fix its Sid or remove the whole policy with `unblock --all`"
            )
    for group in deny_groups(policy):
        condition = group.statement.get("Condition")
        if (
            group.statement.get("Effect") != "Deny"
            or not isinstance(condition, dict)
            or set(condition) != {"IpAddress"}
            or set(condition["IpAddress"]) != {"aws:SourceIp"}
        ):
            raise PolicyError(
                f"statement {group.sid} was changed by hand and no longer has the shape petgate "
                "writes; edit it yourself or remove the whole policy with `unblock --all`"
            )


def collapse(cidrs: Iterable[str]) -> list[str]:
    """Merge adjacent and contained networks (IPv4 first, then IPv6), keeping the policy small."""
    parsed = [n for n in (network_or_none(c) for c in cidrs) if n is not None]
    v4 = ipaddress.collapse_addresses(n for n in parsed if isinstance(n, ipaddress.IPv4Network))
    v6 = ipaddress.collapse_addresses(n for n in parsed if isinstance(n, ipaddress.IPv6Network))
    return [str(n) for n in (*v4, *v6)]


def _covered(cidr: str, networks: Iterable[IpNetwork]) -> bool:
    network = network_or_none(cidr)
    return network is not None and any(
        network.version == n.version and network.subnet_of(n)  # type: ignore[arg-type]
        for n in networks
    )


def covered(cidr: str, cidrs: Iterable[str]) -> bool:
    """Whether one of `cidrs` contains `cidr`."""
    return _covered(cidr, [n for n in (network_or_none(c) for c in cidrs) if n is not None])


def _subtract(networks: list[IpNetwork], removing: list[IpNetwork]) -> list[IpNetwork]:
    """The addresses of `networks` that are in none of `removing`."""
    result: list[IpNetwork] = []
    for network in networks:
        pieces = [network]
        for hole in removing:
            remaining: list[IpNetwork] = []
            for piece in pieces:
                if piece.version != hole.version or not piece.overlaps(hole):
                    remaining.append(piece)
                elif hole.subnet_of(piece) and hole != piece:  # type: ignore[arg-type]
                    remaining.extend(piece.address_exclude(hole))  # type: ignore[arg-type]
            pieces = remaining
        result.extend(pieces)
    return result


def subtract(cidrs: Iterable[str], removing: Iterable[str]) -> list[str]:
    """The addresses of `cidrs` outside every one of `removing`, collapsed: a wider network is
    split around what is lifted (both stores, policy and WAF, unblock this way)."""
    holes = [n for n in (network_or_none(c) for c in removing) if n is not None]
    networks = [n for n in (network_or_none(c) for c in cidrs) if n is not None]
    return collapse(str(n) for n in _subtract(networks, holes))


def _outermost(cidrs: list[str]) -> list[str]:
    """The CIDRs that no other one of them contains (of equal networks the first), in order:
    what blocking them all newly blocks, each range once (10.0.0.0/24 and 10.0.0.5: the /24)."""
    parsed = [(i, n) for i, n in enumerate(network_or_none(c) for c in cidrs) if n is not None]
    # networks nest or are apart: sorted by start and then size, each one is inside an earlier
    # one exactly when it ends no later than the furthest end seen so far (of its IP version)
    parsed.sort(key=lambda item: (item[1].version, int(item[1].network_address), item[1].prefixlen, item[0]))
    inside: set[int] = set()
    furthest: dict[int, int] = {}
    for index, network in parsed:
        end = int(network.broadcast_address)
        if end <= furthest.get(network.version, -1):
            inside.add(index)
        else:
            furthest[network.version] = end
    return [c for i, c in enumerate(cidrs) if i not in inside]


def _lasting(groups: list[DenyGroup], until: datetime | None) -> list[IpNetwork]:
    """The networks blocked at least until `until` (None: for good)."""
    return [
        n for g in groups if g.until is None or (until is not None and g.until >= until) for n in g.networks()
    ]


def block(
    policy: Policy | None, cidrs: Iterable[str], until: datetime | None = None, clock: datetime | None = None
) -> tuple[Policy, list[str]]:
    """Merge CIDRs into petgate's deny list (for good, or until `until`); return the new policy
    and what was added.

    A CIDR already blocked at least as long adds nothing; each group is kept collapsed. A block
    that ends joins a group ending a little later if there is one (expiry.group_for). The user's
    statements are kept untouched. petgate adds its Allow statement only to a policy it
    creates: adding `Allow *` to someone else's policy could open what they closed.
    """
    check_known_shape(policy)
    wanted = list(dict.fromkeys(cidrs))
    groups = deny_groups(policy)
    lasting = _lasting(groups, until)
    added = _outermost([c for c in wanted if not _covered(c, lasting)])
    if until is not None:
        until = expiry.group_for(until, [g.until for g in groups if g.until is not None], clock or until)
    if not policy or not statements(policy):
        return build_deny(collapse(added), until), added
    result = copy.deepcopy(policy)
    result["Statement"] = statements(result)
    deny = _find(result, deny_sid(until))
    if deny is None:
        ours = [i for i, s in enumerate(result["Statement"]) if is_deny_sid(s.get("Sid"))]
        if added:
            result["Statement"].insert(ours[-1] + 1 if ours else 0, deny_statement(collapse(added), until))
    elif added:
        deny["Condition"]["IpAddress"]["aws:SourceIp"] = collapse(DenyGroup(until, deny).cidrs + added)
    return result, added


def unblock(
    policy: Policy | None, cidrs: Iterable[str], permanent_only: bool = False
) -> tuple[Policy | None, list[str]]:
    """Remove CIDRs from petgate's deny list (every group, or only the permanent one); return
    the new policy and what was removed.

    Exactly the given addresses are lifted: a wider blocked network is split around them.
    When a deny statement empties it goes; when only petgate's Allow is left the policy goes
    (None). petgate's Allow stays while the user's statements remain, so unblocking never
    narrows who may call the API.
    """
    check_known_shape(policy)
    if not policy:
        return None, []
    removing = [n for n in (network_or_none(c) for c in collapse(cidrs)) if n is not None]
    result = copy.deepcopy(policy)
    result["Statement"] = statements(result)
    gone: list[str] = []
    for group in deny_groups(result):
        if permanent_only and group.until is not None:
            continue
        current = group.networks()
        hit = [str(r) for r in removing if any(r.version == n.version and r.overlaps(n) for n in current)]
        if not hit:
            continue
        gone += [h for h in hit if h not in gone]
        remaining = collapse(str(n) for n in _subtract(current, removing))
        if remaining:
            group.statement["Condition"]["IpAddress"]["aws:SourceIp"] = remaining
        else:
            result["Statement"].remove(group.statement)
    if not gone:
        return copy.deepcopy(policy), []
    return _without_lone_allow(result), gone


def _without_lone_allow(policy: Policy) -> Policy | None:
    if all(s.get("Sid") == ALLOW_SID for s in statements(policy)):
        return None
    return policy


def prune(policy: Policy | None, clock: datetime) -> tuple[Policy | None, list[tuple[str, datetime]]]:
    """Drop the deny groups that ended at or before `clock`; return the policy and what went."""
    check_known_shape(policy)
    ended = [g for g in deny_groups(policy) if expiry.expired(g.until, clock)]
    if not policy or not ended:
        return copy.deepcopy(policy), []
    sids = {g.sid for g in ended}
    result = copy.deepcopy(policy)
    result["Statement"] = [s for s in statements(result) if s.get("Sid") not in sids]
    pruned = [(c, g.until) for g in ended for c in g.cidrs if g.until is not None]
    return _without_lone_allow(result), pruned


def still_blocking(policy: Policy | None, cidr: str, until: datetime | None = None) -> list[str]:
    """Blocked networks that contain `cidr` at least until `until` (None: for good, or any
    block when `until` is not asked about)."""
    network = network_or_none(cidr)
    if network is None:
        return []
    groups = deny_groups(policy)
    pool = _lasting(groups, until) if until is not None else [n for g in groups for n in g.networks()]
    return [
        str(n) for n in pool
        if n.version == network.version and network.subnet_of(n)  # type: ignore[arg-type]
    ]


def how_many_fit(
    policy: Policy | None, cidrs: list[str], until: datetime | None = None, clock: datetime | None = None
) -> int:
    """How many of `cidrs`, in order, can be added before the policy passes the size quota."""
    low, high = 0, len(cidrs)
    while low < high:
        middle = (low + high + 1) // 2
        candidate, _ = block(policy, cidrs[:middle], until, clock)
        if size(candidate) <= MAX_POLICY_CHARS:
            low = middle
        else:
            high = middle - 1
    return low
