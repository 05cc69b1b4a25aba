"""AWS WAF on the local data plane: the stage's web ACL, evaluated before the resource policy.

Rules are taken in priority order; the first whose statement matches and whose action is
Allow or Block decides (Count goes on); none matching: the default action. Supported
statements: IPSetReferenceStatement, and Not/And/Or of them (what petgate and IP lists use).
An IP set is compiled once per version (its LockToken), so a lookup stays flat at 10,000
entries.
"""

from __future__ import annotations

import ipaddress
import threading
from dataclasses import dataclass
from typing import Any

from petgate import policy as policies


@dataclass(frozen=True)
class Verdict:
    blocked: bool
    rule: str | None = None
    status: int = 403
    body: bytes = b'{"message":"Forbidden"}'
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()


ALLOWED = Verdict(False)
_compiled: dict[tuple[str, str], policies.IpSet] = {}
_compiled_lock = threading.Lock()


def evaluate(backend: Any, resource_arn: str, source_ip: str) -> Verdict:
    """The web ACL associated with the resource decides; no web ACL: allowed. Call with the
    gateway's lock held (moto's objects)."""
    acl = backend.get_web_acl_for_resource(resource_arn)
    if acl is None:
        return ALLOWED
    for rule in sorted(acl.rules, key=lambda r: r.priority):
        if not _matches(backend, rule.statement or {}, source_ip):
            continue
        action = rule.action or {}
        if "Block" in action:
            return _blocked(acl, rule.name, action["Block"] or {})
        if "Allow" in action:
            return ALLOWED
    if "Block" in (acl.default_action or {}):
        return _blocked(acl, None, acl.default_action["Block"] or {})
    return ALLOWED


def _matches(backend: Any, statement: dict[str, Any], source_ip: str) -> bool:
    if "IPSetReferenceStatement" in statement:
        return source_ip in _ip_set(backend, statement["IPSetReferenceStatement"].get("ARN", ""))
    if "NotStatement" in statement:
        return not _matches(backend, statement["NotStatement"].get("Statement", {}), source_ip)
    if "AndStatement" in statement:
        return all(_matches(backend, s, source_ip) for s in statement["AndStatement"].get("Statements", []))
    if "OrStatement" in statement:
        return any(_matches(backend, s, source_ip) for s in statement["OrStatement"].get("Statements", []))
    return False  # a statement the local gateway does not model never matches


def _ip_set(backend: Any, arn: str) -> policies.IpSet:
    ip_set = backend.ip_sets.get(arn)
    if ip_set is None:
        return policies.IpSet([])
    key = (arn, ip_set.lock_token)
    with _compiled_lock:
        compiled = _compiled.get(key)
        if compiled is None:
            compiled = policies.IpSet(ipaddress.ip_network(a, strict=False) for a in ip_set.addresses or [])
            for stale in [k for k in _compiled if k[0] == arn]:
                del _compiled[stale]
            _compiled[key] = compiled
    return compiled


def _blocked(acl: Any, rule: str | None, block: dict[str, Any]) -> Verdict:
    custom = block.get("CustomResponse")
    if not custom:
        return Verdict(True, rule)
    bodies = acl.custom_response_bodies or {}
    chosen = bodies.get(custom.get("CustomResponseBodyKey", ""), {})
    content_type = {"APPLICATION_JSON": "application/json", "TEXT_HTML": "text/html"}.get(
        chosen.get("ContentType", ""), "text/plain")
    headers = tuple((h["Name"], h["Value"]) for h in custom.get("ResponseHeaders") or [])
    return Verdict(True, rule, int(custom.get("ResponseCode", 403)), str(chosen.get("Content", "")).encode(),
                   content_type, headers)
