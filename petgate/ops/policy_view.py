"""Looking at a resource policy: the policy in words (`policy show`), and what it would do to
one request (`policy check`, and verify's control-plane facts), with the same evaluator the
local gateway enforces."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from petgate import expiry
from petgate import policy as policies
from petgate.errors import AwsError, ExpectationNotMetError, UsageError
from petgate.gateway import exported_policy
from petgate.ops import apis, policy_changes
from petgate.ops.policy_changes import Expiring
from petgate.ops.results import UNSET, Result, Unset
from petgate.ops.services import Services

# the evaluator's decision in verify's words, so scripts compare one vocabulary
VERIFY_REASONS = {
    "no-policy": "allowed",
    "allowed": "allowed",
    "explicit-deny": "policy-explicit-deny",
    "implicit-deny": "policy-implicit-deny",
}

PLACEHOLDER_API_ID = "a1b2c3d4e5"  # the API a policy file alone is checked for
FALLBACK_REGION = "us-east-1"  # `policy check` with no region configured


@dataclass(frozen=True, kw_only=True)
class PolicyShown(Result):
    """`policy show`: the policy (None: there is none) from `source` (see `load`), in words, and
    its blocks that end. api_id is None for a file."""

    api_id: str | None
    stage: str
    source: str
    policy: policies.Policy | None
    policy_in_words: list[str]
    expiring: list[Expiring]


@dataclass(frozen=True, kw_only=True)
class PolicyCheck(Result):
    """`policy check`: what the policy (or, asked first, the stage's web ACL) does to one request.

    `decision` is the evaluator's own word, `reason` verify's; the deciding statement (None: no
    policy, or an implicit deny) with its index and Sid. `layer` says who refused: "waf" when a
    Block rule holds the address (`waf_rule`, only with --with-waf; None: no rule does)."""

    api_id: str | None
    stage: str
    source: str
    ip: str
    method: str
    path: str
    resource_arn: str
    allowed: bool
    reason: str
    decision: str
    statement_index: int | None
    statement: policies.Statement | None
    statement_sid: str | None
    layer: str
    waf_rule: str | None | Unset = UNSET


def evaluate_call(
    document: policies.Policy | None, *, region: str, account: str, api_id: str, stage: str, method: str,
    path: str, source_ip: str, keys: Mapping[str, str] | None = None,
) -> tuple[policies.Request, policies.Decision]:
    """The request API Gateway's evaluator sees for one call to a stage (its execute-api ARN, the
    caller's address, the condition keys, over HTTPS), and what the policy decides about it: every
    statement is read against the API's own ARN, which `execute-api:/...` expands to."""
    request = policies.Request(
        source_ip=source_ip,
        resource_arn=policies.request_arn(region, account, api_id, stage, method, path),
        keys={**(keys or {}), "aws:SecureTransport": "true"},
    )
    return request, policies.evaluate(document, request, resource_prefix=policies.api_arn(region, account, api_id))


def load(
    app: Services, api_ref: str | None, stage: str, deployed: bool, file: str | None
) -> tuple[policies.Policy | None, str | None, str]:
    """The policy to look at, its API's id and where it came from: a file ("file"), the stage's
    deployed one ("deployed", GetExport), or the API's stored one ("stored")."""
    if file is not None:
        try:
            with open(file, encoding="utf-8") as handle:
                document = json.load(handle)
            policies.validate(document)
        except OSError as exc:
            raise UsageError(f"cannot read policy file {file}: {exc.strerror}") from None
        except (json.JSONDecodeError, UnicodeDecodeError, policies.PolicyError) as exc:
            raise UsageError(f"policy file {file}: {exc}") from None
        return document, None, "file"
    assert api_ref is not None
    api = apis.resolve_api(app.gateway, api_ref)
    if deployed:
        try:
            exported = app.gateway.get_stage_export(api.id, stage)
        except AwsError as exc:
            raise UsageError(f"stage {stage!r} of API {api.id} cannot be read ({exc.message})", "run `petgate deploy` first") from None
        return exported_policy(exported), api.id, "deployed"
    return app.gateway.get_policy(api.id), api.id, "stored"


def show(app: Services, api_ref: str, stage: str, deployed: bool = False, file: str | None = None) -> PolicyShown:
    """The policy (see `load`), in words, and its blocks that end."""
    document, api_id, source = load(app, api_ref, stage, deployed, file)
    return PolicyShown(api_id=api_id, stage=stage, source=source, policy=document,
                       policy_in_words=policies.describe(document),
                       expiring=policy_changes.expiring(document, expiry.now(app.clock)))


def check(
    app: Services, api_ref: str | None, stage: str, source_ip: str, *, method: str = "GET", path: str = "/",
    deployed: bool = False, file: str | None = None, keys: Mapping[str, str | None] | None = None,
    file_api_id: str | None = None, account: str | None = None, with_waf: bool = False,
) -> PolicyCheck:
    """Would this request be allowed, and which statement decides?

    The request is the API's own: the target's region (us-east-1 if none), the account its saved
    policy names and its id; with a file, `file_api_id` and `account`, else placeholders. `keys`
    are the caller's condition keys (aws:SourceVpc, aws:UserAgent, ...; None: not sent). With
    `with_waf`, the stage's web ACL is asked first, as API Gateway does, and a Block rule holding
    the address decides ("layer": "waf")."""
    try:
        policies.parse_cidr(source_ip)
    except policies.PolicyError as exc:
        raise UsageError(str(exc)) from None
    document, api_id, source = load(app, None if file else api_ref, stage, deployed, file)
    region = app.target.region_or_none() or FALLBACK_REGION
    arn_api = api_id or file_api_id or PLACEHOLDER_API_ID
    if not file:  # AWS saved the policy with the API's full ARNs, account included
        account = policies.account_in(document, api_id)
    request, decision = evaluate_call(
        document, region=region, account=account or policies.PLACEHOLDER_ACCOUNT, api_id=arn_api, stage=stage,
        method=method.upper(), path=path, source_ip=source_ip,
        keys={k: v for k, v in (keys or {}).items() if v is not None},
    )
    data = PolicyCheck(
        api_id=api_id, stage=stage, source=source, ip=source_ip, method=method.upper(), path=path,
        resource_arn=request.resource_arn, allowed=decision.allowed, reason=VERIFY_REASONS[decision.reason],
        decision=decision.reason,
        statement_index=decision.statement_index, statement=decision.statement,
        statement_sid=(decision.statement or {}).get("Sid"), layer="policy",
    )
    if with_waf and api_id is not None:
        from petgate.waf import stage_arn
        from petgate.waf_stages import blocking_rule

        rule = blocking_rule(app, stage_arn(region, api_id, stage), source_ip)
        data = data.but(waf_rule=rule)
        if rule is not None:  # WAF refuses before the policy is asked
            data = data.but(layer="waf", allowed=False, reason="waf-block")
    return data


def unmet_expectation(data: PolicyCheck, expect: str | None) -> ExpectationNotMetError | None:
    """The error `--expect allowed|denied` ends a check with when the answer is the other one."""
    outcome = "allowed" if data.allowed else "denied"
    if expect is None or expect == outcome:
        return None
    return ExpectationNotMetError(f"expected {expect}, the policy says {outcome} ({data.reason})")
