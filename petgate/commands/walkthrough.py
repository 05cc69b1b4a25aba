"""petgate walkthrough: the whole exercise, each step checked, as a numbered story."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import ExitStack
from typing import TypeVar

import click

from petgate import example
from petgate.app import App
from petgate.commands.common import check_stage_name, pass_app, render_verify
from petgate.errors import ExpectationNotMetError, PetgateError, UsageError
from petgate.ops import access_denied, allow_lists, authorization_types, deploys, myip, policy_changes
from petgate.ops import walkthrough as ops_walkthrough
from petgate.ops.access_denied import DEFAULT_403_TEMPLATE
from petgate.ops.deploys import StageDeployed
from petgate.ops.results import Result, Unset, extend
from petgate.ops.verify import Probed, Signer, run_probe
from petgate.ops.walkthrough import (
    AccountsAllowed,
    AddressChecked,
    CallerChecked,
    Checked,
    DeletedWithIdentities,
    ExerciseApi,
    Failed,
    IamRequired,
    IdentitiesMade,
    PolicyBlocked,
    PolicyRemoved,
    Step,
    TemplateSet,
    WafChanged,
)
from petgate.output import Output

D = TypeVar("D", bound=Result)


class Story:
    """Runs numbered steps, recording each one's result for the JSON report."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.steps: list[Step] = []

    def step(self, title: str, action: Callable[[], D], ok: Callable[[D], bool] | None = None) -> D:
        """Run the step and record what it did; `ok` says whether it met its expectation (by
        default a step that returns did)."""
        number = len(self.steps) + 1
        out = self.app.output
        out.step(f"{number}. {title}")
        started = time.monotonic()
        done = action()
        self.steps.append(Step(step=number, title=title, ok=ok(done) if ok is not None else True, done=done,
                               elapsed_s=round(time.monotonic() - started, 3)))
        return done

    def check(self, title: str, url: str, expect: str, timeout: float, api_id: str, stage: str) -> Probed:
        def action() -> Checked:
            result = run_probe(self.app, url, expect, timeout, api_id, stage)
            render_verify(self.app.output, result)
            return Checked(verify=result)

        return self.step(title, action, lambda checked: checked.verify.ok).verify

    def check_reason(self, title: str, make: Callable[[Probed], Checked], expected_reason: str, app: App, url: str,
                     expect: str, timeout: float, api_id: str, stage: str, signer: Signer | None = None) -> Probed:
        """A check whose answer must also have `expected_reason` (verify's probe, signed by
        `signer`, from `app`'s source address); a miss stops the story, naming the step."""
        def action() -> Checked:
            result = run_probe(app, url, expect, timeout, api_id, stage, signer=signer)
            render_verify(self.app.output, result)
            return make(result)

        result = self.step(title, action, lambda checked: checked.verify.ok
                           and checked.verify.reason == expected_reason).verify
        if not self.steps[-1].ok:
            raise ExpectationNotMetError(
                f"step {len(self.steps)} ({title}): expected {result.expected} ({expected_reason}), "
                f"got {result.outcome} ({result.reason})")
        return result

    def failed(self, error: PetgateError) -> None:
        """The error that stopped the story, as a step of its own."""
        self.steps.append(Step(step=len(self.steps) + 1, title="error", ok=False, done=Failed(error=error.line())))

    def last_step_failed(self) -> None:
        self.steps[-1] = self.steps[-1].but(ok=False)


def _journal_id(value: str | None | Unset) -> str | None:
    """A change's journal entry (None: nothing was journaled)."""
    return None if isinstance(value, Unset) else value


@click.command()
@click.option("--name", default=example.NAME, show_default=True, help="Name of the API to import or reuse.")
@click.option("--stage", default="test", show_default=True, callback=check_stage_name, help="Stage name.")
@click.option("--new", is_flag=True, help="Import a fresh copy even if an API of that name exists.")
@click.option("--cleanup", is_flag=True, help="Delete the API at the end (with --accounts, the IAM users and roles too).")
@click.option("--timeout", type=float, default=60.0, show_default=True, help="Seconds each check may wait for a change to show.")
@click.option("--waf", "use_waf", is_flag=True, help="Block with an AWS WAF list instead of a resource policy.")
@click.option("--accounts", "use_accounts", is_flag=True,
              help="Callers of three accounts, signed (IAM authorization): Table A and Table B (petgate local only).")
