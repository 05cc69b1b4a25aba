"""Undo of what `waf attach`, `waf detach` and `waf delete` journaled: a stage gets back the web
ACL it had (or none), a deleted list is made again as it was and attached where it was.
(`petgate undo` of a change to a list's addresses is ops/undo.py's own.)"""

from __future__ import annotations

import contextlib
import copy
from dataclasses import dataclass
from typing import Any

from petgate import expiry
from petgate.errors import AwsError, PetgateError, UsageError
from petgate.ops.results import UNSET, Result, Unset
from petgate.ops.services import Services
from petgate.waf_names import ListNames, check_list_name
from petgate.waf_parts import ListResult
from petgate.waf_stages import acl_ref

UNDO_KINDS = ("waf-attach", "waf-detach", "delete")


@dataclass(frozen=True, kw_only=True)
class WafUndone(ListResult):
    """What undo_entry did: `kind` and `undoes` are the entry's, `summary` a line for the user."""

    kind: str
    undoes: str
    dry_run: bool
    summary: str
    journal_id: str | None | Unset = UNSET


@dataclass(frozen=True, kw_only=True)
class StageUndone(WafUndone):
    """A stage's web ACL put back: `previous` is the one it had, `restored` the one it has."""

    stage_arn: str
    previous: dict[str, str] | None
    restored: dict[str, Any] | None
    api_id: str | Unset = UNSET
    stage: str | Unset = UNSET


@dataclass(frozen=True, kw_only=True)
class NotAttached(Result):
    stage_arn: str
    error: str


@dataclass(frozen=True, kw_only=True)
class ListRemade(WafUndone):
    """A deleted list made again: its sets (`ended`: those of blocks that have ended since,
    left out), and the stages it guards again."""

    ip_sets: list[str]
    addresses: int
    ended: list[str]
    attached: list[str]
    not_attached: list[NotAttached]
    web_acl_arn: str | None


def undo_entry(app: Services, entry: dict[str, Any], force: bool, dry_run: bool) -> WafUndone:
    """Undo a journal entry of `waf attach` / `waf detach` (kinds waf-attach, waf-detach: the
    stage gets back the web ACL it had, or none) or `waf delete` (kind delete with a list: the
    list is made again, as it was, and attached where it was). Refuses (UsageError) when what
    the entry left has changed since, unless `force`; the undo is journaled too."""
    kind = entry.get("kind")
    if kind in ("waf-attach", "waf-detach"):
        return _undo_stage(app, entry, force, dry_run)
    if kind == "delete" and entry.get("list"):
        return _undo_delete(app, entry, force, dry_run)
    raise UsageError(f"entry {entry.get('id')} is a {kind}, not a WAF list's attach, detach or delete")


def _acl_text(ref: dict[str, Any] | None) -> str:
    return "no web ACL" if ref is None else f"web ACL {ref.get('name')}"


def _undo_stage(app: Services, entry: dict[str, Any], force: bool, dry_run: bool) -> StageUndone:
    arn = str(entry["stage_arn"])
    before, after = entry.get("before"), entry.get("after")
    now = acl_ref(app.waf.web_acl_for(arn))
    if (now or {}).get("arn") != (after or {}).get("arn") and not force:
        raise UsageError(
            f"the web ACL of stage {arn} changed after entry {entry['id']} (it has {_acl_text(now)}, the entry left "
            f"{_acl_text(after)}); undoing it would overwrite that change",
            "check `petgate waf show`, then pass --force to undo anyway")
    where = {k: entry[k] for k in ("api_id", "stage") if entry.get(k)}
    would = "Would put" if dry_run else "Put"
    result = StageUndone(kind=entry["kind"], undoes=entry["id"], list=entry["list"], stage_arn=arn, dry_run=dry_run,
                         previous=now, restored=before, **where,
                         summary=f"{would} back {_acl_text(before)} on stage {arn}, as before {entry['id']}.")
    if dry_run or (now or {}).get("arn") == (before or {}).get("arn"):
        return result
    if before is None:
        app.waf.disassociate(arn)
    else:
        try:
            app.waf.associate(before["arn"], arn)
        except AwsError as exc:
            if exc.code != "WAFNonexistentItemException":
                raise
            raise UsageError(f"web ACL {before['name']} (or stage {arn}) no longer exists; entry {entry['id']} cannot "
                             "be undone", "attach a list with `petgate waf attach`, or detach with `petgate waf detach`") from None
    journaled = app.journal.record(target=app.target.describe(), kind="waf-attach" if before else "waf-detach",
                                   command="undo", undoes=entry["id"], list=entry["list"], stage_arn=arn,
                                   before=now, after=before, **where)
    return result.but(journal_id=journaled["id"] if journaled else None)


