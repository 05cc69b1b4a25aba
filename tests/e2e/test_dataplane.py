"""The local gateway's data plane, through the CLI and plain HTTP from real source addresses."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from petgate.target import Target
from tests.conftest import LoopbackServer

MY_IP = "127.0.0.5"
OTHER_IP = "127.0.0.6"


def client_from(address: str) -> requests.Session:
    """A requests session whose TCP connections leave from `address` (a real peer address)."""
    return Target(local=True, source_address=address).http_session()


def invoke(local_url: str, api_id: str, path: str = "/", stage: str = "test") -> str:
    return f"{local_url}/restapis/{api_id}/{stage}/_user_request_{path}"


def test_the_exercise_from_real_source_addresses(petgate: Any, api_id: str, local_url: str) -> None:
    assert petgate("deploy", "--api", api_id).exit_code == 0
    url = invoke(local_url, api_id)
    me, other = client_from(MY_IP), client_from(OTHER_IP)
    assert me.get(url).status_code == 200

    # "my IP" comes from the local checkip, seen from the source address
    blocked = petgate("--source-address", MY_IP, "-o", "json", "block-my-ip", "--api", api_id)
    assert blocked.exit_code == 0, blocked.stderr
    assert blocked.json["added"] == [f"{MY_IP}/32"]

    denied = me.get(url)
    assert denied.status_code == 403
    assert denied.json() == {
        "Message": "User: anonymous is not authorized to perform: execute-api:Invoke on resource: "
        f"arn:aws:execute-api:us-east-1:********9012:{api_id}/test/GET/ with an explicit deny"
    }
    assert denied.headers["x-amzn-ErrorType"] == "AccessDeniedException"
    assert other.get(url).status_code == 200
    spoofed = me.get(url, headers={"X-Forwarded-For": OTHER_IP, "X-Real-IP": OTHER_IP, "Forwarded": f"for={OTHER_IP}"})
    assert spoofed.status_code == 403, "a header must not change aws:SourceIp"

    verify = petgate("--source-address", MY_IP, "-o", "json", "verify", "--api", api_id, "--expect", "denied", "--timeout", "5")
    assert verify.exit_code == 0 and verify.json["outcome"] == "denied"
    assert {leak["kind"] for leak in verify.json["leaks"]} == {"arn", "masked_account_id"}

    assert petgate("set-403-template", "--api", api_id).exit_code == 0
    quiet = petgate("--source-address", MY_IP, "-o", "json", "verify", "--api", api_id, "--expect", "denied", "--timeout", "5")
    assert quiet.json["body"] == '{"message":"Access denied"}' and quiet.json["leaks"] == []

    assert petgate("--source-address", MY_IP, "unblock", "--api", api_id).exit_code == 0
    assert me.get(url).status_code == 200
    allowed = petgate("--source-address", MY_IP, "verify", "--api", api_id, "--expect", "allowed", "--timeout", "5")
    assert allowed.exit_code == 0


def test_changes_are_invisible_until_deployed_and_rollback_serves_the_old_snapshot(
    petgate: Any, api_id: str, local_url: str, apigw: Any
) -> None:
    first = petgate("-o", "json", "deploy", "--api", api_id).json["deployment_id"]
    url = invoke(local_url, api_id)
    me = client_from(MY_IP)
    petgate("block-my-ip", "--api", api_id, "--cidr", MY_IP, "--no-deploy")
    petgate("set-403-template", "--api", api_id, "--no-deploy")
    assert me.get(url).status_code == 200, "an undeployed policy changes nothing"

    second = petgate("-o", "json", "deploy", "--api", api_id).json["deployment_id"]
    assert me.get(url).json() == {"message": "Access denied"}

    apigw.update_stage(restApiId=api_id, stageName="test", patchOperations=[{"op": "replace", "path": "/deploymentId", "value": first}])
    assert me.get(url).status_code == 200, "the stage now serves the first snapshot"
    apigw.update_stage(restApiId=api_id, stageName="test", patchOperations=[{"op": "replace", "path": "/deploymentId", "value": second}])
    assert me.get(url).status_code == 403


def test_status_sees_undeployed_changes_through_the_stage_export(petgate: Any, api_id: str, apigw: Any) -> None:
    petgate("deploy", "--api", api_id)
    assert petgate("-o", "json", "status", "--api", api_id).json["policy_changed_since_deploy"] is False
    petgate("block-my-ip", "--api", api_id, "--cidr", MY_IP, "--no-deploy")
    petgate("set-403-template", "--api", api_id, "--no-deploy")
    data = petgate("-o", "json", "status", "--api", api_id).json
    assert data["policy_changed_since_deploy"] is True
    assert data["access_denied_changed_since_deploy"] is True
    petgate("deploy", "--api", api_id)
    data = petgate("-o", "json", "status", "--api", api_id).json
    assert data["policy_changed_since_deploy"] is False
    assert data["access_denied_changed_since_deploy"] is False
    exported = json.loads(apigw.get_export(restApiId=api_id, stageName="test", exportType="oas30", parameters={"extensions": "apigateway"})["body"].read())
    assert exported["x-amazon-apigateway-policy"]["Statement"][0]["Sid"] == "PetgateDenyIps"


def test_the_landing_page_and_the_offline_petstore(petgate: Any, api_id: str, local_url: str) -> None:
    petgate("deploy", "--api", api_id, "--stage", "prod")
    page = requests.get(invoke(local_url, api_id, "/", "prod"))
    assert page.status_code == 200
    assert page.headers["Content-Type"] == "text/html"
    assert 'href="/prod/pets/"' in page.text and 'href="/prod/pets/1"' in page.text
    pets = requests.get(invoke(local_url, api_id, "/pets", "prod"))
    assert pets.status_code == 200 and pets.headers["Access-Control-Allow-Origin"] == "*"
    assert [p["id"] for p in pets.json()] == [1, 2, 3]
    assert requests.get(invoke(local_url, api_id, "/pets/", "prod")).json() == pets.json()
    assert requests.get(invoke(local_url, api_id, "/pets?page=2", "prod")).json()[0]["id"] == 4
    cats = requests.get(invoke(local_url, api_id, "/pets?type=cat", "prod")).json()
    assert cats and all(p["type"] == "cat" for p in cats)
    assert requests.get(invoke(local_url, api_id, "/pets/2", "prod")).json()["id"] == 2
    created = requests.post(invoke(local_url, api_id, "/pets", "prod"), json={"type": "cat", "price": 123.11})
    assert created.json() == {"pet": {"type": "cat", "price": 123.11}, "message": "success"}
    preflight = requests.options(invoke(local_url, api_id, "/pets", "prod"))
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Methods"] == "POST,GET,OPTIONS"


def test_unknown_paths_methods_and_stages(petgate: Any, api_id: str, local_url: str) -> None:
    petgate("deploy", "--api", api_id)
    for response in (
        requests.get(invoke(local_url, api_id, "/nothing/here")),
        requests.delete(invoke(local_url, api_id, "/pets")),
    ):
        assert response.status_code == 403
        assert response.json() == {"message": "Missing Authentication Token"}
        assert response.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
    assert requests.get(invoke(local_url, api_id, "/", "nostage")).json() == {"message": "Forbidden"}


def echo_answer(method: str, path: str, headers: Any, body: bytes) -> tuple[int, dict[str, str], bytes]:
    """A backend that echoes what it received."""
    echoed = {"method": method, "path": path, "body": body.decode(), "x_test": headers.get("X-Test")}
    return 201, {"Content-Type": "application/json", "X-Backend": "echo"}, json.dumps(echoed).encode()


@pytest.fixture()
def echo() -> Iterator[LoopbackServer]:
    backend = LoopbackServer(echo_answer)
    yield backend
    backend.close()


def openapi_with(paths: dict[str, Any]) -> bytes:
    return json.dumps({"openapi": "3.0.1", "info": {"title": "Routing", "version": "1"}, "paths": paths}).encode()


def test_routing_proxy_any_and_http_proxy_integration(apigw: Any, local_url: str, echo: LoopbackServer) -> None:
    mock_ok = {"type": "mock", "requestTemplates": {"application/json": '{"statusCode": 200}'},
               "responses": {"default": {"statusCode": "200", "responseTemplates": {"application/json": '{"route":"$context.resourcePath"}'}}}}
    document = openapi_with({
        "/items/{id}": {"get": {"x-amazon-apigateway-integration": mock_ok}},
        "/items/special": {"get": {"x-amazon-apigateway-integration": mock_ok}},
        "/files/{proxy+}": {"x-amazon-apigateway-any-method": {"x-amazon-apigateway-integration": {
            "type": "http_proxy", "httpMethod": "ANY", "uri": echo.url + "/store/{proxy}",
            "requestParameters": {"integration.request.path.proxy": "method.request.path.proxy"}}}},
        "/down": {"get": {"x-amazon-apigateway-integration": {"type": "http", "httpMethod": "GET", "uri": "http://127.0.0.1:9/",
                                                              "responses": {"default": {"statusCode": "200"}}}}},
    })
    api_id = apigw.import_rest_api(body=document)["id"]
    apigw.create_deployment(restApiId=api_id, stageName="test")
    assert requests.get(invoke(local_url, api_id, "/items/7")).json() == {"route": "/items/{id}"}
    assert requests.get(invoke(local_url, api_id, "/items/special")).json() == {"route": "/items/special"}
    proxied = requests.put(invoke(local_url, api_id, "/files/a/b.txt?x=1"), data="hello", headers={"X-Test": "yes"})
    assert proxied.status_code == 201 and proxied.headers["X-Backend"] == "echo"
    assert proxied.json() == {"method": "PUT", "path": "/store/a/b.txt?x=1", "body": "hello", "x_test": "yes"}
    down = requests.get(invoke(local_url, api_id, "/down"))
    assert down.status_code == 504 and down.json() == {"message": "Internal server error"}


def test_gateway_response_fallbacks_and_templates(apigw: Any, local_url: str, petgate: Any) -> None:
    api_id = petgate("-o", "json", "import-example", "--name", "Fallbacks", "--new").json["api_id"]
    petgate("block-my-ip", "--api", api_id, "--cidr", MY_IP, "--no-deploy")
    apigw.put_gateway_response(
        restApiId=api_id, responseType="DEFAULT_4XX", statusCode="418",
        responseParameters={"gatewayresponse.header.X-Why": "'fallback'"},
        responseTemplates={"application/json": '{"type":"$context.error.responseType","ip":"$context.identity.sourceIp"}'},
    )
    apigw.create_deployment(restApiId=api_id, stageName="test")
    me = client_from(MY_IP)
    denied = me.get(invoke(local_url, api_id))
    # ACCESS_DENIED is not customised: DEFAULT_4XX answers, its status code applies to all 4XX
    assert denied.status_code == 418 and denied.headers["X-Why"] == "fallback"
    assert denied.json() == {"type": "ACCESS_DENIED", "ip": MY_IP}
    missing = requests.get(invoke(local_url, api_id, "/nope"))
    assert missing.status_code == 418 and missing.json()["type"] == "MISSING_AUTHENTICATION_TOKEN"

    apigw.put_gateway_response(restApiId=api_id, responseType="ACCESS_DENIED", statusCode="403",
                               responseTemplates={"application/json": '{"m":$context.error.messageString,"stage":"$context.stage"}'})
    apigw.create_deployment(restApiId=api_id, stageName="test")
    own = me.get(invoke(local_url, api_id, "/pets"))
    assert own.status_code == 403
    assert own.json()["stage"] == "test" and own.json()["m"].endswith(f"{api_id}/test/GET/pets with an explicit deny")


def test_implicit_deny_message(apigw: Any, local_url: str, petgate: Any) -> None:
    api_id = petgate("-o", "json", "import-example", "--name", "Implicit", "--new").json["api_id"]
    only_other = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke",
                  "Resource": "execute-api:/*", "Condition": {"IpAddress": {"aws:SourceIp": "192.0.2.0/24"}}}]}
    apigw.update_rest_api(restApiId=api_id, patchOperations=[{"op": "replace", "path": "/policy", "value": json.dumps(only_other)}])
    apigw.create_deployment(restApiId=api_id, stageName="test")
    body = requests.get(invoke(local_url, api_id, "/pets/1")).json()
    assert body["Message"].endswith(f"{api_id}/test/GET/pets/1")  # no "with an explicit deny"


def test_control_plane_fidelity(apigw: Any, api_id: str) -> None:
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as raised:
        apigw.update_rest_api(restApiId=api_id, patchOperations=[{"op": "replace", "path": "/policy", "value": "{not json"}])
    assert raised.value.response["Error"]["Code"] == "BadRequestException"
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke",
              "Resource": "execute-api:/*/GET/pets"}]}
    apigw.update_rest_api(restApiId=api_id, patchOperations=[{"op": "replace", "path": "/policy", "value": json.dumps(policy)}])
    stored = apigw.get_rest_api(restApiId=api_id)["policy"]
    assert stored.startswith('{\\"Version\\":') and f"{api_id}\\/*\\/GET\\/pets" in stored
    responses = apigw.get_gateway_responses(restApiId=api_id)["items"]
    assert len(responses) == 21 and all(r["defaultResponse"] for r in responses)
    denied = next(r for r in responses if r["responseType"] == "ACCESS_DENIED")
    assert denied["statusCode"] == "403"
    assert denied["responseTemplates"] == {"application/json": '{"message":$context.error.messageString}'}
