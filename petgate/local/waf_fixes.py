"""Where moto's wafv2 answers differently from AWS, corrected once in moto's own classes (see
ARCHITECTURE.md, "The local gateway"): CIDR validation, the 10,000-address quota, duplicate names,
deleting what is in use, re-association, `UpdateWebACL(Rules=[])`. Error codes are AWS WAF's
(API reference, "Common errors" of each operation)."""

from __future__ import annotations

import ipaddress
from typing import Any

from petgate.local import waf_capacity

MAX_ADDRESSES = 10_000
_installed = False


def _error(code: str, message: str) -> Exception:
    from moto.core.exceptions import JsonRESTError

    error = JsonRESTError(code, message)
    error.code = 400
    return error


def check_addresses(addresses: list[str], version: str) -> None:
    """AWS WAF's rules for an IP set: CIDRs of the set's version, no /0, at most 10,000."""
    if len(addresses) > MAX_ADDRESSES:
        raise _error("WAFLimitsExceededException",
                     f"AWS WAF couldn't perform the operation because you exceeded your resource limit: "
                     f"an IP set holds at most {MAX_ADDRESSES} addresses ({len(addresses)} given).")
    for address in addresses:
        try:
            network = ipaddress.ip_network(address, strict=True)
        except ValueError:
            network = None
        if "/" not in str(address) or network is None or f"IPV{network.version}" != version or network.prefixlen == 0:
            raise _error("WAFInvalidParameterException",
                         f"Error reason: The parameter contains formatting that is not valid., field: IP_ADDRESS, "
                         f"parameter: {address}")


def install() -> None:
    global _installed
    if _installed:
        return
    from moto.wafv2 import models

    backend_class = models.WAFV2Backend
    original_create_ip_set = backend_class.create_ip_set
    original_update_ip_set = backend_class.update_ip_set
    original_delete_ip_set = backend_class.delete_ip_set
    original_delete_web_acl = backend_class.delete_web_acl
    original_associate = backend_class.associate_web_acl
    original_update_web_acl = backend_class.update_web_acl
    original_create_web_acl = backend_class.create_web_acl
    duplicate = ("AWS WAF couldn't perform the operation because some resource in your request is a "
                 "duplicate of an existing one.")

    def create_ip_set(self: Any, name: str, scope: str, description: str, ip_address_version: str,
                      addresses: list[str], tags: list[dict[str, str]]) -> Any:
        if any(s.name == name and s.scope == scope for s in self.ip_sets.values()):
            raise _error("WAFDuplicateItemException", duplicate)
        check_addresses(addresses or [], ip_address_version)
        return original_create_ip_set(self, name, scope, description, ip_address_version, addresses, tags)

    def create_web_acl(self: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        # AWS's code is WAFDuplicateItemException (moto says WafV2DuplicateItem)
        if any(acl.name == name for acl in self.wacls.values()):
            raise _error("WAFDuplicateItemException", duplicate)
        return original_create_web_acl(self, name, *args, **kwargs)

    def update_ip_set(self: Any, name: str, scope: str, _id: str, description: str | None,
                      addresses: list[str], lock_token: str) -> Any:
        current = next((s for s in self.ip_sets.values() if s.ip_set_id == _id), None)
        if current is not None:
            check_addresses(addresses or [], current.ip_address_version)
        return original_update_ip_set(self, name, scope, _id, description, addresses, lock_token)

    def in_use(self: Any, arn: str) -> bool:
        return any(arn in str(rule.statement) for acl in self.wacls.values() for rule in acl.rules)

    def delete_ip_set(self: Any, name: str, scope: str, _id: str, lock_token: str) -> None:
        current = next((s for s in self.ip_sets.values() if s.ip_set_id == _id), None)
        if current is not None and in_use(self, current.arn):
            raise _error("WAFAssociatedItemException",
                         "AWS WAF couldn't perform the operation because your resource is being used by another "
                         "resource or it's associated with another resource.")
        original_delete_ip_set(self, name, scope, _id, lock_token)

    def delete_web_acl(self: Any, name: str, scope: str, _id: str, lock_token: str) -> None:
        acl = next((a for a in self.wacls.values() if a.id == _id), None)
        if acl is not None and acl.associated_resources:
            raise _error("WAFAssociatedItemException",
                         "AWS WAF couldn't perform the operation because your resource is being used by another "
                         "resource or it's associated with another resource.")
        original_delete_web_acl(self, name, scope, _id, lock_token)

    def associate_web_acl(self: Any, web_acl_arn: str, resource_arn: str) -> None:
        # a resource has one web ACL: associating another replaces it (moto kept both)
        for acl in self.wacls.values():
            if resource_arn in acl.associated_resources and acl.arn != web_acl_arn:
                acl.associated_resources.remove(resource_arn)
        acl = self.wacls.get(web_acl_arn)
        if acl is not None and resource_arn in acl.associated_resources:
            return
        original_associate(self, web_acl_arn, resource_arn)

    def update_web_acl(self: Any, name: str, _id: str, default_action: Any, rules: Any, *args: Any, **kwargs: Any) -> str:
        token = original_update_web_acl(self, name, _id, default_action, rules, *args, **kwargs)
        if rules is not None and not rules:  # Rules=[] empties the list (moto kept the old rules)
            self.get_web_acl(None, name, _id).rules = []
        return str(token)

    def list_resources_for_web_acl(self: Any, web_acl_arn: str) -> list[str]:
        from moto.wafv2.exceptions import WAFNonexistentItemException

        acl = self.wacls.get(web_acl_arn)
        if acl is None:
            raise WAFNonexistentItemException()
        return list(acl.associated_resources)

    original_web_acl_dict = models.FakeWebACL.to_dict

    def web_acl_to_dict(self: Any) -> dict[str, Any]:
        # AWS WAF Developer Guide, "Web ACL capacity units": a web ACL's Capacity is its rules'
        # WCUs (one IP set rule: 1), not moto's fixed 3
        shown = dict(original_web_acl_dict(self))
        shown["Capacity"] = capacity(shown.get("Rules"), self.arn.split(":")[4], self.arn.split(":")[3])
        return shown

    models.FakeWebACL.to_dict = web_acl_to_dict  # type: ignore[method-assign]
    for name, function in {"create_ip_set": create_ip_set, "create_web_acl": create_web_acl, "update_ip_set": update_ip_set,
                           "delete_ip_set": delete_ip_set, "delete_web_acl": delete_web_acl,
                           "associate_web_acl": associate_web_acl, "update_web_acl": update_web_acl,
                           "list_resources_for_web_acl": list_resources_for_web_acl}.items():
        setattr(backend_class, name, function)
    _installed = True


def capacity(rules: Any, account_id: str, region: str) -> int:
    """The rules' WCUs (waf_capacity.py), a rule group's from that group in this account."""
    groups = backend(account_id, region).rule_groups

    def group_capacity(arn: str) -> int:
        group = groups.get(arn)
        return int(group.capacity) if group is not None and isinstance(group.capacity, int) else 0

    return waf_capacity.rules_capacity(rules, group_capacity)


def backend(account_id: str, region: str) -> Any:
    from moto.wafv2.models import wafv2_backends

    return wafv2_backends[account_id][region]
