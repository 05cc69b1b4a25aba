"""Odd inputs (issue 16): each is refused with one clear line and exit 2, or does what it says,
through the CLI against a real `petgate local` (and, for Ctrl-C, the real process)."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from petgate import policy as policies
from tests.conftest import LoopbackServer
from tests.test_errors import assert_one_clear_line


def stored(apigw: Any, api_id: str) -> Any:
    return policies.decode_stored(apigw.get_rest_api(restApiId=api_id).get("policy"))


def click_usage_error(result: Any, option: str) -> None:
    """click's refusal of an option value: exit 2 and one `Error:` line naming the option."""
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and errors[0].startswith(f"Error: Invalid value for {option}"), result.stderr


# --- history ---------------------------------------------------------------------------------


@pytest.mark.parametrize("limit", ["-5", "0", "-1", "1.5", "many", ""])
def test_history_limit_must_be_a_positive_whole_number(petgate: Any, api_id: str, limit: str) -> None:
    result = petgate("history", "-n", limit)
    click_usage_error(result, "'-n' / '--limit'")
    assert result.stdout == ""


def test_history_limit_of_one_shows_the_newest_entry(petgate: Any, api_id: str) -> None:
    assert petgate("block-my-ip", "--api", api_id, "--cidr", "192.0.2.1", "--no-deploy").exit_code == 0
    shown = petgate("history", "-n", "1")
    assert shown.exit_code == 0 and len(shown.stdout.splitlines()) == 1
    assert "block-my-ip: policy changed" in shown.stdout and api_id in shown.stdout


def test_history_names_waf_entries_by_their_command_and_list(petgate: Any, api_id: str) -> None:
    assert petgate("deploy", "--api", api_id).exit_code == 0
    assert petgate("block-my-ip", "--api", api_id, "--cidr", "192.0.2.60", "--no-deploy").exit_code == 0
    try:
        assert petgate("waf", "block", "--cidr", "198.51.100.60", "--list", "histnames").exit_code == 0
        migrated = petgate("waf", "migrate", "--api", api_id, "--list", "histmigrate")
        assert migrated.exit_code == 0, migrated.stderr
        history = petgate("history", "-n", "50").stdout.splitlines()
        assert not [line for line in history if "None" in line], history
        waf_lines = [line for line in history if "WAF list" in line]
        assert all("  waf:hist" in line for line in waf_lines), waf_lines
        assert any("  waf:histnames  waf block: WAF list histnames changed" in line for line in history), history
        assert any("  waf:histmigrate  waf migrate: WAF list histmigrate changed" in line for line in history), history
        assert any("  waf:histmigrate  waf migrate: WAF list histmigrate attached to arn:aws:apigateway:" in line
                   for line in history), history
        assert any(f"  {api_id}  waf migrate: policy changed" in line for line in history), history
        assert not [line for line in history if "403 template" in line or "unblock" in line], history
        detached = petgate("waf", "detach", "--api", api_id, "--list", "histmigrate")
        assert detached.exit_code == 0, detached.stderr
        newest = petgate("history", "-n", "1").stdout
        assert "  waf:histmigrate  waf detach: WAF list histmigrate detached from arn:aws:apigateway:" in newest
    finally:
        petgate("waf", "delete", "--list", "histnames")
        petgate("waf", "delete", "--list", "histmigrate")


# --- list files ------------------------------------------------------------------------------


def test_a_list_file_with_a_byte_order_mark_is_read(petgate: Any, api_id: str, apigw: Any, tmp_path: Path) -> None:
    listed = tmp_path / "from-notepad.txt"
    listed.write_bytes("\ufeff192.0.2.7\r\n198.51.100.0/24\r\n".encode())
    result = petgate("-o", "json", "block-my-ip", "--api", api_id, "--file", str(listed), "--no-deploy")
    assert result.exit_code == 0, result.stderr
    assert policies.blocked_cidrs(stored(apigw, api_id)) == ["192.0.2.7/32", "198.51.100.0/24"]
    feed = tmp_path / "feed.txt"
    feed.write_bytes("\ufeff192.0.2.7\n".encode())
    synced = petgate("-o", "json", "sync", "--api", api_id, "--file", str(feed), "--no-deploy", "--force")
    assert synced.exit_code == 0, synced.stderr
    assert policies.permanent_cidrs(stored(apigw, api_id)) == ["192.0.2.7/32"]


def test_added_lists_only_what_a_file_newly_blocks(petgate: Any, api_id: str, apigw: Any, tmp_path: Path) -> None:
    listed = tmp_path / "nested.txt"
    listed.write_text("10.0.0.5\n10.0.0.0/24\n10.0.0.77\n10.0.1.0/25\n10.0.1.128/25\n")
    result = petgate("-o", "json", "block-my-ip", "--api", api_id, "--file", str(listed), "--no-deploy")
    assert result.exit_code == 0, result.stderr
    assert result.json["added"] == ["10.0.0.0/24", "10.0.1.0/25", "10.0.1.128/25"]
    assert policies.blocked_cidrs(stored(apigw, api_id)) == ["10.0.0.0/23"]
    text = petgate("block-my-ip", "--api", api_id, "--file", str(listed), "--cidr", "10.0.2.0/24", "--cidr", "10.0.2.9",
                   "--no-deploy")
    assert text.exit_code == 0 and f"Blocked 10.0.2.0/24 on API {api_id}." in text.stderr


