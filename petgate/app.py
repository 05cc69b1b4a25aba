"""The application object every command receives through click's context (after hatch)."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from petgate.errors import PetgateError
from petgate.output import Output
from petgate.target import Target

if TYPE_CHECKING:
    import requests

    from petgate.gateway import Gateway
    from petgate.journal import Journal


_SECRET_HEADERS = {"authorization", "x-amz-security-token"}


class App:
    def __init__(self, target: Target, output: Output) -> None:
        self.target = target
        self.output = output
        self.checkip_address: str | None = None  # asked at most once per command
        self.pending_error: PetgateError | None = None  # a failure to report after the result

    @cached_property
    def gateway(self) -> Gateway:
        gateway = self.target.gateway()
        gateway.on_quota_wait = lambda operation, seconds: self.output.warn(
            f"waiting {seconds:.1f}s for AWS quota ({operation} was throttled)"
        )
        if self.output.verbosity > 0:
            gateway.client.meta.events.register("before-send.api-gateway", self._log_request)
        return gateway

    def _log_request(self, request: Any, **_: Any) -> None:
        """-v: every control-plane request, with credentials redacted."""
        headers = {
            name: ("<redacted>" if name.lower() in _SECRET_HEADERS else value)
            for name, value in request.headers.items()
        }
        self.output.debug(f"{request.method} {request.url} {headers}")

    @cached_property
    def journal(self) -> Journal:
        from petgate.journal import Journal

        return Journal(warn=self.output.warn)

    @cached_property
    def http(self) -> requests.Session:
        return self.target.http_session()
