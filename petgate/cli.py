"""The click group: global options, the commands, and the one place errors become exit codes."""

from __future__ import annotations

import importlib
import os
import signal
import sys
from collections.abc import Callable
from typing import Any

import click
from click.core import ParameterSource

from petgate import __version__
from petgate.errors import EXIT_INTERRUPTED, EXIT_USAGE, PetgateError, UsageError
from petgate.output import Output
from petgate.target import DEFAULT_LOCAL_URL, Target

# name: (module:attribute, one-line help). Commands import only when run, so `petgate --help`
# and each command start without loading boto3, requests, rich or the other commands.
COMMANDS: dict[str, tuple[str, str]] = {
    "import-example": ("petgate.commands.exercise:import_example", "Import the console's Example API (PetStore)."),
    "deploy": ("petgate.commands.exercise:deploy", "Deploy the API to the stage; print the invoke URL."),
    "block-my-ip": ("petgate.commands.exercise:block_my_ip", "Deny your own IP (or --cidr) with a resource policy."),
    "set-403-template": ("petgate.commands.exercise:set_403_template", "Replace the ACCESS_DENIED (403) body."),
    "unblock": ("petgate.commands.exercise:unblock", "Remove what block-my-ip added (--all: the whole policy)."),
    "verify": ("petgate.commands.verify:verify", "Request the invoke URL; check allowed / denied and leaks."),
    "status": ("petgate.commands.status:status", "The API, its stages, its policy in words, undeployed changes."),
    "walkthrough": ("petgate.commands.walkthrough:walkthrough", "The whole exercise, every step checked."),
    "history": ("petgate.commands.history:history", "The journal of changes petgate made."),
    "undo": ("petgate.commands.history:undo", "Put back what a change replaced, then redeploy."),
    "allow-only": ("petgate.commands.allow:allow_only", "Only these addresses may invoke (IP allow-list)."),
    "allow-accounts": ("petgate.commands.allow:allow_accounts", "Allow these AWS accounts (needs IAM auth)."),
    "allow-principals": ("petgate.commands.allow:allow_principals", "Allow these IAM users and roles (needs IAM auth)."),
    "require-iam": ("petgate.commands.iam:require_iam", "Require IAM authorization (AWS_IAM) on the methods."),
    "allow-vpc": ("petgate.commands.allow:allow_vpc", "Only these VPCs / VPC endpoints (private APIs)."),
    "policy": ("petgate.commands.policy:policy", "Show the policy, or check a request against it."),
    "diff": ("petgate.commands.diff:diff", "Compare a policy file with the API's (AWS's rewrites ignored)."),
    "sync": ("petgate.commands.sync:sync", "Make the policy deny list exactly a file's (with a change gate)."),
    "prune": ("petgate.commands.prune:prune", "Lift the blocks whose --for / --until time is up."),
    "waf": ("petgate.commands.waf:waf", "Deny lists in AWS WAF (past the policy quota, no redeploy)."),
    "audit": ("petgate.commands.audit:audit", "Check every REST and HTTP API of a region (or several) for open doors and leaks."),
    "explain": ("petgate.commands.explain:explain", "Which layer lets one request through or refuses it, and why."),
    "local": ("petgate.commands.local:local", "Run petgate's local API Gateway."),
}

