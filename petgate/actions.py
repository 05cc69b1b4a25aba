"""The changes petgate makes to an API, done safely and shared by every command.

Each policy change is read-modify-written under a per-API lock (petgate's own processes on
this machine), read back to check that what was meant is there (writers elsewhere: API
Gateway has no conditional writes), merged again and retried with jitter if not, and
journaled so that `petgate undo` can put back what was there before.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from petgate import expiry
from petgate import lease as leases
from petgate import policy as policies
from petgate.app import App
from petgate.errors import AwsError, UsageError
from petgate.gateway import ACCESS_DENIED, ApiRef, decode_policy, looks_like_api_id

MAX_WRITE_ATTEMPTS = 8
Edit = Callable[[policies.Policy | None], tuple[policies.Policy | None, list[str]]]
Intended = Callable[[policies.Policy | None], bool]


def journal(app: App, result: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """Record a change made against the current target; its entry id joins the result."""
    entry = app.journal.record(target=app.target.describe(), **fields)
    result["journal_id"] = entry["id"] if entry else None
    return result


def import_example(app: App, name: str, new: bool, endpoint_type: str = "REGIONAL") -> dict[str, Any]:
    """Reuse the one API of that name, or import the example (always with --new)."""
    from petgate import example

    existing = [] if new else app.gateway.find_apis_named(name)
    if len(existing) > 1:
        ids = ", ".join(a.id for a in existing)
        raise UsageError(
            f"{len(existing)} REST APIs are named {name!r} ({ids})",
            "pass --new to import another, or use --api ID with the other commands",
        )
    if existing:
        return {"api_id": existing[0].id, "api_name": existing[0].name, "created": False}
    with app.output.waiting(f"Importing the example API as {name!r}..."):
        imported = app.gateway.import_api(example.definition_bytes(name), endpoint_type.upper())
    result = {"api_id": imported["id"], "api_name": imported.get("name", name), "created": True}
    journal(app, {}, kind="import", command="import-example", api_id=imported["id"])
    return result


@contextmanager
def locked_api(app: App, ref: str, dry_run: bool = False) -> Iterator[tuple[ApiRef, dict[str, Any]]]:
    """Resolve the API and read it fresh while it is ours alone: petgate processes on this
    machine take turns on a lock file, and writers on every machine on the API's lease.
    A dry run only reads, and takes neither."""
    if dry_run:
        doc = app.gateway.get_api_or_none(ref) if looks_like_api_id(ref) else None
        if doc is None:
            doc = app.gateway.get_api(app.gateway.resolve_api(ref).id)
        yield ApiRef(doc["id"], doc.get("name", "")), doc
        return
    if looks_like_api_id(ref):
        try:
            with _held(app, ref) as held:
                yield held
            return
        except leases.NoSuchApiError:
            pass  # not an id after all: perhaps a name that looks like one
    with _held(app, app.gateway.resolve_api(ref).id) as held:
        yield held


@contextmanager
def _held(app: App, api_id: str) -> Iterator[tuple[ApiRef, dict[str, Any]]]:
    with app.journal.lock(api_id), leases.held(app.gateway, api_id, app.output.warn):
        doc = app.gateway.get_api(api_id)
        yield ApiRef(doc["id"], doc.get("name", "")), doc


def change_policy(
    app: App, ref: str, stage: str, command: str, edit: Edit, intended: Intended, dry_run: bool = False
) -> dict[str, Any]:
    """Apply `edit` to the API's policy until `intended` holds for what AWS stored."""
    for attempt in range(1, MAX_WRITE_ATTEMPTS + 1):
        with locked_api(app, ref, dry_run) as (api, doc):
            before = decode_policy(api.id, doc)
            try:
                policies.check_own_statements_unique(before)
                after, touched = edit(before)
                if after is not None:
                    policies.validate(after)
            except policies.PolicyError as exc:
                raise UsageError(str(exc)) from None
            result = {
                "api_id": api.id,
                "api_name": api.name,
                "stage": stage,
                "previous_policy": before,
                "policy": after,
                "touched": touched,
                "changed": after != before,
                "dry_run": dry_run,
                "write_attempts": attempt,
            }
            if dry_run or after == before:
                return result
            written = app.gateway.set_policy(api.id, after)
            stored = decode_policy(api.id, written)
        if intended(stored):
            result["policy"] = stored
            return journal(app, result, kind="policy", command=command, api_id=api.id, stage=stage, before=before, after=stored)
        app.output.warn("another writer changed the policy at the same moment; merging again")
        time.sleep(random.uniform(0.05, 0.25) * attempt)  # jitter: writers must not retry in step
    raise AwsError(
        f"the policy of API {ref} kept changing under petgate after {MAX_WRITE_ATTEMPTS} attempts",
        "nothing of yours was lost; run the command again",
    )


