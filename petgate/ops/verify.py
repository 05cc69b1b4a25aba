"""verify's probe: request a URL until the expectation holds, and settle a bare 403 with what
the control plane says (does the stage exist, does the policy it serves, or its web ACL, refuse
this caller)."""

from __future__ import annotations

from petgate import probe
from petgate.errors import PetgateError
from petgate.gateway import exported_policy
from petgate.ops import myip
from petgate.ops.services import Services


def run_probe(
    app: Services, url: str, expect: str, timeout: float, api_id: str | None, stage: str | None = None,
    method: str = "GET", path: str = "/",
) -> probe.ProbeResult:
    """Probe the URL with the app's HTTP session (and source address); a bare 403 is settled
    with the control plane when the API and stage are known."""
    import requests

    def fetch() -> probe.Answer:
        response = app.http.get(url, timeout=10, allow_redirects=False)
        return probe.Answer(response.status_code, response.text, response.headers.get("x-amzn-ErrorType"))

    facts = control_plane_facts(app, api_id, stage, method, path) if api_id and stage else None
    with app.output.waiting(f"Requesting {url} (expecting {expect})..."):
        return probe.run(
            url,
            fetch,
            expect,
            timeout,
            api_id=api_id,
            network_errors=(requests.RequestException,),
            facts=facts,
        )


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
        from petgate.waf_list import blocking_rule

        try:
            arn = stage_arn(app.target.resolved_region(), api_id, stage)
            return blocking_rule(app, arn, myip.my_address(app)) is not None
        except PetgateError:
            return False  # cannot be known (no WAF permission, say): the answer stays a plain 403

    return probe.Facts(stage_exists=stage_exists, policy_refusal=policy_refusal, waf_refusal=waf_refusal)
