"""Options and steps that several commands share."""

from __future__ import annotations

import functools
import math
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

import click

from petgate import policy as policies
from petgate.app import App
from petgate.errors import PetgateError, UsageError, deploy_failure
from petgate.output import Output, ToJson

if TYPE_CHECKING:  # the command's own imports load these, when it runs (entry.py: Ctrl-C while starting)
    from petgate.ops.policy_changes import PolicyChange
    from petgate.ops.results import StageChange
    from petgate.ops.verify import Probed

F = TypeVar("F", bound=Callable[..., Any])

def pass_app(func: F) -> F:
    """Hand the command the App, built from the global options wherever they were given."""
    from petgate.cli import build_app

    @functools.wraps(func)
    def with_app(*args: Any, **kwargs: Any) -> Any:
        return func(build_app(click.get_current_context()), *args, **kwargs)

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


def until_from_options(
    for_text: str | None, until_text: str | None, clock_source: Callable[[], float]
) -> tuple[datetime | None, datetime]:
    """(when the block ends, or None for good; the time now, to the second, from the app's clock)."""
    from petgate import expiry

    clock = expiry.now(clock_source)
    try:
        return expiry.until_from(for_text, until_text, clock), clock
    except expiry.ExpiryError as exc:
        raise UsageError(str(exc)) from None


def now_option(func: F) -> F:
    return click.option(
        "--now", "now_text", metavar="TIME",
        help="Prune as if it were this ISO 8601 time (with --dry-run: what a later run will lift).",
    )(func)


def clock_from(now_text: str | None, clock_source: Callable[[], float]) -> datetime:
    """--now as a time (for prune), or the time now (from the app's clock)."""
    from petgate import expiry

    if now_text is None:
        return expiry.now(clock_source)
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
    from petgate.ops.myip import my_cidr

    return [my_cidr(app)]


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


class Ending(Protocol):
    """A block that ends: policy_changes.Expiring, waf_addresses.ExpiringAddress."""

    @property
    def cidr(self) -> str: ...
    @property
    def expired(self) -> bool: ...


def render_expiring(out: Output, expiring: Sequence[Ending]) -> None:
    due = [item.cidr for item in expiring if item.expired]
    if due:
        out.warn(f"{', '.join(due)}: the block has expired but is still in place until `petgate prune` runs")


def render_policy_tail(out: Output, data: PolicyChange) -> None:
    """The policy in words, then what happened to the stage."""
    for line in policies.describe(data.policy):
        out.detail(line)
    render_deploy_lines(out, data)


def render_deploy_lines(out: Output, data: StageChange) -> None:
    deployment = data.deployment
    if data.dry_run:
        out.info("Dry run: nothing was changed.")
    elif deployment is not None and deployment.deployed:
        out.success(f"Deployed {deployment.deployment_id} to stage {data.stage}.")
        out.info(f"Invoke URL: {deployment.invoke_url}")
    elif deployment is not None and deployment.deploy_error:
        out.warn(f"The change was written but NOT deployed: stage {data.stage} still serves the old one "
                 "(run `petgate deploy` once the cause below is fixed).")
    elif deployment is not None:
        out.warn(f"Not redeployed: run `petgate deploy` for the change to take effect on {data.stage}.")


# --- several APIs in one command: `--api` repeated --------------------------------------------
# Each API is done in turn, a failure on one does not stop the others, and the command ends with
# the worst exit code. JSON is {"apis": [one result per API, or {"api": REF, "error": {...}}],
# "ok": bool}; with one --api the usual single object.

R = TypeVar("R", bound=ToJson)


def several_api_options(func: F) -> F:
    """--api (repeatable) and --stage, for commands that change APIs."""
    func = click.option(
        "--stage", envvar="PETGATE_STAGE", default="test", show_default=True, callback=check_stage_name,
        help="Stage name: letters, digits, '-', '_'. [env: PETGATE_STAGE]",
    )(func)
    return click.option(
        "--api", "api_refs", envvar="PETGATE_API", type=ApiRefType(), multiple=True, default=("PetStore",),
        show_default=True,
        help="REST API id or name (a name must match one API); repeat for several APIs, done in turn. "
        "[env: PETGATE_API, one per line]",
    )(func)


