"""lease.py against a fake control plane: taking turns, a crashed holder, a stuck one."""

from __future__ import annotations

from typing import Any

import pytest

from petgate import lease
from petgate.errors import AwsError, UsageError


class FakeModels:
    """CreateModel / GetModel / DeleteModel with AWS's answers."""

    def __init__(self) -> None:
        self.models: dict[str, str] = {}
        self.calls: list[str] = []

    def create_model(self, api_id: str, name: str, description: str) -> dict[str, Any]:
        self.calls.append("create")
        if api_id != "a1b2c3d4e5":
            raise AwsError("Invalid API identifier specified", code="NotFoundException")
        if name in self.models:
            raise AwsError("Model name already exists for this REST API", code="ConflictException")
        self.models[name] = description
        return {"name": name, "description": description}

    def get_model_or_none(self, api_id: str, name: str) -> dict[str, Any] | None:
        self.calls.append("get")
        return {"name": name, "description": self.models[name]} if name in self.models else None

    def delete_model(self, api_id: str, name: str) -> None:
        self.calls.append("delete")
        self.models.pop(name, None)

    def delete_model_if(self, api_id: str, name: str, description: str | None) -> None:
        if self.models.get(name) == description:
            self.delete_model(api_id, name)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_a_free_lease_costs_one_create_and_one_delete() -> None:
    models, clock = FakeModels(), Clock()
    with lease.held(models, "a1b2c3d4e5", clock=clock, sleep=clock.sleep) as mine:
        assert lease.parse(models.models[lease.MODEL_NAME]) == mine
        assert mine.expires == clock.now + lease.TTL_S
    assert models.models == {} and models.calls == ["create", "delete"]


def test_a_live_holder_is_waited_for_then_an_expired_one_is_taken_over() -> None:
    models, clock = FakeModels(), Clock()
    other = lease.Holder("elsewhere:1:x", clock.now + 5)
    models.models[lease.MODEL_NAME] = other.describe()
    told: list[str] = []
    with lease.held(models, "a1b2c3d4e5", told.append, clock, clock.sleep) as mine:
        assert mine.holder != other.holder and clock.now > other.expires
    assert len(told) == 1 and "elsewhere:1:x" in told[0]
    assert models.models == {}


def test_a_stuck_holder_ends_in_a_clear_error() -> None:
    models, clock = FakeModels(), Clock()
    models.models[lease.MODEL_NAME] = lease.Holder("stuck:1:x", clock.now + 10 * lease.WAIT_S).describe()
    with pytest.raises(AwsError) as stuck:
        lease.acquire(models, "a1b2c3d4e5", clock=clock, sleep=clock.sleep)
    assert stuck.value.code == "LeaseHeld" and "stuck:1:x" in stuck.value.message


def test_an_expired_lease_is_not_released_if_someone_else_took_it() -> None:
    models, clock = FakeModels(), Clock()
    mine = lease.acquire(models, "a1b2c3d4e5", clock=clock, sleep=clock.sleep)
    clock.now += lease.TTL_S + 1  # we overran: another writer took over
    theirs = lease.Holder("other:2:y", clock.now + lease.TTL_S).describe()
    models.models[lease.MODEL_NAME] = theirs
    lease.release(models, "a1b2c3d4e5", mine, clock)
    assert models.models[lease.MODEL_NAME] == theirs


def test_unknown_api_and_foreign_model() -> None:
    models, clock = FakeModels(), Clock()
    with pytest.raises(lease.NoSuchApiError):
        lease.acquire(models, "zzzzzzzzzz", clock=clock, sleep=clock.sleep)
    models.models[lease.MODEL_NAME] = "the user's own model"
    with pytest.raises(UsageError):
        lease.acquire(models, "a1b2c3d4e5", clock=clock, sleep=clock.sleep)
    assert models.models[lease.MODEL_NAME] == "the user's own model"


@pytest.mark.parametrize("text", [None, "", "{}", "[]", '{"kind": "petgate-lease"}', '{"kind": "petgate-lease", "holder": "h", "expires": "soon"}'])
def test_parse_refuses_what_is_not_a_lease(text: str | None) -> None:
    assert lease.parse(text) is None
