"""GetExport of a deployed stage, and stage / deployment shapes.

RECORDINGS (localstack/localstack, tests/aws/services/apigateway/):
- EXTENDED = test_apigateway_extended.snapshot.json, test_export_swagger_openapi[TEST_IMPORT_PETSTORE_SWAGGER]
  and test_export_oas30_openapi[TEST_IMPORT_PETSTORE_SWAGGER]: get-export, get-export-with-extensions
- API = test_apigateway_api.snapshot.json, TestApiGatewayStage::test_stage_access_log_settings:
  create-deployment, create-stage
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from petgate import example
from tests.fidelity.conftest import plain

DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


@pytest.fixture()
def deployed(raw: Any) -> str:
    api_id = str(raw.import_rest_api(body=example.definition_bytes("PetStore"))["id"])
    raw.create_deployment(restApiId=api_id, stageName="local")
    return api_id


def get_export(raw: Any, api_id: str, kind: str, extensions: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    kwargs: dict[str, Any] = {"parameters": {"extensions": "apigateway"}} if extensions else {}
    response = raw.get_export(restApiId=api_id, stageName="local", exportType=kind, **kwargs)
    return json.loads(response["body"].read()), response


def test_swagger_export(raw: Any, deployed: str) -> None:
    body, response = get_export(raw, deployed, "swagger", extensions=False)
    assert response["contentType"] == "application/octet-stream"
    assert re.fullmatch(r'attachment; filename="swagger_[^"]+\.json"', response["contentDisposition"])
    assert body["swagger"] == "2.0" and DATE.match(body["info"]["version"]) and body["info"]["title"] == "PetStore"
    assert body["host"] == f"{deployed}.execute-api.us-east-1.amazonaws.com" and body["basePath"] == "/local"
    assert body["schemes"] == ["https"]
    assert body["paths"]["/pets"]["get"] == {
        "produces": ["application/json"],
        "parameters": [{"name": "type", "in": "query", "required": False, "type": "string"},
                       {"name": "page", "in": "query", "required": False, "type": "string"}],
        "responses": {"200": {"description": "200 response", "schema": {"$ref": "#/definitions/Pets"},
                              "headers": {"Access-Control-Allow-Origin": {"type": "string"}}}},
    }
    post = body["paths"]["/pets"]["post"]
    assert post["operationId"] == "CreatePet" and post["consumes"] == ["application/json"]
    assert post["parameters"] == [{"in": "body", "name": "NewPet", "required": True, "schema": {"$ref": "#/definitions/NewPet"}}]
    assert body["paths"]["/"]["get"]["produces"] == ["text/html"]
    assert body["definitions"]["Pets"] == {"type": "array", "items": {"$ref": "#/definitions/Pet"}}
    assert body["definitions"]["Empty"] == {"type": "object"}
    assert not any("x-amazon-apigateway-integration" in op for path in body["paths"].values() for op in path.values())


def test_swagger_export_with_extensions(raw: Any, deployed: str) -> None:
    body, _ = get_export(raw, deployed, "swagger", extensions=True)
    assert body["paths"]["/pets"]["get"]["x-amazon-apigateway-integration"] == {
        "type": "http", "httpMethod": "GET", "uri": "http://petstore-demo-endpoint.execute-api.com/petstore/pets",
        "responses": {"default": {"statusCode": "200", "responseParameters": {"method.response.header.Access-Control-Allow-Origin": "'*'"}}},
        "requestParameters": {"integration.request.querystring.page": "method.request.querystring.page",
                              "integration.request.querystring.type": "method.request.querystring.type"},
        "passthroughBehavior": "when_no_match",
    }
    root = body["paths"]["/"]["get"]["x-amazon-apigateway-integration"]
    assert root["type"] == "mock" and root["requestTemplates"] == {"application/json": '{"statusCode": 200}'}
    assert "httpMethod" not in root and root["passthroughBehavior"] == "when_no_match"


def test_oas30_export(raw: Any, deployed: str) -> None:
    body, response = get_export(raw, deployed, "oas30", extensions=False)
    assert re.fullmatch(r'attachment; filename="oas30_[^"]+\.json"', response["contentDisposition"])
    assert body["openapi"] == "3.0.1" and DATE.match(body["info"]["version"])
    assert body["servers"] == [{"url": f"https://{deployed}.execute-api.us-east-1.amazonaws.com/{{basePath}}",
                                "variables": {"basePath": {"default": "local"}}}]
    assert body["paths"]["/pets"]["get"] == {
        "parameters": [{"name": "type", "in": "query", "schema": {"type": "string"}},
                       {"name": "page", "in": "query", "schema": {"type": "string"}}],
        "responses": {"200": {"description": "200 response",
                              "headers": {"Access-Control-Allow-Origin": {"schema": {"type": "string"}}},
                              "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pets"}}}}},
    }
    assert body["paths"]["/pets"]["post"]["requestBody"] == {
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/NewPet"}}}, "required": True}
    assert body["paths"]["/pets/{petId}"]["get"]["parameters"] == [
        {"name": "petId", "in": "path", "required": True, "schema": {"type": "string"}}]
    assert body["paths"]["/"]["get"]["responses"]["200"]["content"] == {}
    assert body["components"]["schemas"]["NewPet"]["properties"]["type"] == {"$ref": "#/components/schemas/PetType"}


def test_export_extensions_carry_the_deployed_policy_and_responses(raw: Any, deployed: str) -> None:
    without, _ = get_export(raw, deployed, "oas30", extensions=True)
    assert "x-amazon-apigateway-policy" not in without
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*"}]}
    raw.update_rest_api(restApiId=deployed, patchOperations=[{"op": "replace", "path": "/policy", "value": json.dumps(policy)}])
    raw.put_gateway_response(restApiId=deployed, responseType="ACCESS_DENIED", responseTemplates={"application/json": "{}"})
    stale, _ = get_export(raw, deployed, "oas30", extensions=True)
    assert "x-amazon-apigateway-policy" not in stale, "an export shows what is deployed, not what is stored"
    raw.create_deployment(restApiId=deployed, stageName="local")
    fresh, _ = get_export(raw, deployed, "oas30", extensions=True)
    assert fresh["x-amazon-apigateway-policy"]["Statement"][0]["Resource"] == (
        f"arn:aws:execute-api:us-east-1:123456789012:{deployed}/*")
    assert fresh["x-amazon-apigateway-gateway-responses"]["ACCESS_DENIED"] == {
        "statusCode": "403", "responseTemplates": {"application/json": "{}"}}


def test_stage_and_deployment_shapes(raw: Any, rest_api: str) -> None:
    root = raw.get_resources(restApiId=rest_api)["items"][0]["id"]
    raw.put_method(restApiId=rest_api, resourceId=root, httpMethod="GET", authorizationType="NONE")
    raw.put_integration(restApiId=rest_api, resourceId=root, httpMethod="GET", type="MOCK")
    deployment = raw.create_deployment(restApiId=rest_api)
    assert deployment["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert set(plain(deployment)) == {"createdDate", "id"}
    stage = raw.create_stage(restApiId=rest_api, stageName="dev", deploymentId=deployment["id"], description="dev stage")
    shown = plain(stage)
    assert set(shown) == {"cacheClusterEnabled", "cacheClusterStatus", "createdDate", "deploymentId", "description",
                          "lastUpdatedDate", "methodSettings", "stageName", "tracingEnabled"}
    assert shown["cacheClusterEnabled"] is False and shown["cacheClusterStatus"] == "NOT_AVAILABLE"
    assert shown["tracingEnabled"] is False and shown["methodSettings"] == {} and shown["stageName"] == "dev"


def test_export_keeps_the_document_s_version_and_an_empty_components(raw: Any) -> None:
    """EXTENDED, test_export_swagger_openapi[TEST_IMPORT_PETS] and
    test_export_oas30_openapi[TEST_IMPORT_PETS] / get-export: info.version is the imported
    document's ("1.0.0"), and oas30 has `"components": {}` when there is nothing in it."""
    document = {"swagger": "2.0", "info": {"version": "1.0.0", "title": "Simple PetStore (Swagger)"},
                "paths": {"/pets": {"get": {"responses": {"200": {"description": "ok"}},
                                            "x-amazon-apigateway-integration": {"type": "mock", "responses": {
                                                "default": {"statusCode": "200"}}}}}}}
    api_id = raw.import_rest_api(body=json.dumps(document))["id"]
    for name in [m["name"] for m in raw.get_models(restApiId=api_id)["items"]]:
        raw.delete_model(restApiId=api_id, modelName=name)
    raw.create_deployment(restApiId=api_id, stageName="local")
    swagger, _ = get_export(raw, api_id, "swagger", extensions=False)
    oas30, _ = get_export(raw, api_id, "oas30", extensions=False)
    assert swagger["info"] == {"version": "1.0.0", "title": "Simple PetStore (Swagger)"}
    assert oas30["info"]["version"] == "1.0.0"
    assert oas30["components"] == {}
