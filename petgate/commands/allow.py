"""allow-only, allow-accounts, allow-vpc: the console's allow-list templates, merged safely."""

from __future__ import annotations

from typing import Any

import click

from petgate import policy as policies
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
from petgate.errors import UsageError
from petgate.ops import apis, deploys, myip, policy_changes
from petgate.output import Output
from petgate.policy import allow as allowlists

remove_option = click.option("--remove", is_flag=True, help="Take these values out of the list instead.")


def change_list(
    app: App,
    api_ref: str,
    stage: str,
    kind: allowlists.ListStatement,
    values: list[str],
    remove: bool,
    no_deploy: bool,
    dry_run: bool,
    command: str,
    guard: Any = None,
) -> dict[str, Any]:
    """Add (or remove) values in one petgate list statement, then redeploy."""
    try:
        canonical = [kind.canonical(v) for v in values]
    except policies.PolicyError as exc:
        raise UsageError(str(exc)) from None

    def edit(before: policies.Policy | None) -> tuple[policies.Policy | None, list[str]]:
        after, touched = (allowlists.remove if remove else allowlists.add)(before, kind, canonical)
        if guard is not None:
            guard(after)
        return after, touched

    def intended(stored: policies.Policy | None) -> bool:
        present = set(allowlists.values(stored, kind))
        return present.isdisjoint(canonical) if remove else present.issuperset(canonical)

    data = policy_changes.change_policy(app, api_ref, stage, command, edit, intended, dry_run)
    data.update({"values": canonical, "removed" if remove else "added": data.pop("touched"),
                 "list": allowlists.values(data["policy"], kind), "kind": allowlists.describe_kind(kind)})
    return deploys.after_change(app, data, no_deploy, f"petgate {command}")


def render_list(out: Output, data: dict[str, Any]) -> None:
    changed = data.get("added", data.get("removed", []))
    verb = ("Would " if data["dry_run"] else "") + ("remove" if "removed" in data else "add")
    if changed:
        out.success(f"{verb.capitalize()} {', '.join(changed)} ({data['kind']}) on API {data['api_id']}.")
    else:
        out.info(f"Nothing to change in the {data['kind']}; the policy is unchanged.")
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
    values = wanted_cidrs(app, cidrs, list_file, default_mine=False)
    mine = myip.my_cidr(app) if (my_ip or not force) else None
    if my_ip and mine:
        values.append(mine)
    if not values:
        raise UsageError("give at least one --cidr, or --my-ip")

    def guard(after: policies.Policy | None) -> None:
        if force or mine is None:
            return
        decision = allowlists.would_refuse(after, mine.split("/")[0])
        if decision.allowed:
            return
        decider = (decision.statement or {}).get("Sid")
        if policies.is_deny_sid(decider):  # the allow-list is not the problem: the deny list is
            raise policies.PolicyError(
                f"your address {mine} is on petgate's deny list ({decider}), so it would stay "
                "locked out; run `petgate unblock` first, or pass --force (nothing was written)"
            )
        if decider and decider != policies.ONLY_IPS_SID:
            raise policies.PolicyError(
                f"statement {decider} of the policy refuses your address {mine}, so it would stay locked "
                "out; pass --force if that is what you want (nothing was written)"
            )
        raise policies.PolicyError(
            f"this allow-list would lock out your own address {mine}; add --my-ip, "
            "or pass --force if that is what you want (nothing was written)"
        )

    for_each_api(app, api_refs, lambda ref: change_list(
        app, ref, stage, allowlists.ONLY_IPS, values, remove, no_deploy, dry_run, "allow-only", guard), render_list)


@click.command("allow-accounts")
@several_api_options
@click.argument("accounts", nargs=-1, required=True, metavar="ACCOUNT_ID...")
@remove_option
@change_options
@pass_app
def allow_accounts(app: App, api_refs: tuple[str, ...], stage: str, accounts: tuple[str, ...], remove: bool,
                   no_deploy: bool, dry_run: bool) -> None:
    """Allow these AWS accounts to invoke (the console's "Account Whitelist").

    It matters only for methods with IAM authorization (AWS_IAM): anonymous callers are no
    account, so it never lets them in.

    \b
    Examples:
      petgate allow-accounts 111122223333 444455556666
      petgate allow-accounts 111122223333 --remove
    """
    app.output.warn("account allow-lists only apply to methods that use IAM authorization (AWS_IAM)")
    for_each_api(app, api_refs, lambda ref: change_list(
        app, ref, stage, allowlists.ACCOUNTS, list(accounts), remove, no_deploy, dry_run, "allow-accounts"), render_list)


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
    if bool(vpcs) == bool(vpces):
        raise UsageError("give --vpc or --vpce (one kind at a time)")
    kind, values = (allowlists.ONLY_VPCS, list(vpcs)) if vpcs else (allowlists.ONLY_VPCES, list(vpces))

    def one(api_ref: str) -> dict[str, Any]:
        if not remove and not force:
            api = apis.resolve_api(app.gateway, api_ref)
            types = (app.gateway.get_api(api.id).get("endpointConfiguration") or {}).get("types") or []
            if "PRIVATE" not in types:
                raise UsageError(
                    f"API {api.id} is {'/'.join(types) or 'not PRIVATE'}: its callers have no aws:SourceVpc / "
                    "aws:SourceVpce, so a VPC allow-list would refuse every one of them (nothing was written)",
                    "pass --force if that is what you want",
                )
        return change_list(app, api_ref, stage, kind, values, remove, no_deploy, dry_run, "allow-vpc")

    for_each_api(app, api_refs, one, render_list)
