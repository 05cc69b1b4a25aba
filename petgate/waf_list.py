"""A petgate deny list kept in AWS WAF (the store past the resource policy's quota), as one
thing: its parts found or made (waf_parts), its addresses changed and shown (waf_addresses),
its web ACL on stages (waf_stages), and deleting it whole, journaled so that undo (waf_undo)
can make it again. Every AWS call goes through waf.Waf; every name comes from waf_names."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from petgate.waf_addresses import ListAddresses
from petgate.waf_parts import ListResult
from petgate.waf_stages import ListStages


@dataclass(frozen=True, kw_only=True)
class ListDeleted(ListResult):
    """`waf delete`: `deleted` is false when there was nothing of the list; `detached` the
    stages it guarded, `ip_sets` the names of the sets that went."""

    deleted: bool
    detached: list[str]
    ip_sets: list[str]


def _json_safe(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rules as JSON can keep them (a byte-match string of the user's own is text)."""
    def text(value: Any) -> str:
        return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)

    return list(json.loads(json.dumps(rules, default=text)))


class WafList(ListAddresses, ListStages):
    def delete(self, command: str = "waf delete") -> ListDeleted:
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
        return ListDeleted(list=self.names.name, deleted=acl is not None or bool(sets), detached=detached,
                           ip_sets=[s["Name"] for s in sets])
