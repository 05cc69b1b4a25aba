"""What an operation needs from the world, passed in explicitly: the clients (API Gateway's REST
APIs and HTTP APIs, WAF, IAM), the journal, a reporter for progress and warnings, and the clock
and sleep the lease uses; and the same for another region (audit --region). The CLI's App is one
(built at the CLI's edge from the global options); tests pass their own."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import requests

    from petgate.gateway import Gateway
    from petgate.http_apis import HttpApis
    from petgate.iam import Iam
    from petgate.journal import Journal
    from petgate.target import Target
    from petgate.waf import Waf


class Reporter(Protocol):
    """Progress and warnings for people (on stderr); operations print nothing else."""

    def info(self, message: str) -> None: ...
    def warn(self, message: str) -> None: ...
    def waiting(self, message: str) -> AbstractContextManager[Any]: ...


class Services(Protocol):
    checkip_address: str | None  # asked at most once per command

    @property
    def target(self) -> Target: ...
    @property
    def output(self) -> Reporter: ...
    @property
    def clock(self) -> Callable[[], float]: ...
    @property
    def sleep(self) -> Callable[[float], None]: ...

    @property
    def gateway(self) -> Gateway: ...
    @property
    def http_apis(self) -> HttpApis: ...
    @property
    def waf(self) -> Waf: ...
    @property
    def iam(self) -> Iam: ...
    @property
    def journal(self) -> Journal: ...
    @property
    def http(self) -> requests.Session: ...

    def for_region(self, region: str) -> Services:
        """Services like these whose clients call `region` (these are left as they are)."""
        ...
