"""UpdateMethod on petgate local (moto lacks it; issue 18 asks for it), against AWS's recorded
answers: LocalStack's tests/aws/services/apigateway/test_apigateway_api.snapshot.json,
TestApiGatewayApiMethod::test_update_method and ::test_update_method_validation (keys named in
each step), and the aws CLI's `update-method` as a user would type it."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config

RECORDING = "localstack/localstack tests/aws/services/apigateway/test_apigateway_api.snapshot.json"
AWS = Path(os.environ.get("PETGATE_TEST_AWS_CLI") or Path(__file__).resolve().parents[2] / "bench/.venv-awscli/bin/aws")
QUERY = "/requestParameters/method.request.querystring.optional"


@pytest.fixture()
def raw(local_url: str) -> Any:
    return boto3.client("apigateway", endpoint_url=local_url, region_name="us-east-1", aws_access_key_id="test",
                        aws_secret_access_key="test", config=Config(parameter_validation=False))


@pytest.fixture()
def method(raw: Any) -> tuple[str, str]:
    api = raw.create_rest_api(name="update-method", description="testing update method")
    raw.put_method(restApiId=api["id"], resourceId=api["rootResourceId"], httpMethod="ANY", authorizationType="NONE")
    return str(api["id"]), str(api["rootResourceId"])


def update(raw: Any, where: tuple[str, str], *ops: dict[str, str], http_method: str = "ANY") -> dict[str, Any]:
    answer = dict(raw.update_method(restApiId=where[0], resourceId=where[1], httpMethod=http_method, patchOperations=list(ops)))
    assert answer.pop("ResponseMetadata")["HTTPStatusCode"] == 200
    return answer


def error(raw: Any, where: tuple[str, str], *ops: dict[str, str], http_method: str = "ANY") -> tuple[str, str, int]:
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        raw.update_method(restApiId=where[0], resourceId=where[1], httpMethod=http_method, patchOperations=list(ops))
    response = raised.value.response
    return response["Error"]["Code"], response["Error"]["Message"], response["ResponseMetadata"]["HTTPStatusCode"]


def test_update_method_as_recorded(raw: Any, method: tuple[str, str]) -> None:
    # update-method-add
    assert update(raw, method, {"op": "add", "path": QUERY, "value": "true"},
                  {"op": "add", "path": "/requestModels/application~1json", "value": "Empty"}) == {
        "apiKeyRequired": False, "authorizationType": "NONE", "httpMethod": "ANY",
        "requestModels": {"application/json": "Empty"}, "requestParameters": {"method.request.querystring.optional": True},
    }
    # update-method-replace
    assert update(raw, method, {"op": "replace", "path": "/operationName", "value": "ReplacedOperationName"},
                  {"op": "replace", "path": "/apiKeyRequired", "value": "true"},
                  {"op": "replace", "path": "/authorizationType", "value": "AWS_IAM"},
                  {"op": "replace", "path": QUERY, "value": "false"}) == {
        "apiKeyRequired": True, "authorizationType": "AWS_IAM", "httpMethod": "ANY", "operationName": "ReplacedOperationName",
        "requestModels": {"application/json": "Empty"}, "requestParameters": {"method.request.querystring.optional": False},
    }
    # update-method-replace-authorizer
    authorizer = raw.create_authorizer(
        restApiId=method[0], name="authorizer-test", type="TOKEN", identitySource="method.request.header.Authorization",
        authorizerUri="arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
                      "arn:aws:lambda:us-east-1:123456789012:function:myApiAuthorizer/invocations")
    replaced = update(raw, method, {"op": "replace", "path": "/authorizerId", "value": authorizer["id"]},
                      {"op": "replace", "path": "/authorizationType", "value": "CUSTOM"})
    assert replaced["authorizationType"] == "CUSTOM" and replaced["authorizerId"] == authorizer["id"]
    # update-method-remove: the maps go once empty
    assert update(raw, method, {"op": "remove", "path": QUERY, "value": "true"},
                  {"op": "remove", "path": "/requestModels/application~1json", "value": "Empty"}) == {
        "apiKeyRequired": True, "authorizationType": "CUSTOM", "authorizerId": authorizer["id"], "httpMethod": "ANY",
        "operationName": "ReplacedOperationName",
    }
    # GetMethod reads what UpdateMethod wrote
    got = raw.get_method(restApiId=method[0], resourceId=method[1], httpMethod="ANY")
    assert got["authorizationType"] == "CUSTOM" and got["apiKeyRequired"] is True
    # leaving CUSTOM drops the authorizer (petgate's reading, see method_update.py)
    assert "authorizerId" not in update(raw, method, {"op": "replace", "path": "/authorizationType", "value": "AWS_IAM"})


def test_update_method_validation_as_recorded(raw: Any, method: tuple[str, str]) -> None:
    api_id, root = method
    missing_resource = ("NotFoundException", "Invalid Resource identifier specified", 404)
    assert error(raw, ("fake-api", root)) == missing_resource  # wrong-rest-api
    assert error(raw, (api_id, "fake-resource-id")) == missing_resource  # wrong-resource-id
    assert error(raw, method, {"op": "replace", "path": "/operationName", "value": "methodDoesNotExist"},
                 http_method="GET") == ("NotFoundException", "Invalid Method identifier specified", 404)
    replace_only = ("BadRequestException", "Invalid patch operation specified. Must be one of: [replace]", 400)
    assert error(raw, method, {"op": "add", "path": "/operationName", "value": "operationName"}) == replace_only
    assert error(raw, method, {"op": "add", "path": "/requestValidatorId", "value": "wrong-id"}) == replace_only
    for path in ("/httpMethod", "/requestParameters", "/requestModels/application/json"):
        op = "replace" if path == "/requestParameters" else "add"
        assert error(raw, method, {"op": op, "path": path, "value": "x"}) == (
            "BadRequestException", f"Invalid patch path {path}", 400)
    # wrong-value-type: anything but "true" is false
    assert update(raw, method, {"op": "replace", "path": "/apiKeyRequired", "value": "whatever"})["apiKeyRequired"] is False
    needs_authorizer = ("BadRequestException", "Invalid authorizer ID specified. Setting the authorization type to CUSTOM "
                        "or COGNITO_USER_POOLS requires a valid authorizer.", 400)
    assert error(raw, method, {"op": "replace", "path": "/authorizationType", "value": "CUSTOM"}) == needs_authorizer
    # skip-auth-id-with-wrong-type
    assert update(raw, method, {"op": "replace", "path": "/authorizerId", "value": "abc123"}) == {
        "apiKeyRequired": False, "authorizationType": "NONE", "httpMethod": "ANY"}
    assert error(raw, method, {"op": "replace", "path": "/authorizationType", "value": "CUSTOM"},
                 {"op": "replace", "path": "/authorizerId", "value": "abc123"}) == needs_authorizer  # wrong-auth-id
    assert error(raw, method, {"op": "replace", "path": "/requestValidatorId", "value": "fake-id"}) == (
        "BadRequestException", "Invalid Request Validator identifier specified", 400)  # wrong-req-validator-id
    # (put-method validation's invalid-model-name)
    assert error(raw, method, {"op": "add", "path": "/requestModels/application~1json", "value": "petModel"}) == (
        "BadRequestException", "Invalid model identifier specified: petModel", 400)
    # an op outside JSON Patch's: UpdateMethodResponse's recorded ValidationException
    code, message, status = error(raw, method, {"op": "wrong_op", "path": "/apiKeyRequired", "value": "true"})
    assert (code, status) == ("ValidationException", 400) and "updateMethodInput.patchOperations.1.member.op" in message
    # a patch that fails changes nothing, even in its earlier operations
    error(raw, method, {"op": "replace", "path": "/authorizationType", "value": "AWS_IAM"},
          {"op": "add", "path": "/httpMethod", "value": "PUT"})
    assert raw.get_method(restApiId=api_id, resourceId=root, httpMethod="ANY")["authorizationType"] == "NONE"


def test_a_malformed_update_method_body_is_a_clean_400(local_url: str, method: tuple[str, str]) -> None:
    import requests

    url = f"{local_url}/restapis/{method[0]}/resources/{method[1]}/methods/ANY"
    signed = {"Authorization": "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/apigateway/aws4_request, "
                               "SignedHeaders=host, Signature=00", "Content-Type": "application/json"}
    for body in (b"{not json", b'{"patchOperations": {"op": "replace"}}', b'{"patchOperations": [7]}',
                 b'{"patchOperations": [{"op": "replace", "path": "/authorizationType", "value": "SOMETIMES"}]}'):
        answer = requests.patch(url, data=body, headers=signed, timeout=10)
        assert answer.status_code == 400, (body, answer.status_code, answer.text)
        assert answer.json()["message"]


def test_the_aws_cli_switches_iam_on(local_url: str, method: tuple[str, str], tmp_path: Path) -> None:
    """The issue's own command, which answered 500 before."""
    if not AWS.exists():
        pytest.skip(f"the aws CLI is not installed at {AWS} (`make test` installs it)")
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "AWS_ACCESS_KEY_ID": "test",
           "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1", "AWS_PAGER": ""}
    done = subprocess.run(
        [str(AWS), "--endpoint-url", local_url, "--output", "json", "apigateway", "update-method", "--rest-api-id", method[0],
         "--resource-id", method[1], "--http-method", "ANY", "--patch-operations",
         "op=replace,path=/authorizationType,value=AWS_IAM"], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"httpMethod": "ANY", "authorizationType": "AWS_IAM", "apiKeyRequired": False}