@click.option("--private", "use_private", is_flag=True,
              help="A PRIVATE API from two VPC endpoints and a plain address (petgate local only).")
@pass_app
def walkthrough(app: App, name: str, stage: str, new: bool, cleanup: bool, timeout: float, use_waf: bool,
                use_accounts: bool, use_private: bool) -> None:
    """Run the whole exercise, checking each step: import, deploy, allowed; block my IP,
    denied with AWS's leaky body; custom 403 template, denied without leaks; unblock, allowed.

    With --waf the block is an AWS WAF list attached to the stage (no redeploy; WAF answers
    its own plain 403, so there is no template step). With --local and no gateway answering
    at the local URL, one is started for the run.

    With --accounts (petgate local only): require-iam, then IAM callers signed with SigV4: in
    the API's account a user whose identity policy allows (allowed: Table A) and one with no
    policy (iam-implicit-deny); a role's session in account 222222222222, refused until
    `allow-accounts 222222222222` (Table B: both must allow), then allowed; one in account
    333333333333, refused. --cleanup also deletes the IAM users and roles it made.

    With --private (petgate local only): the example imported PRIVATE (always a fresh copy) for one VPC endpoint,
    called from that endpoint's address (allowed), another endpoint's (denied by the policy) and
    a plain address (private-endpoint-required). The gateway started for the run maps
    127.0.0.9 and 127.0.0.10; a running one must have been started with two --vpc-endpoint
    mappings of two endpoints.

    \b
    Examples:
      petgate --local walkthrough --cleanup
      petgate --local walkthrough --waf --cleanup
      petgate --local walkthrough --accounts --cleanup
      petgate --local walkthrough --private --cleanup
      petgate -o json --local walkthrough > report.json
    """
    if sum((use_waf, use_accounts, use_private)) > 1:
        raise UsageError("--waf, --accounts and --private are walkthroughs of their own: give one of them")
    if use_accounts and not app.target.local:
        raise UsageError(
            "walkthrough --accounts runs against petgate local only: it makes IAM users and roles in the API's account "
            "and in two more (222222222222, 333333333333), which on AWS needs a second and a third account you "
            "administer and a role in each that yours may assume",
            "run `petgate --local walkthrough --accounts`; on AWS check callers with `petgate verify --as PROFILE`")
    if use_private and not app.target.local:
        raise UsageError(
            "walkthrough --private runs against petgate local only: on AWS a private API answers only inside a VPC, "
            "through an interface VPC endpoint, so it needs a machine in that VPC (and one outside it)",
            "run `petgate --local walkthrough --private`; on AWS run `petgate verify` from inside the VPC")
    with ExitStack() as stack:
        endpoints: list[tuple[str, str, str]] = []
        if app.target.local:
            app, endpoints = _with_local_gateway(app, stack, use_private)
        # refuses first, before any step (a private walkthrough always imports its own API)
        reused = None if new or use_private else ops_walkthrough.reusable_api(app, name)
        story = Story(app)
        failed: str | None = None
        try:
            if use_accounts:
                _run_accounts(app, story, name, stage, reused, cleanup, timeout)
            elif use_private:
                _run_private(app, story, name, stage, endpoints, cleanup, timeout)
            else:
                (_run_waf if use_waf else _run)(app, story, name, stage, reused, cleanup, timeout)
        except ExpectationNotMetError as exc:
            failed = exc.message
        except PetgateError as exc:
            story.failed(exc)
            failed = exc.line()
        ok = failed is None and all(s.ok for s in story.steps)
        app.output.result(ops_walkthrough.report(story.steps, ok), _render_summary)
        if not ok:
            raise ExpectationNotMetError(failed or "a step did not meet its expectation")


# the gateway `walkthrough --private` starts maps these: two endpoints of one VPC
PRIVATE_MAPPINGS = ("vpce-0abc1234:vpc-0def5678=127.0.0.9", "vpce-0bbb2222:vpc-0def5678=127.0.0.10")
_START_PRIVATE = "petgate local " + " ".join(f"--vpc-endpoint {m}" for m in PRIVATE_MAPPINGS)


