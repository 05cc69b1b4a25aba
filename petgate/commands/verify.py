"""verify: does the stage answer as expected (allowed / denied), and does a 403 leak?"""

from __future__ import annotations

import click

from petgate import probe
from petgate.app import App
from petgate.commands.common import api_options, pass_app, render_verify
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
    "policy, the caller's identity policies, or WAF; any other 403 is not 'denied').",
)
@click.option("--timeout", type=float, default=60.0, show_default=True, help="Seconds to keep retrying.")
@click.option("--url", help="Request this URL instead of the stage's invoke URL.")
@click.option("--sign", is_flag=True,
              help="Sign the requests (SigV4, execute-api) with the active AWS credentials (--profile, AWS_PROFILE, "
              "the environment), for methods with IAM authorization.")
@click.option("--as", "as_profile", metavar="PROFILE",
              help="Sign the requests with this AWS profile's credentials instead (implies --sign).")
@pass_app
def verify(
    app: App, api_ref: str, stage: str, path: str, expect: str, timeout: float, url: str | None, sign: bool,
    as_profile: str | None,
) -> None:
    """Request the invoke URL and check the answer; exit 1 if the expectation is not met.

    A change takes some seconds to be visible after a deployment, so verify retries (backing
    off to every 2 s) until the answer matches --expect or --timeout passes. "denied" means
    refused by the API's access control, never just "a 403": by the resource policy
    (policy-explicit-deny, policy-implicit-deny, policy-deny), the caller's identity policies
    (iam-explicit-deny, iam-implicit-deny) or WAF (waf-block). Every other reason is "other":
    missing-route, stage-not-found, missing-signature, invalid-signature, unrecognized-client,
    expired-token, private-endpoint-required, forbidden, other. The reason comes from the
    x-amzn-ErrorType header and the body, checked against the control plane when they are
    ambiguous. A 403 body that names an ARN, an account id or the API id is reported as a leak.

    \b
    Examples:
      petgate --local verify --expect denied
      if petgate verify --expect allowed -o json > result.json; then echo open; fi
      petgate verify --path /pets --sign --expect allowed     # account A gets in
      petgate verify --path /pets --as account-b --expect denied
    """
    data = verify_ops.verify(app, api_ref, stage, path, expect, timeout, url, sign, as_profile)
    app.output.result(data, _render)
    failed = verify_ops.unmet(data, expect)
    if failed is not None:
        raise failed


def _render(out: Output, data: verify_ops.Verified) -> None:
    render_verify(out, data.probed)
