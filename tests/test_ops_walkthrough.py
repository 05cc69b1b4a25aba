"""ops/walkthrough.py offline (which API the exercise may start from, its cleanup, journaled),
and App.for_local_url: the walkthrough's own gateway gets an App of its own, nothing mutated."""

from __future__ import annotations

import types
from pathlib import Path
from typing import Any

import pytest

from petgate.app import App
from petgate.errors import UsageError
from petgate.gateway import ApiRef
from petgate.journal import Journal
from petgate.ops import walkthrough
from petgate.ops.deploys import Imported
from petgate.ops.verify import Probed
from petgate.output import Output
from petgate.probe import ProbeResult
from petgate.target import Target
from petgate.waf_list import ListDeleted

DEFAULT_403 = {"defaultResponse": True, "statusCode": "403"}


class FakeGateway:
    def __init__(self, apis: list[ApiRef], policy: dict[str, Any] | None = None, denied: dict[str, Any] | None = None) -> None:
        self.apis, self.policy, self.denied, self.calls = apis, policy, denied, []

    def find_apis_named(self, name: str) -> list[ApiRef]:
        self.calls.append(("GetRestApis", name))
        return [a for a in self.apis if a.name == name]

    def get_policy(self, api_id: str) -> dict[str, Any] | None:
        self.calls.append(("GetRestApi", api_id))
        return self.policy

    def get_gateway_response(self, api_id: str, response_type: str) -> dict[str, Any] | None:
        self.calls.append(("GetGatewayResponse", api_id))
        return self.denied

    def delete_api(self, api_id: str) -> None:
        self.calls.append(("DeleteRestApi", api_id))


def services(gateway: FakeGateway, tmp_path: Path) -> Any:
    target = Target(local=True, local_url="http://127.0.0.1:4599")
    return types.SimpleNamespace(gateway=gateway, target=target, journal=Journal(tmp_path / "state"))


def test_a_fresh_name_is_imported_and_one_untouched_api_is_reused(tmp_path: Path) -> None:
    assert walkthrough.reusable_api(services(FakeGateway([]), tmp_path), "PetStore") is None
    gateway = FakeGateway([ApiRef("a1b2c3d4e5", "PetStore")], denied=DEFAULT_403)
    assert walkthrough.reusable_api(services(gateway, tmp_path), "PetStore") == "a1b2c3d4e5"
    assert gateway.calls == [("GetRestApis", "PetStore"), ("GetRestApi", "a1b2c3d4e5"), ("GetGatewayResponse", "a1b2c3d4e5")]
    reused = walkthrough.exercise_api(services(gateway, tmp_path), "PetStore", "a1b2c3d4e5")
    assert reused == Imported(api_id="a1b2c3d4e5", api_name="PetStore", created=False)
    assert reused.to_json() == {"api_id": "a1b2c3d4e5", "api_name": "PetStore", "created": False}


@pytest.mark.parametrize(("gateway", "message"), [
    (FakeGateway([ApiRef("a1b2c3d4e5", "P"), ApiRef("f6g7h8i9j0", "P")]), r"2 REST APIs are named 'P' \(a1b2c3d4e5, f6g7h8i9j0\)"),
    (FakeGateway([ApiRef("a1b2c3d4e5", "P")], policy={"Statement": []}), "already has a resource policy"),
    (FakeGateway([ApiRef("a1b2c3d4e5", "P")], denied={"defaultResponse": False}), "already has a custom ACCESS_DENIED"),
])
def test_someone_elses_api_is_not_reset(gateway: FakeGateway, message: str, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=message) as raised:
        walkthrough.reusable_api(services(gateway, tmp_path), "P")
    assert raised.value.hint is not None and "--new" in raised.value.hint
    assert not [c for c in gateway.calls if c[0] == "DeleteRestApi"]


