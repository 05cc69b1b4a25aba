"""verify: does the stage answer as expected (allowed / denied), and does a 403 leak?"""

from __future__ import annotations

import click

from petgate import probe
from petgate.app import App
from petgate.commands.common import api_options, pass_app, render_verify
from petgate.errors import AwsError, ExpectationNotMetError, NetworkError
from petgate.ops import apis
from petgate.ops import verify as verify_ops
from petgate.output import Output


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
        api_id = apis.resolve_api(app.gateway, api_ref, look_up_ids=False).id
        url = app.target.invoke_url(api_id, stage) + "/" + path.lstrip("/")
    result = verify_ops.run_probe(app, url, expect, timeout, api_id, stage, "GET", path)
    if result.reason == "stage-not-found" and api_id is not None and app.gateway.get_api_or_none(api_id) is None:
        raise AwsError(f"no REST API with id or name {api_id!r}", "check --api", "NotFoundException")
    app.output.result(verify_ops.Verified(api_id=api_id, stage=stage, probed=result), _render)
    if not result.ok:
        if result.outcome == "unreachable":
            raise NetworkError(f"cannot reach {url} ({result.error})")
        raise ExpectationNotMetError(
            f"expected {expect}, got {result.outcome} ({result.reason}, HTTP {result.status}) after "
            f"{result.attempts} attempts in {result.elapsed_s:.1f}s",
            _HINTS.get(result.reason, "").format(api_id=api_id, stage=stage) or None,
        )


def _render(out: Output, data: verify_ops.Verified) -> None:
    render_verify(out, data.probed)


_HINTS = {
    "stage-not-found": "API {api_id} has no stage {stage!r}: run `petgate deploy`, or check --stage",
    "missing-route": "the API has no such path or method: check --path",
    "forbidden": "a 403 that is not the resource policy's (an API key, WAF, or the backend)",
}


