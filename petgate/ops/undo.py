"""Putting back what a journaled change replaced, refusing when it changed since."""

from __future__ import annotations

from typing import Any

from petgate import lease as leases
from petgate import policy as policies
from petgate.errors import UsageError
from petgate.gateway import ACCESS_DENIED, decode_policy
from petgate.ops.services import Services
from petgate.ops.writes import guarded_write, journal, locked_api, new_lease, taking_the_lease_again

UNDOABLE = ("policy", "gateway_response", "waf", "waf-attach", "waf-detach", "delete")


def undoable(entry: dict[str, Any]) -> bool:
    """Whether `petgate undo` can put back what the entry changed (a deleted WAF list can be
    made again; a deleted API cannot; a change that was never written has nothing to undo)."""
    if entry.get("kind") not in UNDOABLE or entry.get("undoes") or entry.get("state") in ("not-written", "failed"):
        return False
    return entry["kind"] != "delete" or bool(entry.get("list"))


def undo(app: Services, entry: dict[str, Any], force: bool, dry_run: bool) -> dict[str, Any]:
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
    return taking_the_lease_again(app, api_id, lambda: _undo_api_change(app, entry, api_id, stage, force, dry_run, lease))


def _undo_api_change(
    app: Services, entry: dict[str, Any], api_id: str, stage: str, force: bool, dry_run: bool, lease: leases.Lease
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


def _undo_waf(app: Services, entry: dict[str, Any], force: bool, dry_run: bool) -> dict[str, Any]:
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
    result["journal_id"] = journal(app, kind="waf", command="undo", undoes=entry["id"], list=entry["list"],
                                   ip_sets={n: {"before": result["previous"][n], "after": result["restored"][n]} for n in result["restored"]})
    return result


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
