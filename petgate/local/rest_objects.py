"""Resources, models and request validators as AWS keeps them, where moto lacks the operation
(UpdateResource, UpdateModel) or answers otherwise (CreateResource's proxy rules, DeleteResource
of a resource with children, UpdateRequestValidator, a new API's default models). Each handler
works on moto's own objects, so GetResources, exports and the next deployment see the change.

As recorded from AWS (LocalStack's tests/aws/services/apigateway/test_apigateway_api.snapshot.json,
by test and key):
- TestApiGatewayApiResource::test_update_resource_behaviour: only `replace` of /parentId and
  /pathPart ("Invalid patch path  'P' specified for op 'replace'. Must be one of: [/parentId,
  /pathPart]" for another path, "... for op 'add'. Please choose supported operations" for another
  op: the double space is AWS's); an unknown resource or parent 404 "Invalid Resource identifier
  specified"; a parent under the resource itself "Resources cannot be cyclical."; a name its new
  siblings have 409 "Another resource with the same parent already has this name: NAME";
  ::test_update_resource_on_root: "Root resource cannot update its pathPart." / "... parentId.";
- ::test_create_proxy_resource_validation: a second variable part beside `{proxy+}` "A sibling
  ({proxy+}) of this resource already has a variable path part -- only one is allowed"; a child of
  a greedy resource "Cannot create a child of a resource with a greedy path variable: {proxy+}";
- resources-after-deletion: DeleteResource takes the resource's children with it (moto leaves
  them behind, and GetResources then fails on the orphans);
- TestApiGatewayApiModels::test_update_model: `replace` of /schema and /description only
  (update-model-invalid-path, -invalid-op), an empty schema "Model schema must have at least 1
  property or array items defined", an unknown API or model 404 "Invalid model name specified: N";
  ::test_model_lifecycle / get-models: CreateRestApi makes the models `Empty` and `Error`
  (an import makes only what the document defines: test_apigateway_import's get-models);
- TestApiGatewayApiRequestValidator::test_request_validator_lifecycle: a validator shows its
  false flags; `replace` without a value sets a flag false (update-request-validator-without-
  value); ::test_invalid_update_request_validator_operations: the three paths, `replace` only,
  "Request Validator name cannot be blank"; ::test_invalid_delete_request_validator: an unknown
  API or validator 404 "Invalid Request Validator identifier specified".
Not recorded, and chosen here: deleting the root resource is refused (BadRequestException, in
petgate's words), as AWS refuses it; a patch is applied whole or not at all.
"""

from __future__ import annotations

import json
import re
from typing import Any

from petgate.local.errors import ApiError

Response = tuple[int, dict[str, str], bytes]
RESOURCE_NOT_FOUND = "Invalid Resource identifier specified"
VALIDATOR_NOT_FOUND = "Invalid Request Validator identifier specified"
# moto's own rule for a path part (CreateResource), kept for UpdateResource's /pathPart
_PATH_PART = re.compile(r"^\{?[a-zA-Z0-9._\-:]+\+?\}?$")
DEFAULT_MODELS = (
    ("Empty", "This is a default empty schema model",
     {"$schema": "http://json-schema.org/draft-04/schema#", "title": "Empty Schema", "type": "object"}),
    ("Error", "This is a default error schema model",
     {"$schema": "http://json-schema.org/draft-04/schema#", "title": "Error Schema", "type": "object",
      "properties": {"message": {"type": "string"}}}),
)


def _json(status: int, data: Any) -> Response:
    return status, {"Content-Type": "application/json"}, json.dumps(data).encode()


def _patch_operations(body: bytes) -> list[dict[str, Any]]:
    try:
        request = json.loads(body or b"{}")
    except ValueError:
        raise ApiError("BadRequestException", "Invalid JSON in the request body") from None
    operations = request.get("patchOperations") if isinstance(request, dict) else None
    if operations is None:
        return []
    if not isinstance(operations, list) or not all(isinstance(op, dict) for op in operations):
        raise ApiError("BadRequestException", "patchOperations must be a list of objects")
    return operations


