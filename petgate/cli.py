"""The click group: global options, the commands, and the one place errors become exit codes."""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import click

from petgate import __version__
from petgate.errors import EXIT_INTERRUPTED, EXIT_USAGE, PetgateError
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
    "allow-vpc": ("petgate.commands.allow:allow_vpc", "Only these VPCs / VPC endpoints (private APIs)."),
    "policy": ("petgate.commands.policy:policy", "Show the policy, or check a request against it."),
    "local": ("petgate.commands.local:local", "Run petgate's local API Gateway."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, attribute = COMMANDS[cmd_name][0].split(":")
        command: click.Command = getattr(importlib.import_module(module), attribute)
        return command

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

Exit codes: 0 ok, 1 verify's expectation not met, 2 bad usage or input,
3 AWS / control-plane error, 4 network error.
"""


@click.group(cls=LazyGroup, epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="petgate")
@click.option("--profile", envvar="AWS_PROFILE", help="AWS profile. [env: AWS_PROFILE]")
@click.option("--region", help="AWS region. [env: AWS_REGION, AWS_DEFAULT_REGION]")
@click.option(
    "--endpoint-url",
    envvar="PETGATE_ENDPOINT_URL",
    metavar="URL",
    help="API Gateway control-plane endpoint. [env: PETGATE_ENDPOINT_URL]",
)
@click.option(
    "--local",
    is_flag=True,
    envvar="PETGATE_LOCAL",
    help="Use petgate's local gateway (PETGATE_LOCAL_URL, default "
    f"{DEFAULT_LOCAL_URL}): dummy credentials, us-east-1. [env: PETGATE_LOCAL=1]",
)
@click.option(
    "-o",
    "--output",
    type=click.Choice(["text", "json"]),
    envvar="PETGATE_OUTPUT",
    default="text",
    show_default=True,
    help="text for people (stderr); json: one object on stdout. [env: PETGATE_OUTPUT]",
)
@click.option(
    "--checkip-url",
    envvar="PETGATE_CHECKIP_URL",
    metavar="URL",
    help="Where to ask for your public IP. [env: PETGATE_CHECKIP_URL]",
)
@click.option(
    "--source-address",
    envvar="PETGATE_SOURCE_ADDRESS",
    metavar="ADDR",
    help="Local address for checkip and verify requests, like curl --interface. "
    "[env: PETGATE_SOURCE_ADDRESS]",
)
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors on stderr.")
@click.option("-v", "--verbose", is_flag=True, help="Log every AWS call (credentials redacted).")
@click.pass_context
def cli(
    ctx: click.Context,
    profile: str | None,
    region: str | None,
    endpoint_url: str | None,
    local: bool,
    output: str,
    checkip_url: str | None,
    source_address: str | None,
    quiet: bool,
    verbose: bool,
) -> None:
    """petgate: API Gateway resource policies, one command per step.

    Runs the "control access with a resource policy" exercise: import the Example API
    (PetStore), deploy it, deny your own IP, hide the 403 message's details, remove the
    policy again, and check the effect after each step. Against AWS by default, or offline
    against petgate's own local gateway with --local.
    """
    if local and endpoint_url:
        raise click.UsageError("--local and --endpoint-url do not go together")
    if quiet and verbose:
        raise click.UsageError("--quiet and --verbose do not go together")
    if not local and not endpoint_url:
        # AWS's own variables, as the aws CLI reads them (the invoke URL must follow them too)
        endpoint_url = os.environ.get("AWS_ENDPOINT_URL_API_GATEWAY") or os.environ.get("AWS_ENDPOINT_URL") or None
    target = Target(
        profile=profile,
        region=region,
        endpoint_url=endpoint_url,
        local=local,
        local_url=os.environ.get("PETGATE_LOCAL_URL", DEFAULT_LOCAL_URL),
        checkip_url=checkip_url,
        source_address=source_address,
    )
    from petgate.app import App

    ctx.obj = App(target, Output(output, verbosity=-1 if quiet else 1 if verbose else 0))


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; expected failures end with one line on stderr and their exit code."""
    try:
        cli.main(args=argv, prog_name="petgate", standalone_mode=False)
    except PetgateError as exc:
        _fail(exc.line(), exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code if exc.exit_code else EXIT_USAGE)
    except (KeyboardInterrupt, click.exceptions.Abort):
        _fail("interrupted", EXIT_INTERRUPTED)
    sys.exit(0)


def _fail(line: str, code: int) -> None:
    Output().error(line)
    sys.exit(code)