def test_cleanup_deletes_the_api_and_journals_it(tmp_path: Path) -> None:
    app = services(FakeGateway([]), tmp_path)
    result = walkthrough.delete_api(app, "a1b2c3d4e5", "walkthrough --cleanup")
    assert app.gateway.calls == [("DeleteRestApi", "a1b2c3d4e5")]
    assert list(result.to_json()) == ["api_id", "deleted", "journal_id"] and result.deleted is True
    [entry] = app.journal.entries()
    assert (entry["id"], entry["kind"], entry["command"], entry["api_id"]) == (
        result.journal_id, "delete", "walkthrough --cleanup", "a1b2c3d4e5")
    assert entry["target"] == {"kind": "local", "endpoint": "http://127.0.0.1:4599", "region": "us-east-1"}


def test_cleanup_with_waf_deletes_the_list_first(tmp_path: Path) -> None:
    app = services(FakeGateway([]), tmp_path)
    order: list[str] = []
    gone = ListDeleted(list="walkthrough-a1b2c3d4e5", deleted=True, detached=[], ip_sets=["set4", "set6"])
    waf_list: Any = types.SimpleNamespace(delete=lambda: order.append("waf delete") or gone)
    app.gateway.delete_api = lambda api_id: order.append(f"delete {api_id}")
    result = walkthrough.delete_api(app, "a1b2c3d4e5", "walkthrough --waf --cleanup", waf_list)
    assert order == ["waf delete", "delete a1b2c3d4e5"]
    assert list(result.to_json()) == ["api_id", "deleted", "waf", "journal_id"] and result.waf == gone
    assert result.to_json()["waf"] == {"list": "walkthrough-a1b2c3d4e5", "deleted": True, "detached": [],
                                       "ip_sets": ["set4", "set6"]}
    assert app.journal.entries()[0]["command"] == "walkthrough --waf --cleanup"


@pytest.mark.parametrize(("leaky_body", "quiet_body", "leaks", "hid"), [
    ('{"Message":"User: anonymous ..."}', '{"message":"Forbidden"}', [], True),
    ('{"Message":"User: anonymous ..."}', '{"Message":"User: anonymous ..."}', [], False),
    ('{"Message":"User: anonymous ..."}', '{"message":"Forbidden"}', [{"kind": "account_id", "value": "1111"}], False),
])
def test_the_template_hid_the_details(leaky_body: str, quiet_body: str, leaks: list[dict[str, str]], hid: bool) -> None:
    leaky = Probed.of(ProbeResult(url="u", expected="denied", body=leaky_body))
    quiet = Probed.of(ProbeResult(url="u", expected="denied", body=quiet_body, leaks=leaks))
    assert walkthrough.template_hid_details(leaky, quiet) is hid


def test_for_local_url_builds_a_new_app_and_leaves_this_one_alone() -> None:
    output = Output()
    clock, sleep = (lambda: 1.0), (lambda _s: None)
    app = App(Target(local=True, local_url="http://127.0.0.1:4599", region="us-east-1"), output, clock, sleep)
    app.checkip_address = "127.0.0.1"
    other = app.for_local_url("http://127.0.0.1:4681")
    assert other is not app and other.target is not app.target
    assert app.target.local_url == "http://127.0.0.1:4599" and other.target.local_url == "http://127.0.0.1:4681"
    assert (other.output, other.clock, other.sleep) == (output, clock, sleep)
    assert other.target.region == "us-east-1" and other.target.local is True
    assert other.checkip_address is None, "the new gateway is asked again"
    assert other.target.invoke_url("a1b2c3d4e5", "test").startswith("http://127.0.0.1:4681/")


def test_local_gateway_answers() -> None:
    from tests.conftest import LoopbackServer, free_port

    server = LoopbackServer(lambda *_: (200, {}, b"{}"))
    try:
        assert App(Target(local=True, local_url=server.url + "/"), Output()).local_gateway_answers() is True
    finally:
        server.close()
    assert App(Target(local=True, local_url=f"http://127.0.0.1:{free_port()}"), Output()).local_gateway_answers() is False


