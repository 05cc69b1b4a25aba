"""petgate status: the API, its stages, its policy in words, and what is not deployed yet."""

from __future__ import annotations

from typing import Any

import click

from petgate import policy as policies
from petgate.app import App
from petgate.commands.common import api_options, pass_app, render_expiring
from petgate.errors import AwsError, PetgateError
from petgate.gateway import ACCESS_DENIED, exported_policy
from petgate.ops import apis, policy_changes
from petgate.output import Output, shown


@click.command()
@api_options
@pass_app
def status(app: App, api_ref: str, stage: str) -> None:
    """Show the API, its stages and invoke URLs, the policy in words, the ACCESS_DENIED
    template, and whether either changed since the stage was deployed.

    \b
    Example:
      petgate --local status
    """
    gateway = app.gateway
    api = apis.resolve_api(gateway, api_ref)
    api_doc = gateway.get_api(api.id)
    policy = gateway.get_policy(api.id, api_doc)
    denied = gateway.get_gateway_response(api.id, ACCESS_DENIED) or {}
    deployments = {d["id"]: d for d in gateway.get_deployments(api.id)}
    stages = []
    for item in sorted(gateway.get_stages(api.id), key=lambda s: s["stageName"]):
        name = item["stageName"]
        deployment = deployments.get(item.get("deploymentId", ""), {})
        entry: dict[str, Any] = {
            "stage": name,
            "deployment_id": item.get("deploymentId"),
            "deployed_at": deployment.get("createdDate"),
            "invoke_url": app.target.invoke_url(api.id, name),
        }
        entry.update(_undeployed_changes(app, api.id, name, policy, denied))
        stages.append(entry)
    selected = next((s for s in stages if s["stage"] == stage), None)
    data: dict[str, Any] = {
        "api_id": api.id,
        "api_name": api.name,
        "stage": stage,
        "deployed": selected is not None,
        "invoke_url": app.target.invoke_url(api.id, stage),
        "stages": stages,
        "policy": policy,
        "policy_in_words": policies.describe(policy),
        "blocked": policies.blocked_cidrs(policy),
        "expiring": policy_changes.expiring_json(policy),
        "access_denied": {
            "custom": not denied.get("defaultResponse", True),
            "status_code": denied.get("statusCode"),
            "templates": denied.get("responseTemplates") or {},
        },
        "web_acl": _web_acl(app, api.id, stage) if selected else None,
        "policy_changed_since_deploy": selected["policy_changed_since_deploy"] if selected else None,
        "access_denied_changed_since_deploy": selected["access_denied_changed_since_deploy"] if selected else None,
    }
    app.output.result(data, _render)


def _web_acl(app: App, api_id: str, stage: str) -> dict[str, Any] | None:
    """The stage's web ACL (WAF), if any; unknown (no WAF access, say) is said as an error."""
    from petgate.waf import stage_arn

    try:
        acl = app.waf.web_acl_for(stage_arn(app.target.resolved_region(), api_id, stage))
    except PetgateError as exc:
        return {"error": exc.message}
    return {"name": acl.get("Name"), "arn": acl.get("ARN")} if acl else None


def _undeployed_changes(
    app: App, api_id: str, stage: str, policy: policies.Policy | None, denied: dict[str, Any]
) -> dict[str, Any]:
    """Compare the stage's deployed definition (GetExport) with the API as it is now."""
    try:
        exported = app.gateway.get_stage_export(api_id, stage)
    except AwsError:
        return {"policy_changed_since_deploy": None, "access_denied_changed_since_deploy": None}
    deployed_policy = exported_policy(exported)
    deployed_denied = (exported.get("x-amazon-apigateway-gateway-responses") or {}).get(ACCESS_DENIED) or {}
    current_templates = {} if denied.get("defaultResponse", True) else denied.get("responseTemplates") or {}
    return {
        "policy_changed_since_deploy": (deployed_policy or None) != (policy or None),
        "access_denied_changed_since_deploy": (deployed_denied.get("responseTemplates") or {}) != current_templates,
    }


def _render(out: Output, data: dict[str, Any]) -> None:
    """What the API is, on stdout; warnings about undeployed changes on stderr."""
    out.data(f"API {data['api_id']} ({shown(data['api_name'])})")
    if not data["stages"]:
        out.data("  no stages: run `petgate deploy`")
    for stage in data["stages"]:
        out.data(f"  stage {shown(stage['stage'])}: deployment {stage['deployment_id']} ({stage['deployed_at']})")
        out.data(f"    {stage['invoke_url']}")
    out.data("Resource policy")
    for line in data["policy_in_words"]:
        out.data(f"  {line}")
    render_expiring(out, data["expiring"])
    if data["policy_changed_since_deploy"]:
        out.warn(f"the policy changed since stage {data['stage']} was deployed (not deployed yet: run `petgate deploy`)")
    acl = data.get("web_acl")
    out.data("AWS WAF web ACL")
    if acl is None:
        out.data("  none on this stage")
    elif "error" in acl:
        out.data(f"  unknown ({acl['error']})")
    else:
        out.data(f"  {shown(acl['name'])} ({acl['arn']})")
    out.data("ACCESS_DENIED response")
    denied = data["access_denied"]
    if not denied["custom"]:
        out.data("  AWS's default: the body names the region, account (masked), API id, stage, method and path")
    for content_type, template in denied["templates"].items():
        out.data(f"  {denied['status_code']} {shown(content_type)}: {shown(template)}")
    if data["access_denied_changed_since_deploy"]:
        out.warn(f"the ACCESS_DENIED response changed since stage {data['stage']} was deployed (not deployed yet: run `petgate deploy`)")
