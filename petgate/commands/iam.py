"""require-iam: the API's methods set to IAM authorization (AWS_IAM), or back to none (--off)."""

from __future__ import annotations

import click

from petgate.app import App
from petgate.commands.common import (
    change_options,
    for_each_api,
    pass_app,
    render_deploy_lines,
    several_api_options,
)
from petgate.ops import authorization_types
from petgate.output import Output, shown


@click.command("require-iam")
@several_api_options
@click.option("--path", "paths", multiple=True, metavar="PATH",
              help="Only the methods of this resource path, such as /pets (repeatable; default: every path).")
@click.option("--method", "methods", multiple=True, metavar="METHOD",
              help="Only this HTTP method (repeatable; default: every method but OPTIONS). "
              "OPTIONS is changed only when named: CORS preflights are unsigned.")
@click.option("--off", is_flag=True, help="Set the methods back to no authorization (NONE) instead.")
@change_options
@pass_app
def require_iam(app: App, api_refs: tuple[str, ...], stage: str, paths: tuple[str, ...], methods: tuple[str, ...],
                off: bool, no_deploy: bool, dry_run: bool) -> None:
    """Require IAM authorization (AWS_IAM: SigV4-signed callers only) on the API's methods.

    Sets each chosen method's authorizationType with UpdateMethod, journaled (`petgate undo`
    puts each method's earlier type back), then redeploys the stage. Every method by default;
    --path and --method choose. OPTIONS methods stay open unless --method OPTIONS names them,
    and methods with another authorizer (CUSTOM, COGNITO_USER_POOLS) are left as they are.
    Account and principal allow-lists (`allow-accounts`, `allow-principals`) need it: only a
    signed caller is a principal.

    \b
    Examples:
      petgate require-iam
      petgate require-iam --path /pets --method GET --dry-run
      petgate require-iam --off
    """
    want = authorization_types.wanted(paths, methods, off, stage, no_deploy, dry_run)
    for_each_api(app, api_refs, lambda ref: authorization_types.require_iam(app, ref, want), render)


def render(out: Output, data: authorization_types.AuthorizationChange) -> None:
    wanted = data.authorization_type
    if data.changes:
        verb = "Would set" if data.dry_run else "Set"
        methods = ", ".join(f"{c.method} {shown(c.path)}" for c in data.changes)
        out.success(f"{verb} {wanted} on {len(data.changes)} method(s) of API {data.api_id}: {methods}.")
    else:
        out.info(f"Nothing to change: the chosen methods of API {data.api_id} already use {wanted}.")
    preflights = [f"{s.method} {shown(s.path)}" for s in data.skipped if s.reason == "cors-preflight"]
    if preflights:
        out.info(f"Left open: {', '.join(preflights)} (CORS preflights are unsigned; --method OPTIONS names them).")
    others = [f"{s.method} {shown(s.path)} ({s.authorization_type})" for s in data.skipped if s.reason == "other-authorizer"]
    if others:
        out.warn(f"left as they are: {', '.join(others)}; require-iam does not replace another authorizer")
    for method in data.methods:
        out.detail(f"{method.method} {shown(method.path)}: {method.authorization_type}")
    render_deploy_lines(out, data)
