"""The options several commands share (petgate/commands/common.py): odd input gets one line."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest

from petgate import policy as policies


@pytest.mark.parametrize("command", [["block-my-ip"], ["sync"], ["unblock"], ["waf", "block"]])
def test_a_closed_stdin_is_one_clear_line(command: list[str], local_env: str) -> None:
    """`--file - <&-`: Python then has no sys.stdin at all; no traceback, nothing written."""
    line = " ".join([sys.executable, "-m", "petgate", "--local", *command, "--file", "-"])
    done = subprocess.run(["bash", "-c", f"{line} <&-"], capture_output=True, text=True, env=dict(os.environ), timeout=60)
    assert done.returncode == 2, done.stderr
    assert "stdin is closed" in done.stderr and "Traceback" not in done.stderr


def test_petgate_api_with_a_trailing_newline_is_that_api(petgate: Any, api_id: str, apigw: Any,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PETGATE_API", f"{api_id}\n")  # as an env file writes it
    result = petgate("block-my-ip", "--cidr", "192.0.2.40", "--no-deploy")
    assert result.exit_code == 0, result.stderr
    assert policies.blocked_cidrs(policies.decode_stored(apigw.get_rest_api(restApiId=api_id)["policy"])) == ["192.0.2.40/32"]


def test_petgate_api_that_is_only_blank_is_refused(petgate: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PETGATE_API", "\n")
    result = petgate("block-my-ip", "--cidr", "192.0.2.41", "--dry-run")
    assert result.exit_code == 2 and "cannot be empty" in result.stderr
