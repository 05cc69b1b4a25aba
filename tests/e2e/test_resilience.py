"""Throttling, hostile input and load: clear errors, waits instead of failures, no lost answers."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from petgate import policy as policies
from petgate.local.throttle import TokenBucket
from tests.conftest import LoopbackServer, petgate_local, run_cli
from tests.test_errors import assert_one_clear_line


@pytest.fixture(scope="module")
def throttled_url() -> Iterator[str]:
    with petgate_local("--throttle") as url:
        yield url


def test_token_bucket() -> None:
    now = [0.0]
    bucket = TokenBucket(1 / 5, 1.0, lambda: now[0])
    assert bucket.take() == 0.0
    assert bucket.take() == pytest.approx(5.0)
    now[0] = 4.0
    assert bucket.take() == pytest.approx(1.0)
    now[0] = 5.0
    assert bucket.take() == 0.0


def test_walkthrough_waits_for_the_quota_instead_of_failing(throttled_url: str, monkeypatch: Any) -> None:
    monkeypatch.setenv("PETGATE_LOCAL_URL", throttled_url)
    result = run_cli("--local", "-o", "json", "walkthrough", "--name", "Throttled", "--cleanup", "--timeout", "10")
    assert result.exit_code == 0, result.stderr
    deploys = [s for s in result.json["steps"] if "deployment_id" in s]
    assert len(deploys) == 4
    assert sum(s["quota_waits"] for s in deploys) >= 3, "three redeploys within 5 s of each other must wait"
    assert all(s["quota_wait_s"] >= 5.0 * s["quota_waits"] for s in deploys)
    assert "waiting 5.0s for AWS quota (CreateDeployment was throttled)" in result.stderr


def test_throttled_gateway_answers_429_with_retry_after(throttled_url: str) -> None:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError

    def client(attempts: int) -> Any:
        return boto3.client(
            "apigateway", endpoint_url=throttled_url, region_name="us-east-1", aws_access_key_id="quota",
            aws_secret_access_key="quota", config=Config(retries={"mode": "standard", "max_attempts": attempts}),
        )

    patient, impatient = client(10), client(1)
    api_id = patient.create_rest_api(name="Quota")["id"]
    root = patient.get_resources(restApiId=api_id)["items"][0]["id"]
    patient.put_method(restApiId=api_id, resourceId=root, httpMethod="GET", authorizationType="NONE")
    patient.put_integration(restApiId=api_id, resourceId=root, httpMethod="GET", type="MOCK")
    patient.create_deployment(restApiId=api_id, stageName="a")  # may wait for the account's quota
    with pytest.raises(ClientError) as raised:
        impatient.create_deployment(restApiId=api_id, stageName="a")
    error = raised.value.response
    assert error["Error"]["Code"] == "TooManyRequestsException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert 1 <= int(error["ResponseMetadata"]["HTTPHeaders"]["retry-after"]) <= 5


@pytest.mark.parametrize(
    ("body", "message"),
    [(b"", "empty body"), (b"203.0.113.7\n198.51.100.9\n", "2 lines"), (b"not an address\n", "not an IP address")],
)
def test_checkip_answering_garbage(petgate: Any, api_id: str, apigw: Any, body: bytes, message: str) -> None:
    server = LoopbackServer(lambda *_: (200, {}, body))
    try:
        result = petgate("--checkip-url", server.url, "block-my-ip", "--api", api_id)
    finally:
        server.close()
    assert_one_clear_line(result, 4, message)
    assert apigw.get_rest_api(restApiId=api_id).get("policy") is None


def test_checkip_that_hangs_times_out(petgate: Any, api_id: str) -> None:
    with socket.socket() as listener:  # accepts connections into its backlog, never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/"
        result = petgate("--checkip-url", url, "block-my-ip", "--api", api_id)
    assert_one_clear_line(result, 4, "cannot reach checkip")


def test_private_checkip_address_warns_when_not_local(api_id: str, apigw: Any, local_url: str, monkeypatch: Any) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "y")
    server = LoopbackServer(lambda *_: (200, {}, b"10.1.2.3\n"))
    try:
        result = run_cli("--endpoint-url", local_url, "--region", "us-east-1", "--checkip-url", server.url,
                         "block-my-ip", "--api", api_id, "--no-deploy")
    finally:
        server.close()
    assert result.exit_code == 0, result.stderr
    assert "10.1.2.3, a private or loopback address: that is not the address AWS will see" in result.stderr
    assert policies.blocked_cidrs(policies.decode_stored(apigw.get_rest_api(restApiId=api_id)["policy"])) == ["10.1.2.3/32"]


def test_a_policy_over_the_size_quota_is_refused_whole(petgate: Any, api_id: str, apigw: Any) -> None:
    cidrs = [f"10.{n // 200}.{(n % 200)}.{n % 7 * 2}/32" for n in range(0, 1400, 2)]
    args = [arg for c in cidrs for arg in ("--cidr", c)]
    result = petgate("block-my-ip", "--api", api_id, *args)
    assert_one_clear_line(result, 2, "longer than 8192 characters")
    assert "of them fit (nothing was written)" in result.stderr
    assert apigw.get_rest_api(restApiId=api_id).get("policy") is None


def test_verify_explains_a_missing_stage(petgate: Any, api_id: str) -> None:
    result = petgate("verify", "--api", api_id, "--stage", "nope", "--expect", "allowed", "--timeout", "0.3")
    assert_one_clear_line(result, 1, "got other (stage-not-found, HTTP 403)")
    assert f"API {api_id} has no stage 'nope'" in result.stderr


@pytest.fixture()
def inprocess_gateway(monkeypatch: Any) -> Iterator[str]:
    """A gateway in this process, so a test can corrupt moto's state the API would refuse."""
    from petgate.local.server import start_in_thread

    running = start_in_thread()
    monkeypatch.setenv("PETGATE_LOCAL_URL", running.url)
    yield running.url
    running.stop()


