"""The allow-lists (`allow-only`, `allow-accounts`, `allow-principals`, `allow-vpc`): the
console's allow-list templates merged into the API's policy (policy/allow.py: the edit is
pure), written with policy_changes.change_policy and deployed with deploys.after_change.

A command makes its `ListChange` once (what it asks only once: the caller's address, the
values checked, which kind of list), then `change_list` once per API: an account or principal
list first checks (one GetResources) that a method of the API uses AWS_IAM, and an allow-vpc
list that the API is PRIVATE."""

from __future__ import annotations

import builtins
from dataclasses import dataclass

from petgate import policy as policies
from petgate.errors import AwsError, UsageError
from petgate.ops import apis, deploys, myip, policy_changes
from petgate.ops.results import UNSET, Unset, extend
from petgate.ops.services import Services
from petgate.policy import allow as allowlists

ACCOUNTS_WARNING = "account allow-lists only apply to methods that use IAM authorization (AWS_IAM)"
IAM = "AWS_IAM"


@dataclass(frozen=True)
class ListChange:
    """One allow-list change, the same on every API it is made on."""

    command: str  # journaled as, and the deployment's description: `petgate COMMAND`
    kind: allowlists.ListStatement
    values: tuple[str, ...]
    stage: str
    remove: bool = False
    no_deploy: bool = False
    dry_run: bool = False
    guard_address: str | None = None  # allow-only: refuse a list that locks this /32 or /128 out
    private_only: bool = False  # allow-vpc: refuse an API that is not PRIVATE
    iam_only: bool = False  # allow-accounts, allow-principals: refuse an API with no AWS_IAM method


def only_ips(app: Services, stage: str, cidrs: list[str], my_ip: bool, force: bool, remove: bool = False,
             no_deploy: bool = False, dry_run: bool = False) -> ListChange:
    """allow-only: the CIDRs (and with `my_ip` the caller's own); unless `force`, the caller's
    address guards the write (checkip is asked once, for every API)."""
    values = list(cidrs)
    mine = myip.my_cidr(app) if (my_ip or not force) else None
    if my_ip and mine:
        values.append(mine)
    if not values:
        raise UsageError("give at least one --cidr, or --my-ip")
    return ListChange("allow-only", allowlists.ONLY_IPS, tuple(values), stage, remove, no_deploy, dry_run,
                      guard_address=None if force else mine)


def accounts(app: Services, stage: str, account_ids: list[str], remove: bool = False, no_deploy: bool = False,
             dry_run: bool = False, force: bool = False) -> ListChange:
    """allow-accounts: the ids checked once, for every API. Unless `force` (or `remove`), an API
    none of whose methods uses AWS_IAM is refused (anonymous callers are no account); with
    `force`, the warning (once)."""
    return _principal_list(app, "allow-accounts", allowlists.ACCOUNTS, account_ids, stage, remove, no_deploy,
                           dry_run, force)


def principals(app: Services, stage: str, arns: list[str], remove: bool = False, no_deploy: bool = False,
               dry_run: bool = False, force: bool = False) -> ListChange:
    """allow-principals: IAM users, roles (and sessions), accounts by id or :root ARN; in the
    same statement as allow-accounts (one Principal list), refused as allow-accounts is."""
    return _principal_list(app, "allow-principals", allowlists.PRINCIPALS, arns, stage, remove, no_deploy,
                           dry_run, force)


def _principal_list(app: Services, command: str, kind: allowlists.ListStatement, given: list[str], stage: str,
                    remove: bool, no_deploy: bool, dry_run: bool, force: bool) -> ListChange:
    try:
        values = [kind.canonical(value) for value in given]  # a malformed one: one line, before any call
    except policies.PolicyError as exc:
        raise UsageError(str(exc)) from None
    if force and not remove:
        app.output.warn(ACCOUNTS_WARNING)
    return ListChange(command, kind, tuple(dict.fromkeys(values)), stage, remove, no_deploy, dry_run,
                      iam_only=not remove and not force)


