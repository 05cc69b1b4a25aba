"""DeleteModel, GetStages(deploymentId), and UpdateRestApi's binaryMediaTypes and
minimumCompressionSize, as AWS answers them.

RECORDINGS (localstack/localstack, tests/aws/services/apigateway/):
- API = test_apigateway_api.snapshot.json
"""

from __future__ import annotations

import json
from typing import Any

from tests.fidelity.conftest import error_of


def test_delete_model_answers_202(raw: Any, rest_api: str) -> None:
    """API, TestApiGatewayApiModels::test_model_lifecycle / del-model: HTTP 202."""
    raw.create_model(restApiId=rest_api, name="CalcOutput", contentType="application/json",
                     schema=json.dumps({"type": "object", "properties": {"a": {"type": "number"}}}))
    deleted = raw.delete_model(restApiId=rest_api, modelName="CalcOutput")
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert error_of(raw.get_model, restApiId=rest_api, modelName="CalcOutput")["Status"] == 404


def test_get_stages_filters_by_deployment_id(raw: Any, rest_api: str) -> None:
    """API, TestApiGatewayStage::test_get_stages_filters_by_deployment_id / all-stages,
    stages-deploy1, stages-deploy2."""
    root = raw.get_resources(restApiId=rest_api)["items"][0]["id"]
    raw.put_method(restApiId=rest_api, resourceId=root, httpMethod="GET", authorizationType="NONE")
    raw.put_integration(restApiId=rest_api, resourceId=root, httpMethod="GET", type="MOCK",
                        requestTemplates={"application/json": '{"statusCode": 200}'})
    first = raw.create_deployment(restApiId=rest_api)["id"]
    second = raw.create_deployment(restApiId=rest_api)["id"]
    raw.create_stage(restApiId=rest_api, stageName="stage1", deploymentId=first)
    raw.create_stage(restApiId=rest_api, stageName="stage2", deploymentId=second)

    def stages(**kwargs: Any) -> list[tuple[str, str]]:
        return sorted((s["stageName"], s["deploymentId"]) for s in raw.get_stages(restApiId=rest_api, **kwargs)["item"])

    assert stages() == sorted([("stage1", first), ("stage2", second)])
    assert stages(deploymentId=first) == [("stage1", first)]
    assert stages(deploymentId=second) == [("stage2", second)]


def test_update_binary_media_types(raw: Any) -> None:
    """API, TestApiGatewayApiRestApi::test_update_rest_api_operation_add_remove /
    update-rest-api-add, update-rest-api-replace, update-rest-api-remove."""
    api = raw.create_rest_api(name="binary", description="this is my api")["id"]
    added = raw.update_rest_api(restApiId=api, patchOperations=[
        {"op": "add", "path": "/binaryMediaTypes/image~1png"}, {"op": "add", "path": "/binaryMediaTypes/image~1jpeg"}])
    assert added["binaryMediaTypes"] == ["image/png", "image/jpeg"] and added["description"] == "this is my api"
    replaced = raw.update_rest_api(restApiId=api, patchOperations=[
        {"op": "replace", "path": "/binaryMediaTypes/image~1png", "value": "image/gif"}])
    assert replaced["binaryMediaTypes"] == ["image/jpeg", "image/gif"]
    removed = raw.update_rest_api(restApiId=api, patchOperations=[
        {"op": "remove", "path": "/binaryMediaTypes/image~1gif"}, {"op": "remove", "path": "/description"}])
    assert removed["binaryMediaTypes"] == ["image/jpeg"] and "description" not in removed
    assert raw.get_rest_api(restApiId=api)["binaryMediaTypes"] == ["image/jpeg"]


def test_update_minimum_compression_size(raw: Any) -> None:
    """API, TestApiGatewayApiRestApi::test_update_rest_api_compression / enable-compression,
    disable-compression, set-compression-zero, set-negative-compression, set-string-compression,
    unsupported-operation."""
    api = raw.create_rest_api(name="compression", description="this is my api")["id"]

    def replace(value: str) -> dict[str, Any]:
        return dict(raw.update_rest_api(restApiId=api, patchOperations=[
            {"op": "replace", "path": "/minimumCompressionSize", "value": value}]))

    assert replace("10")["minimumCompressionSize"] == 10
    assert raw.get_rest_api(restApiId=api)["minimumCompressionSize"] == 10
    assert "minimumCompressionSize" not in replace("")
    assert "minimumCompressionSize" not in raw.get_rest_api(restApiId=api)
    assert replace("0")["minimumCompressionSize"] == 0
    invalid = {"Code": "BadRequestException", "Status": 400,
               "Message": "Invalid minimum compression size, must be between 0 and 10485760"}
    for value in ("-1", "test"):
        assert error_of(raw.update_rest_api, restApiId=api, patchOperations=[
            {"op": "replace", "path": "/minimumCompressionSize", "value": value}]) == invalid
    assert error_of(raw.update_rest_api, restApiId=api, patchOperations=[
        {"op": "add", "path": "/minimumCompressionSize", "value": "10"}]) == {
        "Code": "BadRequestException", "Status": 400, "Message": "Invalid patch operation specified. Must be one of: [replace]"}
