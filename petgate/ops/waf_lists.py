"""The WAF list commands' operations (`waf attach`, `detach`, `block`, `unblock`, `show`,
`prune`, `delete`, `sync`): which stage an `--api` and `--stage` name, and one call of
waf_list.WafList each (every WAF call is there)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from petgate.errors import UsageError
from petgate.ops import apis
from petgate.ops.services import Services
from petgate.ops.sync import gate
from petgate.waf_list import WafList
from petgate.waf_names import stage_arn


def stage_of(app: Services, api_ref: str, stage: str) -> tuple[str, str]:
    """(the API's id, the stage's ARN, as WAF names it); a stage that does not exist is refused."""
    api_id = apis.resolve_api(app.gateway, api_ref, look_up_ids=False).id
    if app.gateway.get_stage(api_id, stage) is None:
        raise UsageError(f"API {api_id} has no stage {stage!r}", "run `petgate deploy` first")
    return api_id, stage_arn(app.target.resolved_region(), api_id, stage)


def attach(app: Services, api_ref: str, stage: str, list_name: str, replace: bool) -> dict[str, Any]:
    """Attach the list's web ACL to the stage (creating the list if needed); another web ACL
    there is refused unless `replace`."""
    api_id, arn = stage_of(app, api_ref, stage)
    return {"api_id": api_id, "stage": stage,
            **WafList(app, list_name).attach(arn, replace=replace, api_id=api_id, stage=stage)}


def detach(app: Services, api_ref: str, stage: str, list_name: str) -> dict[str, Any]:
    api_id, arn = stage_of(app, api_ref, stage)
    return {"api_id": api_id, "stage": stage, **WafList(app, list_name).detach(arn, api_id=api_id, stage=stage)}


def block(app: Services, list_name: str, cidrs: list[str], until: datetime | None, clock: datetime) -> dict[str, Any]:
    """Add the CIDRs to the list: for good, or until `until` (an IP set per end)."""
    return WafList(app, list_name).change(cidrs, [], until=until, clock=clock)


def unblock(app: Services, list_name: str, cidrs: list[str], everything: bool = False) -> dict[str, Any]:
    """Lift the CIDRs from the list, or (`everything`) empty it."""
    return WafList(app, list_name).change([], [] if everything else cidrs, everything)


def show(app: Services, list_name: str) -> dict[str, Any]:
    return WafList(app, list_name).show()


def prune(app: Services, list_name: str, clock: datetime, dry_run: bool = False) -> dict[str, Any]:
    return WafList(app, list_name).prune(clock, dry_run)


def delete(app: Services, list_name: str) -> dict[str, Any]:
    return WafList(app, list_name).delete()


def sync(app: Services, list_name: str, list_file: str, desired: list[str], max_change: float, force: bool,
         dry_run: bool) -> dict[str, Any]:
    """Make the list's permanent sets exactly `desired` (refused past the change gate)."""
    data = WafList(app, list_name).sync(lambda current: gate(current, desired, max_change, force), dry_run)
    data.update(file=list_file, listed=len(desired), max_change=max_change)
    return data
