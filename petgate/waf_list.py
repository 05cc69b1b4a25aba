"""A petgate deny list kept in AWS WAF (the store past the resource policy's quota): find or
create its IP sets and web ACL, change its addresses, attach it to stages, show it, delete it,
and undo what attach, detach and delete did. Every AWS call goes through waf.Waf; every name
comes from waf_names.

A change reads and writes only the sets it changes, and looks up the web ACL only when it needs
it (a new list, a rule for blocks that end): an unblock lifts exactly the addresses given,
splitting a stored wider range around them (policy.subtract, as the policy store does)."""

from __future__ import annotations

import contextlib
import copy
import ipaddress
import json
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any

from petgate import expiry
from petgate.errors import AwsError, PetgateError, UsageError
from petgate.ops.services import Services
from petgate.policy import collapse, covered, subtract, unmapped_address
from petgate.waf import Waf
from petgate.waf_names import (
    ListNames,
    block_rule,
    block_rules,
    check_list_name,
    list_name_of,
    split_by_version,
)

Sets = dict[int, dict[str, Any]]
Groups = dict[tuple[int, datetime], dict[str, Any]]
Read = tuple[dict[str, Any], str]


class _Disjoint:
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
    holes = _Disjoint(removing)
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
    old, fresh = _Disjoint(gone), _Disjoint(new)
    added = [a for a in new if not old.covers(a)]
    removed = [piece for a in gone for piece in subtract([a], fresh.overlapping(a))]
    return added, removed


def _acl_ref(acl: dict[str, Any] | None) -> dict[str, str] | None:
    """What the journal keeps of a web ACL on a stage: enough to attach it again."""
    return None if acl is None else {"arn": str(acl["ARN"]), "name": str(acl["Name"])}