def _with_local_gateway(app: App, stack: ExitStack, private: bool = False) -> tuple[App, list[tuple[str, str, str]]]:
    """The App to run with: this one if a gateway answers at the local URL; else one for a
    gateway started for this run (stopped when the stack closes). With `private`, the gateway's
    VPC endpoint mappings too ((address, vpce, vpc), by address): a running gateway's as its
    /_petgate/vpc-endpoints says; one started here maps PRIVATE_MAPPINGS."""
    if app.local_gateway_answers():
        return app, (_running_endpoints(app) if private else [])
    from petgate.local.private_endpoints import parse_mappings
    from petgate.local.server import start_in_thread

    mappings = parse_mappings(PRIVATE_MAPPINGS) if private else None
    running = start_in_thread(vpc_endpoints=mappings)
    stack.callback(running.stop)
    app.output.info(f"Started a local gateway for this run at {running.url}")
    endpoints = sorted(((a, e.vpce_id, e.vpc_id) for a, e in (mappings or {}).items()), key=_by_address)
    return app.for_local_url(running.url), endpoints


def _by_address(mapping: tuple[str, str, str]) -> tuple[int, str]:
    import ipaddress

    address = ipaddress.ip_address(mapping[0])
    return address.version, address.packed.hex()


def _running_endpoints(app: App) -> list[tuple[str, str, str]]:
    """The running gateway's VPC endpoint mappings, or one clear line (exit 2) saying how to start
    one that has two endpoints."""
    import requests

    url = app.target.local_url.rstrip("/") + "/_petgate/vpc-endpoints"
    try:
        response = app.http.get(url, timeout=10)
        found = response.json()["vpc_endpoints"] if response.status_code == 200 else None
        endpoints = sorted(((str(e["address"]), str(e["vpce_id"]), str(e["vpc_id"])) for e in found or []),
                           key=_by_address)
    except (requests.RequestException, ValueError, KeyError, TypeError):
        endpoints = []
    if len({vpce for _, vpce, _ in endpoints}) < 2:
        raise UsageError(
            f"walkthrough --private needs the local gateway at {app.target.local_url} to map two VPC endpoints "
            f"(it maps {len(endpoints)} source address(es))",
            f"start it as `{_START_PRIVATE}`, or stop it and let the walkthrough start its own")
    return endpoints


def _from_address(app: App, address: str) -> App:
    """An App like `app` whose data-plane requests leave from `address` (verify's --source-address)."""
    import dataclasses

    return App(dataclasses.replace(app.target, source_address=address), app.output, app.clock, app.sleep)


def _run(app: App, story: Story, name: str, stage: str, reused: str | None, cleanup: bool, timeout: float) -> None:
    def do_import() -> ExerciseApi:
        if reused is not None:
            app.output.info(f"   reusing API {reused}")
        api = ops_walkthrough.exercise_api(app, name, reused)
        if reused is None:
            app.output.info(f"   imported API {api.api_id}")
        return extend(api, ExerciseApi, stage=stage)

    api_id = story.step(f"Import the Example API ({name})", do_import).api_id
    url = app.target.invoke_url(api_id, stage) + "/"

    def deploy_step(title: str) -> None:
        def action() -> StageDeployed:
            deployed = deploys.deploy(app, api_id, stage, f"petgate walkthrough: {title}")
            app.output.info(f"   deployment {deployed.deployment_id} on {deployed.invoke_url}")
            return StageDeployed(api_id=api_id, stage=stage, deployment=deployed)

        story.step(title, action)

    def require(result: Probed) -> None:
        if not result.ok:
            raise ExpectationNotMetError(f"step {len(story.steps)}: expected {result.expected}, got {result.outcome} ({result.reason})")

    deploy_step(f"Deploy to stage {stage}")
    require(story.check("Verify everyone may call it", url, "allowed", timeout, api_id, stage))

    def block() -> PolicyBlocked:
        cidr = myip.my_cidr(app)
        result = policy_changes.block(app, api_id, stage, [cidr])
        app.output.info(f"   denied {cidr} (from checkip) with the IP Range Blacklist policy")
        return PolicyBlocked(api_id=api_id, cidrs=[cidr], added=result.added, journal_id=_journal_id(result.journal_id))

    story.step("Block my IP with a resource policy", block)
    deploy_step("Redeploy so the policy takes effect")
    leaky = story.check("Verify I am denied (and see what AWS's 403 reveals)", url, "denied", timeout, api_id, stage)
    require(leaky)

    def template() -> TemplateSet:
        result = access_denied.set_access_denied(app, api_id, stage, DEFAULT_403_TEMPLATE, "application/json", "403")
        app.output.info(f"   ACCESS_DENIED now answers {DEFAULT_403_TEMPLATE}")
        return TemplateSet(api_id=api_id, template=DEFAULT_403_TEMPLATE, journal_id=_journal_id(result.journal_id))

    story.step("Replace the 403 message with a custom template", template)
    deploy_step("Redeploy so the template takes effect")
    quiet = story.check("Verify I am denied with the new body, no leaks", url, "denied", timeout, api_id, stage)
    require(quiet)
    if not ops_walkthrough.template_hid_details(leaky, quiet):
        story.last_step_failed()
        raise ExpectationNotMetError("the 403 body still leaks details after the custom template")

    def unblock() -> PolicyRemoved:
        result = policy_changes.remove_policy(app, api_id, stage)
        app.output.info("   removed the resource policy")
        return PolicyRemoved(api_id=api_id, journal_id=_journal_id(result.journal_id))

    story.step("Remove the resource policy", unblock)
    deploy_step("Redeploy so the removal takes effect")
    require(story.check("Verify everyone may call it again", url, "allowed", timeout, api_id, stage))

    if cleanup:
        _delete_api_step(app, story, api_id, "walkthrough --cleanup")


