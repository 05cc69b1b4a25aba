"""Which API an --api reference names: the one function every command resolves it with, and
reading it."""

from __future__ import annotations

from typing import Any

from petgate.errors import AwsError, UsageError
from petgate.gateway import ApiRef, Gateway, looks_like_api_id


def resolve_api(gateway: Gateway, ref: str, look_up_ids: bool = True) -> ApiRef:
    """An API id is looked up directly (or, with look_up_ids=False, taken as it is: a call that
    names it will say if it is unknown); otherwise the name must match exactly one API."""
    if looks_like_api_id(ref):
        if not look_up_ids:
            return ApiRef(ref, "")
        api = gateway.get_api_or_none(ref)
        if api is not None:
            return ApiRef(api["id"], api.get("name", ""))
    matches = gateway.find_apis_named(ref)
    if not matches:
        raise AwsError(
            f"no REST API with id or name {ref!r}",
            "run `petgate import-example` first, or pass --api",
            "NotFoundException",
        )
    if len(matches) > 1:
        ids = ", ".join(m.id for m in matches)
        raise UsageError(f"{len(matches)} REST APIs are named {ref!r} ({ids})", "pass --api with one of these ids")
    return matches[0]


def read_api(gateway: Gateway, ref: str) -> tuple[ApiRef, dict[str, Any]]:
    """The API an --api reference names, read once (by name: the list is walked once first)."""
    doc = gateway.get_api_or_none(ref) if looks_like_api_id(ref) else None
    if doc is None:
        doc = gateway.get_api(resolve_api(gateway, ref).id)
    return ApiRef(doc["id"], doc.get("name", "")), doc
