"""A resource policy in words: one plain sentence per statement, for `status` and humans.

Pure; of petgate only model (the policy), deny (when one of petgate's deny groups ends) and
expiry (how a time is written).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from petgate import expiry
from petgate.policy.deny import group_end
from petgate.policy.model import Policy, Statement, as_list, operator_base, statements


def describe(policy: Policy | None) -> list[str]:
    """One plain sentence per statement, for `status` and humans."""
    if not policy:
        return ["no resource policy: everyone may invoke the API"]
    lines = []
    for statement in statements(policy):
        sid = statement.get("Sid")
        label = f" [{sid}]" if sid else ""
        until = group_end(sid)
        ends = f" until {expiry.iso(until)}" if until is not None else ""
        verb = "denies" if statement.get("Effect") == "Deny" else "allows"
        who = _describe_principal(statement)
        conditions = _describe_conditions(statement.get("Condition", {}))
        lines.append(f"{verb} {who}{conditions}{ends}{label}")
    if not any(s.get("Effect") == "Allow" for s in statements(policy)):
        lines.append("no statement allows anything: every request is refused")
    return lines


def _describe_principal(statement: Statement) -> str:
    principal = statement.get("Principal", statement.get("NotPrincipal"))
    if principal == "*" or principal == {"AWS": "*"}:
        return "everyone"
    if isinstance(principal, dict) and "AWS" in principal:
        return "AWS principals " + ", ".join(str(p) for p in as_list(principal["AWS"]))
    return f"principal {json.dumps(principal)}"


def _describe_conditions(condition: Mapping[str, Any]) -> str:
    parts = []
    for operator, keys in condition.items():
        for key, values in keys.items():
            joined = ", ".join(str(v) for v in as_list(values))
            if operator_base(operator) == "IpAddress":
                parts.append(f"from {joined}")
            elif operator_base(operator) == "NotIpAddress":
                parts.append(f"not from {joined}")
            else:
                parts.append(f"when {key} {operator} {joined}")
    return (" " + " and ".join(parts)) if parts else ""
