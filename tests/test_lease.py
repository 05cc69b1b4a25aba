"""lease.py against a fake control plane and an injected clock: taking turns, a crashed holder,
a stuck one, a slow network, a lost answer; no test waits on real time."""

from __future__ import annotations

from typing import Any

import pytest

from petgate import lease
from petgate.errors import AwsError, UsageError

API = "a1b2c3d4e5"
BOUND = 35.0  # one write: 5 s connect + 30 s read, as petgate's writer client


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class FakeModels:
    """CreateModel / GetModel / DeleteModel with AWS's answers; each call may take `delay` seconds."""

    write_bound_s = BOUND

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.models: dict[str, str] = {}
        self.calls: list[str] = []
        self.delay = 0.0
        self.lose_create_answer = False

    def create_model(self, api_id: str, name: str, description: str) -> dict[str, Any]:
        self.calls.append("create")
        self.clock.now += self.delay
        if api_id != API:
            raise AwsError("Invalid API identifier specified", code="NotFoundException")
        if name in self.models:
            raise AwsError("Model name already exists for this REST API", code="ConflictException")
        self.models[name] = description
        if self.lose_create_answer:  # the model was made, the answer lost; botocore's retry then conflicts
            self.lose_create_answer = False
            raise AwsError("Model name already exists for this REST API", code="ConflictException")
        return {"name": name, "description": description}

    def get_model_or_none(self, api_id: str, name: str) -> dict[str, Any] | None:
        self.calls.append("get")
        self.clock.now += self.delay
        return {"name": name, "description": self.models[name]} if name in self.models else None

    def delete_model(self, api_id: str, name: str) -> None:
        self.calls.append("delete")
        self.clock.now += self.delay
        self.models.pop(name, None)

    def delete_model_if(self, api_id: str, name: str, description: str | None) -> None:
        current = self.get_model_or_none(api_id, name)
        if current is not None and current["description"] == description:
            self.delete_model(api_id, name)


def new(clock: Clock | None = None) -> tuple[FakeModels, Clock, lease.Lease]:
    clock = clock or Clock()
    models = FakeModels(clock)
    return models, clock, lease.Lease(models, API, clock=clock, sleep=clock.sleep)


def holder(name: str, expires: float) -> str:
    return lease.Holder(name, expires).describe()


def test_a_free_lease_costs_one_create_and_one_delete() -> None:
    models, clock, mine = new()
    taken = mine.acquire()
    assert lease.parse(models.models[lease.MODEL_NAME]) == taken
    assert taken.expires == clock.now + lease.TTL_S
    mine.release()
    assert models.models == {} and models.calls == ["create", "delete"]


def test_the_expiry_counts_from_before_the_create_call() -> None:
    models, clock, mine = new()
    models.delay = 20.0
    started = clock.now
    taken = mine.acquire()
    assert taken.expires == started + lease.TTL_S  # a slow CreateModel eats into the lease, never extends it
    assert mine.time_left() == pytest.approx(lease.TTL_S - 20.0 - lease.SKEW_S)


def test_a_write_is_sent_only_with_more_time_left_than_it_can_take() -> None:
    models, clock, mine = new()
    mine.acquire()
    sent: list[float] = []
    mine.write(lambda: sent.append(clock.now))
    assert sent == [1000.0]
    # just enough: time left must be more than the bound, after the skew margin
    clock.now = 1000.0 + lease.TTL_S - lease.SKEW_S - BOUND - 0.01
    mine.write(lambda: sent.append(clock.now))
    clock.now += 0.02
    with pytest.raises(lease.LeaseTooShortError):
        mine.write(lambda: sent.append(clock.now))
    assert len(sent) == 2


def test_a_slow_holder_never_writes_over_the_one_who_took_over() -> None:
    """The issue's scenario: every call takes 21 s; the first holder's lease runs short."""
    clock = Clock()
    a_models, _, a = new(clock)
    a_models.delay = 21.0
    a.acquire()  # 21 s
    a_models.get_model_or_none(API, "x")  # a read of the API: 21 s
    a_models.get_model_or_none(API, "x")  # and another
    a_models.get_model_or_none(API, "x")  # and another: 84 s since the lease was taken
    with pytest.raises(lease.LeaseTooShortError):
        a.write(lambda: None)
    # B (another machine, same store) can take over only once A's lease has expired by every clock
    b = lease.Lease(a_models, API, clock=clock, sleep=clock.sleep)
    a_models.delay = 0.0
    b.acquire()
    assert clock.now > 1000.0 + lease.TTL_S + lease.SKEW_S
    assert lease.parse(a_models.models[lease.MODEL_NAME]).holder == b.holder_id  # type: ignore[union-attr]


