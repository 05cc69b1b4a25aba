"""Options and steps that several commands share."""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import click

from petgate import actions
from petgate import policy as policies
from petgate.app import App
from petgate.errors import NetworkError, PetgateError, UsageError
from petgate.gateway import exported_policy

F = TypeVar("F", bound=Callable[..., Any])

def pass_app(func: F) -> F:
    """Hand the command the App, built from the global options wherever they were given."""
    from petgate.cli import build_app

    @functools.wraps(func)
    def with_app(*args: Any, **kwargs: Any) -> Any:
        app = build_app(click.get_current_context())
        returned = func(app, *args, **kwargs)
        if app.pending_error is not None:  # reported in the result; now the exit code
            raise app.pending_error
        return returned

    return with_app  # type: ignore[return-value]


STAGE_NAME = re.compile(r"[A-Za-z0-9_-]{1,128}")


def check_stage_name(_ctx: click.Context | None, _param: click.Parameter | None, value: str) -> str:
    """AWS's stage-name alphabet: letters, digits, '-' and '_' (up to 128)."""
    if not STAGE_NAME.fullmatch(value):
        raise click.BadParameter(
            f"{value!r} is not a stage name: AWS allows letters, digits, '-' and '_' (1 to 128)"
        )
    return value


class ApiRefType(click.ParamType):  # type: ignore[type-arg]  # generic only from click 8.2
    """An API id or name. PETGATE_API holds one (names may have spaces); several, one per line."""

    name = "ID_OR_NAME"
    envvar_list_splitter = "\n"

    def split_envvar_value(self, rv: str) -> list[str]:
        """One API per line; blank lines (an env file's trailing newline) are not APIs."""
        return [line for line in rv.split(self.envvar_list_splitter) if line.strip()] or [rv]

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value).strip()
        if not text:
            self.fail("an API id or name cannot be empty", param, ctx)
        return text


def one_api(_ctx: click.Context | None, _param: click.Parameter | None, values: tuple[str, ...]) -> str | None:
    """--api given twice to a command that reads one API is refused, not silently the last one."""
    if len(values) > 1:
        raise click.BadParameter(
            f"this command looks at one API, and {len(values)} were given ({', '.join(values)}); "
            "run it once per API (commands that change APIs take several)"
        )
    return values[0] if values else None


def api_options(func: F) -> F:
    func = click.option(
        "--stage",
        envvar="PETGATE_STAGE",
        default="test",
        show_default=True,
        callback=check_stage_name,
        help="Stage name: letters, digits, '-', '_'. [env: PETGATE_STAGE]",
    )(func)
    func = click.option(
        "--api",
        "api_ref",
        envvar="PETGATE_API",
        type=ApiRefType(),
        multiple=True,
        default=("PetStore",),
        callback=one_api,
        show_default=True,
        help="REST API id or name (a name must match one API). [env: PETGATE_API]",
    )(func)
    return func


def change_options(func: F) -> F:
    func = click.option(
        "--dry-run", is_flag=True, help="Show what would change; change nothing."
    )(func)
    func = click.option(
        "--no-deploy", is_flag=True, help="Change the API but do not redeploy the stage."
    )(func)
    return func


def cidr_option(help_text: str) -> Callable[[F], F]:
    """--cidr (repeatable) and --file (one address or CIDR per line, `-` for stdin)."""

    def apply(func: F) -> F:
        func = click.option(
            "--file", "list_file", metavar="PATH",
            help="Read addresses or CIDRs from PATH, one per line (`#` comments; `-` is stdin).",
        )(func)
        return click.option("--cidr", "cidrs", multiple=True, metavar="CIDR", help=help_text)(func)

    return apply


def expiry_options(func: F) -> F:
    """--for DURATION / --until TIME: the block ends then (kept in AWS with the list)."""
    func = click.option("--until", "until_text", metavar="TIME",
                        help="Block until this ISO 8601 time (UTC unless it says), e.g. 2026-12-24T00:00:00Z.")(func)
    return click.option("--for", "for_text", metavar="DURATION",
                        help="Block for this long: 90s, 30m, 24h, 7d. `petgate prune` lifts it afterwards.")(func)


