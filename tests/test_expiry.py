"""Blocks that end: durations and times (expiry.py), and the policy's deny groups whose Sid
carries the end (policy.block / unblock / prune / expiring). Pure: the clock is passed in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from petgate import expiry
from petgate import policy as p

NOW = datetime(2026, 11, 30, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(("text", "delta"), [("90s", timedelta(seconds=90)), ("30m", timedelta(minutes=30)),
                                             ("24h", timedelta(hours=24)), ("7d", timedelta(days=7))])
def test_durations(text: str, delta: timedelta) -> None:
    assert expiry.parse_duration(text) == delta
    assert expiry.until_from(text, None, NOW) == NOW + delta


@pytest.mark.parametrize("text", ["", "10", "1w", "-5m", "1.5h", "0s", "5 m 3s", "99999d", "99999999999999999999d"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(expiry.ExpiryError, match="duration|a block lasts"):
        expiry.parse_duration(text)


def test_until_times() -> None:
    assert expiry.until_from(None, "2026-12-01T18:00:00Z", NOW) == datetime(2026, 12, 1, 18, tzinfo=UTC)
    assert expiry.until_from(None, "2026-12-01T18:00:00", NOW) == datetime(2026, 12, 1, 18, tzinfo=UTC), "no zone: UTC"
    assert expiry.until_from(None, "2026-12-01T19:00:00+01:00", NOW) == datetime(2026, 12, 1, 18, tzinfo=UTC)
    assert expiry.until_from(None, None, NOW) is None
    with pytest.raises(expiry.ExpiryError, match="already passed"):
        expiry.until_from(None, "2026-11-30T11:59:59Z", NOW)
    with pytest.raises(expiry.ExpiryError, match="do not go together"):
        expiry.until_from("1h", "2026-12-01T18:00:00Z", NOW)
    with pytest.raises(expiry.ExpiryError, match="not an ISO 8601 time"):
        expiry.until_from(None, "tomorrow", NOW)
    with pytest.raises(expiry.ExpiryError, match="is too far away"):
        expiry.until_from(None, "9999-12-31T23:59:59Z", NOW)


def test_stamps_round_trip_and_reject_non_times() -> None:
    moment = datetime(2026, 12, 1, 18, 30, 5, tzinfo=UTC)
    assert expiry.stamp(moment) == "20261201T183005Z"
    assert expiry.from_stamp("20261201T183005Z") == moment
    assert expiry.from_stamp("20261399T000000Z") is None and expiry.from_stamp("soon") is None


def test_a_block_joins_a_group_ending_a_little_later_never_earlier() -> None:
    day = NOW + timedelta(hours=24)
    assert expiry.group_for(day, [day + timedelta(minutes=50)], NOW) == day + timedelta(minutes=50)
    assert expiry.group_for(day, [day + timedelta(minutes=61)], NOW) == day, "at most an hour later"
    assert expiry.group_for(day, [day - timedelta(seconds=1)], NOW) == day, "never earlier than asked"
    short = NOW + timedelta(minutes=10)
    assert expiry.group_for(short, [short + timedelta(seconds=59)], NOW) == short + timedelta(seconds=59)
    assert expiry.group_for(short, [short + timedelta(seconds=61)], NOW) == short, "at most a tenth of the duration"
    # a new group starts at the next round time within the allowed lateness
    odd = NOW + timedelta(hours=24, minutes=7, seconds=3)
    assert expiry.group_for(odd, [], NOW) == NOW + timedelta(hours=25)
    assert expiry.group_for(NOW + timedelta(seconds=93), [], NOW) == NOW + timedelta(seconds=95), "90s-ish: 5s steps"
    assert expiry.group_for(NOW + timedelta(seconds=3), [], NOW) == NOW + timedelta(seconds=3)


def test_an_expiring_block_gets_a_statement_whose_sid_names_its_end() -> None:
    until = NOW + timedelta(hours=24)
    policy, added = p.block(None, ["192.0.2.1/32"], until, NOW)
    assert added == ["192.0.2.1/32"]
    assert [s["Sid"] for s in policy["Statement"]] == ["PetgateDenyUntil20261201T120000Z", p.ALLOW_SID]
    assert p.expiring(policy) == [("192.0.2.1/32", until)]
    assert p.permanent_cidrs(policy) == [] and p.blocked_cidrs(policy) == ["192.0.2.1/32"]
    assert "denies everyone from 192.0.2.1/32 until 2026-12-01T12:00:00Z" in p.describe(policy)[0]


def test_longest_block_wins_and_permanent_beats_all() -> None:
    hour, day = NOW + timedelta(hours=1), NOW + timedelta(days=1)
    policy, _ = p.block(None, ["192.0.2.1/32"], day, NOW)
    shorter, added = p.block(policy, ["192.0.2.1/32"], hour, NOW)
    assert added == [] and shorter == policy, "already blocked longer"
    policy, _ = p.block(None, ["192.0.2.1/32"], hour, NOW)
    longer, added = p.block(policy, ["192.0.2.1/32"], day, NOW)
    assert added == ["192.0.2.1/32"] and p.expiring(longer) == [("192.0.2.1/32", day)]
    forever, added = p.block(longer, ["192.0.2.0/24"])
    assert added == ["192.0.2.0/24"] and p.expiring(forever) == [], "a permanent block covers them"
    assert p.blocked_cidrs(forever) == ["192.0.2.0/24"]
    again, added = p.block(forever, ["192.0.2.9/32"], day, NOW)
    assert added == [] and again == forever


def test_blocks_ending_close_together_share_a_statement() -> None:
    start = NOW + timedelta(minutes=1)
    first, _ = p.block(None, ["192.0.2.1/32"], start + timedelta(hours=24), start)
    later = start + timedelta(minutes=5)  # five minutes on, cron blocks another address for 24h
    second, _ = p.block(first, ["192.0.2.2/32"], later + timedelta(hours=24), later)
    groups = p.deny_groups(second)
    assert len(groups) == 1 and groups[0].cidrs == ["192.0.2.1/32", "192.0.2.2/32"]
    assert groups[0].until == NOW + timedelta(hours=25), "the next full hour: within a tenth of 24h"


def test_unblock_lifts_every_group_or_only_the_permanent_one() -> None:
    policy, _ = p.block(None, ["192.0.2.1/32", "192.0.2.3/32"], NOW + timedelta(days=1), NOW)
    policy, _ = p.block(policy, ["192.0.2.1/32", "192.0.2.2/32"])
    only, gone = p.unblock(policy, ["192.0.2.1/32"], permanent_only=True)
    assert gone == ["192.0.2.1/32"] and p.permanent_cidrs(only) == ["192.0.2.2/32"]
    assert [c for c, _ in p.expiring(only)] == ["192.0.2.1/32", "192.0.2.3/32"]
    every, gone = p.unblock(policy, ["192.0.2.1/32", "192.0.2.3/32"])
    assert gone == ["192.0.2.1/32", "192.0.2.3/32"]
    assert [s["Sid"] for s in every["Statement"]] == [p.DENY_SID, p.ALLOW_SID], "the emptied group goes"
    nothing, _ = p.unblock(every, ["192.0.2.2/32"])
    assert nothing is None


def test_prune_drops_ended_groups_and_keeps_the_users_statements() -> None:
    user = {"Sid": "Office", "Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke",
            "Resource": "execute-api:/*", "Condition": {"IpAddress": {"aws:SourceIp": "198.51.100.0/24"}}}
    policy: p.Policy = {"Version": p.POLICY_VERSION, "Statement": [user]}
    policy, _ = p.block(policy, ["192.0.2.1/32"], NOW + timedelta(hours=1), NOW)
    policy, _ = p.block(policy, ["192.0.2.2/32"], NOW + timedelta(hours=5), NOW)
    unchanged, pruned = p.prune(policy, NOW + timedelta(minutes=59))
    assert pruned == [] and unchanged == policy
    after, pruned = p.prune(policy, NOW + timedelta(hours=1))
    assert pruned == [("192.0.2.1/32", NOW + timedelta(hours=1))]
    assert p.blocked_cidrs(after) == ["192.0.2.2/32"] and p.user_statements(after) == [user]
    assert p.prune(after, NOW + timedelta(hours=1))[1] == [], "idempotent"
    last, _ = p.prune(after, NOW + timedelta(days=1))
    assert last == {"Version": p.POLICY_VERSION, "Statement": [user]}
    lone, _ = p.block(None, ["192.0.2.1/32"], NOW + timedelta(hours=1), NOW)
    assert p.prune(lone, NOW + timedelta(hours=2))[0] is None, "only petgate's Allow left: no policy"


def test_hand_edited_groups_are_refused() -> None:
    policy, _ = p.block(None, ["192.0.2.1/32"], NOW + timedelta(hours=1), NOW)
    policy["Statement"][0]["Effect"] = "Allow"
    with pytest.raises(p.PolicyError, match="PetgateDenyUntil20261130T130000Z was changed by hand"):
        p.block(policy, ["192.0.2.2/32"])
    bad = {"Version": p.POLICY_VERSION, "Statement": [{**p.deny_statement(["192.0.2.1/32"]), "Sid": "PetgateDenyUntilSoon"}]}
    with pytest.raises(p.PolicyError, match="does not name a time"):
        p.prune(bad, NOW)


moments = st.integers(min_value=1, max_value=48 * 60).map(lambda minutes: NOW + timedelta(minutes=minutes))
blocks = st.lists(st.tuples(st.integers(0, 15).map(lambda i: f"192.0.2.{i}/32"), st.one_of(st.none(), moments)),
                  min_size=1, max_size=12)


@settings(max_examples=150, deadline=None)
@given(blocks=blocks, at=moments)
def test_prune_lifts_what_has_ended_and_nothing_that_has_not(blocks: list[tuple[str, datetime | None]], at: datetime) -> None:
    policy: p.Policy | None = None
    for cidr, until in blocks:
        policy, _ = p.block(policy, [cidr], until, NOW)
    pruned, _ = p.prune(policy, at)
    for cidr in {c for c, _ in blocks}:
        ends = [u for c, u in blocks if c == cidr]
        if None in ends:
            assert p.still_blocking(pruned, cidr), "a permanent block stays"
            continue
        last = max(u for u in ends if u is not None)
        assert p.still_blocking(policy, cidr, last), "blocked at least as long as asked"
        if last > at:
            assert p.still_blocking(pruned, cidr), (cidr, ends, at)
        elif last + min((last - NOW) / 10, expiry.MAX_JOIN_LATER) <= at:  # the group may end a little later
            assert not p.still_blocking(pruned, cidr), (cidr, ends, at)


# --- four-digit years, and times outside the calendar (issue 16) -----------------------------


@pytest.mark.parametrize(("moment", "iso", "stamp"), [
    (datetime(1, 1, 1, tzinfo=UTC), "0001-01-01T00:00:00Z", "00010101T000000Z"),
    (datetime(999, 12, 31, 23, 59, 59, tzinfo=UTC), "0999-12-31T23:59:59Z", "09991231T235959Z"),
    (datetime(2026, 11, 30, 12, 0, 5, 999_999, tzinfo=UTC), "2026-11-30T12:00:05Z", "20261130T120005Z"),
    (datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC), "9999-12-31T23:59:59Z", "99991231T235959Z"),
    (datetime(2026, 12, 1, 1, 0, tzinfo=timezone(timedelta(hours=2))), "2026-11-30T23:00:00Z", "20261130T230000Z"),
])
def test_times_print_with_four_digit_years_in_utc(moment: datetime, iso: str, stamp: str) -> None:
    assert expiry.iso(moment) == iso
    assert expiry.stamp(moment) == stamp
    assert expiry.from_stamp(stamp) == moment.replace(microsecond=0)
    assert expiry.parse_time(iso) == moment.replace(microsecond=0)
    assert expiry.iso(None) is None


@settings(max_examples=200, deadline=None)
@given(moment=st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59),
                           timezones=st.just(UTC)))
def test_iso_and_stamp_round_trip_through_every_year(moment: datetime) -> None:
    whole = moment.replace(microsecond=0)
    assert len(expiry.iso(moment) or "") == 20 and expiry.parse_time(expiry.iso(moment) or "") == whole
    assert expiry.STAMP.fullmatch(expiry.stamp(moment)) and expiry.from_stamp(expiry.stamp(moment)) == whole


@pytest.mark.parametrize("text", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:30:00-01:00"])
def test_a_time_that_is_outside_the_calendar_in_utc_is_refused(text: str) -> None:
    with pytest.raises(expiry.ExpiryError, match="is outside the years 0001 to 9999 in UTC"):
        expiry.parse_time(text)
    with pytest.raises(expiry.ExpiryError, match="is outside the years 0001 to 9999 in UTC"):
        expiry.until_from(None, text, NOW)
