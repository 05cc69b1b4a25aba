"""A small, strict HTTP/1.1 server for the local gateway's WSGI app.

Why not werkzeug's development server: on this kind of machine it tops out near 1,100
requests/s for an empty app, below the gateway's target; this one parses with plain byte
operations, keeps connections alive and writes each answer in one send.

It is strict and bounded, so that no input takes it down or gets a 5xx for the client's fault:
every malformed request gets one 4xx and the connection closes, and the gateway serves on.

- request line: at most 8 KiB (414); a method of letters, an origin-form (`/...`),
  absolute-form (`http://host/...`) or `OPTIONS *` target without control bytes, HTTP/1.x;
- headers: each line at most 8 KiB, at most 100 of them and 64 KiB in all (431); names are RFC
  9110 tokens, values hold no control byte but tab (400);
- the whole request head must arrive within `head_timeout` (10 s) of its first byte (408),
  whatever the pace of its bytes; between requests a connection may idle `idle_timeout` (30 s);
- bodies: Content-Length of ASCII digits only, or `Transfer-Encoding: chunked` exactly (hex
  chunk sizes, CRLF after each chunk's data, trailers checked and ignored); both at once, two
  different lengths, other codings, chunked in HTTP/1.0: 400 (RFC 9112 §6); at most 10 MiB of
  body (413), and a chunked body at most 20 MiB on the wire with its framing;
- at most `max_connections` (256) connections at once, a thread each; one more gets 503 and
  is closed.
"""

from __future__ import annotations

import io
import re
import socket
import socketserver
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable
from typing import Any

MAX_LINE = 8192
MAX_HEADER_BYTES = 65536
MAX_HEADERS = 100
MAX_BODY = 10 * 1024 * 1024  # API Gateway's own payload limit
MAX_CHUNKED_WIRE = 2 * MAX_BODY  # a chunked body with its framing (sizes, extensions, CRLFs)
MAX_EMPTY_LINES = 8  # stray CRLFs before a request line (RFC 9112 §2.2 allows some)
IDLE_TIMEOUT_S = 30.0
HEAD_TIMEOUT_S = 10.0
MAX_CONNECTIONS = 256
LINGER_S = 2.0  # after an error answer, how long to read what the client still sends
REASONS = {
    100: "Continue", 200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 301: "Moved Permanently",
    302: "Found", 304: "Not Modified", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
    404: "Not Found", 405: "Method Not Allowed", 408: "Request Timeout", 409: "Conflict", 413: "Payload Too Large",
    414: "URI Too Long", 415: "Unsupported Media Type", 429: "Too Many Requests",
    431: "Request Header Fields Too Large", 500: "Internal Server Error", 501: "Not Implemented", 502: "Bad Gateway",
    503: "Service Unavailable", 504: "Gateway Timeout",
}
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
Request = tuple[str, str, str, list[tuple[str, str]], bytes]

_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # RFC 9110 §5.6.2
_FIELD_CONTROL = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")  # a field value may hold tabs, no other control
_TARGET_CONTROL = re.compile(rb"[\x00-\x20\x7f]")
_VERSION = re.compile(rb"HTTP/1\.[0-9]")
_DIGITS = re.compile(r"[0-9]+")  # Content-Length: not int()'s signs, spaces, underscores or other digits
_HEX = re.compile(rb"[0-9A-Fa-f]+")  # a chunk size: not int()'s signs, spaces, 0x or underscores