def _json_safe(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rules as JSON can keep them (a byte-match string of the user's own is text)."""
    def text(value: Any) -> str:
        return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)

    return list(json.loads(json.dumps(rules, default=text)))


def block_rule_sets(waf: Waf, acl: dict[str, Any]) -> Iterator[tuple[dict[str, Any], list[str]]]:
    """The web ACL's Block rules on IP sets, by priority, each with its set's addresses (read
    as they come: a caller that stops early reads no more)."""
    for rule in sorted(acl.get("Rules") or [], key=lambda r: r.get("Priority", 0)):
        reference = (rule.get("Statement") or {}).get("IPSetReferenceStatement")
        if "Block" not in (rule.get("Action") or {}) or not reference:
            continue
        name, set_id = reference["ARN"].split("/")[-2:]
        ip_set, _ = waf.get_ip_set({"Name": name, "Id": set_id})
        yield rule, list(ip_set.get("Addresses") or [])


class WafList:
    def __init__(self, app: Services, name: str) -> None:
        self.app = app
        self.names = ListNames(check_list_name(name))
        self.waf: Waf = app.waf

    # --- finding, creating -----------------------------------------------------------------

    def ip_sets(self, create: bool) -> Sets:
        """The list's two IP sets (permanent blocks), by IP version."""
        return self._find(create)[0]

    def all_ip_sets(self) -> list[dict[str, Any]]:
        """Every IP set of the list: the two permanent ones and those of blocks that end."""
        sets, groups, _ = self._find(create=False)
        return [*sets.values(), *groups.values()]

    def _find(self, create: bool, listed: list[dict[str, Any]] | None = None) -> tuple[Sets, Groups, bool]:
        """(the two IP sets by version, the sets of blocks that end by (version, end), whether a
        permanent set was created now), from one listing (`listed`, if the caller has it)."""
        listed = self.waf.list_ip_sets() if listed is None else listed
        found: Sets = {}
        created = False
        for version in (4, 6):
            summary = next((s for s in listed if s["Name"] == self.names.ip_set(version)), None)
            if summary is None and create:
                summary = self.waf.create_ip_set(self.names.ip_set(version), version, f"petgate deny list {self.names.name}")
                created = True
            if summary is not None:
                found[version] = summary
        groups = {group: s for s in listed if (group := self.names.group_of(s["Name"])) is not None}
        return found, groups, created

    def web_acl(self, create: bool, sets: Sets | None = None) -> dict[str, Any] | None:
        """The list's web ACL; with `create`, made (with its IP sets, unless given) when missing."""
        acl = self.waf.find_web_acl(self.names.web_acl)
        if acl is None and create:
            sets = sets or self.ip_sets(create=True)
            acl = self.waf.create_web_acl(self.names.web_acl, block_rules(sets[4]["ARN"], sets[6]["ARN"], self.names.name))
        return acl

    def _no_list(self) -> UsageError:
        return UsageError(f"there is no WAF list {self.names.name!r} yet", "create it with `petgate waf block` or `petgate waf attach`")

    def _journal(self, **fields: Any) -> str | None:
        entry = self.app.journal.record(target=self.app.target.describe(), list=self.names.name, **fields)
        return entry["id"] if entry else None

    # --- changing addresses -----------------------------------------------------------------

    def change(self, adding: list[str], removing: list[str], everything: bool = False, until: datetime | None = None,
               clock: datetime | None = None, permanent_only: bool = False, command: str | None = None,
               listed: list[dict[str, Any]] | None = None, reads: dict[int, Read] | None = None) -> dict[str, Any]:
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
        result: dict[str, Any] = {"list": self.names.name, "added": [], "removed": [], "ip_sets": {},
                                  "until": expiry.iso(until)}
        journal: dict[str, Any] = {}

        def apply(summary: dict[str, Any], adding: list[str], removing: list[str], read: Read | None = None) -> None:
            def edit(current: list[str]) -> list[str]:
                if everything:
                    return []
                kept = lift(current, removing) if removing else list(current)
                return collapse(kept + adding) if adding else kept

            before, after = self.waf.edit_ip_set(summary, edit, read)
            added, removed = difference(before, after)
            result["added"] += added
            result["removed"] += removed
            result["ip_sets"][summary["Name"]] = len(after)
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
        result["changed"] = bool(journal)
        result["lock_retries"] = self.waf.lock_retries
        if journal:
            command = command or ("waf block" if adding else "waf unblock")
            result["journal_id"] = self._journal(kind="waf", command=command, ip_sets=journal)
        return result

    def sync(self, decide: Callable[[list[str]], tuple[list[str], list[str]]], dry_run: bool) -> dict[str, Any]:
        """Change the permanent sets as `decide` says from their current addresses (it may refuse).
        The sets are read once: that read's LockToken guards the write."""
        listed = self.waf.list_ip_sets()
        sets, _, _ = self._find(create=False, listed=listed)
        reads = {version: self.waf.get_ip_set(summary) for version, summary in sets.items()}
        added, removed = decide([a for ip_set, _ in reads.values() for a in ip_set.get("Addresses") or []])
        result: dict[str, Any] = {"list": self.names.name, "added": added, "removed": removed, "dry_run": dry_run,
                                  "changed": bool(added or removed)}
        if not dry_run and (added or removed):
            changed = self.change(added, removed, permanent_only=True, command="waf sync", listed=listed, reads=reads)
            result.update({k: v for k, v in changed.items() if k not in ("added", "removed")})
        return result

    def _add_until(self, acl: dict[str, Any] | None, sets: Sets, groups: Groups, add: dict[int, list[str]],
                   until: datetime, clock: datetime, apply: Any) -> None:
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
                    blocked = _Disjoint(read[0].get("Addresses") or [])
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

    def prune(self, clock: datetime, dry_run: bool = False) -> dict[str, Any]:
        """Delete the sets of blocks that have ended: their rules leave the web ACL first, then
        the sets go. Idempotent; with nothing ended, only reads."""
        sets, groups, _ = self._find(create=False)
        if not sets and not groups:
            raise self._no_list()  # a typo in --list must not pass for "nothing expired" forever
        ended = {group: s for group, s in groups.items() if expiry.expired(group[1], clock)}
        pruned = [{"cidr": a, "expired": expiry.iso(end)} for (_, end), s in sorted(ended.items())
                  for a in self._addresses(s, missing_ok=True)]
        result: dict[str, Any] = {"list": self.names.name, "now": expiry.iso(clock), "pruned": pruned,
                                  "ip_sets_deleted": sorted(s["Name"] for s in ended.values()), "dry_run": dry_run,
                                  "changed": bool(ended) and not dry_run}
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
        self._journal(kind="prune", command="waf prune", pruned=pruned)
        return result

    # --- stages ---------------------------------------------------------------------------

    def attach(self, resource_arn: str, replace: bool = False, command: str = "waf attach",
               **where: str) -> dict[str, Any]:
        """Attach the list's web ACL to the stage (creating the list if needed). A stage holds one
        web ACL and AWS replaces it without a word: another one there is refused, unless
        `replace`. Journaled (kind waf-attach, with the web ACL it replaced) for undo; `where`
        (api_id, stage) joins the entry."""
        current = self.attachable(resource_arn, replace)
        result: dict[str, Any] = {"list": self.names.name, "stage_arn": resource_arn, "attached": True}
        if current is not None and current.get("Name") == self.names.web_acl:
            return {**result, "web_acl_arn": current["ARN"], "changed": False, "replaced": None}
        acl = self.web_acl(create=True)
        assert acl is not None
        self.waf.associate(acl["ARN"], resource_arn)
        replaced = _acl_ref(current)
        result.update(web_acl_arn=acl["ARN"], changed=True, replaced=replaced)
        result["journal_id"] = self._journal(kind="waf-attach", command=command, stage_arn=resource_arn,
                                             before=replaced, after=_acl_ref(acl), **where)
        return result

    def attachable(self, resource_arn: str, replace: bool = False) -> dict[str, Any] | None:
        """The web ACL on the stage now (None: none); a UsageError if it is another than this
        list's and not `replace`. Only reads."""
        current = self.waf.web_acl_for(resource_arn)
        if current is None or current.get("Name") == self.names.web_acl or replace:
            return current
        owner = list_name_of(current)
        replacing = f"attaching WAF list {self.names.name} would replace it (a stage holds one web ACL)"
        if owner is None:
            raise UsageError(f"stage {resource_arn} is guarded by web ACL {current.get('Name')}, which is not petgate's; "
                             f"{replacing}", "pass --replace to replace it anyway")
        count = sum(len(addresses) for _, addresses in block_rule_sets(self.waf, current))
        raise UsageError(
            f"stage {resource_arn} is guarded by WAF list {owner} (web ACL {current.get('Name')}, {count:,} address(es) "
            f"in its Block rules' IP sets); {replacing}",
            f"detach it first with `petgate waf detach --list {owner}`, or pass --replace")

    def detach(self, resource_arn: str, command: str = "waf detach", **where: str) -> dict[str, Any]:
        acl = self.waf.web_acl_for(resource_arn)
        if acl is None or acl.get("Name") != self.names.web_acl:
            return {"list": self.names.name, "stage_arn": resource_arn, "attached": False, "changed": False}
        self.waf.disassociate(resource_arn)
        journal_id = self._journal(kind="waf-detach", command=command, stage_arn=resource_arn, before=_acl_ref(acl),
                                   after=None, **where)
        return {"list": self.names.name, "stage_arn": resource_arn, "attached": False, "changed": True,
                "journal_id": journal_id}

    # --- show, delete -------------------------------------------------------------------

    def show(self, clock: datetime | None = None) -> dict[str, Any]:
        """The list's sets with their addresses; a set of blocks that end says when (`expires`)."""
        clock = clock or expiry.now(self.app.clock)
        acl = self.web_acl(create=False)
        sets, groups, _ = self._find(create=False)
        if acl is None or len(sets) < 2:
            raise self._no_list()
        ip_sets = []
        total = 0
        expiring: list[dict[str, Any]] = []
        every: list[tuple[int, datetime | None, dict[str, Any]]] = [(v, None, s) for v, s in sorted(sets.items())]
        every += [(version, end, s) for (version, end), s in sorted(groups.items())]
        for version, end, summary in every:
            addresses = self._addresses(summary)
            total += len(addresses)
            ip_sets.append({"name": summary["Name"], "arn": summary["ARN"], "version": f"IPV{version}",
                            "addresses": addresses, "count": len(addresses), "quota": 10_000,
                            "expires": expiry.iso(end)})
            if end is not None:
                expiring += [{"cidr": a, "expires": expiry.iso(end), "expired": expiry.expired(end, clock)} for a in addresses]
        return {"list": self.names.name, "web_acl_arn": acl["ARN"], "ip_sets": ip_sets, "addresses": total,
                "attached": self.waf.resources_for(acl["ARN"]), "expiring": expiring}

    def delete(self, command: str = "waf delete") -> dict[str, Any]:
        """Detach the list everywhere, delete its web ACL and IP sets. Journaled (kind delete) with
        what went: every set's addresses, the web ACL's rules, the stages it guarded, so that
        undo_entry can make the list again; journaled too when it stops half way."""
        acl = self.web_acl(create=False)
        sets = self.all_ip_sets()
        detached: list[str] = []
        gone: dict[str, Any] = {"web_acl": None, "sets": [], "attached": detached}
        try:
            if acl is not None:
                for resource in self.waf.resources_for(acl["ARN"]):
                    self.waf.disassociate(resource)
                    detached.append(resource)
                read = self.waf.delete_web_acl(acl)
                gone["web_acl"] = {"name": acl["Name"], "arn": acl["ARN"], "default_action": read.get("DefaultAction"),
                                   "visibility_config": read.get("VisibilityConfig"),
                                   "description": read.get("Description"), "rules": _json_safe(read.get("Rules") or [])}
            for summary in sets:
                ip_set = self.waf.delete_ip_set(summary)
                gone["sets"].append({"name": summary["Name"], "arn": summary["ARN"],
                                     "version": 6 if ip_set.get("IPAddressVersion") == "IPV6" else 4,
                                     "description": ip_set.get("Description"),
                                     "addresses": list(ip_set.get("Addresses") or [])})
        finally:
            if detached or gone["web_acl"] or gone["sets"]:
                self._journal(kind="delete", command=command, **gone)
        return {"list": self.names.name, "deleted": acl is not None or bool(sets), "detached": detached,
                "ip_sets": [s["Name"] for s in sets]}


# --- undo of attach, detach and delete ----------------------------------------------------------

UNDO_KINDS = ("waf-attach", "waf-detach", "delete")


def undo_entry(app: Services, entry: dict[str, Any], force: bool, dry_run: bool) -> dict[str, Any]:
    """Undo a journal entry of `waf attach` / `waf detach` (kinds waf-attach, waf-detach: the
    stage gets back the web ACL it had, or none) or `waf delete` (kind delete with a list: the
    list is made again, as it was, and attached where it was). Refuses (UsageError) when what
    the entry left has changed since, unless `force`; the undo is journaled too. The result
    has `kind`, `undoes`, `list`, `dry_run` and a `summary` line for the user."""
    kind = entry.get("kind")
    if kind in ("waf-attach", "waf-detach"):
        return _undo_stage(app, entry, force, dry_run)
    if kind == "delete" and entry.get("list"):
        return _undo_delete(app, entry, force, dry_run)
    raise UsageError(f"entry {entry.get('id')} is a {kind}, not a WAF list's attach, detach or delete")


def _acl_text(ref: dict[str, Any] | None) -> str:
    return "no web ACL" if ref is None else f"web ACL {ref.get('name')}"


def _undo_stage(app: Services, entry: dict[str, Any], force: bool, dry_run: bool) -> dict[str, Any]:
    arn = str(entry["stage_arn"])
    before, after = entry.get("before"), entry.get("after")
    now = _acl_ref(app.waf.web_acl_for(arn))
    if (now or {}).get("arn") != (after or {}).get("arn") and not force:
        raise UsageError(
            f"the web ACL of stage {arn} changed after entry {entry['id']} (it has {_acl_text(now)}, the entry left "
            f"{_acl_text(after)}); undoing it would overwrite that change",
            "check `petgate waf show`, then pass --force to undo anyway")
    where = {k: entry[k] for k in ("api_id", "stage") if entry.get(k)}
    would = "Would put" if dry_run else "Put"
    result: dict[str, Any] = {"kind": entry["kind"], "undoes": entry["id"], "list": entry["list"], "stage_arn": arn,
                              "dry_run": dry_run, "previous": now, "restored": before, **where,
                              "summary": f"{would} back {_acl_text(before)} on stage {arn}, as before {entry['id']}."}
    if dry_run or (now or {}).get("arn") == (before or {}).get("arn"):
        return result
    if before is None:
        app.waf.disassociate(arn)
    else:
        try:
            app.waf.associate(before["arn"], arn)
        except AwsError as exc:
            if exc.code != "WAFNonexistentItemException":
                raise
            raise UsageError(f"web ACL {before['name']} (or stage {arn}) no longer exists; entry {entry['id']} cannot "
                             "be undone", "attach a list with `petgate waf attach`, or detach with `petgate waf detach`") from None
    journaled = app.journal.record(target=app.target.describe(), kind="waf-attach" if before else "waf-detach",
                                   command="undo", undoes=entry["id"], list=entry["list"], stage_arn=arn,
                                   before=now, after=before, **where)
    result["journal_id"] = journaled["id"] if journaled else None
    return result


def _undo_delete(app: Services, entry: dict[str, Any], force: bool, dry_run: bool) -> dict[str, Any]:
    """Make the deleted list again: its IP sets with their addresses (not those of blocks that
    have ended since: they stay lifted), its web ACL with its rules on the new sets, attached to
    the stages it guarded. Nothing of the list may exist now; a stage that has another web ACL
    now is refused unless `force`. Fails whole: sets made before a failure are deleted again."""
    name = str(entry["list"])
    if "sets" not in entry:
        raise UsageError(f"entry {entry['id']} deleted WAF list {name} before petgate journaled what it held; "
                         "there is nothing to make it again from",
                         f"block the addresses again with `petgate waf block --list {name}`")
    names = ListNames(check_list_name(name))
    clock = expiry.now(app.clock)

    def ended(ip_set: dict[str, Any]) -> bool:
        group = names.group_of(ip_set["name"])
        return group is not None and expiry.expired(group[1], clock)

    sets = [s for s in entry["sets"] if not ended(s)]
    dropped = {s["arn"] for s in entry["sets"] if ended(s)}
    acl = entry.get("web_acl")
    existing = sorted({s["Name"] for s in app.waf.list_ip_sets()} & {s["name"] for s in entry["sets"]})
    if acl is not None and app.waf.find_web_acl(acl["name"]) is not None:
        existing.insert(0, acl["name"])
    if existing:
        raise UsageError(f"WAF list {name} exists again ({', '.join(existing)}); undoing entry {entry['id']} would "
                         "not overwrite it", f"see `petgate waf show --list {name}`; `petgate waf delete --list {name}` "
                         "first to make the deleted one again")
    attached = list(entry.get("attached") or []) if acl is not None else []
    for stage_arn in attached:
        other = app.waf.web_acl_for(stage_arn)
        if other is not None and not force:
            raise UsageError(f"stage {stage_arn} is guarded by web ACL {other.get('Name')} now; attaching WAF list "
                             f"{name} again would replace it", "pass --force to replace it")
    addresses = sum(len(s["addresses"]) for s in sets)
    result: dict[str, Any] = {
        "kind": "delete", "undoes": entry["id"], "list": name, "dry_run": dry_run,
        "ip_sets": [s["name"] for s in sets], "addresses": addresses, "ended": sorted(s["name"] for s in entry["sets"] if ended(s)),
        "attached": [], "not_attached": [], "web_acl_arn": None,
    }

    def told(verb: str) -> str:
        missed = f"; not attached again to {len(result['not_attached'])} (gone?)" if result["not_attached"] else ""
        return (f"{verb} WAF list {name} again ({len(sets)} IP set(s), {addresses:,} address(es)), attached to "
                f"{len(result['attached'])} stage(s){missed}, as before {entry['id']}.")

    if dry_run:
        result["attached"] = attached
        result["summary"] = told("Would make")
        return result
    created: list[dict[str, Any]] = []
    arns: dict[str, str] = {}
    try:
        for ip_set in sets:
            summary = app.waf.create_ip_set(ip_set["name"], int(ip_set["version"]),
                                            ip_set.get("description") or f"petgate deny list {name}",
                                            ip_set["addresses"], theirs_ok=False)
            created.append(summary)
            arns[ip_set["arn"]] = summary["ARN"]
        if acl is not None:
            rules = []
            for rule in copy.deepcopy(acl["rules"]):
                reference = (rule.get("Statement") or {}).get("IPSetReferenceStatement")
                if reference and reference.get("ARN") in dropped:
                    continue  # the rule of blocks that have ended
                if reference and reference.get("ARN") in arns:
                    reference["ARN"] = arns[reference["ARN"]]
                rules.append(rule)
            made = app.waf.create_web_acl(acl["name"], rules, acl.get("default_action"), acl.get("visibility_config"),
                                          acl.get("description") or "petgate deny list", theirs_ok=False)
            result["web_acl_arn"] = made["ARN"]
    except PetgateError:
        for summary in reversed(created):  # nothing half made is left behind (and billed)
            with contextlib.suppress(AwsError):
                app.waf.delete_ip_set(summary)
        raise
    for stage_arn in attached:
        try:
            app.waf.associate(result["web_acl_arn"], stage_arn)
            result["attached"].append(stage_arn)
        except AwsError as exc:  # the stage went since (its API deleted): the list is back all the same
            result["not_attached"].append({"stage_arn": stage_arn, "error": exc.line()})
    result["summary"] = told("Made")
    journaled = app.journal.record(target=app.target.describe(), kind="waf-recreate", command="undo",
                                   undoes=entry["id"], list=name, ip_sets=result["ip_sets"], attached=result["attached"])
    result["journal_id"] = journaled["id"] if journaled else None
    return result


def blocking_rule(app: Services, resource_arn: str, address: str) -> str | None:
    """The name of the Block rule of the resource's web ACL whose IP set holds the address
    (None: no web ACL, or none of its Block rules matches). The data plane's own order: WAF
    decides before the resource policy."""
    acl = app.waf.web_acl_for(resource_arn)
    if acl is None:
        return None
    parsed = unmapped_address(ipaddress.ip_address(address))  # ::ffff:192.0.2.1 is 192.0.2.1, as the data plane sees it
    for rule, addresses in block_rule_sets(app.waf, acl):
        networks = (ipaddress.ip_network(a, strict=False) for a in addresses)
        if any(parsed.version == n.version and parsed in n for n in networks):
            return str(rule.get("Name"))
    return None
