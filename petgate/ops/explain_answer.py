"""The answer API Gateway sends when `explain`'s walk ends: a refusal rendered from the stage's
deployed gateway responses (their VTL templates over `$context` and the error, their headers), as
local/dataplane.py renders them, or the integration's answer when every layer lets the call through.
Pure; ops/explain_layers.py calls it at the layer that decides."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from petgate import response_types, vtl
from petgate.ops.explain_model import Asked, Outcome, Served
from petgate.ops.explain_routes import Route
from petgate.response_types import pick_template

FORBIDDEN_BODY = '{"message":"Forbidden"}'
# x-amzn-ErrorType of each gateway response type an access refusal uses (local/dataplane.py's;
# API Gateway marks a policy refusal AccessDeniedException, an unsigned or unrouted call
# MissingAuthenticationTokenException, WAF's and an API key's 403 ForbiddenException: AWS
# knowledge center "api-gateway-troubleshoot-403-forbidden")
ERROR_TYPES = {
    "ACCESS_DENIED": "AccessDeniedException",
    "MISSING_AUTHENTICATION_TOKEN": "MissingAuthenticationTokenException",
    "WAF_FILTERED": "ForbiddenException",
    "INVALID_API_KEY": "ForbiddenException",
}
# the ACCESS_DENIED message's ending for each refusal (local/dataplane.py's _DENIED_ENDINGS: the
# resource policy's explicit deny; the identity side in IAM's wording, knowledge center
# "api-gateway-iam-sigv4-mismatch", IAM User Guide "troubleshoot_access-denied")
DENIED_ENDINGS = {
    "explicit-deny": " with an explicit deny",
    "implicit-deny": "",
    "iam-explicit-deny": " with an explicit deny in an identity-based policy",
    "iam-implicit-deny": " because no identity-based policy allows the execute-api:Invoke action",
}


def forbidden(reason: str) -> Outcome:
    """API Gateway's plain 403 (no stage, a PRIVATE API from outside, an endpoint to a public API)."""
    return Outcome(known=True, allowed=False, reason=reason, status=403, error_type="ForbiddenException",
                   body=FORBIDDEN_BODY, headers={"Content-Type": "application/json"})


def access_denied(served: Served, asked: Asked, context: dict[str, Any], who: str, decision: str, reason: str) -> Outcome:
    message = (f"User: {who} is not authorized to perform: execute-api:Invoke on resource: "
               f"{masked_arn(served, asked)}{DENIED_ENDINGS.get(decision, '')}")
    return gateway_response(served, asked, context, "ACCESS_DENIED", message, reason)


def gateway_response(served: Served, asked: Asked, context: dict[str, Any], response_type: str, message: str,
              reason: str) -> Outcome:
    """The stage's gateway response for the type, as local/dataplane.py's gateway_response
    renders it: the deployed response, or DEFAULT_4XX's, or the type's default."""
    customised = served.export.get("x-amazon-apigateway-gateway-responses") or {}
    selected = response_types.select(response_type, dict(customised))
    error = {"message": message, "messageString": json.dumps(message), "responseType": response_type,
             "validationErrorString": ""}
    content_type, template = pick_template(selected.templates, asked.headers.get("accept", ""))
    body = vtl.render(template, {**context, "error": error}, stage_variables=dict(served.stage_variables)) if template else ""
    headers = {"Content-Type": content_type or "application/json"}
    for target, expression in selected.parameters.items():
        if target.startswith("gatewayresponse.header."):
            value = _header_value(str(expression), context, asked, served)
            if value is not None:
                headers[target[len("gatewayresponse.header."):]] = value
    error_type = ERROR_TYPES.get(response_type)
    if error_type is not None:
        headers["x-amzn-ErrorType"] = error_type
    return Outcome(known=True, allowed=False, reason=reason, status=selected.status, error_type=error_type, body=body,
                   response_type=response_type, headers=headers)


def integration_answer(served: Served, asked: Asked, context: dict[str, Any], route: Route) -> Outcome:
    """Through every layer: the integration answers. A MOCK integration's status is known from
    its request template and integration responses (local/dataplane.py's _mock_status); an HTTP
    backend's is its own."""
    integration = route.operation.get("x-amazon-apigateway-integration")
    if not isinstance(integration, Mapping):
        # no integration in the export: API_CONFIGURATION_ERROR (the local gateway's answer)
        rendered = gateway_response(served, asked, context, "API_CONFIGURATION_ERROR", "Internal server error", "other")
        return replace(rendered, allowed=True, reason="allowed")
    status: int | None = None
    if str(integration.get("type", "")).lower() == "mock":
        status = _mock_status(integration, context)
    return Outcome(known=True, allowed=True, reason="allowed", status=status, error_type=None, body=None)


def _mock_status(integration: Mapping[str, Any], context: dict[str, Any]) -> int | None:
    templates = integration.get("requestTemplates") or {}
    _, template = pick_template(dict(templates), "")
    requested = 200
    if template:
        try:
            requested = int(json.loads(vtl.render(template, context)).get("statusCode", 200))
        except (ValueError, AttributeError, TypeError):
            requested = 200
    default = None
    for pattern, response in (integration.get("responses") or {}).items():
        code = str((response or {}).get("statusCode", ""))
        if pattern == "default":
            default = default or code
        elif re.fullmatch(str(pattern), str(requested)):
            return int(code) if code.isdigit() else None
    return int(default) if default and default.isdigit() else None


def masked_arn(served: Served, asked: Asked) -> str:
    """The resource in AWS's ACCESS_DENIED message: the account masked but its last 4 digits."""
    return response_types.masked_arn(served.region, served.account, served.api_id, served.stage, asked.method, asked.path)


def _header_value(expression: str, context: dict[str, Any], asked: Asked, served: Served) -> str | None:
    if len(expression) >= 2 and expression.startswith("'") and expression.endswith("'"):
        return expression[1:-1]
    if expression.startswith("method.request.header."):
        return asked.headers.get(expression[len("method.request.header."):].lower())
    if expression.startswith("stageVariables."):
        return served.stage_variables.get(expression[len("stageVariables."):])
    if expression.startswith("context."):
        value: Any = context
        for part in expression[len("context."):].split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return None if value is None else str(value)
    return None


def gateway_context(served: Served, asked: Asked) -> dict[str, Any]:
    """`$context` as a gateway response sees it (local/dataplane.py's Call.context); the request
    ids are placeholders: each real answer has its own."""
    caller = asked.caller
    host = asked.headers.get("host", "")
    return {
        "accountId": served.account, "apiId": served.api_id, "domainName": host,
        "domainPrefix": host.split(".")[0] if host else "", "extendedRequestId": "(extended request id)",
        "httpMethod": asked.method, "path": f"/{served.stage}{asked.path}", "protocol": "HTTP/1.1",
        "requestId": "(request id)", "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(asked.now)),
        "requestTimeEpoch": int(asked.now * 1000), "resourceId": "", "resourcePath": "", "stage": served.stage,
        "identity": {"sourceIp": asked.source_ip, "userAgent": asked.headers.get("user-agent", ""),
                     "accountId": caller.account or "", "accessKey": caller.access_key or "", "apiKey": "",
                     "apiKeyId": "", "caller": caller.user_id or "", "user": caller.user_id or "",
                     "userArn": caller.arn or ""},
    }