def _steps() -> list[walkthrough.Step]:
    from petgate.ops.deploys import StageDeployed
    from petgate.ops.results import Deployment

    imported = walkthrough.ExerciseApi(api_id="a1b2c3d4e5", api_name="PetStore", created=True, stage="test")
    deployed = StageDeployed(api_id="a1b2c3d4e5", stage="test", deployment=Deployment(
        deployed=True, deployment_id="dep1", invoke_url="http://x/test", quota_waits=0, quota_wait_s=0.0))
    probed = Probed.of(ProbeResult(url="http://x/test/", expected="allowed", status=200, outcome="allowed", ok=True,
                                   attempts=1, reason="allowed"))
    return [
        walkthrough.Step(step=1, title="import", ok=True, done=imported, elapsed_s=0.1),
        walkthrough.Step(step=2, title="deploy", ok=True, done=deployed, elapsed_s=0.2),
        walkthrough.Step(step=3, title="verify", ok=True, done=walkthrough.Checked(verify=probed), elapsed_s=0.3),
        walkthrough.Step(step=4, title="error", ok=False, done=walkthrough.Failed(error="boom")),
    ]


def test_the_report_names_the_api_and_the_last_deployment() -> None:
    steps = _steps()
    data = walkthrough.report(steps, ok=False).to_json()
    assert {k: v for k, v in data.items() if k != "steps"} == {
        "ok": False, "api_id": "a1b2c3d4e5", "stage": "test", "invoke_url": "http://x/test", "deployment_id": "dep1"}
    first, deploy, check, error = data["steps"]
    assert first == {"step": 1, "title": "import", "ok": True, "api_id": "a1b2c3d4e5", "api_name": "PetStore",
                     "created": True, "stage": "test", "elapsed_s": 0.1}
    assert deploy == {"step": 2, "title": "deploy", "ok": True, "api_id": "a1b2c3d4e5", "stage": "test", "deployed": True,
                      "invoke_url": "http://x/test", "deployment_id": "dep1", "quota_waits": 0, "quota_wait_s": 0.0,
                      "elapsed_s": 0.2}
    assert list(check) == ["step", "title", "ok", "verify", "elapsed_s"] and check["verify"]["status"] == 200
    assert error == {"step": 4, "title": "error", "ok": False, "error": "boom"}, "the error step has no elapsed_s"


def test_the_report_before_any_deployment_or_any_api() -> None:
    steps = _steps()
    only_imported = walkthrough.report(steps[:1], ok=True)
    assert (only_imported.api_id, only_imported.stage, only_imported.invoke_url, only_imported.deployment_id) == (
        "a1b2c3d4e5", "test", None, None)
    nothing = walkthrough.report(steps[3:], ok=False).to_json()
    assert nothing == {"ok": False, "steps": [steps[3].to_json()], "api_id": None, "stage": None, "invoke_url": None,
                       "deployment_id": None}


# --- walkthrough --accounts / --private: the keys a check signs with, the identities, the records --

def test_keys_sign_with_verifys_own_signer() -> None:
    from petgate.ops.verify import Signer

    keys = walkthrough.Keys("arn:aws:sts::222222222222:assumed-role/r/s", "222222222222", "ASIAEXAMPLE", "secret", "tok")
    signer = keys.signer("us-east-1")
    assert isinstance(signer, Signer) and signer.signed_as == keys.arn and signer.region == "us-east-1"
    headers = signer.headers("GET", "http://127.0.0.1:4599/restapis/a1b2c3d4e5/test/_user_request_/")
    assert headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE/")
    assert "/us-east-1/execute-api/aws4_request" in headers["Authorization"]
    assert headers["X-Amz-Security-Token"] == "tok"
    assert "secret" not in repr(walkthrough.Identity(arn=keys.arn, account="222222222222", kind="role",
                                                     may_invoke=True, caller=keys.arn).to_json())