def _run_waf(app: App, story: Story, name: str, stage: str, reused: str | None, cleanup: bool, timeout: float) -> None:
    """The exercise with a WAF list: attach, block my IP, denied (waf-block), unblock, allowed."""
    from petgate.waf import stage_arn
    from petgate.waf_list import WafList

    api_id = story.step(f"Import the Example API ({name})",
                        lambda: extend(ops_walkthrough.exercise_api(app, name, reused), ExerciseApi, stage=stage)).api_id
    url = app.target.invoke_url(api_id, stage) + "/"
    waf_list = WafList(app, f"walkthrough-{api_id}")  # a list of its own: cleanup deletes it whole

    def require(result: Probed) -> None:
        if not result.ok:
            raise ExpectationNotMetError(f"step {len(story.steps)}: expected {result.expected}, got {result.outcome} ({result.reason})")

    story.step(f"Deploy to stage {stage}", lambda: StageDeployed(
        api_id=api_id, stage=stage, deployment=deploys.deploy(app, api_id, stage, "petgate walkthrough --waf")))
    require(story.check("Verify everyone may call it", url, "allowed", timeout, api_id, stage))
    arn = stage_arn(app.target.resolved_region(), api_id, stage)
    story.step("Attach a WAF web ACL to the stage", lambda: WafChanged(api_id=api_id, waf=waf_list.attach(arn)))
    cidr = myip.my_cidr(app)
    story.step("Block my IP in the WAF list (no redeploy)",
               lambda: WafChanged(api_id=api_id, cidrs=[cidr], waf=waf_list.change([cidr], [])))
    require(story.check("Verify WAF refuses me", url, "denied", timeout, api_id, stage))
    story.step("Unblock my IP", lambda: WafChanged(api_id=api_id, cidrs=[cidr], waf=waf_list.change([], [cidr])))
    require(story.check("Verify everyone may call it again", url, "allowed", timeout, api_id, stage))
    if cleanup:
        story.step("Clean up: delete the WAF list and the API",
                   lambda: ops_walkthrough.delete_api(app, api_id, "walkthrough --waf --cleanup", waf_list))


def _import_step(app: App, story: Story, name: str, stage: str, reused: str | None) -> str:
    def do_import() -> ExerciseApi:
        api = ops_walkthrough.exercise_api(app, name, reused)
        app.output.info(f"   {'reusing' if reused is not None else 'imported'} API {api.api_id}")
        return extend(api, ExerciseApi, stage=stage)

    return story.step(f"Import the Example API ({name})", do_import).api_id


