"""The walkthrough's own operations: which API the exercise may start from, and cleaning up after
it. Its other steps are the operations the single commands run (ops.deploys, ops.policy_changes,
ops.access_denied, ops.verify, waf_list); what each step did is recorded in its report."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from petgate.errors import UsageError
from petgate.gateway import ACCESS_DENIED
from petgate.ops import deploys, writes
from petgate.ops.deploys import Imported, StageDeployed
from petgate.ops.results import FLAT, UNSET, Result, Unset
from petgate.ops.services import Services

if TYPE_CHECKING:
    from petgate.ops.verify import Probed
    from petgate.waf_list import WafList
    from petgate.waf_parts import ListResult


# --- what the steps did: each step's record in the report has these keys beside its own ---------

@dataclass(frozen=True, kw_only=True)
class ExerciseApi(Imported):
    """The API the exercise runs on (imported, or reused: created False) and its stage."""

    stage: str


@dataclass(frozen=True, kw_only=True)
class Checked(Result):
    """A step that requests the stage (verify's probe)."""

    verify: Probed


@dataclass(frozen=True, kw_only=True)
class PolicyBlocked(Result):
    api_id: str
    cidrs: list[str]
    added: list[str]
    journal_id: str | None


@dataclass(frozen=True, kw_only=True)
class TemplateSet(Result):
    api_id: str
    template: str
    journal_id: str | None


@dataclass(frozen=True, kw_only=True)
class PolicyRemoved(Result):
    api_id: str
    journal_id: str | None


@dataclass(frozen=True, kw_only=True)
class WafChanged(Result):
    """A step on the exercise's WAF list: attach, block, unblock (the list's result, merged)."""

    api_id: str
    cidrs: list[str] | Unset = UNSET
    waf: ListResult = field(metadata=FLAT)


@dataclass(frozen=True, kw_only=True)
class Deleted(Result):
    """The API deleted, and first the exercise's WAF list if it had one (`waf`)."""

    api_id: str
    deleted: bool
    waf: ListResult | Unset = UNSET
    journal_id: str | None


@dataclass(frozen=True, kw_only=True)
class Failed(Result):
    """The error a step ended with (the step records it as a step of its own)."""

    error: str


@dataclass(frozen=True, kw_only=True)
class Step(Result):
    """One numbered step of the report: what it did (`done`, its keys merged) and how long it took
    (none for the error that stopped the story)."""

    step: int
    title: str
    ok: bool
    done: Result = field(metadata=FLAT)
    elapsed_s: float | Unset = UNSET


@dataclass(frozen=True, kw_only=True)
class Walkthrough(Result):
    """The report: every step, the exercise's API, and the stage and deployment it last deployed
    (the stage the exercise began with when nothing was deployed; None before any API)."""

    ok: bool
    steps: list[Step]
    api_id: str | None
    stage: str | None
    invoke_url: str | None
    deployment_id: str | None


def report(steps: list[Step], ok: bool) -> Walkthrough:
    """The walkthrough's report over its steps (the first one imports or reuses the API)."""
    started = next((s.done for s in steps if isinstance(s.done, ExerciseApi)), None)
    stage, invoke_url, deployment_id = (started.stage if started else None), None, None
    for step in reversed(steps):  # the last deployment
        if isinstance(step.done, StageDeployed) and isinstance(step.done.deployment.deployment_id, str):
            stage, invoke_url = step.done.stage, step.done.deployment.invoke_url
            deployment_id = step.done.deployment.deployment_id
            break
    return Walkthrough(ok=ok, steps=steps, api_id=started.api_id if started else None, stage=stage,
                       invoke_url=invoke_url, deployment_id=deployment_id)


# --- the operations ----------------------------------------------------------------------------

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


def exercise_api(app: Services, name: str, reused: str | None) -> Imported:
    """The API the exercise runs on: the reusable one `reusable_api` found (created: False), or a
    fresh import of the example under that name."""
    if reused is not None:
        return Imported(api_id=reused, api_name=name, created=False)
    return deploys.import_example(app, name, new=True)


def template_hid_details(leaky: Probed, quiet: Probed) -> bool:
    """Whether the custom ACCESS_DENIED template did its job: the 403 after it (`quiet`) leaks
    nothing and is not the body AWS's default answered before it (`leaky`)."""
    return not quiet.leaks and quiet.body != leaky.body


def delete_api(app: Services, api_id: str, command: str, waf_list: WafList | None = None) -> Deleted:
    """Delete the API (and first the exercise's WAF list, whole, if given), journaled as a
    delete: `undo` then explains why an earlier change to the API cannot be put back."""
    deleted = waf_list.delete() if waf_list is not None else UNSET
    app.gateway.delete_api(api_id)
    return Deleted(api_id=api_id, deleted=True, waf=deleted,
                   journal_id=writes.journal(app, kind="delete", command=command, api_id=api_id))
