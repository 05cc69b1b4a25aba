"""Several APIs in one command: `--api` repeated. Each API is done in turn, a failure on one
does not stop the others, and the command ends with the worst exit code. JSON is
{"apis": [one result per API, or {"api": REF, "error": {...}}], "ok": bool}; with one --api
the usual single object."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from petgate.app import App
from petgate.commands.common import ApiRefType, check_stage_name
from petgate.errors import PetgateError
from petgate.output import Output

F = TypeVar("F", bound=Callable[..., Any])
Render = Callable[[Output, dict[str, Any]], None]


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


def for_each_api(app: App, refs: tuple[str, ...], one: Callable[[str], dict[str, Any]], render: Render) -> None:
    """Run `one` for each API and print the results (see the module's docstring)."""
    refs = tuple(dict.fromkeys(refs))  # the same API twice is done once
    if len(refs) == 1:
        app.output.result(one(refs[0]), render)
        return
    results: list[dict[str, Any]] = []
    failures: list[tuple[str, PetgateError]] = []
    for ref in refs:
        try:
            data = one(ref)
        except PetgateError as exc:
            failures.append((ref, exc))
            results.append({"api": ref, "error": _error_object(exc)})
            continue
        data.setdefault("api", ref)
        if app.pending_error is not None:  # written but not deployed: reported in the result
            failures.append((ref, app.pending_error))
            app.pending_error = None
        results.append(data)
    app.output.result({"apis": results, "ok": not failures}, lambda out, d: _render_all(out, d, render))
    if failures:
        worst_ref, worst = max(failures, key=lambda f: f[1].exit_code)
        app.pending_error = SeveralApisError(
            f"{len(failures)} of {len(refs)} APIs failed ({', '.join(ref for ref, _ in failures)}); "
            f"the worst, {worst_ref}: {worst.line()}",
            worst.exit_code, worst.error_code,
        )


def _error_object(exc: PetgateError) -> dict[str, Any]:
    return {"code": exc.error_code, "message": exc.message, "hint": exc.hint, "exit_code": exc.exit_code}


def _render_all(out: Output, data: dict[str, Any], render: Render) -> None:
    for result in data["apis"]:
        out.info(f"API {result.get('api')}:")
        if "error" in result:
            error = result["error"]
            out.error(error["message"] + (f" ({error['hint']})" if error.get("hint") else ""))
        else:
            render(out, result)
