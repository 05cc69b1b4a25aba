"""Issue 16, "nothing lost, no crash on any input": each malformed request sent over a raw
socket to a real gateway gets one exact 4xx, and the gateway answers a good request afterwards."""

from __future__ import annotations

import json
import select
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from petgate.local import http
from petgate.local.server import LocalGateway

Address = tuple[str, int]
SIGNED = "AWS4-HMAC-SHA256 Credential=test/20260101/{region}/{service}/aws4_request, SignedHeaders=host, Signature=00"


def serve(app: http.WsgiApp, **options: float) -> tuple[http.GatewayHTTPServer, Address]:
    server = http.GatewayHTTPServer(("127.0.0.1", 0), app, **options)  # type: ignore[arg-type]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, ("127.0.0.1", server.server_port)


@pytest.fixture(scope="module")
def gateway() -> Iterator[Address]:
    """The real gateway (control plane, wafv2, data plane) on a free loopback port."""
    server, address = serve(LocalGateway())
    yield address
    server.shutdown()
    server.server_close()


def exchange(address: Address, raw: bytes, timeout: float = 10) -> bytes:
    """Send everything, close our side, read until the server closes."""
    with socket.create_connection(address, timeout=timeout) as sock:
        sock.sendall(raw)
        sock.shutdown(socket.SHUT_WR)
        return b"".join(iter(lambda: sock.recv(65536), b""))


def status_of(answer: bytes) -> int:
    assert answer.startswith(b"HTTP/1.1 "), answer[:200]
    return int(answer[9:12])


def body_of(answer: bytes) -> dict[str, Any]:
    return dict(json.loads(answer.partition(b"\r\n\r\n")[2]))


def still_serving(address: Address) -> None:
    answer = exchange(address, b"GET /_petgate/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200 OK") and answer.endswith(b"ok\n"), answer


def refused(address: Address, raw: bytes, status: int) -> bytes:
    answer = exchange(address, raw)
    assert status_of(answer) == status, answer[:300]
    assert b"Connection: close" in answer.partition(b"\r\n\r\n")[0].split(b"\r\n")
    still_serving(address)
    return answer


CHUNKED = b"POST /_petgate/health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"


# --- framing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("chunks", "status"),
    [
        (b"FFFFFFFFFFFFFF\r\nabc\r\n0\r\n\r\n", 413),  # was a MemoryError: refused before reading
        (b"-5\r\nabc\r\n0\r\n\r\n", 400),  # was read(-5)
        (b"+3\r\nabc\r\n0\r\n\r\n", 400),  # int() accepts a sign
        (b" 3\r\nabc\r\n0\r\n\r\n", 400),  # and spaces
        (b"0x3\r\nabc\r\n0\r\n\r\n", 400),  # and 0x with base 16
        (b"1_0\r\n0123456789abcdef\r\n0\r\n\r\n", 400),  # and underscores
        (b"3\r\nabcXY0\r\n\r\n", 400),  # the CRLF after a chunk's data is checked
        (b"3\r\nabc0\r\n\r\n", 400),
        (b"%X\r\n" % (http.MAX_BODY + 1) + b"a" * 100, 413),  # one chunk over the body limit
        (b"3\r\nabc\r\n0\r\nBad\x00Trailer: x\r\n\r\n", 400),  # trailers are checked like headers
    ],
)
def test_chunked_bodies_are_parsed_strictly(gateway: Address, chunks: bytes, status: int) -> None:
    refused(gateway, CHUNKED + chunks, status)


def test_an_oversized_chunked_body_is_413_like_an_oversized_content_length(gateway: Address) -> None:
    whole = b"%X\r\n" % http.MAX_BODY + b"a" * http.MAX_BODY + b"\r\n"  # the limit exactly, then one byte more
    refused(gateway, CHUNKED + whole + b"1\r\nb\r\n0\r\n\r\n", 413)
    refused(gateway, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % (http.MAX_BODY + 1), 413)


def test_a_good_chunked_body_with_extensions_and_trailers_is_read(gateway: Address) -> None:
    answer = exchange(gateway, CHUNKED.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n")
                      + b"3 ;ext=1\r\nabc\r\n00002\r\nde\r\n0\r\nX-Trailer: y\r\n\r\n")
    assert status_of(answer) == 200


