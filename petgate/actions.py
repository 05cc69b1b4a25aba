"""The changes petgate makes to an API, done safely and shared by every command.

Each policy change is read-modify-written under a per-API lock (petgate's own processes on
this machine), read back to check that what was meant is there (writers elsewhere: API
Gateway has no conditional writes), merged again and retried with jitter if not, and
journaled so that `petgate undo` can put back what was there before.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

from petgate import expiry
from petgate import lease as leases
from petgate import policy as policies
from petgate.app import App
from petgate.errors import AwsError, NetworkError, UsageError
from petgate.gateway import ACCESS_DENIED, ApiRef, decode_policy, looks_like_api_id

MAX_WRITE_ATTEMPTS = 8
Edit = Callable[[policies.Policy | None], tuple[policies.Policy | None, list[str]]]
Intended = Callable[[policies.Policy | None], bool]
T = TypeVar("T")


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


def read_api(app: App, ref: str) -> tuple[ApiRef, dict[str, Any]]:
    """The API an --api reference names, read once (by name: the list is walked once first)."""
    doc = app.gateway.get_api_or_none(ref) if looks_like_api_id(ref) else None
    if doc is None:
        doc = app.gateway.get_api(app.gateway.resolve_api(ref).id)
    return ApiRef(doc["id"], doc.get("name", "")), doc


def new_lease(app: App, api_id: str) -> leases.Lease:
    return leases.Lease(app.gateway, api_id, app.output.warn, app.clock, app.sleep)


@contextmanager
def under_lease(app: App, api_id: str, lease: leases.Lease | None = None) -> Iterator[leases.Lease]:
    """The API is ours alone for the block: petgate processes on this machine take turns on a
    lock file, and writers on every machine on the API's lease. Whatever the block raises is
    what the user sees: a failure to release after it is only a warning. Pass the same `lease`
    to take it again after LeaseTooShortError: a lease it still holds is then known as its own."""
    with app.journal.lock(api_id):
        lease = lease or new_lease(app, api_id)
        lease.acquire()
        try:
            yield lease
        except BaseException:
            lease.release_quietly(app.output.warn)
            raise
        lease.release_quietly(app.output.warn)  # the change is written and journaled: the lease ends by itself


@contextmanager
def locked_api(
    app: App, ref: str, dry_run: bool = False, lease: leases.Lease | None = None
) -> Iterator[tuple[ApiRef, dict[str, Any], leases.Lease | None]]:
    """Resolve the API and read it fresh while it is ours alone (see under_lease). A dry run
    only reads, and takes neither."""
    if dry_run:
        api, doc = read_api(app, ref)
        yield api, doc, None
        return
    api_id = ref if looks_like_api_id(ref) else app.gateway.resolve_api(ref).id
    with ExitStack() as stack:
        try:
            lease = stack.enter_context(under_lease(app, api_id, lease if lease and lease.api_id == api_id else None))
        except leases.NoSuchApiError:
            if api_id != ref:
                raise
            lease = stack.enter_context(under_lease(app, app.gateway.resolve_api(ref).id))  # a name that looks like an id
        doc = app.gateway.get_api(lease.api_id)
        yield ApiRef(doc["id"], doc.get("name", "")), doc, lease


def guarded_write(
    app: App, lease: leases.Lease, entry_fields: dict[str, Any], write: Callable[[], T],
    stored: Callable[[T], Any] | None = None,
) -> tuple[T, str | None]:
    """Journal the intent, make the write while the lease surely lasts, journal that it was
    done (with `stored(answer)` as the entry's `after`: what AWS really stored, for undo). A
    write whose outcome is unknown (the network failed after sending) says where the change
    may stand; one AWS refused is marked failed. Returns (the write's answer, the entry id)."""
    lease.confirm()
    if not lease.enough_for_a_write():
        raise leases.LeaseTooShortError()
    entry = app.journal.record(target=app.target.describe(), state="intended", **entry_fields)
    entry_id = entry["id"] if entry else None
    try:
        written = lease.write(write)
    except leases.LeaseTooShortError:
        if entry_id:
            app.journal.update(entry_id, state="not-written")
        raise
    except NetworkError as exc:
        where = entry_fields.get("api_id")
        raise NetworkError(
            f"{exc.message}; the change may have reached AWS before the connection failed",
            f"`petgate status --api {where}` shows what the API holds now"
            + (f"; if it holds the change, `petgate undo {entry_id}` reverses it" if entry_id else ""),
        ) from None
    except AwsError:
        if entry_id:
            app.journal.update(entry_id, state="failed")
        raise
    if entry_id:
        app.journal.update(entry_id, state="done", **({"after": stored(written)} if stored else {}))
    return written, entry_id


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
    app: App, ref: str, stage: str, command: str, edit: Edit, intended: Intended, dry_run: bool = False
) -> dict[str, Any]:
    """Apply `edit` to the API's policy until `intended` holds for what AWS stored.

    It reads first, with no lease: most runs of a cron job, and a block of what is blocked
    already, stop there. A change is made under the lease, on a fresh read (the first one may
    be stale by then), and read back from the write's answer."""
    api, doc = read_api(app, ref)
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
            app.output.warn(f"too little of the lease on API {api.id} was left to write safely; taking it again")
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

    result = planned(*read_api(app, ref))
    if dry_run or not result["changed"]:
        return result
    lease = new_lease(app, result["api_id"])
    while True:
        try:
            with locked_api(app, result["api_id"], lease=lease) as (api, doc, _):
                result = planned(api, doc)
                if not result["changed"]:
                    return result
                _, result["journal_id"] = guarded_write(
                    app, lease, {"kind": "policy", "command": "unblock --all", "api_id": api.id, "stage": stage,
                                 "before": result["previous_policy"], "after": None},
                    lambda: app.gateway.set_policy(api.id, None))
                return result
        except leases.LeaseTooShortError:
            app.output.warn(f"too little of the lease on API {result['api_id']} was left to write safely; taking it again")


def set_access_denied(
    app: App, ref: str, stage: str, template: str, content_type: str, status_code: str, dry_run: bool = False
) -> dict[str, Any]:
    """Put the ACCESS_DENIED response, keeping the templates of other content types and headers.
    Reads first: a response that already says this takes no lease."""
    api, _doc = read_api(app, ref)

    def planned(previous: dict[str, Any] | None) -> tuple[dict[str, Any], dict[str, str], Any]:
        customised = previous is not None and not previous.get("defaultResponse", False)
        templates = dict((previous or {}).get("responseTemplates") or {}) if customised else {}
        templates[content_type] = template
        parameters = (previous or {}).get("responseParameters") if customised else None
        unchanged = customised and previous is not None and str(previous.get("statusCode")) == status_code and \
            (previous.get("responseTemplates") or {}) == templates
        result: dict[str, Any] = {
            "api_id": api.id, "api_name": api.name, "stage": stage, "response_type": ACCESS_DENIED,
            "status_code": status_code, "content_type": content_type, "template": template,
            "previous": previous, "dry_run": dry_run, "changed": not unchanged,
        }
        return result, templates, parameters

    result, _, _ = planned(app.gateway.get_gateway_response(api.id, ACCESS_DENIED))
    if dry_run or not result["changed"]:
        return result
    lease = new_lease(app, api.id)
    while True:
        try:
            with under_lease(app, api.id, lease):
                previous = app.gateway.get_gateway_response(api.id, ACCESS_DENIED)
                result, templates, parameters = planned(previous)
                if not result["changed"]:
                    return result
                customised = previous is not None and not previous.get("defaultResponse", False)
                _, result["journal_id"] = guarded_write(
                    app, lease, {"kind": "gateway_response", "command": "set-403-template", "api_id": api.id,
                                 "stage": stage, "response_type": ACCESS_DENIED,
                                 "before": previous if customised else None,
                                 "after": {"responseType": ACCESS_DENIED, "statusCode": status_code,
                                           "responseTemplates": templates, "responseParameters": parameters}},
                    partial(app.gateway.put_gateway_response, api.id, ACCESS_DENIED, status_code, templates, parameters),
                    lambda answer: answer)
                return result
        except leases.LeaseTooShortError:
            app.output.warn(f"too little of the lease on API {api.id} was left to write safely; taking it again")


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


UNDOABLE = ("policy", "gateway_response", "waf", "waf-attach", "waf-detach", "delete")


def undoable(entry: dict[str, Any]) -> bool:
    """Whether `petgate undo` can put back what the entry changed (a deleted WAF list can be
    made again; a deleted API cannot; a change that was never written has nothing to undo)."""
    if entry.get("kind") not in UNDOABLE or entry.get("undoes") or entry.get("state") in ("not-written", "failed"):
        return False
    return entry["kind"] != "delete" or bool(entry.get("list"))


def undo(app: App, entry: dict[str, Any], force: bool, dry_run: bool) -> dict[str, Any]:
    """Put back what the entry replaced, refusing (unless forced) if it changed since."""
    if entry.get("kind") not in UNDOABLE or (entry.get("kind") == "delete" and not entry.get("list")):
        raise UsageError(f"entry {entry['id']} is a {entry.get('kind')}; only policy, 403 template and WAF list changes can be undone")
    if entry.get("target") != app.target.describe():
        raise UsageError(
            f"entry {entry['id']} was made against {entry.get('target')}",
            "run undo with the same --local / --endpoint-url / --region",
        )
    if entry["kind"] == "waf":
        return _undo_waf(app, entry, force, dry_run)
    if entry["kind"] in ("waf-attach", "waf-detach", "delete"):
        from petgate.waf_list import undo_entry

        return undo_entry(app, entry, force, dry_run)
    if entry.get("state") in ("not-written", "failed"):
        raise UsageError(f"entry {entry['id']} was never written ({entry['state']}): there is nothing to undo")
    api_id, stage = entry["api_id"], entry.get("stage") or "test"
    lease = new_lease(app, api_id)
    checked = _undo_api_change(app, entry, api_id, stage, force, True, lease)  # refusals first, with no lease
    if dry_run:
        return checked
    while True:
        try:
            return _undo_api_change(app, entry, api_id, stage, force, dry_run, lease)
        except leases.LeaseTooShortError:
            app.output.warn(f"too little of the lease on API {api_id} was left to write safely; taking it again")


def _undo_api_change(
    app: App, entry: dict[str, Any], api_id: str, stage: str, force: bool, dry_run: bool, lease: leases.Lease
) -> dict[str, Any]:
    result: dict[str, Any] = {"api_id": api_id, "stage": stage, "undoes": entry["id"], "kind": entry["kind"], "dry_run": dry_run}
    with locked_api(app, api_id, dry_run, lease) as (api, doc, lease_held):
        if entry["kind"] == "policy":
            current: Any = decode_policy(api.id, doc)
            restored: Any = entry.get("before")
            if isinstance(restored, dict) and "unreadable" in restored:
                raise UsageError(f"entry {entry['id']} replaced a policy petgate could not read; restore it by hand")
        else:
            response = app.gateway.get_gateway_response(api.id, ACCESS_DENIED) or {}
            current = None if response.get("defaultResponse", True) else response
            restored = entry.get("before")
        if not _holds(current, entry.get("after"), entry.get("state") == "intended") and not force:
            if entry.get("state") == "intended":
                raise UsageError(
                    f"entry {entry['id']} was never confirmed (petgate stopped during the write), and API {api_id} "
                    "does not hold what it meant to write: it was most likely never written",
                    "check `petgate status`; pass --force to put back what the entry replaced anyway",
                )
            raise UsageError(
                f"the {entry['kind'].replace('_', ' ')} of API {api_id} changed after entry {entry['id']}; "
                "undoing it would overwrite that change",
                "check `petgate status`, then pass --force to undo anyway",
            )
        result.update({"previous": current, "restored": restored})
        if dry_run:
            return result
        assert lease_held is not None

        def put_back() -> Any:
            if entry["kind"] == "policy":
                return app.gateway.set_policy(api.id, restored)
            if restored is None:
                return app.gateway.delete_gateway_response(api.id, ACCESS_DENIED)
            return app.gateway.put_gateway_response(
                api.id, ACCESS_DENIED, restored.get("statusCode"), restored.get("responseTemplates") or {},
                restored.get("responseParameters"),
            )

        _, result["journal_id"] = guarded_write(
            app, lease_held, {"kind": entry["kind"], "command": "undo", "undoes": entry["id"], "api_id": api_id,
                         "stage": stage, "response_type": entry.get("response_type"), "before": current,
                         "after": restored},
            put_back)
    return result


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


def _holds(current: Any, after: Any, intended_only: bool) -> bool:
    """Whether the API still holds what the entry left. An entry whose write was never confirmed
    records the policy petgate meant to write, before API Gateway expanded its resources."""
    if _comparable(current) == _comparable(after):
        return True
    if not intended_only or not isinstance(after, dict) or "Statement" not in after:
        return False
    arn = policies.api_arn_in(current)
    if arn is None:
        return False
    region, account, api_id = arn.split(":")[3:6]
    return bool(current == policies.expand_resources(after, region, account, api_id))


def _comparable(value: Any) -> Any:
    """What matters of a policy or gateway response when checking it did not change."""
    if isinstance(value, dict) and "responseType" in value:
        return {k: value.get(k) or None for k in ("statusCode", "responseTemplates", "responseParameters")}
    return value or None