class BadRequestError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Reader:
    """Buffered reads from a socket on two clocks: every wait for bytes is bounded by the idle
    timeout and, while `deadline` is set (a request head is being read), by that deadline, so a
    client sending a byte now and then cannot hold a head open for ever."""

    def __init__(self, sock: socket.socket, idle_timeout: float) -> None:
        self.sock = sock
        self.idle_timeout = idle_timeout
        self.buffer = bytearray()
        self.deadline: float | None = None
        self._timeout: float | None = None

    def settimeout(self, timeout: float) -> None:
        if timeout != self._timeout:
            self.sock.settimeout(timeout)
            self._timeout = timeout

    def fill(self, size: int = 65536) -> bool:
        """Receive more bytes into the buffer; False when the client closed its side."""
        timeout = self.idle_timeout
        if self.deadline is not None:
            timeout = min(timeout, self.deadline - time.monotonic())
            if timeout <= 0:
                raise BadRequestError(408, "request head not received in time")
        self.settimeout(timeout)
        try:
            data = self.sock.recv(size)
        except TimeoutError:
            if self.deadline is not None:
                raise BadRequestError(408, "request head not received in time") from None
            raise
        if not data:
            return False
        self.buffer += data
        return True

    def wait(self) -> bool:
        """Wait (idle timeout) for the first byte of a request; False when the client closed."""
        return bool(self.buffer) or self.fill()

    def readline(self, limit: int, status: int) -> bytes:
        """A line with its LF; what there was when the client closed first (b"" when nothing);
        BadRequestError(status) when no LF comes within `limit` bytes."""
        scanned = 0
        while True:
            end = self.buffer.find(b"\n", scanned, limit)
            if end >= 0:
                line = bytes(self.buffer[: end + 1])
                del self.buffer[: end + 1]
                return line
            if len(self.buffer) >= limit:
                raise BadRequestError(status, "line too long")
            scanned = len(self.buffer)
            if not self.fill():
                line = bytes(self.buffer)
                self.buffer.clear()
                return line

    def read(self, size: int) -> bytes:
        """`size` bytes, or fewer when the client closed first."""
        while len(self.buffer) < size:
            if not self.fill(min(max(size - len(self.buffer), 65536), 1 << 20)):
                break
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data


def _strip_eol(line: bytes) -> bytes:
    return line[:-2] if line.endswith(b"\r\n") else line[:-1]


def _field(line: bytes) -> tuple[str, str]:
    """One header (or trailer) line: a token name, a colon, a value without control bytes."""
    name, colon, value = _strip_eol(line).partition(b":")
    if not colon or not _TOKEN.fullmatch(name):
        raise BadRequestError(400, "malformed header")
    value = value.strip(b" \t")
    if _FIELD_CONTROL.search(value):
        raise BadRequestError(400, "control character in a header value")
    return name.decode("latin-1"), value.decode("latin-1")


def _check_target(method: bytes, target: bytes) -> None:
    if not target or _TARGET_CONTROL.search(target):
        raise BadRequestError(400, "malformed request target")
    if target.startswith(b"/") or (target == b"*" and method == b"OPTIONS"):
        return
    if target[:7].lower() == b"http://" or target[:8].lower() == b"https://":
        try:
            parts = urllib.parse.urlsplit(target.decode("latin-1"))
            _ = parts.port  # ValueError for a port that is not one
        except ValueError:
            raise BadRequestError(400, "malformed request target") from None
        if parts.hostname:
            return
    raise BadRequestError(400, "malformed request target")


def _read_head(reader: Reader) -> tuple[bytes, bytes, bytes, list[tuple[str, str]]] | None:
    for _ in range(MAX_EMPTY_LINES + 1):
        line = reader.readline(MAX_LINE, 414)
        if line not in (b"\r\n", b"\n"):
            break
    else:
        raise BadRequestError(400, "empty lines instead of a request")
    if not line:
        return None
    if not line.endswith(b"\n"):
        raise BadRequestError(400, "connection closed inside the request line")
    parts = _strip_eol(line).split(b" ")
    if len(parts) != 3 or not parts[0].isalpha() or not _VERSION.fullmatch(parts[2]):
        raise BadRequestError(400, "malformed request line")
    method, target, version = parts
    _check_target(method, target)
    headers: list[tuple[str, str]] = []
    total = 0
    while True:
        header = reader.readline(MAX_LINE, 431)
        total += len(header)
        if total > MAX_HEADER_BYTES:
            raise BadRequestError(431, "headers too large")
        if header in (b"\r\n", b"\n"):
            return method, target, version, headers
        if not header.endswith(b"\n"):
            raise BadRequestError(400, "connection closed inside the headers")
        if len(headers) >= MAX_HEADERS:
            raise BadRequestError(431, "too many headers")
        headers.append(_field(header))


def _content_length(values: list[str]) -> int:
    """RFC 9110 §8.6: 1*DIGIT; a list of one value repeated is that value; anything else is 400."""
    items = [item.strip(" \t") for value in values for item in value.split(",")]
    if not all(_DIGITS.fullmatch(item) for item in items):
        raise BadRequestError(400, "bad Content-Length")
    lengths = {item.lstrip("0") or "0" for item in items}
    if len(lengths) > 1:
        # RFC 9112 §6.3: the framing is ambiguous (request smuggling): refuse and close
        raise BadRequestError(400, "conflicting Content-Length / Transfer-Encoding")
    length = lengths.pop()
    if len(length) > len(str(MAX_BODY)) or int(length) > MAX_BODY:
        raise BadRequestError(413, "body too large")
    return int(length)


