"""verify: request the invoke URL, classify the answer, retry until the expectation holds.

The loop takes its clock, sleep and fetch as arguments so it is tested without waiting.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

EXPECTATIONS = ("allowed", "denied", "any")
FIRST_RETRY_S = 0.25
MAX_RETRY_S = 2.0  # the poll interval once backed off: a visible change is seen within it
MAX_BODY_CHARS = 4000

_ARN = re.compile(r"arn:aws[\w-]*:execute-api:[^\s\"']+")
_MASKED_ACCOUNT = re.compile(r"\*{4,}\d{4}")
_ACCOUNT = re.compile(r"(?<!\d)\d{12}(?!\d)")


# Why an answer is what it is (DESIGN: "verify"). Only these satisfy `--expect denied`: a refusal by
# the API's access control, an explicit or implicit deny by the resource policy, the caller's
# identity policies (IAM authorization) or WAF; never a signature that failed or a missing one.
DENIED_REASONS = ("policy-explicit-deny", "policy-implicit-deny", "policy-deny", "waf-block",
                  "iam-explicit-deny", "iam-implicit-deny")
# an AWS_IAM method refusing the request before any policy: no signature, a bad one (malformed,
# mismatched, out of the 5-minute window, scoped to another service or region), a key IAM does not
# know, an expired STS session; and a PRIVATE API called from outside its VPC endpoints
SIGNATURE_REASONS = ("missing-signature", "invalid-signature", "unrecognized-client", "expired-token")
REASONS = ("allowed", *DENIED_REASONS, "missing-route", "stage-not-found", *SIGNATURE_REASONS,
           "private-endpoint-required", "forbidden", "other", "unreachable")
# Reasons that the answer alone cannot settle; the control plane is asked (see `corroborate`).
AMBIGUOUS = ("forbidden", "missing-route")

# "User: anonymous is not authorized ...", or an IAM caller's ARN (AWS knowledge center,
# "api-gateway-troubleshoot-403-forbidden"); the ending says which side refused and how
_POLICY_MESSAGE = re.compile(
    r"^User: \S+ is not authorized to perform: execute-api:Invoke on resource: ?\S+(?P<ending>.*)$", re.DOTALL)
# the security token of an unknown key: UnrecognizedClientException (petgate local, and API
# Gateway's answers quoted in public threads) or, as the knowledge center's table lists it,
# AccessDeniedException with this body
_INVALID_TOKEN = "The security token included in the request is invalid"
_SIGNATURE_ERRORS = {
    "MissingAuthenticationTokenException": "missing-route",  # or missing-signature: see corroborate
    "IncompleteSignatureException": "invalid-signature",
    "InvalidSignatureException": "invalid-signature",
    "UnrecognizedClientException": "unrecognized-client",
    "ExpiredTokenException": "expired-token",
}


@dataclass
class Answer:
    status: int
    body: str
    error_type: str | None = None  # the x-amzn-ErrorType header (its part before any ':')


@dataclass
class ProbeResult:
    """The loop's record, updated at each attempt (ops.verify.Probed is verify's result)."""

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
    reason: str = "unreachable"
    error_type: str | None = None


def classify(answer: Answer) -> str:
    """The reason for an answer, from its status, x-amzn-ErrorType and body alone.

    API Gateway marks every refusal by the resource policy, or by an IAM caller's identity
    policies, with AccessDeniedException, whatever the body (a custom template may say anything);
    AWS's own body then tells which side refused and whether explicitly (the endings
    local/dataplane.py sends: " with an explicit deny" the resource policy's; " with an explicit
    deny in an identity-based policy", " because no identity-based policy allows the
    execute-api:Invoke action" the identity side's, IAM's current wording; "resource-based" is
    the resource policy's in that wording too). Without the header no body is trusted (a backend
    can send AWS's words): a 403 is `forbidden` until the control plane says more (`corroborate`).
    """
    if 200 <= answer.status < 400:
        return "allowed"
    error_type = (answer.error_type or "").split(":")[0].strip()
    message = _message(answer.body)
    if error_type == "AccessDeniedException":
        if message is not None and message.rstrip(".") == _INVALID_TOKEN:
            return "unrecognized-client"
        return _policy_reason(message)
    if error_type in _SIGNATURE_ERRORS:
        return _SIGNATURE_ERRORS[error_type]
    if error_type == "ForbiddenException" or answer.status == 403:
        return "forbidden"  # an unknown stage, a private API, WAF, a missing API key, or a backend's own 403
    return "other"


def _policy_reason(message: str | None) -> str:
    """Which side refused, from AWS's own ACCESS_DENIED message (None or another: a custom
    template, which does not say)."""
    match = _POLICY_MESSAGE.match(message or "")
    if match is None:
        return "policy-deny"
    ending = match["ending"].strip().rstrip(".")
    if not ending:
        return "policy-implicit-deny"
    resource_side = ending == "with an explicit deny" or "resource-based" in ending
    if ending.startswith("with an explicit deny"):
        return "policy-explicit-deny" if resource_side else "iam-explicit-deny"
    if ending.startswith("because no"):
        return "policy-implicit-deny" if resource_side else "iam-implicit-deny"
    return "policy-deny"


def _message(body: str) -> str | None:
    """The body's message (AWS's `Message`, or a gateway response's `message`), if it has one."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    message = data.get("Message", data.get("message"))
    return message if isinstance(message, str) else None


