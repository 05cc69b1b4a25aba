"""Every `sh` block of the README runs as written, top to bottom in one shell, against a
`petgate local` that the README's own quick start starts (blocks after a
`<!-- not run by tests/test_readme.py ... -->` line are the ones CI runs itself)."""

from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
SKIP_MARK = "<!-- not run by tests/test_readme.py"
FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<info>[^\n`]*)\n(?P<body>.*?)^(?P=indent)```[ \t]*$", re.M | re.S)


def shell_blocks(text: str) -> list[tuple[int, str]]:
    """(line number, code) of each sh block the test runs."""
    blocks = []
    for match in FENCE.finditer(text):
        if match["info"].strip() not in ("sh", "bash", "shell"):
            continue
        before = text[: match.start()].rstrip().splitlines()
        if before and before[-1].strip().startswith(SKIP_MARK):
            continue
        line = text[: match.start()].count("\n") + 1
        blocks.append((line, textwrap.dedent(match["body"])))
    return blocks


def test_the_readme_has_runnable_blocks_and_marks_the_rest() -> None:
    text = README.read_text(encoding="utf-8")
    every = [m for m in FENCE.finditer(text) if m["info"].strip() in ("sh", "bash", "shell")]
    run = shell_blocks(text)
    assert len(run) >= 4, "the quick start, AWS, scripting and safety blocks"
    assert len(every) - len(run) == text.count(SKIP_MARK), "every skipped block says why"


def test_every_readme_example_runs_as_written(tmp_path: Path) -> None:
    if shutil.which("jq") is None:
        pytest.skip("jq is not installed: the README's scripting examples use it (apt-get install jq)")
    aws = Path(os.environ.get("PETGATE_TEST_AWS_CLI") or README.parent / "bench/.venv-awscli/bin/aws")
    if not aws.exists():
        pytest.skip(f"the aws CLI is not installed at {aws}: the README's IAM examples use it (`make test` installs it)")
    blocks = shell_blocks(README.read_text(encoding="utf-8"))
    script = ["set -euo pipefail", "trap 'kill $(jobs -p) 2>/dev/null || true' EXIT"]
    for line, code in blocks:
        script += [f"echo '### README line {line}' >&2", code]
    # a loopback address of its own (127.0.0.0/8): the quick start's `petgate local &` binds
    # PETGATE_LOCAL_URL's port 4599 there without meeting any other server
    address = f"127.{random.randint(64, 254)}.{random.randint(1, 254)}.{random.randint(1, 254)}"
    environment = {
        name: value for name, value in os.environ.items()
        if not name.startswith(("PETGATE_", "AWS_"))
    }
    environment.update({
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), str(aws.parent), environment.get("PATH", "")]),
        "HOME": str(tmp_path),  # no ~/.aws of the machine's
        "PETGATE_LOCAL_URL": f"http://{address}:4599",
        "PETGATE_STATE_DIR": str(tmp_path / "state"),
        "NO_COLOR": "1",
    })
    completed = subprocess.run(
        ["bash", "-c", "\n".join(script)], cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-4000:] + completed.stdout[-2000:]
    # the examples did what they say
    assert "GET /pets from 198.51.100.20: allowed (a statement allows it and none denies it)" in completed.stderr
    assert "block-my-ip: policy changed" in completed.stdout  # `petgate history`, on stdout
    assert "petgate-petgate-ipv4: 2 of 10,000" in completed.stdout  # `petgate waf show`, on stdout
    assert "denied (policy-implicit-deny, HTTP 403)" in completed.stderr  # Table B before allow-accounts
    assert "signed as arn:aws:iam::123456789012:user/alice" in completed.stderr  # Table A: her own policy
    assert "Table B (another account): both must allow" in completed.stderr  # policy check --principal
    assert "allowed (allowed, HTTP 200)" in completed.stderr.split("allows account 222233334444")[-1]
    assert "private-endpoint-required" in completed.stderr  # walkthrough --private, its last check
    assert completed.stderr.count("### README line") == len(blocks)


def test_the_readme_pytest_example_is_the_tested_one() -> None:
    text = README.read_text(encoding="utf-8")
    blocks = [m["body"] for m in FENCE.finditer(text) if m["info"].strip() == "python"]
    example = (Path(__file__).parent / "test_plugin_example.py").read_text(encoding="utf-8").split("\n", 1)[1]
    assert example in blocks
