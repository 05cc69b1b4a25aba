"""A reset for test suites: `POST /moto-api/reset` (moto's server mode) and `POST /_petgate/reset`
clear every API (REST and HTTP), deployment snapshot, WAF object, IAM/STS object and throttle bucket; the
`--vpc-endpoint` mappings stay; with `--state` the file is rewritten empty.

moto's answer followed: moto/moto_api/_internal/responses.py, `reset_response` (a POST: 200
`{"status": "ok"}`; anything else: 400 `{"Error": "Need to POST to reset Moto"}`)."""

from __future__ import annotations

import pickle
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from petgate.local.server import LocalGateway as App
from petgate.pytest_plugin import LocalGateway, running_gateway


@pytest.fixture(scope="module")
def gateway() -> Iterator[LocalGateway]:
    """A gateway of this module's own: a reset must not clear the session's shared one."""
    with running_gateway("--vpc-endpoint", "vpce-0abc1234:vpc-0def5678=127.0.0.9") as running:
        yield running


def _mock_root(apigateway: Any, api_id: str) -> None:
    root = apigateway.get_resources(restApiId=api_id)["items"][0]["id"]
    apigateway.put_method(restApiId=api_id, resourceId=root, httpMethod="GET", authorizationType="NONE")
    apigateway.put_integration(restApiId=api_id, resourceId=root, httpMethod="GET", type="MOCK",
                               requestTemplates={"application/json": '{"statusCode": 200}'})
    apigateway.put_method_response(restApiId=api_id, resourceId=root, httpMethod="GET", statusCode="200")
    apigateway.put_integration_response(restApiId=api_id, resourceId=root, httpMethod="GET", statusCode="200")


def _fill(gateway: LocalGateway) -> dict[str, Any]:
    apigateway = gateway.client("apigateway")
    api = apigateway.create_rest_api(name="before-reset")
    _mock_root(apigateway, api["id"])
    apigateway.create_deployment(restApiId=api["id"], stageName="test")
    gateway.client("apigatewayv2").create_api(Name="before-reset", ProtocolType="HTTP")
    wafv2 = gateway.client("wafv2")
    ip_set = wafv2.create_ip_set(Name="before-reset", Scope="REGIONAL", IPAddressVersion="IPV4", Addresses=["10.0.0.0/8"])
    iam = gateway.client("iam")
    iam.create_user(UserName="before-reset")
    key = iam.create_access_key(UserName="before-reset")["AccessKey"]
    return {"api": api["id"], "ip_set": ip_set["Summary"], "key": key}


def _empty(gateway: LocalGateway, filled: dict[str, Any]) -> None:
    assert gateway.client("apigateway").get_rest_apis()["items"] == []
    assert gateway.client("apigatewayv2").get_apis()["Items"] == [], "the HTTP APIs went too"
    served = requests.get(gateway.invoke_url(filled["api"], "test") + "/", timeout=5)
    assert served.status_code == 403 and served.json() == {"message": "Forbidden"}, "the snapshot went too"
    assert gateway.client("wafv2").list_ip_sets(Scope="REGIONAL")["IPSets"] == []
    assert [u["UserName"] for u in gateway.client("iam").list_users()["Users"]] == []
    sts = boto3.client("sts", endpoint_url=gateway.url, region_name="us-east-1",
                       aws_access_key_id=filled["key"]["AccessKeyId"],
                       aws_secret_access_key=filled["key"]["SecretAccessKey"])
    assert not sts.get_caller_identity()["Arn"].endswith(":user/before-reset"), "the user's key went too"


@pytest.mark.parametrize("path", ["/moto-api/reset", "/_petgate/reset"])
def test_a_reset_clears_every_plane(gateway: LocalGateway, path: str) -> None:
    filled = _fill(gateway)
    reply = requests.post(gateway.url + path, timeout=30)
    assert reply.status_code == 200 and reply.json() == {"status": "ok"}, "moto's answer"
    _empty(gateway, filled)
    assert gateway.client("apigateway").create_rest_api(name="after")["name"] == "after", "the gateway goes on"


