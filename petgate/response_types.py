"""Gateway responses as API Gateway picks one for an error: the types, their default status
codes and templates, and DEFAULT_4XX/5XX inheritance (Developer Guide,
"supported-gateway-response-types": a type "If the response type is unspecified, ... defaults
to the DEFAULT_4XX type"; LocalStack's recorded answers, cited in local/gateway_responses.py).

Pure: the local gateway (local/gateway_responses.py, local/dataplane.py) and `explain`
(ops/explain_answer.py) share it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

DOCUMENTED_TEMPLATE = '{"message":$context.error.messageString}'
# What AWS really sends for a resource-policy refusal: note the capital M.
ACCESS_DENIED_BODY_TEMPLATE = '{"Message":$context.error.messageString}'

DEFAULT_STATUS: dict[str, str | None] = {
    "ACCESS_DENIED": "403",
    "API_CONFIGURATION_ERROR": "500",
    "AUTHORIZER_CONFIGURATION_ERROR": "500",
    "AUTHORIZER_FAILURE": "500",
    "BAD_REQUEST_PARAMETERS": "400",
    "BAD_REQUEST_BODY": "400",
    "DEFAULT_4XX": None,
    "DEFAULT_5XX": None,
    "EXPIRED_TOKEN": "403",
    "INTEGRATION_FAILURE": "504",
    "INTEGRATION_TIMEOUT": "504",
    "INVALID_API_KEY": "403",
    "INVALID_SIGNATURE": "403",
    "MISSING_AUTHENTICATION_TOKEN": "403",
    "QUOTA_EXCEEDED": "429",
    "REQUEST_TOO_LARGE": "413",
    "RESOURCE_NOT_FOUND": "404",
    "THROTTLED": "429",
    "UNAUTHORIZED": "401",
    "UNSUPPORTED_MEDIA_TYPE": "415",
    "WAF_FILTERED": "403",
}
RESPONSE_TYPES = tuple(DEFAULT_STATUS)


@dataclass(frozen=True)
class Selected:
    status: int
    templates: dict[str, str]
    parameters: dict[str, str]


def select(response_type: str, customised: dict[str, dict[str, Any]]) -> Selected:
    """The response that answers an error of this type, given the customised ones."""
    fallback_type = "DEFAULT_5XX" if (DEFAULT_STATUS[response_type] or "4").startswith("5") else "DEFAULT_4XX"
    own = customised.get(response_type)
    fallback = customised.get(fallback_type)
    chosen = own or fallback
    status = (
        (own or {}).get("statusCode")
        or (fallback or {}).get("statusCode")
        or DEFAULT_STATUS[response_type]
        or ("500" if fallback_type == "DEFAULT_5XX" else "400")
    )
    if chosen is None:
        template = ACCESS_DENIED_BODY_TEMPLATE if response_type == "ACCESS_DENIED" else DOCUMENTED_TEMPLATE
        return Selected(int(status), {"application/json": template}, {})
    return Selected(
        int(status),
        dict(chosen.get("responseTemplates") or {}),
        dict(chosen.get("responseParameters") or {}),
    )


def pick_template(templates: Mapping[str, Any], accept: str) -> tuple[str, Any]:
    """The template for the Accept (or Content-Type) header, else application/json's, else the
    first: ("", None) when there is none."""
    if not templates:
        return "", None
    for wanted in [a.split(";")[0].strip() for a in accept.split(",") if a.strip()] + ["application/json"]:
        if wanted in templates:
            return wanted, templates[wanted]
    first = next(iter(templates))
    return first, templates[first]


def masked_arn(region: str, account: str, api_id: str, stage: str, method: str, path: str) -> str:
    """The resource ACCESS_DENIED names: the account masked but its last 4 digits."""
    return f"arn:aws:execute-api:{region}:********{account[-4:]}:{api_id}/{stage}/{method}/{path.lstrip('/')}"
