"""Nothing lost under faults: a slow lease holder, a lost answer, a process killed after its write,
the control plane gone before each call of a block. Through a fault-injecting loopback proxy in
front of a real `petgate local` (tests/faults.py); slowness is an injected clock, never a sleep."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest

from petgate import lease as leases
from petgate import policy as policies
from petgate.app import App
from petgate.journal import Journal
from petgate.ops import policy_changes
from petgate.output import Output
from petgate.target import Target
from tests.conftest import Result, run_cli
from tests.faults import FaultProxy, Rule


@pytest.fixture()
def proxy(local_url: str) -> Iterator[FaultProxy]:
    parts = urllib.parse.urlsplit(local_url)
    faulty = FaultProxy((parts.hostname or "127.0.0.1", parts.port or 80))
    faulty.url = faulty.start()  # type: ignore[attr-defined]
    yield faulty
    faulty.stop()


@pytest.fixture()
def through(proxy: FaultProxy, local_env: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """`through(*args)` runs `petgate --local *args` with the proxy as the local gateway."""
    monkeypatch.setenv("PETGATE_LOCAL_URL", proxy.url)  # type: ignore[attr-defined]

    def run(*args: str) -> Result:
        return run_cli("--local", *args)

    return run


def stored(apigw: Any, api_id: str) -> Any:
    return policies.decode_stored(apigw.get_rest_api(restApiId=api_id).get("policy"))


def lease_model(apigw: Any, api_id: str) -> leases.Holder | None:
    models = {m["name"]: m for m in apigw.get_models(restApiId=api_id)["items"]}
    found = models.get(leases.MODEL_NAME)
    return None if found is None else leases.parse(found.get("description"))


def journal_entries() -> list[dict[str, Any]]:
    return Journal().entries()


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_a_slow_holder_never_writes_over_the_writer_who_took_over(local_url: str, api_id: str, apigw: Any,
                                                                   tmp_path: Any) -> None:
    """The issue's scenario: A's lease runs out while A still means to write; B (another machine)
    takes the lease and writes; A must not write from its stale read: both CIDRs survive."""
    import time

    clock = FakeClock(time.time())

    def machine(name: str) -> tuple[App, io.StringIO]:
        said = io.StringIO()
        app = App(Target(local=True, local_url=local_url), Output(stderr=said), clock=clock, sleep=clock.sleep)
        app.journal = Journal(tmp_path / name)  # its own state directory: another machine
        return app, said

    a, a_said = machine("a")
    b, _ = machine("b")
    reads: list[str] = []

    def after_a_read(model: Any, **_: Any) -> None:
        if model.name != "GetRestApi":
            return
        reads.append(model.name)
        if len(reads) == 2:  # A holds the lease and has read; now its calls turn slow
            clock.now += leases.TTL_S + leases.SKEW_S + 1  # A's lease has expired by every clock
            policy_changes.block(b, api_id, "test", ["192.0.2.66/32"])  # B takes over and writes

    a.gateway.register("after-call.api-gateway", after_a_read)
    result = policy_changes.block(a, api_id, "test", ["192.0.2.55/32"])
    assert sorted(policies.blocked_cidrs(stored(apigw, api_id))) == ["192.0.2.55/32", "192.0.2.66/32"]
    assert result.write_attempts == 2
    assert "taking it again" in a_said.getvalue()
    assert lease_model(apigw, api_id) is None, "both leases were released"


def test_a_lost_answer_to_create_model_is_known_as_our_own_lease(through: Any, proxy: FaultProxy, api_id: str,
                                                                 apigw: Any) -> None:
    proxy.rules = [Rule("CreateModel", "reset-after")]  # the model is made, its answer lost; botocore retries
    result = through("block-my-ip", "--api", api_id, "--cidr", "192.0.2.31", "--no-deploy")
    assert result.exit_code == 0, result.stderr
    assert "waiting for its turn" not in result.stderr
    assert proxy.calls[-6:] == ["CreateModel", "CreateModel", "GetModel", "GetRestApi", "UpdateRestApi", "DeleteModel"]
    assert policies.blocked_cidrs(stored(apigw, api_id)) == ["192.0.2.31/32"]
    assert lease_model(apigw, api_id) is None


BLOCK_CALLS = ["GetRestApi", "CreateModel", "GetRestApi", "UpdateRestApi", "DeleteModel", "CreateDeployment"]


@pytest.mark.parametrize("attempts", ["1", "2"])
@pytest.mark.parametrize("index", range(len(BLOCK_CALLS)))
def test_the_control_plane_gone_before_each_call_of_a_block(
    through: Any, proxy: FaultProxy, api_id: str, apigw: Any, monkeypatch: pytest.MonkeyPatch, index: int,
    attempts: str,
) -> None:
    assert run_cli("--local", "deploy", "--api", api_id).exit_code == 0  # straight to the gateway, not through the proxy
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", attempts)  # the same exit code whatever botocore's retry settings
    name = BLOCK_CALLS[index]
    proxy.rules = [Rule(name, "gone", nth=BLOCK_CALLS[: index + 1].count(name))]
    result = through("block-my-ip", "--api", api_id, "--cidr", "192.0.2.32")
    assert result.exit_code == 4, (name, result.stderr)
    failed = {"GetRestApi": f"reading API {api_id}", "CreateModel": f"taking the lease on API {api_id}",
              "UpdateRestApi": f"writing the policy of API {api_id}", "DeleteModel": f"deploying API {api_id}",
              "CreateDeployment": f"deploying API {api_id}"}[name]
    assert failed in result.stderr and "cannot reach the control plane" in result.stderr
    assert "Traceback" not in result.stderr
    holder = lease_model(apigw, api_id)
    import time

    assert holder is None or holder.expires <= time.time() + leases.TTL_S, "released, or expiring by itself"
    if name in ("DeleteModel", "UpdateRestApi"):
        assert "was not released" in result.stderr and holder is not None
    entries = [e for e in journal_entries() if e.get("kind") == "policy"]
    if index < BLOCK_CALLS.index("UpdateRestApi"):
        assert entries == [] and stored(apigw, api_id) is None, "nothing written, nothing journaled"
    elif name == "UpdateRestApi":
        # the write never reached the gateway, but petgate cannot know that: the entry says so
        assert [e["state"] for e in entries] == ["intended"] and stored(apigw, api_id) is None
        assert "may have reached AWS" in result.stderr and f"petgate undo {entries[0]['id']}" in result.stderr
    else:
        assert [e["state"] for e in entries] == ["done"]
        assert policies.blocked_cidrs(stored(apigw, api_id)) == ["192.0.2.32/32"]


def test_a_process_killed_after_its_write_leaves_an_entry_undo_explains(
    through: Any, proxy: FaultProxy, api_id: str, apigw: Any
) -> None:
    proxy.rules = [Rule("UpdateRestApi", "hold")]  # written by the gateway; the answer never comes back
    writer = subprocess.Popen(
        [sys.executable, "-m", "petgate", "--local", "block-my-ip", "--api", api_id, "--cidr", "192.0.2.33",
         "--no-deploy"],
        env={**os.environ, "PETGATE_LOCAL_URL": proxy.url},  # type: ignore[attr-defined]
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        assert proxy.held.wait(60), "the write reached the proxy"
        writer.send_signal(signal.SIGKILL)
        writer.wait(30)
    finally:
        if writer.poll() is None:
            writer.kill()
    proxy.rules = []
    assert policies.blocked_cidrs(stored(apigw, api_id)) == ["192.0.2.33/32"], "the write had landed"
    assert lease_model(apigw, api_id) is not None, "the killed holder's lease is left to expire"
    apigw.delete_model(restApiId=api_id, modelName=leases.MODEL_NAME)  # rather than wait for it here
    history = through("-o", "json", "history")
    entry = history.json["entries"][0]
    assert entry["kind"] == "policy" and entry["state"] == "intended"
    assert "never confirmed" in through("history").stdout.splitlines()[0]
    undone = through("-o", "json", "undo", entry["id"], "--no-deploy")
    assert undone.exit_code == 0, undone.stderr
    assert stored(apigw, api_id) is None
    assert json.dumps(undone.json["restored"]) == "null"


def test_undo_of_an_intent_that_never_landed_says_so(through: Any, proxy: FaultProxy, api_id: str, apigw: Any) -> None:
    proxy.rules = [Rule("UpdateRestApi", "gone")]
    assert through("block-my-ip", "--api", api_id, "--cidr", "192.0.2.34", "--no-deploy").exit_code == 4
    proxy.gone, proxy.rules = False, []
    entry = [e for e in journal_entries() if e.get("kind") == "policy"][-1]
    refused = through("undo", entry["id"])
    assert refused.exit_code == 2
    assert "never confirmed" in refused.stderr and "most likely never written" in refused.stderr