def read_request(reader: Reader, send: Callable[[bytes], None], head_timeout: float = HEAD_TIMEOUT_S) -> Request | None:
    """(method, target, version, headers, body), or None when the client closed cleanly."""
    if not reader.wait():
        return None
    reader.deadline = time.monotonic() + head_timeout
    try:
        head = _read_head(reader)
    finally:
        reader.deadline = None
    if head is None:
        return None
    method, target, version, headers = head
    codings = [value for name, value in headers if name.lower() == "transfer-encoding"]
    lengths = [value for name, value in headers if name.lower() == "content-length"]
    if codings and lengths:
        raise BadRequestError(400, "conflicting Content-Length / Transfer-Encoding")
    if codings:
        # RFC 9112 §6.1: chunked must be the final coding, a 1.0 request's framing is faulty;
        # we decode no other coding (gzip, ...): all three are refused
        listed = [c.strip(" \t").lower() for value in codings for c in value.split(",") if c.strip(" \t")]
        if version == b"HTTP/1.0" or listed != ["chunked"]:
            raise BadRequestError(400, "unsupported Transfer-Encoding")
    length = _content_length(lengths) if lengths else 0
    expect = next((value for name, value in headers if name.lower() == "expect"), "")
    if expect.lower() == "100-continue" and version != b"HTTP/1.0":
        send(b"HTTP/1.1 100 Continue\r\n\r\n")
    try:
        if codings:
            body = _read_chunked(reader)
        else:
            body = reader.read(length) if length else b""
            if len(body) != length:
                raise BadRequestError(400, "connection closed inside the body")
    except TimeoutError:
        raise BadRequestError(408, "request body not received in time") from None
    return method.decode("latin-1"), target.decode("latin-1"), version.decode("latin-1"), headers, body


def _read_chunked(reader: Reader) -> bytes:
    body = bytearray()
    wire = 0
    while True:
        line = reader.readline(MAX_LINE, 400)
        wire += len(line)
        if not line.endswith(b"\n"):
            raise BadRequestError(400, "connection closed inside the body")
        size_text, semicolon, extension = _strip_eol(line).partition(b";")
        if semicolon:
            size_text = size_text.rstrip(b" \t")  # chunk-ext = *( BWS ";" ... ), RFC 9112 §7.1.1
        if not _HEX.fullmatch(size_text) or _FIELD_CONTROL.search(extension):
            raise BadRequestError(400, "bad chunk size")
        if len(size_text.lstrip(b"0")) > 8:
            raise BadRequestError(413, "body too large")
        size = int(size_text, 16)
        if len(body) + size > MAX_BODY or wire + size + 2 > MAX_CHUNKED_WIRE:
            raise BadRequestError(413, "body too large")
        if size == 0:
            break
        data = reader.read(size)
        if len(data) != size:
            raise BadRequestError(400, "connection closed inside the body")
        body += data
        if reader.read(2) != b"\r\n":
            raise BadRequestError(400, "chunk data not followed by CRLF")
        wire += size + 2
    total = 0
    while True:  # trailers: checked like headers, then ignored
        line = reader.readline(MAX_LINE, 431)
        total += len(line)
        if total > MAX_HEADER_BYTES:
            raise BadRequestError(431, "trailers too large")
        if line in (b"\r\n", b"\n"):
            return bytes(body)
        if not line.endswith(b"\n"):
            raise BadRequestError(400, "connection closed inside the trailers")
        _field(line)


def environ_for(
    method: str, target: str, version: str, headers: list[tuple[str, str]], body: bytes,
    client: tuple[str, int], server: tuple[str, int],
) -> dict[str, Any]:
    path, _, query = target.partition("?")
    if path[:8].lower().startswith(("http://", "https://")):  # absolute-form target (checked by read_request)
        try:
            path = urllib.parse.urlsplit(path).path or "/"
        except ValueError:
            path = "/"
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


