"""audit's findings as SARIF 2.1.0 (pure): one run, tool.driver `petgate`, a rule per check
(PG001...), a result per finding (level error / warning / note for high / medium / low), located
by logicalLocations naming the region, the API, its stage and its methods or routes (there is no
file to point at); the region is in the result's properties too."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

SCHEMA: Final = "https://json.schemastore.org/sarif-2.1.0.json"
VERSION: Final = "2.1.0"
LEVELS: Final = {"high": "error", "medium": "warning", "low": "note"}


def _locations(finding: Mapping[str, Any]) -> list[dict[str, Any]]:
    api = f"{finding['api_name']} ({finding['api_id']})" if finding.get("api_name") else str(finding["api_id"])
    region = str(finding.get("region") or "")
    qualified_api = f"{region}/{finding['api_id']}" if region else str(finding["api_id"])
    base = qualified_api + (f"/{finding['stage']}" if finding.get("stage") else "")
    logical = [{"name": region, "fullyQualifiedName": region, "kind": "namespace"}] if region else []
    logical.append({"name": api, "fullyQualifiedName": qualified_api, "kind": "module"})
    if finding.get("stage"):
        logical.append({"name": str(finding["stage"]), "fullyQualifiedName": base, "kind": "namespace"})
    logical += [{"name": method, "fullyQualifiedName": f"{base}/{method}", "kind": "function"}
                for method in finding.get("methods") or []]
    return [{"logicalLocations": logical}]


def render(findings: Iterable[Mapping[str, Any]], rules: Mapping[str, tuple[str, str]], version: str) -> dict[str, Any]:
    """The SARIF log of `findings` (audit's Finding.to_json() objects); `rules`: id -> (severity, title)."""
    ids = list(rules)
    results = []
    for finding in findings:
        results.append({
            "ruleId": finding["rule"],
            "ruleIndex": ids.index(finding["rule"]),
            "level": LEVELS[finding["severity"]],
            "message": {"text": f"{finding['message']}. Fix: {finding['fix']}"},
            "locations": _locations(finding),
            "properties": {"severity": finding["severity"], "fix": finding["fix"],
                           **({"region": finding["region"]} if finding.get("region") else {})},
        })
    driver = {
        "name": "petgate",
        "version": version,
        "rules": [{"id": rule, "name": rule, "shortDescription": {"text": title},
                   "defaultConfiguration": {"level": LEVELS[severity]}, "properties": {"severity": severity}}
                  for rule, (severity, title) in rules.items()],
    }
    return {"$schema": SCHEMA, "version": VERSION, "runs": [{"tool": {"driver": driver}, "results": results}]}
