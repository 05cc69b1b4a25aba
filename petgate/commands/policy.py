"""petgate policy show / check: the policy in words, and would this request get through?"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

import click

from petgate import policy as policies
from petgate.app import App
from petgate.commands.common import api_options, pass_app, render_expiring
from petgate.errors import AwsError, ExpectationNotMetError, UsageError
from petgate.gateway import exported_policy
from petgate.ops import apis, policy_changes
from petgate.output import Output


@click.group()
def policy() -> None:
    """Show the resource policy, or check what it would do to a request.

    \b
    Examples:
      petgate policy show
      petgate policy check --ip 203.0.113.7 --method GET --path /pets
    """


def _load(app: App, api_ref: str | None, stage: str, deployed: bool, file: str | None) -> tuple[policies.Policy | None, str | None, str]:
    """The policy to look at: a file, the stage's deployed one, or the API's stored one."""
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
    document, api_id, source = _load(app, api_ref, stage, deployed, file)

    data = {"api_id": api_id, "stage": stage, "source": source, "policy": document,
            "policy_in_words": policies.describe(document), "expiring": policy_changes.expiring_json(document)}
    app.output.result(data, _render_show)


def _render_show(out: Output, data: dict[str, Any]) -> None:
    out.data(f"Resource policy ({data['source']})")
    for line in data["policy_in_words"]:
        out.data(f"  {line}")
    render_expiring(out, data["expiring"])
    if data["policy"] is not None:
        out.data(json.dumps(data["policy"], indent=2))


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
@click.option("--expect", type=click.Choice(["allowed", "denied"]), help="Exit 1 unless the answer is this.")
@click.option("--api-id", "file_api_id", metavar="ID", help="With --file: the id of the API the policy is for.")
@click.option("--account", metavar="ACCOUNT_ID", help="With --file: the account the API belongs to.")
@click.option("--with-waf", is_flag=True, help="Ask the stage's AWS WAF web ACL first, as API Gateway does; say which layer decides.")
@pass_app
def check(app: App, api_ref: str, stage: str, deployed: bool, file: str | None, source_ip: str, method: str,
          path: str, vpc: str | None, vpce: str | None, user_agent: str | None, referer: str | None,
          expect: str | None, file_api_id: str | None, account: str | None, with_waf: bool) -> None:
    """Would this request be allowed, and which statement decides? Offline, with the same
    evaluator the local gateway enforces.

    The request is the API's own: its region (--region), account and id (from --api; with
    --file, from --api-id and --account, else placeholders), so a statement naming another
    API, account or region does not apply to it.

    \b
    Examples:
      petgate policy check --ip 203.0.113.7 --path /pets
      petgate policy check --file policy.json --api-id a1b2c3d4e5 --account 111122223333 --ip 10.0.0.1
    """
    if with_waf and file:
        raise UsageError("--with-waf asks the stage's web ACL: use it with --api, not --file")
    if (file_api_id or account) and not file:
        raise UsageError("--api-id and --account go with --file (with --api they are read from AWS)")
    if account is not None and not (account.isdigit() and len(account) == 12):
        raise UsageError(f"--account must be a 12-digit AWS account id, not {account!r}")
    try:
        policies.parse_cidr(source_ip)
    except policies.PolicyError as exc:
        raise UsageError(str(exc)) from None
    document, api_id, source = _load(app, None if file else api_ref, stage, deployed, file)
    region = app.target.region_or_none() or "us-east-1"
    arn_api = api_id or file_api_id or "a1b2c3d4e5"  # a placeholder id for a file alone
    if not file:  # AWS saved the policy with the API's full ARNs, account included
        account = policies.account_in(document, api_id)
    account = account or policies.PLACEHOLDER_ACCOUNT
    keys = {k: v for k, v in {"aws:SourceVpc": vpc, "aws:SourceVpce": vpce, "aws:UserAgent": user_agent,
                              "aws:Referer": referer, "aws:SecureTransport": "true"}.items() if v is not None}
    request = policies.Request(source_ip=source_ip, resource_arn=policies.request_arn(region, account, arn_api, stage, method.upper(), path), keys=keys)
    decision = policies.evaluate(document, request, resource_prefix=policies.api_arn(region, account, arn_api))
    data = {
        "api_id": api_id, "stage": stage, "source": source, "ip": source_ip, "method": method.upper(), "path": path,
        "resource_arn": request.resource_arn, "allowed": decision.allowed, "reason": VERIFY_REASONS[decision.reason],
        "decision": decision.reason,
        "statement_index": decision.statement_index, "statement": decision.statement,
        "statement_sid": (decision.statement or {}).get("Sid"), "layer": "policy",
    }
    if with_waf and api_id is not None:
        from petgate.waf import stage_arn
        from petgate.waf_list import blocking_rule

        rule = blocking_rule(app, stage_arn(region, api_id, stage), source_ip)
        data["waf_rule"] = rule
        if rule is not None:  # WAF refuses before the policy is asked
            data.update({"layer": "waf", "allowed": False, "reason": "waf-block"})
    app.output.result(data, _render_check)
    outcome = "allowed" if data["allowed"] else "denied"
    if expect is not None and expect != outcome:
        raise ExpectationNotMetError(f"expected {expect}, the policy says {outcome} ({data['reason']})")


# the evaluator's decision in verify's words, so scripts compare one vocabulary
VERIFY_REASONS = {
    "no-policy": "allowed",
    "allowed": "allowed",
    "explicit-deny": "policy-explicit-deny",
    "implicit-deny": "policy-implicit-deny",
}


def _render_check(out: Output, data: dict[str, Any]) -> None:
    request = f"{data['method']} {data['path']} from {data['ip']}"
    reasons = {
        "no-policy": "there is no policy",
        "allowed": "a statement allows it and none denies it",
        "explicit-deny": "a statement denies it",
        "implicit-deny": "no statement allows it",
    }
    if data.get("layer") == "waf":
        out.error(f"{request}: waf-block (WAF rule {data['waf_rule']} blocks it before the policy is asked)")
        return
    (out.success if data["allowed"] else out.error)(f"{request}: {data['reason']} ({reasons[data['decision']]})")
    if data["statement"] is not None:
        label = data["statement_sid"] or f"statement {data['statement_index'] + 1}"
        out.detail(f"decided by {label}: {policies.describe({'Statement': [data['statement']]})[0]}")
