"""probe.py's tables, the rows tests/test_probe.py has none for: a 400 answer is `other` (unless
AWS marks it as the resource policy's, a custom status code), and a bare 403 (no
x-amzn-ErrorType) is denied implicitly only when the policy the stage serves refuses this
caller with no Allow matching."""

from __future__ import annotations

from typing import Any

import pytest

from petgate import probe
from tests.conftest import LoopbackServer, run_cli

IMPLICIT_BODY = (
    '{"Message":"User: anonymous is not authorized to perform: execute-api:Invoke on resource: '
    'arn:aws:execute-api:us-east-1:********9012:abc123defg/test/GET/"}'
)


@pytest.mark.parametrize(
    ("status", "error_type", "body", "reason", "outcome"),
    [
        (400, None, '{"message":"Bad request"}', "other", "other"),
        (400, "BadRequestException", '{"message":"Invalid request body"}', "other", "other"),
        (400, None, IMPLICIT_BODY, "other", "other"),  # AWS's words, neither its header nor a 403
        # ACCESS_DENIED given status 400 by its gateway response: still the policy's (AWS's header)
        (400, "AccessDeniedException", IMPLICIT_BODY, "policy-implicit-deny", "denied"),
        (400, "MissingAuthenticationTokenException", '{"message":"Missing Authentication Token"}', "missing-route", "other"),
        (401, None, '{"message":"Unauthorized"}', "other", "other"),
        (429, "TooManyRequestsException", '{"message":"Too Many Requests"}', "other", "other"),
        (403, None, IMPLICIT_BODY, "forbidden", "other"),  # a bare 403: for the control plane to settle
        (399, None, "", "allowed", "allowed"),
        (199, None, "", "other", "other"),
    ],
)
def test_classify_more_rows(status: int, error_type: str | None, body: str, reason: str, outcome: str) -> None:
    found = probe.classify(probe.Answer(status, body, error_type))
    assert found == reason
    assert probe.outcome_of(found) == outcome


class Asked:
    """Facts whose every question is written down."""

    def __init__(self, stage: bool = True, waf: bool = False, policy: str | None = None) -> None:
        self.calls: list[str] = []
        self._stage, self._waf, self._policy = stage, waf, policy

    def facts(self) -> probe.Facts:
        def stage_exists() -> bool:
            self.calls.append("stage")
            return self._stage

        def waf_refusal() -> bool:
            self.calls.append("waf")
            return self._waf

        def policy_refusal() -> str | None:
            self.calls.append("policy")
            return self._policy

        return probe.Facts(stage_exists=stage_exists, policy_refusal=policy_refusal, waf_refusal=waf_refusal)


@pytest.mark.parametrize(
    ("stage", "waf", "policy", "reason"),
    [
        (True, False, "implicit", "policy-implicit-deny"),  # no Allow matches this caller
        (True, False, "explicit", "policy-explicit-deny"),
        (True, True, "implicit", "waf-block"),  # WAF decides first
        (False, False, "implicit", "stage-not-found"),
        (True, False, None, "forbidden"),
    ],
)
def test_a_bare_403_is_settled_by_what_the_stage_serves(stage: bool, waf: bool, policy: str | None, reason: str) -> None:
    asked = Asked(stage, waf, policy)
    assert probe.corroborate("forbidden", asked.facts(), None) == reason


def test_the_control_plane_is_asked_in_the_data_planes_order() -> None:
    asked = Asked(policy="implicit")
    probe.corroborate("forbidden", asked.facts(), None)
    assert asked.calls == ["stage", "waf", "policy"]
    stopped = Asked(stage=False, policy="implicit")
    probe.corroborate("forbidden", stopped.facts(), None)
    assert stopped.calls == ["stage"], "no stage: nothing more to ask"


def test_a_403_with_a_header_is_not_settled_by_the_policy() -> None:
    asked = Asked(policy="implicit")
    assert probe.corroborate("forbidden", asked.facts(), "ForbiddenException") == "forbidden"
    assert "policy" not in asked.calls


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_verify_calls_a_bare_403_the_policy_refuses_implicitly_denied() -> None:
    asked = Asked(policy="implicit")
    clock = FakeClock()
    result = probe.run("http://x", lambda: probe.Answer(403, IMPLICIT_BODY, None), "denied", 5, "abc123defg",
                       clock, clock.sleep, facts=asked.facts())
    assert result.ok and result.attempts == 1
    assert (result.reason, result.outcome, result.status, result.error_type) == ("policy-implicit-deny", "denied", 403, None)
    assert {leak["kind"] for leak in result.leaks} == {"arn", "masked_account_id"}


def test_a_400_is_never_denied_and_asks_nothing() -> None:
    asked = Asked(policy="implicit")
    clock = FakeClock()
    result = probe.run("http://x", lambda: probe.Answer(400, '{"message":"Bad request"}', "BadRequestException"),
                       "denied", 3, None, clock, clock.sleep, facts=asked.facts())
    assert not result.ok and result.outcome == "other" and result.reason == "other" and result.status == 400
    assert result.attempts > 1 and asked.calls == [], "a 400 is not ambiguous: the control plane is not asked"
    anything = probe.run("http://x", lambda: probe.Answer(400, "", None), "any", 3, None, clock, clock.sleep)
    assert anything.ok and anything.attempts == 1 and anything.outcome == "other"


def test_verify_url_reports_a_400_as_other() -> None:
    server = LoopbackServer(lambda *_: (400, {"x-amzn-ErrorType": "BadRequestException"}, b'{"message":"Bad request"}'))
    try:
        denied: Any = run_cli("-o", "json", "verify", "--url", server.url, "--expect", "denied", "--timeout", "0.3")
        anything: Any = run_cli("-o", "json", "verify", "--url", server.url, "--expect", "any")
    finally:
        server.close()
    assert denied.exit_code == 1, denied.stderr
    assert denied.json["status"] == 400 and denied.json["outcome"] == "other" and denied.json["reason"] == "other"
    assert denied.json["error_type"] == "BadRequestException"
    assert "expected denied, got other (other, HTTP 400)" in denied.stderr
    assert anything.exit_code == 0 and anything.json["ok"] is True and anything.json["attempts"] == 1
