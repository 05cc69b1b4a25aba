"""ImportRestApi / PutRestApi for the local gateway: Swagger 2.0 and OpenAPI 3 documents with
`x-amazon-apigateway-integration`, built into moto's backend model.

moto's own importer takes only OpenAPI 3, crashes on a MOCK integration without `uri`, and
hangs `/` on a new empty-named child instead of the root resource; this one does neither.
"""

from __future__ import annotations

import json
import re
from typing import Any

from petgate.local.errors import ApiError

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "x-amazon-apigateway-any-method"}


def parse_document(body: bytes, fail_on_warnings: bool = False) -> dict[str, Any]:
    text = body.decode("utf-8", errors="replace").strip()
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        document = _parse_yaml(text)
    # test_apigateway_import.snapshot.json, test_import_api_bad_file: a file that is not an
    # OpenAPI document at all gets exactly "Invalid OpenAPI input."
    if not isinstance(document, dict):
        raise ApiError("BadRequestException", "Invalid OpenAPI input.")
    if "swagger" not in document and "openapi" not in document:
        raise ApiError("BadRequestException", "Invalid OpenAPI input: no swagger or openapi version.")
    if not isinstance(document.get("paths", {}), dict):
        raise ApiError("BadRequestException", "Invalid OpenAPI input: paths must be an object.")
    version = str(document.get("openapi", "3"))
    if "swagger" not in document and not version.startswith("3."):
        # moto's wording (InvalidOpenApiDocVersionException); no recording of AWS's was found
        raise ApiError("BadRequestException", "Only OpenAPI 3.x.x are currently supported")
    if fail_on_warnings and "paths" not in document:
        # with failOnWarnings, what is only a warning otherwise stops the import (moto's wording;
        # no recording of AWS's was found)
        raise ApiError("BadRequestException",
                       "Failed to parse the uploaded OpenAPI document due to: 'paths' is a required property")
    return document


def _parse_yaml(text: str) -> Any:
    try:
        import yaml  # moto[server] brings PyYAML
    except ImportError:  # pragma: no cover
        raise ApiError("BadRequestException", "Invalid OpenAPI input.") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        raise ApiError("BadRequestException", "Invalid OpenAPI input.") from None


def import_document(
    backend: Any, document: dict[str, Any], endpoint_type: str = "EDGE"
) -> Any:
    """Create a new REST API from the document (ImportRestApi)."""
    info = document.get("info") or {}
    name = info.get("title")
    if not name:
        raise ApiError("BadRequestException", "Invalid OpenAPI input: info.title is required.")
    api = backend.create_rest_api(
        name=name,
        description=info.get("description", ""),
        endpoint_configuration={"types": [endpoint_type]},
    )
    # what the document says, not moto's made-up "V1" and []
    api.version = info.get("version")
    api.binaryMediaTypes = list(document.get("x-amazon-apigateway-binary-media-types") or [])
    try:
        apply_document(backend, api.id, document, mode="overwrite")
    except Exception:
        backend.delete_rest_api(api.id)
        raise
    return api


def apply_document(backend: Any, api_id: str, document: dict[str, Any], mode: str) -> Any:
    """Build the document's paths, methods, integrations and models into the API (PutRestApi)."""
    if mode not in ("merge", "overwrite"):
        raise ApiError("BadRequestException", 'Enumeration value of OpenAPI import mode must be "overwrite" or "merge"')
    api = backend.get_rest_api(api_id)
    if mode == "overwrite":
        root = api.resources[api.root_resource_id]
        root.resource_methods.clear()
        api.resources = {root.id: root}
        api.models = {}
    policy = document.get("x-amazon-apigateway-policy")
    if policy is not None:
        from petgate.local.stored_policy import store_policy

        store_policy(api, policy if isinstance(policy, str) else json.dumps(policy))
    for name, schema in _models(document).items():
        if name not in api.models:
            backend.create_model(api_id, name, "application/json", None, json.dumps(_model_refs(schema, api_id)))
    for path in sorted(document.get("paths", {})):
        operations = document["paths"][path] or {}
        resource = _resource_for(backend, api, path)
        shared_parameters = operations.get("parameters", [])
        for method_name, operation in operations.items():
            if method_name.lower() not in HTTP_METHODS or not isinstance(operation, dict):
                continue
            method = "ANY" if method_name.lower() == "x-amazon-apigateway-any-method" else method_name.upper()
            _put_method(backend, api_id, resource.id, method, operation, shared_parameters)
    return api


_LOCAL_REF = re.compile(r"^#/(?:definitions|components/schemas)/(?P<name>[^/]+)$")


def _model_name(schema: dict[str, Any]) -> str | None:
    match = _LOCAL_REF.match(str(schema.get("$ref", "")))
    return match["name"] if match else None


