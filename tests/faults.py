"""A fault-injecting HTTP proxy on loopback, in front of a real `petgate local`.

It names each API Gateway call by its method and path (the operation botocore sent), and per
rule can refuse it (close the connection before forwarding: the control plane is gone),
reset after the answer (forward, then drop the answer: the call was made, its answer lost), or
hold it (forward, then keep the answer until the test lets it go: a process killed mid-call).
No rule waits on real time: a hold waits on an event the test sets.
"""

from __future__ import annotations

import re
import socket
import socketserver
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

_OPERATIONS = [
    ("POST", r"/restapis/[^/]+/models", "CreateModel"),
    ("GET", r"/restapis/[^/]+/models/[^/]+", "GetModel"),
    ("DELETE", r"/restapis/[^/]+/models/[^/]+", "DeleteModel"),
    ("GET", r"/restapis/[^/]+", "GetRestApi"),
    ("PATCH", r"/restapis/[^/]+", "UpdateRestApi"),
    ("GET", r"/restapis", "GetRestApis"),
    ("POST", r"/restapis/[^/]+/deployments", "CreateDeployment"),
    ("GET", r"/restapis/[^/]+/stages/[^/]+/exports/[^/]+", "GetExport"),
    ("GET", r"/restapis/[^/]+/gatewayresponses/[^/]+", "GetGatewayResponse"),
    ("PUT", r"/restapis/[^/]+/gatewayresponses/[^/]+", "PutGatewayResponse"),
]


def operation(method: str, target: str) -> str:
    path = target.split("?", 1)[0]
    for verb, pattern, name in _OPERATIONS:
        if verb == method and re.fullmatch(pattern, path):
            return name
    return f"{method} {path}"


@dataclass
class Rule:
    """Do `action` to the `nth` call (1-based) of `name`; with `after`, to every call from then on."""

    name: str
    action: str  # "refuse", "reset-after", "hold"
    nth: int = 1
    after: bool = False
    seen: int = 0


@dataclass
class FaultProxy:
    upstream: tuple[str, int]
    rules: list[Rule] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)  # every operation that reached the proxy, in order
    held: threading.Event = field(default_factory=threading.Event)  # set when a call is being held
    release: threading.Event = field(default_factory=threading.Event)  # set by the test to let it go
    on_call: Callable[[str], None] = lambda _name: None
    gone: bool = False

    def start(self) -> str:
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                proxy._serve(self.request)

        class Server(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True

        self._server = Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()

    def _action(self, name: str) -> str | None:
        if self.gone:
            return "refuse"
        for rule in self.rules:
            if rule.name == name:
                rule.seen += 1
                if rule.seen == rule.nth or (rule.after and rule.seen > rule.nth):
                    if rule.action == "gone":
                        self.gone = True
                        return "refuse"
                    return rule.action
        return None

    def _serve(self, client: socket.socket) -> None:
        client.settimeout(30)
        reader = client.makefile("rb")
        while True:
            head = _read_head(reader)
            if head is None:
                return
            request_line, headers = head
            method, target = request_line.split(" ")[:2]
            body = reader.read(int(headers.get("content-length", "0") or 0))
            name = operation(method, target)
            self.calls.append(name)
            self.on_call(name)
            action = self._action(name)
            if action == "refuse":
                _reset(client)
                return
            answer = _forward(self.upstream, request_line, headers, body)
            if action == "reset-after":
                _reset(client)
                return
            if action == "hold":
                self.held.set()
                self.release.wait(60)
                _reset(client)
                return
            client.sendall(answer)


def _read_head(reader: object) -> tuple[str, dict[str, str]] | None:
    line = reader.readline()  # type: ignore[attr-defined]
    if not line:
        return None
    request_line = line.decode("latin-1").rstrip("\r\n")
    headers: dict[str, str] = {}
    raw: list[str] = []
    while True:
        header = reader.readline().decode("latin-1")  # type: ignore[attr-defined]
        if header in ("\r\n", "\n", ""):
            break
        raw.append(header)
        key, _, value = header.partition(":")
        headers[key.strip().lower()] = value.strip()
    headers["_raw"] = "".join(raw)
    return request_line, headers


def _forward(upstream: tuple[str, int], request_line: str, headers: dict[str, str], body: bytes) -> bytes:
    """One request to the upstream on a connection of its own; its whole answer."""
    raw = "".join(line for line in headers["_raw"].splitlines(keepends=True)
                  if not line.lower().startswith("connection:"))
    with socket.create_connection(upstream, timeout=30) as server:
        server.sendall(f"{request_line}\r\n{raw}Connection: close\r\n\r\n".encode("latin-1") + body)
        chunks = []
        while True:
            chunk = server.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    answer = b"".join(chunks)
    # the client may keep its connection: say the answer's length and keep-alive
    head, _, content = answer.partition(b"\r\n\r\n")
    lines = [line for line in head.split(b"\r\n")
             if not line.lower().startswith((b"connection:", b"content-length:", b"transfer-encoding:"))]
    lines += [f"Content-Length: {len(content)}".encode(), b"Connection: keep-alive"]
    return b"\r\n".join(lines) + b"\r\n\r\n" + content


def _reset(client: socket.socket) -> None:
    """Close with a TCP reset: what a connection to a control plane that went away sees."""
    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    client.close()
