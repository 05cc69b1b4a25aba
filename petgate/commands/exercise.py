"""The exercise's steps: import-example, deploy, block-my-ip, set-403-template, unblock."""

from __future__ import annotations

import click

from petgate import example
from petgate.app import App
from petgate.commands.common import (
    change_options,
    cidr_option,
    expiry_options,
    for_each_api,
    pass_app,
    render_deploy_lines,
    render_policy_tail,
    several_api_options,
    until_from_options,
    wanted_cidrs,
)
from petgate.errors import UsageError
from petgate.ops import access_denied, deploys, policy_changes
from petgate.ops.access_denied import DEFAULT_403_TEMPLATE
from petgate.output import Output, shown

# API Gateway's quota on a mapping template ("Mapping template size": 300 KB, not adjustable)
MAX_TEMPLATE_BYTES = 300 * 1024
SHOWN_TEMPLATE_CHARS = 400


@click.command("import-example")
@click.option("--name", default=example.NAME, show_default=True, help="Name of the API.")
@click.option("--new", is_flag=True, help="Import a new copy even if an API of that name exists.")
@click.option(
    "--endpoint-type",
    type=click.Choice(["REGIONAL", "EDGE", "PRIVATE"], case_sensitive=False),
    default="REGIONAL",
    show_default=True,
    help="Endpoint type (the console imports REGIONAL today); PRIVATE needs --vpce.",
)
@click.option("--vpce", "vpces", multiple=True, metavar="VPCE_ID",
              help="With --endpoint-type PRIVATE: a VPC endpoint that may invoke the API (repeatable); the "
              "import carries the console's VPC whitelist policy for them, so the API deploys.")
@pass_app
def import_example(app: App, name: str, new: bool, endpoint_type: str, vpces: tuple[str, ...]) -> None:
    """Import the console's Example API (PetStore) and print its id.

    An API of the same name is reused unless --new.

    A PRIVATE API is reached only through VPC endpoints, and AWS deploys one only with a
    resource policy: --vpce names the endpoints, and the API is imported with the policy that
    denies every caller not from them (the console's "VPC whitelist"), ready for `deploy`.

    \b
    Examples:
      petgate --local import-example
      petgate --local import-example --endpoint-type PRIVATE --vpce vpce-0abc1234
    """
    app.output.result(deploys.import_example(app, name, new, endpoint_type, vpces), _render_import)


def _render_import(out: Output, data: deploys.Imported) -> None:
    if data.created:
        private = f" (private: only {', '.join(data.vpc_endpoints)} may invoke it)" if isinstance(data.vpc_endpoints, list) else ""
        out.success(f"Imported {shown(data.api_name)} as API {data.api_id}{private}.")
    else:
        out.info(f"Reusing API {data.api_id} ({shown(data.api_name)}); pass --new for another.")
    click.echo(data.api_id)


@click.command()
@several_api_options
@click.option("--description", default="", help="Description of the deployment.")
@pass_app
def deploy(app: App, api_refs: tuple[str, ...], stage: str, description: str) -> None:
    """Deploy the API to the stage (creating it) and print the invoke URL.

    \b
    Example:
      petgate --local deploy --stage test
    """
    description = description or "petgate deploy"
    for_each_api(app, api_refs, lambda ref: deploys.deploy_stage(app, ref, stage, description), _render_deploy)


def _render_deploy(out: Output, data: deploys.StageDeployed) -> None:
    out.success(f"Deployed {data.deployment.deployment_id} to stage {data.stage}.")
    click.echo(data.deployment.invoke_url)


@click.command("block-my-ip")
@several_api_options
@cidr_option("Block this address or CIDR instead of your own (repeatable).")
@click.option("--force", is_flag=True, help="Block even 0.0.0.0/0 or ::/0 (every caller, you included).")
@expiry_options
@change_options
@pass_app
def block_my_ip(
    app: App, api_refs: tuple[str, ...], stage: str, cidrs: tuple[str, ...], list_file: str | None, force: bool,
    for_text: str | None, until_text: str | None, no_deploy: bool, dry_run: bool,
) -> None:
    """Deny your own IP (from checkip, as a /32) with a resource policy, then redeploy.

    Writes the console's "IP Range Blacklist" shape, merged into any policy the API has:
    other statements are kept, and blocking the same CIDR twice changes nothing.

    \b
    Examples:
      petgate --local block-my-ip
      petgate block-my-ip --api a1b2c3d4e5 --cidr 192.0.2.0/24 --cidr 2001:db8::/64
      petgate block-my-ip --file abusers.txt      # one address or CIDR per line, # comments
      petgate block-my-ip --cidr 198.51.100.7 --for 24h    # then `petgate prune` from cron
      petgate block-my-ip --api shop --api blog --cidr 192.0.2.9   # several APIs, in turn

    A block with --for or --until is kept in its own deny statement whose Sid names the time
    it ends (PetgateDenyUntil20261201T180000Z), so every machine sees it and can prune it.
    """
    until, clock = until_from_options(for_text, until_text, app.clock)
    wanted = wanted_cidrs(app, cidrs, list_file)
    everyone = [c for c in wanted if c.endswith("/0")]
    if everyone and not force:
        raise UsageError(
            f"blocking {', '.join(everyone)} denies every caller of that IP version, you included (nothing was written)",
            "pass --force if that is what you want",
        )

    def one(api_ref: str) -> policy_changes.Blocked:
        data = policy_changes.block(app, api_ref, stage, wanted, dry_run, until, clock)
        return deploys.after_change(app, data, no_deploy, "petgate block-my-ip")

    for_each_api(app, api_refs, one, _render_block)


