"""When a block ends: `--for DURATION` / `--until TIME`, the stamp kept in AWS beside the
addresses (a deny statement's Sid, an IP set's name), and which existing group a new block
may join. Pure: the clock is passed in.

Blocks that end at nearly the same time share one group, so a cron job blocking for 24h every
five minutes does not grow a statement or an IP set per run: a block ends no earlier than asked
and at most a tenth of its duration later (never more than an hour). It joins an existing group
in that window, or starts one at the next round time of a step within it (24h blocks: the next
full hour), where later blocks can join it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import overload

STAMP_FORMAT = "%Y%m%dT%H%M%SZ"
STAMP = re.compile(r"\d{8}T\d{6}Z")
_DURATION = re.compile(r"(\d+)([smhd])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
MAX_JOIN_LATER = timedelta(hours=1)
_STEPS_S = (3600, 1800, 900, 600, 300, 60, 30, 10, 5, 1)  # round times a group may start at
MAX_DURATION = timedelta(days=3650)
LAST_YEAR = 9999  # datetime's own limit: group times are rounded up from there


class ExpiryError(ValueError):
    """A duration or time petgate cannot use; the message says what was wrong."""


def now(clock: Callable[[], float] = time.time) -> datetime:
    """The time now, to the second, read from `clock` (the lease's and the journal's too)."""
    return datetime.fromtimestamp(clock(), UTC).replace(microsecond=0)


def parse_duration(text: str) -> timedelta:
    """`90s`, `30m`, `24h`, `7d` (one number, one unit)."""
    match = _DURATION.fullmatch(text.strip())
    if not match:
        raise ExpiryError(f"{text!r} is not a duration: use a number and s, m, h or d (90s, 30m, 24h, 7d)")
    try:
        duration = timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    except OverflowError:
        duration = MAX_DURATION * 2  # more than any block may last
    if not timedelta(0) < duration <= MAX_DURATION:
        raise ExpiryError(f"{text!r}: a block lasts from 1s to 3650d")
    return duration


def parse_time(text: str) -> datetime:
    """An ISO 8601 time; one without a zone is UTC. Kept to the second."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ExpiryError(f"{text!r} is not an ISO 8601 time (for example 2026-12-01T18:00:00Z)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC).replace(microsecond=0)
    except OverflowError:  # 0001-01-01T00:00:00+01:00 is before the year 1 in UTC
        raise ExpiryError(f"{text!r} is outside the years 0001 to 9999 in UTC") from None


def until_from(duration: str | None, until: str | None, clock: datetime) -> datetime | None:
    """The end of a block from --for or --until (None: the block is permanent)."""
    if duration is not None and until is not None:
        raise ExpiryError("--for and --until do not go together")
    if duration is not None:
        return clock + parse_duration(duration)
    if until is None:
        return None
    moment = parse_time(until)
    if moment <= clock:
        raise ExpiryError(f"--until {until} has already passed (it is {iso(clock)} now)")
    if moment.year >= LAST_YEAR:
        raise ExpiryError(f"--until {until} is too far away (before {LAST_YEAR}, please; without an end a block "
                          "lasts until unblocked)")
    return moment


def stamp(moment: datetime) -> str:
    """yyyymmddThhmmssZ, always four digits of year (as iso)."""
    return str(iso(moment)).replace("-", "").replace(":", "")


def from_stamp(text: str) -> datetime | None:
    """The time a stamp names; None if it is not one."""
    if not STAMP.fullmatch(text):
        return None
    try:
        return datetime.strptime(text, STAMP_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


@overload
def iso(moment: datetime) -> str: ...
@overload
def iso(moment: None) -> None: ...
@overload
def iso(moment: datetime | None) -> str | None: ...


def iso(moment: datetime | None) -> str | None:
    """yyyy-mm-ddThh:mm:ssZ, always four digits of year: 0001-01-01T00:00:00Z (strftime's %Y
    writes the year 1 as `1`)."""
    if moment is None:
        return None
    return moment.astimezone(UTC).replace(tzinfo=None, microsecond=0).isoformat() + "Z"


def group_for(wanted: datetime, existing: Iterable[datetime], clock: datetime) -> datetime:
    """The group a block ending at `wanted` goes to: the earliest existing group that ends no
    earlier and within the allowed lateness, or a new group at `wanted`."""
    lateness = min((wanted - clock) / 10, MAX_JOIN_LATER)
    fitting = sorted(e for e in existing if wanted <= e <= wanted + lateness)
    if fitting:
        return fitting[0]
    step = next((s for s in _STEPS_S if s <= lateness.total_seconds()), 1)
    seconds = int(wanted.timestamp())
    return datetime.fromtimestamp(-(-seconds // step) * step, UTC)


def expired(moment: datetime | None, clock: datetime) -> bool:
    return moment is not None and moment <= clock
