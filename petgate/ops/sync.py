"""sync: make petgate's permanent deny list exactly a file's, with a change gate so that a bad
feed cannot wipe the list unattended (the WAF store's sync uses the same gate)."""

from __future__ import annotations

from dataclasses import dataclass

from petgate import lists
from petgate import policy as policies
from petgate.errors import ChangeGateError
from petgate.ops import policy_changes
from petgate.ops.results import extend
from petgate.ops.services import Services


def gate(current: list[str], desired: list[str], max_change: float, force: bool) -> tuple[list[str], list[str]]:
    added, removed = lists.diff(current, desired)
    refusal = lists.change_gate(current, added, removed, max_change)
    if refusal and not force:
        raise ChangeGateError(refusal, "check the file; pass --force if the change is meant")
    return added, removed


@dataclass(frozen=True, kw_only=True)
class Synced(policy_changes.PolicyChange):
    """The permanent deny list made the file's: what was added and removed, against what."""

    added: list[str]
    removed: list[str]
    listed_before: int
    file: str
    listed: int
    max_change: float


@dataclass
class _Plan:
    added: list[str]
    removed: list[str]
    listed_before: int


def sync_policy(app: Services, api_ref: str, stage: str, list_file: str, desired: list[str], max_change: float,
                force: bool, dry_run: bool) -> Synced:
    """Make petgate's permanent deny list exactly `desired` (refused past the change gate)."""
    plan = _Plan([], [], 0)

    def edit(before: policies.Policy | None) -> tuple[policies.Policy | None, list[str]]:
        current = policies.permanent_cidrs(before)
        added, removed = gate(current, desired, max_change, force)
        plan.added, plan.removed, plan.listed_before = added, removed, len(current)
        after, _ = policies.unblock(before, removed, permanent_only=True) if removed else (before, [])
        if added:
            after, _ = policies.block(after, added)
        return after, added + removed

    def intended(stored: policies.Policy | None) -> bool:
        return sorted(policies.permanent_cidrs(stored)) == sorted(desired)

    # change_policy reads first: when the list already is the file's (most cron runs), no lease,
    # no write, and no deployment unless the stage does not serve the policy yet
    result, _ = policy_changes.change_policy(app, api_ref, stage, "sync", edit, intended, dry_run)
    return extend(result, Synced, added=plan.added, removed=plan.removed, listed_before=plan.listed_before,
                  file=list_file, listed=len(desired), max_change=max_change)
