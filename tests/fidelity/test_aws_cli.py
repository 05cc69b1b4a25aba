"""The aws CLI against petgate local, for the exercise's calls: its output parses, and its exit
codes are the ones it gives for AWS's answers. PyPI's `awscli` is version 1: 0 ok, 255 for an
error answered by the service, 2 for a command line it refuses before sending (version 2
uses 254 for service errors)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from petgate import example

AWS = Path(os.environ.get("PETGATE_TEST_AWS_CLI") or Path(__file__).resolve().parents[2] / "bench/.venv-awscli/bin/aws")


@pytest.fixture()
def aws(local_url: str, tmp_path: Path) -> Any:
    if not AWS.exists():
        pytest.skip(f"the aws CLI is not installed at {AWS} (`make test` installs it)")
    env = {
        "PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1", "AWS_PAGER": "",
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(AWS), "--endpoint-url", local_url, "--output", "json", "apigateway", *args],
                              capture_output=True, text=True, env=env, timeout=120)

    return run


def parsed(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout) if result.stdout.strip() else None


def test_the_exercise_with_the_aws_cli(aws: Any, tmp_path: Path, local_url: str) -> None:
    definition = tmp_path / "petstore.json"
    definition.write_bytes(example.definition_bytes("PetStoreCli"))
    api = parsed(aws("import-rest-api", "--body", f"fileb://{definition}", "--parameters", "endpointConfigurationTypes=REGIONAL"))
    api_id = api["id"]
    assert api["name"] == "PetStoreCli" and api["endpointConfiguration"] == {"types": ["REGIONAL"], "ipAddressType": "ipv4"}
    assert parsed(aws("create-deployment", "--rest-api-id", api_id, "--stage-name", "test"))["id"]
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*"},
        {"Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*",
         "Condition": {"IpAddress": {"aws:SourceIp": ["192.0.2.0/24"]}}}]}
    patch = json.dumps([{"op": "replace", "path": "/policy", "value": json.dumps(policy)}])
    updated = parsed(aws("update-rest-api", "--rest-api-id", api_id, "--patch-operations", patch))
    assert "192.0.2.0\\/24" in updated["policy"], "AWS's extra escaping of /"
    templates = json.dumps({"application/json": '{"message":"Access denied"}'})
    response = parsed(aws("put-gateway-response", "--rest-api-id", api_id, "--response-type", "ACCESS_DENIED",
                          "--status-code", "403", "--response-templates", templates))
    assert response["defaultResponse"] is False and response["responseTemplates"] == json.loads(templates)
    listed = parsed(aws("get-gateway-responses", "--rest-api-id", api_id))
    assert len(listed["items"]) == 21
    exported = tmp_path / "export.json"
    result = aws("get-export", "--rest-api-id", api_id, "--stage-name", "test", "--export-type", "oas30", str(exported))
    assert parsed(result)["contentType"] == "application/octet-stream"
    assert json.loads(exported.read_text())["openapi"] == "3.0.1"
    stages = parsed(aws("get-stages", "--rest-api-id", api_id))
    assert [s["stageName"] for s in stages["item"]] == ["test"]
    assert parsed(aws("delete-rest-api", "--rest-api-id", api_id)) is None


def test_aws_cli_exit_codes_for_errors(aws: Any) -> None:
    missing = aws("get-rest-api", "--rest-api-id", "nosuchapi0")
    assert missing.returncode == 255  # aws CLI v1's code for a service error
    assert "NotFoundException" in missing.stderr and "Invalid API identifier specified 123456789012:nosuchapi0" in missing.stderr
    assert aws("get-rest-api").returncode == 2  # no --rest-api-id: refused by the CLI itself
    conflict_api = parsed(aws("create-rest-api", "--name", "cli-conflict"))["id"]
    wrong_type = aws("get-gateway-response", "--rest-api-id", conflict_api, "--response-type", "NOPE")
    assert wrong_type.returncode == 255 and "ValidationException" in wrong_type.stderr
    schema = json.dumps({"type": "object", "properties": {"a": {"type": "string"}}})
    assert aws("create-model", "--rest-api-id", conflict_api, "--name", "M", "--schema", schema, "--content-type", "application/json").returncode == 0
    twice = aws("create-model", "--rest-api-id", conflict_api, "--name", "M", "--schema", schema, "--content-type", "application/json")
    assert twice.returncode == 255 and "ConflictException" in twice.stderr
