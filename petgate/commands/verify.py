"""verify: does the stage answer as expected (allowed / denied), and does a 403 leak?"""

from __future__ import annotations

from typing import Any

import click

from petgate import probe
from petgate.app import App
from petgate.commands.common import api_options, pass_app
from petgate.errors import EXIT_EXPECTATION, AwsError, NetworkError, PetgateError, UsageError
from petgate.gateway import looks_like_api_id
from petgate.output import Output


class ExpectationNotMetError(PetgateError):
    exit_code = EXIT_EXPECTATION


def run_probe(
    app: App, url: str, expect: str, timeout: float, api_id: str | None
) -> probe.ProbeResult:
    """Probe the URL with the app's HTTP session (and source address)."""
    import requests

    def fetch() -> probe.Answer:
        response = app.http.get(url, timeout=10, allow_redirects=False)
        return probe.Answer(response.status_code, response.text)

    with app.output.waiting(f"Requesting {url} (expecting {expect})..."):
        return probe.run(
            url,
            fetch,
            expect,
            timeout,
            api_id=api_id,
            network_errors=(requests.RequestException,),
        )


@click.command()
@api_options
@click.option("--path", default="/", show_default=True, help="Path under the stage to request.")
@click.option(
    "--expect",
    type=click.Choice(probe.EXPECTATIONS),
    default="any",
    show_default=True,
    help="Retry until the answer is allowed (2xx/3xx) or denied (403).",
)
@click.option("--timeout", type=float, default=60.0, show_default=True, help="Seconds to keep retrying.")
@click.option("--url", help="Request this URL instead of the stage's invoke URL.")
@pass_app
def verify(
    app: App, api_ref: str, stage: str, path: str, expect: str, timeout: float, url: str | None
) -> None:
    """Request the invoke URL and check the answer; exit 1 if the expectation is not met.

    A change takes some seconds to be visible after a deployment, so verify retries (backing
    off to every 2 s) until the answer matches --expect or --timeout passes. A 403 body that
    names an ARN, an account id or the API id is reported as a leak.

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
    result = run_probe(app, url, expect, timeout, api_id)
    if not result.ok and api_id is not None and app.gateway.get_stage(api_id, stage) is None:
        if app.gateway.get_api_or_none(api_id) is None:
            raise AwsError(f"no REST API with id or name {api_id!r}", "check --api", "NotFoundException")
        raise UsageError(f"API {api_id} has no stage {stage!r} yet", "run `petgate deploy` first")
    data = {"api_id": api_id, "stage": stage, **result.to_dict()}
    app.output.result(data, render_verify)
    if not result.ok:
        if result.outcome == "unreachable":
            raise NetworkError(f"cannot reach {url} ({result.error})")
        raise ExpectationNotMetError(
            f"expected {expect}, got {result.outcome} (HTTP {result.status}) after "
            f"{result.attempts} attempts in {result.elapsed_s:.1f}s"
        )


def render_verify(out: Output, data: dict[str, Any]) -> None:
    status = data["status"] if data["status"] is not None else "no answer"
    line = f"{data['outcome']} (HTTP {status}) from {data['url']} after {data['attempts']} attempt(s), {data['elapsed_s']:.1f}s"
    (out.success if data["ok"] else out.error)(line)
    if data["status"] == 403 and data["body"]:
        out.detail(f"body: {data['body'][:300]}")
    for leak in data["leaks"]:
        out.warn(f"the 403 body leaks {leak['kind'].replace('_', ' ')}: {leak['value']}")
