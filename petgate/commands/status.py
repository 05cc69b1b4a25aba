"""petgate status: the API, its stages, its policy in words, and what is not deployed yet."""

from __future__ import annotations

import click

from petgate.app import App
from petgate.commands.common import api_options, pass_app, render_expiring
from petgate.ops import status as ops_status
from petgate.output import Output, shown


@click.command()
@api_options
@pass_app
def status(app: App, api_ref: str, stage: str) -> None:
    """Show the API, whether it is private, each method's authorization (AWS_IAM, NONE, ...),
    its stages and invoke URLs, the policy in words, the ACCESS_DENIED template, and whether
    either changed since the stage was deployed.

    \b
    Example:
      petgate --local status
    """
    app.output.result(ops_status.status(app, api_ref, stage), _render)


def _render(out: Output, data: ops_status.Status) -> None:
    """What the API is, on stdout; warnings about undeployed changes on stderr."""
    out.data(f"API {data.api_id} ({shown(data.api_name)})")
    endpoint = "/".join(data.endpoint_types) or "unknown"
    out.data(f"  endpoint {endpoint}: " + ("private, reachable only through VPC endpoints" if data.private
                                           else "public, reachable from the internet"))
    if not data.stages:
        out.data("  no stages: run `petgate deploy`")
    for stage in data.stages:
        out.data(f"  stage {shown(stage.stage)}: deployment {stage.deployment_id} ({stage.deployed_at})")
        out.data(f"    {stage.invoke_url}")
    out.data("Methods (authorization)")
    if not data.methods:
        out.data("  none")
    for method in data.methods:
        out.data(f"  {method.method} {shown(method.path)}: {method.authorization_type}")
    out.data("Resource policy")
    for line in data.policy_in_words:
        out.data(f"  {line}")
    render_expiring(out, data.expiring)
    if data.policy_changed_since_deploy:
        out.warn(f"the policy changed since stage {data.stage} was deployed (not deployed yet: run `petgate deploy`)")
    acl = data.web_acl
    out.data("AWS WAF web ACL")
    if acl is None:
        out.data("  none on this stage")
    elif isinstance(acl, ops_status.WebAclUnknown):
        out.data(f"  unknown ({acl.error})")
    else:
        out.data(f"  {shown(acl.name)} ({acl.arn})")
    out.data("ACCESS_DENIED response")
    denied = data.access_denied
    if not denied.custom:
        out.data("  AWS's default: the body names the region, account (masked), API id, stage, method and path")
    for content_type, template in denied.templates.items():
        out.data(f"  {denied.status_code} {shown(content_type)}: {shown(template)}")
    if data.access_denied_changed_since_deploy:
        out.warn(f"the ACCESS_DENIED response changed since stage {data.stage} was deployed (not deployed yet: run `petgate deploy`)")
