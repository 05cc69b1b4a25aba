"""A bounded load generator for loopback: P processes x C connections, N requests in all.

Each connection sends requests one after another (keep-alive when the server allows it) and
records every latency. Run on loopback only.
"""

from __future__ import annotations

import http.client
import multiprocessing
import statistics
import time
import urllib.parse
from dataclasses import dataclass


@dataclass
class LoadResult:
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def _worker(url: str, count: int, start_at: float, queue: multiprocessing.Queue, headers: dict[str, str]) -> None:  # type: ignore[type-arg]
    parts = urllib.parse.urlsplit(url)
    assert parts.hostname and parts.hostname.startswith("127."), "load runs on loopback only"
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    latencies, errors = [], 0
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    while time.time() < start_at:
        time.sleep(0.001)  # all workers start together
    for _ in range(count):
        began = time.perf_counter()
        try:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            if response.status >= 500:
                errors += 1
            if response.getheader("Connection", "").lower() == "close" or response.version == 10:
                connection.close()
                connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        except (OSError, http.client.HTTPException):
            errors += 1
            connection.close()
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        latencies.append(time.perf_counter() - began)
    connection.close()
    queue.put((latencies, errors))


def run(url: str, total: int = 3000, concurrency: int = 8, authorization: str | None = None) -> LoadResult:
    queue: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    start_at = time.time() + 0.5
    headers = {"Authorization": authorization} if authorization else {}
    per_worker = total // concurrency
    workers = [
        multiprocessing.Process(target=_worker, args=(url, per_worker, start_at, queue, headers)) for _ in range(concurrency)
    ]
    for worker in workers:
        worker.start()
    results = [queue.get(timeout=300) for _ in workers]
    finished = time.time()
    for worker in workers:
        worker.join(timeout=10)
    latencies = sorted(latency for per_worker_latencies, _ in results for latency in per_worker_latencies)
    elapsed = finished - start_at
    return LoadResult(
        requests=len(latencies),
        errors=sum(e for _, e in results),
        seconds=elapsed,
        p50_ms=statistics.median(latencies) * 1000,
        p99_ms=latencies[int(len(latencies) * 0.99) - 1] * 1000,
    )
