"""Where moto's API Gateway models answer differently from AWS, corrected once, in moto's own
classes, so every request (intercepted or forwarded to moto's app) gets AWS's answer.

Each fix cites the recording of real AWS it follows (LocalStack's
tests/aws/services/apigateway/test_apigateway_api.snapshot.json, by test and key).
"""

from __future__ import annotations

from typing import Any

_installed = False


def install() -> None:
    """Patch moto's APIGatewayBackend (idempotent)."""
    global _installed
    if _installed:
        return
    from moto.apigateway import models
    from moto.apigateway.exceptions import BadRequestException, ConflictException, NotFoundException

    def get_rest_api(self: Any, function_id: str) -> Any:
        # test_gateway_response_validation / get-gateway-responses-no-api:
        # NotFoundException "Invalid API identifier specified ACCOUNT:ID" (moto: "Invalid Rest API Id specified")
        rest_api = self.apis.get(function_id)
        if rest_api is None:
            missing = NotFoundException(f"Invalid API identifier specified {self.account_id}:{function_id}")
            missing.code = 404
            raise missing
        return rest_api

    original_create_model = models.APIGatewayBackend.create_model

    def create_model(self: Any, rest_api_id: str, name: str, content_type: str, description: str, schema: str) -> Any:
        # TestApiGatewayApiModels::test_model_validation / create-model-already-exists:
        # ConflictException "Model name already exists for this REST API" (moto replaces the model)
        api = self.get_rest_api(rest_api_id)
        if not name:
            raise BadRequestException("Model name must be non-empty")  # create-model-empty-name
        if name in api.models:
            raise ConflictException("Model name already exists for this REST API")
        return original_create_model(self, rest_api_id, name, content_type, description, schema)

    models.APIGatewayBackend.get_rest_api = get_rest_api  # type: ignore[method-assign]
    models.APIGatewayBackend.create_model = create_model  # type: ignore[method-assign]
    _installed = True
