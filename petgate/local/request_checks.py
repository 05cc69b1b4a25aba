"""What API Gateway checks before an operation runs, where moto does not and crashes instead
(found by tests/local/test_no_500.py, which sends every operation drawn requests on real
objects): the body an SDK would send (members of the operation's input only; patchOperations
with a path each), method and integration responses that exist, tag ARNs that are ARNs, and
REST APIs' own tags (moto tags stages only).

Recorded wordings (LocalStack's tests/aws/services/apigateway/*.snapshot.json):
- test_apigateway_api.snapshot.json, TestApigatewayMethodResponse::test_update_method_response_negative_tests
  / update-method-response-wrong-statuscode, TestApigatewayIntegrationResponse::
  test_integration_response_wrong_status_code, ::test_delete_integration_response_errors
  (non-existent-status-code, non-existent-method): 404 "Invalid Response status code specified",
  "Invalid Method identifier specified", "Invalid Integration identifier specified";
- test_apigateway_lambda.snapshot.json, test_put_integration_aws_proxy_uri / put-integration-wrong-arn:
  400 "Invalid ARN specified in the request" (the nearest recorded answer to a malformed ARN).
Chosen here (no recording): an absent patchOperations is an empty patch; an operation without a
path is refused as UpdateRestApi's is ("Invalid patch path null"); an add, replace or test
without a value carries "" (UpdateRequestValidator's recorded reading of a missing value);
members the input does not have are ignored.
"""

from __future__ import annotations

import json
import re
from typing import Any

from petgate.local.errors import ApiError
from petgate.local.method_update import find_method
from petgate.local.rest_objects import RESOURCE_NOT_FOUND, found_in

Response = tuple[int, dict[str, str], bytes]
_STATUS_CODE = re.compile(r"[1-5]\d\d")
# operations of AWS's that moto 5.2.5's app has no route for (its Flask 404 page): 501
UNROUTED = frozenset({
    "CreateDocumentationPart", "CreateDocumentationVersion", "CreateDomainNameAccessAssociation", "DeleteClientCertificate",
    "DeleteDocumentationPart", "DeleteDocumentationVersion", "DeleteDomainNameAccessAssociation",
    "FlushStageAuthorizersCache", "FlushStageCache", "GenerateClientCertificate", "GetClientCertificate",
    "GetClientCertificates", "GetDocumentationPart", "GetDocumentationParts", "GetDocumentationVersion",
    "GetDocumentationVersions", "GetDomainNameAccessAssociations", "GetModelTemplate", "GetSdk", "GetSdkType",
    "GetSdkTypes", "GetUsage", "ImportDocumentationParts", "RejectDomainNameAccessAssociation",
    "UpdateClientCertificate", "UpdateDocumentationPart", "UpdateDocumentationVersion", "UpdateUsage",
})
_REST_API_ARN = re.compile(r"^arn:aws[\w-]*:apigateway:[a-z0-9-]+::/restapis/(?P<api>[^/]+)$")
_STAGE_ARN = re.compile(r"^arn:aws[\w-]*:apigateway:[a-z0-9-]+::/restapis/[^/]+/stages/[^/]+$")


def sdk_body(operation: Any, body: bytes) -> bytes:
    """The body as an SDK sends it: members of the input only, patchOperations a list of ops
    with a path each (the body was checked against the input shape already)."""
    shape = operation.input_shape
    if shape is None or shape.serialization.get("payload") or not body.strip():
        return body
    try:
        request = json.loads(body)
    except ValueError:
        return body
    if not isinstance(request, dict):
        return body
    wire = {member.serialization.get("name", name): member for name, member in shape.members.items()
            if not member.serialization.get("location")}
    kept = {key: value for key, value in request.items() if key in wire}
    if "patchOperations" in wire:
        kept["patchOperations"] = [_patch_op(op) for op in kept.get("patchOperations") or []]
    return json.dumps(kept).encode()


def _patch_op(op: Any) -> dict[str, Any]:
    if not isinstance(op, dict) or op.get("path") is None:
        raise ApiError("BadRequestException", "Invalid patch path null")
    if op.get("op") in ("add", "replace", "test") and op.get("value") is None:
        return {**op, "value": ""}
    return dict(op)


def check_path_ids(ids: dict[str, str]) -> None:
    """Coral's checks of the path's members: a status code is [1-5]\\d\\d
    (test_integration_response_invalid_statuscode / put-integration-response-invalid-statusCode)."""
    code = ids.get("status_code")
    if code is not None and not _STATUS_CODE.fullmatch(code):
        raise ApiError("ValidationException", f"1 validation error detected: Value '{code}' at 'statusCode' failed to "
                       "satisfy constraint: Member must satisfy regular expression pattern: [1-5]\\d\\d")


