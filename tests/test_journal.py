"""journal.py through its public functions, on a tmp directory: record, update, entries, lock."""

from __future__ import annotations

import json
import os
import stat
import threading
from pathlib import Path
from typing import Any

import pytest

from petgate import journal as journals
from petgate.errors import UsageError
from petgate.journal import Journal


class Warnings(list[str]):
    """The warnings a Journal gave (truthy even when empty: Journal takes `warn or` a default)."""

    def __call__(self, message: str) -> None:
        self.append(message)

    def __bool__(self) -> bool:
        return True


@pytest.fixture()
def warned() -> Warnings:
    return Warnings()


@pytest.fixture()
def journal(tmp_path: Path, warned: Warnings) -> Journal:
    return Journal(tmp_path / "state", warn=warned)


def lines(journal: Journal) -> list[str]:
    return journal.path.read_text().splitlines()


def test_record_appends_one_entry_with_an_id_and_a_time(journal: Journal, warned: Warnings) -> None:
    entry = journal.record(kind="policy", api_id="abcdefghij", before=None, after={"Statement": []})
    assert entry is not None
    assert len(entry["id"]) == 8 and int(entry["id"], 16) >= 0
    assert entry["time"].endswith("Z") and entry["time"][4] == "-" and entry["time"][10] == "T"
    assert entry["kind"] == "policy" and entry["after"] == {"Statement": []}
    assert journal.entries() == [entry]
    assert [json.loads(line) for line in lines(journal)] == [entry], "one JSON line per entry"
    assert stat.S_IMODE(journal.path.stat().st_mode) == 0o600, "the journal is the user's alone"
    assert warned == []


def test_entries_keep_their_order_and_ids_differ(journal: Journal) -> None:
    made = [journal.record(kind="policy", n=n) for n in range(5)]
    assert [e["n"] for e in journal.entries()] == [0, 1, 2, 3, 4]
    assert len({e["id"] for e in made if e}) == 5


def test_an_update_joins_its_entry_and_keeps_its_place(journal: Journal) -> None:
    first = journal.record(kind="policy", api_id="a", state="intended")
    second = journal.record(kind="policy", api_id="b", state="intended")
    assert first is not None and second is not None
    assert journal.update(first["id"], state="done", deployment="d1") is True
    entries = journal.entries()
    assert [e["id"] for e in entries] == [first["id"], second["id"]], "the update does not move its entry"
    assert entries[0] == {**first, "state": "done", "deployment": "d1"}
    assert entries[1] == second
    assert all(journals.UPDATE not in e for e in entries), "the update mark is not part of the entry"
    assert len(lines(journal)) == 3, "only ever appended to"


def test_later_updates_win(journal: Journal) -> None:
    entry = journal.record(kind="policy", state="intended")
    assert entry is not None
    journal.update(entry["id"], state="failed")
    journal.update(entry["id"], state="done")
    assert journal.entries()[0]["state"] == "done"


def test_an_update_for_an_unknown_id_is_ignored(journal: Journal, warned: Warnings) -> None:
    entry = journal.record(kind="policy")
    assert journal.update("ffffffff", state="done") is True
    assert journal.entries() == [entry]
    assert warned == [], "an orphan update is not an unreadable line"


def test_an_update_before_its_entry_does_not_create_it(journal: Journal) -> None:
    journal.update("0badc0de", state="done")
    journal.path.write_text(journal.path.read_text() + json.dumps({"id": "0badc0de", "kind": "policy"}) + "\n")
    assert journal.entries() == [{"id": "0badc0de", "kind": "policy"}]


def test_a_torn_last_line_does_not_swallow_the_next_entry(journal: Journal, warned: Warnings) -> None:
    kept = journal.record(kind="policy", api_id="a")
    with journal.path.open("a") as handle:
        handle.write('{"id": "deadbeef", "kind": "pol')  # a crash in the middle of a write
    entry = journal.record(kind="policy", api_id="b")
    assert entry is not None
    assert journal.entries() == [kept, entry]
    assert lines(journal)[1] == '{"id": "deadbeef", "kind": "pol' and json.loads(lines(journal)[2]) == entry
    assert warned == [f"skipped 1 unreadable line(s) of {journal.path} (line 2)"]