def _deploy_step(app: App, story: Story, api_id: str, stage: str, title: str) -> None:
    def action() -> StageDeployed:
        deployed = deploys.deploy(app, api_id, stage, f"petgate walkthrough: {title}")
        app.output.info(f"   deployment {deployed.deployment_id} on {deployed.invoke_url}")
        return StageDeployed(api_id=api_id, stage=stage, deployment=deployed)

    story.step(title, action)


def _run_accounts(app: App, story: Story, name: str, stage: str, reused: str | None, cleanup: bool,
                  timeout: float) -> None:
    """Signed callers of three accounts (developer guide, "How API Gateway resource policies affect
    authorization workflow": Table A, caller and API in one account, either side may allow;
    Table B, another account, both must), each check verify's probe signed as that caller."""
    b, c = ops_walkthrough.ACCOUNT_B, ops_walkthrough.ACCOUNT_C
    api_id = _import_step(app, story, name, stage, reused)
    url = app.target.invoke_url(api_id, stage) + "/"
    region = app.target.resolved_region()
    _deploy_step(app, story, api_id, stage, f"Deploy to stage {stage}")

    def require_iam() -> IamRequired:
        want = authorization_types.wanted((), (), False, stage, no_deploy=True)
        result = authorization_types.require_iam(app, api_id, want)
        methods = [f"{m.method} {m.path}" for m in result.methods if m.authorization_type == authorization_types.IAM]
        app.output.info(f"   AWS_IAM on {', '.join(methods)} (unsigned callers now get 403 Missing Authentication Token)")
        return IamRequired(api_id=api_id, methods=methods, journal_id=_journal_id(result.journal_id))

    story.step("Require IAM authorization (AWS_IAM) on its methods", require_iam)
    _deploy_step(app, story, api_id, stage, "Redeploy so IAM authorization takes effect")

    identities = ops_walkthrough.Identities(app, f"petgate-walkthrough-{api_id}")
    keys: dict[str, ops_walkthrough.Keys] = {}

    def make_users() -> IdentitiesMade:
        made = []
        for label, policy in (("invoker", ops_walkthrough.INVOKE_ANYTHING), ("no-policy", None)):
            identity, keys[label] = identities.user(label, policy)
            app.output.info(f"   {identity.arn} ({'may invoke' if identity.may_invoke else 'no identity policy'})")
            made.append(identity)
        return IdentitiesMade(identities=made)

    home = identities.home_account()
    story.step(f"Create two IAM users in the API's account {home}: one may invoke, one has no policy", make_users)

    def check(title: str, label: str, expect: str, reason: str, rule: str) -> None:
        who = keys[label]
        story.check_reason(
            title, lambda probed: CallerChecked(verify=probed, caller=who.arn, account=who.account,
                                                expected_reason=reason, rule=rule),
            reason, app, url, expect, timeout, api_id, stage, who.signer(region))

    check("Verify the invoking user gets in (Table A: its identity policy allows; no resource policy)",
          "invoker", "allowed", "allowed", "Table A: the identity policy allows, the resource policy is silent")
    check("Verify the user with no policy is refused (Table A: nothing allows it)",
          "no-policy", "denied", "iam-implicit-deny", "Table A: neither the identity nor the resource policy allows")

    def make_roles() -> IdentitiesMade:
        made = []
        for label, account in (("account-b", b), ("account-c", c)):
            identity, keys[label] = identities.role_in(account, label, home)
            app.output.info(f"   {identity.arn} may invoke; its session {identity.caller}")
            made.append(identity)
        return IdentitiesMade(identities=made)

    story.step(f"Create roles that may invoke in accounts {b} and {c}, and assume them", make_roles)
    check(f"Verify account {b}'s caller is refused (Table B: both must allow; no resource policy)",
          "account-b", "denied", "policy-implicit-deny", "Table B: the identity policy allows, the resource policy does not")

    def allow_b() -> AccountsAllowed:
        change = allow_lists.accounts(app, stage, [b], no_deploy=True)
        result = allow_lists.change_list(app, api_id, change)
        app.output.info(f"   the resource policy allows account {b} ({', '.join(result.list)})")
        return AccountsAllowed(api_id=api_id, accounts=[b], list=list(result.list),
                               journal_id=_journal_id(result.journal_id))

    story.step(f"Allow account {b} in the resource policy (allow-accounts {b})", allow_b)
    _deploy_step(app, story, api_id, stage, "Redeploy so the policy takes effect")
    check(f"Verify account {b}'s caller gets in (Table B: both allow)",
          "account-b", "allowed", "allowed", "Table B: the identity policy and the resource policy allow")
    check(f"Verify account {c}'s caller is still refused (Table B: the resource policy names only {b})",
          "account-c", "denied", "policy-implicit-deny", "Table B: the identity policy allows, the resource policy does not")
    check("Verify the invoking user still gets in (Table A: its identity policy is enough)",
          "invoker", "allowed", "allowed", "Table A: the identity policy allows, the resource policy is silent")

    if cleanup:
        def delete() -> DeletedWithIdentities:
            deleted = ops_walkthrough.delete_api(app, api_id, "walkthrough --accounts --cleanup")
            arns = identities.delete_all()
            app.output.info(f"   deleted API {api_id} and {len(arns)} IAM identities")
            return extend(deleted, DeletedWithIdentities, identities_deleted=arns)

        story.step("Clean up: delete the API and the IAM users and roles", delete)


