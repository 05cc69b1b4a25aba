"""The parts of a petgate deny list in AWS WAF, found by name (waf_names) or made when missing:
its two permanent IP sets (one per IP version), the sets of blocks that end, and its web ACL.
The base of waf_list.WafList: the modules that change addresses (waf_addresses) and guard
stages (waf_stages) build on it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from petgate.errors import UsageError
from petgate.ops.results import Result
from petgate.ops.services import Services
from petgate.waf import Waf
from petgate.waf_names import ListNames, block_rules, check_list_name

Sets = dict[int, dict[str, Any]]
Groups = dict[tuple[int, datetime], dict[str, Any]]


@dataclass(frozen=True, kw_only=True)
class ListResult(Result):
    """A result about one WAF list, by name. (Its subclasses' own `list[str]` annotations see
    the builtin: a field `list` in their own body would hide it from mypy.)"""

    list: str


class ListParts:
    def __init__(self, app: Services, name: str) -> None:
        self.app = app
        self.names = ListNames(check_list_name(name))
        self.waf: Waf = app.waf

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
