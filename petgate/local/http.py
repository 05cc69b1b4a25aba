"""A small, strict HTTP/1.1 server for the local gateway's WSGI app.

Why not werkzeug's development server: on this kind of machine it tops out near 1,100
requests/s for an empty app, below the gateway's target; this one parses with plain byte
operations, keeps connections alive and writes each answer in one send. It is strict and
bounded: request line and headers are limited (414 / 431), bodies need a Content-Length or
chunked encoding and are limited (413), anything malformed gets 400 and the connection
closes, and an idle or slow client times out without holding up anyone else (a thread each).
"""

from __future__ import annotations

import io
import socket
import socketserver
import sys
import urllib.parse
from collections.abc import Callable, Iterable
from typing import Any

MAX_LINE = 8192
MAX_HEADER_BYTES = 65536
MAX_HEADERS = 100
MAX_BODY = 10 * 1024 * 1024  # API Gateway's own payload limit
IDLE_TIMEOUT_S = 30.0
REASONS = {
    100: "Continue", 200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 301: "Moved Permanently",
    302: "Found", 304: "Not Modified", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
    404: "Not Found", 405: "Method Not Allowed", 409: "Conflict", 413: "Payload Too Large",
    414: "URI Too Long", 415: "Unsupported Media Type", 429: "Too Many Requests",
    431: "Request Header Fields Too Large", 500: "Internal Server Error", 502: "Bad Gateway",
    503: "Service Unavailable", 504: "Gateway Timeout",
}
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class BadRequestError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _read_line(rfile: Any, limit: int, status: int) -> bytes:
    line: bytes = rfile.readline(limit + 1)
    if len(line) > limit:
        raise BadRequestError(status, "line too long")
    return line


def read_request(rfile: Any, wfile: Any) -> tuple[str, str, str, list[tuple[str, str]], bytes] | None:
    """(method, target, version, headers, body), or None when the client closed cleanly."""
    line = _read_line(rfile, MAX_LINE, 414)
    while line in (b"\r\n", b"\n"):  # a stray CRLF before a request is allowed
        line = _read_line(rfile, MAX_LINE, 414)
    if not line:
        return None
    parts = line.rstrip(b"\r\n").split(b" ")
    if len(parts) != 3 or not parts[2].startswith(b"HTTP/1.") or not parts[0].isalpha():
        raise BadRequestError(400, "malformed request line")
    method, target, version = (p.decode("latin-1") for p in parts)
    headers: list[tuple[str, str]] = []
    total = 0
    while True:
        header = _read_line(rfile, MAX_LINE, 431)
        total += len(header)
        if total > MAX_HEADER_BYTES or len(headers) > MAX_HEADERS:
            raise BadRequestError(431, "headers too large")
        if header in (b"\r\n", b"\n"):
            break
        if not header:
            raise BadRequestError(400, "connection closed inside the headers")
        name, colon, value = header.partition(b":")
        if not colon or not name or name != name.strip():
            raise BadRequestError(400, "malformed header")
        headers.append((name.decode("latin-1"), value.strip().decode("latin-1")))
    lowered = {name.lower(): value for name, value in headers}
    lengths = {value for name, value in headers if name.lower() == "content-length"}
    if len(lengths) > 1 or (lengths and "transfer-encoding" in lowered):
        # RFC 9112 §6.3: the framing is ambiguous (request smuggling): refuse and close
        raise BadRequestError(400, "conflicting Content-Length / Transfer-Encoding")
    if lowered.get("expect", "").lower() == "100-continue":
        wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    if "chunked" in lowered.get("transfer-encoding", "").lower():
        body = _read_chunked(rfile)
    else:
        try:
            length = int(lowered.get("content-length", "0"))
        except ValueError:
            raise BadRequestError(400, "bad Content-Length") from None
        if length < 0:
            raise BadRequestError(400, "bad Content-Length")
        if length > MAX_BODY:
            raise BadRequestError(413, "body too large")
        body = rfile.read(length) if length else b""
        if len(body) != length:
            raise BadRequestError(400, "connection closed inside the body")
    return method, target, version, headers, body