def block(
    app: App, ref: str, stage: str, cidrs: list[str], dry_run: bool = False, until: datetime | None = None,
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


def prune(app: App, ref: str, stage: str, clock: datetime, dry_run: bool = False) -> dict[str, Any]:
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
    app: App, ref: str, stage: str, cidrs: list[str], dry_run: bool = False, permanent_only: bool = False
) -> dict[str, Any]:
    def intended(stored: policies.Policy | None) -> bool:
        return not policies.unblock(stored, cidrs, permanent_only)[1]  # nothing left that these CIDRs cover

    result = change_policy(
        app, ref, stage, "unblock", lambda p: policies.unblock(p, cidrs, permanent_only), intended, dry_run
    )
    result["removed"] = result.pop("touched")
    return result


def remove_policy(app: App, ref: str, stage: str, dry_run: bool = False) -> dict[str, Any]:
    """`unblock --all`: the whole policy goes, even one petgate cannot read."""
    with locked_api(app, ref, dry_run) as (api, doc):
        stored = doc.get("policy")
        try:
            before = policies.decode_stored(stored)
        except policies.PolicyError:
            before = {"unreadable": stored}
        result = {
            "api_id": api.id, "api_name": api.name, "stage": stage, "previous_policy": before,
            "policy": None, "removed": policies.blocked_cidrs(before), "changed": before is not None,
            "dry_run": dry_run,
        }
        if dry_run or before is None:
            return result
        app.gateway.set_policy(api.id, None)
    return journal(app, result, kind="policy", command="unblock --all", api_id=api.id, stage=stage, before=before, after=None)


def set_access_denied(
    app: App, ref: str, stage: str, template: str, content_type: str, status_code: str, dry_run: bool = False
) -> dict[str, Any]:
    """Put the ACCESS_DENIED response, keeping the templates of other content types and headers."""
    with locked_api(app, ref, dry_run) as (api, _doc):
        previous = app.gateway.get_gateway_response(api.id, ACCESS_DENIED)
        customised = previous is not None and not previous.get("defaultResponse", False)
        templates = dict((previous or {}).get("responseTemplates") or {}) if customised else {}
        templates[content_type] = template
        parameters = (previous or {}).get("responseParameters") if customised else None
        result: dict[str, Any] = {
            "api_id": api.id, "api_name": api.name, "stage": stage, "response_type": ACCESS_DENIED,
            "status_code": status_code, "content_type": content_type, "template": template,
            "previous": previous, "dry_run": dry_run,
        }
        if dry_run:
            return result
        written = app.gateway.put_gateway_response(api.id, ACCESS_DENIED, status_code, templates, parameters)
    return journal(
        app, result, kind="gateway_response", command="set-403-template", api_id=api.id, stage=stage,
        response_type=ACCESS_DENIED, before=previous if customised else None, after=written,
    )


def deploy(app: App, api_id: str, stage: str, description: str) -> dict[str, Any]:
    """Deploy the stage (waiting for AWS's quota, visibly) and journal it."""
    waits_before = len(app.gateway.quota_waits)
    with app.output.waiting(f"Deploying {api_id} to stage {stage}..."):
        deployment = app.gateway.deploy(api_id, stage, description)
    waits = app.gateway.quota_waits[waits_before:]
    journal(app, {}, kind="deployment", command="deploy", api_id=api_id, stage=stage, deployment_id=deployment["id"], description=description)
    return {
        "deployed": True,
        "deployment_id": deployment["id"],
        "invoke_url": app.target.invoke_url(api_id, stage),
        "quota_waits": len(waits),
        "quota_wait_s": round(sum(waits), 3),
    }