def _plain_address(mapped: set[str]) -> str:
    """A loopback address no VPC endpoint mapping names (127.0.0.1 unless it is mapped)."""
    return next(f"127.0.0.{n}" for n in range(1, 255) if f"127.0.0.{n}" not in mapped)


def _run_private(app: App, story: Story, name: str, stage: str, endpoints: list[tuple[str, str, str]], cleanup: bool,
                 timeout: float) -> None:
    """A PRIVATE API (the console's VPC whitelist policy for endpoint A): through A allowed,
    through B denied by that policy, from a plain address refused as AWS does (Forbidden)."""
    from_a, vpce_a, _ = endpoints[0]
    from_b, vpce_b, _ = next(e for e in endpoints if e[1] != vpce_a)
    plain = _plain_address({address for address, _, _ in endpoints})

    def do_import() -> ExerciseApi:
        api = deploys.import_example(app, name, True, "PRIVATE", [vpce_a])
        app.output.info(f"   imported API {api.api_id}, PRIVATE, its policy letting in {vpce_a} only")
        return extend(api, ExerciseApi, stage=stage)

    api_id = story.step(f"Import the Example API ({name}) as PRIVATE for VPC endpoint {vpce_a}", do_import).api_id
    url = app.target.invoke_url(api_id, stage) + "/"
    _deploy_step(app, story, api_id, stage, f"Deploy to stage {stage}")

    def check(title: str, address: str, vpce: str | None, expect: str, reason: str, rule: str) -> None:
        story.check_reason(
            title, lambda probed: AddressChecked(verify=probed, source_address=address, vpc_endpoint=vpce,
                                                 expected_reason=reason, rule=rule),
            reason, _from_address(app, address), url, expect, timeout, api_id, stage)

    check(f"Verify a caller through {vpce_a} ({from_a}) gets in", from_a, vpce_a, "allowed", "allowed",
          f"the policy allows calls through {vpce_a}")
    check(f"Verify a caller through {vpce_b} ({from_b}) is denied by the policy", from_b, vpce_b, "denied",
          "policy-explicit-deny", f"the policy denies every call not through {vpce_a}")
    check(f"Verify a caller from a plain address ({plain}) is refused", plain, None, "any",
          "private-endpoint-required", "a PRIVATE API answers only through a VPC endpoint (403 Forbidden)")

    if cleanup:
        _delete_api_step(app, story, api_id, "walkthrough --private --cleanup")


def _delete_api_step(app: App, story: Story, api_id: str, command: str) -> None:
    """The last step of a walkthrough run with --cleanup: delete its API (journaled as `command`)."""
    def delete() -> ops_walkthrough.Deleted:
        result = ops_walkthrough.delete_api(app, api_id, command)
        app.output.info(f"   deleted API {api_id}")
        return result

    story.step("Clean up: delete the API", delete)


def _render_summary(out: Output, data: ops_walkthrough.Walkthrough) -> None:
    passed = sum(1 for s in data.steps if s.ok)
    if data.ok:
        out.success(f"All {passed} steps passed.")
    else:
        out.error(f"{passed} of {len(data.steps)} steps passed.")
