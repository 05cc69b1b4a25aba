"""The local gateway's ImportRestApi: YAML, invalid documents, and no half-made API left behind."""

from __future__ import annotations

import json
from typing import Any

import botocore.exceptions
import pytest

YAML = b"""
swagger: "2.0"
info:
  title: YamlPets
  description: a YAML document
paths:
  /pets:
    get:
      x-amazon-apigateway-integration:
        type: mock
        requestTemplates:
          application/json: '{"statusCode": 200}'
        responses:
          default:
            statusCode: "200"
"""


def import_body(apigw: Any, body: bytes) -> dict[str, Any]:
    return dict(apigw.import_rest_api(body=body, parameters={"endpointConfigurationTypes": "REGIONAL"}))


def names(apigw: Any) -> list[str]:
    return [api["name"] for api in apigw.get_rest_apis(limit=500)["items"]]


def test_a_yaml_document_imports(apigw: Any) -> None:
    api = import_body(apigw, YAML)
    assert api["name"] == "YamlPets" and api["description"] == "a YAML document"
    paths = {r["path"] for r in apigw.get_resources(restApiId=api["id"])["items"]}
    assert paths == {"/", "/pets"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "Invalid OpenAPI input"),
        (b"- just\n- a list\n", "Invalid OpenAPI input"),
        (b'{"info": {"title": "x"}, "paths": {}}', "no swagger or openapi version"),
        (b'{"swagger": "2.0", "info": {"title": "x"}, "paths": []}', "paths must be an object"),
        (b'{"swagger": "2.0", "info": {}, "paths": {}}', "info.title is required"),
    ],
)
def test_invalid_documents_are_refused(apigw: Any, body: bytes, message: str) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        import_body(apigw, body)
    assert refused.value.response["Error"]["Code"] == "BadRequestException"
    assert message in refused.value.response["Error"]["Message"]


def test_a_failed_import_leaves_no_api_behind(apigw: Any) -> None:
    document = {
        "swagger": "2.0",
        "info": {"title": "HalfMade"},
        "paths": {
            "/ok": {"get": {"x-amazon-apigateway-integration": {"type": "mock", "responses": {"default": {"statusCode": "200"}}}}},
            "/broken": {"get": {"x-amazon-apigateway-integration": {"type": "http", "httpMethod": "GET"}}},  # no uri
        },
    }
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        import_body(apigw, json.dumps(document).encode())
    assert "needs a uri" in refused.value.response["Error"]["Message"]
    assert "HalfMade" not in names(apigw)