@pytest.mark.parametrize("coding", [b"xchunked", b"chunked, gzip", b"gzip, chunked", b"chunked, chunked", b"identity"])
def test_only_exactly_chunked_is_chunked(gateway: Address, coding: bytes) -> None:
    raw = b"POST /_petgate/health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: " + coding + b"\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
    refused(gateway, raw, 400)


def test_chunked_in_http_1_0_is_refused(gateway: Address) -> None:
    refused(gateway, b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 400)


@pytest.mark.parametrize("length", [b"1_0", b"+10", b"-1", b"1 0", b"0x10", "\u0661\u0660".encode(), b"", b"10, 11"])
def test_content_length_is_ascii_digits_only(gateway: Address, length: bytes) -> None:
    refused(gateway, b"POST /_petgate/health HTTP/1.1\r\nHost: x\r\nContent-Length: " + length + b"\r\n\r\n0123456789", 400)


def test_a_repeated_content_length_and_leading_zeros_are_one_length(gateway: Address) -> None:
    answer = exchange(gateway, b"POST /_petgate/health HTTP/1.1\r\nContent-Length: 02, 2\r\nConnection: close\r\n\r\nok")
    assert status_of(answer) == 200


# --- the request line and the headers --------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [b"http://[::1", b"http://[::1]:99999/", b"http://", b"relative/path", b"/a\x00b", b"/a\x7fb", b"*", b"ftp://h/x"],
)
def test_malformed_targets_are_400(gateway: Address, target: bytes) -> None:
    refused(gateway, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n\r\n", 400)


def test_an_absolute_form_target_is_served(gateway: Address) -> None:
    answer = exchange(gateway, b"GET http://[::1]:4599/_petgate/health HTTP/1.1\r\nConnection: close\r\n\r\n")
    assert status_of(answer) == 200


@pytest.mark.parametrize(
    "line",
    [b"GET / HTTP/2.0", b"GET / HTTP/1.1 extra", b"G3T / HTTP/1.1", b"GET / HTTP/1.1\r", b"GET  / HTTP/1.1", b"GET / http/1.1"],
)
def test_malformed_request_lines_are_400(gateway: Address, line: bytes) -> None:
    refused(gateway, line + b"\r\nHost: x\r\n\r\n", 400)


@pytest.mark.parametrize(
    "header",
    [b"X-A: a\x00b", b"X\x00A: b", b"X-A: a\x01b", b"X-A: a\x7fb", b"X-A: a\rb", b"X-A: a\x1bb",
     b"X A: b", b"X-A : b", b": b", b"(X): b", b" X-A: b"],
)
def test_control_bytes_and_bad_names_in_headers_are_400(gateway: Address, header: bytes) -> None:
    refused(gateway, b"GET /_petgate/health HTTP/1.1\r\nHost: x\r\n" + header + b"\r\n\r\n", 400)


def test_tabs_and_obs_text_in_values_are_kept(gateway: Address) -> None:
    answer = exchange(gateway, b"GET /_petgate/health HTTP/1.1\r\nX-A: a\tb \xe9\r\nConnection: close\r\n\r\n")
    assert status_of(answer) == 200


# --- the request head's deadline and the connection cap ------------------------------------------


def test_a_request_head_has_a_deadline() -> None:
    server, address = serve(LocalGateway(), head_timeout=0.3)
    try:
        with socket.create_connection(address, timeout=20) as sock:  # generous: the server closes long before
            sock.sendall(b"GET /_petgate/health HTTP/1.1\r\nHost: x\r\n")  # half a head, then nothing
            answer = b"".join(iter(lambda: sock.recv(65536), b""))
        assert status_of(answer) == 408
        still_serving(address)
    finally:
        server.shutdown()
        server.server_close()


def test_a_head_sent_a_byte_at_a_time_still_meets_the_deadline() -> None:
    """The idle timeout restarts with every byte; the head's deadline does not."""
    server, address = serve(LocalGateway(), head_timeout=0.3, idle_timeout=5)
    try:
        with socket.create_connection(address, timeout=20) as sock:
            answer = b""
            for byte in b"GET /_petgate/health HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: " + b"y" * 4000:
                if select.select([sock], [], [], 0.02)[0]:  # the server answered: stop dripping
                    break
                sock.send(bytes([byte]))  # a slow client: one byte every 20 ms, never idle for 5 s
            answer = b"".join(iter(lambda: sock.recv(65536), b""))
        assert status_of(answer) == 408
    finally:
        server.shutdown()
        server.server_close()


def test_a_connection_over_the_cap_gets_503_and_the_slot_comes_back() -> None:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    server, address = serve(app, max_connections=2)
    held = [socket.create_connection(address, timeout=10) for _ in range(2)]
    try:
        for sock in held:  # each is being served (keep-alive): both slots are taken
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            assert sock.recv(65536).startswith(b"HTTP/1.1 200")
        with socket.create_connection(address, timeout=10) as third:
            answer = b"".join(iter(lambda: third.recv(65536), b""))
        assert status_of(answer) == 503 and b"at most 2 at once" in answer and b"Connection: close" in answer
        held.pop().close()  # a slot is released once its thread sees the close
        deadline = time.monotonic() + 10
        answer = b""
        while not answer.startswith(b"HTTP/1.1 200") and time.monotonic() < deadline:  # polling: released on the server's thread
            try:
                answer = exchange(address, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            except OSError:  # a 503 and a close racing our request: try again
                answer = b""
        assert status_of(answer) == 200
    finally:
        for sock in held:
            sock.close()
        server.shutdown()
        server.server_close()


# --- the control planes ----------------------------------------------------------------------


def control(method: bytes, path: bytes, body: bytes, *headers: bytes) -> bytes:
    head = b"%s %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\nConnection: close\r\n" % (method, path, len(body))
    return head + b"".join(h + b"\r\n" for h in headers) + b"\r\n" + body


def waf(operation: bytes, body: bytes, *headers: bytes) -> bytes:
    return control(b"POST", b"/", body, b"X-Amz-Target: AWSWAF_20190729." + operation,
                   b"Content-Type: application/x-amz-json-1.1", *headers)


@pytest.mark.parametrize("body", [b"{{{{{", b"\xff\xfe{}", b"[]", b"10", b"null", b'{"name": "x"', b"[" * 100000])
def test_a_body_that_is_not_a_json_object_is_bad_request_on_api_gateway(gateway: Address, body: bytes) -> None:
    answer = refused(gateway, control(b"POST", b"/restapis", body), 400)
    assert b"x-amzn-ErrorType: BadRequestException" in answer
    assert body_of(answer)["message"].startswith("Could not parse request body into json: ")


def test_a_forwarded_operation_checks_its_body_too(gateway: Address) -> None:
    answer = refused(gateway, control(b"PATCH", b"/restapis/nope/stages/test", b"{{{"), 400)
    assert b"x-amzn-ErrorType: BadRequestException" in answer
    answer = refused(gateway, control(b"PATCH", b"/restapis/nope/stages/test", b'{"patchOperations": "all"}'), 400)
    assert "patchOperations must be a list" in body_of(answer)["message"]


def test_a_missing_required_member_is_a_validation_exception(gateway: Address) -> None:
    answer = refused(gateway, control(b"POST", b"/restapis", b"{}"), 400)
    assert body_of(answer)["message"] == ("1 validation error detected: Value null at 'createRestApiInput.name' "
                                          "failed to satisfy constraint: Member must not be null")


@pytest.mark.parametrize("body", [b"{{{{{", b"\xff", b"[]", b'"x"'])
def test_a_body_that_is_not_a_json_object_is_a_serialization_exception_on_wafv2(gateway: Address, body: bytes) -> None:
    answer = refused(gateway, waf(b"ListIPSets", body), 400)
    assert b"Content-Type: application/x-amz-json-1.1" in answer
    assert body_of(answer)["__type"] == "SerializationException"


def test_wafv2_checks_types_required_members_and_operations(gateway: Address) -> None:
    wrong = refused(gateway, waf(b"ListIPSets", b'{"Scope": "REGIONAL", "Limit": "ten"}'), 400)
    assert body_of(wrong) == {"__type": "SerializationException", "message": "limit must be a number, not a string"}
    missing = refused(gateway, waf(b"AssociateWebACL", b"{}"), 400)
    assert body_of(missing)["__type"] == "ValidationException"
    assert "Value null at 'webACLArn' failed to satisfy constraint: Member must not be null" in body_of(missing)["message"]
    unknown = refused(gateway, waf(b"NoSuchOperation", b"{}"), 400)
    assert body_of(unknown)["__type"] == "UnknownOperationException"


@pytest.mark.parametrize(
    ("authorization", "message"),
    [
        ("AWS4-HMAC-SHA256 garbage",
         "'garbage' not a valid key=value pair (missing equal-sign) in Authorization header: 'AWS4-HMAC-SHA256 garbage'."),
        ("AWS4-HMAC-SHA256 Credential=, SignedHeaders=host, Signature=00",
         "Authorization header requires 'Credential' parameter. Authorization=AWS4-HMAC-SHA256"),
        ("AWS4-HMAC-SHA256 Credential=test/20260101",
         "Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' "
         "parameter. Authorization=AWS4-HMAC-SHA256"),
        ("AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1, SignedHeaders=host, Signature=00",
         "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, "
         "got 'test/20260101/us-east-1'"),
        ("Bearer eyJhbGciOiJIUzI1NiJ9", "Authorization header requires 'Credential' parameter. Authorization header "
         "requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization=Bearer"),
        ("AWS5-HMAC-SHA256 Credential=x", "Unsupported AWS 'algorithm': 'AWS5-HMAC-SHA256'."),
    ],
)
def test_a_malformed_authorization_header_is_an_incomplete_signature(gateway: Address, authorization: str, message: str) -> None:
    header = b"Authorization: " + authorization.encode()
    apigateway = refused(gateway, control(b"GET", b"/restapis", b"", header), 403)
    assert b"x-amzn-ErrorType: IncompleteSignatureException" in apigateway
    assert body_of(apigateway)["message"] == message
    wafv2 = refused(gateway, waf(b"ListIPSets", b'{"Scope": "REGIONAL"}', header), 400)
    assert body_of(wafv2) == {"__type": "IncompleteSignatureException", "message": message}


def test_a_scope_naming_no_region_is_an_invalid_signature(gateway: Address) -> None:
    message = "Credential should be scoped to a valid region, not 'local'."
    for raw in (control(b"GET", b"/restapis", b"", b"Authorization: " + SIGNED.format(region="local", service="apigateway").encode()),
                control(b"POST", b"/restapis", b'{"name": "x"}',
                        b"Authorization: " + SIGNED.format(region="local", service="apigateway").encode())):
        answer = refused(gateway, raw, 403)
        assert b"x-amzn-ErrorType: InvalidSignatureException" in answer and body_of(answer)["message"] == message
    answer = refused(gateway, waf(b"ListIPSets", b'{"Scope": "REGIONAL"}',
                                  b"Authorization: " + SIGNED.format(region="local", service="wafv2").encode()), 403)
    assert body_of(answer) == {"__type": "InvalidSignatureException", "message": message}


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-3", "ap-southeast-2"])
def test_a_well_formed_scope_keeps_working_in_any_region(gateway: Address, region: str) -> None:
    apigateway = exchange(gateway, control(b"GET", b"/restapis", b"",
                                           b"Authorization: " + SIGNED.format(region=region, service="apigateway").encode()))
    assert status_of(apigateway) == 200 and "item" in body_of(apigateway)
    # the order of the parts is free; moto reads the region from the first one (control.py sends it the canonical order)
    reordered = f"AWS4-HMAC-SHA256 SignedHeaders=host, Signature=00, Credential=test/20260101/{region}/wafv2/aws4_request"
    wafv2 = exchange(gateway, waf(b"ListIPSets", b'{"Scope": "REGIONAL"}', b"Authorization: " + reordered.encode()))
    assert status_of(wafv2) == 200 and body_of(wafv2)["IPSets"] == []


def test_an_operation_moto_lacks_is_501_not_500(gateway: Address) -> None:
    answer = exchange(gateway, waf(b"DescribeManagedRuleGroup", b'{"VendorName": "AWS", "Name": "AWSManagedRulesCommonRuleSet", "Scope": "REGIONAL"}'))
    assert status_of(answer) == 501 and body_of(answer)["__type"] == "NotImplemented"
    still_serving(gateway)


def test_an_id_moto_looks_up_unchecked_is_404(gateway: Address) -> None:
    created = exchange(gateway, control(b"POST", b"/restapis", b'{"name": "ids"}'))
    api_id = body_of(created)["id"]
    answer = exchange(gateway, control(b"DELETE", f"/restapis/{api_id}/resources/nosuch".encode(), b""))
    assert status_of(answer) == 404 and b"x-amzn-ErrorType: NotFoundException" in answer
    assert body_of(answer)["message"] == "Invalid Resource identifier specified"
