"""Control-plane calls per command, counted with botocore's event hooks: the minimum.

A change is made under the API's lease (CreateModel / DeleteModel of `PetgateLease`, see
lease.py): two calls that buy "no update lost across machines"."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from petgate.target import Target


@pytest.fixture()
def calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every API Gateway operation the CLI calls, in order."""
    seen: list[str] = []
    original = Target.gateway

    def counting_gateway(self: Target) -> Any:
        gateway = original(self)
        gateway.client.meta.events.register(
            "before-call.api-gateway", lambda model, **_: seen.append(model.name)
        )
        return gateway

    monkeypatch.setattr(Target, "gateway", counting_gateway)
    yield seen


def test_block_my_ip_by_id_reads_writes_deploys(petgate: Any, api_id: str, calls: list[str]) -> None:
    assert petgate("block-my-ip", "--api", api_id, "--cidr", "192.0.2.1").exit_code == 0
    assert calls == ["CreateModel", "GetRestApi", "UpdateRestApi", "DeleteModel", "CreateDeployment"]


def test_block_my_ip_by_name_walks_the_list_once(petgate: Any, calls: list[str]) -> None:
    petgate("import-example", "--name", "CallCountByName", "--new")
    calls.clear()
    assert petgate("block-my-ip", "--api", "CallCountByName", "--cidr", "192.0.2.1").exit_code == 0
    assert calls == ["GetRestApis", "CreateModel", "GetRestApi", "UpdateRestApi", "DeleteModel", "CreateDeployment"]


def test_unblock_and_template_by_id(petgate: Any, api_id: str, calls: list[str]) -> None:
    petgate("block-my-ip", "--api", api_id, "--cidr", "192.0.2.1", "--no-deploy")
    calls.clear()
    assert petgate("unblock", "--api", api_id, "--cidr", "192.0.2.1").exit_code == 0
    assert calls == ["CreateModel", "GetRestApi", "UpdateRestApi", "DeleteModel", "CreateDeployment"]
    calls.clear()
    assert petgate("set-403-template", "--api", api_id).exit_code == 0
    assert calls == ["CreateModel", "GetRestApi", "GetGatewayResponse", "PutGatewayResponse", "DeleteModel", "CreateDeployment"]


def test_deploy_and_verify_by_id(petgate: Any, api_id: str, calls: list[str]) -> None:
    assert petgate("deploy", "--api", api_id).exit_code == 0
    assert calls == ["CreateDeployment"]
    calls.clear()
    assert petgate("verify", "--api", api_id, "--expect", "allowed", "--timeout", "5").exit_code == 0
    assert calls == []


def test_a_dry_run_only_reads(petgate: Any, api_id: str, calls: list[str]) -> None:
    assert petgate("block-my-ip", "--api", api_id, "--cidr", "192.0.2.1", "--dry-run").exit_code == 0
    assert calls == ["GetRestApi"]
