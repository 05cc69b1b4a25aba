"""A reset for test suites: every API (REST and HTTP), deployment snapshot, WAF object and IAM/STS
object gone, and the throttle's buckets full again, as a fresh `petgate local` starts.

Two doors, one effect: `POST /moto-api/reset`, which moto's server mode answers and its users'
suites call between tests (moto's moto_api/_internal/responses.py, reset_response: a POST is
200 `{"status": "ok"}`, anything else 400 `{"Error": "Need to POST to reset Moto"}`), and
petgate's own `POST /_petgate/reset`. The caller holds the gateway's lock, so a request in flight
sees the state before or after, never half of it. The `--vpc-endpoint` mappings are
configuration, not state: they stay.
"""

from __future__ import annotations

import json

from petgate.local.snapshot import SnapshotStore
from petgate.local.throttle import Throttle

Response = tuple[int, dict[str, str], bytes]
PATHS = ("/moto-api/reset", "/_petgate/reset")


def clear(store: SnapshotStore, throttle: Throttle | None) -> None:
    """Empty moto's apigateway, apigatewayv2, wafv2, iam and sts backends (each region's backend
    re-initialised, as moto's own reset does, then dropped so the next call builds a fresh one),
    the snapshots and the throttle's buckets. Call with the gateway's lock held."""
    from moto.core.model_instances import reset_model_data

    from petgate.local.state import moto_backends

    for backends in moto_backends().values():
        for account in list(backends.values()):
            account.reset()
        backends.clear()
    reset_model_data()
    store.clear()
    if throttle is not None:
        throttle.clear()


def answer(method: str, path: str) -> Response | None:
    """The reply of a reset endpoint that does not reset (not a POST); None for a POST."""
    if method == "POST":
        return None
    if path == "/moto-api/reset":
        return 400, {"Content-Type": "application/json"}, json.dumps({"Error": "Need to POST to reset Moto"}).encode()
    return 405, {"Content-Type": "application/json", "Allow": "POST"}, json.dumps(
        {"message": "POST /_petgate/reset to reset the gateway"}).encode()


def done() -> Response:
    """The reply of a reset that happened (moto's)."""
    return 200, {"Content-Type": "application/json"}, json.dumps({"status": "ok"}).encode()
