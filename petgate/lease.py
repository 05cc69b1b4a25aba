"""A short lease on an API, kept in the API itself, so writers on different machines take turns.

API Gateway has no conditional write, but CreateModel of a name that exists answers
ConflictException: creating the model `PetgateLease` is an atomic test-and-set that every
machine sees. The model's description says who holds it and until when, so a holder that
crashed blocks the others only until then.

The guarantee (README, "Safety"): a holder sends a write only while its lease has more time
left than the write can take, so every write lands while the lease is still its own. That
needs two bounds: each write is one attempt whose connect and read are bounded by timeouts
(`Lease.write_bound_s`, from the gateway), and machines' clocks agree within `SKEW_S`. A
holder that has too little time left does not write; it takes the lease again (renewal is
re-acquisition: CreateModel again, so a holder whose lease another writer took cannot renew
it) and reads again before it writes.
"""

from __future__ import annotations

import json
import os
import random
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from petgate.errors import AwsError, NetworkError, UsageError

MODEL_NAME = "PetgateLease"
MARKER = "petgate-lease"
TTL_S = 90.0  # several slow calls (a read and a write of up to 35 s each) fit; a crash blocks others this long
SKEW_S = 5.0  # machines' clocks are assumed to agree within this
WAIT_S = TTL_S + 30.0  # how long to wait for another holder: longer than a crashed holder's lease lasts
WRITE_RETRIES = 5  # a throttled or conflicting write is sent again (each time only with time left)

T = TypeVar("T")


class NoSuchApiError(AwsError):
    """The API the lease was asked for does not exist."""


class LeaseTooShortError(Exception):
    """Too little of the lease is left for the next write: take it again and read again."""


@dataclass(frozen=True)
class Holder:
    holder: str
    expires: float

    def describe(self) -> str:
        return json.dumps({"kind": MARKER, "holder": self.holder, "expires": round(self.expires, 3)})


def parse(description: str | None) -> Holder | None:
    """The holder a lease model names; None if the model is not petgate's lease."""
    try:
        data = json.loads(description or "")
        if isinstance(data, dict) and data.get("kind") == MARKER:
            return Holder(str(data["holder"]), float(data["expires"]))
    except (ValueError, KeyError, TypeError):
        pass
    return None


def new_holder_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Lease:
    """One writer's turn on one API: acquire, guard each write, release.

    `gateway` makes the model calls (create_model, get_model_or_none, delete_model,
    delete_model_if) and tells how long one write can take (`write_bound_s`).
    """

    def __init__(
        self,
        gateway: Any,
        api_id: str,
        on_wait: Callable[[str], None] = lambda _message: None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.gateway = gateway
        self.api_id = api_id
        self.on_wait = on_wait
        self.clock = clock
        self.sleep = sleep
        self.holder_id = new_holder_id()
        self.mine: Holder | None = None
        self.took_over = False  # the last acquisition deleted a crashed holder's lease

    @property
    def write_bound_s(self) -> float:
        return float(getattr(self.gateway, "write_bound_s", 35.0))

    def time_left(self) -> float:
        """Seconds of the lease left that are surely ours (other clocks may run SKEW_S ahead)."""
        return -1.0 if self.mine is None else self.mine.expires - SKEW_S - self.clock()

    def enough_for_a_write(self) -> bool:
        return self.time_left() > self.write_bound_s

    def acquire(self) -> Holder:
        """Take the lease, waiting (up to WAIT_S) for another holder to finish or expire."""
        deadline = self.clock() + WAIT_S
        told = False
        self.took_over = False
        while True:
            # the expiry counts from before the call; kept to the millisecond, as the model stores it
            attempt = Holder(self.holder_id, round(self.clock() + TTL_S, 3))
            try:
                self.gateway.create_model(self.api_id, MODEL_NAME, attempt.describe())
                self.mine = attempt
                return attempt
            except AwsError as exc:
                if exc.code == "NotFoundException":
                    raise NoSuchApiError(exc.message, exc.hint, exc.code) from None
                if exc.code != "ConflictException":
                    raise
            current = self.gateway.get_model_or_none(self.api_id, MODEL_NAME)
            if current is None:
                continue  # released between our create and our read: try again at once
            other = parse(current.get("description"))
            if other is None:
                raise UsageError(
                    f"API {self.api_id} has a model named {MODEL_NAME} that petgate did not create",
                    "petgate uses that name to take turns with other writers; rename or delete that model",
                )
            if other.holder == self.holder_id and other.expires - SKEW_S - self.clock() > self.write_bound_s:
                # botocore retried our CreateModel after its answer was lost: the lease is ours
                self.mine = other
                return other
            if other.expires + SKEW_S < self.clock():  # expired by every clock: a crashed (or overrun) holder's
                self.gateway.delete_model_if(self.api_id, MODEL_NAME, current.get("description"))
                self.took_over = True
                continue
            if self.clock() > deadline:
                raise AwsError(
                    f"API {self.api_id} is being changed by another petgate ({other.holder}) and it did not finish",
                    f"run the command again; a stuck lease ends by itself at "
                    f"{time.strftime('%H:%M:%S', time.localtime(other.expires))}",
                    "LeaseHeld",
                )
            if not told and other.holder != self.holder_id:
                self.on_wait(f"another petgate ({other.holder}) is changing API {self.api_id}; waiting for its turn")
                told = True
            self.sleep(random.uniform(0.1, 0.4))  # jitter: waiters must not retry in step

    def confirm(self) -> None:
        """After taking over a crashed holder's lease, read it back before the first write:
        another waiter that took it over at the same instant may have deleted ours."""
        if not self.took_over:
            return
        current = self.gateway.get_model_or_none(self.api_id, MODEL_NAME)
        if current is None or parse(current.get("description")) != self.mine:
            self.mine = None
            raise LeaseTooShortError()
        self.took_over = False

    def ready_to_write(self) -> None:
        """LeaseTooShortError unless a write sent now surely lands while the lease is ours."""
        self.confirm()
        if not self.enough_for_a_write():
            raise LeaseTooShortError()

    def write(self, call: Callable[[], T]) -> T:
        """Send one write while the lease surely lasts longer than the write can take; a throttled
        or conflicting answer is sent again under the same rule. LeaseTooShortError: too little time left."""
        for attempt in range(WRITE_RETRIES + 1):
            self.ready_to_write()
            try:
                return call()
            except AwsError as exc:
                if attempt == WRITE_RETRIES or exc.code not in ("TooManyRequestsException", "ConflictException"):
                    raise
                self.sleep(min(0.5 * 2**attempt, 8.0) * random.uniform(0.5, 1.0))
        raise AssertionError("unreachable")

    def release(self) -> None:
        """Delete the lease only while the delete surely lands before it expires: later, another
        writer may hold a new lease of the same name, and deleting that would be a lost update.
        Otherwise it is left to expire (others wait at most its time left)."""
        mine, self.mine = self.mine, None
        if mine is None:
            return
        if mine.expires - SKEW_S - self.clock() > self.write_bound_s:
            self.gateway.delete_model(self.api_id, MODEL_NAME)

    def release_quietly(self, warn: Callable[[str], None]) -> None:
        """Release after a failure: the failure is what the user must see, not the release's."""
        try:
            self.release()
        except (AwsError, NetworkError) as exc:
            warn(f"the lease on API {self.api_id} was not released ({exc.message}); it ends by itself within {TTL_S:.0f}s")
