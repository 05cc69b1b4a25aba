"""The HTTP-API control plane (apigatewayv2, `/v2/...`) on the local gateway's port
(petgate/local/v2_control.py): boto3's apigatewayv2 client and the aws CLI create, read, list
and delete there; AWS's statuses (botocore's model: 201 for a create, 204 for a delete), content
type and request id; a malformed request is a 4xx, never a 500; the list calls page with
maxResults and nextToken; REST APIs and HTTP APIs stay apart, and so do regions."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from typing import Any

import botocore.exceptions
import pytest
import requests

from petgate.errors import AwsError
from petgate.http_apis import HttpApis
from petgate.pytest_plugin import LocalGateway, running_gateway

SIGNED = {"Authorization": "AWS4-HMAC-SHA256 Credential=petgate-local/20260101/us-east-1/apigateway/aws4_request, "
                           "SignedHeaders=host, Signature=0"}


@pytest.fixture(scope="module")
def gateway() -> Iterator[LocalGateway]:
    """A gateway of this module's own: the list and paging checks count every HTTP API on it."""
    with running_gateway() as running:
        yield running


@pytest.fixture()
def v2(gateway: LocalGateway) -> Any:
    gateway.reset()
    return gateway.client("apigatewayv2")


def error_of(call: Any) -> tuple[int, str, str]:
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        call()
    response = caught.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"], response["Error"]["Message"]


def test_create_get_list_delete_with_awss_statuses(v2: Any) -> None:
    created = v2.create_api(Name="pets", ProtocolType="HTTP")
    meta = created["ResponseMetadata"]
    assert meta["HTTPStatusCode"] == 201, "CreateApi's responseCode in botocore's model"
    assert meta["HTTPHeaders"]["content-type"] == "application/json"
    uuid.UUID(meta["HTTPHeaders"]["x-amzn-requestid"])
    api_id = created["ApiId"]
    assert v2.get_api(ApiId=api_id)["Name"] == "pets"
    assert [a["ApiId"] for a in v2.get_apis()["Items"]] == [api_id]
    route = v2.create_route(ApiId=api_id, RouteKey="GET /pets")
    assert (route["ResponseMetadata"]["HTTPStatusCode"], route["AuthorizationType"]) == (201, "NONE")
    deleted = v2.delete_api(ApiId=api_id)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert v2.get_apis()["Items"] == []
    assert error_of(lambda: v2.get_api(ApiId=api_id)) == (404, "NotFoundException", f"Invalid API identifier specified {api_id}")
    assert error_of(lambda: v2.delete_api(ApiId=api_id))[:2] == (404, "NotFoundException"), "moto said 200"


def test_the_client_class_reads_routes_with_their_authorization_and_stages(v2: Any) -> None:
    api_id = v2.create_api(Name="mixed", ProtocolType="HTTP")["ApiId"]
    v2.create_route(ApiId=api_id, RouteKey="GET /open")
    v2.create_route(ApiId=api_id, RouteKey="POST /signed", AuthorizationType="AWS_IAM")
    v2.create_stage(ApiId=api_id, StageName="$default")
    http_apis = HttpApis(v2)
    assert {(r.route_key, r.authorization_type) for r in http_apis.get_routes(api_id)} == {
        ("GET /open", "NONE"), ("POST /signed", "AWS_IAM")}
    assert [s["StageName"] for s in http_apis.get_stages(api_id)] == ["$default"]
    with pytest.raises(AwsError) as caught:  # petgate's own error, as gateway.py translates
        http_apis.get_routes("nosuchapi")
    assert caught.value.code == "NotFoundException"
    assert caught.value.message.startswith("listing the routes of HTTP API nosuchapi: NotFoundException")


def test_get_apis_pages_with_max_results_and_next_token(v2: Any) -> None:
    made = sorted(v2.create_api(Name=f"api-{i}", ProtocolType="HTTP")["ApiId"] for i in range(5))
    first = v2.get_apis(MaxResults="2")
    assert len(first["Items"]) == 2 and first["NextToken"]
    second = v2.get_apis(MaxResults="2", NextToken=first["NextToken"])
    last = v2.get_apis(MaxResults="2", NextToken=second["NextToken"])
    assert len(last["Items"]) == 1 and "NextToken" not in last, "no token on the last page"
    assert sorted(a["ApiId"] for page in (first, second, last) for a in page["Items"]) == made
    assert len(v2.get_apis()["Items"]) == 5, "no maxResults: one page, as moto answers"
    seen: list[str] = []
    http_apis = HttpApis(v2)
    http_apis.register("before-call.apigatewayv2", lambda model, **_: seen.append(model.name))
    assert sorted(a["ApiId"] for a in http_apis.list_apis()) == made
    assert seen == ["GetApis"], "100 a page: one call"
    assert error_of(lambda: v2.get_apis(MaxResults="0"))[:2] == (400, "BadRequestException")
    assert error_of(lambda: v2.get_apis(MaxResults="many"))[:2] == (400, "BadRequestException")
    assert error_of(lambda: v2.get_apis(NextToken="not-ours"))[:2] == (400, "BadRequestException")


