"""verify: does the stage answer as expected (allowed / denied), and does a 403 leak?"""

from __future__ import annotations

from typing import Any

import click

from petgate import probe
from petgate.app import App
from petgate.commands.common import api_options, pass_app
from petgate.errors import EXIT_EXPECTATION, AwsError, NetworkError, PetgateError
from petgate.gateway import exported_policy, looks_like_api_id
from petgate.output import Output


class ExpectationNotMetError(PetgateError):
    exit_code = EXIT_EXPECTATION


def run_probe(
    app: App, url: str, expect: str, timeout: float, api_id: str | None, stage: str | None = None,
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


def control_plane_facts(app: App, api_id: str, stage: str, method: str, path: str) -> probe.Facts:
    """What the control plane says about a refusal: does the stage exist, and does the policy it
    serves refuse this caller (the address checkip sees)?"""
    from petgate import policy as policies
    from petgate.commands.common import my_address

    def stage_exists() -> bool:
        return app.gateway.get_stage(api_id, stage) is not None

    def policy_refusal() -> str | None:
        try:
            exported = app.gateway.get_stage_export(api_id, stage)
            document = exported_policy(exported)
            if document is None:
                return None
            address = my_address(app)
        except PetgateError:
            return None  # cannot be known: the answer stays a plain 403
        region = app.target.resolved_region()
        account = policies.account_in(document, api_id)
        request = policies.Request(
            source_ip=address,
            resource_arn=policies.request_arn(region, account, api_id, stage, method, path),
            keys={"aws:SecureTransport": "true"},
        )
        decision = policies.evaluate(document, request, policies.api_arn(region, account, api_id))
        return None if decision.allowed else ("explicit" if decision.explicit else "implicit")

    def waf_refusal() -> bool:
        from petgate.waf import stage_arn
        from petgate.waf_list import blocking_rule

        try:
            arn = stage_arn(app.target.resolved_region(), api_id, stage)
            return blocking_rule(app, arn, my_address(app)) is not None
        except PetgateError:
            return False  # cannot be known (no WAF permission, say): the answer stays a plain 403

    return probe.Facts(stage_exists=stage_exists, policy_refusal=policy_refusal, waf_refusal=waf_refusal)


@click.command()
@api_options
@click.option("--path", default="/", show_default=True, help="Path under the stage to request.")
@click.option(
    "--expect",
    type=click.Choice(probe.EXPECTATIONS),
    default="any",
    show_default=True,
    help="Retry until the answer is allowed (2xx/3xx) or denied (refused by the API's resource "
    "policy or WAF; any other 403 is not 'denied').",
)
@click.option("--timeout", type=float, default=60.0, show_default=True, help="Seconds to keep retrying.")
@click.option("--url", help="Request this URL instead of the stage's invoke URL.")
@pass_app
def verify(
    app: App, api_ref: str, stage: str, path: str, expect: str, timeout: float, url: str | None
) -> None:
    """Request the invoke URL and check the answer; exit 1 if the expectation is not met.

    A change takes some seconds to be visible after a deployment, so verify retries (backing
    off to every 2 s) until the answer matches --expect or --timeout passes. "denied" means
    refused by the API's access control, never just "a 403": the reason (policy-explicit-deny,
    policy-implicit-deny, policy-deny, waf-block, missing-route, stage-not-found, forbidden,
    other) comes from the x-amzn-ErrorType header and the body, checked against the control
    plane when they are ambiguous. A 403 body that names an ARN, an account id or the API id
    is reported as a leak.

    \b
    Examples:
      petgate --local verify --expect denied
      if petgate verify --expect allowed -o json > result.json; then echo open; fi
    """
    api_id = None
    if url is None:
        # an id needs no lookup: a wrong one shows as a failed probe, explained below
        api_id = api_ref if looks_like_api_id(api_ref) else app.gateway.resolve_api(api_ref).id
        url = app.target.invoke_url(api_id, stage) + "/" + path.lstrip("/")
    result = run_probe(app, url, expect, timeout, api_id, stage, "GET", path)
    if result.reason == "stage-not-found" and api_id is not None and app.gateway.get_api_or_none(api_id) is None:
        raise AwsError(f"no REST API with id or name {api_id!r}", "check --api", "NotFoundException")
    data = {"api_id": api_id, "stage": stage, **result.to_dict()}
    app.output.result(data, render_verify)
    if not result.ok:
        if result.outcome == "unreachable":
            raise NetworkError(f"cannot reach {url} ({result.error})")
        raise ExpectationNotMetError(
            f"expected {expect}, got {result.outcome} ({result.reason}, HTTP {result.status}) after "
            f"{result.attempts} attempts in {result.elapsed_s:.1f}s",
            _HINTS.get(result.reason, "").format(api_id=api_id, stage=stage) or None,
        )


_HINTS = {
    "stage-not-found": "API {api_id} has no stage {stage!r}: run `petgate deploy`, or check --stage",
    "missing-route": "the API has no such path or method: check --path",
    "forbidden": "a 403 that is not the resource policy's (an API key, WAF, or the backend)",
}


def render_verify(out: Output, data: dict[str, Any]) -> None:
    status = data["status"] if data["status"] is not None else "no answer"
    line = f"{data['outcome']} ({data['reason']}, HTTP {status}) from {data['url']} after {data['attempts']} attempt(s), {data['elapsed_s']:.1f}s"
    (out.success if data["ok"] else out.info)(line)  # a miss ends with one error line of its own
    if data["status"] is not None and data["status"] >= 400 and data["body"]:
        out.detail(f"body: {data['body'][:300]}")
    for leak in data["leaks"]:
        out.warn(f"the 403 body leaks {leak['kind'].replace('_', ' ')}: {leak['value']}")
