# ruff: noqa: N803 - the stand-in takes boto3's argument names
"""ops/waf_migrate.py with stand-in collaborators and no server: WAF is test_waf_list's
in-memory stand-in under petgate's own Waf, the gateway a stand-in holding one policy, and
policy_changes.change_policy / deploys.after_change are stood in (the CLI over the local
gateway is tests/e2e/test_waf.py's)."""

from __future__ import annotations

import time
import types
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from petgate import policy as policies
from petgate.errors import UsageError
from petgate.journal import Journal
from petgate.ops import deploys, policy_changes, waf_lists, waf_migrate
from petgate.ops.results import Deployment, StageChange
from petgate.waf import Waf
from petgate.waf_list import WafList
from tests.test_waf_list import LIST, WHERE, FakeWaf

API_ID = "abcdefghij"
STAGE_ARN = f"arn:aws:apigateway:us-east-1::/restapis/{API_ID}/stages/test"
UNTIL = datetime(2030, 1, 1, tzinfo=UTC)


class StagesWaf(FakeWaf):
    def list_resources_for_web_acl(self, WebACLArn: str, ResourceType: str) -> dict[str, Any]:
        self.calls.append(("ListResourcesForWebACL", WebACLArn))
        acl_id = next(i for i, a in self.acls.items() if a["ARN"] == WebACLArn)
        return {"ResourceArns": [arn for arn, i in self.associations.items() if i == acl_id]}


class FakeGateway:
    def __init__(self, policy: policies.Policy | None) -> None:
        self.policy = policy

    def get_stage(self, api_id: str, stage: str) -> dict[str, Any] | None:
        return {"stageName": stage} if (api_id, stage) == (API_ID, "test") else None

    def get_policy(self, api_id: str) -> policies.Policy | None:
        return self.policy


@pytest.fixture()
def fake() -> StagesWaf:
    return StagesWaf()


@pytest.fixture()
def written(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    def change_policy(app: Any, ref: str, stage: str, command: str, edit: Any, intended: Any,
                      dry_run: bool = False) -> tuple[policy_changes.PolicyChange, list[str]]:
        before = app.gateway.policy
        after, touched = edit(before)
        seen.update(ref=ref, command=command, after=after, touched=touched, intended=intended)
        return policy_changes.PolicyChange(api_id=ref, api_name="", stage=stage, changed=True, dry_run=dry_run,
                                           previous_policy=before, policy=after, journal_id="j-1"), touched

    def after_change(app: Any, result: StageChange, no_deploy: bool, description: str) -> StageChange:
        seen.update(no_deploy=no_deploy, description=description)
        return result.but(deployment=Deployment(deployed=not no_deploy, invoke_url="https://stand.in/test"))

    monkeypatch.setattr(policy_changes, "change_policy", change_policy)
    monkeypatch.setattr(deploys, "after_change", after_change)
    return seen


def stand_in(fake: StagesWaf, tmp_path: Path, policy: policies.Policy | None) -> Any:
    return types.SimpleNamespace(
        waf=Waf(fake, sleep=lambda _s: None), journal=Journal(tmp_path / "state", warn=lambda _m: None),
        gateway=FakeGateway(policy), clock=time.time,
        target=types.SimpleNamespace(describe=lambda: dict(WHERE), resolved_region=lambda: "us-east-1"),
    )


def blocked() -> policies.Policy:
    policy, _ = policies.block(None, ["192.0.2.0/24", "2001:db8::/32"])
    policy, _ = policies.block(policy, ["198.51.100.7"], UNTIL, UNTIL - timedelta(days=1))
    return policy


def test_an_empty_deny_list_changes_nothing(fake: StagesWaf, tmp_path: Path, written: dict[str, Any]) -> None:
    data = waf_migrate.migrate(stand_in(fake, tmp_path, None), API_ID, "test", LIST)
    assert data.to_json() == {"api_id": API_ID, "stage": "test", "list": LIST, "migrated": [], "changed": False,
                    "stage_arn": STAGE_ARN}
    assert fake.calls == [] and written == {}


def test_the_list_moves_to_waf_then_leaves_the_policy(fake: StagesWaf, tmp_path: Path, written: dict[str, Any]) -> None:
    app = stand_in(fake, tmp_path, blocked())
    data = waf_migrate.migrate(app, API_ID, "test", LIST, no_deploy=True)
    assert data.migrated == ["192.0.2.0/24", "198.51.100.7/32", "2001:db8::/32"]
    assert data.changed is True and data.journal_id == "j-1" and data.to_json()["deployed"] is False
    assert data.stage_arn == STAGE_ARN and fake.associations[STAGE_ARN]
    assert not {"dry_run", "api_name"} & set(data.to_json()), "no --dry-run, and the API by id: neither key"
    assert fake.addresses(f"petgate-{LIST}-ipv4") == ["192.0.2.0/24"]
    assert fake.addresses(f"petgate-{LIST}-ipv6") == ["2001:db8::/32"]
    ending = [s for s in WafList(app, LIST).show().ip_sets if s.expires]
    assert [(s.addresses, s.expires) for s in ending] == [(["198.51.100.7/32"], "2030-01-01T00:00:00Z")]
    assert written["command"] == "waf migrate" and written["description"] == "petgate waf migrate"
    assert policies.blocked_cidrs(written["after"]) == [] and written["intended"](written["after"])
    assert {e["command"] for e in Journal(tmp_path / "state").entries()} == {"waf migrate"}


def test_a_stage_with_another_web_acl_is_refused_before_anything_is_written(
    fake: StagesWaf, tmp_path: Path, written: dict[str, Any]
) -> None:
    app = stand_in(fake, tmp_path, blocked())
    other = WafList(app, "other")
    other.attach(STAGE_ARN)
    before = list(fake.writes)
    with pytest.raises(UsageError, match="is guarded by WAF list other"):
        waf_migrate.migrate(app, API_ID, "test", LIST)
    assert fake.writes == before and written == {}


def test_the_policy_stays_when_waf_does_not_hold_every_address(
    fake: StagesWaf, tmp_path: Path, written: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = stand_in(fake, tmp_path, blocked())
    shown = WafList.show
    monkeypatch.setattr(WafList, "show", lambda self: shown(self).but(ip_sets=[]))
    with pytest.raises(UsageError, match=r"WAF does not hold the whole list for .* \(192\.0\.2\.0/24, .*the policy was left"):
        waf_migrate.migrate(app, API_ID, "test", LIST)
    assert written == {}


def test_a_stage_that_does_not_exist_is_refused(fake: StagesWaf, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="has no stage 'prod'") as refused:
        waf_lists.stage_of(stand_in(fake, tmp_path, None), API_ID, "prod")
    assert refused.value.hint == "run `petgate deploy` first"
