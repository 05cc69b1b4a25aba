"""The walkthrough's own operations: which API the exercise may start from, and cleaning up after
it. Its other steps are the operations the single commands run (ops.deploys, ops.policy_changes,
ops.access_denied, ops.verify, waf_list); what each step did is recorded in its report."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from petgate.errors import UsageError
from petgate.gateway import ACCESS_DENIED, aws_errors
from petgate.ops import deploys, writes
from petgate.ops.deploys import Imported, StageDeployed
from petgate.ops.results import FLAT, UNSET, Result, Unset
from petgate.ops.services import Services

if TYPE_CHECKING:
    from petgate.iam import IamWriter
    from petgate.ops.verify import Probed, Signer
    from petgate.waf_list import WafList
    from petgate.waf_parts import ListResult


# --- what the steps did: each step's record in the report has these keys beside its own ---------

@dataclass(frozen=True, kw_only=True)
class ExerciseApi(Imported):
    """The API the exercise runs on (imported, or reused: created False) and its stage."""

    stage: str


@dataclass(frozen=True, kw_only=True)
class Checked(Result):
    """A step that requests the stage (verify's probe)."""

    verify: Probed


@dataclass(frozen=True, kw_only=True)
class PolicyBlocked(Result):
    api_id: str
    cidrs: list[str]
    added: list[str]
    journal_id: str | None


@dataclass(frozen=True, kw_only=True)
class TemplateSet(Result):
    api_id: str
    template: str
    journal_id: str | None


@dataclass(frozen=True, kw_only=True)
class PolicyRemoved(Result):
    api_id: str
    journal_id: str | None


@dataclass(frozen=True, kw_only=True)
class WafChanged(Result):
    """A step on the exercise's WAF list: attach, block, unblock (the list's result, merged)."""

    api_id: str
    cidrs: list[str] | Unset = UNSET
    waf: ListResult = field(metadata=FLAT)


@dataclass(frozen=True, kw_only=True)
class Deleted(Result):
    """The API deleted, and first the exercise's WAF list if it had one (`waf`)."""

    api_id: str
    deleted: bool
    waf: ListResult | Unset = UNSET
    journal_id: str | None


@dataclass(frozen=True, kw_only=True)
class Failed(Result):
    """The error a step ended with (the step records it as a step of its own)."""

    error: str


@dataclass(frozen=True, kw_only=True)
class Step(Result):
    """One numbered step of the report: what it did (`done`, its keys merged) and how long it took
    (none for the error that stopped the story)."""

    step: int
    title: str
    ok: bool
    done: Result = field(metadata=FLAT)
    elapsed_s: float | Unset = UNSET


@dataclass(frozen=True, kw_only=True)
class Walkthrough(Result):
    """The report: every step, the exercise's API, and the stage and deployment it last deployed
    (the stage the exercise began with when nothing was deployed; None before any API)."""

    ok: bool
    steps: list[Step]
    api_id: str | None
    stage: str | None
    invoke_url: str | None
    deployment_id: str | None


def report(steps: list[Step], ok: bool) -> Walkthrough:
    """The walkthrough's report over its steps (the first one imports or reuses the API)."""
    started = next((s.done for s in steps if isinstance(s.done, ExerciseApi)), None)
    stage, invoke_url, deployment_id = (started.stage if started else None), None, None
    for step in reversed(steps):  # the last deployment
        if isinstance(step.done, StageDeployed) and isinstance(step.done.deployment.deployment_id, str):
            stage, invoke_url = step.done.stage, step.done.deployment.invoke_url
            deployment_id = step.done.deployment.deployment_id
            break
    return Walkthrough(ok=ok, steps=steps, api_id=started.api_id if started else None, stage=stage,
                       invoke_url=invoke_url, deployment_id=deployment_id)


# --- the operations ----------------------------------------------------------------------------

def reusable_api(app: Services, name: str) -> str | None:
    """The one API of that name, if the exercise can start from it (None: import one).

    The exercise starts from an API with no policy and AWS's 403; petgate will not reset
    someone's API to get there.
    """
    existing = app.gateway.find_apis_named(name)
    if len(existing) > 1:
        ids = ", ".join(a.id for a in existing)
        raise UsageError(f"{len(existing)} REST APIs are named {name!r} ({ids})", "pass --new, or another --name")
    if not existing:
        return None
    api_id = existing[0].id
    if app.gateway.get_policy(api_id) is not None:
        raise UsageError(f"API {api_id} already has a resource policy", "run with --new, or remove it with `petgate unblock --all`")
    denied = app.gateway.get_gateway_response(api_id, ACCESS_DENIED) or {}
    if not denied.get("defaultResponse", True):
        raise UsageError(f"API {api_id} already has a custom ACCESS_DENIED response", "run with --new for a fresh API")
    return api_id


def exercise_api(app: Services, name: str, reused: str | None) -> Imported:
    """The API the exercise runs on: the reusable one `reusable_api` found (created: False), or a
    fresh import of the example under that name."""
    if reused is not None:
        return Imported(api_id=reused, api_name=name, created=False)
    return deploys.import_example(app, name, new=True)


def template_hid_details(leaky: Probed, quiet: Probed) -> bool:
    """Whether the custom ACCESS_DENIED template did its job: the 403 after it (`quiet`) leaks
    nothing and is not the body AWS's default answered before it (`leaky`)."""
    return not quiet.leaks and quiet.body != leaky.body


def delete_api(app: Services, api_id: str, command: str, waf_list: WafList | None = None) -> Deleted:
    """Delete the API (and first the exercise's WAF list, whole, if given), journaled as a
    delete: `undo` then explains why an earlier change to the API cannot be put back."""
    deleted = waf_list.delete() if waf_list is not None else UNSET
    app.gateway.delete_api(api_id)
    return Deleted(api_id=api_id, deleted=True, waf=deleted,
                   journal_id=writes.journal(app, kind="delete", command=command, api_id=api_id))


# --- walkthrough --accounts: identities in the local IAM, and whom each check signs as -----------

ACCOUNT_B = "222222222222"  # the second account, let in by the resource policy (allow-accounts)
ACCOUNT_C = "333333333333"  # a third account, never let in
INVOKE_ANYTHING = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "arn:aws:execute-api:*:*:*"}]}
_SETUP_ROLE = "petgate-walkthrough-setup"  # AssumeRole into another account with it: that account's keys


