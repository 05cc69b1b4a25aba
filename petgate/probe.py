"""verify: request the invoke URL, classify the answer, retry until the expectation holds.

The loop takes its clock, sleep and fetch as arguments so it is tested without waiting.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

EXPECTATIONS = ("allowed", "denied", "any")
FIRST_RETRY_S = 0.25
MAX_RETRY_S = 2.0  # the poll interval once backed off: a visible change is seen within it
MAX_BODY_CHARS = 4000

_ARN = re.compile(r"arn:aws[\w-]*:execute-api:[^\s\"']+")
_MASKED_ACCOUNT = re.compile(r"\*{4,}\d{4}")
_ACCOUNT = re.compile(r"(?<!\d)\d{12}(?!\d)")


@dataclass
class Answer:
    status: int
    body: str


@dataclass
class ProbeResult:
    url: str
    expected: str
    status: int | None = None
    outcome: str = "unreachable"
    ok: bool = False
    attempts: int = 0
    elapsed_s: float = 0.0
    body: str = ""
    leaks: list[dict[str, str]] = field(default_factory=list)
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def classify(status: int) -> str:
    """allowed (2xx/3xx), denied (403), or other."""
    if 200 <= status < 400:
        return "allowed"
    if status == 403:
        return "denied"
    return "other"


def meets(outcome: str, expected: str) -> bool:
    return expected == "any" and outcome != "unreachable" or outcome == expected


def find_leaks(body: str, api_id: str | None = None) -> list[dict[str, str]]:
    """What a 403 body reveals about the account: ARNs, account ids, the API id."""
    leaks: list[dict[str, str]] = []
    for arn in _ARN.findall(body):
        leaks.append({"kind": "arn", "value": arn})
    for masked in _MASKED_ACCOUNT.findall(body):
        leaks.append({"kind": "masked_account_id", "value": masked})
    without_arns = _ARN.sub("", body)
    for account in _ACCOUNT.findall(without_arns):
        leaks.append({"kind": "account_id", "value": account})
    if api_id and api_id in without_arns:
        leaks.append({"kind": "api_id", "value": api_id})
    return leaks


def backoff(attempt: int) -> float:
    """Seconds to wait after the given attempt (1-based): 0.25, 0.5, 1, 2, 2, ..."""
    return float(min(MAX_RETRY_S, FIRST_RETRY_S * 2 ** (attempt - 1)))


def run(
    url: str,
    fetch: Callable[[], Answer],
    expected: str,
    timeout_s: float,
    api_id: str | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    network_errors: tuple[type[BaseException], ...] = (OSError,),
    on_attempt: Callable[[ProbeResult], None] | None = None,
) -> ProbeResult:
    """Fetch at once, then back off until the expectation holds or the timeout passes.

    With `expected="any"` one answer is enough.
    """
    result = ProbeResult(url=url, expected=expected)
    start = clock()
    while True:
        result.attempts += 1
        try:
            answer = fetch()
        except network_errors as exc:
            result.error = str(exc) or type(exc).__name__
            result.status, result.outcome, result.body = None, "unreachable", ""
        else:
            result.error = None
            result.status = answer.status
            result.outcome = classify(answer.status)
            result.body = answer.body[:MAX_BODY_CHARS]
        result.ok = meets(result.outcome, expected)
        result.elapsed_s = round(clock() - start, 3)
        if on_attempt is not None:
            on_attempt(result)
        if result.ok or (expected == "any" and result.outcome != "unreachable"):
            break
        wait = backoff(result.attempts)
        if clock() - start + wait > timeout_s:
            break
        sleep(wait)
    result.leaks = find_leaks(result.body, api_id) if result.status == 403 else []
    result.elapsed_s = round(clock() - start, 3)
    return result
