"""petgate local: run the local gateway in the foreground."""

from __future__ import annotations

import ipaddress

import click

from petgate.app import App
from petgate.commands.common import pass_app
from petgate.errors import UsageError


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=4599, show_default=True, type=int, help="Port to listen on.")
@click.option("--throttle", is_flag=True, help="Enforce AWS's control-plane quotas (429 beyond them).")
@pass_app
def local(app: App, host: str, port: int, throttle: bool) -> None:
    """Run petgate's local API Gateway (control plane, data plane, checkip) on one port.

    Point the other commands at it with --local (or PETGATE_LOCAL=1). Deployed stages are
    served at http://HOST:PORT/restapis/API_ID/STAGE/_user_request_/PATH, resource policies
    are enforced against the real client address, and /_petgate/checkip answers that address.

    \b
    Example:
      petgate local --port 4599 &
      petgate --local import-example
    """
    from petgate.local.server import make_server

    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback:
        app.output.warn(f"listening on {host}: anyone who can reach it can change your local APIs")
    try:
        server = make_server(host, port, throttle)
    except OSError as exc:
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror}", "choose another --port") from None
    quotas = " with AWS's control-plane quotas" if throttle else ""
    app.output.success(f"petgate local gateway on http://{host}:{server.server_port}{quotas} (Ctrl-C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:  # Ctrl-C is how a foreground server is stopped
        app.output.info("stopped")
    finally:
        server.server_close()