# --- times -----------------------------------------------------------------------------------


def test_prune_now_in_the_year_1_prints_four_digit_years(petgate: Any, api_id: str) -> None:
    assert petgate("block-my-ip", "--api", api_id, "--cidr", "192.0.2.1", "--until", "2098-01-01T00:00:00Z",
                   "--no-deploy").exit_code == 0
    text = petgate("prune", "--api", api_id, "--now", "0001-01-01T00:00:00Z", "--dry-run")
    assert text.exit_code == 0, text.stderr
    assert f"Nothing has expired on API {api_id} (as of 0001-01-01T00:00:00Z)." in text.stderr
    assert " 1-01-01" not in text.stderr
    data = petgate("-o", "json", "prune", "--api", api_id, "--now", "0001-01-01T00:00:00Z", "--dry-run").json
    assert data["now"] == "0001-01-01T00:00:00Z" and data["pruned"] == []
    last = petgate("-o", "json", "prune", "--api", api_id, "--now", "9999-12-31T23:59:59Z", "--dry-run").json
    assert last["now"] == "9999-12-31T23:59:59Z" and last["pruned"] == [{"cidr": "192.0.2.1/32", "expired": "2098-01-01T00:00:00Z"}]


@pytest.mark.parametrize(("command", "time"), [
    (("prune", "--now"), "0001-01-01T00:00:00+01:00"),
    (("prune", "--now"), "9999-12-31T23:30:00-01:00"),
    (("block-my-ip", "--cidr", "192.0.2.1", "--until"), "9999-12-31T23:30:00-01:00"),
])
def test_a_time_outside_the_utc_calendar_is_refused(petgate: Any, api_id: str, apigw: Any, command: tuple[str, ...],
                                                    time: str) -> None:
    result = petgate(*command, time, "--api", api_id)
    assert_one_clear_line(result, 2, f"{time!r} is outside the years 0001 to 9999 in UTC")
    assert stored(apigw, api_id) is None


# --- checkip ---------------------------------------------------------------------------------


def test_a_checkip_answer_in_ipv4_mapped_form_is_the_ipv4_address(petgate: Any, api_id: str, apigw: Any) -> None:
    server = LoopbackServer(lambda *_: (200, {"Content-Type": "text/plain"}, b"::ffff:127.0.0.61\n"))
    try:
        result = petgate("--checkip-url", server.url + "/", "-o", "json", "block-my-ip", "--api", api_id, "--no-deploy")
    finally:
        server.close()
    assert result.exit_code == 0, result.stderr
    assert result.json["added"] == ["127.0.0.61/32"]


# --- Ctrl-C at any moment --------------------------------------------------------------------
# A command that waits for ever (sync reading its list from stdin, which stays open), so that a
# Ctrl-C always comes before it ends. What a process that Python has not finished starting does
# with SIGINT is Python's: before the interpreter installs its handler, SIGINT's default action
# ends the process (returncode -SIGINT, no output; a shell reports 130).

WAITING = [sys.executable, "-m", "petgate", "--local", "sync", "--api", "x", "--file", "-"]


def _with_sigint_default() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # the runner may ignore SIGINT (a background job)