# The global options: (declarations, settings). The group reads them with their environment
# variables; every command accepts them too (after its name, as the aws CLI does), and a value
# given there wins.
GLOBAL_OPTIONS: list[tuple[tuple[str, ...], dict[str, Any]]] = [
    (("--profile",), {"envvar": "AWS_PROFILE", "help": "AWS profile. [env: AWS_PROFILE]"}),
    (("--region",), {"help": "AWS region. [env: AWS_REGION, AWS_DEFAULT_REGION]"}),
    (("--endpoint-url",), {"envvar": "PETGATE_ENDPOINT_URL", "metavar": "URL",
                           "help": "API Gateway control-plane endpoint. [env: PETGATE_ENDPOINT_URL]"}),
    (("--local",), {"is_flag": True, "envvar": "PETGATE_LOCAL",
                    "help": "Use petgate's local gateway (PETGATE_LOCAL_URL, default "
                    f"{DEFAULT_LOCAL_URL}): dummy credentials, us-east-1. [env: PETGATE_LOCAL=1]"}),
    (("-o", "--output"), {"type": click.Choice(["text", "json"]), "envvar": "PETGATE_OUTPUT", "default": "text",
                          "help": "text for people (stderr; data on stdout); json: one object on stdout. "
                          "[env: PETGATE_OUTPUT]"}),
    (("--checkip-url",), {"envvar": "PETGATE_CHECKIP_URL", "metavar": "URL",
                          "help": "Where to ask for your public IP. [env: PETGATE_CHECKIP_URL]"}),
    (("--source-address",), {"envvar": "PETGATE_SOURCE_ADDRESS", "metavar": "ADDR",
                             "help": "Local address for checkip and verify requests, like curl --interface. "
                             "[env: PETGATE_SOURCE_ADDRESS]"}),
    (("-q", "--quiet"), {"is_flag": True, "help": "Only warnings and errors on stderr."}),
    (("-v", "--verbose"), {"is_flag": True, "help": "Log every AWS call (credentials redacted)."}),
]
_SETTINGS = "petgate.settings"


def _remember_if_given(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    """A global option given after the command name overrides the group's value."""
    if param.name and ctx.get_parameter_source(param.name) == ParameterSource.COMMANDLINE:
        ctx.find_root().meta.setdefault(_SETTINGS, {})[param.name] = value


def _with_global_options(command: click.Command) -> click.Command:
    """Let the command (and a group's subcommands) take the global options too."""
    if getattr(command, "_petgate_globals", False):
        return command
    for declarations, settings in GLOBAL_OPTIONS:
        local_settings = {k: v for k, v in settings.items() if k not in ("envvar", "default")}
        command.params.append(
            click.Option(list(declarations), expose_value=False, callback=_remember_if_given, **local_settings)
        )
    command._petgate_globals = True  # type: ignore[attr-defined]
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _with_global_options(sub)
    return command


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, attribute = COMMANDS[cmd_name][0].split(":")
        command: click.Command = getattr(importlib.import_module(module), attribute)
        return _with_global_options(command)

    def format_commands(self, ctx: click.Context, formatter: Any) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, short) for name, (_, short) in COMMANDS.items()])


EPILOG = """\b
The exercise, offline:
  petgate local &                      # or: make demo
  petgate --local import-example
  petgate --local deploy
  petgate --local block-my-ip
  petgate --local verify --expect denied
  petgate --local set-403-template
  petgate --local unblock --all
  petgate --local verify --expect allowed

Global options go before or after the command name: `petgate -o json verify` and
`petgate verify -o json` are the same.

Exit codes: 0 ok, 1 verify's expectation not met, 2 bad usage or input,
3 AWS / control-plane error, 4 network error, 130 interrupted.
"""


def _global_options(func: Callable[..., Any]) -> Callable[..., Any]:
    for declarations, settings in reversed(GLOBAL_OPTIONS):
        func = click.option(*declarations, show_default="default" in settings, **settings)(func)
    return func


@click.group(cls=LazyGroup, epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="petgate")
@_global_options
@click.pass_context
def cli(ctx: click.Context, /, **options: Any) -> None:
    """petgate: API Gateway resource policies, one command per step.

    Runs the "control access with a resource policy" exercise: import the Example API
    (PetStore), deploy it, deny your own IP, hide the 403 message's details, remove the
    policy again, and check the effect after each step. Against AWS by default, or offline
    against petgate's own local gateway with --local.
    """
    given = ctx.meta.get(_SETTINGS, {})
    ctx.meta[_SETTINGS] = {**options, **given}


