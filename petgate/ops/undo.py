"""Putting back what a journaled change replaced, refusing when it changed since."""

from __future__ import annotations

import builtins
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

from petgate import lease as leases
from petgate import policy as policies
from petgate.errors import UsageError
from petgate.gateway import ACCESS_DENIED, decode_policy
from petgate.ops import apis, authorization_types
from petgate.ops.results import UNSET, Result, StageChange, Unset
from petgate.ops.services import Services
from petgate.ops.writes import (
    guarded_write,
    journal,
    locked_api,
    new_lease,
    taking_the_lease_again,
    under_lease,
)

UNDOABLE = ("policy", "gateway_response", "authorization", "waf", "waf-attach", "waf-detach", "delete")


def undoable(entry: dict[str, Any]) -> bool:
    """Whether `petgate undo` can put back what the entry changed (a deleted WAF list can be
    made again; a deleted API cannot; a change that was never written has nothing to undo)."""
    if entry.get("kind") not in UNDOABLE or entry.get("undoes") or entry.get("state") in ("not-written", "failed"):
        return False
    return entry["kind"] != "delete" or bool(entry.get("list"))


@dataclass(frozen=True, kw_only=True)
class History(Result):
    """`petgate history`: where the journal is, and its entries (journal.py's records, plus `undone`)."""

    journal: str
    entries: list[dict[str, Any]]


@dataclass(frozen=True, kw_only=True)
class ApiChangeUndone(StageChange):
    """A policy or 403 template put back: `previous` is what the API held, `restored` what it holds."""

    undoes: str
    kind: str
    dry_run: bool
    previous: Any
    restored: Any


@dataclass(frozen=True, kw_only=True)
class WafChangeUndone(Result):
    """A WAF list's IP sets put back, set by set."""

    list: str
    undoes: str
    kind: str
    dry_run: bool
    previous: dict[str, builtins.list[str]]
    restored: dict[str, builtins.list[str]]
    journal_id: str | None | Unset = UNSET


def history(app: Services, api_id: str | None, limit: int) -> History:
    """The newest `limit` entries (of one API), newest first, each marked undone or not."""
    entries = app.journal.entries()
    undone = {e["undoes"] for e in entries if e.get("undoes")}
    selected = [e for e in reversed(entries) if api_id is None or e.get("api_id") == api_id][:limit]
    return History(journal=str(app.journal.path), entries=[{**e, "undone": e["id"] in undone} for e in selected])


def pick(app: Services, entry_id: str | None, api_ref: str | None) -> dict[str, Any]:
    """The entry `petgate undo` puts back: the one `entry_id` starts, or the newest not undone
    yet (of `api_ref`'s API); one whose API or WAF list was deleted since is refused."""
    if entry_id is not None and not entry_id.strip():
        raise UsageError("an empty ENTRY names no journal entry", "see `petgate history` for entry ids")
    entries = app.journal.entries()
    if api_ref:
        api_id = apis.resolve_api(app.gateway, api_ref, look_up_ids=False).id
        entries = [e for e in entries if e.get("api_id") == api_id]
    undone = {e["undoes"] for e in entries if e.get("undoes")}
    if entry_id:
        matches = [e for e in entries if e["id"].startswith(entry_id)]
        if len(matches) != 1:
            scope = f" for API {api_ref}" if api_ref else ""
            raise UsageError(f"no single journal entry {entry_id!r}{scope}", "see `petgate history`")
        entry = matches[0]
    else:
        candidates = [
            e for e in entries
            if undoable(e) and e["id"] not in undone
        ]
        if not candidates:
            raise UsageError("nothing to undo" + (f" for API {api_ref}" if api_ref else ""), "see `petgate history`")
        entry = candidates[-1]
    _refuse_if_deleted(entries, entry)
    return entry


def _refuse_if_deleted(entries: list[dict[str, Any]], entry: dict[str, Any]) -> None:
    """A change to an API that was deleted afterwards cannot be put back: say so."""
    later = entries[entries.index(entry) + 1:]
    undone = {e["undoes"] for e in entries if e.get("undoes")}
    key = "list" if entry.get("kind") in ("waf", "waf-attach", "waf-detach") else "api_id"
    what = f"WAF list {entry.get('list')}" if key == "list" else f"API {entry.get('api_id')}"
    deleted = next((e for e in later if e.get("kind") == "delete" and e.get(key) and e.get(key) == entry.get(key)
                    and e["id"] not in undone), None)  # a WAF list made again by undo is there again
    if deleted is not None:
        raise UsageError(
            f"entry {entry['id']} changed {what}, which `{deleted.get('command')}` deleted "
            f"afterwards (entry {deleted['id']}, {deleted.get('time')}); there is nothing to put it back on",
            "pass --api, or an entry id, for another change",
        )


def undo(app: Services, entry: dict[str, Any], force: bool, dry_run: bool) -> Result:
    """Put back what the entry replaced, refusing (unless forced) if it changed since: an
    ApiChangeUndone (deployed by the caller), a WafChangeUndone, or what waf_undo.undo_entry
    returns for an attach, detach or delete."""
    if entry.get("kind") not in UNDOABLE or (entry.get("kind") == "delete" and not entry.get("list")):
        raise UsageError(f"entry {entry['id']} is a {entry.get('kind')}; only policy, 403 template, methods' "
                         "authorization and WAF list changes can be undone")
    if entry.get("target") != app.target.describe():
        raise UsageError(
            f"entry {entry['id']} was made against {entry.get('target')}",
            "run undo with the same --local / --endpoint-url / --region",
        )
    if entry["kind"] == "waf":
        return _undo_waf(app, entry, force, dry_run)
    if entry["kind"] in ("waf-attach", "waf-detach", "delete"):
        from petgate.waf_undo import undo_entry

        return undo_entry(app, entry, force, dry_run)
    if entry.get("state") in ("not-written", "failed"):
        raise UsageError(f"entry {entry['id']} was never written ({entry['state']}): there is nothing to undo")
    api_id, stage = entry["api_id"], entry.get("stage") or "test"
    lease = new_lease(app, api_id)
    if entry["kind"] == "authorization":
        checked = _undo_authorization(app, entry, api_id, stage, force, True, lease)  # refusals first, with no lease
        if dry_run:
            return checked
        return taking_the_lease_again(
            app, api_id, lambda: _undo_authorization(app, entry, api_id, stage, force, dry_run, lease))
    checked = _undo_api_change(app, entry, api_id, stage, force, True, lease)  # refusals first, with no lease
    if dry_run:
        return checked
    return taking_the_lease_again(app, api_id, lambda: _undo_api_change(app, entry, api_id, stage, force, dry_run, lease))


