"""The `petgate` console script: Ctrl-C is quiet from the very first import on."""

from __future__ import annotations

import signal
import sys
from types import FrameType


def _interrupted_while_starting(_signum: int, _frame: FrameType | None) -> None:
    sys.stderr.write("error: interrupted\n")
    raise SystemExit(130)


def quiet_interrupts_while_starting() -> None:
    # a process started with SIGINT ignored (a background job) keeps ignoring it
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        signal.signal(signal.SIGINT, _interrupted_while_starting)


def run() -> None:
    quiet_interrupts_while_starting()
    from petgate.cli import main  # click, rich, boto3: imports take a while

    main()
