"""petgate audit: every REST API and HTTP API of a region (or several) checked for open doors and
leaks (read-only)."""

from __future__ import annotations

import json
import sys
from typing import Any

import click
from click.core import ParameterSource

from petgate import __version__, sarif
from petgate.app import App
from petgate.commands.common import pass_app
from petgate.errors import ExpectationNotMetError
from petgate.ops import audit as ops_audit
from petgate.ops.audit_checks import RULES, SEVERITIES
from petgate.output import Output, shown


def _regions_option(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> tuple[str, ...]:
    """An empty --region names no region (the default would be audited in its place)."""
    if any(not region.strip() for region in value):
        raise click.BadParameter("an empty region name", ctx=ctx, param=param)
    return tuple(region.strip() for region in value)


def _output_option(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """audit's own -o (text, json, sarif): the App's output is json for json, text otherwise."""
    from petgate.cli import _SETTINGS

    if param.name and ctx.get_parameter_source(param.name) == ParameterSource.COMMANDLINE and value:
        ctx.find_root().meta.setdefault(_SETTINGS, {})["output"] = "json" if value == "json" else "text"
    return value


@click.command()
@click.option("--region", "regions", multiple=True, metavar="REGION", callback=_regions_option,
              help="A region to audit; repeat for several (default: the global --region / AWS_REGION / the profile's).")
@click.option("--fail-on", type=click.Choice(SEVERITIES), default="high", show_default=True,
              help="Exit 1 if a finding is at or above this severity.")
@click.option("-o", "--output", "output_mode", type=click.Choice(["text", "json", "sarif"]), default=None,
              callback=_output_option,
              help="text for people; json: one object on stdout; sarif: SARIF 2.1.0 on stdout (code scanning).")
@pass_app
def audit(app: App, regions: tuple[str, ...], fail_on: str, output_mode: str | None) -> None:
    """Check every REST API and HTTP API of the region (or of each --region) for open doors and
    leaks; nothing is written.

    Findings (rule, severity, the fix as a petgate command): PG001 public API with no policy
    and no authorization (high); PG002 a policy that lets anonymous callers in from any address,
    found by evaluating it (high); PG003 a PRIVATE API whose policy names no VPC or endpoint
    (medium); PG004 several VPC endpoints each behind its own Deny, which denies everyone (high);
    PG005 the deployed ACCESS_DENIED / DEFAULT_4XX response leaks the account id or an ARN, AWS's
    default included (medium); PG006 a policy or gateway response not deployed (low); PG007 no
    web ACL on a stage (low); PG008 a dual-stack API whose IP lists hold only IPv4 (medium);
    PG009 an account or principal allow-list on an API with no AWS_IAM method (high); PG010 an
    HTTP API, which takes no resource policy and no web ACL: its routes without an authorizer
    named, the alternatives in the fix (low).

    Calls, in each region: GetRestApis (500 a page), then per REST API GetResources, two
    GetGatewayResponse, GetStages, and for each of at most 10 stages GetExport and
    GetWebACLForResource: at most 24 calls an API (plus a page per further 500 resources);
    GetApis (100 a page), then per HTTP API GetRoutes and GetStages (plus a page per further
    100); throttled calls wait as AWS says. Each finding names its region.

    Exit 0 with no finding at or above --fail-on, else 1; a region that cannot be listed is
    reported and the run then ends with that error's exit code (3 AWS, 4 network). -o sarif
    works after the command name only (`petgate audit -o sarif`).

    \b
    Examples:
      petgate --local audit
      petgate audit --region eu-west-1 --region us-east-1 -o sarif > audit.sarif
      petgate audit --fail-on medium
    """
    report = ops_audit.audit(app, fail_on, regions)
    if output_mode == "sarif":
        log = sarif.render([f.to_json() for f in report.findings], RULES, __version__)
        sys.stdout.write(json.dumps(log, indent=2) + "\n")
        sys.stdout.flush()
    else:
        app.output.result(report, _render)
    failure = ops_audit.region_failure(report)
    if failure is not None:
        raise failure
    if report.failed:
        worst = sum(n for severity, n in report.counts.items() if SEVERITIES.index(severity) >= SEVERITIES.index(fail_on))
        raise ExpectationNotMetError(f"audit: {worst} finding(s) at or above {fail_on}")


def _render(out: Output, data: ops_audit.AuditReport) -> None:
    """Findings grouped by API, each with its region and fix, on stdout; the summary on stderr."""
    by_api: dict[tuple[str, str], list[Any]] = {}
    for finding in data.findings:
        by_api.setdefault((finding.region, finding.api_id), []).append(finding)
    for kind, apis in (("API", data.apis), ("HTTP API", data.http_apis)):
        for api in apis:
            found = by_api.get((api.region, api.api_id), [])
            out.data(f"{kind} {api.api_id} ({shown(api.api_name)}) in {api.region}: "
                     f"{len(found) or 'no'} finding(s), {api.calls} calls")
            if api.error:
                out.warn(f"{kind} {api.api_id} not read in full: {api.error}")
            if api.stages_not_read:
                out.warn(f"API {api.api_id}: stages not read (past {ops_audit.MAX_STAGES}): {', '.join(api.stages_not_read)}")
            for finding in found:
                where = f"stage {shown(finding.stage)}" if finding.stage else "the API"
                methods = f" [{', '.join(shown(m) for m in finding.methods)}]" if finding.methods else ""
                out.data(f"  {finding.severity.upper():6} {finding.rule} {finding.region} {where}{methods}: {shown(finding.message)}")
                out.data(f"         fix: {finding.fix}")
    for region in data.regions:
        if region.error:
            out.warn(f"{region.region}: not read in full: {region.error.get('message')}")
        if region.websocket_apis:
            out.info(f"{region.region}: {region.websocket_apis} WebSocket API(s) not audited")
    out.info(f"{len(data.apis)} REST API(s) and {len(data.http_apis)} HTTP API(s) in "
             f"{', '.join(r.region for r in data.regions)}: " + ", ".join(f"{data.counts[s]} {s}" for s in reversed(SEVERITIES)))


def _global_options_but_output(command: click.Command) -> click.Command:
    """The global options on audit as on every command, but -o (audit's own takes sarif too) and
    --region (audit's own may be repeated; the global one, before the command name, is the default)."""
    from petgate.cli import GLOBAL_OPTIONS, _remember_if_given

    for declarations, settings in GLOBAL_OPTIONS:
        if "--output" in declarations or "--region" in declarations:
            continue
        local_settings = {k: v for k, v in settings.items() if k not in ("envvar", "default")}
        command.params.append(
            click.Option(list(declarations), expose_value=False, callback=_remember_if_given, **local_settings))
    command._petgate_globals = True  # type: ignore[attr-defined]
    return command


_global_options_but_output(audit)
