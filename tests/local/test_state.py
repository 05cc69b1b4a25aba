"""`petgate local --state FILE`: APIs (REST and HTTP), policies, deployments and stages survive a restart."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
import requests

from petgate.pytest_plugin import LocalGateway
from tests.conftest import petgate_local, run_cli, run_subprocess
from tests.test_errors import assert_one_clear_line


def test_a_restart_keeps_everything(tmp_path: Path, monkeypatch: Any) -> None:
    state = tmp_path / "gateway.state"
    # the same address both times, as a user's restart would (undo checks where a change was made):
    # a loopback address of its own, so port 4599 is free there
    where = ("--host", f"127.{random.randint(64, 254)}.{random.randint(1, 254)}.{random.randint(1, 254)}", "--port", "4599")
    with petgate_local("--state", str(state), *where) as url:
        monkeypatch.setenv("PETGATE_LOCAL_URL", url)
        api_id = run_cli("--local", "-o", "json", "import-example", "--name", "Kept", "--new").json["api_id"]
        assert run_cli("--local", "block-my-ip", "--api", api_id, "--cidr", "127.0.0.1").exit_code == 0
        assert run_cli("--local", "set-403-template", "--api", api_id).exit_code == 0
        http_api = LocalGateway(url).client("apigatewayv2").create_api(Name="KeptHttp", ProtocolType="HTTP")["ApiId"]
    assert state.exists()
    with petgate_local("--state", str(state), *where) as url:
        monkeypatch.setenv("PETGATE_LOCAL_URL", url)
        status = run_cli("--local", "-o", "json", "status", "--api", api_id)
        assert status.exit_code == 0, status.stderr
        assert status.json["blocked"] == ["127.0.0.1/32"] and status.json["access_denied"]["custom"] is True
        assert status.json["policy_changed_since_deploy"] is False, "the stage's snapshot came back too"
        assert LocalGateway(url).client("apigatewayv2").get_api(ApiId=http_api)["Name"] == "KeptHttp", "HTTP APIs too"
        denied = requests.get(f"{url}/restapis/{api_id}/test/_user_request_/", timeout=5)
        assert denied.status_code == 403 and denied.json() == {"message": "Access denied"}
        undone = run_cli("--local", "-o", "json", "undo", "--api", api_id)  # the journal points at a live API
        assert undone.exit_code == 0, undone.stderr


def test_a_damaged_state_file_is_one_clear_line(tmp_path: Path) -> None:
    state = tmp_path / "broken.state"
    state.write_bytes(b"not a pickle")
    result = run_subprocess("local", "--port", "0", "--state", str(state))
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert f"the state file {state} cannot be read" in result.stderr and "move it away to start empty" in result.stderr
    assert state.read_bytes() == b"not a pickle", "left as it was"


def test_two_gateways_on_one_state_file(tmp_path: Path) -> None:
    """Both used to start, and after a restart only the second one's APIs existed."""
    state = tmp_path / "shared.state"
    with petgate_local("--state", str(state)):
        second = run_subprocess("local", "--port", "0", "--state", str(state))
        assert_one_clear_line(second, 2, f"the state file {state} is in use by another petgate local (pid ")
        assert "(stop that one first, or choose another --state file)" in second.stderr
    with petgate_local("--state", str(state)):  # once the first one stopped, the file is free again
        pass


def test_the_lock_is_held_by_a_gateway_for_its_life(tmp_path: Path) -> None:
    from petgate.errors import UsageError
    from petgate.local.server import make_server
    from petgate.local.state import StateFile

    path = tmp_path / "in-process.state"
    server = make_server("127.0.0.1", 0, state=StateFile(path))
    try:
        with pytest.raises(UsageError, match="is in use by another petgate local"):
            StateFile(path).lock()  # flock: another open of the file conflicts, in this process too
        assert (tmp_path / "in-process.state.lock").read_text().strip().isdigit()  # the holder's pid
    finally:
        server.server_close()
    again = StateFile(path)
    again.lock()  # released by server_close
    again.unlock()
