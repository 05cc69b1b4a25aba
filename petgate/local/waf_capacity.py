"""Web ACL capacity units (WCUs) of a list of rules, as the AWS WAF Developer Guide prices each
statement ("Using match rule statements in AWS WAF", "String match rule statement", "Using
logical rule statements", "Using rate-based rule statements"); pure.

Match statements: geographic, ASN, IP set (4 more when it reads a forwarded-IP header at
position ANY) and label match 1; size constraint 1, regex 3, SQL injection 20, cross-site
scripting 40, regex pattern set 25, string match 2 (EXACTLY, STARTS_WITH, ENDS_WITH) or 10
(CONTAINS, CONTAINS_WORD) as their base; for those that inspect a request component, 10 more
for "All query parameters", the base doubled for "JSON body", and 10 for each text
transformation. Logical statements (And, Or, Not) cost what they nest; a rate-based rule 2 and
its scope-down statement; a rule group reference the group's capacity. A managed rule group's
capacity is AWS's to publish and is not known offline: it counts 0 here (README, "Not faithful
yet")."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_FIXED = {"GeoMatchStatement": 1, "AsnMatchStatement": 1, "LabelMatchStatement": 1}
_INSPECTING = {"SizeConstraintStatement": 1, "RegexMatchStatement": 3, "SqliMatchStatement": 20,
               "XssMatchStatement": 40, "RegexPatternSetReferenceStatement": 25}
_STRING_MATCH = {"EXACTLY": 2, "STARTS_WITH": 2, "ENDS_WITH": 2, "CONTAINS": 10, "CONTAINS_WORD": 10}


def rules_capacity(rules: Any, group_capacity: Callable[[str], int]) -> int:
    """The WCUs of a web ACL's or rule group's `Rules` (as the API takes them)."""
    if not isinstance(rules, list):
        return 0
    return sum(statement_capacity(rule.get("Statement"), group_capacity) for rule in rules if isinstance(rule, dict))


def statement_capacity(statement: Any, group_capacity: Callable[[str], int]) -> int:
    if not isinstance(statement, dict):
        return 0
    total = 0
    for kind, body in statement.items():
        body = body if isinstance(body, dict) else {}
        if kind in _FIXED:
            total += _FIXED[kind]
        elif kind == "IPSetReferenceStatement":
            forwarded = body.get("IPSetForwardedIPConfig")
            total += 5 if isinstance(forwarded, dict) and forwarded.get("Position") == "ANY" else 1
        elif kind in _INSPECTING:
            total += _inspecting(_INSPECTING[kind], body)
        elif kind == "ByteMatchStatement":
            total += _inspecting(_STRING_MATCH.get(str(body.get("PositionalConstraint")), 2), body)
        elif kind in ("AndStatement", "OrStatement"):
            nested = body.get("Statements")
            total += sum(statement_capacity(s, group_capacity) for s in nested) if isinstance(nested, list) else 0
        elif kind == "NotStatement":
            total += statement_capacity(body.get("Statement"), group_capacity)
        elif kind == "RateBasedStatement":
            total += 2 + statement_capacity(body.get("ScopeDownStatement"), group_capacity)
        elif kind == "RuleGroupReferenceStatement":
            total += group_capacity(str(body.get("ARN", "")))
    return total


def _inspecting(base: int, body: dict[str, Any]) -> int:
    component = body.get("FieldToMatch")
    component = component if isinstance(component, dict) else {}
    cost = base * 2 if "JsonBody" in component else base
    if "AllQueryArguments" in component:
        cost += 10
    transformations = body.get("TextTransformations")
    if isinstance(transformations, list):
        cost += 10 * sum(1 for t in transformations if isinstance(t, dict) and t.get("Type") != "NONE")
    return cost
