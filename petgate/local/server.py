"""The local gateway: one WSGI app, one port (control plane, data plane, checkip)."""

from __future__ import annotations

import ipaddress
import json
import re
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from petgate.local import replies, reset
from petgate.local.control import ControlPlane
from petgate.local.dataplane import DataPlane
from petgate.local.http import HEAD_TIMEOUT_S, MAX_CONNECTIONS, REASONS, GatewayHTTPServer
from petgate.local.iam_control import IamControl
from petgate.local.private_endpoints import EndpointMap, VpcEndpoint, invoke_target
from petgate.local.snapshot import SnapshotStore
from petgate.local.state import StateFile
from petgate.local.throttle import Throttle
from petgate.local.v2_control import V2ControlPlane
from petgate.local.waf_control import WafControl

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4599
_DATA_PLANE = re.compile(r"^/restapis/(?P<api>[^/]+)/(?P<stage>[^/]+)/_user_request_(?P<path>/.*)?$")


class LocalGateway:
    """WSGI app: `/restapis/{id}/{stage}/_user_request_/...` is the data plane, and so is a
    request in a private invoke form (Host `{id}-{vpce}.execute-api...` or `{id}.execute-api...`,
    or an `x-apigw-api-id` header: private_endpoints.py); `/_petgate/...` the helpers,
    everything else the control planes (API Gateway's REST APIs and, under `/v2/`, its HTTP
    APIs (v2_control.py), wafv2's, IAM's and STS's).

    `vpc_endpoints`: source address -> the VPC endpoint its requests come through (None: those
    `state` keeps, if any; given, they replace what `state` kept, and are kept in it).

    `state`: locked for the gateway's life (a second gateway on the file refuses to start), read
    at start, written after every change. `latency_ms`: every control-plane call waits that long
    before it is answered (outside the gateway's lock, so calls wait side by side, as AWS's
    would), through `sleep` (injectable for tests); the data plane and /_petgate/* never wait.
    `clock`: the data plane's time (a call's time, the SigV4 skew window), injectable too."""

    def __init__(
        self, throttle: bool = False, state: StateFile | None = None, latency_ms: float = 0.0,
        sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.time,
        vpc_endpoints: Mapping[str, VpcEndpoint] | None = None,
    ) -> None:
        self.lock = threading.RLock()  # moto's backends are not thread-safe: one writer at a time
        self.latency_s = latency_ms / 1000
        self.sleep = sleep
        self.state = state
        if state is not None:
            state.lock()
        self.store = SnapshotStore()
        self.control = ControlPlane(self.store, self.lock, Throttle() if throttle else None)
        self.waf = WafControl(self.lock)
        self.http_apis = V2ControlPlane(self.lock)
        self.iam = IamControl(self.lock)
        self.endpoints = EndpointMap()
        self.data = DataPlane(self.store, self.lock, clock, self.endpoints)
        if state is not None:
            try:
                with self.lock:
                    state.load(self.store, self.endpoints)
            except BaseException:
                state.unlock()
                raise
        if vpc_endpoints is not None and dict(vpc_endpoints) != self.endpoints.mappings():
            self.endpoints.replace(vpc_endpoints)
            if state is not None:
                self._save_state()

    def close(self) -> None:
        """Release the state file's lock (the server's server_close calls this)."""
        if self.state is not None:
            self.state.unlock()

    def _save_state(self) -> None:
        """After a change: a full disk must not turn a change that happened into an error."""
        assert self.state is not None
        try:
            with self.lock:
                self.state.save(self.store, self.endpoints)
        except OSError as exc:
            sys.stderr.write(f"warning: could not write the state file {self.state.path}: {exc.strerror}\n")

    def _vpc_endpoints(self) -> bytes:
        def by_address(item: tuple[str, VpcEndpoint]) -> tuple[int, int]:
            address = ipaddress.ip_address(item[0])
            return address.version, int(address)

        mappings = sorted(self.endpoints.mappings().items(), key=by_address)
        return json.dumps({"vpc_endpoints": [{"address": address, "vpce_id": e.vpce_id, "vpc_id": e.vpc_id}
                                             for address, e in mappings]}).encode()

    def reset(self) -> None:
        """Every API, snapshot, WAF and IAM/STS object gone, the throttle's buckets full, and with
        `state` the file rewritten so (the `--vpc-endpoint` mappings stay): under the lock, so a
        request in flight sees the state before or after, never half (reset.py)."""
        with self.lock:
            reset.clear(self.store, self.control.throttle)
            if self.state is not None:
                self._save_state()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        plane: str | None = None  # a control plane's protocol, for replies.finish
        match = _DATA_PLANE.match(path)
        if match:
            status, headers, body = self.data.handle(environ, match["api"], match["stage"], match["path"] or "/")
        elif path == "/_petgate/checkip":
            status, headers, body = 200, {"Content-Type": "text/plain"}, (environ.get("REMOTE_ADDR", "") + "\n").encode()
        elif path == "/_petgate/health":
            status, headers, body = 200, {"Content-Type": "text/plain"}, b"ok\n"
        elif path == "/_petgate/vpc-endpoints":  # read-only: the --vpc-endpoint mappings, by address
            status, headers, body = 200, {"Content-Type": "application/json"}, self._vpc_endpoints()
        elif path in reset.PATHS:  # moto's /moto-api/reset and petgate's /_petgate/reset
            refused = reset.answer(environ.get("REQUEST_METHOD", ""), path)
            if refused is None:
                self.reset()
            status, headers, body = refused or reset.done()
        elif (private := invoke_target(environ)) is not None:
            status, headers, body = self.data.handle(environ, private.api_id, private.stage, private.path, private)
        else:
            if self.latency_s > 0:
                self.sleep(self.latency_s)
            service = IamControl.service_of(environ)
            if service is not None:
                (status, headers, body), changes = self.iam.handle(environ, service)
                plane = "query"
            elif V2ControlPlane.wants(environ):  # HTTP APIs: signed as `apigateway` too, told apart by path
                status, headers, body = self.http_apis.handle(environ)
                plane = "apigateway"
                changes = environ.get("REQUEST_METHOD") not in ("GET", "HEAD")
            else:
                is_waf = WafControl.wants(environ)
                status, headers, body = (self.waf if is_waf else self.control).handle(environ)
                plane = "wafv2" if is_waf else "apigateway"
                changes = environ.get("REQUEST_METHOD") not in ("GET", "HEAD") and not (is_waf and WafControl.reads(environ))
            if self.state is not None and changes and status < 400:
                self._save_state()
        status, headers, body = replies.finish(plane, status, headers, body)  # request id, content type
        start_response(f"{status} {REASONS.get(status, 'Unknown')}", list(headers.items()))
        return [body]