class _Handler(socketserver.BaseRequestHandler):
    server: GatewayHTTPServer
    request: socket.socket

    def setup(self) -> None:
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.reader = Reader(self.request, self.server.idle_timeout)

    def handle(self) -> None:
        try:
            while self._serve_one():
                pass
        except OSError:
            pass  # the client went away or idled out (TimeoutError is an OSError)

    def _serve_one(self) -> bool:
        try:
            request = read_request(self.reader, self._write, self.server.head_timeout)
        except BadRequestError as exc:
            self._refuse(exc.status, str(exc))
            return False
        except OSError:
            raise
        except Exception as exc:  # a bug in the parser: the request still gets its one answer
            print(f"petgate local: error reading a request: {exc!r}", file=sys.stderr)
            self._refuse(400, "malformed request")
            return False
        if request is None:
            return False
        method, target, version, headers, body = request
        connection = next((v.lower() for n, v in headers if n.lower() == "connection"), "")
        keep_alive = connection != "close" if version != "HTTP/1.0" else connection == "keep-alive"
        host, port = self.server.server_address[:2]
        environ = environ_for(method, target, version, headers, body, self.client_address[:2], (str(host), int(port)))
        status, response_headers, payload = self._call_app(environ)
        self._send(status, response_headers, b"" if method == "HEAD" else payload, keep_alive, len(payload))
        return keep_alive

    def _refuse(self, status: int, message: str) -> None:
        """One error answer, then close without resetting the connection under it: stop sending
        and read (briefly) what the client still sends."""
        self._send(status, [("Content-Type", "text/plain")], f"{message}\n".encode(), keep_alive=False)
        try:
            self.request.shutdown(socket.SHUT_WR)
            give_up = time.monotonic() + LINGER_S
            drained = 0
            while drained < MAX_BODY and (left := give_up - time.monotonic()) > 0:
                self.reader.settimeout(left)
                data = self.request.recv(65536)
                if not data:
                    break
                drained += len(data)
        except OSError:
            pass

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
            if not started:
                raise RuntimeError("the app did not start a response")
        except Exception as exc:  # a bug in a handler must not take the gateway down
            print(f"petgate local: error serving {environ['REQUEST_METHOD']} {environ['PATH_INFO']}: {exc!r}", file=sys.stderr)
            return 500, [("Content-Type", "application/json")], b'{"message":"Internal server error"}'
        return started[0], started[1], payload

    def _write(self, data: bytes) -> None:
        self.reader.settimeout(self.server.idle_timeout)
        self.request.sendall(data)

    def _send(self, status: int, headers: list[tuple[str, str]], payload: bytes, keep_alive: bool, length: int | None = None) -> None:
        lines = [f"HTTP/1.1 {status} {REASONS.get(status, 'Unknown')}"]
        lines += [f"{n}: {v}" for n, v in headers if n.lower() not in ("content-length", "connection")]
        lines.append(f"Content-Length: {len(payload) if length is None else length}")
        if not keep_alive:
            lines.append("Connection: close")
        self._write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", errors="replace") + payload)


class GatewayHTTPServer(socketserver.ThreadingTCPServer):
    """`head_timeout`: seconds from a request's first byte to the end of its head (408 after);
    `idle_timeout`: seconds any wait for a client's bytes may last (between requests: a silent
    close); `max_connections`: connections served at once (one more gets 503 and is closed)."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(
        self, address: tuple[str, int], app: WsgiApp, head_timeout: float = HEAD_TIMEOUT_S,
        max_connections: int = MAX_CONNECTIONS, idle_timeout: float = IDLE_TIMEOUT_S,
    ) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.app = app
        self.head_timeout = head_timeout
        self.idle_timeout = idle_timeout
        self.max_connections = max_connections
        self._slots = threading.BoundedSemaphore(max_connections)
        super().__init__(address, _Handler)

    @property
    def server_port(self) -> int:
        return int(self.server_address[1])

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self._busy(request)
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def _busy(self, request: socket.socket) -> None:
        """Over the cap: 503 from the accepting thread, never blocking it."""
        message = f"too many connections (at most {self.max_connections} at once)\n".encode()
        answer = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nRetry-After: 1\r\n"
                  b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(message), message))
        try:
            request.setblocking(False)
            request.send(answer)
            request.recv(65536)  # what already came, so that the close does not reset the answer
        except OSError:
            pass

    def server_close(self) -> None:
        super().server_close()
        close = getattr(self.app, "close", None)
        if close is not None:
            close()
