"""The web ACL's verdict on a request, as `explain` walks it: its rules by priority over the IP sets
they reference, the default action, and a Block's custom response (WAF's own answer). Pure;
ops/explain.py reads the web ACL and its IP sets, ops/explain_layers.py records the verdict."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from petgate import policy as policies
from petgate.ops.explain_model import PASS, REFUSE, UNKNOWN, Outcome, WebAcl


@dataclass(frozen=True)
class WafVerdict:
    decision: str
    because: str
    rule: str | None = None
    custom: Mapping[str, Any] | None = None  # the Block action's CustomResponse, with its body


def waf_verdict(acl: WebAcl, address: str) -> WafVerdict:
    """The web ACL's rules by priority: the first that matches with Allow or Block decides (Count
    goes on); none: the default action (AWS WAF Developer Guide, "web ACL rule and rule group
    evaluation"; local/waf_enforce.py does the same). A statement petgate does not model makes the
    verdict unknown, unless its rule only counts."""
    for rule in sorted(acl.rules, key=lambda r: int(r.get("Priority", 0))):
        name = str(rule.get("Name", ""))
        action = rule.get("Action") or {}
        if "OverrideAction" in rule and not action:
            return WafVerdict(UNKNOWN, f"rule {name} is a rule group, which petgate does not evaluate", name)
        matched = _statement_matches(acl, rule.get("Statement") or {}, address)
        if matched is None:
            if "Count" in action:
                continue
            return WafVerdict(UNKNOWN, f"rule {name} uses a statement petgate does not evaluate "
                              f"({', '.join(sorted(rule.get('Statement') or {})) or 'none'})", name)
        if not matched:
            continue
        if "Block" in action:
            return WafVerdict(REFUSE, f"rule {name} (priority {rule.get('Priority', 0)}) blocks {address}", name,
                              _custom(acl, action["Block"] or {}))
        if "Allow" in action:
            return WafVerdict(PASS, f"rule {name} (priority {rule.get('Priority', 0)}) allows {address}", name)
    default = acl.default_action or {}
    if "Block" in default:
        return WafVerdict(REFUSE, f"no rule of web ACL {acl.name} matches {address}, and its default action is Block",
                          None, _custom(acl, default["Block"] or {}))
    return WafVerdict(PASS, f"no Block rule of web ACL {acl.name} matches {address} (default action Allow)")


def _statement_matches(acl: WebAcl, statement: Mapping[str, Any], address: str) -> bool | None:
    """Whether the statement matches the address; None: a statement petgate does not model."""
    if "IPSetReferenceStatement" in statement:
        reference = statement["IPSetReferenceStatement"] or {}
        if reference.get("IPSetForwardedIPConfig"):
            return None  # the address is a header's, not the peer's
        cidrs = acl.ip_sets.get(str(reference.get("ARN", "")))
        if cidrs is None:
            return None
        parsed = policies.unmapped_address(ipaddress.ip_address(address))
        networks = (ipaddress.ip_network(c, strict=False) for c in cidrs)
        return any(parsed.version == n.version and parsed in n for n in networks)
    if "NotStatement" in statement:
        inner = _statement_matches(acl, (statement["NotStatement"] or {}).get("Statement") or {}, address)
        return None if inner is None else not inner
    for key, combine in (("AndStatement", all), ("OrStatement", any)):
        if key in statement:
            parts = [_statement_matches(acl, s, address) for s in (statement[key] or {}).get("Statements") or []]
            if None in parts:
                return None
            return bool(combine(parts))
    return None


def _custom(acl: WebAcl, block: Mapping[str, Any]) -> Mapping[str, Any] | None:
    custom = block.get("CustomResponse")
    if not custom:
        return None
    body = (acl.custom_bodies or {}).get(str(custom.get("CustomResponseBodyKey", "")), {})
    return {"status": int(custom.get("ResponseCode", 403)), "content": str(body.get("Content", "")),
            "content_type": {"APPLICATION_JSON": "application/json", "TEXT_HTML": "text/html"}.get(
                str(body.get("ContentType", "")), "text/plain")}


def custom_answer(custom: Mapping[str, Any]) -> Outcome:
    """A Block rule's custom response: WAF's own answer, before any gateway response ("AWS WAF
    custom responses take precedence over custom gateway responses": Developer Guide,
    "supported-gateway-response-types")."""
    return Outcome(known=True, allowed=False, reason="waf-block", status=int(custom["status"]), error_type=None,
                   body=str(custom["content"]), headers={"Content-Type": str(custom["content_type"])})