def vpcs(stage: str, vpc_ids: list[str], vpce_ids: list[str], force: bool, remove: bool = False,
         no_deploy: bool = False, dry_run: bool = False) -> ListChange:
    """allow-vpc: VPCs or VPC endpoints, one kind at a time; unless `force` (or `remove`), an
    API that is not PRIVATE is refused (its callers have no aws:SourceVpc)."""
    if bool(vpc_ids) == bool(vpce_ids):
        raise UsageError("give --vpc or --vpce (one kind at a time)")
    kind, values = (allowlists.ONLY_VPCS, vpc_ids) if vpc_ids else (allowlists.ONLY_VPCES, vpce_ids)
    return ListChange("allow-vpc", kind, tuple(values), stage, remove, no_deploy, dry_run,
                      private_only=not remove and not force)


@dataclass(frozen=True, kw_only=True)
class ListChanged(policy_changes.PolicyChange):
    """An allow-list after the change: `added` or `removed` (one of them) is what changed."""

    values: builtins.list[str]
    kind: str  # in words
    list: builtins.list[str]  # the whole list now (the JSON key is `list`)
    added: builtins.list[str] | Unset = UNSET
    removed: builtins.list[str] | Unset = UNSET


def change_list(app: Services, api_ref: str, change: ListChange) -> ListChanged:
    """Add (or remove) the values in the API's petgate list statement, then redeploy."""
    if change.private_only:
        _refuse_unless_private(app, api_ref)
    if change.iam_only:
        _refuse_unless_iam(app, api_ref, change.command)
    kind = change.kind
    try:
        canonical = [kind.canonical(v) for v in change.values]
    except policies.PolicyError as exc:
        raise UsageError(str(exc)) from None

    def edit(before: policies.Policy | None) -> tuple[policies.Policy | None, list[str]]:
        after, touched = (allowlists.remove if change.remove else allowlists.add)(before, kind, canonical)
        if change.guard_address is not None:
            refuse_lock_out(after, change.guard_address)
        return after, touched

    def intended(stored: policies.Policy | None) -> bool:
        present = set(allowlists.values(stored, kind))
        return present.isdisjoint(canonical) if change.remove else present.issuperset(canonical)

    result, touched = policy_changes.change_policy(app, api_ref, change.stage, change.command, edit, intended,
                                                   change.dry_run)
    data = extend(result, ListChanged, values=canonical, list=allowlists.values(result.policy, kind),
                  kind=allowlists.describe_kind(kind), **{"removed" if change.remove else "added": touched})
    return deploys.after_change(app, data, change.no_deploy, f"petgate {change.command}")


def refuse_lock_out(after: policies.Policy | None, mine: str) -> None:
    """A PolicyError (nothing is written) if `after` would refuse the caller's address `mine`,
    naming what refuses it: petgate's deny list, another statement, or the allow-list itself."""
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


def _refuse_unless_private(app: Services, api_ref: str) -> None:
    api = apis.resolve_api(app.gateway, api_ref)
    types = (app.gateway.get_api(api.id).get("endpointConfiguration") or {}).get("types") or []
    if "PRIVATE" not in types:
        raise UsageError(
            f"API {api.id} is {'/'.join(types) or 'not PRIVATE'}: its callers have no aws:SourceVpc / "
            "aws:SourceVpce, so a VPC allow-list would refuse every one of them (nothing was written)",
            "pass --force if that is what you want",
        )


def _refuse_unless_iam(app: Services, api_ref: str, command: str) -> None:
    """Refuse an account or principal list on an API none of whose methods uses AWS_IAM: their
    callers are unsigned, so anonymous, no account or principal, and the list lets none of
    them in (one read: GetResources with its methods)."""
    api_id = apis.resolve_api(app.gateway, api_ref, look_up_ids=False).id
    try:
        resources = app.gateway.get_resources(api_id)
    except AwsError as exc:
        if exc.code != "NotFoundException" or api_id != api_ref:
            raise
        api_id = apis.resolve_api(app.gateway, api_ref).id  # a name that looks like an id
        resources = app.gateway.get_resources(api_id)
    if not any(str(method.get("authorizationType") or "NONE") == IAM
               for resource in resources for method in (resource.get("resourceMethods") or {}).values()):
        raise UsageError(
            f"no method of API {api_id} uses IAM authorization (AWS_IAM): its callers are unsigned, so "
            "anonymous, no account or principal, and this list lets none of them in (nothing was written)",
            f"run `petgate require-iam --api {api_id}` first, or pass --force to `{command}` anyway",
        )
