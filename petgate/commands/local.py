"""petgate local: run the local gateway in the foreground."""

from __future__ import annotations

import ipaddress
import math

import click

from petgate.app import App
from petgate.commands.common import pass_app
from petgate.errors import UsageError
from petgate.target import check_url

MAX_LATENCY_MS = 60_000.0


def parse_latency(value: str | None) -> float:
    """--latency: milliseconds, a finite number from 0 to 60,000."""
    if value is None:
        return 0.0
    try:
        latency = float(value)
    except ValueError:
        latency = math.nan
    if not math.isfinite(latency) or not 0 <= latency <= MAX_LATENCY_MS:
        raise UsageError(f"--latency must be a number of milliseconds from 0 to {MAX_LATENCY_MS:,.0f}, not {value!r}")
    return latency


def reachable_url(host: str, port: int) -> str:
    """A URL a client on this machine can use: a wildcard address is reached on loopback."""
    if host in ("0.0.0.0", ""):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


@click.command()
@click.option("--host", help="Address to listen on. [default: PETGATE_LOCAL_URL's host, else 127.0.0.1]")
@click.option("--port", type=click.IntRange(0, 65535), help="Port to listen on; 0 picks a free one. "
              "[default: PETGATE_LOCAL_URL's port, else 4599]")
@click.option("--throttle", is_flag=True, help="Enforce AWS's control-plane quotas (429 beyond them).")
@click.option("--state", "state_path", metavar="FILE", envvar="PETGATE_LOCAL_STATE",
              help="Keep APIs, deployments and stages in FILE across restarts (written after every change; "
              "a pickle: load only files this machine wrote); one gateway per FILE (it holds FILE.lock). "
              "[env: PETGATE_LOCAL_STATE]")
@click.option("--latency", "latency", metavar="MS",
              help="Delay every control-plane call (API Gateway, wafv2; not the data plane) by MS milliseconds, "
              "as a real control plane costs, for benchmarks. [default: 0]")
@click.option("--vpc-endpoint", "vpc_endpoints", multiple=True, metavar="VPCE_ID:VPC_ID=ADDRESS",
              help="Requests from source address ADDRESS come through VPC endpoint VPCE_ID of VPC VPC_ID "
              "(repeatable): the only way into a PRIVATE API, and what its policy sees as aws:SourceVpce, "
              "aws:SourceVpc and aws:VpcSourceIp. Kept in --state; given again, they replace the kept ones.")
@pass_app
def local(app: App, host: str | None, port: int | None, throttle: bool, state_path: str | None, latency: str | None,
          vpc_endpoints: tuple[str, ...]) -> None:
    """Run petgate's local API Gateway (control plane, data plane, checkip) on one port.

    Point the other commands at it with --local (or PETGATE_LOCAL=1); it listens where
    PETGATE_LOCAL_URL says unless --host / --port say otherwise. Deployed stages are served at
    http://HOST:PORT/restapis/API_ID/STAGE/_user_request_/PATH, resource policies are enforced
    against the real client address, and /_petgate/checkip answers that address. The first
    line on stderr names the URL it listens on.

    A private API is reached from an address --vpc-endpoint maps, by the path above or as
    through AWS's VPC endpoint: Host API_ID-VPCE_ID.execute-api.REGION.amazonaws.com (or
    API_ID.execute-api.REGION.amazonaws.com), or an x-apigw-api-id: API_ID header, with the
    path /STAGE/PATH.

    \b
    Examples:
      petgate local --port 4599 &
      petgate --local import-example
      petgate local --vpc-endpoint vpce-0abc1234:vpc-0def5678=127.0.0.9 &
      petgate --local import-example --endpoint-type PRIVATE --vpce vpce-0abc1234
    """
    from petgate.local.private_endpoints import describe, parse_mappings
    from petgate.local.server import LocalGateway, make_server

    latency_ms = parse_latency(latency)
    mappings = parse_mappings(vpc_endpoints) if vpc_endpoints else None
    url_host, url_port = check_url(app.target.local_url, "PETGATE_LOCAL_URL")
    host = url_host if host is None else host
    port = url_port if port is None else port
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback:
        app.output.warn(f"listening on {host}: anyone who can reach it can change your local APIs")
    from petgate.local.state import StateFile

    state = StateFile(state_path) if state_path else None
    try:
        server = make_server(host, port, throttle, state, latency_ms, vpc_endpoints=mappings)
    except OSError as exc:
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}", "choose another --port") from None
    quotas = " with AWS's control-plane quotas" if throttle else ""
    if state is not None:
        quotas += f" keeping its state in {state.path}"
    if latency_ms:
        quotas += f" with {latency_ms:g} ms of control-plane latency"
    in_effect = server.app.endpoints.mappings() if isinstance(server.app, LocalGateway) else {}
    if in_effect:
        quotas += f" with VPC endpoints {describe(in_effect)}"
    try:  # from the announcement on, Ctrl-C is a stop, not an interruption
        app.output.success(f"petgate local gateway on {reachable_url(host, server.server_port)}{quotas} (Ctrl-C to stop)")
        server.serve_forever()
    except KeyboardInterrupt:  # Ctrl-C is how a foreground server is stopped
        app.output.info("stopped")
    finally:
        server.server_close()
