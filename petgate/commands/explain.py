"""explain: which layer of API Gateway lets one request through or refuses it, and why."""

from __future__ import annotations

import click

from petgate.app import App
from petgate.commands.common import api_options, pass_app
from petgate.errors import UsageError
from petgate.ops import explain as explain_ops
from petgate.output import Output

_MARKS = {"pass": "pass   ", "refuse": "REFUSE ", "unknown": "unknown"}


def _headers(_ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]) -> dict[str, str]:
    headers = {}
    for text in values:
        name, equals, value = text.partition("=")
        if not equals or not name.strip():
            raise click.BadParameter(f"{text!r} is not NAME=VALUE (as --header User-Agent=curl/8)")
        headers[name.strip()] = value
    return headers


@click.command()
@api_options
@click.option("--ip", metavar="ADDR", help="The caller's source address (default: yours, as checkip sees it).")
@click.option("--principal", metavar="ARN", help="The caller signs as this IAM user, role, session or account (SigV4).")
@click.option("--as", "as_profile", metavar="PROFILE", help="The caller is whom this profile's credentials are (STS); "
              "with --live they sign the request.")
@click.option("--vpce", metavar="ID", help="The request comes through this VPC endpoint (a PRIVATE API's way in).")
@click.option("--method", default="GET", show_default=True, help="The HTTP method.")
@click.option("--path", default="/", show_default=True, help="The path under the stage.")
@click.option("--header", "headers", multiple=True, metavar="NAME=VALUE", callback=_headers,
              help="A request header (repeatable): User-Agent, Referer, x-api-key, Accept ...")
@click.option("--live", is_flag=True, help="Send the request too and say whether the answer agrees (exit 1 if not).")
@pass_app
def explain(app: App, api_ref: str, stage: str, ip: str | None, principal: str | None, as_profile: str | None,
            vpce: str | None, method: str, path: str, headers: dict[str, str], live: bool) -> None:
    """Walk API Gateway's layers for one request, over what the stage serves, and say which decides.

    In AWS's order: the stage, a PRIVATE API's VPC endpoint, the stage's web ACL (the rule that
    decides), the route, an API key, the resource policy's explicit-deny pre-check (Lambda
    authorizers), authentication (SigV4 for AWS_IAM; Cognito and Lambda authorizers are not
    evaluated offline), the resource policy with the identity policies (Tables A and B). Each
    layer's decision and the statement or rule behind it, then the status, x-amzn-ErrorType and
    body AWS would send, from the stage's deployed gateway responses. What petgate cannot see
    (identity policies of another account, SCPs, authorizer code) is named as unknown.

    Exit 0: explained (allowed or refused alike); with --live, 1 when the answer disagrees, 4
    when there is none; 2 bad options; 3 no such API (an unknown stage is explained: it is the
    first layer that refuses). Read-only.

    \b
    Examples:
      petgate --local explain --path /pets
      petgate explain --path /pets --ip 198.51.100.7 -o json | jq '.layers[] | select(.decision != "pass")'
      petgate explain --path /pets --principal arn:aws:iam::111122223333:user/alice
      petgate --local explain --path /pets --as account-b --live
    """
    if principal is not None and as_profile is not None:
        raise UsageError("give --principal ARN or --as PROFILE, not both")
    data = explain_ops.explain(app, api_ref, stage, ip=ip, principal=principal, as_profile=as_profile, vpce=vpce,
                               method=method, path=path, headers=headers, live=live)
    app.output.result(data, _render)
    failed = explain_ops.disagreement(data)
    if failed is not None:
        raise failed


def _render(out: Output, data: explain_ops.Explained) -> None:
    who = f"signed as {data.principal}" if data.principal else "anonymous"
    through = f" through {data.vpce}" if data.vpce else ""
    out.data(f"{data.method} {data.path} on API {data.api_id} stage {data.stage}, from {data.source_ip}{through}, {who}:")
    for layer in data.layers:
        out.data(f"  {_MARKS.get(layer.decision, layer.decision)}  {layer.layer:<16} {layer.because}")
    outcome = data.outcome
    if outcome.allowed is None:
        verdict = "unknown: what petgate cannot see decides"
    elif outcome.allowed:
        verdict = "allowed" + (f": HTTP {outcome.status} from the integration" if outcome.status is not None
                               else ": the backend answers")
    else:
        error_type = f" {outcome.error_type}" if outcome.error_type else ""
        verdict = f"refused ({outcome.reason}): HTTP {outcome.status}{error_type}"
    out.data(f"Outcome: {verdict}" + ("" if outcome.known else " (if the unknown layers let it through)"))
    if outcome.body:
        out.data(f"  body: {outcome.body}")
    for unknown in data.unknowns:
        out.data(f"  not seen: {unknown}")
    live = data.live
    if isinstance(live, explain_ops.LiveAnswer):
        answer = f"HTTP {live.status}" + (f" {live.error_type}" if live.error_type else "") if live.status is not None \
            else "no answer"
        if live.agrees:
            out.success(f"Live: {answer} ({live.reason}): agrees")
        elif live.agrees is None:
            out.info(f"Live: {answer} ({live.reason}): settles what petgate could not see")
        else:
            out.error(f"Live: {answer} ({live.reason}): disagrees ({', '.join(live.differs)})")