def until_from_options(for_text: str | None, until_text: str | None) -> tuple[datetime | None, datetime]:
    """(when the block ends, or None for good; the time now, to the second)."""
    from petgate import expiry

    clock = expiry.now()
    try:
        return expiry.until_from(for_text, until_text, clock), clock
    except expiry.ExpiryError as exc:
        raise UsageError(str(exc)) from None


def now_option(func: F) -> F:
    return click.option(
        "--now", "now_text", metavar="TIME",
        help="Prune as if it were this ISO 8601 time (with --dry-run: what a later run will lift).",
    )(func)


def clock_from(now_text: str | None) -> datetime:
    """--now as a time (for prune), or the time now."""
    from petgate import expiry

    if now_text is None:
        return expiry.now()
    try:
        return expiry.parse_time(now_text)
    except expiry.ExpiryError as exc:
        raise UsageError(str(exc)) from None


def read_list_file(path: str | None) -> list[str]:
    """The CIDRs of a list file or stdin; a bad line is one clear error naming it (exit 2)."""
    if path is None:
        return []
    from petgate import lists

    try:
        if path == "-":
            if sys.stdin is None or sys.stdin.closed:
                raise UsageError("--file - reads stdin, and stdin is closed", "pipe the list in, or give a file")
            text, source = sys.stdin.read(), "stdin"
        else:
            with open(path, encoding="utf-8") as handle:
                text, source = handle.read(), path
    except OSError as exc:
        raise UsageError(f"cannot read list file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise UsageError(f"list file {path} is not UTF-8 text") from None
    try:
        return lists.parse(text, source)
    except lists.ListFileError as exc:
        raise UsageError(str(exc)) from None


def wanted_cidrs(app: App, cidrs: tuple[str, ...], list_file: str | None, default_mine: bool = True) -> list[str]:
    """--cidr values and --file lines together; neither given: the caller's own IP."""
    given = parse_cidrs(app, cidrs) + read_list_file(list_file)
    if list_file is not None and not given:
        raise UsageError(f"list file {list_file} lists no address", "nothing was written")
    if given or not default_mine:
        return list(dict.fromkeys(given))
    return [my_cidr(app)]


def after_change(app: App, result: dict[str, Any], no_deploy: bool, description: str) -> dict[str, Any]:
    """Redeploy after a change unless --no-deploy or --dry-run; after a change that changed
    nothing, only if the stage does not serve the current state yet (deploy_unless_served).

    A failed deployment does not hide the change: the result says it was written but not
    deployed (`deploy_error`), and the command then ends with the deployment's exit code.
    """
    if result.get("dry_run"):
        return result
    if no_deploy:
        result.update({"deployed": False, "invoke_url": app.target.invoke_url(result["api_id"], result["stage"])})
        return result
    if result.get("changed") is False:
        return deploy_unless_served(app, result, no_deploy, description)
    return _deploy(app, result, description)


def _deploy(app: App, result: dict[str, Any], description: str) -> dict[str, Any]:
    try:
        result.update(actions.deploy(app, result["api_id"], result["stage"], description))
    except PetgateError as exc:
        result.update({
            "deployed": False, "invoke_url": app.target.invoke_url(result["api_id"], result["stage"]),
            "deploy_error": {"code": exc.error_code, "message": exc.message, "hint": exc.hint},
        })
        app.pending_error = exc
    return result


def deploy_unless_served(app: App, result: dict[str, Any], no_deploy: bool, description: str) -> dict[str, Any]:
    """Redeploy after a change, and also when nothing changed but the stage does not serve the
    current policy (or 403 template) yet (say, an earlier run's deployment failed); otherwise
    leave the stage alone, so a re-run or a cron job does not deploy every few minutes (AWS
    allows one CreateDeployment every 5 seconds)."""
    if result.get("dry_run") or result.get("changed") or no_deploy:
        return after_change(app, result, no_deploy, description)
    try:
        exported = app.gateway.get_stage_export(result["api_id"], result["stage"])
    except PetgateError:
        return result  # no such stage yet: there is nothing to bring up to date
    if _serves(exported, result):
        return result
    what = "403 template" if "response_type" in result else "policy"
    app.output.warn(f"stage {result['stage']} does not serve the current {what} yet: deploying it")
    return _deploy(app, result, description)


def _serves(exported: dict[str, Any], result: dict[str, Any]) -> bool:
    """Whether the stage's export holds what the API holds now (the result of a no-op change)."""
    if "response_type" in result:
        served = ((exported.get("x-amazon-apigateway-gateway-responses") or {}).get(result["response_type"]) or {})
        current = result.get("previous") or {}
        return (str(served.get("statusCode")) == str(current.get("statusCode"))
                and (served.get("responseTemplates") or {}) == (current.get("responseTemplates") or {}))
    try:
        served_policy = exported_policy(exported)
    except policies.PolicyError:
        served_policy = None
    return (served_policy or None) == (result.get("policy") or None)


def parse_cidrs(app: App, given: tuple[str, ...]) -> list[str]:
    """Validate and normalise --cidr values; host bits set are cleared, and said so."""
    cidrs = []
    for text in given:
        try:
            cidr = policies.parse_cidr(text)
        except policies.PolicyError as exc:
            raise UsageError(str(exc)) from None
        if cidr.note is not None:
            app.output.warn(f"{text} {cidr.note}; using {cidr.network}")
        cidrs.append(cidr.network)
    return list(dict.fromkeys(cidrs))


def my_cidr(app: App) -> str:
    """The caller's address from checkip, as a /32 or /128."""
    from petgate import checkip

    return checkip.as_cidr(checkip.parse_answer(my_address(app)))


def my_address(app: App) -> str:
    """The caller's address as checkip sees it (asked once per command)."""
    if app.checkip_address is None:
        app.checkip_address = _ask_checkip(app)
    return app.checkip_address


def _ask_checkip(app: App) -> str:
    import requests

    from petgate import checkip

    url = app.target.effective_checkip_url
    try:
        with app.output.waiting(f"Asking {url} for your public IP..."):
            address = checkip.fetch_my_ip(url, app.http)
    except checkip.CheckipAnswerError as exc:
        raise NetworkError(f"{exc} ({url})", "pass the address with --cidr instead") from None
    except requests.RequestException as exc:
        raise NetworkError(
            f"cannot reach checkip at {url} ({type(exc).__name__})",
            "check your connection, or pass the address with --cidr",
        ) from None
    if not checkip.is_public(address) and app.target.kind != "local":
        app.output.warn(
            f"checkip says {address}, a private or loopback address: that is not the address AWS will see"
        )
    return str(address)


def render_expiring(out: Any, expiring: list[dict[str, Any]]) -> None:
    due = [item["cidr"] for item in expiring if item["expired"]]
    if due:
        out.warn(f"{', '.join(due)}: the block has expired but is still in place until `petgate prune` runs")


def render_policy_tail(out: Any, data: dict[str, Any]) -> None:
    """The policy in words, then what happened to the stage."""
    for line in policies.describe(data["policy"]):
        out.detail(line)
    render_deploy_lines(out, data)


def render_deploy_lines(out: Any, data: dict[str, Any]) -> None:
    if data.get("dry_run"):
        out.info("Dry run: nothing was changed.")
    elif data.get("deployed"):
        out.success(f"Deployed {data['deployment_id']} to stage {data['stage']}.")
        out.info(f"Invoke URL: {data['invoke_url']}")
    elif data.get("deploy_error"):
        out.warn(f"The change was written but NOT deployed: stage {data['stage']} still serves the old one "
                 "(run `petgate deploy` once the cause below is fixed).")
    elif "deployed" in data:
        out.warn(f"Not redeployed: run `petgate deploy` for the change to take effect on {data['stage']}.")
