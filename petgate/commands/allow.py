"""allow-only, allow-accounts, allow-principals, allow-vpc: the console's allow-list templates, merged safely."""

from __future__ import annotations

import click

from petgate.app import App
from petgate.commands.common import (
    change_options,
    cidr_option,
    for_each_api,
    pass_app,
    render_policy_tail,
    several_api_options,
    wanted_cidrs,
)
from petgate.ops import allow_lists
from petgate.ops.results import Unset
from petgate.output import Output

remove_option = click.option("--remove", is_flag=True, help="Take these values out of the list instead.")


def render_list(out: Output, data: allow_lists.ListChanged) -> None:
    removing = not isinstance(data.removed, Unset)
    changed: list[str] = (data.removed if not isinstance(data.removed, Unset)
                          else [] if isinstance(data.added, Unset) else data.added)
    verb = ("Would " if data.dry_run else "") + ("remove" if removing else "add")
    if changed:
        out.success(f"{verb.capitalize()} {', '.join(changed)} ({data.kind}) on API {data.api_id}.")
    else:
        out.info(f"Nothing to change in the {data.kind}; the policy is unchanged.")
    render_policy_tail(out, data)


@click.command("allow-only")
@several_api_options
@cidr_option("An address or CIDR that may invoke (repeatable).")
@click.option("--my-ip", is_flag=True, help="Add your own IP (from checkip) to the list.")
@click.option("--force", is_flag=True, help="Write it even if it would lock out your own IP.")
@remove_option
@change_options
@pass_app
def allow_only(app: App, api_refs: tuple[str, ...], stage: str, cidrs: tuple[str, ...], list_file: str | None, my_ip: bool,
               force: bool, remove: bool, no_deploy: bool, dry_run: bool) -> None:
    """Only these addresses may invoke the API (the console's "IP Range Whitelist").

    Refuses (exit 2) to write a list that would lock out your own current IP, unless --force.

    \b
    Examples:
      petgate allow-only --cidr 198.51.100.0/24 --my-ip
      petgate allow-only --cidr 198.51.100.0/24 --remove
    """
    change = allow_lists.only_ips(app, stage, wanted_cidrs(app, cidrs, list_file, default_mine=False), my_ip, force,
                                  remove, no_deploy, dry_run)
    for_each_api(app, api_refs, lambda ref: allow_lists.change_list(app, ref, change), render_list)


@click.command("allow-accounts")
@several_api_options
@click.argument("accounts", nargs=-1, required=True, metavar="ACCOUNT_ID...")
@click.option("--force", is_flag=True, help="Write it even on an API none of whose methods uses AWS_IAM.")
@remove_option
@change_options
@pass_app
def allow_accounts(app: App, api_refs: tuple[str, ...], stage: str, accounts: tuple[str, ...], force: bool,
                   remove: bool, no_deploy: bool, dry_run: bool) -> None:
    """Allow these AWS accounts to invoke (the console's "Account Whitelist").

    Only a signed caller (a method with IAM authorization, AWS_IAM) belongs to an account:
    anonymous callers are no account. So an API none of whose methods uses AWS_IAM is refused
    (exit 2, nothing written) unless --force; `petgate require-iam` turns it on.

    \b
    Examples:
      petgate require-iam
      petgate allow-accounts 111122223333 444455556666
      petgate allow-accounts 111122223333 --remove
    """
    change = allow_lists.accounts(app, stage, list(accounts), remove, no_deploy, dry_run, force)
    for_each_api(app, api_refs, lambda ref: allow_lists.change_list(app, ref, change), render_list)


@click.command("allow-principals")
@several_api_options
@click.argument("principals", nargs=-1, required=True, metavar="ARN...")
@click.option("--force", is_flag=True, help="Write it even on an API none of whose methods uses AWS_IAM.")
@remove_option
@change_options
@pass_app
def allow_principals(app: App, api_refs: tuple[str, ...], stage: str, principals: tuple[str, ...], force: bool,
                     remove: bool, no_deploy: bool, dry_run: bool) -> None:
    """Allow these IAM principals to invoke: users, roles (their sessions), accounts.

    Each ARN is a user (arn:aws:iam::ACCOUNT:user/NAME), a role (arn:aws:iam::ACCOUNT:role/NAME:
    every session of it), an assumed-role session, or an account (its id, or
    arn:aws:iam::ACCOUNT:root: every principal of it). They join allow-accounts' statement (one
    Principal list, as the developer guide's cross-account example). Only signed callers are
    principals: an API none of whose methods uses AWS_IAM is refused (exit 2, nothing written)
    unless --force; `petgate require-iam` turns it on.

    \b
    Examples:
      petgate require-iam
      petgate allow-principals arn:aws:iam::111122223333:role/ci arn:aws:iam::111122223333:user/alice
      petgate allow-principals arn:aws:iam::111122223333:role/ci --remove
    """
    change = allow_lists.principals(app, stage, list(principals), remove, no_deploy, dry_run, force)
    for_each_api(app, api_refs, lambda ref: allow_lists.change_list(app, ref, change), render_list)


@click.command("allow-vpc")
@several_api_options
@click.option("--vpc", "vpcs", multiple=True, metavar="VPC_ID", help="A VPC that may invoke (repeatable).")
@click.option("--vpce", "vpces", multiple=True, metavar="VPCE_ID", help="A VPC endpoint that may invoke (repeatable).")
@click.option("--force", is_flag=True, help="Write it even on an API that is not PRIVATE (it then refuses everyone).")
@remove_option
@change_options
@pass_app
def allow_vpc(app: App, api_refs: tuple[str, ...], stage: str, vpcs: tuple[str, ...], vpces: tuple[str, ...], force: bool,
              remove: bool, no_deploy: bool, dry_run: bool) -> None:
    """Only these VPCs or VPC endpoints may invoke (the console's "VPC Whitelist").

    aws:SourceVpc and aws:SourceVpce are set only for private APIs (endpoint type PRIVATE):
    on any other API the list refuses every caller, so it is refused unless --force.

    \b
    Examples:
      petgate allow-vpc --vpc vpc-0abc1234
      petgate allow-vpc --vpce vpce-0def5678 --remove
    """
    change = allow_lists.vpcs(stage, list(vpcs), list(vpces), force, remove, no_deploy, dry_run)
    for_each_api(app, api_refs, lambda ref: allow_lists.change_list(app, ref, change), render_list)
