"""UpdateMethod, which moto lacks: the patch operations AWS takes on a method, applied to moto's
own Method (so GetMethod, exports and the next deployment's snapshot see them), and the
method's JSON as AWS answers it.

As recorded from AWS (LocalStack's tests/aws/services/apigateway/test_apigateway_api.snapshot.json,
TestApiGatewayApiMethod::test_update_method and ::test_update_method_validation, by key):
- `add` / `remove` go to /authorizationScopes, /requestParameters/NAME, /requestModels/TYPE;
  `replace` to those two maps and /authorizationType, /authorizerId, /apiKeyRequired,
  /operationName, /requestValidatorId; another op: "Invalid patch operation specified. Must be
  one of: [replace]" (unsupported-operation, -2); another path: "Invalid patch path /httpMethod"
  (unsupported-path), also /requestParameters alone and /requestModels/application/json
  (wrong-path-*: a `/` in a media type is written `~1`);
- /apiKeyRequired and /requestParameters/* take "true" as true and anything else as false
  (wrong-value-type, update-method-add: `"method.request.querystring.optional": true`);
- CUSTOM or COGNITO_USER_POOLS need a valid authorizer id in the same patch (wrong-auth-type,
  wrong-auth-id); an /authorizerId for a method of another type is ignored
  (skip-auth-id-with-wrong-type); an unknown validator: "Invalid Request Validator identifier
  specified"; an unknown model: "Invalid model identifier specified: NAME" (put-method
  validation's invalid-model-name);
- no such API or resource: 404 "Invalid Resource identifier specified" (wrong-rest-api,
  wrong-resource-id); no such method: 404 "Invalid Method identifier specified";
- the answer is the method, without empty maps or unset members (update-method-remove: no
  requestParameters or requestModels once the last one is removed).
Not recorded, and chosen here: an op outside JSON Patch's set is the ValidationException AWS
records for UpdateMethodResponse (test_update_method_response_wrong_operations); removing a
parameter or model that is not there is that test's NotFoundException ("Invalid parameter name
specified", "Content-Type specified was not found"); an authorization type outside the four is a
BadRequestException worded like PutMethod's recorded "Invalid HttpMethod specified. Valid
options are ..."; leaving CUSTOM or COGNITO_USER_POOLS drops the method's authorizer id. A patch
is applied whole or not at all.
"""

from __future__ import annotations

import copy
from typing import Any

from petgate.local.errors import ApiError
from petgate.local.rest_objects import RESOURCE_NOT_FOUND, found_in

AUTHORIZATION_TYPES = ("NONE", "AWS_IAM", "CUSTOM", "COGNITO_USER_POOLS")
_WITH_AUTHORIZER = ("CUSTOM", "COGNITO_USER_POOLS")
_JSON_PATCH_OPS = "[add, remove, move, test, replace, copy]"
_FIELDS = ("/authorizationType", "/authorizerId", "/apiKeyRequired", "/operationName", "/requestValidatorId",
           "/authorizationScopes")
_MAPS = ("/requestParameters/", "/requestModels/")
_OPS_BY_PATH = {
    "add": ("/authorizationScopes", *_MAPS),
    "remove": ("/authorizationScopes", *_MAPS),
    "replace": ("/authorizationType", "/authorizerId", "/apiKeyRequired", "/operationName", "/requestValidatorId", *_MAPS),
}
_BUILTIN_MODELS = ("Empty", "Error")
_MEMBERS = ("authorization_type", "authorizer_id", "authorization_scopes", "api_key_required", "request_parameters",
            "request_models", "operation_name", "request_validator_id")


def check_ops(operations: list[Any]) -> None:
    """AWS's input validation, before anything is looked up: each `op` one of JSON Patch's."""
    wrong = [
        f"Value '{op.get('op')}' at 'updateMethodInput.patchOperations.{index}.member.op' failed to satisfy "
        f"constraint: Member must satisfy enum value set: {_JSON_PATCH_OPS}"
        for index, op in enumerate(operations, start=1)
        if isinstance(op, dict) and op.get("op") not in ("add", "remove", "move", "test", "replace", "copy")
    ]
    if wrong:
        count = len(wrong)
        raise ApiError("ValidationException", f"{count} validation error{'s' if count > 1 else ''} detected: " + "; ".join(wrong))


def find_method(backend: Any, api_id: str, resource_id: str, http_method: str) -> tuple[Any, Any]:
    """(the API, the method) or AWS's 404s."""
    api, resource = found_in(backend, api_id, "resources", resource_id, RESOURCE_NOT_FOUND)
    method = resource.resource_methods.get(http_method)
    if method is None:
        raise ApiError("NotFoundException", "Invalid Method identifier specified")
    return api, method


