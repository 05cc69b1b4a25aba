"""A WAF list on stages: attach its web ACL to a stage (a stage holds one: another there is
refused unless replaced on purpose), detach it, and which Block rule of a stage's web ACL holds
an address (the data plane's order: WAF decides before the resource policy)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from petgate.errors import UsageError
from petgate.ops.results import UNSET, Unset
from petgate.ops.services import Services
from petgate.policy import unmapped_address
from petgate.waf import Waf
from petgate.waf_names import list_name_of
from petgate.waf_parts import ListParts, ListResult


@dataclass(frozen=True, kw_only=True)
class ListAttached(ListResult):
    """`waf attach`: `replaced` is the web ACL the stage had (None: none, or this list's)."""

    stage_arn: str
    attached: bool
    web_acl_arn: str
    changed: bool
    replaced: dict[str, str] | None
    journal_id: str | None | Unset = UNSET


@dataclass(frozen=True, kw_only=True)
class ListDetached(ListResult):
    stage_arn: str
    attached: bool
    changed: bool
    journal_id: str | None | Unset = UNSET


def acl_ref(acl: dict[str, Any] | None) -> dict[str, str] | None:
    """What the journal keeps of a web ACL on a stage: enough to attach it again."""
    return None if acl is None else {"arn": str(acl["ARN"]), "name": str(acl["Name"])}


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


class ListStages(ListParts):
    def attach(self, resource_arn: str, replace: bool = False, command: str = "waf attach",
               **where: str) -> ListAttached:
        """Attach the list's web ACL to the stage (creating the list if needed). A stage holds one
        web ACL and AWS replaces it without a word: another one there is refused, unless
        `replace`. Journaled (kind waf-attach, with the web ACL it replaced) for undo; `where`
        (api_id, stage) joins the entry."""
        current = self.attachable(resource_arn, replace)
        if current is not None and current.get("Name") == self.names.web_acl:
            return ListAttached(list=self.names.name, stage_arn=resource_arn, attached=True,
                                web_acl_arn=current["ARN"], changed=False, replaced=None)
        acl = self.web_acl(create=True)
        assert acl is not None
        self.waf.associate(acl["ARN"], resource_arn)
        replaced = acl_ref(current)
        journal_id = self._journal(kind="waf-attach", command=command, stage_arn=resource_arn, before=replaced,
                                   after=acl_ref(acl), **where)
        return ListAttached(list=self.names.name, stage_arn=resource_arn, attached=True, web_acl_arn=acl["ARN"],
                            changed=True, replaced=replaced, journal_id=journal_id)

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

    def detach(self, resource_arn: str, command: str = "waf detach", **where: str) -> ListDetached:
        acl = self.waf.web_acl_for(resource_arn)
        if acl is None or acl.get("Name") != self.names.web_acl:
            return ListDetached(list=self.names.name, stage_arn=resource_arn, attached=False, changed=False)
        self.waf.disassociate(resource_arn)
        journal_id = self._journal(kind="waf-detach", command=command, stage_arn=resource_arn, before=acl_ref(acl),
                                   after=None, **where)
        return ListDetached(list=self.names.name, stage_arn=resource_arn, attached=False, changed=True,
                            journal_id=journal_id)
