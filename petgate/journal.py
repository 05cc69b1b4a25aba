"""The undo journal: every change petgate makes, as JSON lines in the user's state directory.

Writing the journal never blocks a change; a change that cannot be journaled says so. The
same directory holds the per-API lock files that serialise petgate's own concurrent writers.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

JOURNAL_FILE = "journal.jsonl"
LOCK_TIMEOUT_S = 60.0
UPDATE = "update"  # marks a line that adds to an earlier entry of the same id


def state_dir() -> Path:
    explicit = os.environ.get("PETGATE_STATE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "petgate"


class Journal:
    def __init__(
        self, directory: Path | None = None, warn: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.directory = directory or state_dir()
        self.clock = clock  # the entries' time: the same clock as the lease's
        self._warn = warn or (lambda _message: None)
        self._warned = False

    @property
    def path(self) -> Path:
        return self.directory / JOURNAL_FILE

    def record(self, **fields: Any) -> dict[str, Any] | None:
        """Append one entry; on failure warn (once) and return None, never raise."""
        entry = {
            "id": uuid.uuid4().hex[:8],
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.clock())),
            **fields,
        }
        return entry if self._append(entry) else None

    def update(self, entry_id: str, **fields: Any) -> bool:
        """Add to an entry (its `state`: intended, then done, failed or not-written) with a line
        of its own: the journal is only ever appended to, so a crash loses at most this line."""
        return self._append({"id": entry_id, UPDATE: True, **fields})

    def _append(self, entry: dict[str, Any]) -> bool:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            line = json.dumps(entry, sort_keys=True) + "\n"
            # one write() of a line under O_APPEND: concurrent writers never interleave lines
            descriptor = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                size = os.fstat(descriptor).st_size
                if size and os.pread(descriptor, 1, size - 1) != b"\n":
                    line = "\n" + line  # a line torn by a crash must not swallow this entry
                os.write(descriptor, line.encode())
            finally:
                os.close(descriptor)
        except OSError as exc:
            if not self._warned:
                self._warn(f"this change was made but not journaled ({self.path}: {exc.strerror}); `petgate undo` cannot revert it")
                self._warned = True
            return False
        return True

    def entries(self) -> list[dict[str, Any]]:
        """Every readable entry, oldest first; unreadable lines are skipped with a warning."""
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return []
        except OSError as exc:
            from petgate.errors import UsageError

            raise UsageError(
                f"cannot read the journal {self.path}: {exc.strerror}",
                "PETGATE_STATE_DIR must be a directory petgate can write to",
            ) from None
        entries: dict[str, dict[str, Any]] = {}
        skipped = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                entry = None
            if isinstance(entry, dict) and isinstance(entry.get("id"), str) and entry["id"]:
                if entry.pop(UPDATE, False):
                    if entry["id"] in entries:  # an update joins its entry, which keeps its place
                        entries[entry["id"]].update(entry)
                else:
                    entries[entry["id"]] = entry
            else:
                skipped.append(number)  # torn by a crash, or edited by hand: the rest still counts
        if skipped:
            listed = ", ".join(map(str, skipped[:10])) + (" ..." if len(skipped) > 10 else "")
            self._warn(f"skipped {len(skipped)} unreadable line(s) of {self.path} (line {listed})")
        return list(entries.values())

    @contextmanager
    def lock(self, api_id: str) -> Iterator[None]:
        """Serialise petgate processes on this machine that edit the same API.

        API Gateway has no conditional writes; this closes the race between local writers,
        and reading back after the write catches writers elsewhere.
        """
        import fcntl

        try:
            locks = self.directory / "locks"
            locks.mkdir(parents=True, exist_ok=True)
            handle = open(locks / f"{api_id}.lock", "a+")  # noqa: SIM115 - held across the yield
        except OSError:
            yield  # no state directory: rely on the read-back check alone
            return
        try:
            deadline = time.monotonic() + LOCK_TIMEOUT_S
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"another petgate process holds {api_id}'s lock") from None
                    time.sleep(0.02)  # polling a lock: flock has no timeout of its own
            yield
        finally:
            handle.close()
