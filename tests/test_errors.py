"""Bad input and broken surroundings: one clear line on stderr, the documented exit code, no
traceback, and the API unchanged."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from petgate import policy as policies
from tests.conftest import LoopbackServer, Result, run_subprocess

NO_AWS_CONFIG: dict[str, str | None] = {
    "AWS_CONFIG_FILE": "/nonexistent/petgate-test-config",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/petgate-test-credentials",
    "AWS_EC2_METADATA_DISABLED": "true",
    **dict.fromkeys(
        ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_REGION",
         "AWS_DEFAULT_REGION", "PETGATE_LOCAL", "PETGATE_ENDPOINT_URL", "AWS_ENDPOINT_URL"]
    ),
}


def assert_one_clear_line(result: Result, exit_code: int, text: str) -> None:
    assert result.exit_code == exit_code, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    assert text in errors[0], errors[0]


@pytest.fixture()
def html_checkip() -> Iterator[str]:
    page = b"<html><body>Please log in to the hotel wifi</body></html>"
    server = LoopbackServer(lambda *_: (200, {"Content-Type": "text/html"}, page))
    yield server.url + "/"
    server.close()


def test_bad_cidr(petgate: Any, api_id: str, apigw: Any) -> None:
    result = petgate("block-my-ip", "--api", api_id, "--cidr", "10.0.0.300/8")
    assert_one_clear_line(result, 2, "not an IP address or CIDR: '10.0.0.300/8'")
    assert apigw.get_rest_api(restApiId=api_id).get("policy") is None


def test_unknown_api(petgate: Any) -> None:
    result = petgate("block-my-ip", "--api", "no-such-api-name", "--cidr", "192.0.2.1")
    assert_one_clear_line(result, 3, "no REST API with id or name 'no-such-api-name'")


def test_unknown_api_id(petgate: Any) -> None:
    result = petgate("deploy", "--api", "zzzzzzzzzz")
    assert_one_clear_line(result, 3, "no REST API with id or name 'zzzzzzzzzz'")


def test_a_name_shared_by_two_apis(petgate: Any) -> None:
    first = petgate("-o", "json", "import-example", "--name", "Twin", "--new").json["api_id"]
    second = petgate("-o", "json", "import-example", "--name", "Twin", "--new").json["api_id"]
    result = petgate("deploy", "--api", "Twin")
    assert_one_clear_line(result, 2, "2 REST APIs are named 'Twin'")
    assert first in result.stderr and second in result.stderr
    again = petgate("import-example", "--name", "Twin")
    assert_one_clear_line(again, 2, "2 REST APIs are named 'Twin'")


def test_checkip_unreachable(petgate: Any, api_id: str, apigw: Any) -> None:
    result = petgate("--checkip-url", "http://127.0.0.1:9/", "block-my-ip", "--api", api_id)
    assert_one_clear_line(result, 4, "cannot reach checkip at http://127.0.0.1:9/")
    assert apigw.get_rest_api(restApiId=api_id).get("policy") is None


def test_checkip_answering_html(petgate: Any, api_id: str, apigw: Any, html_checkip: str) -> None:
    result = petgate("--checkip-url", html_checkip, "block-my-ip", "--api", api_id)
    assert_one_clear_line(result, 4, "checkip answered a page, not an address")
    assert apigw.get_rest_api(restApiId=api_id).get("policy") is None


def test_template_file_missing(petgate: Any, api_id: str) -> None:
    result = petgate("set-403-template", "--api", api_id, "--template-file", "/nonexistent/t.vtl")
    assert_one_clear_line(result, 2, "cannot read template file /nonexistent/t.vtl")


def test_template_file_not_utf8(petgate: Any, api_id: str, tmp_path: Any, apigw: Any) -> None:
    bad = tmp_path / "latin1.vtl"
    bad.write_bytes('{"message":"accès refusé"}'.encode("latin-1"))
    result = petgate("set-403-template", "--api", api_id, "--template-file", str(bad))
    assert_one_clear_line(result, 2, "is not UTF-8 text")
    stored = apigw.get_gateway_response(restApiId=api_id, responseType="ACCESS_DENIED")
    assert stored["defaultResponse"] is True


def test_hand_edited_policy_is_left_alone(petgate: Any, api_id: str, apigw: Any) -> None:
    policy, _ = policies.block(None, ["192.0.2.0/24"])
    policy["Statement"][0]["Condition"] = {"NotIpAddress": {"aws:SourceIp": ["192.0.2.0/24"]}}
    apigw.update_rest_api(restApiId=api_id, patchOperations=[{"op": "replace", "path": "/policy", "value": json.dumps(policy)}])
    before = apigw.get_rest_api(restApiId=api_id)["policy"]
    result = petgate("block-my-ip", "--api", api_id, "--cidr", "198.51.100.1")
    assert_one_clear_line(result, 2, "changed by hand")
    assert "unblock --all" in result.stderr
    assert apigw.get_rest_api(restApiId=api_id)["policy"] == before


def test_click_usage_errors_exit_2(petgate: Any) -> None:
    result = petgate("verify", "--expect", "sometimes")
    assert result.exit_code == 2
    assert "Invalid value for '--expect'" in result.stderr


def test_no_credentials_on_aws() -> None:
    result = run_subprocess("--region", "us-east-1", "deploy", "--api", "abcdefghij", env=NO_AWS_CONFIG)
    assert_one_clear_line(result, 3, "no AWS credentials found")


def test_no_region() -> None:
    result = run_subprocess("deploy", env=NO_AWS_CONFIG)
    assert_one_clear_line(result, 2, "no AWS region configured")


def test_unknown_profile() -> None:
    result = run_subprocess("--profile", "nobody", "--region", "us-east-1", "deploy", env=NO_AWS_CONFIG)
    assert_one_clear_line(result, 2, "AWS profile 'nobody' not found")


def test_endpoint_unreachable() -> None:
    env = {**NO_AWS_CONFIG, "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y", "AWS_MAX_ATTEMPTS": "1"}
    result = run_subprocess("--endpoint-url", "http://127.0.0.1:9", "--region", "us-east-1", "deploy", env=env)
    assert_one_clear_line(result, 4, "cannot reach the control plane")


def test_local_and_endpoint_together() -> None:
    result = run_subprocess("--local", "--endpoint-url", "http://127.0.0.1:9", "deploy", env=NO_AWS_CONFIG)
    assert result.exit_code == 2
    assert "--local and --endpoint-url do not go together" in result.stderr