@dataclass(frozen=True)
class Keys:
    """Credentials a check signs with (never in the report): an access key, its secret, a
    session token for an STS session; `arn` is whom they belong to."""

    arn: str
    account: str
    access_key: str
    secret_key: str
    token: str | None = None

    def signer(self, region: str) -> Signer:
        """verify's own signer (ops/verify.Signer: botocore's SigV4Auth) for these keys."""
        from botocore.credentials import ReadOnlyCredentials

        from petgate.ops.verify import Signer

        return Signer(ReadOnlyCredentials(self.access_key, self.secret_key, self.token), region, self.arn)


@dataclass(frozen=True, kw_only=True)
class Identity(Result):
    """An IAM identity the walkthrough made: `kind` user or role (checks sign as a session of
    it, `caller`), whether its identity policy allows execute-api:Invoke."""

    arn: str
    account: str
    kind: str
    may_invoke: bool
    caller: str


@dataclass(frozen=True, kw_only=True)
class IdentitiesMade(Result):
    identities: list[Identity]


@dataclass(frozen=True, kw_only=True)
class IamRequired(Result):
    """require-iam on the exercise's API (not redeployed: the next step deploys)."""

    api_id: str
    methods: list[str]  # "GET /pets", the methods now AWS_IAM
    journal_id: str | None


@dataclass(frozen=True, kw_only=True)
class AccountsAllowed(Result):
    """allow-accounts (or --remove) on the exercise's API (the next step deploys)."""

    api_id: str
    accounts: list[str]  # the account ids given
    list: list[str]  # the whole account list after
    journal_id: str | None