def outcome_of(reason: str) -> str:
    """allowed, denied (only a refusal by the API's access control), other, or unreachable."""
    if reason in ("allowed", "unreachable"):
        return reason
    return "denied" if reason in DENIED_REASONS else "other"


@dataclass
class Facts:
    """What the control plane can tell about a refusal, each asked only when needed.

    `stage_exists()`: does the stage exist (and so serve a deployment)?
    `route_exists()`: does the deployment the stage serves have this path and method (an
    unsigned "Missing Authentication Token" there is a missing signature, not a missing route)?
    `private_api()`: is the API PRIVATE (reachable through a VPC endpoint only)?
    `policy_refusal()`: the deployed policy's verdict on this caller: "explicit", "implicit",
    or None when it lets the caller in (or cannot be known).
    `waf_refusal()`: does the stage's web ACL have a Block rule whose IP set holds this caller?
    """

    stage_exists: Callable[[], bool] | None = None
    policy_refusal: Callable[[], str | None] | None = None
    waf_refusal: Callable[[], bool] | None = None  # the stage's web ACL blocks this caller
    route_exists: Callable[[], bool] | None = None
    private_api: Callable[[], bool] | None = None


def corroborate(reason: str, facts: Facts, error_type: str | None = None, signed: bool = False) -> str:
    """Settle an answer that could mean two things with the control plane, in the data plane's
    order: "Missing Authentication Token" to an unsigned request is a missing signature when the
    stage serves that route (to a signed one, the route is missing: a signed request to an
    AWS_IAM method never gets it); a bare 403 is a missing stage, a PRIVATE API called from
    outside its VPC endpoints (AWS's plain Forbidden: knowledge center
    "api-gateway-vpc-connections"), WAF, or (no header at all, as behind a proxy that strips it)
    a refusal the deployed policy really makes for this caller (unsigned only: a signed caller's
    identity policies are not read here)."""
    if reason == "missing-route":
        if not signed and facts.route_exists is not None and facts.route_exists():
            return "missing-signature"
        return reason
    if reason != "forbidden":
        return reason
    if facts.stage_exists is not None and not facts.stage_exists():
        return "stage-not-found"
    if facts.private_api is not None and facts.private_api():
        return "private-endpoint-required"
    if facts.waf_refusal is not None and facts.waf_refusal():
        return "waf-block"  # WAF's plain Forbidden, and WAF really blocks this caller
    if facts.policy_refusal is not None and not error_type and not signed:
        kind = facts.policy_refusal()
        if kind:  # no header, but the deployed policy refuses exactly this caller
            return f"policy-{kind}-deny"
    return "forbidden"


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
    facts: Facts | None = None,
    signed: bool = False,
) -> ProbeResult:
    """Fetch at once, then back off until the expectation holds or the timeout passes.

    With `expected="any"` one answer is enough. An ambiguous answer is settled with `facts`
    (once per distinct answer: the control plane is not asked again on every retry); `signed`:
    `fetch` signs its requests (SigV4).
    """
    settled: dict[tuple[int, str | None, str, str], str] = {}
    result = ProbeResult(url=url, expected=expected)
    start = clock()
    while True:
        result.attempts += 1
        try:
            answer = fetch()
        except network_errors as exc:
            result.error = str(exc) or type(exc).__name__
            result.status, result.reason, result.error_type, result.body = None, "unreachable", None, ""
        else:
            result.error = None
            result.status, result.error_type = answer.status, answer.error_type
            result.reason = classify(answer)
            if facts is not None and result.reason in AMBIGUOUS:
                key = (answer.status, answer.error_type, answer.body, result.reason)
                if key not in settled:
                    settled[key] = corroborate(result.reason, facts, answer.error_type, signed)
                result.reason = settled[key]
            result.body = answer.body[:MAX_BODY_CHARS]
        result.outcome = outcome_of(result.reason)
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
    result.leaks = find_leaks(result.body, api_id) if result.status is not None and result.status >= 400 else []
    result.elapsed_s = round(clock() - start, 3)
    return result
