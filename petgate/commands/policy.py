"""petgate policy show / check: the policy in words, and would this request get through?"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

import click

from petgate import policy as policies
from petgate.app import App
from petgate.commands.common import api_options, pass_app, render_expiring
from petgate.errors import UsageError
from petgate.ops import policy_view
from petgate.output import Output


@click.group()
def policy() -> None:
    """Show the resource policy, or check what it would do to a request.

    \b
    Examples:
      petgate policy show
      petgate policy check --ip 203.0.113.7 --method GET --path /pets
    """


source_options = [
    click.option("--deployed", is_flag=True, help="The policy the stage serves, not the API's stored one."),
    click.option("--file", "file", metavar="PATH", help="A policy JSON file instead (offline)."),
]


F = TypeVar("F", bound=Callable[..., Any])


def _with(options: list[Callable[[F], F]]) -> Callable[[F], F]:
    def apply(func: F) -> F:
        for option in reversed(options):
            func = option(func)
        return func

    return apply


@policy.command()
@api_options
@_with(source_options)
@pass_app
def show(app: App, api_ref: str, stage: str, deployed: bool, file: str | None) -> None:
    """The policy in words and as JSON.

    \b
    Example:
      petgate policy show --deployed
    """
    app.output.result(policy_view.show(app, api_ref, stage, deployed, file), _render_show)


def _render_show(out: Output, data: policy_view.PolicyShown) -> None:
    out.data(f"Resource policy ({data.source})")
    for line in data.policy_in_words:
        out.data(f"  {line}")
    render_expiring(out, data.expiring)
    if data.policy is not None:
        out.data(json.dumps(data.policy, indent=2))


@policy.command()
@api_options
@_with(source_options)
@click.option("--ip", "source_ip", required=True, metavar="ADDR", help="The caller's address (aws:SourceIp).")
@click.option("--method", default="GET", show_default=True)
@click.option("--path", default="/", show_default=True)
@click.option("--vpc", help="aws:SourceVpc of the caller (private APIs).")
@click.option("--vpce", help="aws:SourceVpce of the caller (private APIs).")
@click.option("--user-agent", help="aws:UserAgent of the caller.")
@click.option("--referer", help="aws:Referer of the caller.")
@click.option("--principal", metavar="ARN",
              help="The caller: an IAM user, role, assumed-role session or account (root) ARN, signed with SigV4.")
@click.option("--auth", type=click.Choice(policy_view.AUTH_TYPES),
              help="The method's authorization: iam (AWS_IAM; the default with --principal: Tables A and B) or none "
              "(the caller is anonymous to the policy).")
@click.option("--identity", type=click.Choice(policy_view.IDENTITIES),
              help="Stand in for the principal's identity policies: they allow, deny, or say nothing.")
@click.option("--identity-policy", "identity_files", metavar="FILE", multiple=True,
              help="The principal's identity policies from JSON files (repeatable). With neither this nor --identity, "
              "they are read from IAM (the local IAM with --local).")
@click.option("--expect", type=click.Choice(["allowed", "denied"]), help="Exit 1 unless the answer is this.")
@click.option("--api-id", "file_api_id", metavar="ID", help="With --file: the id of the API the policy is for.")
@click.option("--account", metavar="ACCOUNT_ID", help="With --file: the account the API belongs to.")
@click.option("--with-waf", is_flag=True, help="Ask the stage's AWS WAF web ACL first, as API Gateway does; say which layer decides.")
@pass_app
def check(app: App, api_ref: str, stage: str, deployed: bool, file: str | None, source_ip: str, method: str,
          path: str, vpc: str | None, vpce: str | None, user_agent: str | None, referer: str | None,
          principal: str | None, auth: str | None, identity: str | None, identity_files: tuple[str, ...],
          expect: str | None, file_api_id: str | None, account: str | None, with_waf: bool) -> None:
    """Would this request be allowed, and which statement decides? Offline, with the same
    evaluator the local gateway enforces.

    The request is the API's own: its region (--region), account and id (from --api; with
    --file, from --api-id and --account, else placeholders), so a statement naming another
    API, account or region does not apply to it.

    With --principal the caller is that IAM identity on a method with IAM authorization, and
    its identity policies count as API Gateway combines them: Table A (the caller in the API's
    account) allows when either side allows and neither denies; Table B (another account) only
    when both allow. The answer says which table, which side decided, and the statement.

    \b
    Examples:
      petgate policy check --ip 203.0.113.7 --path /pets
      petgate policy check --file policy.json --api-id a1b2c3d4e5 --account 111122223333 --ip 10.0.0.1
      petgate policy check --ip 203.0.113.7 --principal arn:aws:iam::444455556666:user/bob --identity allow
      petgate --local policy check --ip 127.0.0.1 --path /pets --principal arn:aws:iam::123456789012:user/alice
    """
    if with_waf and file:
        raise UsageError("--with-waf asks the stage's web ACL: use it with --api, not --file")
    if (file_api_id or account) and not file:
        raise UsageError("--api-id and --account go with --file (with --api they are read from AWS)")
    if account is not None and not (account.isdigit() and len(account) == 12):
        raise UsageError(f"--account must be a 12-digit AWS account id, not {account!r}")
    data = policy_view.check(
        app, api_ref, stage, source_ip, method=method, path=path, deployed=deployed, file=file,
        keys={"aws:SourceVpc": vpc, "aws:SourceVpce": vpce, "aws:UserAgent": user_agent, "aws:Referer": referer},
        file_api_id=file_api_id, account=account, with_waf=with_waf,
        principal=principal, auth=auth, identity=identity, identity_files=identity_files,
    )
    app.output.result(data, _render_check)
    failed = policy_view.unmet_expectation(data, expect)
    if failed is not None:
        raise failed


_RESOURCE_SIDE = {
    "no-policy": "there is no resource policy",
    "allowed": "the resource policy allows",
    "explicit-deny": "the resource policy denies",
    "implicit-deny": "the resource policy neither allows nor denies",
}
_TABLES = {
    "A": "Table A (same account): either may allow, neither may deny",
    "B": "Table B (another account): both must allow",
}


def _render_check(out: Output, data: policy_view.PolicyCheck) -> None:
    request = f"{data.method} {data.path} from {data.ip}" + (f" as {data.principal}" if data.principal else "")
    reasons = {
        "no-policy": "there is no policy",
        "allowed": "a statement allows it and none denies it",
        "explicit-deny": "a statement denies it",
        "implicit-deny": "no statement allows it",
    }
    if data.layer == "waf":
        out.error(f"{request}: waf-block (WAF rule {data.waf_rule} blocks it before the policy is asked)")
        return
    say = out.success if data.allowed else out.error
    if data.auth == "iam" and data.table is not None:
        say(f"{request}: {data.reason} ({_table_in_words(data)})")
    else:
        say(f"{request}: {data.reason} ({reasons[data.decision]})")
        if data.principal:
            out.detail("the method has no IAM authorization: the policy sees an anonymous caller, whoever signs")
    if data.identity_source is not None:
        read = ", ".join(data.identity_policies or []) or "none"
        where = {"option": "given", "file": "from files", "iam": "read from IAM"}[data.identity_source]
        out.detail(f"identity policies ({where}): {read}")
    if data.statement is not None and data.statement_index is not None:  # the evaluator gives both or neither
        label = data.statement_sid or f"statement {data.statement_index + 1}"
        if data.statement_source == "identity-policy":
            out.detail(f"decided by {label} of identity policy {data.statement_policy}: {_identity_words(data.statement)}")
        else:
            out.detail(f"decided by {label}: {policies.describe({'Statement': [data.statement]})[0]}")


def _table_in_words(data: policy_view.PolicyCheck) -> str:
    """"Table B (another account): both must allow; the resource policy allows, no identity policy
    does: denied"."""
    resource = _RESOURCE_SIDE[data.decision]
    if data.identity_decision == "allowed":
        root = (data.principal or "").endswith(":root") or (data.principal or "").isdigit()
        identity = "the root user may do anything" if root else "an identity policy allows"
    elif data.identity_decision == "explicit-deny":
        identity = "an identity policy denies"
    else:
        identity = "no identity policy does" if data.decision == "allowed" else "no identity policy allows"
    return f"{_TABLES[data.table or 'A']}; {resource}, {identity}: {'allowed' if data.allowed else 'denied'}"


def _identity_words(statement: policies.Statement) -> str:
    effect = "allows" if statement.get("Effect") == "Allow" else "denies"
    actions = _listed(statement, "Action")
    resources = _listed(statement, "Resource")
    return f"{effect} {actions} on {resources}" + (" (with conditions)" if statement.get("Condition") else "")


def _listed(statement: policies.Statement, key: str) -> str:
    negated = key not in statement
    value = statement.get(f"Not{key}" if negated else key)
    listed = ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)
    return f"all but {listed}" if negated else listed
