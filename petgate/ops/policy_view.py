"""Looking at a resource policy: the policy in words (`policy show`), and what it would do to
one request (`policy check`, and verify's control-plane facts), with the same evaluator the
local gateway enforces."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from petgate import expiry
from petgate import policy as policies
from petgate.errors import AwsError, ExpectationNotMetError, UsageError
from petgate.gateway import exported_policy
from petgate.ops import apis, policy_changes
from petgate.ops.policy_changes import Expiring
from petgate.ops.results import UNSET, Result, Unset
from petgate.ops.services import Services
from petgate.policy.model import CONDITION_OPERATORS, operator_base

# the evaluator's decision (and authorize()'s) in verify's words, so scripts compare one vocabulary
VERIFY_REASONS = {
    "no-policy": "allowed",
    "allowed": "allowed",
    "explicit-deny": "policy-explicit-deny",
    "implicit-deny": "policy-implicit-deny",
    "iam-explicit-deny": "iam-explicit-deny",
    "iam-implicit-deny": "iam-implicit-deny",
}
AUTH_TYPES = ("iam", "none")
IDENTITIES = ("allow", "deny", "neither")

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
    """`policy check`: what the policy (or, asked first, the stage's web ACL) does to one request,
    and, for a `principal` on a method with IAM authorization (`auth` "iam"), what its identity
    policies do, combined by Table A (same account) or B (another): `table`, `decided_by`
    ("resource-policy", "identity-policy", "both", "none").

    `decision` is the resource policy's own word (the evaluator's), `reason` the outcome in
    verify's words; the deciding statement (None: no policy, or an implicit deny) with its index
    and Sid, `statement_source` its side and `statement_policy` the identity policy holding it.
    `identity_decision` is the identity side's word (None: not IAM-authorized), `identity_source`
    where that side came from ("option", "file", "iam"; None), `identity_policies` what it read.
    `layer` says who refused: "waf" when a Block rule holds the address (`waf_rule`, only with
    --with-waf; None: no rule does)."""

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
    principal: str | None = None
    auth: str = "none"
    table: str | None = None
    decided_by: str = "resource-policy"
    identity_decision: str | None = None
    identity_source: str | None = None
    identity_policies: list[str] | None = None
    statement_source: str | None = None
    statement_policy: str | None = None
    waf_rule: str | None | Unset = UNSET


def call_request(
    *, region: str, account: str, api_id: str, stage: str, method: str, path: str, source_ip: str,
    keys: Mapping[str, str] | None = None, caller: policies.Caller = policies.ANONYMOUS,
) -> policies.Request:
    """The request API Gateway's evaluator sees for one call to a stage: its execute-api ARN, the
    caller's address, the condition keys, over HTTPS, and who SigV4 proved the caller is."""
    return policies.Request(
        source_ip=source_ip,
        resource_arn=policies.request_arn(region, account, api_id, stage, method, path),
        keys={**(keys or {}), "aws:SecureTransport": "true"},
        caller=caller,
    )


def evaluate_call(
    document: policies.Policy | None, *, region: str, account: str, api_id: str, stage: str, method: str,
    path: str, source_ip: str, keys: Mapping[str, str] | None = None,
) -> tuple[policies.Request, policies.Decision]:
    """The request for one anonymous call (`call_request`) and what the policy decides about it:
    every statement is read against the API's own ARN, which `execute-api:/...` expands to."""
    request = call_request(region=region, account=account, api_id=api_id, stage=stage, method=method, path=path,
                           source_ip=source_ip, keys=keys)
    return request, policies.evaluate(document, request, resource_prefix=policies.api_arn(region, account, api_id))


