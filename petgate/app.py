"""The application object every command receives through click's context (after hatch)."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from petgate.output import Output
from petgate.target import Target

if TYPE_CHECKING:
    import requests

    from petgate.gateway import Gateway
    from petgate.journal import Journal


class App:
    def __init__(self, target: Target, output: Output) -> None:
        self.target = target
        self.output = output

    @cached_property
    def gateway(self) -> Gateway:
        gateway = self.target.gateway()
        gateway.on_quota_wait = lambda operation, seconds: self.output.warn(
            f"waiting {seconds:.1f}s for AWS quota ({operation} was throttled)"
        )
        return gateway

    @cached_property
    def journal(self) -> Journal:
        from petgate.journal import Journal

        return Journal(warn=self.output.warn)

    @cached_property
    def http(self) -> requests.Session:
        return self.target.http_session()
