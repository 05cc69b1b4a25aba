"""Server-side pagination of API Gateway's list calls (`limit`, `position`), as AWS pages them:
every GET whose botocore input has `limit` and `position` and whose output lists `items` (the
wire's `item`). Default 25, maximum 500 (the API reference's `limit`: "The maximum number of
returned results per page. The default value is 25 and the maximum value is 500."); `position`
is an opaque token, present only when another page follows. moto returns everything at once:
its list is cut here, after it answers. wafv2's List* calls (`Limit`, `NextMarker`), which moto
pages itself, are checked at the end of this module."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from petgate.local.errors import ApiError

DEFAULT, MAXIMUM = 25, 500
Response = tuple[int, dict[str, str], bytes]


def paged(operation: Any) -> bool:
    members = operation.input_shape.members if operation.input_shape is not None else {}
    output = operation.output_shape.members if operation.output_shape is not None else {}
    return "limit" in members and "position" in members and "items" in output


def window(query: dict[str, list[str]]) -> tuple[int, int]:
    """(offset, limit) the request asks for; AWS's BadRequestException for a bad one."""
    raw = query.get("limit", [""])[0]
    limit = DEFAULT
    if raw:
        if not raw.lstrip("-").isdigit() or not 1 <= int(raw) <= MAXIMUM:
            raise ApiError("BadRequestException", f"Invalid limit {raw!r}: the limit must be from 1 to {MAXIMUM}")
        limit = int(raw)
    token = query.get("position", [""])[0]
    if not token:
        return 0, limit
    try:
        offset = json.loads(base64.urlsafe_b64decode(token.encode() + b"=" * (-len(token) % 4)))["o"]
        if not isinstance(offset, int) or offset < 0:
            raise ValueError(offset)
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise ApiError("BadRequestException", "Invalid position parameter") from None
    return offset, limit


def cut(response: Response, offset: int, limit: int) -> Response:
    status, headers, body = response
    if status != 200:
        return response
    try:
        shown = json.loads(body)
    except ValueError:
        return response
    if not isinstance(shown, dict) or not isinstance(shown.get("item"), list):
        return response
    items = shown["item"]
    shown = {k: v for k, v in shown.items() if k != "position"}
    shown["item"] = items[offset:offset + limit]
    if offset + limit < len(items):
        shown["position"] = base64.urlsafe_b64encode(json.dumps({"o": offset + limit}).encode()).decode().rstrip("=")
    return status, headers, json.dumps(shown).encode()


# --- wafv2 ---------------------------------------------------------------------------------------
#
# wafv2's List* calls (JSON 1.1) page with `Limit` and `NextMarker`. moto already pages them on
# the server (moto.wafv2.models.PAGINATION_MODEL: ListIPSets, ListWebACLs, ListRuleGroups,
# ListRegexPatternSets, ListLoggingConfigurations, ListTagsForResource; `limit_default` 100), so
# its pages and its opaque markers are kept. What differs from AWS is fixed around it: a Limit
# outside the API reference's "Valid Range: Minimum value of 1. Maximum value of 100." is refused
# before moto sees it (moto reads 0 as its default and pages by any larger number), a marker moto
# cannot read is WAFInvalidParameterException rather than moto's own `InvalidToken`. (moto's last
# page says `"NextMarker": null`; replies.finish leaves nulls out of every control-plane reply.)

WAF_MAXIMUM = 100


def waf_paged(operation: Any) -> bool:
    members = operation.input_shape.members if operation.input_shape is not None else {}
    return "Limit" in members and "NextMarker" in members


def waf_check_limit(request: dict[str, Any]) -> None:
    """AWS's WAFInvalidParameterException for a Limit outside 1 to 100 (its type is checked
    before, with the rest of the input shape)."""
    limit = request.get("Limit")
    if isinstance(limit, int) and not 1 <= limit <= WAF_MAXIMUM:
        raise ApiError("WAFInvalidParameterException",
                       f"Error reason: The parameter contains formatting that is not valid: Limit must be from 1 "
                       f"to {WAF_MAXIMUM}., parameter: {limit}")


def waf_answer(response: Response) -> Response:
    """moto's page, but an unreadable marker is a bad parameter, as for AWS."""
    status, headers, body = response
    try:
        shown = json.loads(body)
    except ValueError:
        return response
    if status == 400 and isinstance(shown, dict) and shown.get("__type") == "InvalidToken":
        return ApiError("WAFInvalidParameterException",
                        "Error reason: The parameter contains formatting that is not valid: the NextMarker is not "
                        "one this list returned., parameter: NextMarker").json11_response()
    return response
