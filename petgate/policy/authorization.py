"""Whether a caller may invoke a method: the resource policy and, for a method with IAM
authorization (AWS_IAM), the caller's identity policies, combined as API Gateway does.

AWS's rules: API Gateway Developer Guide, "How API Gateway resource policies affect
authorization workflow" (apigateway-authorization-flow), section "Policy evaluation outcome
tables" (apigateway-resource-policies-iam-policies-interaction):

- a method with no authorization: "Evaluation of the policy involves seeking an explicit allow
  based on the inbound criteria of the caller. An implicit denial or any explicit denial results
  in denying the caller" (the caller is anonymous to the policy; no policy: everyone may call);
- IAM authorization: "the policies attached to the IAM user in addition to the resource policy
  are evaluated together. The outcome varies based on whether the caller is in the same
  account, or a separate AWS account, from the API owner."
  Table A ("Account A Calls API Owned by Account A"): allowed when either side allows and
  neither denies; both silent: implicit deny; any deny: explicit deny.
  Table B ("Account B Calls API Owned by Account A"): "If either is silent (neither allow nor
  deny), cross-account access is denied. This is because cross-account access requires that
  both the resource policy and the IAM policy ... explicitly grant access"; any deny: explicit.

Identity policies combine as IAM's evaluation logic says (IAM User Guide,
"reference_policies_evaluation-logic"): an explicit deny in any of them wins, then any allow,
else an implicit deny.

Where AWS's text leaves a choice, petgate reads it so:
- No resource policy is "Neither Allow nor Deny" in the tables: in the same account the
  identity policies decide (Table A's rows 2, 5, 8), from another account the caller is denied
  (Table B's row 2, "cross-account access requires that both ... explicitly grant access").
- `reason` names the side that refused: `explicit-deny` / `implicit-deny` are the resource
  policy's (as `Decision.reason`), `iam-explicit-deny` / `iam-implicit-deny` the identity
  policies'. Both deny explicitly: the resource policy's `explicit-deny` (its statement),
  decided_by "both". Table B, the resource policy allows and the identity policies are silent:
  `iam-implicit-deny`; the identity policies allow and the resource policy is silent (or absent):
  `implicit-deny`. Both silent (either table): `iam-implicit-deny`, decided_by "both" (AWS's
  newest wording for a caller no identity policy allows is "... because no identity-based policy
  allows the execute-api:Invoke action"); with no resource policy, decided_by "identity-policy".
- `statement`: the one that decided; an allow both sides give names the resource policy's.
- The account's root user is allowed by its identity side ("all requests are implicitly denied
  with the exception of the AWS account root user, which has full access", IAM's evaluation
  logic): the root user has no identity policies; the resource policy still applies, and from
  another account Table B still needs its allow.
- An anonymous caller on an AWS_IAM method: AWS refuses the unsigned request before any policy
  (403 "Missing Authentication Token", the gateway's answer); here `iam-implicit-deny`,
  decided_by "identity-policy", table None, so no policy ever lets it in.
- Lambda and Cognito authorizers (the tables name them beside IAM policies) are not modelled.

Pure: of petgate only model and evaluate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from petgate.policy.evaluate import (
    ANONYMOUS,
    Caller,
    CompiledPolicy,
    Decision,
    Request,
    principal_type,
)
from petgate.policy.model import Statement

__all__ = ["ANONYMOUS", "Authorization", "Caller", "authorize", "identity_decision"]

REASONS = ("no-policy", "allowed", "explicit-deny", "implicit-deny", "iam-explicit-deny", "iam-implicit-deny")


@dataclass(frozen=True)
class Authorization:
    """The outcome for one call, which side decided, and under which table."""

    allowed: bool
    reason: str      # "no-policy" | "allowed" | "explicit-deny" | "implicit-deny" (the resource policy's,
                     # as Decision.reason today) | "iam-explicit-deny" | "iam-implicit-deny"
    decided_by: str  # "resource-policy" | "identity-policy" | "both" | "none"
    table: str | None  # "A": caller and API in one account; "B": another account; None: not IAM-authorized
    resource: Decision            # the resource policy's decision for this caller
    identity: Decision | None     # the identity policies' (None when the method is not AWS_IAM)
    statement: Statement | None   # the statement that decided, if one did

    @property
    def explicit(self) -> bool:
        return self.reason in ("explicit-deny", "iam-explicit-deny")


_ROOT_ALLOWED = Decision(True, "allowed")  # the root user's identity side: full access, no statement
_SILENT = Decision(False, "implicit-deny")


def identity_decision(caller: Caller, identity_policies: Sequence[CompiledPolicy], request: Request) -> Decision:
    """The identity side for the caller: an explicit deny in any policy wins (the first, in
    order), then the first allow, else an implicit deny; the root user is allowed."""
    if caller.anonymous:
        return _SILENT
    if principal_type(caller) == "Account":
        return _ROOT_ALLOWED
    allowed: Decision | None = None
    for compiled in identity_policies:
        if compiled.policy is None:
            continue
        decision = compiled.evaluate(request)
        if decision.reason == "explicit-deny":
            return decision
        if decision.allowed and allowed is None:
            allowed = decision
    return allowed or _SILENT


def authorize(resource_policy: CompiledPolicy, request: Request, api_account: str,
              identity_policies: Sequence[CompiledPolicy] | None = None) -> Authorization:
    """identity_policies None: the method has no IAM authorization (the caller is anonymous to
    the resource policy, today's behaviour). A list (maybe empty): AWS_IAM, the caller is
    request.caller, decided by Table A (same account) or Table B (another account)."""
    if identity_policies is None:
        if not request.caller.anonymous:
            request = replace(request, caller=ANONYMOUS)  # without IAM authorization no one is known
        resource = resource_policy.evaluate(request)
        decided_by = "none" if resource.reason == "no-policy" else "resource-policy"
        return Authorization(resource.allowed, resource.reason, decided_by, None, resource, None, resource.statement)

    caller = request.caller
    resource = resource_policy.evaluate(request)
    if caller.anonymous:
        return Authorization(False, "iam-implicit-deny", "identity-policy", None, resource, _SILENT, None)
    identity = identity_decision(caller, identity_policies, request)
    table = "A" if caller.account == api_account else "B"
    return _combine(table, resource, identity)


def _combine(table: str, resource: Decision, identity: Decision) -> Authorization:
    resource_allows = resource.reason == "allowed"  # "no-policy" is neither allow nor deny
    resource_denies = resource.reason == "explicit-deny"
    identity_allows = identity.allowed
    identity_denies = identity.reason == "explicit-deny"

    def result(allowed: bool, reason: str, decided_by: str, statement: Statement | None) -> Authorization:
        return Authorization(allowed, reason, decided_by, table, resource, identity, statement)

    if resource_denies:
        return result(False, "explicit-deny", "both" if identity_denies else "resource-policy", resource.statement)
    if identity_denies:
        return result(False, "iam-explicit-deny", "identity-policy", identity.statement)
    if resource_allows and identity_allows:
        return result(True, "allowed", "both", resource.statement)
    if table == "A" and resource_allows:
        return result(True, "allowed", "resource-policy", resource.statement)
    if table == "A" and identity_allows:
        return result(True, "allowed", "identity-policy", identity.statement)
    if identity_allows:  # Table B: the resource policy is silent, or there is none
        return result(False, "implicit-deny", "resource-policy", None)
    if resource_allows:  # Table B: the identity policies are silent
        return result(False, "iam-implicit-deny", "identity-policy", None)
    # both silent; with no resource policy only the identity side had anything to say
    return result(False, "iam-implicit-deny", "identity-policy" if resource.reason == "no-policy" else "both", None)
