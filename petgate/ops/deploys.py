"""Importing the example and deploying a stage, and deploying after a change only when needed."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from petgate.errors import AwsError, PetgateError, UsageError
from petgate.gateway import looks_like_api_id
from petgate.ops import apis
from petgate.ops.results import FLAT, UNSET, DeployError, Deployment, Result, StageChange, Unset
from petgate.ops.services import Services
from petgate.ops.writes import journal
from petgate.policy import allow

C = TypeVar("C", bound=StageChange)
VPCE_ID = re.compile(r"^vpce-(?:[0-9a-f]{8}|[0-9a-f]{17})$")  # vpce- and 8 (older ids) or 17 hex digits


@dataclass(frozen=True, kw_only=True)
class Imported(Result):
    """`vpc_endpoints`: for a PRIVATE import, the endpoints its policy lets in (else no key)."""

    api_id: str
    api_name: str
    created: bool
    vpc_endpoints: list[str] | Unset = UNSET


@dataclass(frozen=True, kw_only=True)
class StageDeployed(Result):
    """`petgate deploy` of one API: the API's name only when it was given by name."""

    api_id: str
    stage: str
    api_name: str | Unset = UNSET
    deployment: Deployment = field(metadata=FLAT)


def import_example(app: Services, name: str, new: bool, endpoint_type: str = "REGIONAL",
                   vpces: Sequence[str] = ()) -> Imported:
    """Reuse the one API of that name, or import the example (always with --new).

    PRIVATE needs `vpces`: the API is imported with the console's "VPC Whitelist" policy for
    them (policy/allow.py's ONLY_VPCES: deny every caller not from these VPC endpoints, allow
    the rest) in the definition itself (`x-amazon-apigateway-policy`), so it holds a policy
    before its first deployment, which AWS refuses for a private API without one. A PRIVATE
    request reuses only a PRIVATE API of that name."""
    from petgate import example

    endpoint_type = endpoint_type.upper()
    private = endpoint_type == "PRIVATE"
    wanted = list(dict.fromkeys(v.strip() for v in vpces))
    if private and not wanted:
        raise UsageError("--endpoint-type PRIVATE needs --vpce VPCE_ID (repeatable): a private API is reached only "
                         "through VPC endpoints, and AWS deploys it only with a policy that names who may call")
    if wanted and not private:
        raise UsageError("--vpce goes with --endpoint-type PRIVATE (only a private API is reached through VPC endpoints)")
    malformed = [v for v in wanted if not VPCE_ID.match(v)]
    if malformed:
        raise UsageError(f"not a VPC endpoint id: {malformed[0]!r} (vpce- and 8 or 17 lowercase hex digits)")
    existing: list[tuple[str, str, list[str]]] = []  # id, name, endpoint types (read for PRIVATE only)
    if not new and private:
        existing = [(a["id"], a.get("name", ""), (a.get("endpointConfiguration") or {}).get("types") or ["EDGE"])
                    for a in app.gateway.list_apis() if a.get("name") == name]
    elif not new:
        existing = [(a.id, a.name, []) for a in app.gateway.find_apis_named(name)]
    if len(existing) > 1:
        ids = ", ".join(a[0] for a in existing)
        raise UsageError(
            f"{len(existing)} REST APIs are named {name!r} ({ids})",
            "pass --new to import another, or use --api ID with the other commands",
        )
    if existing:
        api_id, api_name, types = existing[0]
        if private and "PRIVATE" not in types:
            raise UsageError(f"API {api_id} ({name!r}) is {'/'.join(types)}, not PRIVATE",
                             "pass --new to import a private copy, or --name for another name")
        return Imported(api_id=api_id, api_name=api_name, created=False)
    definition = example.definition_bytes(name)
    if private:
        document = json.loads(definition)
        document["x-amazon-apigateway-policy"] = allow.add(None, allow.ONLY_VPCES, wanted)[0]
        definition = json.dumps(document).encode()
    with app.output.waiting(f"Importing the example API as {name!r}..."):
        imported = app.gateway.import_api(definition, endpoint_type)
    journal(app, kind="import", command="import-example", api_id=imported["id"])
    return Imported(api_id=imported["id"], api_name=imported.get("name", name), created=True,
                    vpc_endpoints=wanted if private else UNSET)


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
