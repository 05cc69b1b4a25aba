"""Issue 19 item 5 in `make test`: moto's own apigateway and wafv2 tests, run in server mode
against moto_server and against petgate local (bench/moto_suite.py), show no regression: no test
passes against moto_server and fails against petgate local unless bench/moto_suite_known.toml
lists it with a recording of AWS (or a service petgate does not serve) as its reason.

The suites come from moto's sdist on PyPI: `make test` prepares them (bench/moto_suite.py
--prepare) before pytest runs, so this test touches nothing but loopback. Run alone without
them, it says so and is skipped."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SUITE = ROOT / "bench" / "moto_suite.py"
PREPARED = ROOT / "bench" / ".moto-suite" / f"moto-{version('moto')}" / ".unpacked"
DEPS = ROOT / "bench" / ".moto-suite" / "deps" / "freezegun"


def test_moto_s_own_suite_shows_no_regression_against_moto_server() -> None:
    if not (PREPARED.exists() and DEPS.is_dir()):
        reason = f"moto {version('moto')}'s suite is not prepared: run `make test`, or `{SUITE.name} --prepare` (needs PyPI)"
        print(reason)
        pytest.skip(reason)
    run = subprocess.run([sys.executable, str(SUITE)], cwd=ROOT, capture_output=True, text=True, timeout=900)
    summary = run.stdout[-6000:]
    print(summary)
    assert run.returncode == 0, summary + run.stderr[-2000:]
    assert "| regressions | 0 |" in run.stdout
