"""petgate history and petgate undo: the journal of changes, and putting one back."""

from __future__ import annotations

from typing import Any

import click

from petgate.app import App
from petgate.commands.common import ApiRefType, failure_of, one_api, pass_app, render_deploy_lines
from petgate.ops import deploys
from petgate.ops import undo as undo_ops
from petgate.ops.results import Result
from petgate.output import Output, shown


@click.command()
@click.option("--api", "api_id", metavar="ID", multiple=True, callback=one_api, help="Only entries for this API id.")
@click.option("-n", "--limit", type=click.IntRange(min=1), default=20, show_default=True, metavar="N",
              help="How many entries, newest first (a whole number from 1).")
@pass_app
def history(app: App, api_id: str | None, limit: int) -> None:
    """List the changes petgate made (policies, 403 templates, deployments), newest first.

    The journal is JSON lines in $PETGATE_STATE_DIR, else $XDG_STATE_HOME/petgate, else
    ~/.local/state/petgate.

    \b
    Examples:
      petgate history
      petgate -o json history --api a1b2c3d4e5 -n 5
    """
    app.output.result(undo_ops.history(app, api_id, limit), _render_history)


def _summary(entry: dict[str, Any]) -> str:
    """One line of what the entry did, named by the command that did it."""
    kind = entry.get("kind")
    verb = f"undid {entry.get('undoes')}:" if entry.get("undoes") else f"{entry.get('command')}:"
    if kind == "deployment":
        return f"deployed {entry.get('deployment_id')} to {entry.get('stage')}"
    if kind == "import":
        return "imported the example API"
    if kind == "delete":
        return f"deleted WAF list {entry.get('list')}" if entry.get("list") else f"deleted the API ({entry.get('command')})"
    if kind == "waf":
        return f"{entry.get('command')}: WAF list {entry.get('list')} changed"
    if kind == "prune":
        return (f"{entry.get('command') or 'waf prune'}: {len(entry.get('pruned') or [])} expired block(s) lifted "
                f"from WAF list {entry.get('list')}")
    if kind == "waf-attach":
        return f"{verb} WAF list {entry.get('list')} attached to {entry.get('stage_arn')}"
    if kind == "waf-detach":
        return f"{verb} WAF list {entry.get('list')} detached from {entry.get('stage_arn')}"
    if kind == "waf-recreate":
        return f"{verb} WAF list {entry.get('list')} made again"
    what = {"policy": "policy", "gateway_response": "403 template", "authorization": "methods' authorization"}.get(
        str(kind), str(kind))
    return f"{verb} {what} changed"


# a write journaled before it was sent: what became of it (done needs no word)
_STATES = {
    "intended": " (never confirmed: petgate stopped during the write; `petgate undo ID` checks what the API holds)",
    "failed": " (AWS refused it: nothing was written)",
    "not-written": " (not sent: nothing was written)",
}


def _render_history(out: Output, data: undo_ops.History) -> None:
    if not data.entries:
        out.info(f"No changes journaled yet ({data.journal}).")
    for entry in data.entries:
        mark = " (undone)" if entry["undone"] else ""
        mark += _STATES.get(str(entry.get("state")), "")
        out.data(f"{shown(entry['id'])}  {shown(entry.get('time'))}  {shown(_changed(entry))}  {shown(_summary(entry))}{mark}")


def _changed(entry: dict[str, Any]) -> str:
    """What the entry changed, for the API column: the WAF list of a WAF entry (`waf:NAME`),
    else the API id."""
    if entry.get("list"):
        return f"waf:{entry['list']}"
    return str(entry.get("api_id") or "-")


@click.command()
@click.argument("entry_id", metavar="[ENTRY]", required=False)
@click.option("--api", "api_ref", envvar="PETGATE_API", type=ApiRefType(), multiple=True, callback=one_api,
              help="Only changes to this API. [env: PETGATE_API]")
@click.option("--force", is_flag=True, help="Undo even if the API changed since the entry.")
@click.option("--no-deploy", is_flag=True, help="Put it back but do not redeploy the stage.")
@click.option("--dry-run", is_flag=True, help="Show what would be put back; change nothing.")
@pass_app
def undo(app: App, entry_id: str | None, api_ref: str | None, force: bool, no_deploy: bool, dry_run: bool) -> None:
    """Put back the policy or 403 template that a change replaced, then redeploy.

    Without ENTRY, the newest change not undone yet (of the --api, if given). Refuses if the
    API changed since that entry (another writer), unless --force. The undo is journaled too.

    \b
    Examples:
      petgate --local undo
      petgate undo 3f9c2a1b --dry-run
    """
    entry = undo_ops.pick(app, entry_id, api_ref)
    data = undo_ops.undo(app, entry, force, dry_run)
    if isinstance(data, undo_ops.ApiChangeUndone):  # WAF needs no deployment
        data = deploys.after_change(app, data, no_deploy, f"petgate undo {entry['id']}")
    app.output.result(data, _render_undo)
    failed = failure_of(data)
    if failed is not None:  # put back, but not deployed: the deployment's exit code
        raise failed


def _render_undo(out: Output, data: Result) -> None:
    from petgate import waf_undo

    if isinstance(data, undo_ops.WafChangeUndone):
        verb = "Would put back" if data.dry_run else "Put back"
        out.success(f"{verb} WAF list {data.list} as it was before {data.undoes}.")
    elif isinstance(data, undo_ops.ApiChangeUndone):
        verb = "Would put back" if data.dry_run else "Put back"
        what = {"policy": "policy", "authorization": "methods' authorization"}.get(data.kind, "ACCESS_DENIED response")
        restored = "none (AWS's default)" if data.restored is None else "the earlier one"
        out.success(f"{verb} the {what} of API {data.api_id} from before {data.undoes}: {restored}.")
        render_deploy_lines(out, data)
    elif isinstance(data, waf_undo.WafUndone):  # a WAF list's attach, detach or delete says what it did
        out.success(data.summary)
