"""probe.py's tables, the rows tests/test_probe.py has none for: a 400 answer is `other` (unless
AWS marks it as the resource policy's, a custom status code), and a bare 403 (no
x-amzn-ErrorType) is denied implicitly only when the policy the stage serves refuses this
caller with no Allow matching."""

from __future__ import annotations

import json
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


# --- issue 18: IAM-signed callers, signatures, private APIs ----------------------------------------

USER = "arn:aws:iam::111122223333:user/alice"
RESOURCE = "arn:aws:execute-api:us-east-1:********3333:abc123defg/test/GET/pets"


def caller_body(ending: str, who: str = USER) -> str:
    return json.dumps({"Message": f"User: {who} is not authorized to perform: execute-api:Invoke on resource: {RESOURCE}{ending}"})


@pytest.mark.parametrize(
    ("status", "error_type", "body", "reason", "outcome"),
    [
        # the ACCESS_DENIED message's endings (local/dataplane.py; IAM's current wording)
        (403, "AccessDeniedException", caller_body(" with an explicit deny in an identity-based policy"),
         "iam-explicit-deny", "denied"),
        (403, "AccessDeniedException", caller_body(" because no identity-based policy allows the execute-api:Invoke action"),
         "iam-implicit-deny", "denied"),
        (403, "AccessDeniedException", caller_body(" because no identity-based policy allows the execute-api:Invoke action."),
         "iam-implicit-deny", "denied"),
        (403, "AccessDeniedException", caller_body(" with an explicit deny"), "policy-explicit-deny", "denied"),
        (403, "AccessDeniedException", caller_body(""), "policy-implicit-deny", "denied"),
        (403, "AccessDeniedException", caller_body(" with an explicit deny in a resource-based policy"),
         "policy-explicit-deny", "denied"),
        (403, "AccessDeniedException", caller_body(" because no resource-based policy allows the execute-api:Invoke action"),
         "policy-implicit-deny", "denied"),
        (403, "AccessDeniedException", caller_body(" with an explicit deny in a service control policy"),
         "iam-explicit-deny", "denied"),  # the principal's side, as the identity policies
        (403, "AccessDeniedException", caller_body(" with an explicit deny", "arn:aws:sts::111122223333:assumed-role/R/s"),
         "policy-explicit-deny", "denied"),
        # a Lambda authorizer's words are no ARN's: which side refused is not said
        (403, "AccessDeniedException", '{"Message":"User is not authorized to access this resource with an explicit deny"}',
         "policy-deny", "denied"),
        # an unknown key, in the knowledge center's table: AccessDeniedException, and not the policy's
        (403, "AccessDeniedException", '{"message":"The security token included in the request is invalid."}',
         "unrecognized-client", "other"),
        (403, "UnrecognizedClientException", '{"message":"The security token included in the request is invalid."}',
         "unrecognized-client", "other"),
        (403, "InvalidSignatureException", '{"message":"The request signature we calculated does not match ..."}',
         "invalid-signature", "other"),
        (403, "InvalidSignatureException", '{"message":"Signature expired: 20240522T115159Z is now earlier than ..."}',
         "invalid-signature", "other"),
        (403, "IncompleteSignatureException", '{"message":"Authorization header requires \'Credential\' parameter."}',
         "invalid-signature", "other"),
        (403, "ExpiredTokenException", '{"message":"The security token included in the request is expired"}',
         "expired-token", "other"),
        # Missing Authentication Token: a missing route until the control plane says the route is there
        (403, "MissingAuthenticationTokenException", '{"message":"Missing Authentication Token"}', "missing-route", "other"),
        # a private API from outside its endpoints: AWS's plain Forbidden, for the control plane to settle
        (403, "ForbiddenException", '{"message":"Forbidden"}', "forbidden", "other"),
        # AWS's words for an IAM caller without AWS's header: not trusted on their own
        (403, None, caller_body(" with an explicit deny in an identity-based policy"), "forbidden", "other"),
    ],
)
def test_classify_iam_rows(status: int, error_type: str | None, body: str, reason: str, outcome: str) -> None:
    found = probe.classify(probe.Answer(status, body, error_type))
    assert found in probe.REASONS
    assert found == reason
    assert probe.outcome_of(found) == outcome


