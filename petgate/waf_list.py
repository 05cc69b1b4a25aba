"""A petgate deny list kept in AWS WAF (the store past the resource policy's quota): find or
create its IP sets and web ACL, change its addresses, attach it to stages, show it, delete it.
Every AWS call goes through waf.Waf."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from petgate import expiry
from petgate.app import App
from petgate.errors import AwsError, UsageError
from petgate.policy import collapse, covered
from petgate.waf import ListNames, Waf, block_rule, block_rules, split_by_version


class WafList:
    def __init__(self, app: App, name: str) -> None:
        self.app = app
        self.names = ListNames(name)
        self.waf: Waf = app.waf

    # --- finding, creating -----------------------------------------------------------------

    def ip_sets(self, create: bool) -> dict[int, dict[str, Any]]:
        """The list's two IP sets (permanent blocks), by IP version."""
        return self._sets(create)[0]

    def all_ip_sets(self) -> list[dict[str, Any]]:
        """Every IP set of the list: the two permanent ones and those of blocks that end."""
        sets, groups = self._sets(create=False)
        return [*sets.values(), *groups.values()]

    def _sets(self, create: bool) -> tuple[dict[int, dict[str, Any]], dict[tuple[int, datetime], dict[str, Any]]]:
        """(the two IP sets by version, the sets of blocks that end by (version, end)), from one listing."""
        listed = self.waf.list_ip_sets()
        found: dict[int, dict[str, Any]] = {}
        for version in (4, 6):
            summary = next((s for s in listed if s["Name"] == self.names.ip_set(version)), None)
            if summary is None and create:
                summary = self.waf.create_ip_set(self.names.ip_set(version), version, f"petgate deny list {self.names.name}")
            if summary is not None:
                found[version] = summary
        groups = {group: s for s in listed if (group := self.names.group_of(s["Name"])) is not None}
        return found, groups

    def web_acl(self, create: bool, sets: dict[int, dict[str, Any]] | None = None) -> dict[str, Any] | None:
        """The list's web ACL; with `create`, made (with its IP sets, unless given) when missing."""
        acl = self.waf.find_web_acl(self.names.web_acl)
        if acl is None and create:
            sets = sets or self.ip_sets(create=True)
            acl = self.waf.create_web_acl(self.names.web_acl, block_rules(sets[4]["ARN"], sets[6]["ARN"], self.names.name))
        return acl

    def _no_list(self) -> UsageError:
        return UsageError(f"there is no WAF list {self.names.name!r} yet", "create it with `petgate waf block` or `petgate waf attach`")

    # --- changing addresses -----------------------------------------------------------------

    def change(self, adding: list[str], removing: list[str], everything: bool = False, until: datetime | None = None,
               clock: datetime | None = None, permanent_only: bool = False, command: str | None = None) -> dict[str, Any]:
        """Add and remove addresses (IPv4 and IPv6 go to their own sets), under WAF's LockToken.
        With `until`, the added addresses go to the set of blocks ending then (made if needed);
        removing takes addresses out of every set of the list, or only the permanent ones."""
        add, remove = split_by_version(adding), split_by_version(removing)
        sets, groups = self._sets(create=True)
        acl = self.web_acl(create=True, sets=sets)
        assert acl is not None
        result: dict[str, Any] = {"list": self.names.name, "added": [], "removed": [], "ip_sets": {},
                                  "until": expiry.iso(until)}
        journal: dict[str, Any] = {}

        def apply(summary: dict[str, Any], adding: list[str], removing: list[str]) -> None:
            def edit(current: list[str]) -> list[str]:
                if everything:
                    return []
                gone = set(removing)
                kept = [a for a in current if a not in gone]
                return collapse(kept + adding) if adding else kept

            before, after = self.waf.edit_ip_set(summary, edit)
            had, has = set(before), set(after)  # sets: with 10,000 addresses, list lookups cost seconds
            result["added"] += [a for a in after if a not in had]
            result["removed"] += [a for a in before if a not in has]
            result["ip_sets"][summary["Name"]] = len(after)
            if before != after:
                journal[summary["Name"]] = {"before": before, "after": after}

        for version, summary in sets.items():
            apply(summary, [] if until else add[version], remove[version])
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
            entry = self.app.journal.record(target=self.app.target.describe(), kind="waf", command=command,
                                            list=self.names.name, ip_sets=journal)
            result["journal_id"] = entry["id"] if entry else None
        return result

    def sync(self, decide: Callable[[list[str]], tuple[list[str], list[str]]], dry_run: bool) -> dict[str, Any]:
        """Change the permanent sets as `decide` says from their current addresses (it may refuse)."""
        sets, _ = self._sets(create=False)
        added, removed = decide([a for summary in sets.values() for a in self._addresses(summary)])
        result: dict[str, Any] = {"list": self.names.name, "added": added, "removed": removed, "dry_run": dry_run,
                                  "changed": bool(added or removed)}
        if not dry_run and (added or removed):
            changed = self.change(added, removed, permanent_only=True, command="waf sync")
            result.update({k: v for k, v in changed.items() if k not in ("added", "removed")})
        return result

    def _add_until(self, acl: dict[str, Any], sets: dict[int, dict[str, Any]],
                   groups: dict[tuple[int, datetime], dict[str, Any]], add: dict[int, list[str]], until: datetime,
                   clock: datetime, apply: Any) -> None:
        """Put addresses in the set of blocks ending at `until` (or a little later, expiry.group_for),
        leaving out those already blocked at least that long."""
        lasting = [a for v in (4, 6) for a in self._addresses(sets[v])]
        lasting += [a for (_, end), summary in groups.items() if end >= until for a in self._addresses(summary)]
        group_until = expiry.group_for(until, {end for _, end in groups}, clock)
        for version in (4, 6):
            wanted = [a for a in add[version] if not covered(a, lasting)]
            if not wanted:
                continue
            summary = groups.get((version, group_until))
            if summary is None:
                name = self.names.group_ip_set(version, group_until)
                summary = self.waf.create_ip_set(name, version, f"petgate deny list {self.names.name} until {expiry.iso(group_until)}")
                groups[(version, group_until)] = summary
            self._ensure_rule(acl, version, group_until, summary)
            apply(summary, wanted, [])

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
        sets, groups = self._sets(create=False)
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
        self.app.journal.record(target=self.app.target.describe(), kind="prune", command="waf prune",
                                list=self.names.name, pruned=pruned)
        return result

    # --- stages ---------------------------------------------------------------------------

    def attach(self, resource_arn: str) -> dict[str, Any]:
        acl = self.web_acl(create=True)
        assert acl is not None
        self.waf.associate(acl["ARN"], resource_arn)
        return {"list": self.names.name, "web_acl_arn": acl["ARN"], "stage_arn": resource_arn, "attached": True}

    def detach(self, resource_arn: str) -> dict[str, Any]:
        acl = self.waf.web_acl_for(resource_arn)
        if acl is None or acl.get("Name") != self.names.web_acl:
            return {"list": self.names.name, "stage_arn": resource_arn, "attached": False, "changed": False}
        self.waf.disassociate(resource_arn)
        return {"list": self.names.name, "stage_arn": resource_arn, "attached": False, "changed": True}

    # --- show, delete -------------------------------------------------------------------

    def show(self, clock: datetime | None = None) -> dict[str, Any]:
        """The list's sets with their addresses; a set of blocks that end says when (`expires`)."""
        clock = clock or expiry.now()
        acl = self.web_acl(create=False)
        sets, groups = self._sets(create=False)
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

    def delete(self) -> dict[str, Any]:
        acl = self.web_acl(create=False)
        sets = self.all_ip_sets()
        detached: list[str] = []
        if acl is not None:
            for resource in self.waf.resources_for(acl["ARN"]):
                self.waf.disassociate(resource)
                detached.append(resource)
            self.waf.delete_web_acl(acl)
        for summary in sets:
            self.waf.delete_ip_set(summary)
        if acl is not None or sets:  # journaled, so that `undo` explains why earlier changes cannot go back
            self.app.journal.record(target=self.app.target.describe(), kind="delete", command="waf delete",
                                    list=self.names.name)
        return {"list": self.names.name, "deleted": acl is not None or bool(sets), "detached": detached,
                "ip_sets": [s["Name"] for s in sets]}


def blocking_rule(app: App, resource_arn: str, address: str) -> str | None:
    """The name of the Block rule of the resource's web ACL whose IP set holds the address
    (None: no web ACL, or none of its Block rules matches). The data plane's own order: WAF
    decides before the resource policy."""
    import ipaddress

    acl = app.waf.web_acl_for(resource_arn)
    if acl is None:
        return None
    parsed = ipaddress.ip_address(address)
    for rule in sorted(acl.get("Rules") or [], key=lambda r: r.get("Priority", 0)):
        reference = (rule.get("Statement") or {}).get("IPSetReferenceStatement")
        if "Block" not in (rule.get("Action") or {}) or not reference:
            continue
        name, set_id = reference["ARN"].split("/")[-2:]
        ip_set, _ = app.waf.get_ip_set({"Name": name, "Id": set_id})
        if any(parsed in ipaddress.ip_network(a, strict=False) for a in ip_set.get("Addresses") or []):
            return str(rule.get("Name"))
    return None
