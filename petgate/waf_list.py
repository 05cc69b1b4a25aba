"""A petgate deny list kept in AWS WAF (the store past the resource policy's quota): find or
create its IP sets and web ACL, change its addresses, attach it to stages, show it, delete it.
Every AWS call goes through waf.Waf."""

from __future__ import annotations

from typing import Any

from petgate.app import App
from petgate.errors import UsageError
from petgate.policy import collapse
from petgate.waf import ListNames, Waf, block_rules, split_by_version


class WafList:
    def __init__(self, app: App, name: str) -> None:
        self.app = app
        self.names = ListNames(name)
        self.waf: Waf = app.waf

    # --- finding, creating -----------------------------------------------------------------

    def ip_sets(self, create: bool) -> dict[int, dict[str, Any]]:
        found: dict[int, dict[str, Any]] = {}
        for version in (4, 6):
            summary = self.waf.find_ip_set(self.names.ip_set(version))
            if summary is None and create:
                summary = self.waf.create_ip_set(self.names.ip_set(version), version, f"petgate deny list {self.names.name}")
            if summary is not None:
                found[version] = summary
        return found

    def web_acl(self, create: bool, sets: dict[int, dict[str, Any]] | None = None) -> dict[str, Any] | None:
        """The list's web ACL; with `create`, made (with its IP sets, unless given) when missing."""
        acl = self.waf.find_web_acl(self.names.web_acl)
        if acl is None and create:
            sets = sets or self.ip_sets(create=True)
            acl = self.waf.create_web_acl(self.names.web_acl, block_rules(sets[4]["ARN"], sets[6]["ARN"], self.names.name))
        return acl

    def require(self) -> tuple[dict[str, Any], dict[int, dict[str, Any]]]:
        acl, sets = self.web_acl(create=False), self.ip_sets(create=False)
        if acl is None or len(sets) < 2:
            raise UsageError(f"there is no WAF list {self.names.name!r} yet", "create it with `petgate waf block` or `petgate waf attach`")
        return acl, sets

    # --- changing addresses -----------------------------------------------------------------

    def change(self, adding: list[str], removing: list[str], everything: bool = False) -> dict[str, Any]:
        """Add and remove addresses (IPv4 and IPv6 go to their own sets), under WAF's LockToken."""
        add, remove = split_by_version(adding), split_by_version(removing)
        sets = self.ip_sets(create=True)
        self.web_acl(create=True, sets=sets)
        result: dict[str, Any] = {"list": self.names.name, "added": [], "removed": [], "ip_sets": {}}
        journal: dict[str, Any] = {}
        for version, summary in sets.items():
            def edit(current: list[str], version: int = version) -> list[str]:
                if everything:
                    return []
                gone = set(remove[version])
                kept = [a for a in current if a not in gone]
                return collapse(kept + add[version]) if add[version] else kept

            before, after = self.waf.edit_ip_set(summary, edit)
            result["added"] += [a for a in after if a not in before]
            result["removed"] += [a for a in before if a not in after]
            result["ip_sets"][summary["Name"]] = len(after)
            if before != after:
                journal[summary["Name"]] = {"before": before, "after": after}
        result["changed"] = bool(journal)
        result["lock_retries"] = self.waf.lock_retries
        if journal:
            command = "waf block" if adding else "waf unblock"
            entry = self.app.journal.record(target=self.app.target.describe(), kind="waf", command=command,
                                            list=self.names.name, ip_sets=journal)
            result["journal_id"] = entry["id"] if entry else None
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

    def show(self) -> dict[str, Any]:
        acl, sets = self.require()
        ip_sets = []
        total = 0
        for version, summary in sorted(sets.items()):
            ip_set, _ = self.waf.get_ip_set(summary)
            addresses = list(ip_set.get("Addresses") or [])
            total += len(addresses)
            ip_sets.append({"name": summary["Name"], "arn": summary["ARN"], "version": f"IPV{version}",
                            "addresses": addresses, "count": len(addresses), "quota": 10_000})
        return {"list": self.names.name, "web_acl_arn": acl["ARN"], "ip_sets": ip_sets, "addresses": total,
                "attached": self.waf.resources_for(acl["ARN"])}

    def delete(self) -> dict[str, Any]:
        acl, sets = self.web_acl(create=False), self.ip_sets(create=False)
        detached: list[str] = []
        if acl is not None:
            for resource in self.waf.resources_for(acl["ARN"]):
                self.waf.disassociate(resource)
                detached.append(resource)
            self.waf.delete_web_acl(acl)
        for summary in sets.values():
            self.waf.delete_ip_set(summary)
        if acl is not None or sets:  # journaled, so that `undo` explains why earlier changes cannot go back
            self.app.journal.record(target=self.app.target.describe(), kind="delete", command="waf delete",
                                    list=self.names.name)
        return {"list": self.names.name, "deleted": acl is not None or bool(sets), "detached": detached,
                "ip_sets": [s["Name"] for s in sets.values()]}


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