def test_a_torn_line_before_an_update_does_not_swallow_it(journal: Journal) -> None:
    entry = journal.record(kind="policy", state="intended")
    assert entry is not None
    with journal.path.open("a") as handle:
        handle.write('{"id": "dea')
    journal.update(entry["id"], state="done")
    assert journal.entries()[0]["state"] == "done"


def test_unreadable_lines_are_skipped_with_one_warning_naming_them(journal: Journal, warned: Warnings) -> None:
    good = [{"id": f"{n:08x}", "kind": "policy"} for n in range(3)]
    text = "\n".join([
        json.dumps(good[0]),
        "not json",                      # 2
        "",                              # blank lines are not unreadable
        json.dumps([1, 2]),              # 4: not an object
        json.dumps(good[1]),
        json.dumps({"kind": "policy"}),  # 6: no id
        json.dumps({"id": "", "x": 1}),  # 7: an empty id
        json.dumps({"id": 7}),           # 8: an id that is not text
        json.dumps(good[2]),
    ]) + "\n"
    journal.directory.mkdir(parents=True)
    journal.path.write_text(text)
    assert journal.entries() == good
    assert warned == [f"skipped 5 unreadable line(s) of {journal.path} (line 2, 4, 6, 7, 8)"]


def test_many_unreadable_lines_name_the_first_ten(journal: Journal, warned: Warnings) -> None:
    journal.directory.mkdir(parents=True)
    journal.path.write_text("".join(f"garbage {n}\n" for n in range(12)) + json.dumps({"id": "a"}) + "\n")
    assert journal.entries() == [{"id": "a"}]
    assert warned == [f"skipped 12 unreadable line(s) of {journal.path} (line 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 ...)"]


def test_no_journal_yet_is_no_entries(journal: Journal, warned: Warnings) -> None:
    assert journal.entries() == [] and warned == []
    assert not journal.directory.exists(), "reading creates nothing"


def test_a_journal_that_cannot_be_read_is_a_usage_error(journal: Journal) -> None:
    journal.path.mkdir(parents=True)  # a directory where the file should be
    with pytest.raises(UsageError) as raised:
        journal.entries()
    assert str(journal.path) in raised.value.message and raised.value.message.startswith("cannot read the journal")
    assert raised.value.hint is not None and "PETGATE_STATE_DIR" in raised.value.hint


def test_a_directory_that_cannot_be_written_warns_once_and_returns_none(tmp_path: Path, warned: Warnings) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    journal = Journal(blocker / "state", warn=warned)  # works as root too: no directory under a file
    assert journal.record(kind="policy") is None
    assert journal.record(kind="policy") is None
    assert journal.update("abcdef12", state="done") is False
    assert len(warned) == 1, "once per journal, not once per change"
    assert warned[0].startswith("this change was made but not journaled (") and str(journal.path) in warned[0]
    assert warned[0].endswith("`petgate undo` cannot revert it")


def test_a_journal_file_that_cannot_be_written_warns_and_returns_none(tmp_path: Path, warned: Warnings) -> None:
    journal = Journal(tmp_path, warn=warned)
    journal.path.mkdir()  # the journal's name is taken by a directory
    assert journal.record(kind="policy") is None
    assert len(warned) == 1 and "not journaled" in warned[0]


