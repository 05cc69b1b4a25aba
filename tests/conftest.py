"""Fixtures: a real `petgate local` process on a free loopback port, boto3 pointed at it,
and a way to run the CLI and read its stdout, stderr and exit code."""

from __future__ import annotations

import contextlib
import io
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from petgate.cli import main
from petgate.pytest_plugin import running_gateway


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(autouse=True)
def state_dir(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Each test journals into its own state directory, never the user's."""
    directory = tmp_path / "state"
    monkeypatch.setenv("PETGATE_STATE_DIR", str(directory))
    return directory


@contextlib.contextmanager
def petgate_local(*options: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """A real `petgate local` process, as a user would run it; its URL (the plugin's helper)."""
    with running_gateway(*options, env=env) as gateway:
        yield gateway.url


@pytest.fixture(scope="session")
def local_url() -> Iterator[str]:
    """One `petgate local` for the whole session."""
    with petgate_local() as url:
        yield url


@pytest.fixture()
def local_env(local_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point the CLI at the session's local gateway through its environment variables."""
    monkeypatch.setenv("PETGATE_LOCAL_URL", local_url)
    for name in ("PETGATE_LOCAL", "PETGATE_OUTPUT", "PETGATE_API", "PETGATE_STAGE", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    return local_url


@pytest.fixture()
def apigw(local_url: str) -> Any:
    """A boto3 client on the local gateway, to check what the CLI stored."""
    return boto3.client(
        "apigateway",
        endpoint_url=local_url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def json(self) -> Any:
        return json.loads(self.stdout)


def run_cli(*args: str) -> Result:
    """Run petgate in-process, as its console script does, capturing both streams."""
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(args))
        except SystemExit as exc:
            code = int(exc.code or 0)
    return Result(code, out.getvalue(), err.getvalue())


@pytest.fixture()
def petgate(local_env: str) -> Any:
    """`petgate(*args)` runs `petgate --local *args` against the session's gateway."""

    def run(*args: str) -> Result:
        return run_cli("--local", *args)

    return run


@pytest.fixture()
def api_id(petgate: Any) -> str:
    """A fresh PetStore import (its own API, so tests do not share state)."""
    name = f"PetStore-{time.monotonic_ns()}"
    result = petgate("-o", "json", "import-example", "--name", name, "--new")
    assert result.exit_code == 0, result.stderr
    return str(result.json["api_id"])


def run_subprocess(*args: str, env: dict[str, str | None] | None = None, timeout: float = 60) -> Result:
    """Run the real `python -m petgate` process (for what only a process shows: tracebacks).

    A variable given as None is removed from the environment."""
    environment = dict(os.environ)
    for name, value in (env or {}).items():
        if value is None:
            environment.pop(name, None)
        else:
            environment[name] = value
    completed = subprocess.run(
        [sys.executable, "-m", "petgate", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=timeout,
    )
    return Result(completed.returncode, completed.stdout, completed.stderr)


Answer = tuple[int, dict[str, str], bytes]


class LoopbackServer:
    """A small HTTP server on 127.0.0.1 whose answers the test decides.

    `answer(method, path, headers, body)` returns (status, headers, body)."""

    def __init__(self, answer: Any) -> None:
        import http.server

        self.requests = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _serve(self) -> None:
                outer.requests += 1
                length = int(self.headers.get("Content-Length") or 0)
                status, headers, body = answer(self.command, self.path, self.headers, self.rfile.read(length))
                self.send_response(status)
                for name, value in {**headers, "Content-Length": str(len(body))}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve  # noqa: N815

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def deployed(petgate: Any, api_id: str) -> str:
    """A fresh PetStore import, deployed to stage test."""
    result = petgate("deploy", "--api", api_id)
    assert result.exit_code == 0, result.stderr
    return api_id


@pytest.fixture()
def waf_list(petgate: Any) -> Iterator[str]:
    """A WAF list of this test's own (lists are account-wide), deleted afterwards."""
    name = f"t{os.getpid()}{time.monotonic_ns()}"[-20:]
    yield name
    petgate("waf", "delete", "--list", name)
