"""`waf migrate`: move petgate's policy deny list onto a WAF list, attach it to the stage,
check through WAF itself that the stage's web ACL holds every address, and only then remove
petgate's deny statements from the policy and redeploy. Every change is journaled as
`waf migrate`."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any, ClassVar

from petgate import policy as policies
from petgate.errors import UsageError
from petgate.ops import deploys, policy_changes
from petgate.ops.results import UNSET, StageChange, Unset
from petgate.ops.services import Services
from petgate.ops.waf_lists import stage_of
from petgate.waf_list import WafList
from petgate.waf_parts import ListResult

COMMAND = "waf migrate"


@dataclass(frozen=True, kw_only=True)
class Migrated(StageChange, ListResult):
    """One stage's migration: `migrated` is the deny list moved, and once moved, the list's
    attach (`attached` ... `replaced`) and the policy left (`policy`, journaled as
    `journal_id`), then the deployment. Not a PolicyChange: the JSON has neither the policy
    before nor the write attempts, nor (no --dry-run, the API by id) `dry_run` or `api_name`."""

    migrated: list[str]
    stage_arn: str
    attached: bool | Unset = UNSET
    web_acl_arn: str | Unset = UNSET
    replaced: dict[str, str] | None | Unset = UNSET
    policy: policies.Policy | None | Unset = UNSET

    subject: ClassVar[str] = "policy"

    def served_by(self, exported: dict[str, Any]) -> bool:
        return policy_changes.serves_policy(exported, None if isinstance(self.policy, Unset) else self.policy)


def migrate(app: Services, api_ref: str, stage: str, list_name: str, no_deploy: bool = False,
            replace: bool = False) -> Migrated:
    """Migrate one API's stage. A stage with another web ACL is refused before anything is
    written, unless `replace`; blocks that end keep their end (an IP set per end). The policy
    is left as it is unless WAF holds the whole list for the stage."""
    api_id, arn = stage_of(app, api_ref, stage)
    groups = policies.deny_groups(app.gateway.get_policy(api_id))
    cidrs = policies.collapse(c for g in groups for c in g.cidrs)
    waf_list = WafList(app, list_name)
    result = Migrated(api_id=api_id, stage=stage, list=list_name, migrated=cidrs, stage_arn=arn, changed=False)
    if not cidrs:
        return result
    waf_list.attachable(arn, replace)  # another web ACL on the stage: refused before anything is written
    for group in groups:  # the permanent group first: a block for good is never written as one that ends
        waf_list.change(group.cidrs, [], until=group.until, clock=group.until, command=COMMAND)
    attached = waf_list.attach(arn, replace=replace, command=COMMAND, api_id=api_id, stage=stage)
    # check, through WAF itself, before anything leaves the policy: the stage's ACL is ours and
    # every migrated network is inside the list
    acl = app.waf.web_acl_for(arn)
    missing = _not_listed(cidrs, [a for s in waf_list.show().ip_sets for a in s.addresses])
    if acl is None or acl.get("ARN") != attached.web_acl_arn or missing:
        raise UsageError(f"WAF does not hold the whole list for {arn} ({', '.join(missing) or 'web ACL not attached'}); "
                         "the policy was left as it is")
    # policy_changes.unblock's change, journaled as the command the user ran
    removed, _ = policy_changes.change_policy(app, api_id, stage, COMMAND, lambda p: policies.unblock(p, cidrs),
                                              lambda stored: not policies.unblock(stored, cidrs)[1])
    result = result.but(list=attached.list, stage_arn=attached.stage_arn, attached=attached.attached,
                        web_acl_arn=attached.web_acl_arn, replaced=attached.replaced, policy=removed.policy,
                        changed=True, journal_id=None if isinstance(removed.journal_id, Unset) else removed.journal_id)
    return deploys.after_change(app, result, no_deploy, f"petgate {COMMAND}")


def _not_listed(cidrs: list[str], listed: list[str]) -> list[str]:
    """The CIDRs no listed network (of their IP version) holds."""
    networks = [ipaddress.ip_network(a) for a in listed]
    return [c for c in cidrs if not any(ipaddress.ip_network(c).subnet_of(n) for n in networks  # type: ignore[arg-type]
                                        if n.version == ipaddress.ip_network(c).version)]
