"""The errors petgate expects, each carrying the exit code the CLI contract gives it."""

from __future__ import annotations

EXIT_OK = 0
EXIT_EXPECTATION = 1
EXIT_USAGE = 2
EXIT_AWS = 3
EXIT_NETWORK = 4
EXIT_INTERRUPTED = 130


class PetgateError(Exception):
    """An expected failure: one line for the user, and the exit code to end with."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def line(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message

    @property
    def error_code(self) -> str:
        """AWS's error code when there is one, else the kind of failure (UsageError, ...)."""
        return str(getattr(self, "code", "") or type(self).__name__)


class ExpectationNotMetError(PetgateError):
    """An expectation was not met (verify, policy check --expect, a walkthrough step): exit 1."""

    exit_code = EXIT_EXPECTATION


class UsageError(PetgateError):
    """Bad options or bad input: exit 2."""

    exit_code = EXIT_USAGE


class ChangeGateError(UsageError):
    """sync refused: the list would change more than --max-change (a feed gone wrong?)."""


class AwsError(PetgateError):
    """The control plane refused or failed: not found, access denied, throttled, invalid policy."""

    exit_code = EXIT_AWS

    def __init__(self, message: str, hint: str | None = None, code: str = "") -> None:
        super().__init__(message, hint)
        self.code = code


class NetworkError(PetgateError):
    """An endpoint, the invoke URL or checkip could not be reached."""

    exit_code = EXIT_NETWORK


def deploy_failure(result: dict[str, object]) -> PetgateError | None:
    """The error a change that was written but not deployed ends with (its `deploy_error`), so
    that the command exits with the deployment's code after printing the result."""
    failed = result.get("deploy_error")
    if not isinstance(failed, dict):
        return None
    code, message, hint = str(failed.get("code") or ""), str(failed.get("message") or ""), failed.get("hint")
    hint = str(hint) if hint else None
    if code == "NetworkError":
        return NetworkError(message, hint)
    if code in ("UsageError", "ChangeGateError"):
        return UsageError(message, hint)
    return AwsError(message, hint, code)
