"""Every name petgate derives for a WAF list, and the shape of the list: pure, no AWS call.

A list NAME is two IP sets (petgate-NAME-ipv4, petgate-NAME-ipv6) referenced by the Block
rules (petgate-NAME-block-ipv4/-ipv6) of the web ACL petgate-NAME, whose default action is
Allow. Blocks that end live in IP sets of their own, one per end time and IP version
(petgate-NAME-ipv4-until-20261201T180000Z), each with a Block rule of its own
(petgate-NAME-block-ipv4-until-20261201T180000Z).

WAF takes names of 1 to 128 letters, digits, '-' and '_'. One rule holds for all of them: a
list name is refused (check_list_name) exactly when one of the names derived from it would be
refused, so nothing is created for a list that would fail later.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from petgate import expiry
from petgate.errors import UsageError

WAF_NAME_MAX = 128
_WAF_NAME = re.compile(r"[A-Za-z0-9_-]+")  # WAF's \w is ASCII: 'é' is refused by AWS


@dataclass(frozen=True)
class ListNames:
    """The AWS names of a petgate list."""

    name: str

    @property
    def web_acl(self) -> str:
        return f"petgate-{self.name}"

    def ip_set(self, version: int) -> str:
        return f"petgate-{self.name}-ipv{version}"

    def rule(self, version: int) -> str:
        """The Block rule on the permanent set of that IP version (also its metric's name)."""
        return f"petgate-{self.name}-block-ipv{version}"

    def group_ip_set(self, version: int, until: datetime) -> str:
        """The IP set of blocks (of one IP version) that end at `until`."""
        return f"{self.ip_set(version)}-until-{expiry.stamp(until)}"

    def group_rule(self, version: int, until: datetime) -> str:
        return f"{self.rule(version)}-until-{expiry.stamp(until)}"

    def group_of(self, ip_set_name: str) -> tuple[int, datetime] | None:
        """(IP version, end) of one of this list's IP sets for blocks that end; None otherwise."""
        for version in (4, 6):
            prefix = f"{self.ip_set(version)}-until-"
            if ip_set_name.startswith(prefix):
                until = expiry.from_stamp(ip_set_name[len(prefix):])
                return (version, until) if until is not None else None
        return None

    def derived(self, until: datetime) -> list[str]:
        """Every WAF name petgate makes for this list (with blocks ending at `until`)."""
        return [self.web_acl, *(n for v in (4, 6) for n in (self.ip_set(v), self.rule(v), self.group_ip_set(v, until),
                                                              self.group_rule(v, until)))]


# The end times petgate names are expiry.stamp's, all of one length (yyyymmddThhmmssZ).
_ANY_END = datetime(2000, 1, 1, tzinfo=UTC)
#: What petgate adds to a list name in the longest name it derives (petgate-NAME-block-ipv6-until-...).
LONGEST_OVERHEAD = max(len(n) for n in ListNames("").derived(_ANY_END))
MAX_LIST_NAME = WAF_NAME_MAX - LONGEST_OVERHEAD


def check_list_name(name: str) -> str:
    """The list name, or a UsageError: refused exactly when a name derived from it would be."""
    if not name or not _WAF_NAME.fullmatch(name):
        raise UsageError(f"{name!r} is not a list name: use letters, digits, '-' and '_' (up to {MAX_LIST_NAME})")
    if len(name) > MAX_LIST_NAME:
        raise UsageError(
            f"list name {name[:24]}... is {len(name)} characters; use at most {MAX_LIST_NAME}: WAF names stop at "
            f"{WAF_NAME_MAX} and the longest petgate derives, petgate-LIST-block-ipv6-until-YYYYMMDDTHHMMSSZ, "
            f"adds {LONGEST_OVERHEAD}",
            "a list an older petgate made with a longer name: delete its web ACL and IP sets with `aws wafv2`")
    return name


def list_name_of(web_acl: dict[str, Any]) -> str | None:
    """The petgate list whose web ACL this is (by its name and its Block rule); None: not petgate's."""
    acl_name = str(web_acl.get("Name") or "")
    if not acl_name.startswith("petgate-"):
        return None
    name = acl_name[len("petgate-"):]
    try:
        check_list_name(name)
    except UsageError:
        return None
    rules = {r.get("Name") for r in web_acl.get("Rules") or []}
    return name if ListNames(name).rule(4) in rules or ListNames(name).rule(6) in rules else None


def split_by_version(cidrs: list[str]) -> dict[int, list[str]]:
    """Normalised CIDRs by IP version; /0 is refused, as WAF refuses it."""
    by_version: dict[int, list[str]] = {4: [], 6: []}
    for text in cidrs:
        network = ipaddress.ip_network(text, strict=False)
        if network.prefixlen == 0:
            raise UsageError(f"{text}: AWS WAF does not take /0 in an IP set (block everyone with the web ACL's default action)")
        by_version[network.version].append(str(network))
    return by_version


def block_rule(name: str, arn: str, priority: int) -> dict[str, Any]:
    """A Block rule on one IP set; its name is also its metric's."""
    return {
        "Name": name, "Priority": priority, "Action": {"Block": {}},
        "Statement": {"IPSetReferenceStatement": {"ARN": arn}},
        "VisibilityConfig": {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True, "MetricName": name},
    }


def block_rules(ipv4_arn: str, ipv6_arn: str, name: str) -> list[dict[str, Any]]:
    names = ListNames(name)
    return [block_rule(names.rule(4), ipv4_arn, 0), block_rule(names.rule(6), ipv6_arn, 1)]


def stage_arn(region: str, api_id: str, stage: str) -> str:
    """The ARN WAF knows an API Gateway stage by (AssociateWebACL's ResourceArn)."""
    return f"arn:aws:apigateway:{region}::/restapis/{api_id}/stages/{stage}"
