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
from petgate.errors import ExpectationNotMetError, PetgateError
from petgate.ops import access_denied, deploys, myip, policy_changes
from petgate.ops import walkthrough as ops_walkthrough
from petgate.ops.access_denied import DEFAULT_403_TEMPLATE
from petgate.ops.deploys import StageDeployed
from petgate.ops.results import Result, Unset, extend
from petgate.ops.verify import Probed, run_probe
from petgate.ops.walkthrough import (
    Checked,
    ExerciseApi,
    Failed,
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
@click.option("--cleanup", is_flag=True, help="Delete the API at the end.")
@click.option("--timeout", type=float, default=60.0, show_default=True, help="Seconds each check may wait for a change to show.")
@click.option("--waf", "use_waf", is_flag=True, help="Block with an AWS WAF list instead of a resource policy.")
@pass_app
def walkthrough(app: App, name: str, stage: str, new: bool, cleanup: bool, timeout: float, use_waf: bool) -> None:
    """Run the whole exercise, checking each step: import, deploy, allowed; block my IP,
    denied with AWS's leaky body; custom 403 template, denied without leaks; unblock, allowed.

    With --waf the block is an AWS WAF list attached to the stage (no redeploy; WAF answers
    its own plain 403, so there is no template step). With --local and no gateway answering
    at the local URL, one is started for the run.

    \b
    Examples:
      petgate --local walkthrough --cleanup
      petgate --local walkthrough --waf --cleanup
      petgate -o json --local walkthrough > report.json
    """
    with ExitStack() as stack:
        if app.target.local:
            app = _with_local_gateway(app, stack)
        reused = None if new else ops_walkthrough.reusable_api(app, name)  # refuses first, before any step
        story = Story(app)
        failed: str | None = None
        try:
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


def _with_local_gateway(app: App, stack: ExitStack) -> App:
    """The App to run with: this one if a gateway answers at the local URL; else one for a
    gateway started for this run (stopped when the stack closes)."""
    if app.local_gateway_answers():
        return app
    from petgate.local.server import start_in_thread

    running = start_in_thread()
    stack.callback(running.stop)
    app.output.info(f"Started a local gateway for this run at {running.url}")
    return app.for_local_url(running.url)


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
        def delete() -> ops_walkthrough.Deleted:
            result = ops_walkthrough.delete_api(app, api_id, "walkthrough --cleanup")
            app.output.info(f"   deleted API {api_id}")
            return result

        story.step("Clean up: delete the API", delete)


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


def _render_summary(out: Output, data: ops_walkthrough.Walkthrough) -> None:
    passed = sum(1 for s in data.steps if s.ok)
    if data.ok:
        out.success(f"All {passed} steps passed.")
    else:
        out.error(f"{passed} of {len(data.steps)} steps passed.")
