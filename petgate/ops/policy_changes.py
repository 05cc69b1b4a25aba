"""The changes to an API's resource policy: read first (no lease when nothing changes), then
read again, edit and write under the lease until what AWS stored is what was meant."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

from petgate import expiry
from petgate import lease as leases
from petgate import policy as policies
from petgate.errors import AwsError, UsageError
from petgate.gateway import ApiRef, decode_policy
from petgate.ops.apis import read_api
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


def _planned(api: ApiRef, stage: str, doc: dict[str, Any], edit: Edit, dry_run: bool) -> dict[str, Any]:
    """What `edit` makes of the policy in `doc`; a policy petgate must not touch is refused."""
    before = decode_policy(api.id, doc)
    try:
        policies.check_own_statements_unique(before)
        after, touched = edit(before)
        if after is not None:
            policies.validate(after)
    except policies.PolicyError as exc:
        raise UsageError(str(exc)) from None
    return {
        "api_id": api.id, "api_name": api.name, "stage": stage, "previous_policy": before, "policy": after,
        "touched": touched, "changed": after != before, "dry_run": dry_run,
    }


def change_policy(
    app: Services, ref: str, stage: str, command: str, edit: Edit, intended: Intended, dry_run: bool = False
) -> dict[str, Any]:
    """Apply `edit` to the API's policy until `intended` holds for what AWS stored.

    It reads first, with no lease: most runs of a cron job, and a block of what is blocked
    already, stop there. A change is made under the lease, on a fresh read (the first one may
    be stale by then), and read back from the write's answer."""
    api, doc = read_api(app.gateway, ref)
    result = _planned(api, stage, doc, edit, dry_run)
    if dry_run or not result["changed"]:
        return {**result, "write_attempts": 0}
    lapses = 0
    lease = new_lease(app, api.id)
    for attempt in range(1, MAX_WRITE_ATTEMPTS + 1):
        try:
            with under_lease(app, api.id, lease):
                result = _planned(api, stage, app.gateway.get_api(api.id), edit, dry_run)
                result["write_attempts"] = attempt
                if not result["changed"]:
                    return result  # another writer made the same change meanwhile
                before, after = result["previous_policy"], result["policy"]
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
            result.update(policy=stored, journal_id=entry_id)
            return result
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
) -> dict[str, Any]:
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

    result = change_policy(app, ref, stage, "block-my-ip", edit, intended, dry_run)
    result["added"] = result.pop("touched")
    result["blocked"] = policies.blocked_cidrs(result["policy"])
    result["until"] = expiry.iso(until)
    result["expiring"] = expiring_json(result["policy"])
    return result


def expiring_json(policy: policies.Policy | None, clock: datetime | None = None) -> list[dict[str, Any]]:
    """The blocks that end, for JSON: cidr, expires, and expired (due for `prune`)."""
    clock = clock or expiry.now()
    return [{"cidr": cidr, "expires": expiry.iso(until), "expired": expiry.expired(until, clock)}
            for cidr, until in policies.expiring(policy)]


def prune(app: Services, ref: str, stage: str, clock: datetime, dry_run: bool = False) -> dict[str, Any]:
    """Remove the deny groups that have ended (idempotent: nothing ended, nothing written)."""
    pruned: list[dict[str, Any]] = []

    def edit(before: policies.Policy | None) -> tuple[policies.Policy | None, list[str]]:
        after, gone = policies.prune(before, clock)
        pruned[:] = [{"cidr": cidr, "expired": expiry.iso(until)} for cidr, until in gone]
        return after, [cidr for cidr, _ in gone]

    def intended(stored: policies.Policy | None) -> bool:
        return not policies.prune(stored, clock)[1]

    result = change_policy(app, ref, stage, "prune", edit, intended, dry_run)
    result.pop("touched")
    result.update(pruned=pruned, now=expiry.iso(clock), expiring=expiring_json(result["policy"], clock))
    return result


def unblock(
    app: Services, ref: str, stage: str, cidrs: list[str], dry_run: bool = False, permanent_only: bool = False
) -> dict[str, Any]:
    def intended(stored: policies.Policy | None) -> bool:
        return not policies.unblock(stored, cidrs, permanent_only)[1]  # nothing left that these CIDRs cover

    result = change_policy(
        app, ref, stage, "unblock", lambda p: policies.unblock(p, cidrs, permanent_only), intended, dry_run
    )
    result["removed"] = result.pop("touched")
    return result


def remove_policy(app: Services, ref: str, stage: str, dry_run: bool = False) -> dict[str, Any]:
    """`unblock --all`: the whole policy goes, even one petgate cannot read. Reads first: an API
    with no policy takes no lease."""

    def planned(api: ApiRef, doc: dict[str, Any]) -> dict[str, Any]:
        stored = doc.get("policy")
        try:
            before = policies.decode_stored(stored)
        except policies.PolicyError:
            before = {"unreadable": stored}
        return {
            "api_id": api.id, "api_name": api.name, "stage": stage, "previous_policy": before,
            "policy": None, "removed": policies.blocked_cidrs(before), "changed": before is not None,
            "dry_run": dry_run,
        }

    result = planned(*read_api(app.gateway, ref))
    if dry_run or not result["changed"]:
        return result
    lease = new_lease(app, result["api_id"])

    def attempt() -> dict[str, Any]:
        with locked_api(app, lease.api_id, lease=lease) as (api, doc, _):
            now = planned(api, doc)
            if now["changed"]:
                _, now["journal_id"] = guarded_write(
                    app, lease, {"kind": "policy", "command": "unblock --all", "api_id": api.id, "stage": stage,
                                 "before": now["previous_policy"], "after": None},
                    lambda: app.gateway.set_policy(api.id, None))
            return now

    return taking_the_lease_again(app, lease.api_id, attempt)
