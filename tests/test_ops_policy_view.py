"""ops/policy_view.py offline: the one request the evaluator is asked about a call (for `policy
check` and for verify's control-plane facts alike), `show` and `check` on a fake gateway, and
`--expect`'s error."""

from __future__ import annotations

import json
import time
import types
from pathlib import Path
from typing import Any

import pytest

from petgate import policy as policies
from petgate.errors import AwsError, ExpectationNotMetError, UsageError
from petgate.gateway import ApiRef
from petgate.ops import policy_view
from petgate.ops.verify import control_plane_facts
from petgate.target import Target

API_ID = "a1b2c3d4e5"
ACCOUNT = "111122223333"
ARN = f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{API_ID}"
PRINCIPAL_KEYS = ["principal", "auth", "table", "decided_by", "identity_decision", "identity_source", "identity_policies",
                  "statement_source", "statement_policy"]


def deny(cidr: str, **extra: Any) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": f"{ARN}/*"},
        {"Sid": "NoThem", "Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke", "Resource": f"{ARN}/*",
         "Condition": {"IpAddress": {"aws:SourceIp": [cidr]}, **extra}},
    ]}


class FakeGateway:
    def __init__(self, stored: dict[str, Any] | None = None, deployed: Any = None) -> None:
        self.stored, self.deployed, self.calls = stored, deployed, []

    def get_api_or_none(self, api_id: str) -> dict[str, Any] | None:
        self.calls.append("GetRestApi")
        return {"id": API_ID, "name": "PetStore"} if api_id == API_ID else None

    def find_apis_named(self, name: str) -> list[ApiRef]:
        self.calls.append("GetRestApis")
        return [ApiRef(API_ID, name)]

    def get_policy(self, api_id: str) -> dict[str, Any] | None:
        self.calls.append("GetRestApi")
        return self.stored

    def get_stage(self, api_id: str, stage: str) -> dict[str, Any] | None:
        return {"stageName": stage}

    def get_stage_export(self, api_id: str, stage: str) -> dict[str, Any]:
        self.calls.append("GetExport")
        if isinstance(self.deployed, Exception):
            raise self.deployed
        return {"x-amazon-apigateway-policy": json.dumps(self.deployed)} if self.deployed else {}


class FakeWaf:
    def __init__(self, blocked: list[str]) -> None:
        self.blocked, self.asked = blocked, []

    def web_acl_for(self, arn: str) -> dict[str, Any] | None:
        self.asked.append(arn)
        return {"Rules": [{"Name": "petgate-block", "Priority": 0, "Action": {"Block": {}},
                           "Statement": {"IPSetReferenceStatement": {"ARN": "arn:aws:wafv2:set/name/id"}}}]}

    def get_ip_set(self, summary: dict[str, Any]) -> tuple[dict[str, Any], str]:
        return {"Addresses": self.blocked}, "token"


def services(gateway: FakeGateway, waf: FakeWaf | None = None, region: str | None = "us-east-1") -> Any:
    return types.SimpleNamespace(clock=time.time, gateway=gateway, waf=waf, checkip_address="192.0.2.7",
                                 target=Target(region=region, endpoint_url="http://127.0.0.1:9"))


def test_evaluate_call_builds_the_request_api_gateway_sees() -> None:
    request, decision = policy_view.evaluate_call(
        deny("192.0.2.0/24"), region="us-east-1", account=ACCOUNT, api_id=API_ID, stage="test", method="GET",
        path="/pets/1", source_ip="192.0.2.7", keys={"aws:UserAgent": "curl"})
    assert request == policies.Request(source_ip="192.0.2.7", resource_arn=f"{ARN}/test/GET/pets/1",
                                       keys={"aws:UserAgent": "curl", "aws:SecureTransport": "true"})
    assert not decision.allowed and decision.reason == "explicit-deny" and decision.statement_index == 1
    _, elsewhere = policy_view.evaluate_call(
        deny("192.0.2.0/24"), region="eu-west-1", account=ACCOUNT, api_id=API_ID, stage="test", method="GET",
        path="/", source_ip="192.0.2.7")
    assert elsewhere.reason == "implicit-deny", "a statement naming another region does not apply"


def test_check_and_verify_ask_the_evaluator_the_same_question(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[policies.Request] = []
    real = policy_view.call_request

    def spy(**call: Any) -> Any:
        request = real(**call)
        asked.append(request)
        return request

    monkeypatch.setattr(policy_view, "call_request", spy)
    gateway = FakeGateway(stored=deny("192.0.2.0/24"), deployed=deny("192.0.2.0/24"))
    checked = policy_view.check(services(gateway), API_ID, "test", "192.0.2.7", deployed=True)
    refusal = control_plane_facts(services(gateway), API_ID, "test", "GET", "/").policy_refusal
    assert refusal is not None and refusal() == "explicit"
    assert checked.reason == "policy-explicit-deny"
    assert len(asked) == 2 and asked[0] == asked[1] == policies.Request(
        source_ip="192.0.2.7", resource_arn=f"{ARN}/test/GET/", keys={"aws:SecureTransport": "true"})


def test_check_reads_the_stored_policy_and_names_the_deciding_statement() -> None:
    gateway = FakeGateway(stored=deny("192.0.2.0/24", StringEquals={"aws:UserAgent": "curl"}))
    data = policy_view.check(services(gateway), API_ID, "test", "192.0.2.7", method="post", path="/pets",
                             keys={"aws:UserAgent": "curl", "aws:Referer": None})
    assert gateway.calls == ["GetRestApi", "GetRestApi"]
    assert list(data.to_json()) == ["api_id", "stage", "source", "ip", "method", "path", "resource_arn", "allowed",
                                    "reason", "decision", "statement_index", "statement", "statement_sid", "layer",
                                    *PRINCIPAL_KEYS]
    # no --principal: an anonymous caller, the resource policy alone (as before issue 18)
    assert {key: data.to_json()[key] for key in PRINCIPAL_KEYS} == {
        "principal": None, "auth": "none", "table": None, "decided_by": "resource-policy", "identity_decision": None,
        "identity_source": None, "identity_policies": None, "statement_source": "resource-policy", "statement_policy": None}
    assert data.source == "stored" and data.method == "POST" and data.resource_arn == f"{ARN}/test/POST/pets"
    assert (data.allowed, data.decision, data.statement_sid, data.layer) == (False, "explicit-deny", "NoThem", "policy")
    other_agent = policy_view.check(services(gateway), API_ID, "test", "192.0.2.7", keys={"aws:UserAgent": "wget"})
    assert other_agent.allowed is True and other_agent.reason == "allowed"


def test_check_a_file_with_placeholders_and_no_region(tmp_path: Path) -> None:
    document = tmp_path / "policy.json"
    document.write_text(json.dumps(deny("10.0.0.0/8")))
    gateway = FakeGateway()
    placeholder = policy_view.check(services(gateway, region=None), None, "test", "10.1.2.3", file=str(document))
    assert gateway.calls == [] and placeholder.source == "file" and placeholder.api_id is None
    assert placeholder.resource_arn == f"arn:aws:execute-api:us-east-1:{policies.PLACEHOLDER_ACCOUNT}:a1b2c3d4e5/test/GET/"
    assert placeholder.reason == "policy-implicit-deny", "the policy names another account"
    named = policy_view.check(services(gateway), None, "test", "10.1.2.3", file=str(document),
                              file_api_id=API_ID, account=ACCOUNT)
    assert named.reason == "policy-explicit-deny"


def test_check_refuses_what_cannot_be_a_request_before_reading(tmp_path: Path) -> None:
    gateway = FakeGateway()
    with pytest.raises(UsageError):
        policy_view.check(services(gateway), API_ID, "test", "not-an-address")
    assert gateway.calls == []
    with pytest.raises(UsageError, match="cannot read policy file"):
        policy_view.check(services(gateway), None, "test", "10.1.2.3", file=str(tmp_path / "none.json"))


def test_with_waf_a_block_rule_decides_first() -> None:
    waf = FakeWaf(["192.0.2.0/24"])
    data = policy_view.check(services(FakeGateway(), waf), API_ID, "test", "::ffff:192.0.2.7", with_waf=True)
    assert waf.asked == [f"arn:aws:apigateway:us-east-1::/restapis/{API_ID}/stages/test"]
    assert (data.layer, data.allowed, data.reason, data.waf_rule) == ("waf", False, "waf-block", "petgate-block")
    assert list(data.to_json())[-1] == "waf_rule"
    passed = policy_view.check(services(FakeGateway(), FakeWaf(["198.51.100.0/24"])), API_ID, "test", "192.0.2.7", with_waf=True)
    assert (passed.layer, passed.allowed, passed.waf_rule) == ("policy", True, None)
    assert passed.to_json()["waf_rule"] is None, "asked, and no rule holds the address: null, not left out"


def test_show_the_deployed_policy_or_say_the_stage_cannot_be_read() -> None:
    gateway = FakeGateway(stored=None, deployed=deny("192.0.2.0/24"))
    data = policy_view.show(services(gateway), API_ID, "test", deployed=True)
    assert gateway.calls == ["GetRestApi", "GetExport"]
    assert list(data.to_json()) == ["api_id", "stage", "source", "policy", "policy_in_words", "expiring"]
    assert data.source == "deployed" and data.policy == deny("192.0.2.0/24")
    assert policy_view.show(services(gateway), API_ID, "test").policy is None
    missing = FakeGateway(deployed=AwsError("Invalid stage identifier specified", code="NotFoundException"))
    with pytest.raises(UsageError, match="stage 'test' of API a1b2c3d4e5 cannot be read"):
        policy_view.show(services(missing), API_ID, "test", deployed=True)


@pytest.mark.parametrize(("allowed", "expect", "fails"), [
    (True, None, False), (True, "allowed", False), (False, "denied", False), (True, "denied", True), (False, "allowed", True),
])
def test_unmet_expectation(allowed: bool, expect: str | None, fails: bool) -> None:
    data = policy_view.PolicyCheck(
        api_id=API_ID, stage="test", source="stored", ip="192.0.2.7", method="GET", path="/", resource_arn=f"{ARN}/test/GET/",
        allowed=allowed, reason="x", decision="x", statement_index=None, statement=None, statement_sid=None, layer="policy")
    failed = policy_view.unmet_expectation(data, expect)
    assert (failed is not None) is fails
    if failed is not None:
        assert isinstance(failed, ExpectationNotMetError) and failed.message.startswith(f"expected {expect}, the policy says")


class FakeIam:
    """IAM as policy_view asks it: whose the credentials are, and a user's or role's policies."""

    def __init__(self, account: str, held: dict[str, list[tuple[str, dict[str, Any]]]] | None = None) -> None:
        self._account, self.held, self.calls = account, held or {}, []

    def account(self) -> str:
        self.calls.append("GetCallerIdentity")
        return self._account

    def readable(self, account: str) -> bool:
        return account == self.account()

    def user_policies(self, name: str, account: str) -> list[tuple[str, dict[str, Any]]]:
        self.calls.append(f"user {name}")
        return self.held.get(name, [])

    def role_policies(self, name: str, account: str) -> list[tuple[str, dict[str, Any]]]:
        self.calls.append(f"role {name}")
        return self.held.get(name, [])


INVOKE = {"Version": "2012-10-17", "Statement": [{"Sid": "Mine", "Effect": "Allow", "Action": "execute-api:Invoke",
                                                  "Resource": "*"}]}


def test_a_principal_without_identity_options_is_read_from_iam() -> None:
    """An API whose policy names no account is the credentials' account's (STS); a role is read
    as its sessions carry it; a principal of another account is refused before IAM is read."""
    app = services(FakeGateway(stored=None))
    app.iam = FakeIam(ACCOUNT, {"alice": [("inline policy p0", INVOKE)], "ops": [("managed policy arn:x", INVOKE)]})
    data = policy_view.check(app, API_ID, "test", "192.0.2.7", principal=f"arn:aws:iam::{ACCOUNT}:user/alice")
    assert app.iam.calls == ["GetCallerIdentity", "GetCallerIdentity", "user alice"]
    assert (data.allowed, data.table, data.decided_by, data.identity_source) == (True, "A", "identity-policy", "iam")
    assert (data.statement_sid, data.statement_source, data.statement_policy) == ("Mine", "identity-policy", "inline policy p0")
    role = policy_view.check(app, API_ID, "test", "192.0.2.7", principal=f"arn:aws:iam::{ACCOUNT}:role/team/ops")
    assert role.allowed and role.identity_policies == ["managed policy arn:x"] and app.iam.calls[-1] == "role ops"
    with pytest.raises(UsageError, match="IAM shows each account only its own"):
        policy_view.check(app, API_ID, "test", "192.0.2.7", principal="arn:aws:iam::444455556666:user/bob")
    assert app.iam.calls[-1] == "GetCallerIdentity", "bob's account is not these credentials': nothing read"


def test_identity_options_ask_no_iam_and_bad_ones_ask_nothing(tmp_path: Path) -> None:
    gateway = FakeGateway(stored=deny("192.0.2.0/24"))
    app = services(gateway)
    app.iam = FakeIam(ACCOUNT)
    given = policy_view.check(app, API_ID, "test", "198.51.100.7", principal=f"arn:aws:iam::{ACCOUNT}:user/alice",
                              identity="deny")
    assert app.iam.calls == [] and given.reason == "iam-explicit-deny" and given.identity_policies == ["--identity deny"]
    gateway.calls.clear()
    not_a_policy = tmp_path / "x.json"
    not_a_policy.write_text(json.dumps({"Statement": {"Effect": "Allow", "Action": "*"}}))
    with pytest.raises(UsageError, match="is not an identity policy: statement 1: Resource is missing"):
        policy_view.check(app, API_ID, "test", "198.51.100.7", principal=f"arn:aws:iam::{ACCOUNT}:user/alice",
                          identity_files=[str(not_a_policy)])
    assert gateway.calls == [] and app.iam.calls == [], "refused before anything is read"
