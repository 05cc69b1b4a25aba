"""`petgate local --latency MS`: every control-plane call (API Gateway, wafv2) waits MS before
it is answered; the data plane and /_petgate/* never do. The sleep is injected: no real waiting."""

from __future__ import annotations

import io
import sys
from typing import Any

from petgate.local.server import LocalGateway


def call(app: LocalGateway, method: str, path: str, body: bytes = b"", **headers: str) -> int:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": "", "wsgi.input": io.BytesIO(body),
        "CONTENT_LENGTH": str(len(body)), "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "4599", "wsgi.url_scheme": "http",
        "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1", "REMOTE_PORT": "1", "wsgi.errors": sys.stderr,
        **{f"HTTP_{name.upper()}": value for name, value in headers.items()},
    }
    started: list[int] = []
    b"".join(app(environ, lambda status, _headers: started.append(int(status.split()[0]))))
    return started[0]


def test_each_control_plane_call_waits_and_nothing_else_does() -> None:
    slept: list[float] = []
    app = LocalGateway(latency_ms=250, sleep=slept.append)
    assert call(app, "GET", "/restapis") == 200
    assert call(app, "POST", "/restapis", b'{"name": "slow"}') == 201
    assert call(app, "POST", "/restapis", b"{{{") == 400  # refused calls cost the same: AWS answers them too
    waf = {"x_amz_target": "AWSWAF_20190729.ListIPSets", "content_type": "application/x-amz-json-1.1"}
    assert call(app, "POST", "/", b'{"Scope": "REGIONAL"}', **waf) == 200
    assert slept == [0.25] * 4
    assert call(app, "GET", "/_petgate/health") == 200
    assert call(app, "GET", "/_petgate/checkip") == 200
    assert call(app, "GET", "/restapis/nosuch/test/_user_request_/pets") >= 400  # the data plane
    assert slept == [0.25] * 4


def test_no_latency_by_default() -> None:
    slept: list[float] = []
    app = LocalGateway(sleep=slept.append)
    assert call(app, "GET", "/restapis") == 200 and slept == []
