"""verify's probe: request a URL until the expectation holds, and settle a bare 403 with what
the control plane says (does the stage exist, does the policy it serves, or its web ACL, refuse
this caller)."""

from __future__ import annotations

from dataclasses import dataclass, field

from petgate import probe
from petgate.errors import PetgateError
from petgate.gateway import exported_policy
from petgate.ops import myip
from petgate.ops.results import FLAT, Result
from petgate.ops.services import Services


@dataclass(frozen=True, kw_only=True)
class Leak(Result):
    """What a 403 body reveals about the account (probe.find_leaks): an ARN, an account id
    (masked or not), the API id."""

    kind: str
    value: str


@dataclass(frozen=True, kw_only=True)
class Probed(Result):
    """The URL requested until the expectation held or the timeout passed: the last answer,
    its reason and outcome (probe.py), and what its body leaks."""

    url: str
    expected: str
    status: int | None  # None: no answer (unreachable)
    outcome: str
    ok: bool
    attempts: int
    elapsed_s: float
    body: str
    leaks: list[Leak]
    error: str | None
    reason: str
    error_type: str | None

    @classmethod
    def of(cls, result: probe.ProbeResult) -> Probed:
        return cls(
            url=result.url, expected=result.expected, status=result.status, outcome=result.outcome, ok=result.ok,
            attempts=result.attempts, elapsed_s=result.elapsed_s, body=result.body,
            leaks=[Leak(kind=leak["kind"], value=leak["value"]) for leak in result.leaks],
            error=result.error, reason=result.reason, error_type=result.error_type,
        )


@dataclass(frozen=True, kw_only=True)
class Verified(Result):
    """`petgate verify`: the API (None: a --url of its own) and stage, and the probe's answer."""

    api_id: str | None
    stage: str
    probed: Probed = field(metadata=FLAT)


def run_probe(
    app: Services, url: str, expect: str, timeout: float, api_id: str | None, stage: str | None = None,
    method: str = "GET", path: str = "/",
) -> Probed:
    """Probe the URL with the app's HTTP session (and source address); a bare 403 is settled
    with the control plane when the API and stage are known."""
    import requests

    def fetch() -> probe.Answer:
        response = app.http.get(url, timeout=10, allow_redirects=False)
        return probe.Answer(response.status_code, response.text, response.headers.get("x-amzn-ErrorType"))

    facts = control_plane_facts(app, api_id, stage, method, path) if api_id and stage else None
    with app.output.waiting(f"Requesting {url} (expecting {expect})..."):
        result = probe.run(
            url,
            fetch,
            expect,
            timeout,
            api_id=api_id,
            network_errors=(requests.RequestException,),
            facts=facts,
        )
    return Probed.of(result)


def control_plane_facts(app: Services, api_id: str, stage: str, method: str, path: str) -> probe.Facts:
    """What the control plane says about a refusal: does the stage exist, and does the policy it
    serves refuse this caller (the address checkip sees)?"""
    from petgate import policy as policies
    from petgate.ops.policy_view import evaluate_call

    def stage_exists() -> bool:
        return app.gateway.get_stage(api_id, stage) is not None

    def policy_refusal() -> str | None:
        try:
            exported = app.gateway.get_stage_export(api_id, stage)
            document = exported_policy(exported)
            if document is None:
                return None
            address = myip.my_address(app)
        except PetgateError:
            return None  # cannot be known: the answer stays a plain 403
        _, decision = evaluate_call(
            document, region=app.target.resolved_region(), account=policies.account_in(document, api_id),
            api_id=api_id, stage=stage, method=method, path=path, source_ip=address,
        )
        return None if decision.allowed else ("explicit" if decision.explicit else "implicit")

    def waf_refusal() -> bool:
        from petgate.waf import stage_arn
        from petgate.waf_stages import blocking_rule

        try:
            arn = stage_arn(app.target.resolved_region(), api_id, stage)
            return blocking_rule(app, arn, myip.my_address(app)) is not None
        except PetgateError:
            return False  # cannot be known (no WAF permission, say): the answer stays a plain 403

    return probe.Facts(stage_exists=stage_exists, policy_refusal=policy_refusal, waf_refusal=waf_refusal)
