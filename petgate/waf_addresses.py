"""A WAF list's addresses: block and unblock them, sync the permanent sets to a file, prune the
sets of blocks that have ended, show them all. Every write is under WAF's LockToken (waf.Waf).

A change reads and writes only the sets it changes, and looks up the web ACL only when it needs
it (a new list, a rule for blocks that end): an unblock lifts exactly the addresses given,
splitting a stored wider range around them (waf_ranges.lift)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from petgate import expiry
from petgate.errors import AwsError
from petgate.ops.results import UNSET, Result, Unset, as_json
from petgate.policy import collapse
from petgate.waf_names import block_rule, split_by_version
from petgate.waf_parts import Groups, ListParts, ListResult, Sets
from petgate.waf_ranges import Disjoint, difference, lift

Read = tuple[dict[str, Any], str]
Apply = Callable[[dict[str, Any], list[str], list[str], Read | None], None]


@dataclass(frozen=True, kw_only=True)
class ListChanged(ListResult):
    """`waf block` / `waf unblock`: what the change added and removed; `ip_sets`: each set it
    read, by name, with the addresses it holds now."""

    added: list[str]
    removed: list[str]
    ip_sets: dict[str, int]
    until: str | None
    changed: bool
    lock_retries: int
    journal_id: str | None | Unset = UNSET


@dataclass(frozen=True, kw_only=True)
class ListSynced(ListResult):
    """`waf sync` of the permanent sets; the change's own keys only when one was made."""

    added: list[str]
    removed: list[str]
    dry_run: bool
    changed: bool
    ip_sets: dict[str, int] | Unset = UNSET
    until: str | None | Unset = UNSET
    lock_retries: int | Unset = UNSET
    journal_id: str | None | Unset = UNSET


@dataclass(frozen=True, kw_only=True)
class PrunedAddress(Result):
    cidr: str
    expired: str


@dataclass(frozen=True, kw_only=True)
class ListPruned(ListResult):
    now: str
    pruned: list[PrunedAddress]
    ip_sets_deleted: list[str]
    dry_run: bool
    changed: bool


@dataclass(frozen=True, kw_only=True)
class ShownIpSet(Result):
    """One set of the list: `expires` is when its blocks end (None: for good)."""

    name: str
    arn: str
    version: str
    addresses: list[str]
    count: int
    quota: int
    expires: str | None


@dataclass(frozen=True, kw_only=True)
class ExpiringAddress(Result):
    """An address blocked until `expires`; `expired`: due for `waf prune`."""

    cidr: str
    expires: str
    expired: bool


@dataclass(frozen=True, kw_only=True)
class ListShown(ListResult):
    """`waf show`: the sets with their addresses, how many in all, the stages guarded."""

    web_acl_arn: str
    ip_sets: list[ShownIpSet]
    addresses: int
    attached: list[str]
    expiring: list[ExpiringAddress]