class FakeIam:
    """moto's IAM as far as the walkthrough's identities use it, recording each call."""

    def __init__(self, calls: list[tuple[str, ...]], account: str) -> None:
        self.calls, self.account = calls, account

    def create_user(self, UserName: str) -> Any:  # noqa: N803 (boto3's names)
        self.calls.append(("CreateUser", self.account, UserName))
        return {"User": {"Arn": f"arn:aws:iam::{self.account}:user/{UserName}"}}

    def put_user_policy(self, UserName: str, PolicyName: str, PolicyDocument: str) -> None:  # noqa: N803
        self.calls.append(("PutUserPolicy", self.account, UserName))

    def create_access_key(self, UserName: str) -> Any:  # noqa: N803
        return {"AccessKey": {"AccessKeyId": "AKIA" + UserName, "SecretAccessKey": "s"}}

    def list_access_keys(self, UserName: str) -> Any:  # noqa: N803
        return {"AccessKeyMetadata": [{"AccessKeyId": "AKIA" + UserName}]}

    def delete_access_key(self, UserName: str, AccessKeyId: str) -> None:  # noqa: N803
        self.calls.append(("DeleteAccessKey", self.account, UserName))

    def list_user_policies(self, UserName: str) -> Any:  # noqa: N803
        return {"PolicyNames": ["invoke"] if UserName.endswith("invoker") else []}

    def delete_user_policy(self, UserName: str, PolicyName: str) -> None:  # noqa: N803
        self.calls.append(("DeleteUserPolicy", self.account, UserName))

    def delete_user(self, UserName: str) -> None:  # noqa: N803
        self.calls.append(("DeleteUser", self.account, UserName))


def test_users_are_made_in_the_apis_account_and_deleted_newest_first(tmp_path: Path) -> None:
    calls: list[tuple[str, ...]] = []
    iam = types.SimpleNamespace(client=FakeIam(calls, "123456789012"), sts=None, account=lambda: "123456789012")
    app: Any = types.SimpleNamespace(iam=iam, target=Target(local=True, local_url="http://127.0.0.1:4599"))
    identities = walkthrough.Identities(app, "petgate-walkthrough-a1b2c3d4e5")
    invoker, keys = identities.user("invoker", walkthrough.INVOKE_ANYTHING)
    silent, _ = identities.user("no-policy", None)
    assert invoker.to_json() == {"arn": "arn:aws:iam::123456789012:user/petgate-walkthrough-a1b2c3d4e5-invoker",
                                 "account": "123456789012", "kind": "user", "may_invoke": True, "caller": invoker.arn}
    assert silent.may_invoke is False and keys.access_key == "AKIApetgate-walkthrough-a1b2c3d4e5-invoker"
    assert [c[0] for c in calls] == ["CreateUser", "PutUserPolicy", "CreateUser"], "no policy for the one without"
    calls.clear()
    assert identities.delete_all() == [silent.arn, invoker.arn]
    assert [c[0] for c in calls] == ["DeleteAccessKey", "DeleteUser", "DeleteAccessKey", "DeleteUserPolicy", "DeleteUser"]
    assert identities.delete_all() == [], "each identity is deleted once"


def test_the_new_records_keys() -> None:
    probed = Probed.of(ProbeResult(url="u", expected="denied", status=403, outcome="denied", ok=True, attempts=1,
                                   reason="iam-implicit-deny"))
    by_caller = walkthrough.CallerChecked(verify=probed, caller="arn:aws:iam::1:user/u", account="1",
                                          expected_reason="iam-implicit-deny", rule="Table A: ...")
    assert list(by_caller.to_json()) == ["verify", "caller", "account", "expected_reason", "rule"]
    by_address = walkthrough.AddressChecked(verify=probed, source_address="127.0.0.9", vpc_endpoint="vpce-0abc1234",
                                            expected_reason="allowed", rule="...")
    assert list(by_address.to_json()) == ["verify", "source_address", "vpc_endpoint", "expected_reason", "rule"]
    deleted = walkthrough.DeletedWithIdentities(api_id="a", deleted=True, journal_id=None, identities_deleted=["x"])
    assert list(deleted.to_json()) == ["api_id", "deleted", "journal_id", "identities_deleted"]
    assert list(walkthrough.IamRequired(api_id="a", methods=["GET /"], journal_id="j").to_json()) == [
        "api_id", "methods", "journal_id"]
    assert list(walkthrough.AccountsAllowed(api_id="a", accounts=["2"], list=["arn:aws:iam::2:root"],
                                            journal_id="j").to_json()) == ["api_id", "accounts", "list", "journal_id"]
