"""A short lease on an API, kept in the API itself, so writers on different machines take turns.

API Gateway has no conditional write, but CreateModel of a name that exists answers
ConflictException: creating the model `PetgateLease` is an atomic test-and-set that every
machine sees. The model's description says who holds it and until when, so a holder that
crashed blocks the others only until then (clocks are assumed within seconds of each other).
"""

from __future__ import annotations

import json
import os
import random
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from petgate.errors import AwsError, UsageError

MODEL_NAME = "PetgateLease"
MARKER = "petgate-lease"
TTL_S = 60.0  # far longer than a read-modify-write, short enough to outlive a crash quickly
WAIT_S = 90.0  # how long to wait for another holder before giving up


class NoSuchApiError(AwsError):
    """The API the lease was asked for does not exist."""


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


@contextmanager
def held(
    gateway: Any,
    api_id: str,
    on_wait: Callable[[str], None] = lambda _message: None,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[Holder]:
    """Hold the API's lease for the duration of the block; release it after, whatever happens."""
    mine = acquire(gateway, api_id, on_wait, clock, sleep)
    try:
        yield mine
    finally:
        release(gateway, api_id, mine, clock)


def acquire(
    gateway: Any,
    api_id: str,
    on_wait: Callable[[str], None] = lambda _message: None,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> Holder:
    holder_id = new_holder_id()
    deadline = clock() + WAIT_S
    told = False
    while True:
        mine = Holder(holder_id, clock() + TTL_S)
        try:
            gateway.create_model(api_id, MODEL_NAME, mine.describe())
            return mine
        except AwsError as exc:
            if exc.code == "NotFoundException":
                raise NoSuchApiError(exc.message, exc.hint, exc.code) from None
            if exc.code != "ConflictException":
                raise
        current = gateway.get_model_or_none(api_id, MODEL_NAME)
        if current is None:
            continue  # released between our create and our read: try again at once
        other = parse(current.get("description"))
        if other is None:
            raise UsageError(
                f"API {api_id} has a model named {MODEL_NAME} that petgate did not create",
                "petgate uses that name to take turns with other writers; rename or delete that model",
            )
        if other.expires < clock():
            gateway.delete_model_if(api_id, MODEL_NAME, current.get("description"))  # a crashed holder's
            continue
        if clock() > deadline:
            raise AwsError(
                f"API {api_id} is being changed by another petgate ({other.holder}) and it did not finish",
                f"run the command again; a stuck lease ends by itself at {time.strftime('%H:%M:%S', time.localtime(other.expires))}",
                "LeaseHeld",
            )
        if not told:
            on_wait(f"another petgate ({other.holder}) is changing API {api_id}; waiting for its turn")
            told = True
        sleep(random.uniform(0.1, 0.4))  # jitter: waiters must not retry in step


def release(gateway: Any, api_id: str, mine: Holder, clock: Callable[[], float] = time.time) -> None:
    """Delete the lease: at once while it is surely ours; once expired, only if nobody took it."""
    if clock() < mine.expires - 1.0:
        gateway.delete_model(api_id, MODEL_NAME)
    else:
        gateway.delete_model_if(api_id, MODEL_NAME, mine.describe())
