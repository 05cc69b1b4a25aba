"""A pytest plugin: `petgate local` as a test target for anyone's suite.

Installed with petgate (entry point `pytest11`), it gives the session fixture
`petgate_gateway`: a real `petgate local` process on a free loopback port, started once per
test session and stopped after it, with its URL and a boto3 client factory; and the function
fixture `petgate_clean_gateway`: the same gateway, reset before the test (no API, deployment,
WAF or IAM object left by an earlier test):

    def test_my_api(petgate_gateway):
        apigateway = petgate_gateway.client("apigateway")
        api = apigateway.create_rest_api(name="mine")
        ...
        requests.get(petgate_gateway.invoke_url(api["id"], "test") + "/pets")
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

REGION = "us-east-1"


@dataclass(frozen=True)
class LocalGateway:
    """A running `petgate local`: its URL, and clients pointed at it."""

    url: str
    region: str = REGION

    def client(self, service: str = "apigateway", **kwargs: Any) -> Any:
        """A boto3 client on the gateway (any credentials are accepted there)."""
        import boto3

        settings = {"region_name": self.region, "aws_access_key_id": "petgate-local",
                    "aws_secret_access_key": "petgate-local", **kwargs}
        return boto3.client(service, endpoint_url=self.url, **settings)  # type: ignore[call-overload]

    def invoke_url(self, api_id: str, stage: str) -> str:
        """Where a deployed stage is served (append the resource path)."""
        return f"{self.url}/restapis/{api_id}/{stage}/_user_request_"

    def reset(self) -> None:
        """Clear the gateway's state (`POST /_petgate/reset`): every API, deployment, WAF and
        IAM/STS object, as a fresh gateway starts."""
        import requests

        reply = requests.post(f"{self.url}/_petgate/reset", timeout=30)
        reply.raise_for_status()

    @property
    def environment(self) -> dict[str, str]:
        """Variables that point petgate (and the aws CLI's endpoint setting) at this gateway."""
        return {"PETGATE_LOCAL": "1", "PETGATE_LOCAL_URL": self.url, "AWS_ENDPOINT_URL": self.url}


@contextlib.contextmanager
def running_gateway(*options: str, env: dict[str, str] | None = None, timeout: float = 60) -> Iterator[LocalGateway]:
    """Start `petgate local` on a free port (it binds port 0 itself and names the URL it got on
    stderr, so no other process can take the port in between); stop it afterwards."""
    process = subprocess.Popen(
        [sys.executable, "-m", "petgate", "local", "--port", "0", *options],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})},
    )
    try:
        assert process.stderr is not None
        seen: list[str] = []
        match = None
        while match is None:  # warnings may come first
            line = process.stderr.readline()
            if not line:
                raise RuntimeError(f"petgate local did not start: {''.join(seen)!r}")
            seen.append(line)
            match = re.search(r"gateway on (http://\S+)", line)
        threading.Thread(target=process.stderr.read, daemon=True).start()  # never block on a full pipe
        url = match.group(1)
        _wait_until_up(url, process, timeout)
        yield LocalGateway(url)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _wait_until_up(url: str, process: subprocess.Popen[str], timeout: float) -> None:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"petgate local exited with {process.returncode}")
        try:
            if requests.get(f"{url}/_petgate/health", timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            time.sleep(0.05)  # a server that is starting: nothing to wait on instead
    raise RuntimeError(f"petgate local did not answer at {url}")


@pytest.fixture(scope="session")
def petgate_gateway() -> Iterator[LocalGateway]:
    """One `petgate local` for the test session (control plane, data plane, checkip)."""
    with running_gateway() as gateway:
        yield gateway


@pytest.fixture()
def petgate_clean_gateway(petgate_gateway: LocalGateway) -> LocalGateway:
    """The session's `petgate local`, reset before this test: it starts with no API, deployment,
    WAF or IAM object of an earlier test (tests that use only `petgate_gateway` share state)."""
    petgate_gateway.reset()
    return petgate_gateway
