"""The walkthrough's own operations: which API the exercise may start from, and cleaning up after
it. Its other steps are the operations the single commands run (ops.deploys, ops.policy_changes,
ops.access_denied, ops.verify, waf_list)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from petgate.errors import UsageError
from petgate.gateway import ACCESS_DENIED
from petgate.ops import deploys, writes
from petgate.ops.services import Services

if TYPE_CHECKING:
    from petgate.probe import ProbeResult
    from petgate.waf_list import WafList


def reusable_api(app: Services, name: str) -> str | None:
    """The one API of that name, if the exercise can start from it (None: import one).

    The exercise starts from an API with no policy and AWS's 403; petgate will not reset
    someone's API to get there.
    """
    existing = app.gateway.find_apis_named(name)
    if len(existing) > 1:
        ids = ", ".join(a.id for a in existing)
        raise UsageError(f"{len(existing)} REST APIs are named {name!r} ({ids})", "pass --new, or another --name")
    if not existing:
        return None
    api_id = existing[0].id
    if app.gateway.get_policy(api_id) is not None:
        raise UsageError(f"API {api_id} already has a resource policy", "run with --new, or remove it with `petgate unblock --all`")
    denied = app.gateway.get_gateway_response(api_id, ACCESS_DENIED) or {}
    if not denied.get("defaultResponse", True):
        raise UsageError(f"API {api_id} already has a custom ACCESS_DENIED response", "run with --new for a fresh API")
    return api_id


def exercise_api(app: Services, name: str, reused: str | None) -> dict[str, Any]:
    """The API the exercise runs on: the reusable one `reusable_api` found (created: False), or a
    fresh import of the example under that name."""
    if reused is not None:
        return {"api_id": reused, "api_name": name, "created": False}
    return deploys.import_example(app, name, new=True)


def template_hid_details(leaky: ProbeResult, quiet: ProbeResult) -> bool:
    """Whether the custom ACCESS_DENIED template did its job: the 403 after it (`quiet`) leaks
    nothing and is not the body AWS's default answered before it (`leaky`)."""
    return not quiet.leaks and quiet.body != leaky.body


def delete_api(app: Services, api_id: str, command: str, waf_list: WafList | None = None) -> dict[str, Any]:
    """Delete the API (and first the exercise's WAF list, whole, if given), journaled as a
    delete: `undo` then explains why an earlier change to the API cannot be put back."""
    deleted = waf_list.delete() if waf_list is not None else None
    app.gateway.delete_api(api_id)
    result: dict[str, Any] = {"api_id": api_id, "deleted": True}
    if waf_list is not None:
        result["waf"] = deleted
    result["journal_id"] = writes.journal(app, kind="delete", command=command, api_id=api_id)
    return result