def _undo_delete(app: Services, entry: dict[str, Any], force: bool, dry_run: bool) -> ListRemade:
    """Make the deleted list again: its IP sets with their addresses (not those of blocks that
    have ended since: they stay lifted), its web ACL with its rules on the new sets, attached to
    the stages it guarded. Nothing of the list may exist now; a stage that has another web ACL
    now is refused unless `force`. Fails whole: sets made before a failure are deleted again."""
    name = str(entry["list"])
    if "sets" not in entry:
        raise UsageError(f"entry {entry['id']} deleted WAF list {name} before petgate journaled what it held; "
                         "there is nothing to make it again from",
                         f"block the addresses again with `petgate waf block --list {name}`")
    names = ListNames(check_list_name(name))
    clock = expiry.now(app.clock)

    def ended(ip_set: dict[str, Any]) -> bool:
        group = names.group_of(ip_set["name"])
        return group is not None and expiry.expired(group[1], clock)

    sets = [s for s in entry["sets"] if not ended(s)]
    dropped = {s["arn"] for s in entry["sets"] if ended(s)}
    acl = entry.get("web_acl")
    existing = sorted({s["Name"] for s in app.waf.list_ip_sets()} & {s["name"] for s in entry["sets"]})
    if acl is not None and app.waf.find_web_acl(acl["name"]) is not None:
        existing.insert(0, acl["name"])
    if existing:
        raise UsageError(f"WAF list {name} exists again ({', '.join(existing)}); undoing entry {entry['id']} would "
                         "not overwrite it", f"see `petgate waf show --list {name}`; `petgate waf delete --list {name}` "
                         "first to make the deleted one again")
    attached = list(entry.get("attached") or []) if acl is not None else []
    for stage_arn in attached:
        other = app.waf.web_acl_for(stage_arn)
        if other is not None and not force:
            raise UsageError(f"stage {stage_arn} is guarded by web ACL {other.get('Name')} now; attaching WAF list "
                             f"{name} again would replace it", "pass --force to replace it")
    addresses = sum(len(s["addresses"]) for s in sets)

    def remade(verb: str, web_acl_arn: str | None, guarded: list[str], missed: list[NotAttached]) -> ListRemade:
        not_again = f"; not attached again to {len(missed)} (gone?)" if missed else ""
        return ListRemade(
            kind="delete", undoes=entry["id"], list=name, dry_run=dry_run, ip_sets=[s["name"] for s in sets],
            addresses=addresses, ended=sorted(s["name"] for s in entry["sets"] if ended(s)), attached=guarded,
            not_attached=missed, web_acl_arn=web_acl_arn,
            summary=(f"{verb} WAF list {name} again ({len(sets)} IP set(s), {addresses:,} address(es)), attached to "
                     f"{len(guarded)} stage(s){not_again}, as before {entry['id']}."))

    if dry_run:
        return remade("Would make", None, attached, [])
    created: list[dict[str, Any]] = []
    arns: dict[str, str] = {}
    web_acl_arn: str | None = None
    try:
        for ip_set in sets:
            summary = app.waf.create_ip_set(ip_set["name"], int(ip_set["version"]),
                                            ip_set.get("description") or f"petgate deny list {name}",
                                            ip_set["addresses"], theirs_ok=False)
            created.append(summary)
            arns[ip_set["arn"]] = summary["ARN"]
        if acl is not None:
            rules = []
            for rule in copy.deepcopy(acl["rules"]):
                reference = (rule.get("Statement") or {}).get("IPSetReferenceStatement")
                if reference and reference.get("ARN") in dropped:
                    continue  # the rule of blocks that have ended
                if reference and reference.get("ARN") in arns:
                    reference["ARN"] = arns[reference["ARN"]]
                rules.append(rule)
            made = app.waf.create_web_acl(acl["name"], rules, acl.get("default_action"), acl.get("visibility_config"),
                                          acl.get("description") or "petgate deny list", theirs_ok=False)
            web_acl_arn = made["ARN"]
    except PetgateError:
        for summary in reversed(created):  # nothing half made is left behind (and billed)
            with contextlib.suppress(AwsError):
                app.waf.delete_ip_set(summary)
        raise
    again: list[str] = []
    not_attached: list[NotAttached] = []
    for stage_arn in attached:
        assert web_acl_arn is not None  # a list with no web ACL guarded no stage
        try:
            app.waf.associate(web_acl_arn, stage_arn)
            again.append(stage_arn)
        except AwsError as exc:  # the stage went since (its API deleted): the list is back all the same
            not_attached.append(NotAttached(stage_arn=stage_arn, error=exc.line()))
    result = remade("Made", web_acl_arn, again, not_attached)
    journaled = app.journal.record(target=app.target.describe(), kind="waf-recreate", command="undo",
                                   undoes=entry["id"], list=name, ip_sets=result.ip_sets, attached=result.attached)
    return result.but(journal_id=journaled["id"] if journaled else None)
