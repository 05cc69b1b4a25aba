"""The WAF list commands' operations (`waf attach`, `detach`, `block`, `unblock`, `show`,
`prune`, `delete`, `sync`): which stage an `--api` and `--stage` name, and one call of
waf_list.WafList each (every WAF call is there)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from petgate.errors import UsageError
from petgate.ops import apis
from petgate.ops.results import extend
from petgate.ops.services import Services
from petgate.ops.sync import gate
from petgate.waf_addresses import ListChanged, ListPruned, ListShown, ListSynced
from petgate.waf_list import ListDeleted, WafList
from petgate.waf_names import stage_arn
from petgate.waf_stages import ListAttached, ListDetached


@dataclass(frozen=True, kw_only=True)
class StageAttached(ListAttached):
    """`waf attach` of one API's stage."""

    api_id: str
    stage: str


@dataclass(frozen=True, kw_only=True)
class StageDetached(ListDetached):
    api_id: str
    stage: str


@dataclass(frozen=True, kw_only=True)
class Synced(ListSynced):
    """`waf sync`: the list made the file's (`listed`: the file's entries)."""

    file: str
    listed: int
    max_change: float


def stage_of(app: Services, api_ref: str, stage: str) -> tuple[str, str]:
    """(the API's id, the stage's ARN, as WAF names it); a stage that does not exist is refused."""
    api_id = apis.resolve_api(app.gateway, api_ref, look_up_ids=False).id
    if app.gateway.get_stage(api_id, stage) is None:
        raise UsageError(f"API {api_id} has no stage {stage!r}", "run `petgate deploy` first")
    return api_id, stage_arn(app.target.resolved_region(), api_id, stage)


def attach(app: Services, api_ref: str, stage: str, list_name: str, replace: bool) -> StageAttached:
    """Attach the list's web ACL to the stage (creating the list if needed); another web ACL
    there is refused unless `replace`."""
    api_id, arn = stage_of(app, api_ref, stage)
    attached = WafList(app, list_name).attach(arn, replace=replace, api_id=api_id, stage=stage)
    return extend(attached, StageAttached, api_id=api_id, stage=stage)


def detach(app: Services, api_ref: str, stage: str, list_name: str) -> StageDetached:
    api_id, arn = stage_of(app, api_ref, stage)
    return extend(WafList(app, list_name).detach(arn, api_id=api_id, stage=stage), StageDetached, api_id=api_id,
                  stage=stage)


def block(app: Services, list_name: str, cidrs: list[str], until: datetime | None, clock: datetime) -> ListChanged:
    """Add the CIDRs to the list: for good, or until `until` (an IP set per end)."""
    return WafList(app, list_name).change(cidrs, [], until=until, clock=clock)


def unblock(app: Services, list_name: str, cidrs: list[str], everything: bool = False) -> ListChanged:
    """Lift the CIDRs from the list, or (`everything`) empty it."""
    return WafList(app, list_name).change([], [] if everything else cidrs, everything)


def show(app: Services, list_name: str) -> ListShown:
    return WafList(app, list_name).show()


def prune(app: Services, list_name: str, clock: datetime, dry_run: bool = False) -> ListPruned:
    return WafList(app, list_name).prune(clock, dry_run)


def delete(app: Services, list_name: str) -> ListDeleted:
    return WafList(app, list_name).delete()


def sync(app: Services, list_name: str, list_file: str, desired: list[str], max_change: float, force: bool,
         dry_run: bool) -> Synced:
    """Make the list's permanent sets exactly `desired` (refused past the change gate)."""
    synced = WafList(app, list_name).sync(lambda current: gate(current, desired, max_change, force), dry_run)
    return extend(synced, Synced, file=list_file, listed=len(desired), max_change=max_change)