def test_an_unreadable_stored_policy_is_left_alone(inprocess_gateway: str) -> None:
    from moto.apigateway.models import apigateway_backends

    api_id = run_cli("--local", "-o", "json", "import-example", "--name", "Corrupt", "--new").json["api_id"]
    api = apigateway_backends["123456789012"]["us-east-1"].apis[api_id]
    api.policy = "{this is not json"
    result = run_cli("--local", "block-my-ip", "--api", api_id, "--cidr", "192.0.2.1")
    assert_one_clear_line(result, 2, "not valid JSON; petgate leaves it as it is")
    assert "unblock --all" in result.stderr
    assert api.policy == "{this is not json"
    removed = run_cli("--local", "unblock", "--api", api_id, "--all", "--no-deploy")
    assert removed.exit_code == 0 and api.policy is None


def _with_sigint_default() -> None:
    # the test runner may itself ignore SIGINT (a background job of a script); a child inherits
    # that, so give it back the default, as a terminal would
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_during_verify_stops_cleanly(local_env: str) -> None:
    server = LoopbackServer(lambda *_: (200, {}, b"open"))
    process = subprocess.Popen(
        [sys.executable, "-m", "petgate", "verify", "--url", server.url, "--expect", "denied", "--timeout", "60"],
        stderr=subprocess.PIPE, text=True, env=os.environ.copy(), preexec_fn=_with_sigint_default,
    )
    try:
        assert process.stderr is not None
        first_line = process.stderr.readline()  # the probe has started once this is printed
        assert "Requesting" in first_line
        process.send_signal(signal.SIGINT)
        _, rest = process.communicate(timeout=20)  # bounded: a missed signal fails, never hangs
        assert process.returncode == 130, rest
    finally:
        process.kill()
        server.close()
    assert "Traceback" not in rest and "interrupted" in rest


def test_ctrl_c_during_start_up_imports_is_quiet() -> None:
    """The moment before click, boto3 and rich are imported: exit 130, no traceback."""
    script = (
        "import os, signal\n"
        "from petgate import entry\n"
        "entry.quiet_interrupts_while_starting()\n"
        "os.kill(os.getpid(), signal.SIGINT)\n"  # as if Ctrl-C came now
        "import petgate.cli\n"
        "print('not reached')\n"
    )
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30,
                               preexec_fn=_with_sigint_default)
    assert completed.returncode == 130
    assert completed.stderr == "error: interrupted\n" and "not reached" not in completed.stdout


def test_a_process_started_with_sigint_ignored_keeps_ignoring_it() -> None:
    script = (
        "import signal\n"
        "from petgate import entry\n"
        "entry.quiet_interrupts_while_starting()\n"
        "print(signal.getsignal(signal.SIGINT) is signal.SIG_IGN)\n"
    )
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    assert completed.stdout.strip() == "True"