def _check_paths(operations: list[dict[str, Any]], allowed: tuple[str, ...]) -> None:
    """AWS's two refusals of a patch: an op other than replace, or a path outside `allowed`."""
    for op in operations:
        path, kind = op.get("path"), op.get("op")
        if kind != "replace":
            raise ApiError("BadRequestException",
                           f"Invalid patch path  '{path}' specified for op '{kind}'. Please choose supported operations")
        if path not in allowed:
            raise ApiError("BadRequestException",
                           f"Invalid patch path  '{path}' specified for op 'replace'. Must be one of: [{', '.join(allowed)}]")


def found_in(backend: Any, api_id: str, collection: str, key: str, missing: str) -> tuple[Any, Any]:
    """An API and one of its `collection` (resources, models, request_validators) by key: an
    unknown API or key is the same 404, `missing` (as AWS answers both)."""
    api = backend.apis.get(api_id)
    item = getattr(api, collection).get(key) if api is not None else None
    if item is None:
        raise ApiError("NotFoundException", missing)
    return api, item


# --- resources ----------------------------------------------------------------------------------


def _is_variable(path_part: str) -> bool:
    return path_part.startswith("{") and path_part.endswith("}")


def _is_greedy(path_part: str) -> bool:
    return path_part.startswith("{") and path_part.endswith("+}")


def check_child(api: Any, parent_id: str, path_part: str, moving: Any = None) -> None:
    """Whether `path_part` may live under `parent_id` (for a new resource, or `moving` there)."""
    parent = api.resources.get(parent_id)
    if parent is None:
        raise ApiError("NotFoundException", RESOURCE_NOT_FOUND)
    if parent.path_part and _is_greedy(parent.path_part):
        raise ApiError("BadRequestException",
                       f"Cannot create a child of a resource with a greedy path variable: {parent.path_part}")
    siblings = [r for r in api.resources.values() if r.parent_id == parent_id and r is not moving]
    if any(sibling.path_part == path_part for sibling in siblings):
        raise ApiError("ConflictException", f"Another resource with the same parent already has this name: {path_part}")
    variable = next((s.path_part for s in siblings if _is_variable(s.path_part)), None)
    if _is_variable(path_part) and variable is not None:
        raise ApiError("BadRequestException",
                       f"A sibling ({variable}) of this resource already has a variable path part -- only one is allowed")


def create_resource(backend: Any, api_id: str, parent_id: str, body: bytes) -> None:
    """The checks before moto's CreateResource (which then answers as before)."""
    api = backend.apis.get(api_id)
    if api is None:
        raise ApiError("NotFoundException", RESOURCE_NOT_FOUND)
    try:
        request = json.loads(body or b"{}")
    except ValueError:
        return  # the body check before this one answers a body that is not JSON
    path_part = request.get("pathPart") if isinstance(request, dict) else None
    if isinstance(path_part, str) and path_part:
        check_child(api, parent_id, path_part)


def _descendants(api: Any, resource_id: str) -> list[str]:
    found, frontier = [], [resource_id]
    while frontier:
        current = frontier.pop()
        children = [r.id for r in api.resources.values() if r.parent_id == current]
        found.extend(children)
        frontier.extend(children)
    return found


