"""ops/status.py offline, on a fake gateway and WAF: what `petgate status` reports, and the calls
it makes, in order (nothing is written)."""

from __future__ import annotations

import json
import time
import types
from typing import Any

import pytest

from petgate.errors import AwsError
from petgate.gateway import ApiRef
from petgate.ops.policy_changes import Expiring
from petgate.ops.status import WebAcl, status
from petgate.target import Target

API_ID = "a1b2c3d4e5"
POLICY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": f"arn:aws:execute-api:us-east-1:111122223333:{API_ID}/*"},
]}
TEMPLATE = {"application/json": '{"message":"no"}'}


class FakeGateway:
    def __init__(self, policy: dict[str, Any] | None = None, denied: dict[str, Any] | None = None,
                 exports: dict[str, Any] | None = None, types_: list[str] | None = None,
                 resources: list[dict[str, Any]] | None = None) -> None:
        self.calls: list[str] = []
        self.policy, self.denied, self.exports = policy, denied, exports or {}
        self.types = ["REGIONAL"] if types_ is None else types_
        self.resources = resources or []

    def get_api_or_none(self, api_id: str) -> dict[str, Any] | None:
        self.calls.append("GetRestApi")
        return {"id": API_ID, "name": "PetStore"} if api_id == API_ID else None

    def find_apis_named(self, name: str) -> list[ApiRef]:
        self.calls.append("GetRestApis")
        return [ApiRef(API_ID, "PetStore")] if name == "PetStore" else []

    def get_api(self, api_id: str) -> dict[str, Any]:
        self.calls.append("GetRestApi")
        return {"id": api_id, "name": "PetStore", "endpointConfiguration": {"types": self.types},
                **({"policy": json.dumps(self.policy)} if self.policy else {})}

    def get_resources(self, api_id: str) -> list[dict[str, Any]]:
        self.calls.append("GetResources")
        return self.resources

    def get_policy(self, api_id: str, api: dict[str, Any]) -> dict[str, Any] | None:
        from petgate.gateway import decode_policy

        return decode_policy(api_id, api)

    def get_gateway_response(self, api_id: str, response_type: str) -> dict[str, Any] | None:
        self.calls.append("GetGatewayResponse")
        return self.denied

    def get_deployments(self, api_id: str) -> list[dict[str, Any]]:
        self.calls.append("GetDeployments")
        return [{"id": "dep1", "createdDate": "2026-01-01T00:00:00Z"}]

    def get_stages(self, api_id: str) -> list[dict[str, Any]]:
        self.calls.append("GetStages")
        return [{"stageName": name, "deploymentId": "dep1"} for name in sorted(self.exports, reverse=True)]

    def get_stage_export(self, api_id: str, stage: str) -> dict[str, Any]:
        self.calls.append(f"GetExport {stage}")
        exported = self.exports[stage]
        if isinstance(exported, Exception):
            raise exported
        return exported


class FakeWaf:
    def __init__(self, acl: dict[str, Any] | None = None, error: Exception | None = None) -> None:
        self.acl, self.error, self.asked = acl, error, []

    def web_acl_for(self, arn: str) -> dict[str, Any] | None:
        self.asked.append(arn)
        if self.error is not None:
            raise self.error
        return self.acl


def services(gateway: FakeGateway, waf: FakeWaf | None = None) -> Any:
    return types.SimpleNamespace(clock=time.time, gateway=gateway, waf=waf or FakeWaf(), target=Target(local=True, local_url="http://127.0.0.1:4599"))


def test_status_reads_in_order_and_says_the_stage_is_current() -> None:
    gateway = FakeGateway(policy=POLICY, exports={"test": {"x-amazon-apigateway-policy": json.dumps(POLICY)}})
    waf = FakeWaf({"Name": "mine", "ARN": "arn:waf"})
    data = status(services(gateway, waf), API_ID, "test")
    assert gateway.calls == ["GetRestApi", "GetRestApi", "GetResources", "GetGatewayResponse", "GetDeployments", "GetStages",
                             "GetExport test"]
    assert waf.asked == [f"arn:aws:apigateway:us-east-1::/restapis/{API_ID}/stages/test"]
    assert list(data.to_json()) == ["api_id", "api_name", "stage", "deployed", "invoke_url", "endpoint_types", "private",
                                    "methods", "stages", "policy", "policy_in_words",
                          "blocked", "expiring", "access_denied", "web_acl", "policy_changed_since_deploy",
                          "access_denied_changed_since_deploy"]
    assert data.deployed is True and data.web_acl == WebAcl(name="mine", arn="arn:waf")
    assert data.to_json()["web_acl"] == {"name": "mine", "arn": "arn:waf"}
    assert data.to_json()["stages"] == [{"stage": "test", "deployment_id": "dep1", "deployed_at": "2026-01-01T00:00:00Z",
                               "invoke_url": f"http://127.0.0.1:4599/restapis/{API_ID}/test/_user_request_",
                               "policy_changed_since_deploy": False, "access_denied_changed_since_deploy": False}]
    assert data.policy_changed_since_deploy is False and data.access_denied_changed_since_deploy is False
    assert data.to_json()["access_denied"] == {"custom": False, "status_code": None, "templates": {}}


def test_undeployed_changes_are_seen_through_each_stages_export() -> None:
    denied = {"defaultResponse": False, "statusCode": "403", "responseTemplates": TEMPLATE}
    gateway = FakeGateway(policy=POLICY, denied=denied, exports={"prod": {}, "test": AwsError("no export", code="NotFoundException")})
    data = status(services(gateway), "PetStore", "prod")
    assert gateway.calls[:2] == ["GetRestApis", "GetRestApi"]
    assert [s.stage for s in data.stages] == ["prod", "test"], "sorted by name"
    assert data.stages[1].undeployed.policy_changed_since_deploy is None, "an export that cannot be read: unknown"
    assert data.to_json()["stages"][1]["policy_changed_since_deploy"] is None
    assert data.policy_changed_since_deploy is True and data.access_denied_changed_since_deploy is True
    assert data.to_json()["access_denied"] == {"custom": True, "status_code": "403", "templates": TEMPLATE}


def test_a_stage_that_is_not_deployed_asks_no_web_acl() -> None:
    waf = FakeWaf({"Name": "mine", "ARN": "arn:waf"})
    data = status(services(FakeGateway(exports={"prod": {}}), waf), API_ID, "test")
    assert data.deployed is False and data.web_acl is None and waf.asked == []
    assert data.policy_changed_since_deploy is None and data.access_denied_changed_since_deploy is None


@pytest.mark.parametrize(("waf", "shown"), [
    (FakeWaf(None), None),
    (FakeWaf(error=AwsError("not allowed to read WAF", code="AccessDeniedException")), {"error": "not allowed to read WAF"}),
])
def test_the_web_acl_none_or_unknown(waf: FakeWaf, shown: Any) -> None:
    assert status(services(FakeGateway(exports={"test": {}}), waf), API_ID, "test").to_json()["web_acl"] == shown


@pytest.mark.parametrize(("now", "expired"), [(1767225599.0, False), (1767225600.0, True)])
def test_expiring_blocks_are_read_against_the_services_clock(now: float, expired: bool) -> None:
    from datetime import UTC, datetime

    from petgate import policy as policies

    policy = policies.build_deny(["192.0.2.0/24"], datetime(2026, 1, 1, tzinfo=UTC))
    app = services(FakeGateway(policy=policy, exports={"test": {}}))
    app.clock = lambda: now
    data = status(app, API_ID, "test")
    assert data.expiring == [Expiring(cidr="192.0.2.0/24", expires="2026-01-01T00:00:00Z", expired=expired)]
    assert data.to_json()["expiring"] == [{"cidr": "192.0.2.0/24", "expires": "2026-01-01T00:00:00Z", "expired": expired}]


RESOURCES = [
    {"id": "r1", "path": "/pets", "resourceMethods": {
        "POST": {"authorizationType": "AWS_IAM"}, "GET": {"authorizationType": "AWS_IAM"}, "OPTIONS": {"authorizationType": "NONE"}}},
    {"id": "r0", "path": "/", "resourceMethods": {"GET": {}}},  # no authorizationType given: none
    {"id": "r2", "path": "/pets/{petId}", "resourceMethods": {"GET": {"authorizationType": "CUSTOM", "authorizerId": "a1"}}},
    {"id": "r3", "path": "/empty"},
]


def test_each_methods_authorization_by_path_then_method() -> None:
    data = status(services(FakeGateway(exports={"test": {}}, resources=RESOURCES)), API_ID, "test").to_json()
    assert data["methods"] == [
        {"path": "/", "method": "GET", "authorization_type": "NONE"},
        {"path": "/pets", "method": "GET", "authorization_type": "AWS_IAM"},
        {"path": "/pets", "method": "OPTIONS", "authorization_type": "NONE"},
        {"path": "/pets", "method": "POST", "authorization_type": "AWS_IAM"},
        {"path": "/pets/{petId}", "method": "GET", "authorization_type": "CUSTOM"},
    ]


@pytest.mark.parametrize(("types_", "private"), [(["PRIVATE"], True), (["REGIONAL"], False), (["EDGE"], False), ([], False)])
def test_whether_the_api_is_private(types_: list[str], private: bool) -> None:
    data = status(services(FakeGateway(exports={"test": {}}, types_=types_)), API_ID, "test").to_json()
    assert data["endpoint_types"] == types_ and data["private"] is private
