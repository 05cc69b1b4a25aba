"""Issue 16 by property: random requests never get a 5xx, never hang the gateway, and never
stop it serving.

- the HTTP parser: request heads and bodies from HTTP's grammar (methods, targets, versions,
  headers, framing), mutated with random bytes, over a raw socket to a real gateway;
- the control planes' entry: random paths and JSON-ish bodies (from botocore's model of each
  operation's input, or any JSON, or any bytes) to API Gateway's and wafv2's operations.

Deterministic (derandomized, no example database) and bounded (max_examples, socket timeouts).
"""

from __future__ import annotations

import io
import json
import re
import socket
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from petgate.local import http
from petgate.local.server import LocalGateway

SETTINGS = settings(max_examples=200, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
# the fuzz's own region, so that what it creates stays out of other tests' way
SIGNED = "AWS4-HMAC-SHA256 Credential=fuzz/20260101/eu-north-1/{service}/aws4_request, SignedHeaders=host, Signature=00"


@pytest.fixture(scope="module")
def gateway() -> Iterator[tuple[LocalGateway, tuple[str, int]]]:
    app = LocalGateway()
    server = http.GatewayHTTPServer(("127.0.0.1", 0), app, head_timeout=2.0, idle_timeout=5.0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield app, ("127.0.0.1", server.server_port)
    server.shutdown()
    server.server_close()


# --- the HTTP parser ---------------------------------------------------------------------------

TARGETS = [b"/_petgate/health", b"/_petgate/checkip", b"/restapis", b"/restapis/nosuch/test/_user_request_/pets",
           b"/a%20b?x=1&y", b"http://127.0.0.1/_petgate/health", b"//x"] * 3 + [b"*", b"http://[::1", b""]
NAMES = [b"Host", b"Content-Length", b"Transfer-Encoding", b"Connection", b"Expect", b"Content-Type",
         b"X-Amz-Target", b"Authorization", b"X-Any"]
VALUES = [b"0", b"3", b"10", b"1_0", b"-1", b"+3", b" 3 ", b"99999999999", b"chunked", b"xchunked", b"gzip, chunked",
          b"close", b"keep-alive", b"100-continue", b"application/json", b"AWSWAF_20190729.ListIPSets",
          b"AWS4-HMAC-SHA256 garbage", b"a\x00b", b"\xff\xfe", b""]
CHUNK_SIZES = [b"0", b"3", b"ff", b"FFFFFFFFFFFFFF", b"-5", b"+3", b" 3", b"0x3", b"3;x=1", b"zz"]

def mostly(usual: st.SearchStrategy[bytes], rare: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
    """The grammar's choice nine times in ten, anything else the tenth."""
    return st.integers(0, 9).flatmap(lambda n: rare if n == 0 else usual)


methods = mostly(st.sampled_from([b"GET", b"POST", b"PUT", b"PATCH", b"DELETE", b"HEAD", b"OPTIONS"]), st.binary(max_size=8))
targets = mostly(st.sampled_from(TARGETS), st.binary(max_size=20))
versions = mostly(st.sampled_from([b"HTTP/1.1", b"HTTP/1.1", b"HTTP/1.0"]), st.sampled_from([b"HTTP/1.9", b"HTTP/2", b"http/1.1", b""]))
eols = mostly(st.just(b"\r\n"), st.sampled_from([b"\n", b"\r", b""]))
headers = st.lists(st.tuples(mostly(st.sampled_from(NAMES), st.binary(max_size=12)),
                             mostly(st.sampled_from(VALUES), st.binary(max_size=24))), max_size=6)
chunks = st.lists(st.tuples(mostly(st.sampled_from(CHUNK_SIZES), st.binary(max_size=6)), st.binary(max_size=16)), max_size=4)


@st.composite
def raw_requests(draw: st.DrawFn) -> bytes:
    head = draw(methods) + b" " + draw(targets) + b" " + draw(versions) + draw(eols)
    head += b"".join(name + b": " + value + draw(eols) for name, value in draw(headers))
    body = draw(st.binary(max_size=40))
    if draw(st.booleans()):
        body = b"".join(size + draw(eols) + data + draw(eols) for size, data in draw(chunks)) + b"0\r\n\r\n"
    raw = head + b"\r\n" + body
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 2]))):  # now and then, random bytes anywhere
        at = draw(st.integers(0, len(raw)))
        raw = raw[:at] + draw(st.binary(min_size=1, max_size=4)) + raw[at:]
    return raw


def exchange(address: tuple[str, int], raw: bytes) -> bytes:
    with socket.create_connection(address, timeout=15) as sock:  # a timeout fails the test: a hang
        try:
            sock.sendall(raw)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server answered and closed before taking it all: read its answer
        chunks: list[bytes] = []
        try:
            while data := sock.recv(65536):
                chunks.append(data)
        except ConnectionResetError:
            pass
        return b"".join(chunks)