def authorize_call(
    document: policies.Policy | None, identity: Sequence[policies.CompiledPolicy] | None, *, region: str,
    account: str, api_id: str, stage: str, method: str, path: str, source_ip: str,
    keys: Mapping[str, str] | None = None, caller: policies.Caller = policies.ANONYMOUS,
) -> tuple[policies.Request, policies.Authorization]:
    """The request for one call (`call_request`) and authorize()'s outcome: `identity` None, the
    method has no IAM authorization (the caller is anonymous to the policy); a list, AWS_IAM and
    the caller's identity policies (Tables A and B, the API in `account`)."""
    request = call_request(region=region, account=account, api_id=api_id, stage=stage, method=method, path=path,
                           source_ip=source_ip, keys=keys, caller=caller)
    compiled = policies.compile_policy(document, policies.api_arn(region, account, api_id))
    return request, policies.authorize(compiled, request, account, identity)


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
    principal: str | None = None, auth: str | None = None, identity: str | None = None,
    identity_files: Sequence[str] = (),
) -> PolicyCheck:
    """Would this request be allowed, and which statement decides?

    The request is the API's own: the target's region (us-east-1 if none), the account its saved
    policy names and its id; with a file, `file_api_id` and `account`, else placeholders. `keys`
    are the caller's condition keys (aws:SourceVpc, aws:UserAgent, ...; None: not sent). With
    `with_waf`, the stage's web ACL is asked first, as API Gateway does, and a Block rule holding
    the address decides ("layer": "waf").

    With a `principal` (an IAM user, role, assumed-role session or account ARN) the method is
    IAM-authorized unless `auth` is "none", and its identity side is `identity` ("allow", "deny",
    "neither": a stand-in), the policies in `identity_files`, or, given neither, what IAM holds
    for it (the App's credentials: the local IAM with --local). An API whose policy names no
    account is taken to be in the credentials' account (STS)."""
    try:
        policies.parse_cidr(source_ip)
    except policies.PolicyError as exc:
        raise UsageError(str(exc)) from None
    who = _principal_options(principal, auth, identity, identity_files)
    named = [(path_, _identity_file(path_)) for path_ in identity_files]  # bad input first: nothing read yet
    document, api_id, source = load(app, None if file else api_ref, stage, deployed, file)
    region = app.target.region_or_none() or FALLBACK_REGION
    arn_api = api_id or file_api_id or PLACEHOLDER_API_ID
    if not file:  # AWS saved the policy with the API's full ARNs, account included
        account = policies.account_in(document, api_id)
        if who is not None and who.iam and account == policies.PLACEHOLDER_ACCOUNT:
            account = app.iam.account()  # the policy does not say: the API is the credentials' account's
    account = account or policies.PLACEHOLDER_ACCOUNT
    identity_source: str | None = None
    if who is not None and who.iam:
        if identity is not None:
            named, identity_source = _stand_in(identity), "option"
        elif identity_files:
            identity_source = "file"
        else:
            named, identity_source = identity_policies_from_iam(app, who), "iam"
    compiled = [(name, policies.compile_policy(doc, identity=True)) for name, doc in named]
    request, outcome = authorize_call(
        document, [c for _, c in compiled] if identity_source else None, region=region, account=account,
        api_id=arn_api, stage=stage, method=method.upper(), path=path, source_ip=source_ip,
        keys={k: v for k, v in (keys or {}).items() if v is not None},
        caller=who.caller if who is not None else policies.ANONYMOUS,
    )
    statement, side, index, holder = deciding_statement(outcome, compiled)
    data = PolicyCheck(
        api_id=api_id, stage=stage, source=source, ip=source_ip, method=method.upper(), path=path,
        resource_arn=request.resource_arn, allowed=outcome.allowed, reason=VERIFY_REASONS[outcome.reason],
        decision=outcome.resource.reason, statement_index=index, statement=statement,
        statement_sid=(statement or {}).get("Sid"), layer="policy",
        principal=who.given if who is not None else None, auth="iam" if who is not None and who.iam else "none",
        table=outcome.table, decided_by=outcome.decided_by,
        identity_decision=outcome.identity.reason if outcome.identity is not None else None,
        identity_source=identity_source, identity_policies=[name for name, _ in named] if identity_source else None,
        statement_source=side, statement_policy=holder,
    )
    if with_waf and api_id is not None:
        from petgate.waf import stage_arn
        from petgate.waf_stages import blocking_rule

        rule = blocking_rule(app, stage_arn(region, api_id, stage), source_ip)
        data = data.but(waf_rule=rule)
        if rule is not None:  # WAF refuses before the policy is asked
            data = data.but(layer="waf", allowed=False, reason="waf-block")
    return data