UNDOABLE = ("policy", "gateway_response", "waf")


def undo(app: App, entry: dict[str, Any], force: bool, dry_run: bool) -> dict[str, Any]:
    """Put back what the entry replaced, refusing (unless forced) if it changed since."""
    if entry.get("kind") not in UNDOABLE:
        raise UsageError(f"entry {entry['id']} is a {entry.get('kind')}; only policy, 403 template and WAF list changes can be undone")
    if entry.get("target") != app.target.describe():
        raise UsageError(
            f"entry {entry['id']} was made against {entry.get('target')}",
            "run undo with the same --local / --endpoint-url / --region",
        )
    if entry["kind"] == "waf":
        return _undo_waf(app, entry, force, dry_run)
    api_id, stage = entry["api_id"], entry.get("stage") or "test"
    result: dict[str, Any] = {"api_id": api_id, "stage": stage, "undoes": entry["id"], "kind": entry["kind"], "dry_run": dry_run}
    with locked_api(app, api_id, dry_run) as (api, doc):
        if entry["kind"] == "policy":
            current: Any = decode_policy(api.id, doc)
            restored: Any = entry.get("before")
            if isinstance(restored, dict) and "unreadable" in restored:
                raise UsageError(f"entry {entry['id']} replaced a policy petgate could not read; restore it by hand")
        else:
            response = app.gateway.get_gateway_response(api.id, ACCESS_DENIED) or {}
            current = None if response.get("defaultResponse", True) else response
            restored = entry.get("before")
        if _comparable(current) != _comparable(entry.get("after")) and not force:
            raise UsageError(
                f"the {entry['kind'].replace('_', ' ')} of API {api_id} changed after entry {entry['id']}; "
                "undoing it would overwrite that change",
                "check `petgate status`, then pass --force to undo anyway",
            )
        result.update({"previous": current, "restored": restored})
        if dry_run:
            return result
        if entry["kind"] == "policy":
            app.gateway.set_policy(api.id, restored)
        elif restored is None:
            app.gateway.delete_gateway_response(api.id, ACCESS_DENIED)
        else:
            app.gateway.put_gateway_response(
                api.id, ACCESS_DENIED, restored.get("statusCode"), restored.get("responseTemplates") or {},
                restored.get("responseParameters"),
            )
    return journal(
        app, result, kind=entry["kind"], command="undo", undoes=entry["id"], api_id=api_id, stage=stage,
        response_type=entry.get("response_type"), before=current, after=restored,
    )


def _undo_waf(app: App, entry: dict[str, Any], force: bool, dry_run: bool) -> dict[str, Any]:
    """Put back the IP sets' addresses, under WAF's LockToken; refuse if a set changed since."""
    from petgate.waf_list import WafList

    waf_list = WafList(app, entry["list"])
    sets = {s["Name"]: s for s in waf_list.all_ip_sets()}
    result: dict[str, Any] = {"list": entry["list"], "undoes": entry["id"], "kind": "waf", "dry_run": dry_run,
                              "previous": {}, "restored": {}}
    for name, change in entry.get("ip_sets", {}).items():
        if name not in sets:
            raise UsageError(f"IP set {name} of entry {entry['id']} no longer exists (`waf delete`?)")

        def put_back(current: list[str], change: dict[str, Any] = change, name: str = name) -> list[str]:
            if sorted(current) != sorted(change["after"]) and not force:
                raise UsageError(f"IP set {name} changed after entry {entry['id']}; undoing it would overwrite that change",
                                 "check `petgate waf show`, then pass --force to undo anyway")
            result["previous"][name], result["restored"][name] = current, change["before"]
            return current if dry_run else list(change["before"])

        app.waf.edit_ip_set(sets[name], put_back)
    if dry_run:
        return result
    return journal(app, result, kind="waf", command="undo", undoes=entry["id"], list=entry["list"],
                   ip_sets={n: {"before": result["previous"][n], "after": result["restored"][n]} for n in result["restored"]})


def _comparable(value: Any) -> Any:
    """What matters of a policy or gateway response when checking it did not change."""
    if isinstance(value, dict) and "responseType" in value:
        return {k: value.get(k) or None for k in ("statusCode", "responseTemplates", "responseParameters")}
    return value or None
