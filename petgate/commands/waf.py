"""petgate waf ...: the deny list in AWS WAF (IP sets + a web ACL on the stage), past the
resource policy's quota. No redeploy: WAF changes apply to the stage as they are made."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from petgate.app import App
from petgate.commands.common import (
    cidr_option,
    clock_from,
    desired_from,
    expiry_options,
    for_each_api,
    now_option,
    pass_app,
    render_deploy_lines,
    render_expiring,
    several_api_options,
    sync_options,
    until_from_options,
    wanted_cidrs,
)
from petgate.errors import UsageError
from petgate.ops import waf_lists, waf_migrate
from petgate.output import Output
from petgate.waf_addresses import ListChanged, ListPruned, ListShown
from petgate.waf_list import ListDeleted
from petgate.waf_names import MAX_LIST_NAME, check_list_name

F = TypeVar("F", bound=Callable[..., Any])


def list_option(func: F) -> F:
    return click.option("--list", "list_name", default="petgate", show_default=True, envvar="PETGATE_WAF_LIST",
                        callback=lambda _c, _p, v: check_list_name(v),
                        help=f"The list: IP sets petgate-LIST-ipv4/-ipv6, web ACL petgate-LIST; letters, digits, '-' "
                        f"and '_', up to {MAX_LIST_NAME}. [env: PETGATE_WAF_LIST]")(func)


def replace_option(func: F) -> F:
    return click.option("--replace", is_flag=True,
                        help="Replace the web ACL the stage has now, another list's or your own "
                        "(a stage holds one; AWS replaces it without a word).")(func)


@click.group()
def waf() -> None:
    """Deny lists in AWS WAF: past the policy's 8,192 characters (10,000 CIDRs per IP set),
    for several APIs at once, without redeploying.

    \b
    Examples:
      petgate waf attach --api PetStore --stage test
      petgate waf block --cidr 192.0.2.0/24
      petgate waf show
    """


@waf.command()
@several_api_options
@list_option
@replace_option
@pass_app
def attach(app: App, api_refs: tuple[str, ...], stage: str, list_name: str, replace: bool) -> None:
    """Attach the list's web ACL to the stage (creating the list if needed); --api repeatable.

    A stage holds one web ACL: one there already (another list's, or your own) is refused,
    exit 2, unless --replace."""
    for_each_api(app, api_refs, lambda ref: waf_lists.attach(app, ref, stage, list_name, replace), _render_attach)


def _render_attach(out: Output, data: waf_lists.StageAttached) -> None:
    if not data.changed:
        out.info(f"WAF list {data.list} already guards {data.stage_arn}.")
        return
    replaced = f" (it replaced web ACL {data.replaced['name']})" if data.replaced else ""
    out.success(f"WAF list {data.list} now guards {data.stage_arn}{replaced}.")


@waf.command()
@several_api_options
@list_option
@pass_app
def detach(app: App, api_refs: tuple[str, ...], stage: str, list_name: str) -> None:
    """Detach the list's web ACL from the stage; --api repeatable."""
    for_each_api(app, api_refs, lambda ref: waf_lists.detach(app, ref, stage, list_name), _render_detach)


def _render_detach(out: Output, data: waf_lists.StageDetached) -> None:
    out.success(f"Detached WAF list {data.list} from {data.stage_arn}." if data.changed
                else f"WAF list {data.list} was not attached there.")


@waf.command()
@cidr_option("Block this address or CIDR instead of your own (repeatable).")
@list_option
@expiry_options
@pass_app
def block(app: App, cidrs: tuple[str, ...], list_file: str | None, list_name: str, for_text: str | None,
          until_text: str | None) -> None:
    """Add addresses (your own IP by default) to the list; effective at once, no redeploy.

    With --for or --until the addresses go to an IP set of their own named after the time the
    block ends (petgate-LIST-ipv4-until-20261201T180000Z), which `petgate waf prune` deletes
    once that time has passed.

    \b
    Examples:
      petgate waf block --cidr 192.0.2.0/24
      petgate waf block --file abusers.txt --for 24h
    """
    until, clock = until_from_options(for_text, until_text, app.clock)
    data = waf_lists.block(app, list_name, wanted_cidrs(app, cidrs, list_file), until, clock)
    app.output.result(data, _render_change)


@waf.command()
@cidr_option("Unblock this address or CIDR instead of your own (repeatable).")
@click.option("--all", "everything", is_flag=True, help="Empty the list.")
@list_option
@pass_app
def unblock(app: App, cidrs: tuple[str, ...], list_file: str | None, everything: bool, list_name: str) -> None:
    """Remove addresses (your own IP by default) from the list."""
    if everything and (cidrs or list_file):
        raise UsageError("--all does not go with --cidr or --file")
    data = waf_lists.unblock(app, list_name, [] if everything else wanted_cidrs(app, cidrs, list_file), everything)
    app.output.result(data, _render_change)


def _render_change(out: Output, data: ListChanged) -> None:
    if data.added:
        ends = f" until {data.until}" if data.until else ""
        out.success(f"Blocked {', '.join(data.added)} with WAF list {data.list}{ends}.")
    if data.removed:
        out.success(f"Unblocked {', '.join(data.removed)} from WAF list {data.list}.")
    if not data.changed:
        out.info(f"WAF list {data.list} is unchanged.")
    for name, count in data.ip_sets.items():
        out.detail(f"{name}: {count:,} of 10,000 addresses")


@waf.command()
@list_option
@pass_app
def show(app: App, list_name: str) -> None:
    """The list's addresses per IP set (against the 10,000 quota) and the stages it guards."""
    app.output.result(waf_lists.show(app, list_name), _render_show)


def _render_show(out: Output, data: ListShown) -> None:
    out.data(f"WAF list {data.list} ({data.web_acl_arn})")
    for ip_set in data.ip_sets:
        ends = f", until {ip_set.expires}" if ip_set.expires else ""
        out.data(f"  {ip_set.name}: {ip_set.count:,} of {ip_set.quota:,}{ends}")
        for address in ip_set.addresses:
            out.data(f"    {address}")
    out.data("  attached to: " + (", ".join(data.attached) or "no stage"))
    render_expiring(out, data.expiring)


@waf.command("prune")
@list_option
@now_option
@click.option("--dry-run", is_flag=True, help="Show what has expired; change nothing.")
@pass_app
def waf_prune(app: App, list_name: str, now_text: str | None, dry_run: bool) -> None:
    """Delete the list's IP sets of blocks that have expired (their rules leave the web ACL first).

    \b
    Example (cron, every 5 minutes):
      */5 * * * * petgate waf prune --list petgate -q
    """
    data = waf_lists.prune(app, list_name, clock_from(now_text, app.clock), dry_run)
    app.output.result(data, _render_prune)


def _render_prune(out: Output, data: ListPruned) -> None:
    if not data.pruned and not data.ip_sets_deleted:
        out.info(f"Nothing has expired in WAF list {data.list} (as of {data.now}).")
        return
    would = "Would lift" if data.dry_run else "Lifted"
    out.success(f"{would} {len(data.pruned)} expired block(s) from WAF list {data.list} "
                f"({len(data.ip_sets_deleted)} IP set(s)).")
    for item in data.pruned:
        out.detail(f"- {item.cidr} (expired {item.expired})")


@waf.command()
@list_option
@pass_app
def delete(app: App, list_name: str) -> None:
    """Detach the list everywhere, then delete its web ACL and IP sets."""
    app.output.result(waf_lists.delete(app, list_name), _render_delete)


def _render_delete(out: Output, data: ListDeleted) -> None:
    out.success(f"Deleted WAF list {data.list} (detached from {len(data.detached)} stage(s))." if data.deleted
                else f"There is no WAF list {data.list}.")


@waf.command()
@several_api_options
@list_option
@click.option("--no-deploy", is_flag=True, help="Remove the policy's deny list but do not redeploy the stage.")
@replace_option
@pass_app
def migrate(app: App, api_refs: tuple[str, ...], stage: str, list_name: str, no_deploy: bool, replace: bool) -> None:
    """Move petgate's policy deny list onto the WAF list, attach it to the stage, check that
    WAF now holds every address for that stage, then remove petgate's deny statements from the
    policy and redeploy. Your own statements stay; blocks that end keep their end (an IP set
    per end, as `waf block --until` makes). --api repeatable: several APIs onto one list. A
    stage with another web ACL is refused before anything changes, unless --replace."""
    for_each_api(app, api_refs, lambda ref: waf_migrate.migrate(app, ref, stage, list_name, no_deploy, replace), _render_migrate)


def _render_migrate(out: Output, data: waf_migrate.Migrated) -> None:
    if not data.changed:
        out.info(f"petgate's policy deny list of API {data.api_id} is empty: nothing to migrate.")
        return
    out.success(f"Moved {len(data.migrated)} address(es) to WAF list {data.list}, attached to {data.stage_arn}; "
                "petgate's deny statement is gone from the policy.")
    render_deploy_lines(out, data)


@waf.command("sync")
@sync_options
@list_option
@pass_app
def waf_sync(app: App, list_file: str, max_change: float, force: bool, dry_run: bool, list_name: str) -> None:
    """Make the list's permanent sets exactly the file's (one UpdateIPSet per set), with the
    change gate. Blocks that end (`waf block --for`) stay: `waf prune` lifts them."""
    desired = desired_from(list_file)  # read once: with `-`, stdin cannot be read again
    app.output.result(waf_lists.sync(app, list_name, list_file, desired, max_change, force, dry_run), _render_sync)


def _render_sync(out: Output, data: waf_lists.Synced) -> None:
    out.success(f"{'Would add' if data.dry_run else 'Added'} {len(data.added)} and {'remove' if data.dry_run else 'removed'} "
                f"{len(data.removed)}: WAF list {data.list} holds {data.listed} entries from {data.file}.")