class SeveralApisError(PetgateError):
    """Some of several APIs failed: the exit code is the worst of theirs."""

    def __init__(self, message: str, exit_code: int, code: str) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.code = code


@dataclass(frozen=True)
class SeveralApis(Generic[R]):
    """The results of one command over several APIs, in order: each API's result or error."""

    outcomes: list[tuple[str, R | PetgateError]]

    @property
    def failures(self) -> list[tuple[str, PetgateError]]:
        failed = []
        for ref, outcome in self.outcomes:
            error = outcome if isinstance(outcome, PetgateError) else failure_of(outcome)
            if error is not None:
                failed.append((ref, error))
        return failed

    def to_json(self) -> dict[str, Any]:
        apis = [{"api": ref, "error": _error_object(outcome)} if isinstance(outcome, PetgateError)
                else {"api": ref, **outcome.to_json()} for ref, outcome in self.outcomes]
        return {"apis": apis, "ok": not self.failures}


def failure_of(result: ToJson) -> PetgateError | None:
    """The error a change that was written but not deployed ends with (errors.deploy_failure)."""
    return deploy_failure(result.to_json())


def for_each_api(app: App, refs: tuple[str, ...], one: Callable[[str], R], render: Callable[[Output, R], None]) -> None:
    """Run `one` for each API and print the results (see the module's docstring)."""
    refs = tuple(dict.fromkeys(refs))  # the same API twice is done once
    if len(refs) == 1:
        data = one(refs[0])
        app.output.result(data, render)
        failed = failure_of(data)
        if failed is not None:  # written but not deployed: reported in the result, now the exit code
            raise failed
        return
    outcomes: list[tuple[str, R | PetgateError]] = []
    for ref in refs:
        try:
            outcomes.append((ref, one(ref)))
        except PetgateError as exc:
            outcomes.append((ref, exc))
    several = SeveralApis(outcomes)
    app.output.result(several, lambda out, d: _render_all(out, d, render))
    failures = several.failures
    if failures:
        worst_ref, worst = max(failures, key=lambda f: f[1].exit_code)
        raise SeveralApisError(
            f"{len(failures)} of {len(refs)} APIs failed ({', '.join(ref for ref, _ in failures)}); "
            f"the worst, {worst_ref}: {worst.line()}",
            worst.exit_code, worst.error_code,
        )


def _error_object(exc: PetgateError) -> dict[str, Any]:
    return {"code": exc.error_code, "message": exc.message, "hint": exc.hint, "exit_code": exc.exit_code}


def _render_all(out: Output, data: SeveralApis[R], render: Callable[[Output, R], None]) -> None:
    for ref, outcome in data.outcomes:
        out.info(f"API {ref}:")
        if isinstance(outcome, PetgateError):
            out.error(outcome.message + (f" ({outcome.hint})" if outcome.hint else ""))
        else:
            render(out, outcome)


# --- sync and waf sync ------------------------------------------------------------------------

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


def render_verify(out: Output, data: Probed) -> None:
    status = data.status if data.status is not None else "no answer"
    line = f"{data.outcome} ({data.reason}, HTTP {status}) from {data.url} after {data.attempts} attempt(s), {data.elapsed_s:.1f}s"
    if data.signed:
        line += f", signed as {data.signed_as}" if data.signed_as else ", signed (by credentials IAM did not name)"
    (out.success if data.ok else out.info)(line)  # a miss ends with one error line of its own
    if data.status is not None and data.status >= 400 and data.body:
        out.detail(f"body: {data.body[:300]}")
    for leak in data.leaks:
        out.warn(f"the 403 body leaks {leak.kind.replace('_', ' ')}: {leak.value}")
