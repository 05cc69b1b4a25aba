"""The one class that makes every boto3 `wafv2` call petgate uses (REGIONAL scope), with its
retries. The names and the shape of a petgate WAF list are waf_names' (pure), re-exported here
for the modules that import them from petgate.waf.

Writes carry WAF's LockToken; a WAFOptimisticLockException (another writer, on any machine,
changed the set since we read it) is retried with a fresh read, so nothing is lost.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

from petgate.errors import AwsError, UsageError
from petgate.gateway import aws_errors
from petgate.waf_names import (
    ListNames,
    block_rule,
    block_rules,
    check_list_name,
    split_by_version,
    stage_arn,
)

__all__ = ["MAX_ADDRESSES", "MAX_LOCK_RETRIES", "SCOPE", "ListNames", "Waf", "block_rule", "block_rules",
           "check_list_name", "split_by_version", "stage_arn"]

SCOPE = "REGIONAL"
MAX_ADDRESSES = 10_000  # per IP set, fixed
MAX_LOCK_RETRIES = 8


class Waf:
    def __init__(self, client: Any, sleep: Callable[[float], None] = time.sleep) -> None:
        self.client = client
        self.sleep = sleep
        self.lock_retries = 0  # how often another writer made us read again (for JSON output)

    # --- finding things by name ----------------------------------------------------------

    def _list(self, operation: str, key: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        marker = None
        while True:
            kwargs: dict[str, Any] = {"Scope": SCOPE, "Limit": 100}
            if marker:
                kwargs["NextMarker"] = marker
            with aws_errors(f"listing WAF {key}"):
                page = getattr(self.client, operation)(**kwargs)
            items += page.get(key, [])
            marker = page.get("NextMarker")
            if not marker or not page.get(key):
                return items

    def list_ip_sets(self) -> list[dict[str, Any]]:
        return self._list("list_ip_sets", "IPSets")

    def find_ip_set(self, name: str) -> dict[str, Any] | None:
        return next((s for s in self.list_ip_sets() if s["Name"] == name), None)

    def list_web_acls(self) -> list[dict[str, Any]]:
        return self._list("list_web_acls", "WebACLs")

    def find_web_acl(self, name: str) -> dict[str, Any] | None:
        return next((a for a in self.list_web_acls() if a["Name"] == name), None)

    # --- IP sets -------------------------------------------------------------------------

    def get_ip_set(self, summary: dict[str, Any]) -> tuple[dict[str, Any], str]:
        with aws_errors(f"reading IP set {summary['Name']}"):
            answer = self.client.get_ip_set(Name=summary["Name"], Scope=SCOPE, Id=summary["Id"])
        return dict(answer["IPSet"]), str(answer["LockToken"])

    def _create_or_find(self, what: str, create: Callable[[], Any], find: Callable[[], dict[str, Any] | None]) -> dict[str, Any]:
        """Create a named thing; if another writer just created it (WAFDuplicateItemException), use theirs."""
        try:
            with aws_errors(f"creating {what}"):
                return dict(create()["Summary"])
        except AwsError as exc:
            found = find() if exc.code == "WAFDuplicateItemException" else None
            if found is None:
                raise
            return found

    def _until_written(self, what: str, attempt: Callable[[], None]) -> None:
        """Run `attempt` (read with the LockToken, change, write) until a write goes through: a
        WAFOptimisticLockException means another writer came first, so read again, after jitter."""
        for number in range(1, MAX_LOCK_RETRIES + 1):
            try:
                attempt()
                return
            except AwsError as exc:
                if exc.code != "WAFOptimisticLockException":
                    raise
                self.lock_retries += 1  # conflicts met (the last one is not tried again)
                if number < MAX_LOCK_RETRIES:
                    self.sleep(random.uniform(0.05, 0.25) * number)  # jitter: writers must not retry in step
        raise AwsError(f"{what} kept changing under petgate", "run the command again; nothing was lost")

    def create_ip_set(self, name: str, version: int, description: str, addresses: list[str] | None = None,
                      theirs_ok: bool = True) -> dict[str, Any]:
        """Create the set (with `addresses`); one another writer just created is used, unless not `theirs_ok`."""
        return self._create_or_find(
            f"IP set {name}",
            lambda: self.client.create_ip_set(
                Name=name, Scope=SCOPE, IPAddressVersion=f"IPV{version}", Addresses=list(addresses or []),
                Description=description),
            (lambda: self.find_ip_set(name)) if theirs_ok else (lambda: None),
        )

    def edit_ip_set(self, summary: dict[str, Any], change: Callable[[list[str]], list[str]],
                    read: tuple[dict[str, Any], str] | None = None) -> tuple[list[str], list[str]]:
        """Read, change and write the set's addresses under its LockToken, again on a conflict.
        Returns (before, after); nothing is written when nothing changes. `read`: the set as
        get_ip_set just gave it, used for the first attempt instead of reading it again (its
        LockToken still guards the write: a change since means a conflict, so a fresh read)."""
        outcome: list[list[str]] = []
        reads = [read] if read is not None else []

        def attempt() -> None:
            ip_set, token = reads.pop() if reads else self.get_ip_set(summary)
            before = list(ip_set.get("Addresses") or [])
            after = change(before)
            if len(after) > MAX_ADDRESSES:
                raise UsageError(
                    f"IP set {summary['Name']} would hold {len(after):,} addresses; AWS WAF takes at most "
                    f"{MAX_ADDRESSES:,} per set (nothing was written)",
                )
            unchanged = sorted(after) == sorted(before)
            outcome[:] = [before, before if unchanged else after]
            if not unchanged:
                with aws_errors(f"writing IP set {summary['Name']}"):
                    self.client.update_ip_set(
                        Name=summary["Name"], Scope=SCOPE, Id=summary["Id"], Addresses=after, LockToken=token,
                        Description=ip_set.get("Description") or "petgate deny list",
                    )

        self._until_written(f"IP set {summary['Name']}", attempt)
        return outcome[0], outcome[1]

    def delete_ip_set(self, summary: dict[str, Any]) -> dict[str, Any]:
        """Delete the set; returns it as read just before (its addresses)."""
        ip_set, token = self.get_ip_set(summary)
        with aws_errors(f"deleting IP set {summary['Name']}"):
            self.client.delete_ip_set(Name=summary["Name"], Scope=SCOPE, Id=summary["Id"], LockToken=token)
        return ip_set

    # --- web ACLs ------------------------------------------------------------------------

    def create_web_acl(self, name: str, rules: list[dict[str, Any]], default_action: dict[str, Any] | None = None,
                       visibility: dict[str, Any] | None = None, description: str = "petgate deny list",
                       theirs_ok: bool = True) -> dict[str, Any]:
        return self._create_or_find(
            f"web ACL {name}",
            lambda: self.client.create_web_acl(
                Name=name, Scope=SCOPE, DefaultAction=default_action or {"Allow": {}}, Rules=rules,
                Description=description,
                VisibilityConfig=visibility or {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True,
                                                "MetricName": name}),
            (lambda: self.find_web_acl(name)) if theirs_ok else (lambda: None),
        )

    def get_web_acl(self, summary: dict[str, Any]) -> tuple[dict[str, Any], str]:
        with aws_errors(f"reading web ACL {summary['Name']}"):
            answer = self.client.get_web_acl(Name=summary["Name"], Scope=SCOPE, Id=summary["Id"])
        return dict(answer["WebACL"]), str(answer["LockToken"])

    def edit_rules(self, summary: dict[str, Any], change: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]) -> None:
        """Read, change and write the web ACL's rules under its LockToken, again on a conflict.
        Everything else of the web ACL (default action, custom bodies, ...) is written back as read."""
        keep = ("Description", "CustomResponseBodies", "CaptchaConfig", "ChallengeConfig", "TokenDomains",
                "AssociationConfig")

        def attempt() -> None:
            acl, token = self.get_web_acl(summary)
            rules = list(acl.get("Rules") or [])
            changed = change(rules)
            if changed == rules:
                return
            with aws_errors(f"writing web ACL {summary['Name']}"):
                self.client.update_web_acl(
                    Name=summary["Name"], Scope=SCOPE, Id=summary["Id"], DefaultAction=acl["DefaultAction"],
                    Rules=changed, VisibilityConfig=acl["VisibilityConfig"], LockToken=token,
                    **{k: acl[k] for k in keep if acl.get(k)},
                )

        self._until_written(f"web ACL {summary['Name']}", attempt)

    def delete_web_acl(self, summary: dict[str, Any]) -> dict[str, Any]:
        """Delete the web ACL; returns it as read just before (its rules)."""
        acl, token = self.get_web_acl(summary)
        with aws_errors(f"deleting web ACL {summary['Name']}"):
            self.client.delete_web_acl(Name=summary["Name"], Scope=SCOPE, Id=summary["Id"], LockToken=token)
        return acl

    def associate(self, web_acl_arn: str, resource_arn: str) -> None:
        with aws_errors(f"attaching the web ACL to {resource_arn}"):
            self.client.associate_web_acl(WebACLArn=web_acl_arn, ResourceArn=resource_arn)

    def disassociate(self, resource_arn: str) -> None:
        with aws_errors(f"detaching the web ACL from {resource_arn}"):
            self.client.disassociate_web_acl(ResourceArn=resource_arn)

    def web_acl_for(self, resource_arn: str) -> dict[str, Any] | None:
        try:
            with aws_errors(f"reading the web ACL of {resource_arn}"):
                answer = self.client.get_web_acl_for_resource(ResourceArn=resource_arn)
        except AwsError as exc:
            if exc.code == "WAFNonexistentItemException":
                return None
            raise
        acl = answer.get("WebACL")
        return dict(acl) if acl else None

    def resources_for(self, web_acl_arn: str) -> list[str]:
        with aws_errors("listing the resources of the web ACL"):
            answer = self.client.list_resources_for_web_acl(WebACLArn=web_acl_arn, ResourceType="API_GATEWAY")
        return list(answer.get("ResourceArns") or [])
