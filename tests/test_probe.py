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


IMPLICIT_BODY = AWS_BODY.replace(" with an explicit deny", "")


@pytest.mark.parametrize(
    ("status", "error_type", "body", "reason", "outcome"),
    [
        (200, None, "ok", "allowed", "allowed"),
        (302, None, "", "allowed", "allowed"),
        (403, "AccessDeniedException", AWS_BODY, "policy-explicit-deny", "denied"),
        (403, "AccessDeniedException", IMPLICIT_BODY, "policy-implicit-deny", "denied"),
        # a custom ACCESS_DENIED template: AWS still says AccessDeniedException
        (403, "AccessDeniedException", '{"message":"Access denied"}', "policy-deny", "denied"),
        (401, "AccessDeniedException", "nope", "policy-deny", "denied"),  # a custom status code
        (403, "AccessDeniedException:http://internal.amazon.com/coral/", AWS_BODY, "policy-explicit-deny", "denied"),
        (403, "MissingAuthenticationTokenException", '{"message":"Missing Authentication Token"}', "missing-route", "other"),
        (403, "ForbiddenException", '{"message":"Forbidden"}', "forbidden", "other"),
        # AWS's body without AWS's header (a backend can send anything): not denied on its own
        (403, None, AWS_BODY, "forbidden", "other"),
        (403, None, '{"message":"Access denied"}', "forbidden", "other"),
        (404, None, "", "other", "other"),
        (500, None, "boom", "other", "other"),
    ],
)
def test_classify(status: int, error_type: str | None, body: str, reason: str, outcome: str) -> None:
    found = probe.classify(probe.Answer(status, body, error_type))
    assert found == reason
    assert probe.outcome_of(found) == outcome


class Asked:
    """Facts that count how often the control plane is asked."""

    def __init__(self, stage_exists: bool, refusal: str | None) -> None:
        self.calls: list[str] = []
        self._stage, self._refusal = stage_exists, refusal

    def facts(self) -> probe.Facts:
        def stage_exists() -> bool:
            self.calls.append("stage")
            return self._stage

        def policy_refusal() -> str | None:
            self.calls.append("policy")
            return self._refusal

        return probe.Facts(stage_exists, policy_refusal)


@pytest.mark.parametrize(
    ("error_type", "stage_exists", "refusal", "reason"),
    [
        ("ForbiddenException", False, None, "stage-not-found"),
        ("ForbiddenException", True, "explicit", "forbidden"),  # AWS said Forbidden, not the policy
        (None, False, None, "stage-not-found"),
        (None, True, "explicit", "policy-explicit-deny"),  # header stripped on the way: policy corroborates
        (None, True, "implicit", "policy-implicit-deny"),
        (None, True, None, "forbidden"),  # the policy lets this caller in: someone else's 403
    ],
)
def test_corroborate_a_bare_403(error_type: str | None, stage_exists: bool, refusal: str | None, reason: str) -> None:
    asked = Asked(stage_exists, refusal)
    assert probe.corroborate("forbidden", asked.facts(), error_type) == reason


@pytest.mark.parametrize("reason", ["allowed", "policy-deny", "policy-explicit-deny", "missing-route", "other"])
def test_only_a_bare_403_asks_the_control_plane(reason: str) -> None:
    asked = Asked(False, "explicit")
    assert probe.corroborate(reason, asked.facts()) == reason
    assert asked.calls == []


def test_the_control_plane_is_asked_once_per_distinct_answer() -> None:
    asked = Asked(False, None)
    clock = FakeClock()
    forbidden = probe.Answer(403, '{"message":"Forbidden"}', "ForbiddenException")
    result = probe.run("http://x", lambda: forbidden, "denied", 5, "abc123defg", clock, clock.sleep, facts=asked.facts())
    assert not result.ok and result.reason == "stage-not-found" and result.outcome == "other"
    assert result.attempts > 3 and asked.calls == ["stage"]


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
        "http://x", lambda: probe.Answer(next(answers), AWS_BODY, "AccessDeniedException"), "denied", 60, "abc123defg", clock, clock.sleep
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
        if status == 403:  # a custom ACCESS_DENIED template, as AWS sends it
            return status, {"x-amzn-ErrorType": "AccessDeniedException"}, b'{"message":"Access denied"}'
        return status, {}, b"hello"

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
    assert data["reason"] == "policy-deny" and data["error_type"] == "AccessDeniedException"
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


