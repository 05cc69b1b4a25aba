"""Gateway responses: the types, their defaults, how the control plane stores and shows them,
and which one answers an error.

As recorded from AWS (LocalStack's test_apigateway_api.snapshot.json, TestApiGatewayGatewayResponse):
- PutGatewayResponse replaces the whole response; what it leaves out takes the type's own
  default (status, `{}` parameters, the documented template), never DEFAULT_4XX/5XX's
  (test_gateway_response_put / put-gateway-response-status-only, -default-ignored);
- Get/GetGatewayResponses show a type nobody customised with DEFAULT_4XX/5XX's status (if it
  has one), parameters and templates, still `defaultResponse: true` (get-gateway-responses);
- UpdateGatewayResponse patches /statusCode (replace only), /responseParameters/NAME and
  /responseTemplates/TYPE; on a type never set it starts from what Get shows
  (test_update_gateway_response).
Selection for an error follows the same inheritance.
"""

from __future__ import annotations

import copy
from typing import Any

from petgate.local.errors import ApiError
from petgate.response_types import (
    ACCESS_DENIED_BODY_TEMPLATE,
    DEFAULT_STATUS,
    DOCUMENTED_TEMPLATE,
    RESPONSE_TYPES,
    Selected,
    select,
)

# the types, their defaults and which response answers an error live in petgate/response_types.py
# (pure, shared with `explain`)
__all__ = ["ACCESS_DENIED_BODY_TEMPLATE", "DEFAULT_STATUS", "DOCUMENTED_TEMPLATE", "RESPONSE_TYPES", "Selected",
           "check_type", "default_response", "patch", "put", "select", "view"]

# the order AWS lists the enum in its ValidationException (get-gateway-response-wrong-response-type)
_ENUM_ORDER = (
    "REQUEST_TOO_LARGE, RESOURCE_NOT_FOUND, AUTHORIZER_CONFIGURATION_ERROR, MISSING_AUTHENTICATION_TOKEN, "
    "BAD_REQUEST_BODY, INVALID_SIGNATURE, INVALID_API_KEY, BAD_REQUEST_PARAMETERS, AUTHORIZER_FAILURE, "
    "UNAUTHORIZED, INTEGRATION_TIMEOUT, ACCESS_DENIED, DEFAULT_4XX, DEFAULT_5XX, WAF_FILTERED, QUOTA_EXCEEDED, "
    "THROTTLED, API_CONFIGURATION_ERROR, UNSUPPORTED_MEDIA_TYPE, INTEGRATION_FAILURE, EXPIRED_TOKEN"
)
_PATCH_OPS = "[add, remove, move, test, replace, copy]"


def check_type(response_type: str) -> str:
    if response_type not in DEFAULT_STATUS:
        raise ApiError(
            "ValidationException",
            f"1 validation error detected: Value '{response_type}' at 'responseType' failed to satisfy "
            f"constraint: Member must satisfy enum value set: [{_ENUM_ORDER}]",
        )
    return response_type


def _fallback_type(response_type: str) -> str:
    return "DEFAULT_5XX" if (DEFAULT_STATUS[response_type] or "4").startswith("5") else "DEFAULT_4XX"


def put(response_type: str, status: str | None, parameters: dict[str, str] | None,
        templates: dict[str, str] | None) -> dict[str, Any]:
    """What PutGatewayResponse stores: the whole response, the type's defaults filling gaps."""
    if status is not None and not (str(status).isdigit() and len(str(status)) == 3):
        raise ApiError("BadRequestException", f"Invalid status code {status!r}.")
    response: dict[str, Any] = {
        "responseType": response_type,
        "defaultResponse": False,
        "responseParameters": dict(parameters or {}),
        "responseTemplates": dict(templates) if templates else {"application/json": DOCUMENTED_TEMPLATE},
    }
    status = status or DEFAULT_STATUS[response_type]
    if status is not None:
        response["statusCode"] = str(status)
    return response


def view(response_type: str, customised: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """What Get/GetGatewayResponses show for a type."""
    if response_type in customised:
        return copy.deepcopy(customised[response_type])
    shown = default_response(response_type)
    fallback = customised.get(_fallback_type(response_type))
    if fallback is not None and response_type not in ("DEFAULT_4XX", "DEFAULT_5XX"):
        if fallback.get("statusCode"):
            shown["statusCode"] = fallback["statusCode"]
        shown["responseParameters"] = dict(fallback.get("responseParameters") or {})
        shown["responseTemplates"] = dict(fallback.get("responseTemplates") or {})
    return shown


def patch(current: dict[str, Any], operations: list[dict[str, Any]]) -> dict[str, Any]:
    """UpdateGatewayResponse: apply the patch operations to what Get shows; AWS's errors."""
    response = copy.deepcopy(current)
    response["defaultResponse"] = False
    for index, operation in enumerate(operations, start=1):
        op, path, value = operation.get("op"), operation.get("path"), operation.get("value")
        if op not in ("add", "remove", "move", "test", "replace", "copy"):
            raise ApiError(
                "ValidationException",
                f"1 validation error detected: Value '{op}' at 'updateGatewayResponseInput.patchOperations."
                f"{index}.member.op' failed to satisfy constraint: Member must satisfy enum value set: {_PATCH_OPS}",
            )
        if path == "/statusCode" and op == "replace":
            response["statusCode"] = str(value)
            continue
        for field in ("responseParameters", "responseTemplates"):
            prefix = f"/{field}/"
            if isinstance(path, str) and path.startswith(prefix) and op in ("add", "replace", "remove"):
                key = path[len(prefix):].replace("~1", "/").replace("~0", "~")
                entries = response.setdefault(field, {})
                if op == "remove":
                    entries.pop(key, None)
                elif not value:
                    raise ApiError("BadRequestException", f"Invalid null or empty value in {field}")
                elif op == "replace" and key not in entries:
                    raise ApiError("NotFoundException", "Invalid parameter name specified")
                else:
                    entries[key] = value
                break
        else:
            raise ApiError("BadRequestException", f"Invalid patch path {path if path is not None else 'null'}")
    return response


def default_response(response_type: str) -> dict[str, Any]:
    """A type's response as GetGatewayResponse shows it when nobody customised it."""
    response: dict[str, Any] = {
        "responseType": response_type,
        "defaultResponse": True,
        "responseParameters": {},
        "responseTemplates": {"application/json": DOCUMENTED_TEMPLATE},
    }
    status = DEFAULT_STATUS[response_type]
    if status is not None:
        response["statusCode"] = status
    return response
