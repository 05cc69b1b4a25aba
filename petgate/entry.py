"""The `petgate` console script and `python -m petgate`: Ctrl-C at any moment of petgate's run
ends with `error: interrupted` and exit 130, never a traceback.

Three stretches, one handler each:
- starting (this module to the CLI's own handler, while click, rich and boto3 import): the
  handler leaves at once with os._exit(130), nothing having been done yet;
- the command (cli.main): KeyboardInterrupt, reported like every other error (and with -o json
  the error object); one that Python swallowed (raised inside a __del__ or a weakref callback,
  where an exception is only printed) is delivered again, so it is not lost;
- after the command (its result printed, the exit code set, Python winding down): as while
  starting, once stdout is flushed.

What Python does before the first line of petgate runs is its own: a Ctrl-C before the
interpreter installs its SIGINT handler ends the process by the signal (a shell shows 130),
and one while `site` imports makes CPython report "Fatal Python error: init_import_site"
and exit 1.
"""

from __future__ import annotations

# Only what the interpreter has loaded before any code of petgate's runs (`_signal`, not
# `signal`, which imports enum; no typing): until the handler is in, Ctrl-C is Python's.
import _signal
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import FrameType
    from typing import Any, NoReturn

EXIT_INTERRUPTED = 130  # as errors.EXIT_INTERRUPTED; not imported, so this module stays small


def _leave_interrupted(say: bool = True) -> NoReturn:
    """Say so and end now. os._exit, not SystemExit: a signal handler may run inside a __del__ or
    a weakref callback, where Python prints an exception and carries on."""
    for stream in (sys.stdout, sys.stderr):  # what a finished command printed must not be lost
        try:
            if say and stream is sys.stderr:
                stream.write("error: interrupted\n")
            stream.flush()
        except (OSError, ValueError, RuntimeError):  # closed, or interrupted in the middle of a write
            pass
    os._exit(EXIT_INTERRUPTED)


def _interrupted_while_starting(_signum: int, _frame: FrameType | None) -> None:
    _leave_interrupted()


def _interrupted_again(_signum: int, _frame: FrameType | None) -> None:
    _leave_interrupted(say=False)  # the command already said it was interrupted


def quiet_interrupts_while_starting(already_reported: bool = False) -> None:
    """From here until the CLI installs its own handler (and again once it is done), Ctrl-C ends
    the process with `error: interrupted` and exit 130."""
    # a process started with SIGINT ignored (a background job) keeps ignoring it
    if _signal.getsignal(_signal.SIGINT) != _signal.SIG_IGN:
        _signal.signal(_signal.SIGINT, _interrupted_again if already_reported else _interrupted_while_starting)


def _redeliver_swallowed_interrupts(previous: Any) -> Any:
    """An unraisable-exception hook: a KeyboardInterrupt that Python could only print (it was
    raised in a __del__ or a weakref callback, say while an import runs) is raised again in the
    main thread, where the CLI reports it; everything else goes to the previous hook."""
    import _thread

    def hook(unraisable: Any) -> None:
        if unraisable.exc_type is not None and issubclass(unraisable.exc_type, KeyboardInterrupt):
            # from another thread, a moment later: raised here, in the hook, it would be swallowed again
            _thread.start_new_thread(_thread.interrupt_main, ())
            return
        previous(unraisable)

    return hook


def run() -> None:
    quiet_interrupts_while_starting()
    sys.unraisablehook = _redeliver_swallowed_interrupts(sys.unraisablehook)
    import gc

    # Importing the CLI only allocates what the process keeps (modules, click's options): the
    # cycle collector would traverse it again and again for nothing. It is off while the CLI
    # imports, and what was imported is frozen out of its sight before it is on again.
    gc.disable()
    try:
        from petgate.cli import main  # click, rich, boto3: imports take a while

        gc.freeze()
        gc.enable()
        main()
    except KeyboardInterrupt:  # a Ctrl-C in the moment main() is not watching (its own exit)
        _leave_interrupted()
    finally:  # the command is done, its exit code set: from here on there is nothing to stop
        ending = sys.exc_info()[1]
        reported = isinstance(ending, SystemExit) and ending.code == EXIT_INTERRUPTED
        quiet_interrupts_while_starting(reported)
        if reported:
            # CPython 3.11 marks a KeyboardInterrupt that left an exec() (dataclasses make their
            # methods with exec) as unhandled, caught or not, and then ends the process by SIGINT
            # at exit; the interrupt was reported, so leave with the exit code it promised
            _leave_interrupted(say=False)
        # the heap (boto3's service model above all) is the process's until it ends: frozen, it is
        # not traversed once more by the collections Python makes while it shuts down
        gc.freeze()
