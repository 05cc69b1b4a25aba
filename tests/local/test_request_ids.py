"""Every reply carries `x-amzn-RequestId` (a UUID, as AWS's), with AWS's content type for its
protocol and no `null` member (replies.py): API Gateway's rest-json `application/json`, wafv2's
JSON 1.1 `application/x-amz-json-1.1`, IAM's and STS's Query protocol `text/xml` with the same id
as the body's `<RequestId>`; successes and errors, replies moto writes and replies petgate writes."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from typing import Any

import boto3
import botocore.exceptions
import pytest
import requests
from botocore.config import Config

from petgate import example

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
POLICY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*"}]})


class Replies:
    """boto3 clients on the gateway that keep every raw reply (status, headers, body)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.seen: list[tuple[str, int, dict[str, str], bytes]] = []

    def client(self, service: str) -> Any:
        client = boto3.client(service, endpoint_url=self.url, region_name="us-east-1", aws_access_key_id="test",
                              aws_secret_access_key="test", config=Config(parameter_validation=False,
                                                                          retries={"max_attempts": 1}))

        def keep(http_response: Any, model: Any, **_: Any) -> None:
            self.seen.append((model.name, http_response.status_code, dict(http_response.headers), http_response.content))

        client.meta.events.register("after-call", keep)
        return client

    def call(self, call: Callable[..., Any], **kwargs: Any) -> Any:
        try:
            return call(**kwargs)
        except botocore.exceptions.ClientError as exc:
            return exc.response


def _nulls(value: Any) -> bool:
    if isinstance(value, dict):
        return any(v is None or _nulls(v) for v in value.values())
    return isinstance(value, list) and any(_nulls(v) for v in value)


def _check(seen: list[tuple[str, int, dict[str, str], bytes]], content_type: str) -> None:
    assert seen
    for name, status, headers, body in seen:
        lowered = {k.lower(): v for k, v in headers.items()}
        assert UUID.match(lowered.get("x-amzn-requestid", "")), (name, status, headers)
        if status == 202 and not body:
            continue
        assert lowered["content-type"] == content_type, (name, status, headers)
        if content_type == "text/xml":
            assert f"<RequestId>{lowered['x-amzn-requestid']}</RequestId>".encode() in body, (name, body[:200])
        else:
            assert not _nulls(json.loads(body or b"{}")), (name, body[:300])


def test_api_gateway_replies(local_url: str) -> None:
    replies = Replies(local_url)
    apigateway = replies.client("apigateway")
    api = apigateway.import_rest_api(body=example.definition_bytes("PetStore"), parameters={"endpointConfigurationTypes": "REGIONAL"})
    api_id = api["id"]
    created = apigateway.create_rest_api(name="ids")
    replies.call(apigateway.update_rest_api, restApiId=api_id, patchOperations=[{"op": "replace", "path": "/policy", "value": POLICY}])
    replies.call(apigateway.update_rest_api, restApiId=api_id, patchOperations=[{"op": "replace"}])  # its error
    apigateway.create_deployment(restApiId=api_id, stageName="test")
    apigateway.put_gateway_response(restApiId=api_id, responseType="ACCESS_DENIED", statusCode="403")
    apigateway.get_gateway_responses(restApiId=api_id)
    apigateway.get_rest_apis()
    apigateway.get_resources(restApiId=api_id)
    apigateway.get_stages(restApiId=api_id)
    apigateway.get_deployments(restApiId=api_id)
    apigateway.get_models(restApiId=api_id)
    apigateway.create_api_key(name="ids")
    apigateway.get_api_keys()
    replies.call(apigateway.get_rest_api, restApiId="nope")  # moto's error
    replies.call(apigateway.get_gateway_response, restApiId=api_id, responseType="NOPE")  # petgate's error
    replies.call(apigateway.create_rest_api, name="x", description="")
    apigateway.delete_rest_api(restApiId=created["id"])
    _check(replies.seen, "application/json")
    exported = requests.get(f"{local_url}/restapis/{api_id}/stages/test/exports/oas30", timeout=5)
    assert UUID.match(exported.headers["x-amzn-RequestId"]) and exported.headers["Content-Type"] == "application/octet-stream"


@pytest.mark.parametrize("header", ["AWS4-HMAC-SHA256 nonsense", "Basic x"])
def test_errors_petgate_writes_before_moto(local_url: str, header: str) -> None:
    """errors.py's answers: the SigV4 header's shape, on each plane."""
    for target, content_type in (({}, "application/json"),
                                 ({"X-Amz-Target": "AWSWAF_20190729.ListIPSets"}, "application/x-amz-json-1.1")):
        reply = requests.post(f"{local_url}/restapis" if not target else local_url + "/", data="{}",
                              headers={"Authorization": header, "Content-Type": "application/json", **target}, timeout=5)
        assert reply.status_code in (400, 403) and reply.headers["Content-Type"] == content_type
        assert UUID.match(reply.headers["x-amzn-RequestId"])
    bad_json = requests.post(f"{local_url}/restapis", data=b"{", headers={"Content-Type": "application/json"}, timeout=5)
    assert bad_json.status_code == 400 and UUID.match(bad_json.headers["x-amzn-RequestId"])


def test_wafv2_replies(local_url: str) -> None:
    replies = Replies(local_url)
    wafv2 = replies.client("wafv2")
    created = wafv2.create_ip_set(Name=f"ids-{uuid.uuid4().hex[:8]}", Scope="REGIONAL", IPAddressVersion="IPV4", Addresses=[])
    wafv2.get_ip_set(Name=created["Summary"]["Name"], Scope="REGIONAL", Id=created["Summary"]["Id"])
    wafv2.list_ip_sets(Scope="REGIONAL")
    wafv2.list_web_acls(Scope="REGIONAL")
    replies.call(wafv2.get_ip_set, Name="nope", Scope="REGIONAL", Id="00000000-0000-0000-0000-000000000000")
    replies.call(wafv2.list_ip_sets)  # a required member missing: petgate's ValidationException
    replies.call(wafv2.list_resources_for_web_acl, WebACLArn="arn:aws:wafv2:us-east-1:123456789012:regional/webacl/x/y")
    _check(replies.seen, "application/x-amz-json-1.1")


def test_iam_and_sts_replies(local_url: str) -> None:
    replies = Replies(local_url)
    iam, sts = replies.client("iam"), replies.client("sts")
    name = f"ids-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=name)
    iam.list_users()
    replies.call(iam.get_user, UserName="nobody-here")  # moto's error
    replies.call(iam.create_user)  # a required member missing: petgate's ValidationError
    sts.get_caller_identity()
    sts.assume_role(RoleArn="arn:aws:iam::222222222222:role/r", RoleSessionName="s")
    _check(replies.seen, "text/xml")
    missing = requests.post(local_url + "/", data="Version=2010-05-08",
                            headers={"Content-Type": "application/x-www-form-urlencoded",
                                     "Authorization": "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/iam/aws4_request, "
                                                      "SignedHeaders=host, Signature=00"}, timeout=5)
    assert missing.status_code == 400 and missing.headers["Content-Type"] == "text/xml"
    assert f"<RequestId>{missing.headers['x-amzn-RequestId']}</RequestId>" in missing.text


def test_the_helpers_and_the_data_plane_carry_one_too(local_url: str) -> None:
    for path in ("/_petgate/health", "/_petgate/checkip", "/restapis/nope/test/_user_request_/"):
        reply = requests.get(local_url + path, timeout=5)
        assert UUID.match(reply.headers["x-amzn-RequestId"]), path