def test_only_access_control_satisfies_denied() -> None:
    """An explicit or implicit deny by the resource policy, the identity policies or WAF counts;
    a signature that failed or is missing, or a private API called from outside, does not."""
    assert set(probe.DENIED_REASONS) == {"policy-explicit-deny", "policy-implicit-deny", "policy-deny", "waf-block",
                                         "iam-explicit-deny", "iam-implicit-deny"}
    for reason in (*probe.SIGNATURE_REASONS, "private-endpoint-required"):
        assert reason in probe.REASONS and probe.outcome_of(reason) == "other"
        assert not probe.meets(probe.outcome_of(reason), "denied")


class Routes:
    """Facts for a Missing Authentication Token and a plain Forbidden, every question written down."""

    def __init__(self, route: bool = True, private: bool = False, stage: bool = True, waf: bool = False) -> None:
        self.calls: list[str] = []
        self._route, self._private, self._stage, self._waf = route, private, stage, waf

    def facts(self) -> probe.Facts:
        def asked(name: str, value: bool) -> Any:
            def answer() -> bool:
                self.calls.append(name)
                return value
            return answer

        return probe.Facts(stage_exists=asked("stage", self._stage), waf_refusal=asked("waf", self._waf),
                           policy_refusal=lambda: self.calls.append("policy") or "implicit",  # type: ignore[func-returns-value]
                           route_exists=asked("route", self._route), private_api=asked("private", self._private))


@pytest.mark.parametrize(
    ("signed", "route", "reason", "asked"),
    [
        (False, True, "missing-signature", ["route"]),  # the stage serves the route: the signature is missing
        (False, False, "missing-route", ["route"]),
        (True, True, "missing-route", []),  # a signed request never gets it from an AWS_IAM method
        (True, False, "missing-route", []),
    ],
)
def test_missing_authentication_token_is_a_signature_or_a_route(signed: bool, route: bool, reason: str,
                                                                 asked: list[str]) -> None:
    routes = Routes(route=route)
    assert probe.corroborate("missing-route", routes.facts(), "MissingAuthenticationTokenException", signed) == reason
    assert routes.calls == asked


@pytest.mark.parametrize(
    ("stage", "private", "waf", "reason", "asked"),
    [
        (True, True, False, "private-endpoint-required", ["stage", "private"]),
        (True, True, True, "private-endpoint-required", ["stage", "private"]),  # outside the VPC: WAF is never reached
        (False, True, False, "stage-not-found", ["stage"]),
        (True, False, True, "waf-block", ["stage", "private", "waf"]),
        (True, False, False, "forbidden", ["stage", "private", "waf"]),  # the header says Forbidden: not the policy
    ],
)
def test_a_plain_forbidden_to_a_private_api(stage: bool, private: bool, waf: bool, reason: str, asked: list[str]) -> None:
    routes = Routes(stage=stage, private=private, waf=waf)
    assert probe.corroborate("forbidden", routes.facts(), "ForbiddenException") == reason
    assert routes.calls == asked


def test_a_signed_bare_403_is_not_settled_by_the_anonymous_policy() -> None:
    """Without the header, the deployed policy settles an unsigned caller's 403; a signed caller's
    identity policies are not read, so its 403 stays `forbidden`."""
    unsigned, signed = Routes(), Routes()
    assert probe.corroborate("forbidden", unsigned.facts(), None) == "policy-implicit-deny"
    assert probe.corroborate("forbidden", signed.facts(), None, signed=True) == "forbidden"
    assert "policy" not in signed.calls


def test_the_loop_asks_once_per_answer_and_says_it_signed() -> None:
    routes = Routes(route=True)
    clock = FakeClock()
    answer = probe.Answer(403, '{"message":"Missing Authentication Token"}', "MissingAuthenticationTokenException")
    result = probe.run("http://x", lambda: answer, "allowed", 3, None, clock, clock.sleep, facts=routes.facts())
    assert result.reason == "missing-signature" and result.outcome == "other" and result.attempts > 1
    assert routes.calls == ["route"], "settled once for the same answer"
    signed = probe.run("http://x", lambda: answer, "any", 3, None, clock, clock.sleep, facts=Routes().facts(), signed=True)
    assert signed.reason == "missing-route"
