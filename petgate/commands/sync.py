"""petgate sync / petgate waf sync: make petgate's deny list exactly a file's, with a change gate
so that a bad feed cannot wipe the list unattended."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeVar

import click

from petgate import actions, lists
from petgate import policy as policies
from petgate.app import App
from petgate.commands.common import deploy_unless_served, pass_app, read_list_file, render_deploy_lines
from petgate.commands.several import for_each_api, several_api_options
from petgate.errors import ChangeGateError
from petgate.output import Output

F = TypeVar("F", bound=Callable[..., Any])


class Percent(click.FloatRange):
    """A percentage from 0 to 100: `nan` is refused too (it compares false with both ends)."""

    def __init__(self) -> None:
        super().__init__(0, 100)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if math.isnan(number):
            self.fail(f"{value!r} is not a number: give a percentage from 0 to 100", param, ctx)
        return number


MAX_CHANGE_HELP = ("Refuse (exit 2) when more than PCT% of the listed addresses would be added or removed. "
                   "Addresses are counted, not entries (a /16 is 65,536), and IPv4 and IPv6 each against the "
                   "addresses of its own version listed now.")


def sync_options(func: F) -> F:
    func = click.option("--dry-run", is_flag=True, help="Show the diff; change nothing.")(func)
    func = click.option("--force", is_flag=True, help="Apply even past --max-change.")(func)
    func = click.option("--max-change", type=Percent(), default=10.0, show_default=True, metavar="PCT",
                        help=MAX_CHANGE_HELP)(func)
    return click.option("--file", "list_file", required=True, metavar="PATH",
                        help="The list: one address or CIDR per line, # comments; - is stdin.")(func)


def desired_from(list_file: str) -> list[str]:
    return policies.collapse(read_list_file(list_file))


def gate(current: list[str], desired: list[str], max_change: float, force: bool) -> tuple[list[str], list[str]]:
    added, removed = lists.diff(current, desired)
    refusal = lists.change_gate(current, added, removed, max_change)
    if refusal and not force:
        raise ChangeGateError(refusal, "check the file; pass --force if the change is meant")
    return added, removed


@click.command()
@several_api_options
@sync_options
@click.option("--no-deploy", is_flag=True, help="Change the API but do not redeploy the stage.")
@pass_app
def sync(app: App, api_refs: tuple[str, ...], stage: str, list_file: str, max_change: float, force: bool,
         dry_run: bool, no_deploy: bool) -> None:
    """Make petgate's permanent deny list exactly the file's, then redeploy.

    Your own statements stay, and so do blocks made with --for/--until: they end on their own
    (`petgate prune`). An address of the file that only had such a block is now blocked for good.

    \b
    Example (cron):
      petgate sync --api a1b2c3d4e5 --file /etc/petgate/deny.txt -o json
    """
    desired = desired_from(list_file)  # read once: with `-`, stdin cannot be read again
    for_each_api(app, api_refs, lambda ref: _sync_one(app, ref, stage, list_file, desired, max_change, force,
                                                      dry_run, no_deploy), _render)


def _sync_one(app: App, api_ref: str, stage: str, list_file: str, desired: list[str], max_change: float,
              force: bool, dry_run: bool, no_deploy: bool) -> dict[str, Any]:
    plan: dict[str, Any] = {}

    def edit(before: policies.Policy | None) -> tuple[policies.Policy | None, list[str]]:
        current = policies.permanent_cidrs(before)
        added, removed = gate(current, desired, max_change, force)
        plan.update(added=added, removed=removed, listed_before=len(current))
        after, _ = policies.unblock(before, removed, permanent_only=True) if removed else (before, [])
        if added:
            after, _ = policies.block(after, added)
        return after, added + removed

    def intended(stored: policies.Policy | None) -> bool:
        return sorted(policies.permanent_cidrs(stored)) == sorted(desired)

    # change_policy reads first: when the list already is the file's (most cron runs), no lease,
    # no write, and no deployment unless the stage does not serve the policy yet
    data = actions.change_policy(app, api_ref, stage, "sync", edit, intended, dry_run)
    data.pop("touched", None)
    data.update(plan, file=list_file, listed=len(desired), max_change=max_change, dry_run=dry_run)
    return deploy_unless_served(app, data, no_deploy, "petgate sync")


def _render(out: Output, data: dict[str, Any]) -> None:
    added, removed = len(data["added"]), len(data["removed"])
    if not added and not removed:
        out.info(f"Nothing to change: the deny list of API {data['api_id']} holds the {data['listed']} entries of {data['file']}.")
    elif data["dry_run"]:
        out.success(f"Would add {added} and remove {removed}: the deny list would hold the {data['listed']} entries of {data['file']}.")
    else:
        out.success(f"Added {added} and removed {removed}: the deny list holds the {data['listed']} entries of {data['file']}.")
    for cidr in data["added"][:20]:
        out.detail(f"+ {cidr}")
    for cidr in data["removed"][:20]:
        out.detail(f"- {cidr}")
    if added > 20 or removed > 20:
        out.detail("(-o json lists them all)")
    render_deploy_lines(out, data)