def build_app(ctx: click.Context) -> Any:
    """The App for this run, from the global options wherever they were given (built once)."""
    root = ctx.find_root()
    if isinstance(root.obj, _app_class()):
        return root.obj
    options = root.meta.get(_SETTINGS, {})
    local, endpoint_url = bool(options.get("local")), options.get("endpoint_url")
    if local and endpoint_url:
        raise UsageError("--local and --endpoint-url do not go together")
    if options.get("quiet") and options.get("verbose"):
        raise UsageError("--quiet and --verbose do not go together")
    if not local and not endpoint_url:
        # AWS's own variables, as the aws CLI reads them (the invoke URL must follow them too)
        endpoint_url = os.environ.get("AWS_ENDPOINT_URL_API_GATEWAY") or os.environ.get("AWS_ENDPOINT_URL") or None
    target = Target(
        profile=options.get("profile"),
        region=options.get("region"),
        endpoint_url=endpoint_url,
        local=local,
        local_url=os.environ.get("PETGATE_LOCAL_URL", DEFAULT_LOCAL_URL),
        checkip_url=options.get("checkip_url"),
        source_address=options.get("source_address"),
    )
    target.validate()
    verbosity = -1 if options.get("quiet") else 1 if options.get("verbose") else 0
    root.obj = _app_class()(target, _current.output_for(options.get("output") or "text", verbosity))
    return root.obj


def _app_class() -> Any:
    from petgate.app import App

    return App


class _Run:
    """What main() needs to know to report a failure: the run's Output, once there is one."""

    def __init__(self) -> None:
        self.output: Output | None = None
        self.interrupted = False  # being reported: the command was interrupted

    def output_for(self, mode: str, verbosity: int) -> Output:
        self.output = Output(mode, verbosity=verbosity)
        return self.output


_current = _Run()


def _json_requested(argv: list[str]) -> bool:
    """Whether -o json was asked for, read from the arguments (for errors before parsing ends)."""
    mode = os.environ.get("PETGATE_OUTPUT", "text")
    for index, word in enumerate(argv):
        if word in ("-o", "--output") and index + 1 < len(argv):
            mode = argv[index + 1]
        elif word.startswith("--output="):
            mode = word.split("=", 1)[1]
        elif word.startswith("-o") and len(word) > 2 and not word.startswith("--"):
            mode = word[2:]
        elif word == "--":
            break
    return mode == "json"


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; expected failures end with one line on stderr and their exit code (and,
    with -o json, the error object on stdout)."""
    args = list(sys.argv[1:] if argv is None else argv)
    global _current
    _current = _Run()
    try:
        if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
            signal.signal(signal.SIGINT, _interrupt)  # from here on, Ctrl-C is ours to report
        cli.main(args=args, prog_name="petgate", standalone_mode=False)
    except PetgateError as exc:
        _fail(args, exc.line(), exc.exit_code, exc.error_code, exc.message, exc.hint)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        if _json_requested(args):
            _print_error_object("UsageError", exc.format_message(), None, exc.exit_code or EXIT_USAGE)
        exc.show()
        sys.exit(exc.exit_code if exc.exit_code else EXIT_USAGE)
    except (KeyboardInterrupt, click.exceptions.Abort):
        _current.interrupted = True  # a second Ctrl-C must not cut this report short
        _fail(args, "interrupted", EXIT_INTERRUPTED, "Interrupted", "interrupted", None)
    except Exception as exc:
        # a Ctrl-C while a class is made (a dataclass's fields, as a command module imports)
        # reaches here wrapped: CPython 3.11 raises RuntimeError("Error calling __set_name__")
        # from the KeyboardInterrupt
        if not _from_interrupt(exc):
            raise
        _current.interrupted = True
        _fail(args, "interrupted", EXIT_INTERRUPTED, "Interrupted", "interrupted", None)
    sys.exit(0)


def _from_interrupt(exc: BaseException) -> bool:
    """Whether a KeyboardInterrupt is in the exception's chain of causes."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, KeyboardInterrupt):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def _interrupt(_signum: int, _frame: Any) -> None:
    """Ctrl-C during a command: KeyboardInterrupt, as Python's own handler raises, once."""
    if not _current.interrupted:
        raise KeyboardInterrupt


def _fail(args: list[str], line: str, exit_code: int, code: str, message: str, hint: str | None) -> None:
    output = _current.output
    wants_json = output.json if output is not None else _json_requested(args)
    if wants_json and not (output is not None and output.result_printed):
        _print_error_object(code, message, hint, exit_code)  # exactly one object: not after a result
    (output or Output()).error(line)
    sys.exit(exit_code)


def _print_error_object(code: str, message: str, hint: str | None, exit_code: int) -> None:
    import json

    error = {"code": code, "message": message, "hint": hint}
    sys.stdout.write(json.dumps({"error": error, "exit_code": exit_code}, indent=2, sort_keys=True) + "\n")
    sys.stdout.flush()
