"""The changes to an API's resource policy: read first (no lease when nothing changes), then
read again, edit and write under the lease until what AWS stored is what was meant."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, ClassVar

from petgate import expiry
from petgate import lease as leases
from petgate import policy as policies
from petgate.errors import AwsError, UsageError
from petgate.gateway import ApiRef, decode_policy, exported_policy
from petgate.ops.apis import read_api
from petgate.ops.results import UNSET, Result, StageChange, Unset, extend
from petgate.ops.services import Services
from petgate.ops.writes import (
    guarded_write,
    lease_ran_short,
    locked_api,
    new_lease,
    taking_the_lease_again,
    under_lease,
)

MAX_WRITE_ATTEMPTS = 8

Edit = Callable[[policies.Policy | None], tuple[policies.Policy | None, list[str]]]

Intended = Callable[[policies.Policy | None], bool]


@dataclass(frozen=True, kw_only=True)
class PolicyChange(StageChange):
    """A change to the resource policy: what it was, what it is (as AWS stored it)."""

    api_name: str
    changed: bool
    dry_run: bool
    previous_policy: Any  # None: there was none; {"unreadable": text}: one petgate could not read
    policy: policies.Policy | None
    write_attempts: int | Unset = UNSET

    subject: ClassVar[str] = "policy"

    def served_by(self, exported: dict[str, Any]) -> bool:
        return serves_policy(exported, self.policy)


def serves_policy(exported: dict[str, Any], policy: policies.Policy | None) -> bool:
    """Whether a stage whose export (GetExport) is `exported` serves `policy` (None: no policy)."""
    try:
        served = exported_policy(exported)
    except policies.PolicyError:
        served = None
    return (served or None) == (policy or None)


@dataclass(frozen=True, kw_only=True)
class Expiring(Result):
    """A block that ends: `expired` means due for `prune`."""

    cidr: str
    expires: str
    expired: bool


@dataclass(frozen=True, kw_only=True)
class Blocked(PolicyChange):
    cidrs: list[str]
    added: list[str]
    blocked: list[str]
    until: str | None
    expiring: list[Expiring]


@dataclass(frozen=True, kw_only=True)
class Unblocked(PolicyChange):
    cidrs: list[str]
    removed: list[str]
    all: bool


@dataclass(frozen=True, kw_only=True)
class PrunedBlock(Result):
    cidr: str
    expired: str


@dataclass(frozen=True, kw_only=True)
class Pruned(PolicyChange):
    pruned: list[PrunedBlock]
    now: str
    expiring: list[Expiring]


def _planned(
    api: ApiRef, stage: str, doc: dict[str, Any], edit: Edit, dry_run: bool
) -> tuple[PolicyChange, list[str]]:
    """What `edit` makes of the policy in `doc`, and what it touched; a policy petgate must not
    touch is refused."""
    before = decode_policy(api.id, doc)
    try:
        policies.check_own_statements_unique(before)
        after, touched = edit(before)
        if after is not None:
            policies.validate(after)
    except policies.PolicyError as exc:
        raise UsageError(str(exc)) from None
    return PolicyChange(
        api_id=api.id, api_name=api.name, stage=stage, previous_policy=before, policy=after,
        changed=after != before, dry_run=dry_run,
    ), touched


def change_policy(
    app: Services, ref: str, stage: str, command: str, edit: Edit, intended: Intended, dry_run: bool = False
) -> tuple[PolicyChange, list[str]]:
    """Apply `edit` to the API's policy until `intended` holds for what AWS stored.

    It reads first, with no lease: most runs of a cron job, and a block of what is blocked
    already, stop there. A change is made under the lease, on a fresh read (the first one may
    be stale by then), and read back from the write's answer. Returns the change and what the
    edit touched."""
    api, doc = read_api(app.gateway, ref)
    result, touched = _planned(api, stage, doc, edit, dry_run)
    if dry_run or not result.changed:
        return result.but(write_attempts=0), touched
    lapses = 0
    lease = new_lease(app, api.id)
    for attempt in range(1, MAX_WRITE_ATTEMPTS + 1):
        try:
            with under_lease(app, api.id, lease):
                result, touched = _planned(api, stage, app.gateway.get_api(api.id), edit, dry_run)
                result = result.but(write_attempts=attempt)
                if not result.changed:
                    return result, touched  # another writer made the same change meanwhile
                before, after = result.previous_policy, result.policy
                written, entry_id = guarded_write(
                    app, lease, {"kind": "policy", "command": command, "api_id": api.id, "stage": stage,
                                 "before": before, "after": after},
                    partial(app.gateway.set_policy, api.id, after), partial(decode_policy, api.id))
        except leases.LeaseTooShortError:
            lapses += 1
            lease_ran_short(app, api.id)
            continue
        stored = decode_policy(api.id, written)
        if intended(stored):
            return result.but(policy=stored, journal_id=entry_id), touched
        app.output.warn("another writer changed the policy at the same moment; merging again")
        app.sleep(random.uniform(0.05, 0.25) * attempt)  # jitter: writers must not retry in step
    raise AwsError(
        f"the policy of API {ref} kept changing under petgate after {MAX_WRITE_ATTEMPTS} attempts"
        + (f" ({lapses} times the lease ran short: the control plane is slow)" if lapses else ""),
        "nothing of yours was lost; run the command again",
    )


def block(
    app: Services, ref: str, stage: str, cidrs: list[str], dry_run: bool = False, until: datetime | None = None,
    clock: datetime | None = None,
) -> Blocked:
    """Deny the CIDRs, for good or until `until` (kept in the statement's Sid)."""
    def edit(before: policies.Policy | None) -> tuple[policies.Policy | None, list[str]]:
        after, added = policies.block(before, cidrs, until, clock)
        if len(policies.encode(after)) > policies.MAX_POLICY_CHARS:
            fit = policies.how_many_fit(before, cidrs, until, clock)
            groups = sum(1 for g in policies.deny_groups(after) if g.until is not None)
            why = (f"; the {groups} end times take a statement each: fewer distinct --until times, "
                   "or a WAF list (`petgate waf`), hold more" if groups > 1 else "")
            raise policies.PolicyError(
                f"blocking these {len(cidrs)} CIDRs would make the policy longer than "
                f"{policies.MAX_POLICY_CHARS} characters; {fit} of them fit (nothing was written){why}"
            )
        return after, added

    def intended(stored: policies.Policy | None) -> bool:
        return all(policies.still_blocking(stored, c, until) for c in cidrs)

    result, added = change_policy(app, ref, stage, "block-my-ip", edit, intended, dry_run)
    return extend(result, Blocked, cidrs=cidrs, added=added, blocked=policies.blocked_cidrs(result.policy),
                  until=expiry.iso(until), expiring=expiring(result.policy, clock or expiry.now(app.clock)))


def expiring(policy: policies.Policy | None, clock: datetime) -> list[Expiring]:
    """The blocks that end, and whether each is due for `prune` at `clock`."""
    return [Expiring(cidr=cidr, expires=expiry.iso(until), expired=expiry.expired(until, clock))
            for cidr, until in policies.expiring(policy)]


def prune(app: Services, ref: str, stage: str, clock: datetime, dry_run: bool = False) -> Pruned:
    """Remove the deny groups that have ended (idempotent: nothing ended, nothing written)."""
    pruned: list[PrunedBlock] = []

    def edit(before: policies.Policy | None) -> tuple[policies.Policy | None, list[str]]:
        after, gone = policies.prune(before, clock)
        pruned[:] = [PrunedBlock(cidr=cidr, expired=expiry.iso(until)) for cidr, until in gone]
        return after, [cidr for cidr, _ in gone]

    def intended(stored: policies.Policy | None) -> bool:
        return not policies.prune(stored, clock)[1]

    result, _ = change_policy(app, ref, stage, "prune", edit, intended, dry_run)
    return extend(result, Pruned, pruned=pruned, now=expiry.iso(clock), expiring=expiring(result.policy, clock))


def unblock(
    app: Services, ref: str, stage: str, cidrs: list[str], dry_run: bool = False, permanent_only: bool = False
) -> Unblocked:
    def intended(stored: policies.Policy | None) -> bool:
        return not policies.unblock(stored, cidrs, permanent_only)[1]  # nothing left that these CIDRs cover

    result, removed = change_policy(
        app, ref, stage, "unblock", lambda p: policies.unblock(p, cidrs, permanent_only), intended, dry_run
    )
    return extend(result, Unblocked, cidrs=cidrs, removed=removed, all=False)


def remove_policy(app: Services, ref: str, stage: str, dry_run: bool = False) -> Unblocked:
    """`unblock --all`: the whole policy goes, even one petgate cannot read. Reads first: an API
    with no policy takes no lease."""

    def planned(api: ApiRef, doc: dict[str, Any]) -> Unblocked:
        stored = doc.get("policy")
        try:
            before = policies.decode_stored(stored)
        except policies.PolicyError:
            before = {"unreadable": stored}
        return Unblocked(
            api_id=api.id, api_name=api.name, stage=stage, previous_policy=before, policy=None,
            removed=policies.blocked_cidrs(before), changed=before is not None, dry_run=dry_run, cidrs=[], all=True,
        )

    result = planned(*read_api(app.gateway, ref))
    if dry_run or not result.changed:
        return result
    lease = new_lease(app, result.api_id)

    def attempt() -> Unblocked:
        with locked_api(app, lease.api_id, lease=lease) as (api, doc, _):
            now = planned(api, doc)
            if now.changed:
                _, entry_id = guarded_write(
                    app, lease, {"kind": "policy", "command": "unblock --all", "api_id": api.id, "stage": stage,
                                 "before": now.previous_policy, "after": None},
                    lambda: app.gateway.set_policy(api.id, None))
                now = now.but(journal_id=entry_id)
            return now

    return taking_the_lease_again(app, lease.api_id, attempt)
