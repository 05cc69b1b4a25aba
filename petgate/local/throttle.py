"""AWS's API Gateway control-plane quotas, enforced by `petgate local --throttle`.

Per account: all operations 10 per second with a burst of 40; CreateDeployment 1 every 5
seconds; ImportRestApi 1 every 3 seconds (REGIONAL / PRIVATE) or 30 seconds (EDGE); PutRestApi
1 per second. Over quota: TooManyRequestsException (429) with Retry-After.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from petgate.local.errors import ApiError


class TokenBucket:
    def __init__(self, rate_per_s: float, burst: float, clock: Callable[[], float]) -> None:
        self.rate = rate_per_s
        self.burst = burst
        self.tokens = burst
        self.clock = clock
        self.updated = clock()

    def take(self) -> float:
        """Take a token: 0.0 if granted, else the seconds until one is available."""
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


QUOTAS: dict[str, tuple[float, float]] = {  # operation: (requests per second, burst)
    "*": (10.0, 40.0),
    "CreateDeployment": (1 / 5, 1.0),
    "ImportRestApi:REGIONAL": (1 / 3, 1.0),
    "ImportRestApi:PRIVATE": (1 / 3, 1.0),
    "ImportRestApi:EDGE": (1 / 30, 1.0),
    "PutRestApi": (1.0, 1.0),
}


class Throttle:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.lock = threading.Lock()
        self.buckets: dict[tuple[str, str], TokenBucket] = {}

    def clear(self) -> None:
        """Every bucket full again (the gateway's reset)."""
        with self.lock:
            self.buckets = {}

    def check(self, account_id: str, operation: str | None) -> None:
        """Raise TooManyRequestsException if the account is over quota for this call."""
        with self.lock:
            names = ["*"] + ([operation] if operation in QUOTAS else [])
            waits = []
            for name in names:
                bucket = self.buckets.get((account_id, name))
                if bucket is None:
                    bucket = self.buckets[(account_id, name)] = TokenBucket(*QUOTAS[name], self.clock)
                waits.append(bucket.take())
            wait = max(waits)
        if wait > 0:
            raise ApiError(
                "TooManyRequestsException",
                "Too Many Requests",
                headers={"Retry-After": str(max(1, math.ceil(wait)))},
            )
