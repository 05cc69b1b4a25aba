"""Route matching over a stage's exported definition (GetExport, oas30 with API Gateway's
extensions): the resource and method a call routes to, and that method's authorization. Pure;
ops/explain_layers.py walks the layers with it, ops/explain.py reads the export."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_ANY_METHOD = "x-amazon-apigateway-any-method"


@dataclass(frozen=True)
class MethodAuth:
    """A deployed method's authorization as its export says (`security` and its schemes):
    kind "NONE", "AWS_IAM", "COGNITO_USER_POOLS" or "CUSTOM" (a Lambda authorizer), the
    authorizer's scheme name, and whether it requires an API key."""

    kind: str
    authorizer: str | None = None
    api_key: bool = False


@dataclass(frozen=True)
class Route:
    """The deployed resource a call routes to, its method's operation, and whether ANY served it."""

    template: str
    operation: Mapping[str, Any]
    by_any: bool = False


def route_of(paths: Mapping[str, Any], method: str, path: str) -> Route | None:
    """The deployed resource API Gateway routes the path to (literal segments before `{param}`
    before `{proxy+}`: local/routing.py's order), and its method or ANY; None: no route (a
    resource that matches best but lacks the method is no route either)."""
    parts = [p for p in path.split("?")[0].split("/") if p]
    # resources form a tree, so every prefix of an exported path is a resource too; one without
    # methods is left out of the export, and still wins the match (then: no route). A leaf resource
    # without methods cannot be seen this way.
    resources: dict[str, Any] = {}
    for template, operations in paths.items():
        segments = [s for s in str(template).split("/") if s]
        for end in range(len(segments)):
            resources.setdefault("/" + "/".join(segments[:end]), {})
        resources[str(template)] = operations
    best: tuple[tuple[int, ...], str, Mapping[str, Any]] | None = None
    for template, operations in resources.items():
        if not isinstance(operations, Mapping):
            continue
        score = _score([s for s in str(template).split("/") if s], parts)
        if score is not None and (best is None or score > best[0]):
            best = (score, str(template), operations)
    if best is None:
        return None
    own = best[2].get(method.lower())
    if isinstance(own, Mapping):
        return Route(best[1], own)
    fallback = best[2].get(_ANY_METHOD)
    return Route(best[1], fallback, by_any=True) if isinstance(fallback, Mapping) else None


def _score(template: list[str], parts: list[str]) -> tuple[int, ...] | None:
    score: list[int] = []
    for index, segment in enumerate(template):
        if segment.startswith("{") and segment.endswith("+}"):
            return tuple([*score, 0]) if parts[index:] else None
        if index >= len(parts):
            return None
        if segment.startswith("{") and segment.endswith("}"):
            score.append(1)
        elif segment == parts[index]:
            score.append(2)
        else:
            return None
    return tuple(score) if len(template) == len(parts) else None


def method_auth(export: Mapping[str, Any], operation: Mapping[str, Any]) -> MethodAuth:
    """The method's authorization from its `security` requirements and their schemes: `sigv4`
    (x-amazon-apigateway-authtype awsSigv4: Developer Guide "x-amazon-apigateway-authtype
    property") is AWS_IAM; cognito_user_pools a Cognito authorizer; token/request authorizers
    (x-amazon-apigateway-authorizer) Lambda; `api_key` (apiKey in x-api-key) an API key
    ("api-key-usage-plan-oas")."""
    schemes = (export.get("components") or {}).get("securitySchemes") or export.get("securityDefinitions") or {}
    kind, authorizer, api_key = "NONE", None, False
    for requirement in operation.get("security") or []:
        for name in requirement or {}:
            scheme = schemes.get(name) or {}
            authtype = str(scheme.get("x-amazon-apigateway-authtype", "")).lower()
            authorizer_type = str((scheme.get("x-amazon-apigateway-authorizer") or {}).get("type", "")).lower()
            if authtype == "awssigv4" or (name == "sigv4" and not scheme):
                kind = "AWS_IAM"
            elif "cognito_user_pools" in (authtype, authorizer_type):
                kind, authorizer = "COGNITO_USER_POOLS", name
            elif authorizer_type in ("token", "request") or authtype == "custom":
                kind, authorizer = "CUSTOM", name
            elif str(scheme.get("type", "")).lower() == "apikey" or name == "api_key":
                api_key = True
    return MethodAuth(kind, authorizer, api_key)