def test_verify_url_does_not_call_a_bare_403_denied() -> None:
    """Without AWS's header and with no API to ask, a 403 is just `forbidden`."""
    server = LoopbackServer(lambda *_: (403, {}, b'{"message":"Forbidden"}'))
    try:
        result = run_cli("-o", "json", "verify", "--url", server.url, "--expect", "denied", "--timeout", "0.3")
    finally:
        server.close()
    assert result.exit_code == 1
    assert result.json["reason"] == "forbidden" and result.json["outcome"] == "other"


def test_verify_exits_4_when_nothing_answers() -> None:
    result = run_cli("verify", "--url", "http://127.0.0.1:9/", "--expect", "allowed", "--timeout", "0.5")
    assert result.exit_code == 4
    assert "cannot reach http://127.0.0.1:9/" in result.stderr


@pytest.mark.parametrize(("waf_blocks", "reason"), [(True, "waf-block"), (False, "forbidden")])
def test_a_plain_forbidden_is_waf_only_if_the_web_acl_blocks_this_caller(waf_blocks: bool, reason: str) -> None:
    facts = probe.Facts(stage_exists=lambda: True, policy_refusal=lambda: None, waf_refusal=lambda: waf_blocks)
    assert probe.corroborate("forbidden", facts, "ForbiddenException") == reason
    assert probe.outcome_of(reason) == ("denied" if waf_blocks else "other")


def test_verifys_result_has_every_field_of_the_probes_record() -> None:
    """ops.verify.Probed is the loop's record, frozen: the same keys, the leaks as objects, and
    whether (and as whom) it was signed."""
    import dataclasses

    from petgate.ops.verify import Leak, Probed, Signer, Verified

    clock = FakeClock()
    record = probe.run("http://x", lambda: probe.Answer(403, AWS_BODY, "AccessDeniedException"), "denied", 5,
                       "abc123defg", clock, clock.sleep)
    probed = Probed.of(record)
    unsigned = {"signed": False, "signed_as": None}
    assert probed.to_json() == {**dataclasses.asdict(record), **unsigned}
    assert [type(leak) for leak in probed.leaks] == [Leak] * len(record.leaks) and probed.leaks
    verified = Verified(api_id="abc123defg", stage="test", probed=probed).to_json()
    assert verified == {"api_id": "abc123defg", "stage": "test", **dataclasses.asdict(record), **unsigned}
    alice = "arn:aws:iam::111122223333:user/alice"
    signed = Probed.of(record, Signer(None, "us-east-1", alice)).to_json()
    assert (signed["signed"], signed["signed_as"]) == (True, alice)
    record.reason = "unrecognized-client"  # the gateway did not know the key: it is no one's
    assert Probed.of(record, Signer(None, "us-east-1", alice)).to_json()["signed_as"] is None


@pytest.mark.parametrize(
    ("method", "path", "served"),
    [
        ("GET", "/", True),
        ("GET", "/pets", True),
        ("GET", "/pets/", True),
        ("GET", "/pets/1", True),
        ("POST", "/pets", True),
        ("DELETE", "/pets", False),  # no such method on the resource
        ("GET", "/pets/1/toys", False),
        ("GET", "/nosuch", False),
        ("PUT", "/files/a/b/c", True),  # {proxy+} takes the rest, and ANY every method
        ("PUT", "/files", False),  # a greedy parameter takes one segment or more
    ],
)
def test_which_routes_an_export_serves(method: str, path: str, served: bool) -> None:
    """verify's `route_exists` fact: an unsigned Missing Authentication Token on a route the
    stage serves is a missing signature."""
    from petgate.ops.verify import serves_route

    paths = {"/": {"get": {}}, "/pets": {"get": {"security": [{"sigv4": []}]}, "post": {}},
             "/pets/{petId}": {"get": {}}, "/files/{proxy+}": {"x-amazon-apigateway-any-method": {}}}
    assert serves_route(paths, method, path) is served
