"""Nothing of the user's is lost: the undo journal, parallel writers, writers elsewhere."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any

import pytest

from petgate import policy as policies
from petgate.app import App
from petgate.ops import policy_changes
from petgate.output import Output
from petgate.target import Target

COLLEAGUE = {
    "Sid": "ColleagueAllowOffice",
    "Effect": "Allow",
    "Principal": "*",
    "Action": "execute-api:Invoke",
    "Resource": "execute-api:/*",
    "Condition": {"IpAddress": {"aws:SourceIp": ["198.51.100.0/24"]}},
}


def stored(apigw: Any, api_id: str) -> dict | None:
    return policies.decode_stored(apigw.get_rest_api(restApiId=api_id).get("policy"))


def put_policy(apigw: Any, api_id: str, policy: dict) -> None:
    apigw.update_rest_api(restApiId=api_id, patchOperations=[{"op": "replace", "path": "/policy", "value": json.dumps(policy)}])


def test_history_and_undo_of_a_policy_change(petgate: Any, api_id: str, apigw: Any) -> None:
    put_policy(apigw, api_id, {"Version": "2012-10-17", "Statement": [COLLEAGUE]})
    before = stored(apigw, api_id)
    blocked = petgate("-o", "json", "block-my-ip", "--api", api_id, "--cidr", "192.0.2.1")
    journal_id = blocked.json["journal_id"]
    history = petgate("-o", "json", "history", "--api", api_id).json["entries"]
    assert [e["kind"] for e in history[:2]] == ["deployment", "policy"]
    assert history[1]["id"] == journal_id and history[1]["before"] == before
    text = petgate("history", "--api", api_id)
    assert journal_id in text.stdout and "block-my-ip: policy changed" in text.stdout

    undone = petgate("-o", "json", "undo")
    assert undone.exit_code == 0, undone.stderr
    assert undone.json["undoes"] == journal_id and undone.json["deployed"] is True
    assert stored(apigw, api_id) == before
    assert petgate("-o", "json", "history").json["entries"][1]["undoes"] == journal_id
    nothing = petgate("undo")
    assert nothing.exit_code == 2 and "error: nothing to undo (see `petgate history`)" in nothing.stderr


def test_undo_refuses_when_someone_changed_it_since(petgate: Any, api_id: str, apigw: Any) -> None:
    journal_id = petgate("-o", "json", "block-my-ip", "--api", api_id, "--cidr", "192.0.2.1", "--no-deploy").json["journal_id"]
    put_policy(apigw, api_id, {"Version": "2012-10-17", "Statement": [COLLEAGUE]})
    refused = petgate("undo", journal_id)
    assert refused.exit_code == 2 and "changed after entry" in refused.stderr
    assert stored(apigw, api_id)["Statement"][0]["Sid"] == "ColleagueAllowOffice"
    forced = petgate("undo", journal_id, "--force", "--no-deploy")
    assert forced.exit_code == 0
    assert stored(apigw, api_id) is None


def test_undo_of_the_403_template_restores_the_default(petgate: Any, api_id: str, apigw: Any) -> None:
    petgate("set-403-template", "--api", api_id, "--no-deploy")
    assert apigw.get_gateway_response(restApiId=api_id, responseType="ACCESS_DENIED")["defaultResponse"] is False
    assert petgate("undo", "--no-deploy").exit_code == 0
    assert apigw.get_gateway_response(restApiId=api_id, responseType="ACCESS_DENIED")["defaultResponse"] is True


def test_a_change_that_cannot_be_journaled_says_so(petgate: Any, api_id: str, apigw: Any, monkeypatch: Any, tmp_path: Any) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    monkeypatch.setenv("PETGATE_STATE_DIR", str(blocker / "state"))
    result = petgate("block-my-ip", "--api", api_id, "--cidr", "192.0.2.1", "--no-deploy")
    assert result.exit_code == 0
    assert "this change was made but not journaled" in result.stderr
    assert policies.blocked_cidrs(stored(apigw, api_id)) == ["192.0.2.1/32"]


def run_parallel(commands: list[list[str]], env: dict[str, str]) -> list[subprocess.CompletedProcess[str]]:
    processes = [
        subprocess.Popen([sys.executable, "-m", "petgate", *c], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        for c in commands
    ]
    results = []
    for process, command in zip(processes, commands, strict=True):
        out, err = process.communicate(timeout=120)
        results.append(subprocess.CompletedProcess(command, process.returncode, out, err))
    return results


def test_ten_parallel_writers_lose_nothing(api_id: str, apigw: Any, local_env: str) -> None:
    put_policy(apigw, api_id, {"Version": "2012-10-17", "Statement": [COLLEAGUE]})
    env = {**os.environ, "PETGATE_LOCAL": "1"}
    cidrs = [f"203.0.113.{n}/32" for n in range(10, 20)]
    results = run_parallel([["block-my-ip", "--api", api_id, "--cidr", c] for c in cidrs], env)
    assert all(r.returncode == 0 for r in results), [r.stderr for r in results if r.returncode]
    policy = stored(apigw, api_id)
    assert sorted(policies.blocked_cidrs(policy)) == sorted(policies.collapse(cidrs))
    assert any(s == {**COLLEAGUE, "Resource": f"arn:aws:execute-api:us-east-1:123456789012:{api_id}/*"} for s in policy["Statement"])

    results = run_parallel([["unblock", "--api", api_id, "--cidr", c] for c in cidrs], env)
    assert all(r.returncode == 0 for r in results), [r.stderr for r in results if r.returncode]
    policy = stored(apigw, api_id)
    assert policies.blocked_cidrs(policy) == []
    assert [s["Sid"] for s in policy["Statement"]] == ["ColleagueAllowOffice"]


class InterferingGateway:
    """Wraps the real gateway; another writer (elsewhere, no lock) overwrites our first write."""

    def __init__(self, real: Any, rival_policy: dict) -> None:
        self.real = real
        self.rival_policy = rival_policy
        self.writes = 0

    def set_policy(self, api_id: str, policy: Any) -> dict:
        written = self.real.set_policy(api_id, policy)
        self.writes += 1
        if self.writes == 1:
            return self.real.set_policy(api_id, self.rival_policy)  # what a read-back now sees
        return written

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def test_a_writer_elsewhere_is_caught_by_reading_back(api_id: str, apigw: Any, local_url: str) -> None:
    app = App(Target(local=True, local_url=local_url), Output("json"))
    rival = {"Version": "2012-10-17", "Statement": [COLLEAGUE]}
    app.__dict__["gateway"] = InterferingGateway(app.target.gateway(), rival)
    result, _ = policy_changes.change_policy(
        app, api_id, "test", "test",
        edit=lambda p: policies.block(p, ["192.0.2.0/24"]),
        intended=lambda p: bool(policies.still_blocking(p, "192.0.2.0/24")),
    )
    assert result.write_attempts == 2
    policy = stored(apigw, api_id)
    assert policies.blocked_cidrs(policy) == ["192.0.2.0/24"]
    assert "ColleagueAllowOffice" in [s.get("Sid") for s in policy["Statement"]], "the rival's statement is kept"


def test_eight_machines_lose_nothing(api_id: str, apigw: Any, local_env: str, tmp_path: Any) -> None:
    """Eight writers, each with its own state dir (eight machines: no shared lock file)."""
    put_policy(apigw, api_id, {"Version": "2012-10-17", "Statement": [COLLEAGUE]})
    cidrs = [f"203.0.113.{n}/32" for n in range(30, 36)]
    accounts = ["111122223333", "444455556666"]
    commands = [["block-my-ip", "--api", api_id, "--cidr", c, "--no-deploy"] for c in cidrs]
    commands += [["allow-accounts", "--api", api_id, a, "--no-deploy", "--force"] for a in accounts]

    def machines(commands: list[list[str]]) -> list[subprocess.CompletedProcess[str]]:
        processes = []
        for index, command in enumerate(commands):
            env = {**os.environ, "PETGATE_LOCAL": "1", "PETGATE_STATE_DIR": str(tmp_path / f"machine-{index}")}
            processes.append(subprocess.Popen([sys.executable, "-m", "petgate", *command], stdout=subprocess.PIPE,
                                              stderr=subprocess.PIPE, text=True, env=env))
        return [subprocess.CompletedProcess(c, p.wait(timeout=180), *p.communicate()) for p, c in zip(processes, commands, strict=True)]

    results = machines(commands)
    assert all(r.returncode == 0 for r in results), [r.stderr for r in results if r.returncode]
    policy = stored(apigw, api_id)
    assert sorted(policies.blocked_cidrs(policy)) == sorted(policies.collapse(cidrs))
    assert "ColleagueAllowOffice" in [s.get("Sid") for s in policy["Statement"]]
    allowed_accounts = [s for s in policy["Statement"] if s.get("Sid") == "PetgateAllowAccounts"]
    assert len(allowed_accounts) == 1
    assert sorted(allowed_accounts[0]["Principal"]["AWS"]) == sorted(f"arn:aws:iam::{a}:root" for a in accounts)
    assert apigw.get_models(restApiId=api_id)["items"] and all(
        m["name"] != "PetgateLease" for m in apigw.get_models(restApiId=api_id)["items"]
    ), "every lease was released"

    results = machines([["unblock", "--api", api_id, "--cidr", c, "--no-deploy"] for c in cidrs])
    assert all(r.returncode == 0 for r in results), [r.stderr for r in results if r.returncode]
    assert policies.blocked_cidrs(stored(apigw, api_id)) == []


def lease_model(apigw: Any, api_id: str, expires_in: float, kind: str = "petgate-lease") -> None:
    description = json.dumps({"kind": kind, "holder": "elsewhere:1:abc", "expires": time.time() + expires_in})
    apigw.create_model(restApiId=api_id, name="PetgateLease", description=description,
                       schema='{"type": "object"}', contentType="application/json")


def test_a_crashed_holders_lease_is_taken_over(petgate: Any, api_id: str, apigw: Any) -> None:
    lease_model(apigw, api_id, expires_in=-5)
    result = petgate("block-my-ip", "--api", api_id, "--cidr", "192.0.2.7", "--no-deploy")
    assert result.exit_code == 0, result.stderr
    assert policies.blocked_cidrs(stored(apigw, api_id)) == ["192.0.2.7/32"]
    assert "PetgateLease" not in [m["name"] for m in apigw.get_models(restApiId=api_id)["items"]]


class FakeClock:
    """Time for the lease: sleeping moves it on, so a wait costs no real time."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_a_live_lease_is_waited_for(local_url: str, api_id: str, apigw: Any) -> None:
    import io

    clock = FakeClock()
    lease_model(apigw, api_id, expires_in=1.5)  # by the real clock, which the fake one starts from
    said = io.StringIO()
    app = App(Target(local=True, local_url=local_url), Output(stderr=said), clock=clock, sleep=clock.sleep)
    started = clock.now
    policy_changes.block(app, api_id, "test", ["192.0.2.8/32"])
    assert "another petgate (elsewhere:1:abc) is changing API" in said.getvalue()
    assert clock.now > started + 1.5, "it waited until the other lease had expired"
    assert policies.blocked_cidrs(stored(apigw, api_id)) == ["192.0.2.8/32"]


def test_a_model_of_that_name_that_is_not_a_lease_is_left_alone(petgate: Any, api_id: str, apigw: Any) -> None:
    lease_model(apigw, api_id, expires_in=-5, kind="the user's own model")
    result = petgate("block-my-ip", "--api", api_id, "--cidr", "192.0.2.9", "--no-deploy")
    assert result.exit_code == 2
    assert f"API {api_id} has a model named PetgateLease that petgate did not create" in result.stderr
    assert stored(apigw, api_id) is None
    assert "PetgateLease" in [m["name"] for m in apigw.get_models(restApiId=api_id)["items"]]


def test_the_local_gateway_refuses_a_model_name_twice(api_id: str, apigw: Any) -> None:
    import botocore.exceptions

    apigw.create_model(restApiId=api_id, name="Twice", schema='{"type": "object"}', contentType="application/json")
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        apigw.create_model(restApiId=api_id, name="Twice", schema='{"type": "object"}', contentType="application/json")
    error = refused.value.response["Error"]
    assert error["Code"] == "ConflictException" and error["Message"] == "Model name already exists for this REST API"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
