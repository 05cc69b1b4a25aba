"""`petgate local` as a user runs it: a port in use, a non-loopback address, Ctrl-C."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys

import pytest

from tests.conftest import petgate_local, run_cli, run_subprocess
from tests.test_errors import assert_one_clear_line


def test_a_port_in_use_is_one_clear_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = run_subprocess("local", "--port", str(port))
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert f"error: cannot listen on 127.0.0.1:{port}: Address already in use (choose another --port)" in result.stderr


def test_listening_on_every_address_names_a_loopback_url() -> None:
    with petgate_local("--host", "0.0.0.0") as url:
        assert url.startswith("http://127.0.0.1:")  # the usable URL for this machine


def test_ctrl_c_stops_the_gateway_quietly() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "petgate", "local", "--port", "0", "--host", "0.0.0.0"],
        stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        assert process.stderr is not None
        warning = process.stderr.readline()
        started = process.stderr.readline()
        assert warning.startswith("warning: listening on 0.0.0.0: anyone who can reach it can change your local APIs")
        assert "petgate local gateway on http://127.0.0.1:" in started
        process.send_signal(signal.SIGINT)
        _, rest = process.communicate(timeout=20)
    finally:
        process.kill()
    assert process.returncode == 0 and rest == "stopped\n"


@pytest.mark.parametrize("port", ["-1", "65536", "http"])
def test_bad_ports_are_refused(port: str) -> None:
    result = run_subprocess("local", "--port", port)
    assert result.exit_code == 2 and "Traceback" not in result.stderr and "--port" in result.stderr


@pytest.mark.parametrize("latency", ["-1", "abc", "nan", "inf", "60001", ""])
def test_a_bad_latency_is_one_clear_line(latency: str) -> None:
    result = run_cli("local", "--port", "0", "--latency", latency)
    assert_one_clear_line(result, 2, f"--latency must be a number of milliseconds from 0 to 60,000, not {latency!r}")


def test_latency_takes_milliseconds() -> None:
    from petgate.commands.local import parse_latency

    assert (parse_latency(None), parse_latency("0"), parse_latency("12.5"), parse_latency("60000")) == (0, 0, 12.5, 60000)