def update_resource(backend: Any, api_id: str, resource_id: str, body: bytes) -> Response:
    api, resource = found_in(backend, api_id, "resources", resource_id, RESOURCE_NOT_FOUND)
    operations = _patch_operations(body)
    _check_paths(operations, ("/parentId", "/pathPart"))
    parent_id, path_part = resource.parent_id, resource.path_part
    for op in operations:
        value = op.get("value")
        if not resource.parent_id:
            field = "pathPart" if op["path"] == "/pathPart" else "parentId"
            raise ApiError("BadRequestException", f"Root resource cannot update its {field}.")
        if op["path"] == "/parentId":
            if not isinstance(value, str) or value not in api.resources:
                raise ApiError("NotFoundException", RESOURCE_NOT_FOUND)
            if value == resource.id or value in _descendants(api, resource.id):
                raise ApiError("BadRequestException", "Resources cannot be cyclical.")
            parent_id = value
        else:
            if not isinstance(value, str) or not _PATH_PART.match(value):
                raise ApiError("BadRequestException", "Resource's path part only allow a-zA-Z0-9._- and curly braces at "
                               "the beginning and the end and an optional plus sign before the closing brace.")
            path_part = value
    if (parent_id, path_part) != (resource.parent_id, resource.path_part):
        check_child(api, parent_id, path_part, moving=resource)
        resource.parent_id, resource.path_part = parent_id, path_part
    return _json(200, resource.to_dict())


def delete_resource(backend: Any, api_id: str, resource_id: str) -> Response:
    api, resource = found_in(backend, api_id, "resources", resource_id, RESOURCE_NOT_FOUND)
    if not resource.parent_id:
        raise ApiError("BadRequestException", "The root resource cannot be deleted.")
    for gone in [resource_id, *_descendants(api, resource_id)]:
        del api.resources[gone]
    return 202, {"Content-Type": "application/json"}, b""


# --- models -------------------------------------------------------------------------------------


def add_default_models(backend: Any, api: Any) -> None:
    """A new API's `Empty` and `Error` (get-models)."""
    for name, description, schema in DEFAULT_MODELS:
        backend.create_model(api.id, name, "application/json", description, json.dumps(schema))


def update_model(backend: Any, api_id: str, model_name: str, body: bytes) -> Response:
    _, model = found_in(backend, api_id, "models", model_name, f"Invalid model name specified: {model_name}")
    operations = _patch_operations(body)
    _check_paths(operations, ("/description", "/schema"))
    description, schema = model.description, model.schema
    for op in operations:
        value = op.get("value")
        if op["path"] == "/schema":
            if not value:
                raise ApiError("BadRequestException", "Model schema must have at least 1 property or array items defined")
            schema = str(value)
        else:
            description = None if value in (None, "") else str(value)
    model.description, model.schema = description, schema
    return _json(200, model.to_json())


# --- request validators -------------------------------------------------------------------------

_VALIDATOR_PATHS = ("/name", "/validateRequestParameters", "/validateRequestBody")


def validator_json(validator: Any) -> dict[str, Any]:
    """A validator with its flags, false ones too (create-request-validator)."""
    return {"id": validator.id, "name": validator.name,
            "validateRequestBody": bool(validator.validate_request_body),
            "validateRequestParameters": bool(validator.validate_request_parameters)}


def update_request_validator(backend: Any, api_id: str, validator_id: str, body: bytes) -> Response:
    _, validator = found_in(backend, api_id, "request_validators", validator_id, VALIDATOR_NOT_FOUND)
    operations = _patch_operations(body)
    _check_paths(operations, _VALIDATOR_PATHS)
    name, flags = validator.name, {"/validateRequestBody": validator.validate_request_body,
                                   "/validateRequestParameters": validator.validate_request_parameters}
    for op in operations:
        value = op.get("value")
        if op["path"] == "/name":
            if not value:
                raise ApiError("BadRequestException", "Request Validator name cannot be blank")
            name = str(value)
        else:
            flags[op["path"]] = str(value).lower() == "true"
    validator.name = name
    validator.validate_request_body = flags["/validateRequestBody"]
    validator.validate_request_parameters = flags["/validateRequestParameters"]
    return _json(200, validator_json(validator))


def delete_request_validator(backend: Any, api_id: str, validator_id: str) -> Response:
    api, _ = found_in(backend, api_id, "request_validators", validator_id, VALIDATOR_NOT_FOUND)
    del api.request_validators[validator_id]
    return 202, {"Content-Type": "application/json"}, b""
