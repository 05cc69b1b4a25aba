"""Route a request path to a resource and method the way API Gateway does: literal parts win
over `{param}`, which wins over greedy `{proxy+}`; a method falls back to ANY."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from petgate.local.snapshot import ResourceSpec


@dataclass(frozen=True)
class Route:
    resource: ResourceSpec
    method: dict[str, Any]
    path_parameters: dict[str, str]


def _match(template: tuple[str, ...], parts: list[str]) -> tuple[tuple[int, ...], dict[str, str]] | None:
    """(specificity, parameters) when the template matches the path parts."""
    score: list[int] = []
    params: dict[str, str] = {}
    for index, segment in enumerate(template):
        if segment.startswith("{") and segment.endswith("+}"):
            rest = parts[index:]
            if not rest:
                return None
            params[segment[1:-2]] = "/".join(rest)
            return tuple(score + [0]), params
        if index >= len(parts):
            return None
        if segment.startswith("{") and segment.endswith("}"):
            params[segment[1:-1]] = parts[index]
            score.append(1)
        elif segment == parts[index]:
            score.append(2)
        else:
            return None
    if len(template) != len(parts):
        return None
    return tuple(score), params


def find(resources: Iterable[ResourceSpec], path: str, http_method: str) -> Route | None:
    parts = [p for p in path.split("/") if p]
    best: tuple[tuple[int, ...], ResourceSpec, dict[str, str]] | None = None
    for resource in resources:
        matched = _match(resource.segments, parts)
        if matched is None:
            continue
        score, params = matched
        if best is None or score > best[0]:
            best = (score, resource, params)
    if best is None:
        return None
    _, resource, params = best
    method = resource.methods.get(http_method.upper()) or resource.methods.get("ANY")
    if method is None:
        return None
    return Route(resource, method, params)