def make_server(
    host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, throttle: bool = False, state: StateFile | None = None,
    latency_ms: float = 0.0, head_timeout: float = HEAD_TIMEOUT_S, max_connections: int = MAX_CONNECTIONS,
    vpc_endpoints: Mapping[str, VpcEndpoint] | None = None,
) -> GatewayHTTPServer:
    gateway = LocalGateway(throttle, state, latency_ms, vpc_endpoints=vpc_endpoints)
    try:
        return GatewayHTTPServer((host, port), gateway, head_timeout=head_timeout, max_connections=max_connections)
    except BaseException:
        gateway.close()
        raise


@dataclass
class RunningGateway:
    """A gateway serving from a background thread (tests, `walkthrough --local`)."""

    url: str
    server: Any
    thread: threading.Thread

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def start_in_thread(host: str = DEFAULT_HOST, port: int = 0,
                    vpc_endpoints: Mapping[str, VpcEndpoint] | None = None) -> RunningGateway:
    """Start on a free port (port 0) and return once it is accepting connections."""
    server = make_server(host, port, vpc_endpoints=vpc_endpoints)
    thread = threading.Thread(target=server.serve_forever, name="petgate-local", daemon=True)
    thread.start()
    return RunningGateway(f"http://{host}:{server.server_port}", server, thread)
