"""ops/writes.py: taking the lease again when it ran short is bounded and says so."""

from __future__ import annotations

from typing import Any

import pytest

from petgate import lease as leases
from petgate.errors import AwsError
from petgate.ops import writes


class Said:
    def __init__(self) -> None:
        self.warnings: list[str] = []

    def warn(self, message: str) -> None:
        self.warnings.append(message)


class StandIn:
    def __init__(self) -> None:
        self.output = Said()


def test_a_lease_that_ran_short_is_taken_again_until_the_write_goes() -> None:
    app: Any = StandIn()
    tries: list[int] = []

    def attempt() -> str:
        tries.append(1)
        if len(tries) < 3:
            raise leases.LeaseTooShortError()
        return "written"

    assert writes.taking_the_lease_again(app, "a1b2c3d4e5", attempt) == "written"
    assert len(tries) == 3 and len(app.output.warnings) == 2
    assert "API a1b2c3d4e5" in app.output.warnings[0] and "taking it again" in app.output.warnings[0]


def test_a_lease_that_always_runs_short_ends_in_one_clear_error() -> None:
    app: Any = StandIn()
    tries: list[int] = []

    def attempt() -> str:
        tries.append(1)
        raise leases.LeaseTooShortError()

    with pytest.raises(AwsError) as stopped:
        writes.taking_the_lease_again(app, "a1b2c3d4e5", attempt)
    assert len(tries) == writes.MAX_LEASE_TAKES == len(app.output.warnings)
    assert "ran short 8 times" in stopped.value.message and stopped.value.hint == "nothing was written; run the command again"