def start(*python_options: str) -> tuple[subprocess.Popen[str], int]:
    """The waiting command; and the write end of its stdin, to close once it has ended."""
    read_end, write_end = os.pipe()
    env = {**os.environ, "PETGATE_LOCAL_URL": "http://127.0.0.1:9", "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen([WAITING[0], *python_options, *WAITING[1:]], stdin=read_end, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=env, preexec_fn=_with_sigint_default)
    os.close(read_end)
    return process, write_end


def finish(process: subprocess.Popen[str], write_end: int) -> tuple[int, str]:
    try:
        _, err = process.communicate(timeout=30)  # bounded: a lost Ctrl-C fails, never hangs
    finally:
        process.kill()
        os.close(write_end)
    return process.returncode, err


def catches_sigint(pid: int) -> bool:
    """Whether the process has a handler for SIGINT yet (its SigCgt mask, from /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) & (1 << (signal.SIGINT - 1)))
    return False


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc/PID/status")
def test_ctrl_c_right_after_the_process_starts() -> None:
    checked = 0
    for _ in range(20):
        process, write_end = start()
        early = not catches_sigint(process.pid)  # Popen returned: the interpreter is starting
        process.send_signal(signal.SIGINT)
        code, err = finish(process, write_end)
        if early:  # before Python installs its handler: the signal's default action
            checked += 1
            assert (code, err) == (-signal.SIGINT, ""), (code, err)
        else:  # on a very busy machine Python may be further along: still no traceback of petgate's
            assert "petgate" not in err or (code, err.strip()) == (130, "error: interrupted"), (code, err)
    assert checked >= 10


def lines_of(stream: Any) -> queue.Queue[str | None]:
    """The stream's lines as they come (None at its end), read by a thread: waits can time out."""
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        for line in stream:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    return lines


def test_a_ctrl_c_wrapped_by_class_creation_is_still_an_interrupt(monkeypatch: pytest.MonkeyPatch) -> None:
    """The moment the subprocess test above can hit by chance, made certain: a Ctrl-C while a
    dataclass's fields are set up reaches the CLI as RuntimeError("Error calling __set_name__")
    caused by the KeyboardInterrupt (CPython 3.11); it is exit 130 and one line, not a traceback."""
    import importlib

    from petgate import cli
    from tests.conftest import run_cli

    def interrupted_import(name: str, package: str | None = None) -> Any:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as exc:
            raise RuntimeError("Error calling __set_name__ on 'Field' instance 'deployment'") from exc

    monkeypatch.setattr(cli.importlib, "import_module", interrupted_import)
    result = run_cli("status")
    assert (result.exit_code, result.stderr.strip()) == (130, "error: interrupted")
    monkeypatch.setattr(cli.importlib, "import_module", importlib.import_module)
    assert not cli._from_interrupt(RuntimeError("no interrupt here"))


@pytest.mark.parametrize("moment", [
    "click",  # petgate.cli's imports, before the CLI's own handler: the start-up handler
    "petgate.target",  # the last of them: about when cli.main installs its handler
    "petgate.ops.writes",  # the command's lazy imports, inside cli.main
    "petgate.ops.sync",  # the last of them, then the App and the wait for stdin
])
def test_ctrl_c_while_petgate_starts_exits_130_without_a_traceback(moment: str) -> None:
    """-X importtime writes a line as each import ends: SIGINT is sent as the one of `moment`
    appears, so it reaches petgate at that stage of its start-up, five times."""
    for _ in range(5):
        process, write_end = start("-X", "importtime")
        lines, seen = lines_of(process.stderr), []
        while True:
            line = lines.get(timeout=30)
            if line is None or line.rsplit("|", 1)[-1].strip() == moment:
                break
            seen.append(line)
        assert line is not None, f"{moment} was never imported: {seen[-5:]}"
        process.send_signal(signal.SIGINT)
        try:
            assert process.wait(timeout=30) is not None  # bounded: a lost Ctrl-C fails, never hangs
        finally:
            process.kill()
            os.close(write_end)
        rest = []
        while (line := lines.get(timeout=30)) is not None:
            rest.append(line)
        told = [line.strip() for line in rest if line.strip() and not line.startswith("import time:")]
        assert (process.returncode, told) == (130, ["error: interrupted"]), (moment, process.returncode, rest[-20:])


def run_script(script: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PETGATE_LOCAL_URL": "http://127.0.0.1:9"}
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=env,
                          preexec_fn=_with_sigint_default)


CTRL_C_IN_A_WEAKREF_CALLBACK = '''
import os, signal, weakref

def checkpoint():  # a call: where Python runs a pending signal handler
    pass

def ctrl_c_inside_a_callback():
    class Thing:
        pass
    thing = Thing()
    ref = weakref.ref(thing, lambda _ref: (os.kill(os.getpid(), signal.SIGINT), checkpoint()))
    del thing  # the callback runs here; what it raises, Python only prints
    return ref
'''


def test_ctrl_c_inside_a_weakref_callback_while_starting_is_not_lost() -> None:
    completed = run_script(CTRL_C_IN_A_WEAKREF_CALLBACK + (
        "from petgate import entry\n"
        "entry.quiet_interrupts_while_starting()\n"
        "ctrl_c_inside_a_callback()\n"
        "print('not reached')\n"
    ))
    assert (completed.returncode, completed.stderr, completed.stdout) == (130, "error: interrupted\n", "")


def test_ctrl_c_inside_a_weakref_callback_during_a_command_is_reported() -> None:
    completed = run_script(CTRL_C_IN_A_WEAKREF_CALLBACK + (
        "import sys\n"
        "class Feed:\n"
        "    closed = False\n"
        "    def read(self):\n"
        "        ctrl_c_inside_a_callback()\n"
        "        return '192.0.2.1\\n'\n"
        "sys.stdin = Feed()\n"
        "sys.argv = ['petgate', '--local', 'sync', '--api', 'x', '--file', '-']\n"
        "from petgate.entry import run\n"
        "run()\n"
    ))
    told = [line for line in completed.stderr.splitlines() if line.strip()]
    # the interrupt comes back a moment later, from a thread: the command may have said it waits
    # for the gateway by then, but it never goes on to finish, and nothing else is said
    assert completed.returncode == 130 and told[-1:] == ["error: interrupted"], completed.stderr
    assert set(told[:-1]) <= {"Waiting up to 10s for the local gateway at http://127.0.0.1:9..."}, completed.stderr
