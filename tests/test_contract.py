"""The command-line contract: every command in text and JSON mode, and --help with examples."""

from __future__ import annotations

import json
from typing import Any

import pytest

from petgate.cli import COMMANDS
from tests.conftest import free_port, run_cli, run_subprocess


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_explains_itself_with_an_example(command: str) -> None:
    result = run_cli(command, "--help")
    assert result.exit_code == 0
    assert "Example" in result.stdout, f"{command} --help has no example"


def test_top_level_help_lists_the_exercise_and_exit_codes() -> None:
    result = run_cli("--help")
    assert result.exit_code == 0
    for command in ("import-example", "deploy", "block-my-ip", "set-403-template", "unblock", "verify"):
        assert command in result.stdout
    assert "Exit codes" in result.stdout


def exercise_commands(api_id: str) -> list[tuple[str, ...]]:
    return [
        ("deploy", "--api", api_id),
        ("block-my-ip", "--api", api_id, "--cidr", "192.0.2.1"),
        ("verify", "--api", api_id, "--expect", "allowed", "--timeout", "5"),
        ("set-403-template", "--api", api_id),
        ("unblock", "--api", api_id, "--cidr", "192.0.2.1"),
        ("status", "--api", api_id),
    ]


def test_json_mode_prints_one_object_with_the_contract_keys(petgate: Any, api_id: str) -> None:
    for args in exercise_commands(api_id):
        result = petgate("-o", "json", *args)
        assert result.exit_code == 0, (args, result.stderr)
        data = json.loads(result.stdout)  # exactly one JSON document
        assert isinstance(data, dict)
        assert data["api_id"] == api_id and data["stage"] == "test", args
        if args[0] in ("deploy", "block-my-ip", "set-403-template", "unblock"):
            assert data["deployment_id"] and data["invoke_url"].endswith(f"/restapis/{api_id}/test/_user_request_")
        assert all(key == key.lower() for key in data), "keys are snake_case"


def test_text_mode_keeps_stdout_for_what_scripts_capture(petgate: Any, api_id: str) -> None:
    outputs = {args[0]: petgate(*args) for args in exercise_commands(api_id)}
    assert all(r.exit_code == 0 for r in outputs.values())
    assert outputs["deploy"].stdout.strip().endswith(f"/restapis/{api_id}/test/_user_request_")
    for name in ("block-my-ip", "verify", "set-403-template", "unblock"):
        assert outputs[name].stdout == "", f"{name} prints for people on stderr only"
    assert "Blocked 192.0.2.1/32" in outputs["block-my-ip"].stderr
    assert "allowed (allowed, HTTP 200)" in outputs["verify"].stderr
    assert "Set the ACCESS_DENIED response" in outputs["set-403-template"].stderr
    assert "Removed 192.0.2.1/32 from the deny list" in outputs["unblock"].stderr
    # status shows something: that is data, on stdout, so `> file` and `| grep` work
    status = outputs["status"]
    assert status.stdout.startswith(f"API {api_id} (") and "ACCESS_DENIED response" in status.stdout
    assert status.stderr == ""


def test_walkthrough_json_report(petgate: Any) -> None:
    result = petgate("-o", "json", "walkthrough", "--name", "WalkthroughJson", "--cleanup", "--timeout", "10")
    assert result.exit_code == 0, result.stderr
    data = result.json
    assert data["ok"] is True and len(data["steps"]) == 13
    assert all(step["ok"] for step in data["steps"])
    checks = [s["verify"] for s in data["steps"] if "verify" in s]
    assert [c["outcome"] for c in checks] == ["allowed", "denied", "denied", "allowed"]
    assert checks[1]["leaks"] and not checks[2]["leaks"]
    assert data["steps"][-1]["deleted"] is True


def test_walkthrough_starts_its_own_gateway_when_none_answers() -> None:
    env = {"PETGATE_LOCAL_URL": f"http://127.0.0.1:{free_port()}", "PETGATE_LOCAL": "1"}
    result = run_subprocess("walkthrough", "--cleanup", "--timeout", "10", env=env)
    assert result.exit_code == 0, result.stderr
    assert "Started a local gateway for this run" in result.stderr
    assert "All 13 steps passed." in result.stderr
    assert "Traceback" not in result.stderr


def test_quiet_keeps_only_warnings_and_errors(petgate: Any, api_id: str) -> None:
    result = petgate("-q", "block-my-ip", "--api", api_id, "--cidr", "192.0.2.1", "--no-deploy")
    assert result.exit_code == 0 and result.stderr.startswith("warning: Not redeployed")


def test_verbose_logs_aws_calls_with_credentials_redacted(local_env: str, api_id: str) -> None:
    env = {"PETGATE_LOCAL": "1"}
    result = run_subprocess("-v", "deploy", "--api", api_id, env=env)
    assert result.exit_code == 0, result.stderr
    debug = [line for line in result.stderr.splitlines() if line.startswith("debug: POST")]
    assert debug and f"/restapis/{api_id}/deployments" in debug[0]
    assert "'Authorization': '<redacted>'" in debug[0]
    assert "petgate-local" not in result.stderr and "Signature=" not in result.stderr


def test_aws_endpoint_url_is_honoured(local_url: str, api_id: str) -> None:
    env = {"AWS_ENDPOINT_URL": local_url, "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y",
           "AWS_REGION": "us-east-1", "PETGATE_LOCAL": None, "PETGATE_ENDPOINT_URL": None}
    result = run_subprocess("-o", "json", "deploy", "--api", api_id, env=env)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["invoke_url"] == f"{local_url}/restapis/{api_id}/test/_user_request_"


def test_shell_completion_script() -> None:
    result = run_subprocess(env={"_PETGATE_COMPLETE": "bash_source"})
    assert result.exit_code == 0
    assert "_petgate_completion" in result.stdout
    words = run_subprocess(env={"_PETGATE_COMPLETE": "bash_complete", "COMP_WORDS": "petgate allow", "COMP_CWORD": "1"})
    assert "allow-only" in words.stdout and "allow-accounts" in words.stdout


def test_walkthrough_will_not_reset_someone_elses_api(petgate: Any) -> None:
    api_id = petgate("-o", "json", "import-example", "--name", "Lived-in", "--new").json["api_id"]
    petgate("block-my-ip", "--api", api_id, "--cidr", "192.0.2.1", "--no-deploy")
    result = petgate("walkthrough", "--name", "Lived-in")
    assert result.exit_code == 2  # bad input, said first: no step ran
    assert result.stderr.startswith(f"error: API {api_id} already has a resource policy")
    fresh = petgate("-o", "json", "walkthrough", "--name", "Lived-in", "--new", "--cleanup", "--timeout", "10")
    assert fresh.exit_code == 0 and fresh.json["api_id"] != api_id


def test_verbose_logs_waf_calls_too(local_env: str) -> None:
    result = run_subprocess("-v", "waf", "show", "--list", "verbose-nosuch", env={"PETGATE_LOCAL": "1"})
    assert result.exit_code == 2, result.stderr
    debug = [line for line in result.stderr.splitlines() if line.startswith("debug: POST")]
    assert debug and any("AWSWAF_20190729.ListWebACLs" in line for line in debug), result.stderr
    assert "Signature=" not in result.stderr
