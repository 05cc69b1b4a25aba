"""The one class that makes every boto3 `apigatewayv2` call petgate uses: HTTP APIs, read only
(audit lists them with their routes and stages).

Errors are translated as gateway.py translates API Gateway's (`gateway.aws_errors`), so commands
never see boto3. The list calls page with `MaxResults` and `NextToken` (botocore's model: both
strings); AWS's API reference states no maximum for `MaxResults`, so petgate asks for a page of
PAGE_SIZE, a size other SDK users page by, and follows `NextToken` until there is none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from petgate.gateway import aws_errors

PAGE_SIZE: Final = "100"
HTTP: Final = "HTTP"
NO_AUTHORIZATION: Final = "NONE"  # a route's authorizationType when nothing authorizes its callers


@dataclass(frozen=True)
class Route:
    """One route of an HTTP API: its key (`GET /pets`, `$default`) and who may call it
    (authorizationType NONE, AWS_IAM, JWT or CUSTOM, a Lambda authorizer)."""

    route_id: str
    route_key: str
    authorization_type: str


class HttpApis:
    def __init__(self, client: Any) -> None:
        self.client = client

    def register(self, event: str, handler: Callable[..., Any]) -> None:
        """Hook the client (-v logging, call counting)."""
        self.client.meta.events.register(event, handler)

    def _pages(self, what: str, operation: str, **kwargs: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        token = None
        while True:
            with aws_errors(what):
                page = getattr(self.client, operation)(MaxResults=PAGE_SIZE, **kwargs, **({"NextToken": token} if token else {}))
            items += [dict(item) for item in page.get("Items", [])]
            token = page.get("NextToken")
            if not token or not page.get("Items"):
                return items

    def list_apis(self) -> list[dict[str, Any]]:
        """Every API apigatewayv2 holds in the region: HTTP and WebSocket (its `ProtocolType`)."""
        return self._pages("listing HTTP APIs", "get_apis")

    def get_routes(self, api_id: str) -> list[Route]:
        """The API's routes; a route that names no authorizationType is NONE (AWS's default)."""
        return [Route(str(item.get("RouteId", "")), str(item.get("RouteKey", "")),
                      str(item.get("AuthorizationType") or NO_AUTHORIZATION))
                for item in self._pages(f"listing the routes of HTTP API {api_id}", "get_routes", ApiId=api_id)]

    def get_stages(self, api_id: str) -> list[dict[str, Any]]:
        return self._pages(f"listing the stages of HTTP API {api_id}", "get_stages", ApiId=api_id)
