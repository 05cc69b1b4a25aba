"""petgate audit: every REST API and HTTP API of one region or several read (nothing written)
and checked for open doors and leaks; the checks themselves are `ops/audit_checks.py` (pure).

Each region is read through Services of its own (`Services.for_region`: its own clients, built
for that region), so no call of one region goes to another's endpoint or backend.

The calls, per REST API: GetResources (methods embedded, a page per 500 resources),
GetGatewayResponse for ACCESS_DENIED and DEFAULT_4XX, GetStages, and for each stage (at most
MAX_STAGES) GetExport and WAF's GetWebACLForResource: at most `CALL_BOUND` calls an API (plus a
page per further 500 resources), counted as botocore sends them (before-call; throttled retries
are the gateway client's, waiting as AWS's quota says). The APIs themselves: GetRestApis, 500 a
page (their policy and endpoint configuration come with it).

Per HTTP API (apigatewayv2 GetApis, 100 a page, lists HTTP and WebSocket APIs; WebSocket ones
are counted, not audited): GetRoutes and GetStages, `HTTP_CALL_BOUND` calls (plus a page per
further 100 routes or stages), counted the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Final

from petgate.errors import AwsError, NetworkError, PetgateError, UsageError
from petgate.gateway import decode_policy
from petgate.http_apis import HTTP
from petgate.ops.audit_checks import (
    ACCESS_DENIED,
    DEFAULT_4XX,
    SEVERITIES,
    ApiInfo,
    Finding,
    HttpApiInfo,
    MethodInfo,
    StageInfo,
    at_or_above,
    check,
    check_http_api,
)
from petgate.ops.authorization_types import read_methods
from petgate.ops.results import Result
from petgate.ops.services import Services
from petgate.waf import stage_arn

MAX_STAGES: Final = 10
CALL_BOUND: Final = 4 + 2 * MAX_STAGES
HTTP_CALL_BOUND: Final = 2

__all__ = ["CALL_BOUND", "HTTP_CALL_BOUND", "MAX_STAGES", "ApiAudited", "AuditReport", "Finding", "RegionAudited",
           "audit", "region_failure"]


@dataclass(frozen=True, kw_only=True)
class ApiAudited(Result):
    region: str
    api_id: str
    api_name: str
    calls: int  # control-plane calls made for this API (the list calls not counted)
    stages: list[str]  # the stages read
    stages_not_read: list[str]  # past MAX_STAGES (REST APIs only)
    error: str | None  # why the API could not be read in full (its findings are then partial)


@dataclass(frozen=True, kw_only=True)
class RegionAudited(Result):
    region: str
    rest_apis: int
    http_apis: int
    websocket_apis: int  # apigatewayv2 lists them too; not audited
    calls: int  # every control-plane call made in this region, the list calls included
    error: dict[str, str | None] | None  # a list call that failed: code, message, hint (its APIs are left out)


@dataclass(frozen=True, kw_only=True)
class AuditReport(Result):
    region: str  # the first region audited (the only one without --region)
    regions: list[RegionAudited]
    fail_on: str
    failed: bool  # a finding at or above fail_on
    apis: list[ApiAudited]  # REST APIs, region by region
    http_apis: list[ApiAudited]  # HTTP APIs (apigatewayv2), region by region
    findings: list[Finding]
    counts: dict[str, int]  # findings by severity


class _Counter:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, **_: Any) -> None:
        self.calls += 1


def audit(app: Services, fail_on: str = "high", regions: Sequence[str] = ()) -> AuditReport:
    """Read every REST API and HTTP API of each region (default: the App's) and check them;
    nothing is written. A region whose list call fails is reported with its error (see
    region_failure) and the others are still read."""
    wanted = list(dict.fromkeys(regions))
    in_regions = [app.for_region(region) for region in wanted] if wanted else [app]
    for services in in_regions:  # a name that is no region is refused before any call
        services.target.resolved_region()
    read_regions: list[RegionAudited] = []
    audited: list[ApiAudited] = []
    http_audited: list[ApiAudited] = []
    findings: list[Finding] = []
    for services in in_regions:
        region_read, rest, http, found = _audit_region(services)
        read_regions.append(region_read)
        audited += rest
        http_audited += http
        findings += found
    counts = {severity: sum(1 for f in findings if f.severity == severity) for severity in SEVERITIES}
    return AuditReport(
        region=read_regions[0].region, regions=read_regions, fail_on=fail_on,
        failed=any(at_or_above(f.severity, fail_on) for f in findings),
        apis=audited, http_apis=http_audited, findings=findings, counts=counts,
    )


def region_failure(report: AuditReport) -> PetgateError | None:
    """The error a run ends with, after its report, when a region's list call failed: the first
    such region's, with the exit code its kind has (errors.py)."""
    failed = next((r.error for r in report.regions if r.error), None)
    if failed is None:
        return None
    code, message, hint = str(failed.get("code") or ""), str(failed.get("message") or ""), failed.get("hint")
    if code == "NetworkError":
        return NetworkError(message, hint)
    if code == "UsageError":
        return UsageError(message, hint)
    return AwsError(message, hint, code)


def _audit_region(app: Services) -> tuple[RegionAudited, list[ApiAudited], list[ApiAudited], list[Finding]]:
    region = app.target.resolved_region()
    counter = _Counter()
    app.gateway.register("before-call.api-gateway", counter)
    app.waf.client.meta.events.register("before-call.wafv2", counter)
    app.http_apis.register("before-call.apigatewayv2", counter)
    error: dict[str, str | None] | None = None
    audited: list[ApiAudited] = []
    findings: list[Finding] = []
    try:
        rest_items = sorted(app.gateway.list_apis(), key=lambda a: (str(a.get("name", "")), str(a["id"])))
    except PetgateError as exc:
        rest_items, error = [], _error(exc)
    for item in rest_items:
        before = counter.calls
        info, stages_not_read, failure = _read(app, region, item)
        findings += check(info)
        audited.append(ApiAudited(region=region, api_id=info.api_id, api_name=info.name, calls=counter.calls - before,
                                  stages=[s.name for s in info.stages], stages_not_read=stages_not_read, error=failure))
    http_audited: list[ApiAudited] = []
    websockets = 0
    try:
        v2_items = sorted(app.http_apis.list_apis(), key=lambda a: (str(a.get("Name", "")), str(a.get("ApiId", ""))))
    except PetgateError as exc:
        v2_items, error = [], error or _error(exc)
    for item in v2_items:
        if item.get("ProtocolType") != HTTP:
            websockets += 1
            continue
        before = counter.calls
        http_info, failure = _read_http(app, region, item)
        findings += check_http_api(http_info)
        http_audited.append(ApiAudited(region=region, api_id=http_info.api_id, api_name=http_info.name,
                                       calls=counter.calls - before, stages=list(http_info.stages), stages_not_read=[],
                                       error=failure))
    region_read = RegionAudited(region=region, rest_apis=len(audited), http_apis=len(http_audited),
                                websocket_apis=websockets, calls=counter.calls, error=error)
    return region_read, audited, http_audited, findings


def _error(exc: PetgateError) -> dict[str, str | None]:
    return {"code": exc.error_code, "message": exc.message, "hint": exc.hint}


def _read_http(app: Services, region: str, item: dict[str, Any]) -> tuple[HttpApiInfo, str | None]:
    """What the HTTP-API check needs: the routes (with their authorizationType) and the stages."""
    info = HttpApiInfo(api_id=str(item.get("ApiId", "")), name=str(item.get("Name", "")), region=region, routes=None)
    try:
        info = replace(info, routes=tuple(app.http_apis.get_routes(info.api_id)))
        stages = sorted(str(stage.get("StageName", "")) for stage in app.http_apis.get_stages(info.api_id))
        return replace(info, stages=tuple(stages)), None
    except PetgateError as exc:
        return info, exc.message


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