def _read_chunked(rfile: Any) -> bytes:
    body = bytearray()
    while True:
        size_line = _read_line(rfile, MAX_LINE, 400).split(b";")[0].strip()
        try:
            size = int(size_line, 16)
        except ValueError:
            raise BadRequestError(400, "bad chunk size") from None
        if size == 0:
            while _read_line(rfile, MAX_LINE, 431) not in (b"\r\n", b"\n", b""):
                pass  # trailers are ignored
            return bytes(body)
        body += rfile.read(size)
        rfile.readline(3)
        if len(body) > MAX_BODY:
            raise BadRequestError(413, "body too large")


def environ_for(
    method: str, target: str, version: str, headers: list[tuple[str, str]], body: bytes,
    client: tuple[str, int], server: tuple[str, int],
) -> dict[str, Any]:
    path, _, query = target.partition("?")
    if path.startswith(("http://", "https://")):  # absolute-form target
        path = urllib.parse.urlsplit(path).path or "/"
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method.upper(),
        "SCRIPT_NAME": "",
        "PATH_INFO": urllib.parse.unquote_to_bytes(path).decode("latin-1"),
        "QUERY_STRING": query,
        "RAW_URI": target,
        "SERVER_NAME": server[0],
        "SERVER_PORT": str(server[1]),
        "SERVER_PROTOCOL": version,
        "REMOTE_ADDR": client[0],
        "REMOTE_PORT": str(client[1]),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "CONTENT_LENGTH": str(len(body)),
    }
    for name, value in headers:
        key = name.upper().replace("-", "_")
        if key == "CONTENT_TYPE":
            environ["CONTENT_TYPE"] = value
            continue
        if key in ("CONTENT_LENGTH", "TRANSFER_ENCODING"):
            continue
        key = "HTTP_" + key
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    return environ


class _Handler(socketserver.StreamRequestHandler):
    timeout = IDLE_TIMEOUT_S
    server: GatewayHTTPServer

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def handle(self) -> None:
        try:
            while self._serve_one():
                pass
        except (OSError, TimeoutError):
            pass  # the client went away or idled out

    def _serve_one(self) -> bool:
        try:
            request = read_request(self.rfile, self.wfile)
        except BadRequestError as exc:
            self._send(exc.status, [("Content-Type", "text/plain")], f"{exc}\n".encode(), keep_alive=False)
            return False
        if request is None:
            return False
        method, target, version, headers, body = request
        connection = next((v.lower() for n, v in headers if n.lower() == "connection"), "")
        keep_alive = connection != "close" if version == "HTTP/1.1" else connection == "keep-alive"
        host, port = self.server.server_address[:2]
        environ = environ_for(method, target, version, headers, body, self.client_address[:2], (str(host), int(port)))
        status, response_headers, payload = self._call_app(environ)
        self._send(status, response_headers, b"" if method == "HEAD" else payload, keep_alive, len(payload))
        return keep_alive

    def _call_app(self, environ: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
        started: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
            started[:] = [int(status.split(" ", 1)[0]), headers]
            return lambda _data: None

        try:
            chunks = self.server.app(environ, start_response)
            payload = b"".join(chunks)
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        except Exception as exc:  # a bug in a handler must not take the gateway down
            print(f"petgate local: error serving {environ['REQUEST_METHOD']} {environ['PATH_INFO']}: {exc!r}", file=sys.stderr)
            return 500, [("Content-Type", "application/json")], b'{"message":"Internal server error"}'
        return started[0], started[1], payload

    def _send(self, status: int, headers: list[tuple[str, str]], payload: bytes, keep_alive: bool, length: int | None = None) -> None:
        lines = [f"HTTP/1.1 {status} {REASONS.get(status, 'Unknown')}"]
        lines += [f"{n}: {v}" for n, v in headers if n.lower() not in ("content-length", "connection")]
        lines.append(f"Content-Length: {len(payload) if length is None else length}")
        if not keep_alive:
            lines.append("Connection: close")
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload)


class GatewayHTTPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], app: WsgiApp) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.app = app
        super().__init__(address, _Handler)

    @property
    def server_port(self) -> int:
        return int(self.server_address[1])
