"""GetExport of a stage: the deployed definition, as swagger 2.0 or OpenAPI 3.0.1, with or
without API Gateway's extensions, built from the stage's deployment snapshot.

Shapes follow AWS's recorded exports of the PetStore (LocalStack's
tests/aws/services/apigateway/test_apigateway_extended.snapshot.json,
test_export_swagger_openapi / test_export_oas30_openapi, keys get-export and
get-export-with-extensions).

A method with authorizationType AWS_IAM is exported as AWS exports it: `security: [{"sigv4": []}]`
on the operation, and the `sigv4` scheme (`apiKey`, header `Authorization`,
`x-amazon-apigateway-authtype: awsSigv4`) in `securityDefinitions` (swagger) or
`components.securitySchemes` (oas30). Developer Guide, "x-amazon-apigateway-authtype property"
(awsSigv4 is the reserved name of IAM authorization) and the S3 proxy's exported definition
("api-as-s3-proxy-export-swagger-with-extensions", its `securityDefinitions.sigv4`).
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

from petgate.local.snapshot import Snapshot

KINDS = ("swagger", "oas30")
_MODEL_URL = re.compile(r"^https://apigateway\.amazonaws\.com/restapis/[^/]+/models/(?P<name>[^/]+)$")
_PARAMETER = re.compile(r"^method\.request\.(?P<where>path|querystring|header)\.(?P<name>.+)$")
_IN = {"path": "path", "querystring": "query", "header": "header"}
SIGV4 = "sigv4"
SIGV4_SCHEME = {"type": "apiKey", "name": "Authorization", "in": "header", "x-amazon-apigateway-authtype": "awsSigv4"}
API_KEY = "api_key"
API_KEY_SCHEME = {"type": "apiKey", "name": "x-api-key", "in": "header"}


def _schemes(signed: bool, keyed: bool) -> dict[str, Any]:
    return {**({SIGV4: dict(SIGV4_SCHEME)} if signed else {}), **({API_KEY: dict(API_KEY_SCHEME)} if keyed else {})}


def export(snapshot: Snapshot, stage: str, kind: str, extensions: bool) -> dict[str, Any]:
    swagger = kind == "swagger"
    refs = "#/definitions/" if swagger else "#/components/schemas/"
    paths: dict[str, Any] = {}
    signed = keyed = False
    for resource in sorted(snapshot.resources, key=lambda r: r.path):
        operations = {}
        for name, method in resource.methods.items():
            operation = _operation(method, refs, swagger)
            security: dict[str, list[str]] = {}
            if method.get("authorizationType") == "AWS_IAM":
                security[SIGV4] = []
                signed = True
            if method.get("apiKeyRequired"):  # Developer Guide "api-key-usage-plan-oas"
                security[API_KEY] = []
                keyed = True
            if security:
                operation["security"] = [security]
            integration = method.get("methodIntegration")
            if extensions and integration:
                operation["x-amazon-apigateway-integration"] = _integration(integration)
            operations["x-amazon-apigateway-any-method" if name == "ANY" else name.lower()] = operation
        if operations:
            paths[resource.path] = operations
    # test_apigateway_extended.snapshot.json, test_export_swagger_openapi[TEST_IMPORT_PETS] /
    # get-export: the API's version ("1.0.0", its document's); without one, the deployment's date
    version = snapshot.version or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(snapshot.deployed_at))
    info = {"title": snapshot.api_name, "version": version}
    if snapshot.description:
        info["description"] = snapshot.description
    models = {name: _schema(schema, refs) for name, schema in snapshot.models.items()}
    document: dict[str, Any]
    if swagger:
        document = {"swagger": "2.0", "info": info, "host": f"{snapshot.api_id}.execute-api.{snapshot.region}.amazonaws.com",
                    "basePath": f"/{stage}", "schemes": ["https"], "paths": paths}
        if signed or keyed:
            document["securityDefinitions"] = _schemes(signed, keyed)
        if models:
            document["definitions"] = models
    else:
        document = {"openapi": "3.0.1", "info": info, "servers": [{
            "url": f"https://{snapshot.api_id}.execute-api.{snapshot.region}.amazonaws.com/{{basePath}}",
            "variables": {"basePath": {"default": stage}}}], "paths": paths}
        components: dict[str, Any] = {}
        if models:
            components["schemas"] = models
        if signed or keyed:
            components["securitySchemes"] = _schemes(signed, keyed)
        document["components"] = components  # test_export_oas30_openapi[TEST_IMPORT_PETS]: `{}` when empty
    if extensions:
        if snapshot.policy is not None:
            document["x-amazon-apigateway-policy"] = snapshot.policy
        if snapshot.gateway_responses:
            document["x-amazon-apigateway-gateway-responses"] = {
                kind: {k: v for k, v in response.items() if k in ("statusCode", "responseParameters", "responseTemplates") and v}
                for kind, response in snapshot.gateway_responses.items()
            }
        if snapshot.binary_media_types:
            document["x-amazon-apigateway-binary-media-types"] = list(snapshot.binary_media_types)
    return document


def _operation(method: dict[str, Any], refs: str, swagger: bool) -> dict[str, Any]:
    operation: dict[str, Any] = {}
    if method.get("operationName"):
        operation["operationId"] = method["operationName"]
    integration = method.get("methodIntegration") or {}
    request_models = method.get("requestModels") or {}
    responses = method.get("methodResponses") or {}
    if swagger:
        consumes = list(dict.fromkeys([*(integration.get("requestTemplates") or {}), *request_models]))
        produces = list(dict.fromkeys(
            [ct for r in responses.values() for ct in (r.get("responseModels") or {})]
            + [ct for r in (integration.get("integrationResponses") or {}).values() for ct in (r.get("responseTemplates") or {})]
        ))
        if consumes:
            operation["consumes"] = consumes
        if produces:
            operation["produces"] = produces
    parameters = []
    for expression, required in (method.get("requestParameters") or {}).items():
        match = _PARAMETER.match(expression)
        if match:
            parameter: dict[str, Any] = {"name": match["name"], "in": _IN[match["where"]]}
            if swagger:
                parameter.update({"required": bool(required), "type": "string"})
            else:
                if required:
                    parameter["required"] = True
                parameter["schema"] = {"type": "string"}
            parameters.append(parameter)
    for content_type, model in request_models.items():
        if swagger:
            parameters.append({"in": "body", "name": model, "required": True, "schema": {"$ref": refs + model}})
        else:
            operation["requestBody"] = {"content": {content_type: {"schema": {"$ref": refs + model}}}, "required": True}
    if parameters:
        operation["parameters"] = parameters
    operation["responses"] = {code: _response(code, response, refs, swagger) for code, response in responses.items()}
    return operation


def _response(code: str, response: dict[str, Any], refs: str, swagger: bool) -> dict[str, Any]:
    shown: dict[str, Any] = {"description": f"{code} response"}
    models = response.get("responseModels") or {}
    headers = [p[len("method.response.header."):] for p in (response.get("responseParameters") or {})
               if p.startswith("method.response.header.")]
    if swagger:
        if models:
            shown["schema"] = {"$ref": refs + next(iter(models.values()))}
        if headers:
            shown["headers"] = {h: {"type": "string"} for h in headers}
    else:
        if headers:
            shown["headers"] = {h: {"schema": {"type": "string"}} for h in headers}
        shown["content"] = {ct: {"schema": {"$ref": refs + model}} for ct, model in models.items()}
    return shown


def _integration(integration: dict[str, Any]) -> dict[str, Any]:
    exported: dict[str, Any] = {"type": str(integration.get("type", "")).lower()}
    for key in ("httpMethod", "uri", "requestParameters", "requestTemplates", "contentHandling"):
        if integration.get(key) and not (key == "httpMethod" and exported["type"] == "mock"):
            exported[key] = integration[key]
    responses = {}
    for status, response in (integration.get("integrationResponses") or {}).items():
        entry = {"statusCode": str(status)}
        for key in ("responseParameters", "responseTemplates"):
            if response.get(key):
                entry[key] = response[key]
        responses[response.get("selectionPattern") or "default"] = entry
    if responses:
        exported["responses"] = responses
    if integration.get("passthroughBehavior"):
        exported["passthroughBehavior"] = str(integration["passthroughBehavior"]).lower()
    return exported


def _schema(text: Any, refs: str) -> Any:
    """A model's schema with model URLs turned back into document-local $refs."""
    schema = json.loads(text) if isinstance(text, str) else text

    def local(value: Any) -> Any:
        if isinstance(value, dict):
            out = {k: local(v) for k, v in value.items()}
            match = _MODEL_URL.match(str(value.get("$ref", "")))
            if match:
                out["$ref"] = refs + match["name"]
            return out
        if isinstance(value, list):
            return [local(v) for v in value]
        return value

    return local(schema)