def test_the_client_follows_next_token(v2: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    api_id = v2.create_api(Name="many-routes", ProtocolType="HTTP")["ApiId"]
    for i in range(5):
        v2.create_route(ApiId=api_id, RouteKey=f"GET /r{i}")
    monkeypatch.setattr("petgate.http_apis.PAGE_SIZE", "2")
    seen: list[str] = []
    http_apis = HttpApis(v2)
    http_apis.register("before-call.apigatewayv2", lambda model, **_: seen.append(model.name))
    assert sorted(r.route_key for r in http_apis.get_routes(api_id)) == [f"GET /r{i}" for i in range(5)]
    assert seen == ["GetRoutes"] * 3


@pytest.mark.parametrize(("body", "code", "says"), [
    (b"{not json", "BadRequestException", "Could not parse request body into json"),
    (b"[1, 2]", "BadRequestException", "must be a JSON object"),
    (b'{"name": {"a": 1}, "protocolType": "HTTP"}', "BadRequestException", "createApiInput.name must be a string"),
    (b"{}", "ValidationException", "Value null at 'createApiInput.name' failed to satisfy constraint"),
    (b'{"name": "x", "protocolType": "GRPC"}', "BadRequestException", "Invalid protocol specified"),
])
def test_a_malformed_body_is_a_400_in_awss_shape(gateway: LocalGateway, body: bytes, code: str, says: str) -> None:
    reply = requests.post(f"{gateway.url}/v2/apis", data=body, headers=SIGNED, timeout=10)
    assert reply.status_code == 400 and reply.headers["x-amzn-ErrorType"].startswith(code)
    assert reply.headers["Content-Type"] == "application/json" and says in reply.json()["message"]


def test_an_unknown_path_or_a_bad_signature_is_a_4xx(gateway: LocalGateway) -> None:
    unknown = requests.get(f"{gateway.url}/v2/nothing-here", headers=SIGNED, timeout=10)
    assert unknown.status_code == 404 and unknown.json()["__type"] == "NotFoundException"
    unsigned = requests.get(f"{gateway.url}/v2/apis", headers={"Authorization": "AWS4-HMAC-SHA256 Credential"}, timeout=10)
    assert unsigned.status_code == 403 and unsigned.headers["x-amzn-ErrorType"] == "IncompleteSignatureException"


def test_rest_apis_and_http_apis_and_regions_stay_apart(gateway: LocalGateway, v2: Any) -> None:
    v2.create_api(Name="http-east", ProtocolType="HTTP")
    gateway.client("apigatewayv2", region_name="eu-west-1").create_api(Name="http-west", ProtocolType="HTTP")
    gateway.client("apigateway").create_rest_api(name="rest-east")
    assert [a["Name"] for a in v2.get_apis()["Items"]] == ["http-east"]
    assert [a["Name"] for a in gateway.client("apigatewayv2", region_name="eu-west-1").get_apis()["Items"]] == ["http-west"]
    assert [a["name"] for a in gateway.client("apigateway").get_rest_apis()["items"]] == ["rest-east"]


@pytest.mark.skipif(shutil.which("aws") is None, reason="the aws CLI is not installed")
def test_the_aws_cli_creates_lists_and_deletes(gateway: LocalGateway, v2: Any, tmp_path: Any) -> None:
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "petgate-local", "AWS_SECRET_ACCESS_KEY": "petgate-local",
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": str(tmp_path / "config"),
           "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"), "AWS_PAGER": ""}

    def aws(*args: str) -> Any:
        done = subprocess.run(["aws", "apigatewayv2", *args, "--endpoint-url", gateway.url, "--output", "json"],
                              capture_output=True, text=True, env=env, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout) if done.stdout.strip() else None

    created = aws("create-api", "--name", "from-cli", "--protocol-type", "HTTP")
    assert created["ProtocolType"] == "HTTP"
    assert [a["Name"] for a in aws("get-apis")["Items"]] == ["from-cli"]
    assert aws("delete-api", "--api-id", created["ApiId"]) is None
    assert v2.get_apis()["Items"] == []