@dataclass(frozen=True, kw_only=True)
class CallerChecked(Checked):
    """A check signed as `caller` (an ARN), with the reason the rule says it must get, and the
    rule in words (Table A or B of the developer guide's authorization workflow)."""

    caller: str
    account: str
    expected_reason: str
    rule: str


@dataclass(frozen=True, kw_only=True)
class AddressChecked(Checked):
    """A check from a source address (through `vpc_endpoint`, None: none), with the reason the
    rule says it must get and the rule in words."""

    source_address: str
    vpc_endpoint: str | None
    expected_reason: str
    rule: str


@dataclass(frozen=True, kw_only=True)
class DeletedWithIdentities(Deleted):
    """The API deleted, then the IAM identities the walkthrough made (their ARNs)."""

    identities_deleted: list[str]


class Identities:
    """The IAM users and roles `walkthrough --accounts` makes on petgate local, and their keys.

    The API's account is the one petgate's own keys are in (STS GetCallerIdentity); another
    account is reached as on petgate local a user would: AssumeRole of a role ARN in it gives
    keys of that account (local/iam_control.py), and with them its IAM makes a role the API's
    account may assume, whose sessions are the callers. Every call through gateway.aws_errors."""

    def __init__(self, app: Services, prefix: str) -> None:
        self.app = app
        self.prefix = prefix
        self.made: list[tuple[str, str, str]] = []  # (account, kind, name), in the order made

    def _writer(self, keys: Keys | None) -> IamWriter:
        from petgate.iam import IamWriter

        writer = IamWriter.of(self.app.iam, self.app.target)
        return writer if keys is None else writer.in_account(keys.access_key, keys.secret_key, keys.token)

    def home_account(self) -> str:
        with aws_errors("STS GetCallerIdentity"):
            return self.app.iam.account()

    def user(self, label: str, policy: dict[str, Any] | None) -> tuple[Identity, Keys]:
        """A user in the API's account with `policy` inline (None: no policy), and its access key."""
        name = f"{self.prefix}-{label}"
        arn, key_id, secret = self._writer(None).create_user(name, policy)
        account = arn.split(":")[4]
        self.made.append((account, "user", name))
        keys = Keys(arn, account, key_id, secret)
        return Identity(arn=arn, account=account, kind="user", may_invoke=policy is not None, caller=arn), keys

    def _session_keys(self, role_arn: str, account: str, session_name: str) -> Keys:
        session = self._writer(None).assume_role(role_arn, session_name)
        return Keys(session["Arn"], account, session["AccessKeyId"], session["SecretAccessKey"], session["SessionToken"])

    def _setup_keys(self, account: str) -> Keys:
        """Keys in `account`: AssumeRole of a role ARN there (petgate local answers with that account's keys)."""
        return self._session_keys(f"arn:aws:iam::{account}:role/{_SETUP_ROLE}", account, "petgate-walkthrough")

    def role_in(self, account: str, label: str, trusted: str) -> tuple[Identity, Keys]:
        """A role in another account that may invoke anything (its identity side allows),
        trusting the API's account; then a session of it (the caller)."""
        name = f"{self.prefix}-{label}"
        trust = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{trusted}:root"}, "Action": "sts:AssumeRole"}]}
        role_arn = self._writer(self._setup_keys(account)).create_role(name, trust, INVOKE_ANYTHING)
        self.made.append((account, "role", name))
        keys = self._session_keys(role_arn, account, "walkthrough")
        return Identity(arn=role_arn, account=account, kind="role", may_invoke=True, caller=keys.arn), keys

    def delete_all(self) -> list[str]:
        """Delete every identity made (keys and inline policies first), newest first; their ARNs."""
        home = self.home_account()
        deleted = []
        for account, kind, name in reversed(self.made):
            writer = self._writer(None if account == home else self._setup_keys(account))
            (writer.delete_user if kind == "user" else writer.delete_role)(name)
            deleted.append(f"arn:aws:iam::{account}:{kind}/{name}")
        self.made.clear()
        return deleted
