"""petgate sync / petgate waf sync: make petgate's deny list exactly a file's, with a change gate
so that a bad feed cannot wipe the list unattended."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from petgate.app import App
from petgate.commands.common import (
    desired_from,
    for_each_api,
    pass_app,
    render_deploy_lines,
    several_api_options,
    sync_options,
)
from petgate.ops import deploys
from petgate.ops import sync as sync_ops
from petgate.output import Output

F = TypeVar("F", bound=Callable[..., Any])


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
    for_each_api(app, api_refs, lambda ref: deploys.deploy_unless_served(
        app, sync_ops.sync_policy(app, ref, stage, list_file, desired, max_change, force, dry_run), no_deploy,
        "petgate sync"), _render)


def _render(out: Output, data: sync_ops.Synced) -> None:
    added, removed = len(data.added), len(data.removed)
    if not added and not removed:
        out.info(f"Nothing to change: the deny list of API {data.api_id} holds the {data.listed} entries of {data.file}.")
    elif data.dry_run:
        out.success(f"Would add {added} and remove {removed}: the deny list would hold the {data.listed} entries of {data.file}.")
    else:
        out.success(f"Added {added} and removed {removed}: the deny list holds the {data.listed} entries of {data.file}.")
    for cidr in data.added[:20]:
        out.detail(f"+ {cidr}")
    for cidr in data.removed[:20]:
        out.detail(f"- {cidr}")
    if added > 20 or removed > 20:
        out.detail("(-o json lists them all)")
    render_deploy_lines(out, data)
