"""All printing: rich text on stderr for people, exactly one JSON object on stdout for scripts.

Commands return data; they never print. Colour and spinners only on a terminal, and never
with NO_COLOR set.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol, TextIO, TypeVar


class ToJson(Protocol):
    """A result (petgate.ops.results): its JSON object is what -o json prints."""

    def to_json(self) -> dict[str, Any]: ...


D = TypeVar("D", bound=ToJson)

_CONTROL = {c: f"\\x{c:02x}" for c in [*range(0x00, 0x09), *range(0x0b, 0x20), 0x7F, *range(0x80, 0xA0)]}


def printable(text: str) -> str:
    """Text with control characters escaped (an API name must not move the cursor or clear the
    screen); newlines and tabs, which our own lines use, are kept."""
    return text.translate(_CONTROL)


def shown(value: object) -> str:
    """A value from AWS or the user (a name, a Sid) for one line: every control character
    escaped, newlines and tabs included."""
    return str(value).translate(_CONTROL).replace("\n", "\\n").replace("\t", "\\t")


class Output:
    def __init__(self, mode: str = "text", stderr: TextIO | None = None, verbosity: int = 0) -> None:
        self.mode = mode
        self.verbosity = verbosity  # -1 quiet, 0 normal, 1 debug
        self._stderr = stderr or sys.stderr
        self._console: Any = None
        self.result_printed = False  # a JSON result is on stdout: an error must not add another

    @property
    def json(self) -> bool:
        return self.mode == "json"

    @property
    def interactive(self) -> bool:
        """Colour and spinners only for a person at a terminal, and never with NO_COLOR."""
        return self._stderr.isatty() and "NO_COLOR" not in os.environ

    @property
    def console(self) -> Any:
        if self._console is None:
            from rich.console import Console  # rich loads only for a terminal

            self._console = Console(file=self._stderr, force_terminal=True, highlight=False, soft_wrap=True)
        return self._console

    def _tell(self, text: str, style: str = "") -> None:
        """Progress and results for people: silenced by -q (warnings and errors never are)."""
        if self.verbosity >= 0:
            self._say(text, style)

    def _say(self, text: str, style: str = "") -> None:
        text = printable(text)
        if not self.interactive:  # pipes and logs get plain lines, no escape codes
            self._stderr.write(text + "\n")
            self._stderr.flush()
            return
        from rich.markup import escape

        self.console.print(f"[{style}]{escape(text)}[/]" if style else escape(text))

    def info(self, text: str) -> None:
        self._tell(text)

    def step(self, text: str) -> None:
        self._tell(text, "bold")

    def success(self, text: str) -> None:
        self._tell(text, "green")

    def debug(self, text: str) -> None:
        if self.verbosity > 0:
            self._say(f"debug: {text}", "dim")

    def warn(self, text: str) -> None:
        self._say(f"warning: {text}", "yellow")

    def error(self, text: str) -> None:
        self._say(f"error: {text}", "red")

    def detail(self, text: str) -> None:
        self._tell(f"  {text}", "dim")

    def data(self, text: str = "") -> None:
        """A line of what the command shows (policy show, status, history): stdout, so that
        `> file` and `| grep` work; never silenced by -q."""
        sys.stdout.write(printable(text) + "\n")

    def result(self, data: D, render: Callable[[Output, D], None]) -> None:
        """The command's result: its JSON (`to_json()`) as one object on stdout, or `render`
        for people."""
        if self.json:
            sys.stdout.write(json.dumps(data.to_json(), indent=2, sort_keys=True, default=str) + "\n")
            sys.stdout.flush()
            self.result_printed = True
        else:
            render(self, data)

    @contextmanager
    def waiting(self, text: str) -> Iterator[None]:
        """A spinner on a terminal; a plain line otherwise (or nothing under -o json)."""
        if self.interactive and not self.json:
            with self.console.status(text):
                yield
        else:
            if not self.json:
                self._tell(text, "dim")
            yield
