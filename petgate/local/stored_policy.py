"""A resource policy as API Gateway stores it: validated, `execute-api:/...` expanded to the
API's full ARN, and escaped once more as GetRestApi returns it (shared by UpdateRestApi,
CreateRestApi and the importer's `x-amazon-apigateway-policy`)."""

from __future__ import annotations

import json
from typing import Any

from petgate import policy as policies
from petgate.local.errors import ApiError

INVALID_POLICY = "Invalid policy document. Please check the policy syntax and ensure that Principals are valid."


def store_policy(api: Any, text: str | None) -> None:
    """Validate a policy and store it the way GetRestApi returns it on AWS."""
    if text is None or not str(text).strip():
        api.policy = None
        return
    try:
        document = json.loads(text)
        # moto's test_create_rest_api_with_policy stores `"Statement": []` (no recording says AWS
        # refuses it); petgate's own commands refuse such a policy (it admits no one)
        if not (isinstance(document, dict) and document.get("Statement") == []):
            policies.validate(document)
    except (json.JSONDecodeError, policies.PolicyError) as exc:
        detail = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        raise ApiError("BadRequestException", f"{INVALID_POLICY} ({detail})") from None
    expanded = policies.expand_resources(document, api.region_name, api.account_id, api.id)
    api.policy = policies.escape_for_storage(expanded)