# 501 is the gateway's answer for an operation moto lacks (a random path can name one): not the
# parser's, not the client's fault, and not retried by SDKs; any other 5xx is a failure
SERVER_ERROR = re.compile(rb"HTTP/1\.1 5(?!01)\d\d ")


@SETTINGS
@given(raw=raw_requests())
def test_the_http_parser_never_answers_5xx_and_never_hangs(gateway: Any, raw: bytes) -> None:
    _, address = gateway
    answer = exchange(address, raw)
    if raw.strip(b"\r\n"):  # only a client that sent nothing (or blank lines) is closed on without an answer
        assert answer, f"no answer to {raw!r}"
    if answer:
        assert answer.startswith(b"HTTP/1.1 "), (raw, answer[:300])
    assert not SERVER_ERROR.search(answer), (raw, answer[:300])  # the first answer, or a later one on the connection
    health = exchange(address, b"GET /_petgate/health HTTP/1.1\r\nConnection: close\r\n\r\n")
    assert health.startswith(b"HTTP/1.1 200"), health


# --- the control planes' entry --------------------------------------------------------------------


def call(app: LocalGateway, method: str, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": "", "wsgi.input": io.BytesIO(body),
        "CONTENT_LENGTH": str(len(body)), "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "4599", "wsgi.url_scheme": "http",
        "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1", "REMOTE_PORT": "1", "wsgi.errors": sys.stderr,
    }
    environ.update({"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()})
    started: list[int] = []
    payload = b"".join(app(environ, lambda status, _headers: started.append(int(status.split()[0]))))
    return started[0], payload


def models() -> tuple[Any, Any]:
    import botocore.session

    session = botocore.session.get_session()
    return session.get_service_model("apigateway"), session.get_service_model("wafv2")


APIGATEWAY, WAFV2 = models()
scalars = st.one_of(st.none(), st.booleans(), st.integers(-3, 1000), st.floats(allow_nan=False), st.text(max_size=12),
                    st.sampled_from(["", "REGIONAL", "CLOUDFRONT", "IPV4", "10.0.0.0/8", "arn:aws:wafv2:x", "/policy"]))
any_json = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                        max_leaves=12)


def shaped(draw: st.DrawFn, shape: Any, depth: int = 0) -> Any:
    """A value of roughly the shape's kind: right most of the time, anything sometimes."""
    if depth > 4 or draw(st.integers(0, 9)) == 0:
        return draw(any_json)
    kind = shape.type_name
    if kind == "structure":
        names = draw(st.lists(st.sampled_from(sorted(shape.members)), unique=True)) if shape.members else []
        return {name: shaped(draw, shape.members[name], depth + 1) for name in names}
    if kind == "list":
        return [shaped(draw, shape.member, depth + 1) for _ in range(draw(st.integers(0, 2)))]
    if kind == "map":
        return {draw(st.text(max_size=6)): shaped(draw, shape.value, depth + 1) for _ in range(draw(st.integers(0, 2)))}
    if kind == "string" and shape.enum:
        return draw(st.sampled_from(shape.enum))
    return draw(scalars)


@st.composite
def control_calls(draw: st.DrawFn) -> tuple[str, str, bytes, dict[str, str]]:
    if draw(st.booleans()):
        operation = APIGATEWAY.operation_model(draw(st.sampled_from(APIGATEWAY.operation_names)))
        path = re.sub(r"\{[^}]+\}", lambda _: draw(st.sampled_from(["nosuch", "abc", "DEFAULT_4XX", "test", "x y", "%00"])),
                      operation.http["requestUri"].split("?")[0])
        method, service, headers = operation.http["method"], "apigateway", {}
    else:
        operation = WAFV2.operation_model(draw(st.sampled_from(WAFV2.operation_names)))
        path, method, service = "/", "POST", "wafv2"
        headers = {"X-Amz-Target": f"AWSWAF_20190729.{operation.name}", "Content-Type": "application/x-amz-json-1.1"}
    body_kind = draw(st.sampled_from(["shaped", "shaped", "json", "bytes"]))
    if body_kind == "shaped" and operation.input_shape is not None:
        body = json.dumps(shaped(draw, operation.input_shape)).encode()
    elif body_kind == "bytes":
        body = draw(st.binary(max_size=40))
    else:
        body = json.dumps(draw(any_json)).encode()
    headers["Authorization"] = draw(st.sampled_from([SIGNED.format(service=service)] * 9 + [
        "AWS4-HMAC-SHA256 garbage", "AWS4-HMAC-SHA256 Credential=x/1/local/s/aws4_request, SignedHeaders=h, Signature=s", ""]))
    return method, path, body, headers


@SETTINGS
@given(request=control_calls())
def test_the_control_planes_never_answer_500(gateway: Any, request: tuple[str, str, bytes, dict[str, str]]) -> None:
    app, _ = gateway
    method, path, body, headers = request
    status, payload = call(app, method, path, body, headers)
    # 501: an operation moto lacks (not the client's fault, and not retried by SDKs either)
    assert status < 500 or status == 501, (method, path, body, status, payload[:300])