class ListAddresses(ListParts):
    def change(self, adding: list[str], removing: list[str], everything: bool = False, until: datetime | None = None,
               clock: datetime | None = None, permanent_only: bool = False, command: str | None = None,
               listed: list[dict[str, Any]] | None = None, reads: dict[int, Read] | None = None) -> ListChanged:
        """Add and remove addresses (IPv4 and IPv6 go to their own sets), under WAF's LockToken.
        With `until`, the added addresses go to the set of blocks ending then (made if needed);
        removing takes addresses out of every set of the list, or only the permanent ones, a
        wider stored network split around them. Only the sets of the IP versions given are read
        and written. `listed` and `reads`: what the caller just read (ListIPSets, GetIPSet by
        version), not read again."""
        add, remove = split_by_version(adding), split_by_version(removing)
        sets, groups, created = self._find(create=True, listed=listed)
        # a list that exists has its web ACL: looked up only for a new list, or a rule of blocks that end
        acl = self.web_acl(create=True, sets=sets) if created else None
        added: list[str] = []
        removed: list[str] = []
        sizes: dict[str, int] = {}
        journal: dict[str, Any] = {}

        def apply(summary: dict[str, Any], adding: list[str], removing: list[str], read: Read | None = None) -> None:
            def edit(current: list[str]) -> list[str]:
                if everything:
                    return []
                kept = lift(current, removing) if removing else list(current)
                return collapse(kept + adding) if adding else kept

            before, after = self.waf.edit_ip_set(summary, edit, read)
            these_added, these_removed = difference(before, after)
            added.extend(these_added)
            removed.extend(these_removed)
            sizes[summary["Name"]] = len(after)
            if before != after:
                journal[summary["Name"]] = {"before": before, "after": after}

        for version, summary in sets.items():
            here = [] if until else add[version]
            if here or remove[version] or everything:
                apply(summary, here, remove[version], (reads or {}).get(version))
        if not permanent_only:
            for (version, _), summary in sorted(groups.items()):
                if remove[version] or everything:
                    apply(summary, [], remove[version])
        if until is not None and (add[4] or add[6]):
            self._add_until(acl, sets, groups, add, until, clock or until, apply)
        result = ListChanged(list=self.names.name, added=added, removed=removed, ip_sets=sizes,
                             until=expiry.iso(until), changed=bool(journal), lock_retries=self.waf.lock_retries)
        if journal:
            command = command or ("waf block" if adding else "waf unblock")
            result = result.but(journal_id=self._journal(kind="waf", command=command, ip_sets=journal))
        return result

    def sync(self, decide: Callable[[list[str]], tuple[list[str], list[str]]], dry_run: bool) -> ListSynced:
        """Change the permanent sets as `decide` says from their current addresses (it may refuse).
        The sets are read once: that read's LockToken guards the write."""
        listed = self.waf.list_ip_sets()
        sets, _, _ = self._find(create=False, listed=listed)
        reads = {version: self.waf.get_ip_set(summary) for version, summary in sets.items()}
        added, removed = decide([a for ip_set, _ in reads.values() for a in ip_set.get("Addresses") or []])
        result = ListSynced(list=self.names.name, added=added, removed=removed, dry_run=dry_run,
                            changed=bool(added or removed))
        if not dry_run and (added or removed):
            made = self.change(added, removed, permanent_only=True, command="waf sync", listed=listed, reads=reads)
            result = result.but(changed=made.changed, ip_sets=made.ip_sets, until=made.until,
                                lock_retries=made.lock_retries, journal_id=made.journal_id)
        return result

    def _add_until(self, acl: dict[str, Any] | None, sets: Sets, groups: Groups, add: dict[int, list[str]],
                   until: datetime, clock: datetime, apply: Apply) -> None:
        """Put addresses in the set of blocks ending at `until` (or a little later, expiry.group_for),
        leaving out those already blocked at least that long. Only the sets of the IP versions
        added are read."""
        group_until = expiry.group_for(until, {end for _, end in groups}, clock)
        for version in (4, 6):
            if not add[version]:
                continue
            wanted = add[version]
            reads: dict[str, Read] = {}  # the group's read serves its write too
            # the sets blocking at least as long, read while something is left to add: for good first
            for lasting in [sets[version], *(s for (v, end), s in sorted(groups.items()) if v == version and end >= until)]:
                if wanted:
                    reads[lasting["Name"]] = read = self.waf.get_ip_set(lasting)
                    blocked = Disjoint(read[0].get("Addresses") or [])
                    wanted = [a for a in wanted if not blocked.covers(a)]
            if not wanted:
                continue
            acl = acl or self.web_acl(create=True, sets=sets)
            assert acl is not None
            summary = groups.get((version, group_until))
            if summary is None:
                name = self.names.group_ip_set(version, group_until)
                summary = self.waf.create_ip_set(name, version, f"petgate deny list {self.names.name} until {expiry.iso(group_until)}")
                groups[(version, group_until)] = summary
            self._ensure_rule(acl, version, group_until, summary)
            apply(summary, wanted, [], reads.get(summary["Name"]))

    def _addresses(self, summary: dict[str, Any], missing_ok: bool = False) -> list[str]:
        try:
            return list(self.waf.get_ip_set(summary)[0].get("Addresses") or [])
        except AwsError as exc:
            if missing_ok and exc.code == "WAFNonexistentItemException":
                return []  # deleted since it was listed (another machine's prune)
            raise

    def _ensure_rule(self, acl: dict[str, Any], version: int, until: datetime, summary: dict[str, Any]) -> None:
        name = self.names.group_rule(version, until)

        def add_rule(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
            if any(r.get("Name") == name for r in rules):
                return rules
            priority = max((int(r.get("Priority", 0)) for r in rules), default=-1) + 1
            return [*rules, block_rule(name, summary["ARN"], priority)]

        self.waf.edit_rules(acl, add_rule)

    def prune(self, clock: datetime, dry_run: bool = False) -> ListPruned:
        """Delete the sets of blocks that have ended: their rules leave the web ACL first, then
        the sets go. Idempotent; with nothing ended, only reads."""
        sets, groups, _ = self._find(create=False)
        if not sets and not groups:
            raise self._no_list()  # a typo in --list must not pass for "nothing expired" forever
        ended = {group: s for group, s in groups.items() if expiry.expired(group[1], clock)}
        pruned = [PrunedAddress(cidr=a, expired=expiry.iso(end)) for (_, end), s in sorted(ended.items())
                  for a in self._addresses(s, missing_ok=True)]
        result = ListPruned(list=self.names.name, now=expiry.iso(clock), pruned=pruned,
                            ip_sets_deleted=sorted(s["Name"] for s in ended.values()), dry_run=dry_run,
                            changed=bool(ended) and not dry_run)
        if dry_run or not ended:
            return result
        arns = {s["ARN"] for s in ended.values()}
        acl = self.web_acl(create=False)
        if acl is not None:
            self.waf.edit_rules(acl, lambda rules: [
                r for r in rules if (r.get("Statement") or {}).get("IPSetReferenceStatement", {}).get("ARN") not in arns])
        for summary in ended.values():
            try:
                self.waf.delete_ip_set(summary)
            except AwsError as exc:
                if exc.code != "WAFNonexistentItemException":
                    raise  # else another machine pruned it at the same moment: gone is gone
        self._journal(kind="prune", command="waf prune", pruned=as_json(pruned))
        return result

    def show(self, clock: datetime | None = None) -> ListShown:
        """The list's sets with their addresses; a set of blocks that end says when (`expires`)."""
        clock = clock or expiry.now(self.app.clock)
        acl = self.web_acl(create=False)
        sets, groups, _ = self._find(create=False)
        if acl is None or len(sets) < 2:
            raise self._no_list()
        ip_sets: list[ShownIpSet] = []
        total = 0
        expiring: list[ExpiringAddress] = []
        every: list[tuple[int, datetime | None, dict[str, Any]]] = [(v, None, s) for v, s in sorted(sets.items())]
        every += [(version, end, s) for (version, end), s in sorted(groups.items())]
        for version, end, summary in every:
            addresses = self._addresses(summary)
            total += len(addresses)
            ip_sets.append(ShownIpSet(name=summary["Name"], arn=summary["ARN"], version=f"IPV{version}",
                                      addresses=addresses, count=len(addresses), quota=10_000, expires=expiry.iso(end)))
            if end is not None:
                expiring += [ExpiringAddress(cidr=a, expires=expiry.iso(end), expired=expiry.expired(end, clock))
                             for a in addresses]
        return ListShown(list=self.names.name, web_acl_arn=acl["ARN"], ip_sets=ip_sets, addresses=total,
                         attached=self.waf.resources_for(acl["ARN"]), expiring=expiring)
