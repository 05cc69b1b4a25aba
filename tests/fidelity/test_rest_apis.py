"""RestApi, model, resource and integration shapes, and their errors, as AWS answers them.

RECORDINGS (localstack/localstack, tests/aws/services/apigateway/):
- API = test_apigateway_api.snapshot.json
- IMPORT = test_apigateway_import.snapshot.json
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from petgate import example
from tests.fidelity.conftest import error_of, plain

SHAPE = {"apiKeySource", "createdDate", "disableExecuteApiEndpoint", "endpointConfiguration", "id", "name", "rootResourceId"}


@pytest.mark.parametrize(
    ("kwargs", "endpoint", "extra"),
    [  # API, TestApiGatewayApiRestApi::test_create_rest_api_verify_defaults / create-with-*-default,
       # ::test_create_rest_api_with_optional_params / create-only-name, create-with-version, create-with-empty-binary-media
        ({}, {"ipAddressType": "ipv4", "types": ["EDGE"]}, {}),
        ({"endpointConfiguration": {"types": ["REGIONAL"]}}, {"ipAddressType": "ipv4", "types": ["REGIONAL"]}, {}),
        ({"endpointConfiguration": {"types": ["PRIVATE"]}}, {"ipAddressType": "dualstack", "types": ["PRIVATE"]}, {}),
        ({"version": "v1"}, {"ipAddressType": "ipv4", "types": ["EDGE"]}, {"version": "v1"}),
        ({"binaryMediaTypes": []}, {"ipAddressType": "ipv4", "types": ["EDGE"]}, {}),
    ],
)
def test_create_rest_api_shapes(raw: Any, kwargs: dict[str, Any], endpoint: dict[str, Any], extra: dict[str, Any]) -> None:
    created = raw.create_rest_api(name="shape", **kwargs)
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    shown = plain(created)
    assert set(shown) == SHAPE | set(extra), "no description, version, binaryMediaTypes or tags key unless set"
    assert shown["endpointConfiguration"] == endpoint and shown["apiKeySource"] == "HEADER"
    assert shown["disableExecuteApiEndpoint"] is False and all(shown[k] == v for k, v in extra.items())
    assert plain(raw.get_rest_api(restApiId=shown["id"])) == {**shown, "tags": {}}  # GetRestApi shows empty tags


def test_create_rest_api_errors(raw: Any) -> None:
    """API, test_create_rest_api_with_optional_params / create-empty-desc;
    test_create_rest_api_verify_defaults / create-with-empty-ip-address-type-and-wrong-type."""
    assert error_of(raw.create_rest_api, name="x", description="") == {
        "Code": "BadRequestException", "Message": "Description cannot be an empty string", "Status": 400}
    assert error_of(raw.create_rest_api, name="x", endpointConfiguration={"types": ["wrong"]}) == {
        "Code": "ValidationException", "Status": 400, "Message": (
            "1 validation error detected: Value '[wrong]' at 'createRestApiInput.endpointConfiguration.types' failed "
            "to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: "
            "[PRIVATE, EDGE, REGIONAL]]")}


def test_unknown_api(raw: Any) -> None:
    """API, test_update_rest_api_invalid_api_id / not-found-update-rest-api."""
    assert error_of(raw.update_rest_api, restApiId="api_id", patchOperations=[]) == {
        "Code": "NotFoundException", "Message": "Invalid API identifier specified 123456789012:api_id", "Status": 404}
    assert error_of(raw.get_rest_api, restApiId="api_id")["Message"] == "Invalid API identifier specified 123456789012:api_id"


def test_model_validation(raw: Any, rest_api: str) -> None:
    """API, TestApiGatewayApiModels::test_model_validation."""
    schema = json.dumps({"type": "object", "properties": {"a": {"type": "string"}}})
    assert error_of(raw.create_model, restApiId="abcde0", name="MySchema", schema=schema, contentType="application/json") == {
        "Code": "NotFoundException", "Message": "Invalid API identifier specified 123456789012:abcde0", "Status": 404}
    not_found = {"Code": "NotFoundException", "Message": "Invalid model name specified: MySchema", "Status": 404}
    assert error_of(raw.get_model, restApiId=rest_api, modelName="MySchema") == not_found
    assert error_of(raw.delete_model, restApiId=rest_api, modelName="MySchema") == not_found
    raw.create_model(restApiId=rest_api, name="MySchema", schema=schema, contentType="application/json")
    assert error_of(raw.create_model, restApiId=rest_api, name="MySchema", schema=schema, contentType="application/json") == {
        "Code": "ConflictException", "Message": "Model name already exists for this REST API", "Status": 409}
    assert error_of(raw.create_model, restApiId=rest_api, name="", schema=schema, contentType="application/json") == {
        "Code": "BadRequestException", "Message": "Model name must be non-empty", "Status": 400}
    for empty in ("", None):
        kwargs = {"schema": empty} if empty is not None else {}
        assert error_of(raw.create_model, restApiId=rest_api, name="NoSchema", contentType="application/json", **kwargs) == {
            "Code": "BadRequestException", "Message": "Model schema must have at least 1 property or array items defined",
            "Status": 400}


@pytest.fixture()
def petstore(raw: Any) -> tuple[str, dict[str, str]]:
    api = raw.import_rest_api(body=example.definition_bytes("PetStore"))
    resources = raw.get_resources(restApiId=api["id"])["items"]
    return api["id"], {r["path"]: r["id"] for r in resources}


def test_petstore_import(raw: Any, petstore: tuple[str, dict[str, str]]) -> None:
    """IMPORT, test_import_swagger_api: import-swagger, resources, integration-pets-get,
    integration-pets-options, method-response-pets-get, get-models."""
    api_id, ids = petstore
    api = plain(raw.get_rest_api(restApiId=api_id))
    assert set(api) == SHAPE | {"description", "tags"} and api["endpointConfiguration"] == {"ipAddressType": "ipv4", "types": ["EDGE"]}
    resources = raw.get_resources(restApiId=api_id)["items"]
    assert {r["path"]: r.get("resourceMethods") for r in resources} == {
        "/": {"GET": {}}, "/pets": {"GET": {}, "OPTIONS": {}, "POST": {}}, "/pets/{petId}": {"GET": {}, "OPTIONS": {}}}
    pets_get = plain(raw.get_integration(restApiId=api_id, resourceId=ids["/pets"], httpMethod="GET"))
    assert pets_get == {
        "cacheKeyParameters": [], "cacheNamespace": ids["/pets"], "connectionType": "INTERNET", "httpMethod": "GET",
        "integrationResponses": {"200": {"responseParameters": {"method.response.header.Access-Control-Allow-Origin": "'*'"},
                                         "statusCode": "200"}},
        "passthroughBehavior": "WHEN_NO_MATCH",
        "requestParameters": {"integration.request.querystring.page": "method.request.querystring.page",
                              "integration.request.querystring.type": "method.request.querystring.type"},
        "timeoutInMillis": 29000, "type": "HTTP", "uri": "http://petstore-demo-endpoint.execute-api.com/petstore/pets",
    }
    options = plain(raw.get_integration(restApiId=api_id, resourceId=ids["/pets"], httpMethod="OPTIONS"))
    assert set(options) == {"cacheKeyParameters", "cacheNamespace", "integrationResponses", "passthroughBehavior",
                            "requestTemplates", "timeoutInMillis", "type"}
    assert options["type"] == "MOCK" and options["cacheNamespace"] == ids["/pets"]
    method_response = plain(raw.get_method_response(restApiId=api_id, resourceId=ids["/pets"], httpMethod="GET", statusCode="200"))
    assert method_response == {"responseModels": {"application/json": "Pets"}, "statusCode": "200",
                               "responseParameters": {"method.response.header.Access-Control-Allow-Origin": False}}
    models = {m["name"]: m for m in raw.get_models(restApiId=api_id)["items"]}
    assert json.loads(models["Empty"]["schema"]) == {"type": "object"} and "description" not in models["Empty"]
    new_pet = json.loads(models["NewPet"]["schema"])
    assert new_pet["properties"]["type"]["$ref"] == f"https://apigateway.amazonaws.com/restapis/{api_id}/models/PetType"


@pytest.mark.parametrize("body", [b"openapi: 3.0.0\ninfo: [unclosed", b'{"openapi": "3.0.0", "info": '])
def test_bad_files(raw: Any, rest_api: str, body: bytes) -> None:
    """IMPORT, test_import_api_bad_file: import-api-bad-yaml-file, -json-file, put-rest-api-bad-*-file."""
    expected = {"Code": "BadRequestException", "Message": "Invalid OpenAPI input.", "Status": 400}
    assert error_of(raw.import_rest_api, body=body) == expected
    assert error_of(raw.put_rest_api, restApiId=rest_api, body=body) == expected


@pytest.mark.parametrize(("mode", "expected"), [("merge", ["image/heif", "image/png", "image/jpg"]),
                                                ("overwrite", ["image/png", "image/jpg"])])
def test_put_rest_api_binary_media_types(raw: Any, mode: str, expected: list[str]) -> None:
    """IMPORT, test_put_rest_api_mode_binary_media_types[merge|overwrite]: create-rest-api, get-rest-api, put-api."""
    created = plain(raw.create_rest_api(name="bin", binaryMediaTypes=["image/heif"]))
    assert created["binaryMediaTypes"] == ["image/heif"] and "tags" not in created
    assert plain(raw.get_rest_api(restApiId=created["id"]))["tags"] == {}
    document = {"swagger": "2.0", "info": {"title": "renamed", "version": "1.0.0"},
                "x-amazon-apigateway-binary-media-types": ["image/png", "image/jpg"], "paths": {}}
    put = plain(raw.put_rest_api(restApiId=created["id"], body=json.dumps(document).encode(), mode=mode))
    assert put["binaryMediaTypes"] == expected and put["name"] == "renamed" and put["version"] == "1.0.0"
    assert put["tags"] == {}
