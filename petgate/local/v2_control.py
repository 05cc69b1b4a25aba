"""The HTTP-API control plane (apigatewayv2) on the local gateway's port: moto's apigatewayv2
server app for every `/v2/...` path. boto3's `apigatewayv2` client signs with the service name
`apigateway`, as the REST API plane's does (botocore's model: signingName "apigateway"), so
server.py tells the two apart by path, as AWS's shared endpoint `apigateway.{region}.amazonaws.com`
does. Only the control plane is served: no HTTP API answers invokes here.

Before moto sees a request, what AWS checks first (errors.py), in the rest-json shape (the
code in `x-amzn-ErrorType` and `__type`, a `message`): the Authorization header's shape and
region, an operation of botocore's apigatewayv2 model at that method and path (else 404
NotFoundException), and a body that is JSON of the operation's input shape (400
BadRequestException; ValidationException for a required member missing). Where moto still
fails, the answer is a 4xx or 501 that says so, never a 500 (control.moto_failure).

Around moto's answer, what it says otherwise than AWS's model: the success status is the
operation's `responseCode` in botocore's model (CreateApi, CreateRoute, CreateStage 201;
DeleteApi, DeleteRoute, DeleteStage 204 with no body; moto says 200 to all), DeleteApi of an id
that does not exist is 404 NotFoundException in the words moto's GetApi uses ("Invalid API
identifier specified ..."; moto deletes nothing and says 200), and the list calls whose model
takes `maxResults` and `nextToken` (GetApis, GetRoutes, GetStages, ...) are paged here (moto
returns everything at once): `maxResults` a page, `nextToken` an opaque token present only when
another page follows. AWS's API reference states neither a default nor a maximum for
`maxResults` (a string member): with none given, everything comes in one page, as moto answers;
one that is not a positive integer, or a token this gateway did not make, is 400
BadRequestException (petgate's wording: no recording of AWS's was found).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import threading
import urllib.parse
from typing import Any

from petgate.local.control import Caller, Operations, Response, _read_body, forward_to, moto_failure
from petgate.local.errors import (
    ApiError,
    check_signature,
)

PREFIX = "/v2/"
_API_ID = re.compile(r"^/v2/apis/(?P<api>[^/]+)/?$")


def _paged(operation: Any) -> bool:
    members = operation.input_shape.members if operation.input_shape is not None else {}
    output = operation.output_shape.members if operation.output_shape is not None else {}
    return "MaxResults" in members and "NextToken" in members and "Items" in output


def _window(query: dict[str, list[str]]) -> tuple[int, int | None]:
    """(offset, page size or None for all) the request asks for; BadRequestException for a bad one."""
    raw = query.get("maxResults", [""])[0]
    size: int | None = None
    if raw:
        if not raw.isdigit() or int(raw) < 1:
            raise ApiError("BadRequestException", f"Invalid maxResults {raw!r}: a positive integer is expected")
        size = int(raw)
    token = query.get("nextToken", [""])[0]
    if not token:
        return 0, size
    try:
        offset = json.loads(base64.urlsafe_b64decode(token.encode() + b"=" * (-len(token) % 4)))["o"]
        if not isinstance(offset, int) or offset < 0:
            raise ValueError(offset)
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise ApiError("BadRequestException", "Invalid nextToken parameter") from None
    return offset, size


def _page(body: bytes, offset: int, size: int | None) -> bytes:
    try:
        shown = json.loads(body)
    except ValueError:
        return body
    if not isinstance(shown, dict) or not isinstance(shown.get("items"), list):
        return body
    items = shown["items"]
    end = len(items) if size is None else offset + size
    shown = {k: v for k, v in shown.items() if k != "nextToken"}
    shown["items"] = items[offset:end]
    if end < len(items):
        shown["nextToken"] = base64.urlsafe_b64encode(json.dumps({"o": end}).encode()).decode().rstrip("=")
    return json.dumps(shown).encode()


class V2ControlPlane:
    def __init__(self, lock: threading.RLock) -> None:
        from moto.moto_server.werkzeug_app import create_backend_app

        self.moto_app = create_backend_app("apigatewayv2")
        self.lock = lock
        self._routes: Operations | None = None
        self._routes_lock = threading.Lock()

    @staticmethod
    def wants(environ: dict[str, Any]) -> bool:
        return str(environ.get("PATH_INFO", "")).startswith(PREFIX)

    @property
    def routes(self) -> Operations:
        """botocore's model, loaded at the first call rather than at start-up."""
        with self._routes_lock:
            if self._routes is None:
                self._routes = Operations("apigatewayv2")
            return self._routes

    def handle(self, environ: dict[str, Any]) -> Response:
        method = environ["REQUEST_METHOD"]
        path = str(environ.get("PATH_INFO", ""))  # decoded once already (http.py), as WSGI's is
        query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        body = _read_body(environ)
        from moto.apigatewayv2.models import apigatewayv2_backends

        try:
            environ = check_signature(environ, apigatewayv2_backends)
            operation, _ = self.routes.find(method, path, query)
            if operation is None:
                raise ApiError("NotFoundException", f"No HTTP API operation is {method} {path}")
            self.routes.check_body(operation, body)
            offset, size = _window(query) if _paged(operation) else (0, None)
        except ApiError as exc:
            return exc.response()
        with self.lock:
            try:
                if operation.name == "DeleteApi":
                    self._check_api_exists(environ, path)
                status, headers, answer = forward_to(self.moto_app, environ, body if body.strip() else b"{}")
            except ApiError as exc:
                return exc.response()
            except Exception as exc:  # moto failed on a request that passed AWS's checks
                return moto_failure(exc, operation.name, {}).response()
        if status != 200:
            return status, headers, answer
        if _paged(operation):
            answer = _page(answer, offset, size)
        status = int(operation.http.get("responseCode", 200))
        return status, headers, b"" if status == 204 else answer

    @staticmethod
    def _check_api_exists(environ: dict[str, Any], path: str) -> None:
        from moto.apigatewayv2.models import apigatewayv2_backends

        match = _API_ID.match(path)
        caller = Caller(environ)
        if match and match["api"] not in apigatewayv2_backends[caller.account_id][caller.region].apis:
            raise ApiError("NotFoundException", f"Invalid API identifier specified {match['api']}")
