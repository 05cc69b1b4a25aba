"""Writing under the API's lease: petgate processes on one machine take turns on a lock file,
writers on every machine on the lease (lease.py); each write is journaled as intended before
it is sent and done after, all before the lease is released."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any, TypeVar

from petgate import lease as leases
from petgate.errors import AwsError, NetworkError
from petgate.gateway import ApiRef
from petgate.ops import apis
from petgate.ops.apis import read_api
from petgate.ops.services import Services

T = TypeVar("T")
MAX_LEASE_TAKES = 8  # a lease that keeps running short means a control plane too slow to write safely


def journal(app: Services, **fields: Any) -> str | None:
    """Record a change made against the current target; the entry's id (None: not journaled)."""
    entry = app.journal.record(target=app.target.describe(), **fields)
    return entry["id"] if entry else None


def new_lease(app: Services, api_id: str) -> leases.Lease:
    return leases.Lease(app.gateway, api_id, app.output.warn, app.clock, app.sleep)


@contextmanager
def under_lease(app: Services, api_id: str, lease: leases.Lease | None = None) -> Iterator[leases.Lease]:
    """The API is ours alone for the block: petgate processes on this machine take turns on a
    lock file, and writers on every machine on the API's lease. Whatever the block raises is
    what the user sees: a failure to release after it is only a warning. Pass the same `lease`
    to take it again after LeaseTooShortError: a lease it still holds is then known as its own."""
    with app.journal.lock(api_id):
        lease = lease or new_lease(app, api_id)
        lease.acquire()
        try:
            yield lease
        except BaseException:
            lease.release_quietly(app.output.warn)
            raise
        lease.release_quietly(app.output.warn)  # written and journaled: a failed release only warns


@contextmanager
def locked_api(
    app: Services, ref: str, dry_run: bool = False, lease: leases.Lease | None = None
) -> Iterator[tuple[ApiRef, dict[str, Any], leases.Lease | None]]:
    """Resolve the API and read it fresh while it is ours alone (see under_lease). A dry run
    only reads, and takes neither."""
    if dry_run:
        api, doc = read_api(app.gateway, ref)
        yield api, doc, None
        return
    api_id = apis.resolve_api(app.gateway, ref, look_up_ids=False).id
    with ExitStack() as stack:
        try:
            lease = stack.enter_context(under_lease(app, api_id, lease if lease and lease.api_id == api_id else None))
        except leases.NoSuchApiError:
            if api_id != ref:
                raise
            lease = stack.enter_context(under_lease(app, apis.resolve_api(app.gateway, ref).id))  # a name that looks like an id
        doc = app.gateway.get_api(lease.api_id)
        yield ApiRef(doc["id"], doc.get("name", "")), doc, lease


def lease_ran_short(app: Services, api_id: str) -> None:
    app.output.warn(f"too little of the lease on API {api_id} was left to write safely; taking it again")


def taking_the_lease_again(app: Services, api_id: str, attempt: Callable[[], T]) -> T:
    """Run `attempt` (which takes the lease, reads and writes); when the lease ran short before a
    write, say so and run it again, a bounded number of times."""
    for _ in range(MAX_LEASE_TAKES):
        try:
            return attempt()
        except leases.LeaseTooShortError:
            lease_ran_short(app, api_id)
    raise AwsError(
        f"the lease on API {api_id} ran short {MAX_LEASE_TAKES} times: the control plane answers too slowly "
        "to write safely",
        "nothing was written; run the command again",
    )


def guarded_write(
    app: Services, lease: leases.Lease, entry_fields: dict[str, Any], write: Callable[[], T],
    stored: Callable[[T], Any] | None = None,
) -> tuple[T, str | None]:
    """Journal the intent, make the write while the lease surely lasts, journal that it was
    done (with `stored(answer)` as the entry's `after`: what AWS really stored, for undo). A
    write whose outcome is unknown (the network failed after sending) says where the change
    may stand; one AWS refused is marked failed. Returns (the write's answer, the entry id)."""
    lease.ready_to_write()  # before the intent is journaled: a lease that ran short wrote nothing
    entry = app.journal.record(target=app.target.describe(), state="intended", **entry_fields)
    entry_id = entry["id"] if entry else None
    try:
        written = lease.write(write)
    except leases.LeaseTooShortError:
        if entry_id:
            app.journal.update(entry_id, state="not-written")
        raise
    except NetworkError as exc:
        where = entry_fields.get("api_id")
        raise NetworkError(
            f"{exc.message}; the change may have reached AWS before the connection failed",
            f"`petgate status --api {where}` shows what the API holds now"
            + (f"; if it holds the change, `petgate undo {entry_id}` reverses it" if entry_id else ""),
        ) from None
    except AwsError:
        if entry_id:
            app.journal.update(entry_id, state="failed")
        raise
    if entry_id:
        app.journal.update(entry_id, state="done", **({"after": stored(written)} if stored else {}))
    return written, entry_id