# --- the principal and its identity side -------------------------------------------------------

_PATH_NAME = r"(?:[\w+=,.@-]+/)*(?P<name>[\w+=,.@-]+)"
_IAM_ARN = re.compile(rf"^arn:(?P<partition>aws[\w-]*):iam::(?P<account>\d{{12}}):(?P<kind>user|role)/{_PATH_NAME}$")
_ROOT_ARN = re.compile(r"^arn:(?P<partition>aws[\w-]*):iam::(?P<account>\d{12}):root$")
_SESSION_ARN = re.compile(
    r"^arn:(?P<partition>aws[\w-]*):sts::(?P<account>\d{12}):assumed-role/(?P<name>[\w+=,.@-]+)/[\w+=,.@-]+$")
CHECK_SESSION = "petgate-policy-check"  # the session a role ARN is checked as


@dataclass(frozen=True)
class Principal:
    """`--principal` read: as given, the caller it stands for (a role: one of its sessions), what
    it is ("user", "role", "session", "root"), the user's or role's name, and whether the method
    is IAM-authorized."""

    given: str
    caller: policies.Caller
    kind: str
    name: str | None
    iam: bool


def principal_of(text: str, iam: bool = True) -> Principal:
    """An IAM user, role, assumed-role session or account root ARN, or a bare account id (its root
    user); anything else is the user's to fix (exit 2)."""
    given = text.strip()
    if re.fullmatch(r"\d{12}", given):
        return Principal(given, policies.Caller(arn=f"arn:aws:iam::{given}:root"), "root", None, iam)
    if _ROOT_ARN.match(given):
        return Principal(given, policies.Caller(arn=given), "root", None, iam)
    session = _SESSION_ARN.match(given)
    if session:
        return Principal(given, policies.Caller(arn=given), "session", session["name"], iam)
    match = _IAM_ARN.match(given)
    if match and match["kind"] == "user":
        return Principal(given, policies.Caller(arn=given), "user", match["name"], iam)
    if match:  # a role calls through its sessions
        arn = f"arn:{match['partition']}:sts::{match['account']}:assumed-role/{match['name']}/{CHECK_SESSION}"
        return Principal(given, policies.Caller(arn=arn, role_arn=given), "role", match["name"], iam)
    raise UsageError(
        f"--principal {text!r} is not an IAM principal ARN",
        "give a user (arn:aws:iam::111122223333:user/NAME), a role (...:role/NAME), a session "
        "(arn:aws:sts::111122223333:assumed-role/ROLE/SESSION), or an account (111122223333)",
    )


def _principal_options(principal: str | None, auth: str | None, identity: str | None,
                       identity_files: Sequence[str]) -> Principal | None:
    if auth is not None and auth not in AUTH_TYPES:
        raise UsageError(f"--auth must be one of {', '.join(AUTH_TYPES)}, not {auth!r}")
    if identity is not None and identity not in IDENTITIES:
        raise UsageError(f"--identity must be one of {', '.join(IDENTITIES)}, not {identity!r}")
    given_identity = identity is not None or bool(identity_files)
    if principal is None:
        if auth == "iam":
            raise UsageError("--auth iam needs --principal ARN",
                             "an unsigned call to an AWS_IAM method is refused before any policy (Missing Authentication Token)")
        if given_identity:
            raise UsageError("--identity and --identity-policy go with --principal ARN")
        return None
    who = principal_of(principal, iam=auth != "none")
    if identity is not None and identity_files:
        raise UsageError("give --identity or --identity-policy, not both")
    if given_identity and not who.iam:
        raise UsageError("--identity and --identity-policy go with --auth iam",
                         "without IAM authorization the caller is anonymous and no identity policy is asked")
    if given_identity and who.kind == "root":
        raise UsageError(f"{who.given} is an account's root user, which has no identity policies (IAM lets it do anything)",
                         "leave out --identity and --identity-policy")
    return who


def _stand_in(identity: str) -> list[tuple[str, policies.Policy]]:
    """`--identity allow|deny|neither` as the identity policy that says it (neither: none at all)."""
    if identity == "neither":
        return []
    effect = "Allow" if identity == "allow" else "Deny"
    return [(f"--identity {identity}", {"Version": policies.POLICY_VERSION, "Statement": [
        {"Sid": f"Identity{effect}", "Effect": effect, "Action": policies.INVOKE_ACTION, "Resource": "*"}]})]


