"""Importing the example and deploying a stage, and deploying after a change only when needed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

from petgate.errors import AwsError, PetgateError, UsageError
from petgate.gateway import looks_like_api_id
from petgate.ops import apis
from petgate.ops.results import FLAT, UNSET, DeployError, Deployment, Result, StageChange, Unset
from petgate.ops.services import Services
from petgate.ops.writes import journal

C = TypeVar("C", bound=StageChange)


@dataclass(frozen=True, kw_only=True)
class Imported(Result):
    api_id: str
    api_name: str
    created: bool


@dataclass(frozen=True, kw_only=True)
class StageDeployed(Result):
    """`petgate deploy` of one API: the API's name only when it was given by name."""

    api_id: str
    stage: str
    api_name: str | Unset = UNSET
    deployment: Deployment = field(metadata=FLAT)


def import_example(app: Services, name: str, new: bool, endpoint_type: str = "REGIONAL") -> Imported:
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
        return Imported(api_id=existing[0].id, api_name=existing[0].name, created=False)
    with app.output.waiting(f"Importing the example API as {name!r}..."):
        imported = app.gateway.import_api(example.definition_bytes(name), endpoint_type.upper())
    journal(app, kind="import", command="import-example", api_id=imported["id"])
    return Imported(api_id=imported["id"], api_name=imported.get("name", name), created=True)


def deploy(app: Services, api_id: str, stage: str, description: str) -> Deployment:
    """Deploy the stage (waiting for AWS's quota, visibly) and journal it."""
    waits_before = len(app.gateway.quota_waits)
    with app.output.waiting(f"Deploying {api_id} to stage {stage}..."):
        deployment = app.gateway.deploy(api_id, stage, description)
    waits = app.gateway.quota_waits[waits_before:]
    journal(app, kind="deployment", command="deploy", api_id=api_id, stage=stage, deployment_id=deployment["id"],
            description=description)
    return Deployment(
        deployed=True, deployment_id=deployment["id"], invoke_url=app.target.invoke_url(api_id, stage),
        quota_waits=len(waits), quota_wait_s=round(sum(waits), 3),
    )


def deploy_stage(app: Services, ref: str, stage: str, description: str) -> StageDeployed:
    """`petgate deploy`: an id costs one call (CreateDeployment says if it is unknown); a name
    is resolved first."""
    if looks_like_api_id(ref):
        try:
            return StageDeployed(api_id=ref, stage=stage, deployment=deploy(app, ref, stage, description))
        except AwsError as exc:
            if exc.code != "NotFoundException":
                raise
    api = apis.resolve_api(app.gateway, ref)
    return StageDeployed(api_id=api.id, stage=stage, api_name=api.name, deployment=deploy(app, api.id, stage, description))


def after_change(app: Services, result: C, no_deploy: bool, description: str) -> C:
    """Redeploy after a change unless --no-deploy or --dry-run; after a change that changed
    nothing, only if the stage does not serve the current state yet (deploy_unless_served).

    A failed deployment does not hide the change: the result says it was written but not
    deployed (`deploy_error`), and the command then ends with the deployment's exit code
    (errors.deploy_failure).
    """
    if result.dry_run:
        return result
    if no_deploy:
        return result.but(deployment=Deployment(deployed=False, invoke_url=app.target.invoke_url(result.api_id, result.stage)))
    if result.changed is False:
        return deploy_unless_served(app, result, no_deploy, description)
    return _deploy(app, result, description)


def _deploy(app: Services, result: C, description: str) -> C:
    try:
        deployment = deploy(app, result.api_id, result.stage, description)
    except PetgateError as exc:
        deployment = Deployment(
            deployed=False, invoke_url=app.target.invoke_url(result.api_id, result.stage),
            deploy_error=DeployError(code=exc.error_code, message=exc.message, hint=exc.hint),
        )
    return result.but(deployment=deployment)


def deploy_unless_served(app: Services, result: C, no_deploy: bool, description: str) -> C:
    """Redeploy after a change, and also when nothing changed but the stage does not serve the
    current policy (or 403 template) yet (say, an earlier run's deployment failed); otherwise
    leave the stage alone, so a re-run or a cron job does not deploy every few minutes (AWS
    allows one CreateDeployment every 5 seconds)."""
    if result.dry_run or result.changed or no_deploy:
        return after_change(app, result, no_deploy, description)
    try:
        exported = app.gateway.get_stage_export(result.api_id, result.stage)
    except PetgateError:
        return result  # no such stage yet: there is nothing to bring up to date
    if result.served_by(exported):
        return result
    app.output.warn(f"stage {result.stage} does not serve the current {result.subject} yet: deploying it")
    return _deploy(app, result, description)