def test_without_a_warn_function_a_failure_is_silent(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("")
    assert Journal(tmp_path / "f" / "d").record(kind="policy") is None


def test_the_state_directory_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PETGATE_STATE_DIR", str(tmp_path / "explicit"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert journals.state_dir() == tmp_path / "explicit"
    assert Journal().path == tmp_path / "explicit" / "journal.jsonl"
    monkeypatch.delenv("PETGATE_STATE_DIR")
    assert journals.state_dir() == tmp_path / "xdg" / "petgate"
    monkeypatch.delenv("XDG_STATE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert journals.state_dir() == tmp_path / "home" / ".local" / "state" / "petgate"


def test_concurrent_writers_never_interleave_lines(journal: Journal, warned: Warnings) -> None:
    def write(writer: int) -> None:
        for n in range(25):
            journal.record(kind="policy", writer=writer, n=n, padding="x" * 2000)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    entries = journal.entries()
    # a writer that reads the size while another's line is landing may start its own with a
    # newline: a blank line, which is no entry and no unreadable line
    torn = [(number, line) for number, line in enumerate(lines(journal), start=1) if line and len(line) <= 2000]
    assert len(entries) == 200 and torn == [] and warned == []
    assert sorted((e["writer"], e["n"]) for e in entries) == [(w, n) for w in range(8) for n in range(25)]


# --- lock ---------------------------------------------------------------------------------------


def test_the_lock_excludes_a_second_holder_of_the_same_api(journal: Journal, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(journals, "LOCK_TIMEOUT_S", 0.05)
    other = Journal(journal.directory)
    with journal.lock("abcdefghij"):
        assert (journal.directory / "locks" / "abcdefghij.lock").exists()
        with pytest.raises(TimeoutError, match="another petgate process holds abcdefghij's lock"), other.lock("abcdefghij"):
            pass
        with other.lock("zyxwvutsrq"):  # another API: not serialised
            pass
    with other.lock("abcdefghij"):  # released on the way out
        pass


def test_the_lock_is_released_when_the_block_raises(journal: Journal, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(journals, "LOCK_TIMEOUT_S", 0.05)
    with pytest.raises(RuntimeError), journal.lock("abcdefghij"):
        raise RuntimeError("the change failed")
    with Journal(journal.directory).lock("abcdefghij"):
        pass


def test_a_waiter_gets_the_lock_once_its_holder_lets_go(journal: Journal) -> None:
    held, release = threading.Event(), threading.Event()
    order: list[str] = []

    def holder() -> None:
        with journal.lock("abcdefghij"):
            held.set()
            release.wait(10)
            order.append("holder done")

    first = threading.Thread(target=holder)
    first.start()
    assert held.wait(10)
    waiter = threading.Thread(target=lambda: (Journal(journal.directory).lock("abcdefghij").__enter__(), order.append("waiter")))
    waiter.start()
    release.set()
    first.join(10)
    waiter.join(10)
    assert order == ["holder done", "waiter"], "the waiter polled until the holder was done"


def test_no_state_directory_means_no_lock_but_no_failure(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("")
    journal = Journal(tmp_path / "f" / "d")
    ran: list[Any] = []
    with journal.lock("abcdefghij"):
        ran.append(True)
    assert ran == [True]
    assert not os.path.exists(tmp_path / "f" / "d")


def test_an_entrys_time_comes_from_the_clock_it_is_given(tmp_path: Path) -> None:
    """The journal reads "now" from the same collaborator as the lease (App.clock)."""
    journal = Journal(tmp_path, clock=lambda: 4102444800.0)  # 2100-01-01T00:00:00Z
    entry = journal.record(kind="policy")
    assert entry is not None and entry["time"] == "2100-01-01T00:00:00Z"
    assert journal.entries()[0]["time"] == "2100-01-01T00:00:00Z"


def test_the_apps_clock_drives_its_journal_and_expiry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from petgate import expiry
    from petgate.app import App
    from petgate.output import Output
    from petgate.target import Target

    monkeypatch.setenv("PETGATE_STATE_DIR", str(tmp_path))
    app = App(Target(local=True), Output(), clock=lambda: 4102444800.0)
    assert app.journal.record(kind="x")["time"] == "2100-01-01T00:00:00Z"  # type: ignore[index]
    assert expiry.iso(expiry.now(app.clock)) == "2100-01-01T00:00:00Z"