def test_the_vpc_endpoint_mappings_stay(gateway: LocalGateway) -> None:
    gateway.reset()
    shown = requests.get(f"{gateway.url}/_petgate/vpc-endpoints", timeout=5)
    if shown.status_code == 200:  # the read-only route, where it exists
        assert shown.json()["vpc_endpoints"] == [{"address": "127.0.0.9", "vpce_id": "vpce-0abc1234", "vpc_id": "vpc-0def5678"}]
    apigateway = gateway.client("apigateway")
    api = apigateway.create_rest_api(name="private", endpointConfiguration={"types": ["PRIVATE"]})
    _mock_root(apigateway, api["id"])
    apigateway.update_rest_api(restApiId=api["id"], patchOperations=[{"op": "replace", "path": "/policy", "value": (
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke",'
        ' "Resource": "execute-api:/*"}]}')}])
    apigateway.create_deployment(restApiId=api["id"], stageName="test")
    host, port = gateway.url.removeprefix("http://").rsplit(":", 1)
    session = requests.Session()
    from requests.adapters import HTTPAdapter

    class FromAddress(HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            kwargs["source_address"] = ("127.0.0.9", 0)
            super().init_poolmanager(*args, **kwargs)

    session.mount("http://", FromAddress())
    served = session.get(f"http://{host}:{port}/test/", headers={"x-apigw-api-id": api["id"]}, timeout=5)
    assert served.status_code == 200, "127.0.0.9 still comes through vpce-0abc1234"


def test_a_get_is_not_a_reset(gateway: LocalGateway) -> None:
    api = gateway.client("apigateway").create_rest_api(name="kept")
    moto = requests.get(f"{gateway.url}/moto-api/reset", timeout=5)
    assert moto.status_code == 400 and moto.json() == {"Error": "Need to POST to reset Moto"}
    ours = requests.get(f"{gateway.url}/_petgate/reset", timeout=5)
    assert ours.status_code == 405 and ours.headers["Allow"] == "POST"
    assert api["id"] in [a["id"] for a in gateway.client("apigateway").get_rest_apis()["items"]]


def test_a_reset_with_state_rewrites_the_file_empty(tmp_path: Path) -> None:
    state = tmp_path / "gateway.state"
    with running_gateway("--state", str(state), "--vpc-endpoint", "vpce-0abc1234:vpc-0def5678=127.0.0.9") as running:
        running.client("apigateway").create_rest_api(name="kept-until-reset")
        assert b"kept-until-reset" in state.read_bytes()
        running.reset()
        saved = pickle.loads(state.read_bytes())  # noqa: S301 - written by the test's own gateway
        assert b"kept-until-reset" not in state.read_bytes()
        assert saved["snapshots"] == {"snapshots": {}, "homes": {}}
        assert list(saved["vpc_endpoints"]) == ["127.0.0.9"], "configuration, not state"
    with running_gateway("--state", str(state)) as again:
        assert again.client("apigateway").get_rest_apis()["items"] == []


def test_a_reset_is_atomic_for_a_request_in_flight(monkeypatch: pytest.MonkeyPatch) -> None:
    """The reset clears under the gateway's lock, which every control-plane call and every
    data-plane lookup takes: a call in flight sees the state before or after, never half."""
    from petgate.local import reset

    app = App(throttle=True)
    app.control.throttle.buckets[("123456789012", "*")] = object()  # type: ignore[union-attr,assignment]
    seen: list[bool] = []
    cleared = reset.clear

    def watched(*args: Any) -> None:
        taken: list[bool] = []
        other = threading.Thread(target=lambda: taken.append(app.lock.acquire(blocking=False)))
        other.start()
        other.join()
        seen.append(not taken[0])  # another thread could not take the lock meanwhile
        cleared(*args)

    monkeypatch.setattr(reset, "clear", watched)
    app.reset()
    assert seen == [True]
    assert app.control.throttle is not None and app.control.throttle.buckets == {}
