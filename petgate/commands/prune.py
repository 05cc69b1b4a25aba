"""petgate prune: lift the blocks whose time is up (made with --for / --until), then redeploy.
Cron-friendly: idempotent, and a run with nothing to lift only reads."""

from __future__ import annotations

import click

from petgate.app import App
from petgate.commands.common import (
    clock_from,
    for_each_api,
    now_option,
    pass_app,
    render_deploy_lines,
    several_api_options,
)
from petgate.ops import deploys, policy_changes
from petgate.output import Output


@click.command()
@several_api_options
@now_option
@click.option("--dry-run", is_flag=True, help="Show what has expired; change nothing.")
@click.option("--no-deploy", is_flag=True, help="Change the API but do not redeploy the stage.")
@pass_app
def prune(app: App, api_refs: tuple[str, ...], stage: str, now_text: str | None, dry_run: bool,
          no_deploy: bool) -> None:
    """Remove the policy's blocks that have expired, then redeploy (only if something went).

    The expiry is read from the policy itself (the Sid of each PetgateDenyUntil... statement),
    so any machine can prune what another blocked.

    \b
    Example (cron, every 5 minutes):
      */5 * * * * petgate prune --api a1b2c3d4e5 -q
    """
    clock = clock_from(now_text, app.clock)

    def one(api_ref: str) -> policy_changes.Pruned:
        # reads first: with nothing due, no lease, and no deployment unless the stage lags behind
        return deploys.after_change(app, policy_changes.prune(app, api_ref, stage, clock, dry_run), no_deploy, "petgate prune")

    for_each_api(app, api_refs, one, _render)


def _render(out: Output, data: policy_changes.Pruned) -> None:
    would = "Would lift" if data.dry_run else "Lifted"
    if data.pruned:
        out.success(f"{would} {len(data.pruned)} expired block(s) on API {data.api_id}:")
        for lifted in data.pruned:
            out.detail(f"- {lifted.cidr} (expired {lifted.expired})")
    else:
        out.info(f"Nothing has expired on API {data.api_id} (as of {data.now}).")
    for item in data.expiring:
        out.detail(f"{item.cidr} until {item.expires}")
    render_deploy_lines(out, data)
