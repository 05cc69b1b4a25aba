"""Importing the example and deploying a stage, and deploying after a change only when needed."""

from __future__ import annotations

from typing import Any

from petgate import policy as policies
from petgate.errors import PetgateError, UsageError
from petgate.gateway import exported_policy
from petgate.ops.services import Services
from petgate.ops.writes import journal


def import_example(app: Services, name: str, new: bool, endpoint_type: str = "REGIONAL") -> dict[str, Any]:
    """Reuse the one API of that name, or import the example (always with --new)."""
    from petgate import example

    existing = [] if new else app.gateway.find_apis_named(name)
    if len(existing) > 1:
        ids = ", ".join(a.id for a in existing)
        raise UsageError(
            f"{len(existing)} REST APIs are named {name!r} ({ids})",
            "pass --new to import another, or use --api ID with the other commands",
        )
    if existing:
        return {"api_id": existing[0].id, "api_name": existing[0].name, "created": False}
    with app.output.waiting(f"Importing the example API as {name!r}..."):
        imported = app.gateway.import_api(example.definition_bytes(name), endpoint_type.upper())
    result = {"api_id": imported["id"], "api_name": imported.get("name", name), "created": True}
    journal(app, kind="import", command="import-example", api_id=imported["id"])
    return result


def deploy(app: Services, api_id: str, stage: str, description: str) -> dict[str, Any]:
    """Deploy the stage (waiting for AWS's quota, visibly) and journal it."""
    waits_before = len(app.gateway.quota_waits)
    with app.output.waiting(f"Deploying {api_id} to stage {stage}..."):
        deployment = app.gateway.deploy(api_id, stage, description)
    waits = app.gateway.quota_waits[waits_before:]
    journal(app, kind="deployment", command="deploy", api_id=api_id, stage=stage, deployment_id=deployment["id"], description=description)
    return {
        "deployed": True,
        "deployment_id": deployment["id"],
        "invoke_url": app.target.invoke_url(api_id, stage),
        "quota_waits": len(waits),
        "quota_wait_s": round(sum(waits), 3),
    }


def after_change(app: Services, result: dict[str, Any], no_deploy: bool, description: str) -> dict[str, Any]:
    """Redeploy after a change unless --no-deploy or --dry-run; after a change that changed
    nothing, only if the stage does not serve the current state yet (deploy_unless_served).

    A failed deployment does not hide the change: the result says it was written but not
    deployed (`deploy_error`), and the command then ends with the deployment's exit code
    (errors.deploy_failure).
    """
    if result.get("dry_run"):
        return result
    if no_deploy:
        result.update({"deployed": False, "invoke_url": app.target.invoke_url(result["api_id"], result["stage"])})
        return result
    if result.get("changed") is False:
        return deploy_unless_served(app, result, no_deploy, description)
    return _deploy(app, result, description)


def _deploy(app: Services, result: dict[str, Any], description: str) -> dict[str, Any]:
    try:
        result.update(deploy(app, result["api_id"], result["stage"], description))
    except PetgateError as exc:
        result.update({
            "deployed": False, "invoke_url": app.target.invoke_url(result["api_id"], result["stage"]),
            "deploy_error": {"code": exc.error_code, "message": exc.message, "hint": exc.hint},
        })
    return result


def deploy_unless_served(app: Services, result: dict[str, Any], no_deploy: bool, description: str) -> dict[str, Any]:
    """Redeploy after a change, and also when nothing changed but the stage does not serve the
    current policy (or 403 template) yet (say, an earlier run's deployment failed); otherwise
    leave the stage alone, so a re-run or a cron job does not deploy every few minutes (AWS
    allows one CreateDeployment every 5 seconds)."""
    if result.get("dry_run") or result.get("changed") or no_deploy:
        return after_change(app, result, no_deploy, description)
    try:
        exported = app.gateway.get_stage_export(result["api_id"], result["stage"])
    except PetgateError:
        return result  # no such stage yet: there is nothing to bring up to date
    if _serves(exported, result):
        return result
    what = "403 template" if "response_type" in result else "policy"
    app.output.warn(f"stage {result['stage']} does not serve the current {what} yet: deploying it")
    return _deploy(app, result, description)


def _serves(exported: dict[str, Any], result: dict[str, Any]) -> bool:
    """Whether the stage's export holds what the API holds now (the result of a no-op change)."""
    if "response_type" in result:
        served = ((exported.get("x-amazon-apigateway-gateway-responses") or {}).get(result["response_type"]) or {})
        current = result.get("previous") or {}
        return (str(served.get("statusCode")) == str(current.get("statusCode"))
                and (served.get("responseTemplates") or {}) == (current.get("responseTemplates") or {}))
    try:
        served_policy = exported_policy(exported)
    except policies.PolicyError:
        served_policy = None
    return (served_policy or None) == (result.get("policy") or None)