def test_release_deletes_only_while_the_delete_surely_lands_in_time() -> None:
    models, clock, mine = new()
    mine.acquire()
    clock.now += lease.TTL_S - lease.SKEW_S - BOUND + 0.5  # a delete now might land after the expiry
    mine.release()
    assert lease.MODEL_NAME in models.models and models.calls == ["create"]  # left to expire


def test_an_overrun_lease_is_not_released_even_if_someone_else_took_it() -> None:
    models, clock, mine = new()
    mine.acquire()
    clock.now += lease.TTL_S + 1  # we overran: another writer took over
    theirs = holder("other:2:y", clock.now + lease.TTL_S)
    models.models[lease.MODEL_NAME] = theirs
    mine.release()
    assert models.models[lease.MODEL_NAME] == theirs


def test_a_live_holder_is_waited_for_then_an_expired_one_is_taken_over() -> None:
    models, clock, mine = new()
    other_expires = clock.now + 5
    models.models[lease.MODEL_NAME] = holder("elsewhere:1:x", other_expires)
    told: list[str] = []
    mine.on_wait = told.append
    mine.acquire()
    assert clock.now > other_expires + lease.SKEW_S, "taken over only once expired by every clock"
    assert len(told) == 1 and "elsewhere:1:x" in told[0]
    assert mine.took_over


def test_after_a_takeover_the_lease_is_read_back_before_the_first_write() -> None:
    models, clock, mine = new()
    models.models[lease.MODEL_NAME] = holder("crashed:1:x", clock.now - 60)
    mine.acquire()
    # another waiter's late delete of the crashed lease removed ours; it then made its own
    models.models[lease.MODEL_NAME] = holder("other:3:z", clock.now + lease.TTL_S)
    written: list[int] = []
    with pytest.raises(lease.LeaseTooShortError):
        mine.write(lambda: written.append(1))
    assert written == []


def test_a_lost_create_answer_is_recognised_as_our_own_lease() -> None:
    models, clock, mine = new()
    models.lose_create_answer = True
    started = clock.now
    taken = mine.acquire()
    assert taken.holder == mine.holder_id
    assert clock.now == started, "no wait on our own lease"
    assert models.calls == ["create", "get"]


def test_a_stuck_holder_ends_in_a_clear_error() -> None:
    models, clock, mine = new()
    models.models[lease.MODEL_NAME] = holder("stuck:1:x", clock.now + 10 * lease.WAIT_S)
    with pytest.raises(AwsError) as stuck:
        mine.acquire()
    assert stuck.value.code == "LeaseHeld" and "stuck:1:x" in stuck.value.message
    assert clock.now >= 1000.0 + lease.WAIT_S


def test_wait_outlasts_a_crashed_holders_lease() -> None:
    assert lease.WAIT_S > lease.TTL_S + lease.SKEW_S


def test_a_throttled_write_is_sent_again_only_with_time_left() -> None:
    models, clock, mine = new()
    mine.acquire()
    answers = [AwsError("slow down", code="TooManyRequestsException"), AwsError("busy", code="ConflictException")]

    def write() -> str:
        if answers:
            raise answers.pop(0)
        return "written"

    assert mine.write(write) == "written"
    with pytest.raises(AwsError):
        mine.write(lambda: (_ for _ in ()).throw(AwsError("no", code="BadRequestException")))


def test_unknown_api_and_foreign_model() -> None:
    models, clock, mine = new()
    with pytest.raises(lease.NoSuchApiError):
        lease.Lease(models, "zzzzzzzzzz", clock=clock, sleep=clock.sleep).acquire()
    models.models[lease.MODEL_NAME] = "the user's own model"
    with pytest.raises(UsageError):
        mine.acquire()
    assert models.models[lease.MODEL_NAME] == "the user's own model"


@pytest.mark.parametrize("text", [None, "", "{}", "[]", '{"kind": "petgate-lease"}', '{"kind": "petgate-lease", "holder": "h", "expires": "soon"}'])
def test_parse_refuses_what_is_not_a_lease(text: str | None) -> None:
    assert lease.parse(text) is None