def _path_kind(path: str) -> str:
    """The supported path a patch path is (a field, or a map's prefix), else AWS's error."""
    if path in _FIELDS:
        return path
    for prefix in _MAPS:
        if path.startswith(prefix) and len(path) > len(prefix) and "/" not in path[len(prefix):]:
            return prefix
    raise ApiError("BadRequestException", f"Invalid patch path {path}")


def update(api: Any, method: Any, operations: list[Any]) -> dict[str, Any]:
    """Apply the patch to moto's Method (whole or not at all); the method as AWS answers."""
    work = {name: copy.deepcopy(getattr(method, name)) for name in _MEMBERS}
    old_type = work["authorization_type"]
    new_authorizer: str | None = None
    for operation in operations:
        if not isinstance(operation, dict):
            raise ApiError("BadRequestException", "Invalid patch operation specified")
        op, path, value = operation.get("op"), operation.get("path"), operation.get("value")
        if path is None:
            raise ApiError("BadRequestException", "Invalid patch path null")
        kind = _path_kind(str(path))
        if kind not in _OPS_BY_PATH.get(str(op), ()):
            supported = [name for name, paths in _OPS_BY_PATH.items() if kind in paths]
            raise ApiError("BadRequestException", f"Invalid patch operation specified. Must be one of: [{', '.join(supported)}]")
        text = "" if value is None else str(value)
        if kind == "/authorizationType":
            if text not in AUTHORIZATION_TYPES:
                raise ApiError("BadRequestException",
                               f"Invalid authorization type specified. Valid options are {','.join(AUTHORIZATION_TYPES)}")
            work["authorization_type"] = text
        elif kind == "/authorizerId":
            new_authorizer = text
        elif kind == "/apiKeyRequired":
            work["api_key_required"] = text.lower() == "true"
        elif kind == "/operationName":
            work["operation_name"] = text or None
        elif kind == "/requestValidatorId":
            if text and text not in api.request_validators:
                raise ApiError("BadRequestException", "Invalid Request Validator identifier specified")
            work["request_validator_id"] = text or None
        elif kind == "/authorizationScopes":
            scopes = list(work["authorization_scopes"] or [])
            if op == "add" and text not in scopes:
                scopes.append(text)
            elif op == "remove" and text in scopes:
                scopes.remove(text)
            work["authorization_scopes"] = scopes or None
        elif kind == "/requestParameters/":
            _patch_map(work, "request_parameters", str(path)[len(kind):], str(op), text.lower() == "true",
                       "Invalid parameter name specified")
        else:
            content_type = str(path)[len(kind):].replace("~1", "/").replace("~0", "~")
            if op != "remove" and text not in _BUILTIN_MODELS and text not in api.models:
                raise ApiError("BadRequestException", f"Invalid model identifier specified: {text}")
            _patch_map(work, "request_models", content_type, str(op), text, "Content-Type specified was not found")
    _settle_authorizer(api, work, old_type, new_authorizer)
    for name, value in work.items():
        setattr(method, name, value)
    return view(method)


def _patch_map(work: dict[str, Any], member: str, key: str, op: str, value: Any, missing: str) -> None:
    entries = dict(work[member] or {})
    if op == "remove":
        if key not in entries:
            raise ApiError("NotFoundException", missing)
        del entries[key]
    else:
        entries[key] = value
    work[member] = entries or None


def _settle_authorizer(api: Any, work: dict[str, Any], old_type: str | None, new_authorizer: str | None) -> None:
    new_type = work["authorization_type"]
    if new_type in _WITH_AUTHORIZER:
        if new_type != old_type or new_authorizer is not None:
            candidate = new_authorizer if new_authorizer is not None else work["authorizer_id"]
            if not candidate or candidate not in api.authorizers:
                raise ApiError(
                    "BadRequestException",
                    "Invalid authorizer ID specified. Setting the authorization type to CUSTOM or "
                    "COGNITO_USER_POOLS requires a valid authorizer.",
                )
            work["authorizer_id"] = candidate
    elif old_type in _WITH_AUTHORIZER and new_type != old_type:
        work["authorizer_id"] = None  # no authorizer without CUSTOM / COGNITO_USER_POOLS (see above)
    # else: an /authorizerId for a method that takes none is ignored, as AWS does


def view(method: Any) -> dict[str, Any]:
    """GetMethod's / UpdateMethod's JSON: no unset members, no empty maps."""
    shown = {k: v for k, v in method.to_json().items() if v is not None and v != {} and v != []}
    integration = shown.get("methodIntegration")
    if isinstance(integration, dict):
        shown["methodIntegration"] = {k: v for k, v in integration.items() if v is not None}
    return shown
