"""Global options before or after the command name, and JSON errors on stdout."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import run_cli, run_subprocess


@pytest.mark.parametrize(
    "args",
    [
        ("-o", "json", "--local", "verify", "--api", "API", "--expect", "any"),
        ("verify", "--api", "API", "--expect", "any", "-o", "json", "--local"),
        ("--local", "verify", "--output=json", "--api", "API", "--expect", "any"),
        ("verify", "-ojson", "--api", "API", "--local", "--expect", "any"),
    ],
)
def test_global_options_before_or_after_the_command(local_env: str, api_id: str, args: tuple[str, ...]) -> None:
    assert run_cli("--local", "deploy", "--api", api_id).exit_code == 0
    result = run_cli(*(api_id if a == "API" else a for a in args))
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["api_id"] == api_id


def test_every_global_option_is_accepted_after_a_command(local_env: str, api_id: str) -> None:
    result = run_cli(
        "policy", "show", "--api", api_id, "--local", "-o", "json", "-q", "--region", "us-east-1",
        "--checkip-url", f"{local_env}/_petgate/checkip", "--source-address", "127.0.0.1",
    )
    assert result.exit_code == 0, result.stderr
    assert result.json["source"] == "stored" and result.stderr == ""
    verbose = run_cli("status", "--api", api_id, "--local", "-v")
    assert verbose.exit_code == 0 and "debug: GET" in verbose.stderr
    profile = run_cli("status", "--profile", "nosuchprofile", "--endpoint-url", local_env)
    assert profile.exit_code == 2 and "AWS profile 'nosuchprofile' not found" in profile.stderr


def test_an_option_after_the_command_wins(local_env: str, api_id: str) -> None:
    result = run_cli("-o", "text", "--local", "status", "--api", api_id, "-o", "json")
    assert result.json["api_id"] == api_id


def test_conflicting_global_options_are_a_usage_error(local_env: str) -> None:
    result = run_cli("--local", "status", "--endpoint-url", "http://127.0.0.1:9")
    assert result.exit_code == 2 and "--local and --endpoint-url do not go together" in result.stderr


@pytest.mark.parametrize(
    ("args", "code", "exit_code"),
    [
        (("status", "--api", "nosuch-api-name"), "NotFoundException", 3),
        (("block-my-ip", "--cidr", "not-a-cidr"), "UsageError", 2),
        (("verify", "--nosuch-option"), "UsageError", 2),
        (("nosuch-command",), "UsageError", 2),
    ],
)
def test_json_errors_are_one_object_on_stdout(local_env: str, args: tuple[str, ...], code: str, exit_code: int) -> None:
    for placed in (("--local", "-o", "json", *args), ("--local", *args, "-o", "json")):
        result = run_cli(*placed)
        assert result.exit_code == exit_code, result.stderr
        data = json.loads(result.stdout)  # exactly one object: json.loads refuses trailing data
        assert data["exit_code"] == exit_code and data["error"]["code"] == code
        assert data["error"]["message"] and "hint" in data["error"]
        assert result.stderr.lower().count("error:") == 1  # and the one line for people


def test_a_failed_verify_prints_its_result_not_a_second_object(local_env: str, api_id: str) -> None:
    result = run_cli("--local", "verify", "--api", api_id, "--expect", "denied", "--timeout", "0.2", "-o", "json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["ok"] is False and data["reason"] == "stage-not-found" and "error" in data


@pytest.mark.parametrize(
    ("local_url", "text"),
    [
        ("garbage", "PETGATE_LOCAL_URL 'garbage' is not an http(s) URL"),
        ("", "PETGATE_LOCAL_URL '' is not an http(s) URL"),
        ("http://127.0.0.1:99999", "PETGATE_LOCAL_URL 'http://127.0.0.1:99999' is not a usable URL"),
        ("ftp://127.0.0.1:21", "is not an http(s) URL"),
    ],
)
def test_a_bad_local_url_is_one_clear_line(local_url: str, text: str) -> None:
    for args in (("--local", "status"), ("local",)):
        result = run_subprocess(*args, env={"PETGATE_LOCAL_URL": local_url})
        assert result.exit_code == 2, result.stderr
        assert "Traceback" not in result.stderr and text in result.stderr


def test_a_bad_endpoint_url_is_one_clear_line() -> None:
    result = run_subprocess("--endpoint-url", "garbage", "status")
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert "--endpoint-url 'garbage' is not an http(s) URL" in result.stderr


def test_local_refuses_a_port_out_of_range() -> None:
    result = run_subprocess("local", "--port", "80000")
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert "80000 is not in the range 0<=x<=65535" in result.stderr


def test_local_listens_where_petgate_local_url_says(monkeypatch: Any) -> None:
    from tests.conftest import petgate_local

    with petgate_local(env={"PETGATE_LOCAL_URL": "http://127.0.0.3:4599"}) as url:
        # --port 0 from the fixture wins over the URL's port; the host is the URL's
        assert url.startswith("http://127.0.0.3:")


def test_local_on_every_ipv6_address_prints_a_usable_url() -> None:
    import socket

    from tests.conftest import petgate_local

    if not socket.has_ipv6:
        pytest.skip("this machine has no IPv6")  # printed with -ra
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        pytest.skip("IPv6 loopback (::1) is not configured here")
    with petgate_local("--host", "::") as url:
        assert url.startswith("http://[::1]:")  # and the fixture reached its health check there


def test_no_local_gateway_is_one_clear_line_after_a_short_wait() -> None:
    from tests.conftest import free_port

    result = run_subprocess("--local", "status", env={
        "PETGATE_LOCAL_URL": f"http://127.0.0.1:{free_port()}", "PETGATE_LOCAL_WAIT": "0.5"})
    assert result.exit_code == 4 and "Traceback" not in result.stderr
    assert "Waiting up to 0.5s for the local gateway at http://127.0.0.1:" in result.stderr
    assert "error: no local gateway answers at http://127.0.0.1:" in result.stderr
    assert "start one with `petgate local &`" in result.stderr