def _undo_api_change(
    app: Services, entry: dict[str, Any], api_id: str, stage: str, force: bool, dry_run: bool, lease: leases.Lease
) -> ApiChangeUndone:
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
        result = ApiChangeUndone(api_id=api_id, stage=stage, undoes=entry["id"], kind=entry["kind"], dry_run=dry_run,
                                 previous=current, restored=restored)
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

        _, entry_id = guarded_write(
            app, lease_held, {"kind": entry["kind"], "command": "undo", "undoes": entry["id"], "api_id": api_id,
                         "stage": stage, "response_type": entry.get("response_type"), "before": current,
                         "after": restored},
            put_back)
    return result.but(journal_id=entry_id)


def _undo_authorization(
    app: Services, entry: dict[str, Any], api_id: str, stage: str, force: bool, dry_run: bool, lease: leases.Lease
) -> ApiChangeUndone:
    """Put each method the entry changed back to its earlier authorizationType (require-iam's
    kind). Each must still hold what the entry left, unless --force; an entry never confirmed
    (`intended`) may have reached only some methods, and an undo the lease cut short put back
    only some: a method that holds its earlier type already needs nothing. `previous` and
    `restored` are the methods' types now and after."""
    with ExitStack() as stack:
        if not dry_run:
            stack.enter_context(under_lease(app, api_id, lease))
        now = {(m.path, m.method): m for m in authorization_types.read_methods(app.gateway, api_id)}
        intended = entry.get("state") == "intended"
        writes: list[tuple[authorization_types.Method, str]] = []
        previous, restored = [], []
        for item in entry.get("methods") or []:
            where = f"{item.get('method')} {item.get('path')}"
            method = now.get((item.get("path"), item.get("method")))
            if method is None:
                if force:
                    continue
                raise UsageError(f"method {where} of entry {entry['id']} is no longer in API {api_id}",
                                 "pass --force to put back the others")
            current, before = method.authorization_type, str(item.get("before"))
            if current not in (item.get("after"), before) and not force:
                raise UsageError(
                    f"the authorization of {where} in API {api_id} changed after entry {entry['id']} "
                    f"(it is {current} now); undoing it would overwrite that change",
                    "check `petgate status`, then pass --force to undo anyway",
                )
            previous.append(method.shown().to_json())
            restored.append(method.shown(before).to_json())
            if current != before:
                writes.append((method, before))
        if intended and not writes and not force:
            raise UsageError(
                f"entry {entry['id']} was never confirmed (petgate stopped during the write), and API {api_id} "
                "holds none of what it meant to write: it was most likely never written",
                "check `petgate status`; nothing needs putting back",
            )
        result = ApiChangeUndone(api_id=api_id, stage=stage, undoes=entry["id"], kind="authorization",
                                 dry_run=dry_run, previous=previous, restored=restored)
        if dry_run:
            return result
        fields = {"kind": "authorization", "command": "undo", "undoes": entry["id"], "api_id": api_id, "stage": stage}
        if not writes:  # every method holds its earlier type already: journaled, so the entry counts as undone
            return result.but(journal_id=journal(app, **fields, state="done", methods=[]))
        _, entry_id = authorization_types.write_methods(app, lease, fields, writes)
    return result.but(journal_id=entry_id)


def _undo_waf(app: Services, entry: dict[str, Any], force: bool, dry_run: bool) -> WafChangeUndone:
    """Put back the IP sets' addresses, under WAF's LockToken; refuse if a set changed since."""
    from petgate.waf_list import WafList

    waf_list = WafList(app, entry["list"])
    sets = {s["Name"]: s for s in waf_list.all_ip_sets()}
    previous: dict[str, list[str]] = {}
    restored: dict[str, list[str]] = {}
    for name, change in entry.get("ip_sets", {}).items():
        if name not in sets:
            raise UsageError(f"IP set {name} of entry {entry['id']} no longer exists (`waf delete`?)")

        def put_back(current: list[str], change: dict[str, Any] = change, name: str = name) -> list[str]:
            if sorted(current) != sorted(change["after"]) and not force:
                raise UsageError(f"IP set {name} changed after entry {entry['id']}; undoing it would overwrite that change",
                                 "check `petgate waf show`, then pass --force to undo anyway")
            previous[name], restored[name] = current, change["before"]
            return current if dry_run else list(change["before"])

        app.waf.edit_ip_set(sets[name], put_back)
    result = WafChangeUndone(list=entry["list"], undoes=entry["id"], kind="waf", dry_run=dry_run, previous=previous,
                             restored=restored)
    if dry_run:
        return result
    return result.but(journal_id=journal(app, kind="waf", command="undo", undoes=entry["id"], list=entry["list"],
                                         ip_sets={n: {"before": previous[n], "after": restored[n]} for n in restored}))


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