def check_method_response(backend: Any, ids: dict[str, str], integration: bool) -> None:
    """Get/DeleteMethodResponse, Get/DeleteIntegrationResponse: the method, its integration and
    the status code exist (moto answers None.to_json())."""
    _, method = find_method(backend, ids["restapi_id"], ids["resource_id"], ids["http_method"])
    if integration:
        if method.method_integration is None:
            raise ApiError("NotFoundException", "Invalid Integration identifier specified")
        responses = method.method_integration.integration_responses or {}
    else:
        responses = method.method_responses or {}
    if ids["status_code"] not in responses:
        raise ApiError("NotFoundException", "Invalid Response status code specified")


HTTP_METHODS = ("GET", "PUT", "POST", "DELETE", "PATCH", "OPTIONS", "HEAD", "ANY")


def check_put_method(backend: Any, ids: dict[str, str], body: bytes) -> None:
    """test_apigateway_api.snapshot.json, TestApiGatewayApiMethod::test_put_method_validation, every
    key: an unknown API or resource 404 "Invalid Resource identifier specified"; a method outside
    API Gateway's eight; CUSTOM or COGNITO_USER_POOLS without a valid authorizer; an unknown
    request validator or model (moto stores all of these as given)."""
    api, _ = found_in(backend, ids["restapi_id"], "resources", ids["resource_id"], RESOURCE_NOT_FOUND)
    if ids["http_method"] not in HTTP_METHODS:
        raise ApiError("BadRequestException", f"Invalid HttpMethod specified. Valid options are {','.join(HTTP_METHODS)}")
    request = json.loads(body or b"{}")
    if request.get("authorizationType") in ("CUSTOM", "COGNITO_USER_POOLS") and request.get("authorizerId") not in api.authorizers:
        raise ApiError("BadRequestException", "Invalid authorizer ID specified. Setting the authorization type to CUSTOM or "
                       "COGNITO_USER_POOLS requires a valid authorizer.")
    validator = request.get("requestValidatorId")
    if validator is not None and validator not in api.request_validators:
        raise ApiError("BadRequestException", "Invalid Request Validator identifier specified")
    for model in (request.get("requestModels") or {}).values():
        if model not in api.models:
            raise ApiError("BadRequestException", f"Invalid model identifier specified: {model}")


DEPLOYMENT_NOT_FOUND = "Invalid Deployment identifier specified"  # moto's and GetDeployment's wording


def check_stage_deployment(backend: Any, ids: dict[str, str], body: bytes) -> None:
    """CreateStage and UpdateStage's replace of /deploymentId name a deployment of the API (moto
    takes any id, and the stage then serves nothing: every call 403, GetExport fails). Not
    recorded: the 404 is GetDeployment's for an unknown id."""
    api = backend.apis.get(ids["restapi_id"])
    if api is None:
        return  # moto's own answer for an unknown API
    request = json.loads(body or b"{}")
    named = [request.get("deploymentId")] + [op.get("value") for op in request.get("patchOperations") or []
                                             if op.get("path") == "/deploymentId" and op.get("op") == "replace"]
    if any(d is not None and d not in api.deployments for d in named):
        raise ApiError("NotFoundException", DEPLOYMENT_NOT_FOUND)


def check_tag_arn(ids: dict[str, str]) -> None:
    arn = ids.get("resource_arn", "")
    if not (_REST_API_ARN.match(arn) or _STAGE_ARN.match(arn)):
        raise ApiError("BadRequestException", "Invalid ARN specified in the request")


def rest_api_tags(backend: Any, ids: dict[str, str], query: dict[str, list[str]], body: bytes, *,
                  operation: str) -> Response | None:
    """GetTags, TagResource and UntagResource of a REST API's ARN (moto routes stage ARNs only);
    None: a stage's, for moto."""
    check_tag_arn(ids)
    found = _REST_API_ARN.match(ids["resource_arn"])
    if found is None:
        return None
    api = backend.apis.get(found["api"])
    if api is None:
        raise ApiError("NotFoundException", f"Invalid API identifier specified {backend.account_id}:{found['api']}")
    tags = api.tags if isinstance(api.tags, dict) else {}
    if operation == "TagResource":
        given = json.loads(body or b"{}").get("tags") or {}
        tags.update({str(k): str(v) for k, v in given.items()})
    elif operation == "UntagResource":
        for key in query.get("tagKeys", []):
            tags.pop(key, None)
    api.tags = tags
    if operation == "GetTags":
        return 200, {"Content-Type": "application/json"}, json.dumps({"tags": tags}).encode()
    return 204, {"Content-Type": "application/json"}, b""
