"""What every reply of the local gateway carries, in one place (server.py calls `finish` once
for every answer): an `x-amzn-RequestId` that is a UUID, as AWS's are, and for the control planes
AWS's content type and no `null` member.

- API Gateway (rest-json): `application/json` (moto's server says `text/html`); a member whose
  value is null is left out, as AWS's serializer leaves out what is not set (moto writes
  `"policy": null`, `"minimumCompressionSize": null`, `"description": null`, ...). An attachment
  (GetExport's `application/octet-stream`) is left as it is.
- wafv2 (JSON 1.1): `application/x-amz-json-1.1`, nulls left out the same way.
- IAM and STS (Query protocol): `text/xml`, and the body's `<RequestId>` (moto writes one of its
  own, not a UUID) is the header's: AWS's Query replies name the same id in both.
- The data plane and `/_petgate/*`: an id is added where there is none (the data plane makes
  its own, with `x-amz-apigw-id`).
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

Response = tuple[int, dict[str, str], bytes]
HEADER = "x-amzn-RequestId"
CONTENT_TYPES = {"apigateway": "application/json", "wafv2": "application/x-amz-json-1.1", "query": "text/xml"}
_REQUEST_ID = re.compile(rb"<RequestId>[^<]*</RequestId>")
_DROPPED = {"content-length", "transfer-encoding", "status", "x-amzn-requestid"}  # moto's `status` header: AWS sends none


def finish(plane: str | None, status: int, headers: dict[str, str], body: bytes) -> Response:
    """The reply as sent: `plane` is "apigateway", "wafv2" or "query" for the control planes,
    None for everything else (only the request id is added, where missing)."""
    if plane is None:
        if not any(key.lower() == HEADER.lower() for key in headers):
            headers = {**headers, HEADER: str(uuid.uuid4())}
        return status, headers, body
    request_id = str(uuid.uuid4())
    given = next((value for key, value in headers.items() if key.lower() == "content-type"), "")
    kept = {key: value for key, value in headers.items() if key.lower() not in _DROPPED and key.lower() != "content-type"}
    content_type = given
    if plane == "query":
        content_type = CONTENT_TYPES["query"]
        body = _REQUEST_ID.sub(f"<RequestId>{request_id}</RequestId>".encode(), body, count=1)
    elif plane == "wafv2" or not given or given.startswith(("text/html", "application/json")):
        parsed = _json(body)
        if parsed is not _NOT_JSON:
            content_type = CONTENT_TYPES[plane]
            if _has_null(parsed):
                body = json.dumps(_without_nulls(parsed)).encode()
    return status, {**kept, "Content-Type": content_type or CONTENT_TYPES[plane], HEADER: request_id}, body


_NOT_JSON = object()


def _json(body: bytes) -> Any:
    if not body.strip():
        return None  # an empty body (DeleteRestApi's 202 with `{}` is not empty): JSON of nothing
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return _NOT_JSON


def _has_null(value: Any) -> bool:
    if isinstance(value, dict):
        return any(item is None or (key not in _NULLS_KEPT_UNDER and _has_null(item)) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_null(item) for item in value)
    return False


# maps whose null values are data: a template put as "" or null is shown as null (API,
# TestApigatewayIntegration::test_put_integration_response_templates / -template-none, -empty)
_NULLS_KEPT_UNDER = frozenset({"responseTemplates", "requestTemplates"})


def _without_nulls(value: Any) -> Any:
    """Object members whose value is null left out, at any depth (list items are kept), but in
    a template map."""
    if isinstance(value, dict):
        return {key: item if key in _NULLS_KEPT_UNDER and isinstance(item, dict) else _without_nulls(item)
                for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_without_nulls(item) for item in value]
    return value
