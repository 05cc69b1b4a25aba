"""verify never calls a 403 "denied" unless the API's access control refused the caller."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests


def verify_denied(petgate: Any, api_id: str, *more: str) -> Any:
    return petgate("-o", "json", "verify", "--api", api_id, "--expect", "denied", "--timeout", "0.3", *more)


@pytest.mark.parametrize(
    ("options", "reason", "error_type"),
    [
        (("--stage", "tset"), "stage-not-found", "ForbiddenException"),  # a typo in the stage name
        (("--path", "/nosuch"), "missing-route", "MissingAuthenticationTokenException"),
        (("--path", "/pets", "--stage", "test"), "allowed", None),
    ],
)
def test_a_403_that_is_not_the_policys_is_not_denied(
    petgate: Any, deployed: str, options: tuple[str, ...], reason: str, error_type: str | None
) -> None:
    result = verify_denied(petgate, deployed, *options)
    assert result.exit_code == 1, result.stderr
    assert result.json["reason"] == reason and result.json["error_type"] == error_type
    assert result.json["outcome"] != "denied" and result.json["ok"] is False
    assert f"expected denied, got {result.json['outcome']} ({reason}" in result.stderr


def test_an_api_never_deployed_is_not_denied(petgate: Any, api_id: str) -> None:
    result = verify_denied(petgate, api_id)
    assert result.exit_code == 1
    assert result.json["reason"] == "stage-not-found"
    assert f"API {api_id} has no stage 'test'" in result.stderr


def test_policy_refusals_are_denied_with_their_kind(petgate: Any, deployed: str) -> None:
    assert petgate("block-my-ip", "--api", deployed).exit_code == 0
    explicit = verify_denied(petgate, deployed)
    assert explicit.exit_code == 0, explicit.stderr
    assert explicit.json["reason"] == "policy-explicit-deny" and explicit.json["error_type"] == "AccessDeniedException"
    assert petgate("set-403-template", "--api", deployed).exit_code == 0
    custom = verify_denied(petgate, deployed)
    assert custom.exit_code == 0 and custom.json["reason"] == "policy-deny" and custom.json["leaks"] == []


def test_an_implicit_deny_is_named(petgate: Any, deployed: str, apigw: Any) -> None:
    # only 198.51.100.0/24 is allowed, nothing denies: this caller (127.0.0.1) is refused implicitly
    policy = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*",
        "Condition": {"IpAddress": {"aws:SourceIp": "198.51.100.0/24"}}}]}
    apigw.update_rest_api(restApiId=deployed, patchOperations=[{"op": "replace", "path": "/policy", "value": json.dumps(policy)}])
    assert petgate("deploy", "--api", deployed).exit_code == 0
    result = verify_denied(petgate, deployed)
    assert result.exit_code == 0 and result.json["reason"] == "policy-implicit-deny"


def test_error_answers_carry_aws_headers(petgate: Any, deployed: str, local_url: str) -> None:
    base = f"{local_url}/restapis/{deployed}"
    for url, error_type in [
        (f"{base}/nope/_user_request_/", "ForbiddenException"),
        (f"{base}/test/_user_request_/nosuch", "MissingAuthenticationTokenException"),
    ]:
        response = requests.get(url, timeout=5)
        assert response.status_code == 403 and response.headers["x-amzn-ErrorType"] == error_type
        assert response.headers["x-amzn-RequestId"] and len(response.headers["x-amz-apigw-id"]) == 16
    ok = requests.get(f"{base}/test/_user_request_/", timeout=5)
    assert ok.status_code == 200 and "x-amzn-ErrorType" not in ok.headers and ok.headers["x-amz-apigw-id"]


def test_the_control_plane_facts_for_a_headerless_403(petgate: Any, deployed: str, local_url: str) -> None:
    """What verify asks when a 403 comes without x-amzn-ErrorType (a proxy stripped it)."""
    from petgate.app import App
    from petgate.ops.verify import control_plane_facts
    from petgate.output import Output
    from petgate.target import Target

    app = App(Target(local=True, local_url=local_url), Output())
    facts = control_plane_facts(app, deployed, "test", "GET", "/")
    assert facts.stage_exists is not None and facts.policy_refusal is not None
    assert facts.stage_exists() is True and facts.policy_refusal() is None  # no policy yet
    assert petgate("block-my-ip", "--api", deployed, "--cidr", "127.0.0.1").exit_code == 0
    assert facts.policy_refusal() == "explicit"
    assert petgate("unblock", "--api", deployed, "--cidr", "127.0.0.1", "--no-deploy").exit_code == 0
    assert facts.policy_refusal() == "explicit"  # the deployed policy still refuses, not the stored one
    missing = control_plane_facts(app, deployed, "nope", "GET", "/")
    assert missing.stage_exists is not None and missing.stage_exists() is False


def test_a_private_api_from_outside_its_endpoints(monkeypatch: pytest.MonkeyPatch) -> None:
    """A PRIVATE API answers a plain Forbidden to anyone not behind one of its VPC endpoints:
    `private-endpoint-required` (the control plane says the API is PRIVATE), never denied; through
    its endpoint it answers; through another endpoint its VPC whitelist policy denies."""
    from tests.conftest import petgate_local, run_cli

    mappings = ("vpce-0abc1234:vpc-0def5678=127.0.0.9", "vpce-0bbb2222:vpc-0def5678=127.0.0.10")
    with petgate_local(*[part for mapping in mappings for part in ("--vpc-endpoint", mapping)]) as url:
        monkeypatch.setenv("PETGATE_LOCAL_URL", url)
        for name in ("PETGATE_LOCAL", "PETGATE_OUTPUT", "PETGATE_API", "PETGATE_STAGE", "AWS_PROFILE"):
            monkeypatch.delenv(name, raising=False)
        imported = run_cli("--local", "-o", "json", "import-example", "--name", "PrivateVerify", "--new",
                           "--endpoint-type", "PRIVATE", "--vpce", "vpce-0abc1234")
        assert imported.exit_code == 0, imported.stderr
        api_id = imported.json["api_id"]
        assert run_cli("--local", "deploy", "--api", api_id).exit_code == 0

        def verify_from(address: str, expect: str) -> Any:
            return run_cli("--local", "--source-address", address, "-o", "json", "verify", "--api", api_id,
                           "--expect", expect, "--timeout", "0.3")

        outside = verify_from("127.0.0.1", "denied")
        assert outside.exit_code == 1, outside.stderr
        assert (outside.json["reason"], outside.json["outcome"], outside.json["error_type"]) == (
            "private-endpoint-required", "other", "ForbiddenException")
        assert "is PRIVATE: call it through its VPC endpoint" in outside.stderr
        assert verify_from("127.0.0.9", "allowed").exit_code == 0
        other = verify_from("127.0.0.10", "denied")
        assert other.exit_code == 0 and other.json["reason"].startswith("policy-"), other.stderr
