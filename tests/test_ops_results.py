"""Typed results (petgate/ops/results.py): what `to_json()` leaves out, merges and converts."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import pytest

from petgate.ops.results import (
    FLAT,
    UNSET,
    DeployError,
    Deployment,
    Result,
    StageChange,
    Unset,
    as_json,
    extend,
)


@dataclass(frozen=True, kw_only=True)
class Inner(Result):
    cidr: str
    note: str | Unset = UNSET


@dataclass(frozen=True, kw_only=True)
class Outer(Result):
    name: str
    items: list[Inner]
    by_name: dict[str, Inner]
    merged: Inner | None = field(default=None, metadata=FLAT)
    maybe: int | None | Unset = UNSET


@dataclass(frozen=True, kw_only=True)
class Wider(Outer):
    extra: bool


def test_an_unset_field_is_a_key_the_json_leaves_out_and_none_is_null() -> None:
    assert Inner(cidr="192.0.2.1/32").to_json() == {"cidr": "192.0.2.1/32"}
    assert Outer(name="a", items=[], by_name={}, maybe=None).to_json() == {
        "name": "a", "items": [], "by_name": {}, "maybe": None}


def test_nested_results_become_objects_in_lists_and_dicts() -> None:
    inner = Inner(cidr="c", note="n")
    data = Outer(name="a", items=[inner], by_name={"x": inner}).to_json()
    assert data["items"] == [{"cidr": "c", "note": "n"}] and data["by_name"] == {"x": {"cidr": "c", "note": "n"}}
    assert as_json((inner,)) == [{"cidr": "c", "note": "n"}]


def test_a_flat_field_puts_its_keys_beside_the_others_and_none_adds_nothing() -> None:
    merged = Outer(name="a", items=[], by_name={}, merged=Inner(cidr="c")).to_json()
    assert merged == {"name": "a", "items": [], "by_name": {}, "cidr": "c"}
    assert "merged" not in Outer(name="a", items=[], by_name={}).to_json()


def test_results_are_frozen_and_but_copies() -> None:
    first = Inner(cidr="c")
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.cidr = "d"  # type: ignore[misc]
    second = first.but(note="n")
    assert first.to_json() == {"cidr": "c"} and second.to_json() == {"cidr": "c", "note": "n"}


def test_extend_keeps_the_base_fields_and_adds_the_subclass_ones() -> None:
    base = Outer(name="a", items=[], by_name={}, maybe=3)
    wider = extend(base, Wider, extra=True)
    assert wider.to_json() == {**base.to_json(), "extra": True}


def test_unset_is_one_falsy_value() -> None:
    assert Unset() is UNSET and not UNSET and repr(UNSET) == "UNSET"


def test_a_stage_change_carries_its_deployment_keys_flat() -> None:
    change = StageChange(api_id="a1", stage="test", changed=True, dry_run=False, journal_id="j1")
    assert change.to_json() == {"api_id": "a1", "stage": "test", "changed": True, "dry_run": False, "journal_id": "j1"}
    failed = change.but(deployment=Deployment(
        deployed=False, invoke_url="http://x", deploy_error=DeployError(code="NetworkError", message="m", hint=None)))
    assert failed.to_json() == {**change.to_json(), "deployed": False, "invoke_url": "http://x",
                                "deploy_error": {"code": "NetworkError", "message": "m", "hint": None}}
    with pytest.raises(NotImplementedError):
        change.served_by({})
