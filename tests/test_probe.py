"""probe.py: classification, leak detection, and verify's retry loop."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from petgate import probe
from tests.conftest import LoopbackServer, run_cli

AWS_BODY = (
    '{"Message":"User: anonymous is not authorized to perform: execute-api:Invoke on resource: '
    'arn:aws:execute-api:us-east-1:********9012:abc123defg/test/GET/ with an explicit deny"}'
)


@pytest.mark.parametrize(
    ("status", "outcome"), [(200, "allowed"), (302, "allowed"), (403, "denied"), (404, "other"), (500, "other")]
)
def test_classify(status: int, outcome: str) -> None:
    assert probe.classify(status) == outcome


def test_find_leaks_in_the_aws_body() -> None:
    kinds = {leak["kind"] for leak in probe.find_leaks(AWS_BODY, "abc123defg")}
    assert kinds == {"arn", "masked_account_id"}
    assert probe.find_leaks('{"message":"Access denied"}', "abc123defg") == []
    assert {leak["kind"] for leak in probe.find_leaks("account 123456789012 api abc123defg", "abc123defg")} == {
        "account_id",
        "api_id",
    }


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds




def test_retries_until_expected_with_capped_backoff() -> None:
    answers = iter([200, 200, 200, 200, 200, 200, 403])
    clock = FakeClock()
    result = probe.run(
        "http://x", lambda: probe.Answer(next(answers), AWS_BODY), "denied", 60, "abc123defg", clock, clock.sleep
    )
    assert result.ok and result.attempts == 7 and result.status == 403
    assert clock.sleeps == [0.25, 0.5, 1.0, 2.0, 2.0, 2.0]
    assert {leak["kind"] for leak in result.leaks} == {"arn", "masked_account_id"}


def test_gives_up_at_the_timeout() -> None:
    clock = FakeClock()
    result = probe.run("http://x", lambda: probe.Answer(200, "ok"), "denied", 5, None, clock, clock.sleep)
    assert not result.ok and result.outcome == "allowed"
    assert clock.now <= 5
    assert result.attempts == 1 + len(clock.sleeps)


def test_expect_any_takes_one_answer() -> None:
    clock = FakeClock()
    result = probe.run("http://x", lambda: probe.Answer(500, "boom"), "any", 30, None, clock, clock.sleep)
    assert result.ok and result.attempts == 1 and result.outcome == "other"


def test_network_errors_are_retried_then_reported() -> None:
    clock = FakeClock()

    def refuse() -> probe.Answer:
        raise ConnectionRefusedError("refused")

    result = probe.run("http://x", refuse, "allowed", 3, None, clock, clock.sleep)
    assert not result.ok and result.outcome == "unreachable" and result.error == "refused"
    assert result.attempts > 1


def scripted_server(statuses: list[int]) -> LoopbackServer:
    """Answers the statuses in turn, then the last one again and again."""
    remaining = list(statuses)

    def answer(*_: object) -> tuple[int, dict[str, str], bytes]:
        status = remaining.pop(0) if len(remaining) > 1 else remaining[0]
        return status, {}, b'{"message":"Access denied"}' if status == 403 else b"hello"

    return LoopbackServer(answer)


@pytest.fixture()
def server_200_200_403() -> Iterator[LoopbackServer]:
    server = scripted_server([200, 200, 403])
    yield server
    server.close()


def test_verify_command_retries_against_a_real_server(server_200_200_403: LoopbackServer) -> None:
    result = run_cli("-o", "json", "verify", "--url", server_200_200_403.url, "--expect", "denied", "--timeout", "10")
    assert result.exit_code == 0, result.stderr
    data = result.json
    assert data["status"] == 403 and data["outcome"] == "denied" and data["ok"] is True
    assert data["attempts"] == 3 == server_200_200_403.requests
    assert data["leaks"] == [] and data["body"] == '{"message":"Access denied"}'
    assert set(data) >= {"url", "status", "outcome", "expected", "ok", "attempts", "elapsed_s", "body", "leaks"}


def test_verify_exits_1_when_the_expectation_is_not_met() -> None:
    server = scripted_server([200])
    try:
        result = run_cli("verify", "--url", server.url, "--expect", "denied", "--timeout", "1")
    finally:
        server.close()
    assert result.exit_code == 1
    assert "expected denied, got allowed" in result.stderr
    assert "Traceback" not in result.stderr


def test_verify_exits_4_when_nothing_answers() -> None:
    result = run_cli("verify", "--url", "http://127.0.0.1:9/", "--expect", "allowed", "--timeout", "0.5")
    assert result.exit_code == 4
    assert "cannot reach http://127.0.0.1:9/" in result.stderr