def identity_policies_from_iam(app: Services, who: Principal) -> list[tuple[str, policies.Policy]]:
    """What IAM holds for the principal: a user's policies and its groups', a role's (a session
    carries its role's); the root user has none (and needs none)."""
    account = who.caller.account or ""
    if who.kind == "root" or who.name is None:
        return []
    if not app.iam.readable(account):
        raise UsageError(
            f"{who.given} is in account {account}, and the credentials are of account {app.iam.account()}: "
            "IAM shows each account only its own users and roles",
            "use a profile of that account (--profile), or give --identity or --identity-policy",
        )
    if who.kind == "user":
        return app.iam.user_policies(who.name, account)
    return app.iam.role_policies(who.name, account)


def _identity_file(path: str) -> policies.Policy:
    try:
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
    except OSError as exc:
        raise UsageError(f"cannot read identity policy file {path}: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"identity policy file {path} is not JSON: {exc}") from None
    try:
        check_identity_policy(document)
    except policies.PolicyError as exc:
        raise UsageError(f"identity policy file {path} is not an identity policy: {exc}") from None
    return document  # type: ignore[no-any-return]


def check_identity_policy(document: object) -> None:
    """Raise PolicyError unless this is an identity policy IAM would take: statements with an
    Effect, Action and Resource, conditions petgate reads, and no Principal (IAM: "Policy document
    should not specify a principal": it applies to whom it is attached to)."""
    if not isinstance(document, dict):
        raise policies.PolicyError("a policy must be a JSON object")
    raw = document.get("Statement")
    if raw is None or (isinstance(raw, list) and not raw):
        raise policies.PolicyError("a policy needs at least one Statement")
    for number, statement in enumerate(raw if isinstance(raw, list) else [raw], start=1):
        where = f"statement {number}"
        if not isinstance(statement, dict):
            raise policies.PolicyError(f"{where} is not a JSON object")
        if statement.get("Effect") not in ("Allow", "Deny"):
            raise policies.PolicyError(f"{where}: Effect must be Allow or Deny")
        if "Principal" in statement or "NotPrincipal" in statement:
            raise policies.PolicyError(f"{where} names a Principal: an identity policy applies to the user or role it is attached to")
        if "Action" not in statement and "NotAction" not in statement:
            raise policies.PolicyError(f"{where}: Action is missing")
        if "Resource" not in statement and "NotResource" not in statement:
            raise policies.PolicyError(f"{where}: Resource is missing")
        condition = statement.get("Condition", {})
        if not isinstance(condition, dict) or not all(isinstance(keys, dict) for keys in condition.values()):
            raise policies.PolicyError(f"{where}: Condition must map operators to keys and values")
        unknown = [operator for operator in condition if operator_base(operator) not in CONDITION_OPERATORS]
        if unknown:
            raise policies.PolicyError(f"{where}: unknown condition operator {unknown[0]!r}")


def deciding_statement(outcome: policies.Authorization, compiled: Sequence[tuple[str, policies.CompiledPolicy]]
                      ) -> tuple[policies.Statement | None, str | None, int | None, str | None]:
    """The deciding statement, its side, its index in its policy, and the identity policy holding it."""
    statement = outcome.statement
    if statement is None:
        return None, None, None, None
    if statement is outcome.resource.statement:
        return statement, "resource-policy", outcome.resource.statement_index, None
    index = outcome.identity.statement_index if outcome.identity is not None else None
    holder = next((name for name, policy in compiled
                   if any(own is statement for own in policies.statements(policy.policy))), None)
    return statement, "identity-policy", index, holder


def unmet_expectation(data: PolicyCheck, expect: str | None) -> ExpectationNotMetError | None:
    """The error `--expect allowed|denied` ends a check with when the answer is the other one."""
    outcome = "allowed" if data.allowed else "denied"
    if expect is None or expect == outcome:
        return None
    return ExpectationNotMetError(f"expected {expect}, the policy says {outcome} ({data.reason})")
