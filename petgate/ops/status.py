"""petgate status: the API, its endpoint type (private or not), its methods' authorization, its
stages and invoke URLs, its policy in words, its ACCESS_DENIED response, the stage's web ACL, and
whether the policy or the response changed since the stage was deployed (the stage's export,
GetExport, is what it serves)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from petgate import expiry
from petgate import policy as policies
from petgate.errors import AwsError, PetgateError
from petgate.gateway import ACCESS_DENIED, exported_policy
from petgate.ops import apis, authorization_types, policy_changes
from petgate.ops.authorization_types import MethodAuthorization
from petgate.ops.policy_changes import Expiring
from petgate.ops.results import FLAT, Result
from petgate.ops.services import Services


@dataclass(frozen=True, kw_only=True)
class Undeployed(Result):
    """Whether the stage serves something else than the API holds now (None: its export cannot
    be read)."""

    policy_changed_since_deploy: bool | None
    access_denied_changed_since_deploy: bool | None


@dataclass(frozen=True, kw_only=True)
class StageStatus(Result):
    stage: str
    deployment_id: str | None
    deployed_at: datetime | str | None  # the deployment's createdDate, as the gateway gives it
    invoke_url: str
    undeployed: Undeployed = field(metadata=FLAT)


@dataclass(frozen=True, kw_only=True)
class AccessDenied(Result):
    """The ACCESS_DENIED response: AWS's default (custom False), or the API's own."""

    custom: bool
    status_code: str | None
    templates: dict[str, str]


@dataclass(frozen=True, kw_only=True)
class WebAcl(Result):
    name: str | None
    arn: str | None


@dataclass(frozen=True, kw_only=True)
class WebAclUnknown(Result):
    """The stage's web ACL could not be read (no WAF access, say)."""

    error: str


@dataclass(frozen=True, kw_only=True)
class Status(Result):
    """`petgate status`: the stage asked about (deployed: whether it exists) and every stage."""

    api_id: str
    api_name: str
    stage: str
    deployed: bool
    invoke_url: str
    endpoint_types: list[str]  # REGIONAL, EDGE or PRIVATE (GetRestApi's endpointConfiguration)
    private: bool  # reachable only through VPC endpoints
    methods: list[MethodAuthorization]  # every method and its authorizationType (AWS_IAM, NONE, ...)
    stages: list[StageStatus]
    policy: policies.Policy | None
    policy_in_words: list[str]
    blocked: list[str]
    expiring: list[Expiring]
    access_denied: AccessDenied
    web_acl: WebAcl | WebAclUnknown | None  # None: none, or the stage is not deployed
    policy_changed_since_deploy: bool | None
    access_denied_changed_since_deploy: bool | None


def status(app: Services, api_ref: str, stage: str) -> Status:
    """Everything `petgate status` says about the API and the stage; nothing is written.

    The calls, in order: the API (resolved, then GetRestApi), its resources with their methods,
    its ACCESS_DENIED response, its deployments, its stages, each stage's export, and the web
    ACL of the stage asked about if that stage exists."""
    gateway = app.gateway
    api = apis.resolve_api(gateway, api_ref)
    api_doc = gateway.get_api(api.id)
    policy = gateway.get_policy(api.id, api_doc)
    methods = [m.shown() for m in authorization_types.read_methods(gateway, api.id)]
    endpoint_types = [str(t) for t in (api_doc.get("endpointConfiguration") or {}).get("types") or []]
    denied = gateway.get_gateway_response(api.id, ACCESS_DENIED) or {}
    deployments = {d["id"]: d for d in gateway.get_deployments(api.id)}
    stages = []
    for item in sorted(gateway.get_stages(api.id), key=lambda s: s["stageName"]):
        name = item["stageName"]
        deployment = deployments.get(item.get("deploymentId", ""), {})
        stages.append(StageStatus(
            stage=name,
            deployment_id=item.get("deploymentId"),
            deployed_at=deployment.get("createdDate"),
            invoke_url=app.target.invoke_url(api.id, name),
            undeployed=undeployed_changes(app, api.id, name, policy, denied),
        ))
    selected = next((s for s in stages if s.stage == stage), None)
    return Status(
        api_id=api.id,
        api_name=api.name,
        stage=stage,
        deployed=selected is not None,
        invoke_url=app.target.invoke_url(api.id, stage),
        endpoint_types=endpoint_types,
        private="PRIVATE" in endpoint_types,
        methods=methods,
        stages=stages,
        policy=policy,
        policy_in_words=policies.describe(policy),
        blocked=policies.blocked_cidrs(policy),
        expiring=policy_changes.expiring(policy, expiry.now(app.clock)),
        access_denied=AccessDenied(
            custom=not denied.get("defaultResponse", True),
            status_code=denied.get("statusCode"),
            templates=denied.get("responseTemplates") or {},
        ),
        web_acl=web_acl(app, api.id, stage) if selected else None,
        policy_changed_since_deploy=selected.undeployed.policy_changed_since_deploy if selected else None,
        access_denied_changed_since_deploy=selected.undeployed.access_denied_changed_since_deploy if selected else None,
    )


def web_acl(app: Services, api_id: str, stage: str) -> WebAcl | WebAclUnknown | None:
    """The stage's web ACL (WAF), if any; unknown (no WAF access, say) is said as an error."""
    from petgate.waf import stage_arn

    try:
        acl = app.waf.web_acl_for(stage_arn(app.target.resolved_region(), api_id, stage))
    except PetgateError as exc:
        return WebAclUnknown(error=exc.message)
    return WebAcl(name=acl.get("Name"), arn=acl.get("ARN")) if acl else None


def undeployed_changes(
    app: Services, api_id: str, stage: str, policy: policies.Policy | None, denied: dict[str, Any]
) -> Undeployed:
    """Compare the stage's deployed definition (GetExport) with the API as it is now: the policy,
    and the ACCESS_DENIED templates (AWS's default counts as none). None: the export cannot be read."""
    try:
        exported = app.gateway.get_stage_export(api_id, stage)
    except AwsError:
        return Undeployed(policy_changed_since_deploy=None, access_denied_changed_since_deploy=None)
    deployed_policy = exported_policy(exported)
    deployed_denied = (exported.get("x-amazon-apigateway-gateway-responses") or {}).get(ACCESS_DENIED) or {}
    current_templates = {} if denied.get("defaultResponse", True) else denied.get("responseTemplates") or {}
    return Undeployed(
        policy_changed_since_deploy=(deployed_policy or None) != (policy or None),
        access_denied_changed_since_deploy=(deployed_denied.get("responseTemplates") or {}) != current_templates,
    )
