"""Behaviour no other e2e test pins, against the real local gateway: undo refuses an entry made
against another target; the local data plane asks WAF before routing; verify settles a 403
whose x-amzn-ErrorType a proxy stripped with the policy the stage serves."""

from __future__ import annotations

import http.client
import json
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from requests.adapters import HTTPAdapter

from tests.conftest import LoopbackServer, run_cli

BLOCKED, UNBLOCKED = "127.0.0.150", "127.0.0.151"


def from_address(source: str) -> requests.Session:
    """Requests that leave from `source` (any 127.0.0.x is this machine)."""

    class SourceAdapter(HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            kwargs["source_address"] = (source, 0)
            super().init_poolmanager(*args, **kwargs)

    session = requests.Session()
    session.trust_env = False
    session.mount("http://", SourceAdapter())
    return session


@pytest.fixture()
def aws_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dummy credentials for a target that is not --local (the local gateway takes any)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


def stored_policy(apigw: Any, api_id: str) -> str | None:
    return apigw.get_rest_api(restApiId=api_id).get("policy")


# --- undo runs only against the target its entry was made against -----------------------------------


@pytest.fixture()
def blocked_locally(petgate: Any, api_id: str, apigw: Any) -> dict[str, Any]:
    """A policy change made with --local: its journal entry and the policy it left."""
    result = petgate("-o", "json", "block-my-ip", "--api", api_id, "--cidr", "192.0.2.1", "--no-deploy")
    assert result.exit_code == 0, result.stderr
    return {"journal_id": result.json["journal_id"], "policy": stored_policy(apigw, api_id)}


def refused_as_another_target(result: Any, journal_id: str) -> None:
    assert result.exit_code == 2, result.stderr
    assert f"entry {journal_id} was made against " in result.stderr
    assert "'kind': 'local'" in result.stderr, "the message names the entry's own target"
    assert "run undo with the same --local / --endpoint-url / --region" in result.stderr
    assert "Traceback" not in result.stderr


def test_undo_refuses_an_entry_made_against_another_endpoint(
    blocked_locally: dict[str, Any], api_id: str, apigw: Any, aws_keys: None, local_url: str
) -> None:
    journal_id = blocked_locally["journal_id"]
    # nothing listens on port 9: a refusal that sent anything would end 4, not 2
    elsewhere = run_cli("--endpoint-url", "http://127.0.0.1:9", "--region", "us-east-1", "undo")
    refused_as_another_target(elsewhere, journal_id)
    # the same gateway, but named as a plain endpoint: still another target than --local
    same_server = run_cli("--endpoint-url", local_url, "--region", "us-east-1", "undo", journal_id)
    refused_as_another_target(same_server, journal_id)
    assert stored_policy(apigw, api_id) == blocked_locally["policy"], "nothing was put back"


def test_undo_refuses_an_entry_made_against_another_local_gateway(
    blocked_locally: dict[str, Any], api_id: str, apigw: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PETGATE_LOCAL_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("PETGATE_LOCAL_WAIT", "0")
    result = run_cli("--local", "undo")
    refused_as_another_target(result, blocked_locally["journal_id"])
    assert stored_policy(apigw, api_id) == blocked_locally["policy"]


def test_undo_refuses_an_entry_made_in_another_region(
    petgate: Any, blocked_locally: dict[str, Any], api_id: str, apigw: Any
) -> None:
    journal_id = blocked_locally["journal_id"]
    result = petgate("--region", "eu-west-1", "undo")
    refused_as_another_target(result, journal_id)
    assert "'region': 'us-east-1'" in result.stderr
    assert stored_policy(apigw, api_id) == blocked_locally["policy"]
    # the entry is intact: against its own target, undo puts the policy back
    undone = petgate("-o", "json", "undo", "--no-deploy")
    assert undone.exit_code == 0, undone.stderr
    assert undone.json["undoes"] == journal_id
    assert stored_policy(apigw, api_id) in (None, "")


# --- the local data plane: WAF first, routing after ---------------------------------------------------


def test_waf_decides_before_routing(petgate: Any, deployed: str, waf_list: str, local_url: str) -> None:
    attached = petgate("waf", "attach", "--api", deployed, "--list", waf_list)
    assert attached.exit_code == 0, attached.stderr
    blocked = petgate("-o", "json", "waf", "block", "--cidr", BLOCKED, "--list", waf_list)
    assert blocked.exit_code == 0 and blocked.json["added"] == [f"{BLOCKED}/32"], blocked.stderr
    missing = f"{local_url}/restapis/{deployed}/test/_user_request_/no/such/path"

    refused = from_address(BLOCKED).get(missing, timeout=10)
    assert refused.status_code == 403
    assert refused.json() == {"message": "Forbidden"}, "WAF's refusal, not the missing route's"
    assert refused.headers["x-amzn-ErrorType"] == "ForbiddenException"

    routed = from_address(UNBLOCKED).get(missing, timeout=10)
    assert routed.status_code == 403
    assert routed.json() == {"message": "Missing Authentication Token"}
    assert routed.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"

    # and for a method the path does not have: WAF first too
    assert from_address(BLOCKED).delete(f"{local_url}/restapis/{deployed}/test/_user_request_/pets",
                                        timeout=10).json() == {"message": "Forbidden"}


# --- verify: a 403 without its header, settled with the policy the stage serves --------------------------


class HeaderStrippingProxy:
    """Forwards everything to the local gateway; the data plane's answers lose x-amzn-ErrorType
    on the way back, as behind a proxy or CDN that drops unknown headers."""

    _HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "date", "server"}

    def __init__(self, upstream: str) -> None:
        parts = urllib.parse.urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.stripped = 0
        self.server = LoopbackServer(self._answer)
        self.url = self.server.url

    def _answer(self, method: str, path: str, headers: Any, body: bytes) -> tuple[int, dict[str, str], bytes]:
        connection = http.client.HTTPConnection(*self.upstream, timeout=30)
        try:
            forwarded = {k: v for k, v in headers.items() if k.lower() not in ("host", "connection")}
            connection.request(method, path, body=body or None, headers=forwarded)
            response = connection.getresponse()
            answer_body = response.read()
            answer_headers = {k: v for k, v in response.getheaders() if k.lower() not in self._HOP_BY_HOP}
        finally:
            connection.close()
        if "/_user_request_" in path:
            before = len(answer_headers)
            answer_headers = {k: v for k, v in answer_headers.items() if k.lower() != "x-amzn-errortype"}
            self.stripped += before - len(answer_headers)
        return response.status, answer_headers, answer_body

    def close(self) -> None:
        self.server.close()


@pytest.fixture()
def stripping_proxy(local_url: str) -> Iterator[HeaderStrippingProxy]:
    proxy = HeaderStrippingProxy(local_url)
    yield proxy
    proxy.close()


def test_verify_calls_a_headerless_403_the_served_policy_refuses_implicitly_denied(
    petgate: Any, deployed: str, apigw: Any, local_url: str, stripping_proxy: HeaderStrippingProxy, aws_keys: None
) -> None:
    # only 198.51.100.0/24 is allowed and nothing denies: this caller (127.0.0.1) matches no Allow
    policy = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*",
        "Condition": {"IpAddress": {"aws:SourceIp": "198.51.100.0/24"}}}]}
    apigw.update_rest_api(restApiId=deployed, patchOperations=[{"op": "replace", "path": "/policy", "value": json.dumps(policy)}])
    assert petgate("deploy", "--api", deployed).exit_code == 0

    through = ("--endpoint-url", stripping_proxy.url, "--region", "us-east-1",
               "--checkip-url", f"{local_url}/_petgate/checkip")
    result = run_cli(*through, "-o", "json", "verify", "--api", deployed, "--expect", "denied", "--timeout", "0.3")
    assert result.exit_code == 0, result.stderr
    data = result.json
    assert data["status"] == 403 and data["error_type"] is None, "the header really was stripped"
    assert stripping_proxy.stripped >= 1
    assert data["reason"] == "policy-implicit-deny" and data["outcome"] == "denied" and data["ok"] is True

    # a policy that lets this caller in, stored but not deployed: the stage still refuses
    allowed = {**policy, "Statement": [{**policy["Statement"][0], "Condition": {"IpAddress": {"aws:SourceIp": "127.0.0.1"}}}]}
    apigw.update_rest_api(restApiId=deployed, patchOperations=[{"op": "replace", "path": "/policy", "value": json.dumps(allowed)}])
    still = run_cli(*through, "-o", "json", "verify", "--api", deployed, "--expect", "denied", "--timeout", "0.3")
    assert still.exit_code == 0 and still.json["reason"] == "policy-implicit-deny", "verify reads what is deployed"
    assert petgate("deploy", "--api", deployed).exit_code == 0
    open_now = run_cli(*through, "-o", "json", "verify", "--api", deployed, "--expect", "any")
    assert open_now.exit_code == 0 and open_now.json["reason"] == "allowed", open_now.stderr
