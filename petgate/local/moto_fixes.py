"""Where moto's API Gateway models answer differently from AWS, corrected once, in moto's own
classes, so every request (intercepted or forwarded to moto's app) gets AWS's answer.

Each fix cites the recording of real AWS it follows (LocalStack's
tests/aws/services/apigateway/test_apigateway_api.snapshot.json, by test and key).
"""

from __future__ import annotations

import json
import time
from typing import Any

from petgate.local import rest_objects

_installed = False


def install() -> None:
    """Patch moto's APIGatewayBackend (idempotent)."""
    global _installed
    if _installed:
        return
    from moto.apigateway import models, responses
    from moto.apigateway.exceptions import BadRequestException, ConflictException, NotFoundException

    def not_found(message: str) -> Exception:
        missing = NotFoundException(message)
        missing.code = 404  # AWS's status; moto's NotFoundException says 400
        return missing

    def get_rest_api(self: Any, function_id: str) -> Any:
        # test_gateway_response_validation / get-gateway-responses-no-api:
        # NotFoundException "Invalid API identifier specified ACCOUNT:ID" (moto: "Invalid Rest API Id specified")
        rest_api = self.apis.get(function_id)
        if rest_api is None:
            raise not_found(f"Invalid API identifier specified {self.account_id}:{function_id}")
        return rest_api

    def get_resource(self: Any, function_id: str, resource_id: str) -> Any:
        # TestApiGatewayApiResource::test_update_resource_behaviour / nonexistent-resource:
        # "Invalid Resource identifier specified" (moto: "resource", lower case)
        api = self.get_rest_api(function_id)
        if resource_id not in api.resources:
            raise not_found(rest_objects.RESOURCE_NOT_FOUND)
        return api.resources[resource_id]

    def get_request_validator(self: Any, validator_id: str) -> Any:
        # TestApiGatewayApiRequestValidator::test_request_validator_lifecycle / get-deleted-request-validator
        validator = self.request_validators.get(validator_id)
        if validator is None:
            raise not_found(rest_objects.VALIDATOR_NOT_FOUND)
        return validator

    models.RestAPI.get_request_validator = get_request_validator  # type: ignore[method-assign]

    def backend_get_request_validator(self: Any, restapi_id: str, validator_id: str) -> Any:
        # test_invalid_get_request_validator / get-request-validators-invalid-api-id: an unknown
        # API is an unknown validator
        api = self.apis.get(restapi_id)
        if api is None:
            raise not_found(rest_objects.VALIDATOR_NOT_FOUND)
        return api.get_request_validator(validator_id)

    original_create_request_validator = models.APIGatewayBackend.create_request_validator

    def create_request_validator(self: Any, restapi_id: str, *args: Any, **kwargs: Any) -> Any:
        # test_create_request_validator_invalid_api_id / invalid-create-request-validator: 400
        if restapi_id not in self.apis:
            raise BadRequestException("Invalid REST API identifier specified")
        return original_create_request_validator(self, restapi_id, *args, **kwargs)

    original_create_model = models.APIGatewayBackend.create_model

    def create_model(self: Any, rest_api_id: str, name: str, content_type: str, description: str, schema: str) -> Any:
        # TestApiGatewayApiModels::test_model_validation / create-model-already-exists:
        # ConflictException "Model name already exists for this REST API" (moto replaces the model)
        api = self.get_rest_api(rest_api_id)
        if not name:
            raise BadRequestException("Model name must be non-empty")  # create-model-empty-name
        if name in api.models:
            raise ConflictException("Model name already exists for this REST API")
        if not schema:  # create-model-empty-schema, create-model-no-schema-json
            raise BadRequestException("Model schema must have at least 1 property or array items defined")
        return original_create_model(self, rest_api_id, name, content_type, description, schema)

    def model_not_found(name: str) -> Exception:
        # test_model_validation / get-model-wrong-id, del-model-wrong-id (moto: "Invalid Model Name specified")
        return not_found(f"Invalid model name specified: {name}")

    def get_model(self: Any, rest_api_id: str, model_name: str) -> Any:
        model = self.get_rest_api(rest_api_id).models.get(model_name)
        if model is None:
            raise model_not_found(model_name)
        return model

    def delete_model(self: Any, rest_api_id: str, model_name: str) -> None:
        api = self.get_rest_api(rest_api_id)
        if model_name not in api.models:
            raise model_not_found(model_name)
        # TestApiGatewayApiMethod::test_put_method_model / delete-model-used, -used-by-2-method:
        # 409 naming a method that uses it (the last one made: "/test/ANY"; the root's is "//ANY")
        users = [f"{resource.get_path()}/{name}" for resource in api.resources.values()
                 for name, method in resource.resource_methods.items() if model_name in (method.request_models or {}).values()]
        if users:
            raise ConflictException(f"Cannot delete model '{model_name}', is referenced in method request: {users[-1]}")
        del api.models[model_name]

    original_to_dict = models.RestAPI.to_dict

    def rest_api_to_dict(self: Any) -> dict[str, Any]:
        # test_create_rest_api_verify_defaults / create-with-*-default and
        # test_create_rest_api_with_optional_params / create-only-name: no description, version or
        # binaryMediaTypes key unless set; endpointConfiguration.ipAddressType is ipv4, dualstack
        # for PRIVATE (moto: "V1", [] and no ipAddressType). `tags` stays: GetRestApi shows
        # `"tags": {}` (test_apigateway_import, test_put_rest_api_mode_binary_media_types /
        # get-rest-api); only Create and Import leave it out (see control.py)
        shown = dict(original_to_dict(self))
        shown["tags"] = dict(shown.get("tags") or {})
        for key in ("description", "version", "binaryMediaTypes"):
            if not shown.get(key):
                shown.pop(key, None)
        if shown.get("minimumCompressionSize") is None:  # test_update_rest_api_compression / disable-compression
            shown.pop("minimumCompressionSize", None)
        endpoint = dict(shown.get("endpointConfiguration") or {"types": ["EDGE"]})
        endpoint.setdefault("ipAddressType", "dualstack" if "PRIVATE" in (endpoint.get("types") or []) else "ipv4")
        shown["endpointConfiguration"] = endpoint
        return shown

    original_put_integration = models.APIGatewayBackend.put_integration

    def put_integration(self: Any, function_id: str, resource_id: str, *args: Any, **kwargs: Any) -> Any:
        # test_apigateway_import.snapshot.json, test_import_swagger_api / integration-pets-get:
        # cacheNamespace is the resource id, timeoutInMillis 29000, connectionType INTERNET for
        # the HTTP types (moto leaves all three out)
        integration = original_put_integration(self, function_id, resource_id, *args, **kwargs)
        integration.cache_namespace = integration.cache_namespace or resource_id
        integration.timeout_in_millis = integration.timeout_in_millis or 29000  # type: ignore[assignment]  # AWS answers a number
        if integration.integration_type in ("HTTP", "HTTP_PROXY", "AWS", "AWS_PROXY"):
            integration.connection_type = integration.connection_type or "INTERNET"
        return integration

    original_integration_json = models.Integration.to_json

    def integration_to_json(self: Any) -> dict[str, Any]:
        # integration-pets-options: no empty uri (MOCK)
        return {k: v for k, v in original_integration_json(self).items() if v not in (None, "")}

    def create_integration_response(self: Any, status_code: str, selection_pattern: str | None,
                                    response_templates: dict[str, Any] | None, response_parameters: dict[str, str],
                                    content_handling: str | None = None) -> Any:
        # API, TestApigatewayIntegration::test_put_integration_response_templates: templates
        # given are shown (a template "" or null as null), none given no key; a selectionPattern
        # "" given is shown (moto turns {} into none given and drops "")
        response = models.IntegrationResponse(status_code, selection_pattern, dict(response_templates or {}),
                                              response_parameters, content_handling)
        response.petgate_templates_given = response_templates is not None  # type: ignore[attr-defined]
        if self.integration_responses is None:
            self.integration_responses = {}
        self.integration_responses[status_code] = response
        return response

    original_integration_response_json = models.IntegrationResponse.to_json

    def integration_response_to_json(self: Any) -> dict[str, Any]:
        # integration-response-pets-get (an import): no templates given, no key
        shown = dict(original_integration_response_json(self))
        if not shown.get("responseTemplates") and not getattr(self, "petgate_templates_given", False):
            shown.pop("responseTemplates", None)
        if self.selection_pattern is not None:
            shown["selectionPattern"] = self.selection_pattern
        return shown

    def resource_listing(self: Any, resource: Any) -> dict[str, Any]:
        # test_import_swagger_api / resources: without embed=methods each method is `{}`
        shown = dict(resource.to_dict())
        embedded = "methods" in self.querystring.get("embed", [])
        if "resourceMethods" in shown and not embedded:
            shown["resourceMethods"] = {name: {} for name in shown["resourceMethods"]}
        return shown

    def get_resources(self: Any) -> str:
        function_id = self.path.replace("/restapis/", "", 1).split("/")[0]
        resources = self.backend.get_resources(function_id)
        return json.dumps({"item": [resource_listing(self, r) for r in resources]})

    def get_stages(self: Any) -> str:
        # API, TestApiGatewayStage::test_get_stages_filters_by_deployment_id / stages-deploy1,
        # stages-deploy2: deploymentId keeps that deployment's stages (moto lists them all)
        function_id = self.path.split("/")[2]
        wanted = self.querystring.get("deploymentId", [None])[0]
        stages = [s for s in self.backend.get_stages(function_id) if wanted is None or s.deployment_id == wanted]
        return json.dumps({"item": [s.to_json() for s in stages]})

    original_stage_init = models.Stage.__init__
    original_stage_json = models.Stage.to_json

    def stage_init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_stage_init(self, *args, **kwargs)
        self._petgate_created = int(time.time())

    def stage_to_json(self: Any) -> dict[str, Any]:
        # API, test_stage_access_log_settings / create-stage: cacheClusterStatus NOT_AVAILABLE,
        # tracingEnabled false, createdDate and lastUpdatedDate; no empty description or variables
        shown = dict(original_stage_json(self))
        shown.setdefault("cacheClusterEnabled", False)
        shown["cacheClusterStatus"] = shown.get("cacheClusterStatus") or "NOT_AVAILABLE"
        shown["tracingEnabled"] = bool(shown.get("tracingEnabled"))
        shown.setdefault("methodSettings", {})
        created = getattr(self, "_petgate_created", int(time.time()))
        shown.setdefault("createdDate", created)
        shown.setdefault("lastUpdatedDate", created)
        for key in ("description", "variables"):
            if not shown.get(key):
                shown.pop(key, None)
        return shown

    original_deployment_json = models.Deployment.to_json

    def deployment_to_json(self: Any) -> dict[str, Any]:
        # API, test_stage_access_log_settings / create-deployment: {createdDate, id}, no empty description
        shown = dict(original_deployment_json(self))
        if not shown.get("description"):
            shown.pop("description", None)
        return shown

    models.Stage.__init__ = stage_init  # type: ignore[method-assign]
    models.Stage.to_json = stage_to_json  # type: ignore[method-assign]
    models.Deployment.to_json = deployment_to_json  # type: ignore[method-assign]
    models.Integration.to_json = integration_to_json  # type: ignore[method-assign]
    models.IntegrationResponse.to_json = integration_response_to_json  # type: ignore[method-assign]
    models.Integration.create_integration_response = create_integration_response  # type: ignore[method-assign]
    responses.APIGatewayResponse.get_resources = get_resources  # type: ignore[method-assign]
    responses.APIGatewayResponse.get_stages = get_stages  # type: ignore[method-assign]
    patches = {"get_rest_api": get_rest_api, "get_resource": get_resource, "get_request_validator": backend_get_request_validator,
               "create_request_validator": create_request_validator, "put_integration": put_integration, "create_model": create_model, "get_model": get_model,
               "delete_model": delete_model}
    for name, function in patches.items():
        setattr(models.APIGatewayBackend, name, function)
    models.RestAPI.to_dict = rest_api_to_dict  # type: ignore[method-assign]
    # TestApiGatewayApiRequestValidator::test_request_validator_lifecycle: false flags shown
    models.RequestValidator.to_dict = rest_objects.validator_json  # type: ignore[method-assign, assignment]
    _installed = True