def _render_block(out: Output, data: policy_changes.Blocked) -> None:
    verb = "Would block" if data.dry_run else "Blocked"
    ends = f" until {data.until}" if data.until else ""
    if data.added:
        out.success(f"{verb} {', '.join(data.added)} on API {data.api_id}{ends}.")
    else:
        out.info(f"Already blocked: {', '.join(data.cidrs)}; the policy is unchanged.")
    render_policy_tail(out, data)


@click.command()
@several_api_options
@cidr_option("Unblock this address or CIDR instead of your own (repeatable).")
@click.option("--all", "remove_all", is_flag=True, help="Remove the whole resource policy.")
@change_options
@pass_app
def unblock(
    app: App,
    api_refs: tuple[str, ...],
    stage: str,
    cidrs: tuple[str, ...],
    list_file: str | None,
    remove_all: bool,
    no_deploy: bool,
    dry_run: bool,
) -> None:
    """Remove what block-my-ip added (your own IP by default), then redeploy.

    Other statements are kept; the policy goes when nothing else is left in it. --all removes
    the whole policy, as the exercise does.

    \b
    Examples:
      petgate --local unblock
      petgate unblock --cidr 192.0.2.0/24
      petgate unblock --all
    """
    if remove_all and (cidrs or list_file):
        raise UsageError("--all does not go with --cidr or --file")
    wanted = [] if remove_all else wanted_cidrs(app, cidrs, list_file)

    def one(api_ref: str) -> policy_changes.Unblocked:
        if remove_all:
            data = policy_changes.remove_policy(app, api_ref, stage, dry_run)
        else:
            data = policy_changes.unblock(app, api_ref, stage, wanted, dry_run)
        return deploys.after_change(app, data, no_deploy, "petgate unblock")

    for_each_api(app, api_refs, one, _render_unblock)


def _render_unblock(out: Output, data: policy_changes.Unblocked) -> None:
    would = "Would remove" if data.dry_run else "Removed"
    if data.all:
        out.success(f"{would} the whole resource policy." if data.changed else "The API has no resource policy.")
    elif data.removed:
        out.success(f"{would} {', '.join(data.removed)} from the deny list.")
    else:
        out.info(f"Not blocked: {', '.join(data.cidrs)}; the policy is unchanged.")
    render_policy_tail(out, data)


def _read_template(template: str | None, template_file: str | None) -> str:
    if template is not None and template_file is not None:
        raise UsageError("--template and --template-file do not go together")
    if template_file is None:
        return template if template is not None else DEFAULT_403_TEMPLATE
    try:
        with open(template_file, "rb") as handle:
            raw = handle.read()
    except OSError as exc:
        raise UsageError(f"cannot read template file {template_file}: {exc.strerror}") from None
    if len(raw) > MAX_TEMPLATE_BYTES:
        raise UsageError(
            f"template file {template_file} has {len(raw):,} bytes; API Gateway takes at most "
            f"{MAX_TEMPLATE_BYTES:,} (300 KB) per mapping template (nothing was written)"
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"template file {template_file} is not UTF-8 text") from None


@click.command("set-403-template")
@several_api_options
@click.option("--template", help="Mapping template text.", metavar="TEXT")
@click.option(
    "--template-file", help="Read the mapping template from this file.", metavar="PATH"
)
@click.option("--content-type", default="application/json", show_default=True)
@click.option("--status-code", default="403", show_default=True, help="HTTP status to answer.")
@change_options
@pass_app
def set_403_template(
    app: App,
    api_refs: tuple[str, ...],
    stage: str,
    template: str | None,
    template_file: str | None,
    content_type: str,
    status_code: str,
    no_deploy: bool,
    dry_run: bool,
) -> None:
    """Replace the ACCESS_DENIED (403) body so it reveals nothing about the account.

    The default template is {"message":"Access denied"}; templates for other content types
    and the response's headers are kept.

    \b
    Examples:
      petgate --local set-403-template
      petgate set-403-template --template '{"message":"Nope","id":"$context.requestId"}'
    """
    text = _read_template(template, template_file)
    if len(text.encode()) > MAX_TEMPLATE_BYTES:
        raise UsageError(f"the template has {len(text.encode()):,} bytes; API Gateway takes at most {MAX_TEMPLATE_BYTES:,}")
    if not status_code.isdigit() or not 400 <= int(status_code) <= 599:
        raise UsageError(f"--status-code must be an HTTP error status, not {status_code!r}")

    def one(api_ref: str) -> access_denied.TemplateChange:
        data = access_denied.set_access_denied(app, api_ref, stage, text, content_type, status_code, dry_run)
        return deploys.after_change(app, data, no_deploy, "petgate set-403-template")

    for_each_api(app, api_refs, one, _render_template)


def _render_template(out: Output, data: access_denied.TemplateChange) -> None:
    verb = "Would set" if data.dry_run else "Set"
    out.success(f"{verb} the ACCESS_DENIED response of API {data.api_id} ({data.status_code}, {data.content_type}):")
    template = data.template
    if len(template) > SHOWN_TEMPLATE_CHARS:  # the JSON output carries all of it
        template = template[:SHOWN_TEMPLATE_CHARS] + f"... ({len(data.template):,} characters)"
    out.detail(shown(template))
    render_deploy_lines(out, data)
