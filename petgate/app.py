"""The application object every command receives through click's context (after hatch)."""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any

from petgate.errors import NetworkError
from petgate.output import Output
from petgate.target import Target

if TYPE_CHECKING:
    import requests

    from petgate.gateway import Gateway
    from petgate.http_apis import HttpApis
    from petgate.iam import Iam
    from petgate.journal import Journal
    from petgate.waf import Waf


_SECRET_HEADERS = {"authorization", "x-amz-security-token"}
LOCAL_WAIT_S = 10.0


class App:
    def __init__(
        self, target: Target, output: Output, clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.target = target
        self.output = output
        self.clock = clock  # what the lease reads "now" from; tests inject their own
        self.sleep = sleep
        self.checkip_address: str | None = None  # asked at most once per command
        self._local_seen = False

    def for_local_url(self, local_url: str) -> App:
        """A new App like this one (same output, clock and sleep) for the local gateway at
        `local_url`, one a command started for itself: its own target and clients, built for that
        URL when first used; this App is left as it is."""
        return App(dataclasses.replace(self.target, local_url=local_url), self.output, self.clock, self.sleep)

    def for_region(self, region: str) -> App:
        """A new App like this one (same output, clock and sleep, same place and credentials) whose
        clients call `region` (audit --region, one App a region); this App is left as it is."""
        return App(dataclasses.replace(self.target, region=region), self.output, self.clock, self.sleep)

    def _local_listener(self, timeout: float) -> bool | None:
        """Whether something accepts connections at the local URL: True, False (refused), or
        None (no answer in time: something is there, only slow). A TCP connect, not an HTTP
        request: it needs no HTTP library, so a command that makes no request imports none."""
        import socket

        from petgate.target import check_url

        host, port = check_url(self.target.local_url, "PETGATE_LOCAL_URL")
        try:
            socket.create_connection((host, port), timeout=timeout).close()
        except TimeoutError:
            return None
        except OSError:
            return False
        return True

    def local_gateway_answers(self) -> bool:
        """Whether anything listens at the local URL now (within a second)."""
        return self._local_listener(1.0) is True

    def await_local_gateway(self) -> None:
        """With --local, wait a little for a gateway that is still starting (`petgate local &`
        right before this command), and say clearly when there is none."""
        if not self.target.local or self._local_seen:
            return
        patience = float(os.environ.get("PETGATE_LOCAL_WAIT") or LOCAL_WAIT_S)
        deadline = time.monotonic() + patience
        told = False
        while self._local_listener(2.0) is False:  # something that listens answers the real calls itself
            if time.monotonic() >= deadline:
                raise NetworkError(
                    f"no local gateway answers at {self.target.local_url}",
                    "start one with `petgate local &` (it listens where PETGATE_LOCAL_URL says)",
                )
            if not told:
                self.output.info(f"Waiting up to {patience:g}s for the local gateway at {self.target.local_url}...")
                told = True
            time.sleep(0.1)  # polling a server that is starting: nothing to wait on instead
        self._local_seen = True

    @cached_property
    def gateway(self) -> Gateway:
        self.await_local_gateway()
        gateway = self.target.gateway()
        gateway.on_quota_wait = lambda operation, seconds: self.output.warn(
            f"waiting {seconds:.1f}s for AWS quota ({operation} was throttled)"
        )
        if self.output.verbosity > 0:
            gateway.register("before-send.api-gateway", self._log_request)
        return gateway

    def _log_request(self, request: Any, **_: Any) -> None:
        """-v: every control-plane request, with credentials redacted."""
        headers = {
            name: ("<redacted>" if name.lower() in _SECRET_HEADERS else value)
            for name, value in request.headers.items()
        }
        self.output.debug(f"{request.method} {request.url} {headers}")

    @cached_property
    def http_apis(self) -> HttpApis:
        """apigatewayv2 (HTTP APIs), at the same place as the gateway client."""
        self.await_local_gateway()
        http_apis = self.target.http_apis()
        if self.output.verbosity > 0:  # -v logs every AWS call
            http_apis.register("before-send.apigatewayv2", self._log_request)
        return http_apis

    @cached_property
    def waf(self) -> Waf:
        self.await_local_gateway()
        waf: Waf = self.target.waf()
        if self.output.verbosity > 0:  # -v logs every AWS call, WAF's too
            waf.client.meta.events.register("before-send.wafv2", self._log_request)
        return waf

    @cached_property
    def iam(self) -> Iam:
        """IAM and STS with the App's credentials (policy check --principal reads identity policies)."""
        self.await_local_gateway()
        from petgate.iam import for_target

        iam = for_target(self.target)
        if self.output.verbosity > 0:  # -v logs every AWS call
            iam.register("before-send", self._log_request)
        return iam

    @cached_property
    def journal(self) -> Journal:
        from petgate.journal import Journal

        return Journal(warn=self.output.warn, clock=self.clock)

    @cached_property
    def http(self) -> requests.Session:
        self.await_local_gateway()
        return self.target.http_session()
