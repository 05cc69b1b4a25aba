"""petgate audit: every REST API of the region read (nothing written) and checked for open doors
and leaks; the checks themselves are `ops/audit_checks.py` (pure).

The calls, per API: GetResources (methods embedded, a page per 500 resources), GetGatewayResponse
for ACCESS_DENIED and DEFAULT_4XX, GetStages, and for each stage (at most MAX_STAGES) GetExport and
WAF's GetWebACLForResource: at most `CALL_BOUND` calls an API (plus a page per further 500
resources), counted as botocore sends them (before-call; throttled retries are the gateway
client's, waiting as AWS's quota says). The APIs themselves: GetRestApis, 500 a page (their policy
and endpoint configuration come with it). HTTP APIs (apigatewayv2) are not audited yet.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Final

from petgate.errors import PetgateError
from petgate.gateway import decode_policy
from petgate.ops.audit_checks import (
    ACCESS_DENIED,
    DEFAULT_4XX,
    SEVERITIES,
    ApiInfo,
    Finding,
    MethodInfo,
    StageInfo,
    at_or_above,
    check,
)
from petgate.ops.authorization_types import read_methods
from petgate.ops.results import Result
from petgate.ops.services import Services
from petgate.waf import stage_arn

MAX_STAGES: Final = 10
CALL_BOUND: Final = 4 + 2 * MAX_STAGES
HTTP_APIS: Final = "not audited: the HTTP-API (apigatewayv2) branch waits for the local gateway to serve it (issue 20 item 4)"

__all__ = ["CALL_BOUND", "MAX_STAGES", "ApiAudited", "AuditReport", "Finding", "audit"]


@dataclass(frozen=True, kw_only=True)
class ApiAudited(Result):
    api_id: str
    api_name: str
    calls: int  # control-plane calls made for this API (GetRestApis not counted)
    stages: list[str]  # the stages read
    stages_not_read: list[str]  # past MAX_STAGES
    error: str | None  # why the API could not be read in full (its findings are then partial)


@dataclass(frozen=True, kw_only=True)
class AuditReport(Result):
    region: str
    fail_on: str
    failed: bool  # a finding at or above fail_on
    apis: list[ApiAudited]
    findings: list[Finding]
    counts: dict[str, int]  # findings by severity
    http_apis: str


class _Counter:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, **_: Any) -> None:
        self.calls += 1


def audit(app: Services, fail_on: str = "high") -> AuditReport:
    """Read every REST API of the region and check it; nothing is written."""
    counter = _Counter()
    app.gateway.register("before-call.api-gateway", counter)
    app.waf.client.meta.events.register("before-call.wafv2", counter)
    region = app.target.resolved_region()
    audited: list[ApiAudited] = []
    findings: list[Finding] = []
    for item in sorted(app.gateway.list_apis(), key=lambda a: (a.get("name", ""), a["id"])):
        before = counter.calls
        info, stages_not_read, error = _read(app, region, item)
        findings += check(info)
        audited.append(ApiAudited(api_id=info.api_id, api_name=info.name, calls=counter.calls - before,
                                  stages=[s.name for s in info.stages], stages_not_read=stages_not_read, error=error))
    counts = {severity: sum(1 for f in findings if f.severity == severity) for severity in SEVERITIES}
    return AuditReport(
        region=region, fail_on=fail_on, failed=any(at_or_above(f.severity, fail_on) for f in findings),
        apis=audited, findings=findings, counts=counts, http_apis=HTTP_APIS,
    )


def _read(app: Services, region: str, item: dict[str, Any]) -> tuple[ApiInfo, list[str], str | None]:
    """What the checks need of one API; an error stops the reading (the rest is left out and said)."""
    api_id = str(item["id"])
    endpoint = item.get("endpointConfiguration") or {}
    info = ApiInfo(api_id=api_id, name=str(item.get("name", "")), region=region,
                   endpoint_types=tuple(str(t) for t in endpoint.get("types") or []),
                   ip_address_type=endpoint.get("ipAddressType"), policy=None, methods=(), responses={})
    not_read: list[str] = []
    try:
        policy = decode_policy(api_id, item)
        methods = tuple(MethodInfo(m.path, m.method, m.authorization_type) for m in read_methods(app.gateway, api_id))
        responses = {ACCESS_DENIED: app.gateway.get_gateway_response(api_id, ACCESS_DENIED),
                     DEFAULT_4XX: app.gateway.get_gateway_response(api_id, DEFAULT_4XX)}
        info = replace(info, policy=policy, methods=methods, responses=responses)
        names = sorted(s["stageName"] for s in app.gateway.get_stages(api_id))
        not_read = names[MAX_STAGES:]
        stages = tuple(_read_stage(app, region, api_id, name) for name in names[:MAX_STAGES])
        return replace(info, stages=stages), not_read, None
    except PetgateError as exc:
        return info, not_read, exc.message


def _read_stage(app: Services, region: str, api_id: str, stage: str) -> StageInfo:
    try:
        exported: dict[str, Any] | None = app.gateway.get_stage_export(api_id, stage)
    except PetgateError:
        exported = None
    acl: dict[str, Any] | str | None
    try:
        acl = app.waf.web_acl_for(stage_arn(region, api_id, stage))
    except PetgateError:
        acl = "unknown"
    return StageInfo(name=stage, exported=exported, web_acl=acl)
