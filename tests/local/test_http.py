"""The local gateway's HTTP layer at its edges: limits, framing, keep-alive."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from petgate.local import http


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, int]]:
    import threading

    def app(environ: dict, start_response: object) -> list[bytes]:
        body = environ["wsgi.input"].read()
        answer = f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']} {environ['QUERY_STRING']} {len(body)} {body[:20]!r} {environ.get('HTTP_X_TWICE', '')}"
        start_response("200 OK", [("Content-Type", "text/plain")])  # type: ignore[operator]
        return [answer.encode()]

    instance = http.GatewayHTTPServer(("127.0.0.1", 0), app)
    threading.Thread(target=instance.serve_forever, daemon=True).start()
    yield ("127.0.0.1", instance.server_port)
    instance.shutdown()
    instance.server_close()


def exchange(address: tuple[str, int], raw: bytes) -> bytes:
    with socket.create_connection(address, timeout=5) as sock:
        sock.sendall(raw)
        sock.shutdown(socket.SHUT_WR)
        return b"".join(iter(lambda: sock.recv(65536), b""))


def test_keep_alive_serves_several_requests_on_one_connection(server: tuple[str, int]) -> None:
    answer = exchange(server, b"GET /a?x=1 HTTP/1.1\r\nHost: h\r\n\r\nGET /b%20c HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
    assert answer.count(b"HTTP/1.1 200 OK") == 2
    assert b"GET /a x=1 0" in answer and b"GET /b c  0" in answer


def test_http10_closes_unless_asked(server: tuple[str, int]) -> None:
    answer = exchange(server, b"GET / HTTP/1.0\r\n\r\nGET /never HTTP/1.0\r\n\r\n")
    assert answer.count(b"200 OK") == 1 and b"Connection: close" in answer


def test_bodies_by_length_chunked_and_100_continue(server: tuple[str, int]) -> None:
    assert b"POST /  5 b'hello'" in exchange(server, b"POST / HTTP/1.1\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello")
    chunked = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\n\r\n"
    assert b"POST /  5 b'abcde'" in exchange(server, chunked)
    answer = exchange(server, b"PUT / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
    assert answer.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK")


def test_repeated_headers_are_joined(server: tuple[str, int]) -> None:
    assert b" a,b" in exchange(server, b"GET / HTTP/1.1\r\nX-Twice: a\r\nX-Twice: b\r\nConnection: close\r\n\r\n")


def test_the_same_content_length_twice_is_one_length(server: tuple[str, int]) -> None:
    answer = exchange(server, b"POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
    assert answer.startswith(b"HTTP/1.1 200") and b"POST /  2 b'ok'" in answer


def test_head_has_no_body(server: tuple[str, int]) -> None:
    answer = exchange(server, b"HEAD /x HTTP/1.1\r\nConnection: close\r\n\r\n")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"Content-Length: " in head and body == b""


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"NOT A REQUEST\r\n\r\n", b"400"),
        (b"GET /" + b"a" * 10000 + b" HTTP/1.1\r\n\r\n", b"414"),
        (b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: y\r\n" % i for i in range(200)) + b"\r\n", b"431"),
        (b"GET / HTTP/1.1\r\nX-Big: " + b"y" * 9000 + b"\r\n\r\n", b"431"),
        (b"GET / HTTP/1.1\r\nBroken header line\r\n\r\n", b"400"),
        (b"POST / HTTP/1.1\r\nContent-Length: nope\r\n\r\n", b"400"),
        (b"POST / HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n", b"413"),
        (b"POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nshort", b"400"),
        # RFC 9112 §6.3: ambiguous framing is refused (request smuggling)
        (b"POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", b"400"),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nabc", b"400"),
        (b"POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nabcde", b"400"),
    ],
)
def test_bad_requests_get_an_error_and_a_close(server: tuple[str, int], raw: bytes, status: bytes) -> None:
    answer = exchange(server, raw)
    assert answer.startswith(b"HTTP/1.1 " + status) and b"Connection: close" in answer
    assert exchange(server, b"GET /still-up HTTP/1.1\r\nConnection: close\r\n\r\n").startswith(b"HTTP/1.1 200")