def test_the_gateway_under_load_and_bad_requests(petgate: Any, api_id: str, local_url: str) -> None:
    petgate("deploy", "--api", api_id)
    base = f"{local_url}/restapis/{api_id}/test/_user_request_/pets/"
    host, port = "127.0.0.1", int(local_url.rsplit(":", 1)[1])

    # a slow client holds a half-sent request open for the whole run
    slow = socket.create_connection((host, port))
    slow.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
    # malformed HTTP and a huge header get an answer (or a close), and the server lives on
    with socket.create_connection((host, port)) as bad:
        bad.sendall(b"\x16\x03\x01 NOT HTTP AT ALL\r\n\r\n")
        bad.settimeout(5)
        answer = b"".join(iter(lambda: bad.recv(4096), b""))
        assert b"400" in answer, "an unparseable request line gets a 400 (as a bare HTTP/0.9 page)"
    huge = requests.get(base + "1", headers={"X-Huge": "x" * 200_000})
    assert huge.status_code in (400, 413, 431)

    errors: list[str] = []
    lock = threading.Lock()

    def client(worker: int) -> None:
        with requests.Session() as session:
            for n in range(100):
                pet_id = (worker * 100 + n) % 15 + 1
                response = session.get(base + str(pet_id), timeout=30)
                if response.status_code != 200 or response.json().get("id") != pet_id:
                    with lock:
                        errors.append(f"{pet_id}: {response.status_code} {response.text[:80]}")

    with ThreadPoolExecutor(max_workers=50) as pool:
        list(pool.map(client, range(50)))
    slow.close()
    assert errors == []
    assert requests.get(base + "3").json()["id"] == 3


def _aws_error(status: int, code: str, message: str) -> tuple[int, dict[str, str], bytes]:
    import json as _json

    return status, {"Content-Type": "application/json", "x-amzn-ErrorType": code}, _json.dumps({"message": message}).encode()


def run_against(server: LoopbackServer, *args: str) -> Any:
    env = {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y", "AWS_MAX_ATTEMPTS": "1"}
    from tests.conftest import run_subprocess

    return run_subprocess("--endpoint-url", server.url, "--region", "us-east-1", *args, env=env)


def test_expired_credentials() -> None:
    server = LoopbackServer(lambda *_: _aws_error(403, "ExpiredTokenException", "The security token included in the request is expired"))
    try:
        result = run_against(server, "deploy", "--api", "abcdefghij")
    finally:
        server.close()
    assert_one_clear_line(result, 3, "AWS refused the credentials (ExpiredTokenException")
    assert "refresh an expired session" in result.stderr


def test_an_api_deleted_between_two_calls() -> None:
    def answer(method: str, path: str, *_: Any) -> tuple[int, dict[str, str], bytes]:
        if method == "GET":  # the read still sees it...
            return 200, {"Content-Type": "application/json"}, b'{"id": "abcdefghij", "name": "PetStore"}'
        return _aws_error(404, "NotFoundException", "Invalid API identifier specified")  # ...the write does not

    server = LoopbackServer(answer)
    try:
        result = run_against(server, "block-my-ip", "--api", "abcdefghij", "--cidr", "192.0.2.1")
    finally:
        server.close()
    assert_one_clear_line(result, 3, "NotFoundException: Invalid API identifier specified")


def test_an_html_error_page_is_named_on_one_line() -> None:
    page = b"<!DOCTYPE HTML>\n<html>\n<body>\n<h1>502 Bad Gateway</h1>\n</body>\n</html>\n"
    server = LoopbackServer(lambda *_: (502, {"Content-Type": "text/html"}, page))
    try:
        result = run_against(server, "deploy", "--api", "abcdefghij")
    finally:
        server.close()
    assert_one_clear_line(result, 3, "HTTP 502 with an HTML page, not an API Gateway answer")


def test_a_control_plane_that_hangs_times_out() -> None:
    from tests.conftest import run_subprocess

    with socket.socket() as listener:  # accepts into its backlog, never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        env = {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y", "AWS_MAX_ATTEMPTS": "2", "PETGATE_CONTROL_TIMEOUT": "0.5"}
        result = run_subprocess("--endpoint-url", url, "--region", "us-east-1", "deploy", "--api", "abcdefghij", env=env, timeout=30)
    assert_one_clear_line(result, 4, "cannot reach the control plane")
