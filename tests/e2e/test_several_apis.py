"""Several APIs in one command (`--api` repeated): each in turn, one failing does not stop the
others, the exit code is the worst, and JSON is {"apis": [...], "ok": bool}."""

from __future__ import annotations

import time
from typing import Any

import pytest

from petgate import policy as policies
from tests.test_lists import stored


@pytest.fixture()
def two_apis(petgate: Any, api_id: str) -> tuple[str, str]:
    second = petgate("-o", "json", "import-example", "--name", f"Other-{api_id}", "--new").json["api_id"]
    for api in (api_id, second):
        assert petgate("deploy", "--api", api).exit_code == 0
    return api_id, str(second)


def test_one_unknown_api_does_not_stop_the_others(petgate: Any, two_apis: tuple[str, str], apigw: Any) -> None:
    first, second = two_apis
    result = petgate("-o", "json", "block-my-ip", "--cidr", "192.0.2.5", "--api", first, "--api", "NoSuchApi", "--api", second)
    assert result.exit_code == 3, result.stderr  # not found: an AWS answer, exit 3
    data = result.json
    assert data["ok"] is False and [r.get("api_id", r["api"]) for r in data["apis"]] == [first, "NoSuchApi", second]
    error = data["apis"][1]["error"]
    assert error["exit_code"] == 3 and "no REST API with id or name 'NoSuchApi'" in error["message"]
    for api in (first, second):
        assert policies.blocked_cidrs(stored(apigw, api)) == ["192.0.2.5/32"]
    assert [r.get("deployed") for r in data["apis"]] == [True, None, True]
    assert "1 of 3 APIs failed (NoSuchApi)" in result.stderr


def test_all_well_exits_0_and_one_api_keeps_the_usual_object(petgate: Any, two_apis: tuple[str, str]) -> None:
    first, second = two_apis
    both = petgate("-o", "json", "set-403-template", "--api", first, "--api", second)
    assert both.exit_code == 0 and both.json["ok"] is True and len(both.json["apis"]) == 2
    assert all(r["response_type"] == "ACCESS_DENIED" and r["deployed"] for r in both.json["apis"])
    one = petgate("-o", "json", "unblock", "--api", first, "--cidr", "192.0.2.5")
    assert one.exit_code == 0 and "apis" not in one.json and one.json["api_id"] == first
    text = petgate("deploy", "--api", first, "--api", second)
    assert text.exit_code == 0
    assert f"API {first}:" in text.stderr and f"API {second}:" in text.stderr
    assert text.stdout.count("/test/_user_request_") == 2, "each invoke URL on stdout"


def test_sync_and_prune_take_several_apis(petgate: Any, two_apis: tuple[str, str], apigw: Any, tmp_path: Any) -> None:
    first, second = two_apis
    feed = tmp_path / "feed.txt"
    feed.write_text("192.0.2.1\n")
    synced = petgate("-o", "json", "sync", "--file", str(feed), "--api", first, "--api", second, "--no-deploy")
    assert synced.exit_code == 0 and [r["added"] for r in synced.json["apis"]] == [["192.0.2.1/32"], ["192.0.2.1/32"]]
    for api in two_apis:
        assert petgate("block-my-ip", "--api", api, "--cidr", "192.0.2.9", "--until", "2098-01-01T00:00:00Z", "--no-deploy").exit_code == 0
    pruned = petgate("-o", "json", "prune", "--api", first, "--api", second, "--now", "2098-01-01T00:00:00Z")
    assert pruned.exit_code == 0, pruned.stderr
    assert [r["pruned"] for r in pruned.json["apis"]] == [[{"cidr": "192.0.2.9/32", "expired": "2098-01-01T00:00:00Z"}]] * 2
    for api in two_apis:
        assert policies.blocked_cidrs(stored(apigw, api)) == ["192.0.2.1/32"]


def test_a_bad_stage_is_refused_before_any_api_is_touched(petgate: Any, two_apis: tuple[str, str], apigw: Any) -> None:
    first, second = two_apis
    result = petgate("-o", "json", "block-my-ip", "--cidr", "192.0.2.6", "--api", first, "--api", second, "--stage", "bad stage")
    assert result.exit_code == 2 and "is not a stage name" in result.stderr
    assert stored(apigw, first) is None and stored(apigw, second) is None


def test_petgate_api_holds_one_name_even_with_spaces(petgate: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    name = f"My Shop API {time.monotonic_ns()}"
    created = petgate("-o", "json", "import-example", "--name", name, "--new")
    api = created.json["api_id"]
    monkeypatch.setenv("PETGATE_API", name)
    result = petgate("-o", "json", "block-my-ip", "--cidr", "192.0.2.8", "--no-deploy")
    assert result.exit_code == 0, result.stderr
    assert result.json["api_id"] == api and "apis" not in result.json


def test_one_waf_list_attached_to_several_apis(petgate: Any, two_apis: tuple[str, str]) -> None:
    first, second = two_apis
    name = f"several{time.monotonic_ns()}"[-20:]
    try:
        attached = petgate("-o", "json", "waf", "attach", "--list", name, "--api", first, "--api", second)
        assert attached.exit_code == 0 and attached.json["ok"] is True, attached.stderr
        shown = petgate("-o", "json", "waf", "show", "--list", name).json
        assert sorted(shown["attached"]) == sorted(
            f"arn:aws:apigateway:us-east-1::/restapis/{api}/stages/test" for api in two_apis)
    finally:
        petgate("waf", "delete", "--list", name)


@pytest.mark.parametrize("command", [["status"], ["verify", "--timeout", "1"], ["policy", "show"], ["undo", "--dry-run"]])
def test_a_command_that_reads_one_api_refuses_two(petgate: Any, two_apis: tuple[str, str], command: list[str]) -> None:
    first, second = two_apis
    result = petgate(*command, "--api", first, "--api", second)
    assert result.exit_code == 2
    assert f"this command looks at one API, and 2 were given ({first}, {second})" in result.stderr