def _model_refs(schema: Any, api_id: str) -> Any:
    """Document-local $refs become model URLs, as AWS stores them (test_import_swagger_api /
    get-models: "$ref": "https://apigateway.amazonaws.com/restapis/ID/models/PetType")."""
    if isinstance(schema, dict):
        out = {k: _model_refs(v, api_id) for k, v in schema.items()}
        name = _model_name(schema)
        if name:
            out["$ref"] = f"https://apigateway.amazonaws.com/restapis/{api_id}/models/{name}"
        return out
    if isinstance(schema, list):
        return [_model_refs(item, api_id) for item in schema]
    return schema


def _models(document: dict[str, Any]) -> dict[str, Any]:
    if "definitions" in document:
        return dict(document["definitions"] or {})
    return dict(((document.get("components") or {}).get("schemas")) or {})


def _resource_for(backend: Any, api: Any, path: str) -> Any:
    """The resource for a path, creating missing ancestors; `/` is the root resource itself."""
    resource = api.resources[api.root_resource_id]
    for part in [p for p in path.split("/") if p]:
        child = next(
            (r for r in api.resources.values() if r.parent_id == resource.id and r.path_part == part),
            None,
        )
        if child is None:
            try:
                child = backend.create_resource(api.id, resource.id, part)
            except Exception:
                raise ApiError("BadRequestException", f"Invalid resource path part {part!r} in {path}.") from None
        resource = child
    return resource


def _request_models(operation: dict[str, Any], parameters: list[Any]) -> dict[str, str]:
    """The body's model: a swagger `in: body` parameter, or an OpenAPI 3 requestBody."""
    models = {}
    content_type = (operation.get("consumes") or ["application/json"])[0]
    for parameter in parameters:
        if isinstance(parameter, dict) and parameter.get("in") == "body":
            name = _model_name(parameter.get("schema") or {})
            if name:
                models[content_type] = name
    for media_type, content in ((operation.get("requestBody") or {}).get("content") or {}).items():
        name = _model_name((content or {}).get("schema") or {})
        if name:
            models[media_type] = name
    return models


def _request_parameters(parameters: list[Any]) -> dict[str, bool]:
    locations = {"path": "path", "query": "querystring", "header": "header"}
    result = {}
    for parameter in parameters:
        if isinstance(parameter, dict) and parameter.get("in") in locations:
            key = f"method.request.{locations[parameter['in']]}.{parameter['name']}"
            result[key] = bool(parameter.get("required", False))
    return result


def _put_method(
    backend: Any,
    api_id: str,
    resource_id: str,
    method: str,
    operation: dict[str, Any],
    shared_parameters: list[Any],
) -> None:
    all_parameters = list(shared_parameters) + list(operation.get("parameters", []))
    parameters = _request_parameters(all_parameters)
    security = operation.get("security")
    backend.put_method(
        api_id,
        resource_id,
        method,
        "NONE" if not security else "AWS_IAM",
        request_parameters=parameters or None,
        request_models=_request_models(operation, all_parameters) or None,
        operation_name=operation.get("operationId"),
    )
    for code, response in (operation.get("responses") or {}).items():
        if not str(code).isdigit():
            continue
        headers = (response or {}).get("headers") or {}
        model = _model_name((response or {}).get("schema") or {})
        content_type = (operation.get("produces") or ["application/json"])[0]
        backend.put_method_response(
            api_id,
            resource_id,
            method,
            str(code),
            # test_import_swagger_api / method-response-pets-get: {"application/json": "Pets"}
            response_models={content_type: model} if model else None,
            response_parameters={f"method.response.header.{h}": False for h in headers} or None,
        )
    integration = operation.get("x-amazon-apigateway-integration")
    if not integration:
        return
    kind = str(integration.get("type", "")).upper()
    if kind not in {"MOCK", "HTTP", "HTTP_PROXY", "AWS", "AWS_PROXY"}:
        raise ApiError("BadRequestException", f"Invalid integration type {integration.get('type')!r}.")
    if kind != "MOCK" and not integration.get("uri"):
        raise ApiError("BadRequestException", f"Integration of {method} needs a uri.")
    backend.put_integration(
        function_id=api_id,
        resource_id=resource_id,
        method_type=method,
        integration_type=kind,
        uri=integration.get("uri", ""),
        integration_method=str(integration.get("httpMethod", method)).upper(),
        request_templates=integration.get("requestTemplates"),
        passthrough_behavior=str(integration.get("passthroughBehavior", "WHEN_NO_MATCH")).upper(),
        timeout_in_millis=integration.get("timeoutInMillis"),
        request_parameters=integration.get("requestParameters"),
        content_handling=integration.get("contentHandling"),
    )
    for pattern, response in (integration.get("responses") or {}).items():
        backend.put_integration_response(
            function_id=api_id,
            resource_id=resource_id,
            method_type=method,
            status_code=str(response.get("statusCode", "200")),
            selection_pattern=None if pattern == "default" else pattern,
            response_templates=dict(response.get("responseTemplates") or {}) or None,
            response_parameters=dict(response.get("responseParameters") or {}),
        )
