"""Resources, models, request validators, integrations and endpoint configurations as AWS
answers them (petgate/local/rest_objects.py, control.py, moto_fixes.py).

RECORDINGS (localstack/localstack, tests/aws/services/apigateway/):
- API = test_apigateway_api.snapshot.json
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.fidelity.conftest import error_of, plain


def _root(raw: Any, api: str) -> str:
    return str(raw.get_resources(restApiId=api)["items"][0]["id"])


def _bad(message: str, status: int = 400, code: str = "BadRequestException") -> dict[str, Any]:
    return {"Code": code, "Message": message, "Status": status}


def test_update_resource_behaviour(raw: Any, rest_api: str) -> None:
    """API, TestApiGatewayApiResource::test_update_resource_behaviour, every key."""
    root = _root(raw, rest_api)
    pets = raw.create_resource(restApiId=rest_api, parentId=root, pathPart="pets")["id"]

    def update(resource: str, *ops: dict[str, Any]) -> Any:
        return raw.update_resource(restApiId=rest_api, resourceId=resource, patchOperations=list(ops))

    replace_part = {"op": "replace", "path": "/pathPart", "value": "dogs"}
    assert error_of(update, "fake-resource", replace_part) == _bad(  # nonexistent-resource
        "Invalid Resource identifier specified", 404, "NotFoundException")
    assert error_of(update, pets, {"op": "replace", "path": "/invalid", "value": "dogs"}) == _bad(  # invalid-path-part
        "Invalid patch path  '/invalid' specified for op 'replace'. Must be one of: [/parentId, /pathPart]")
    assert error_of(update, pets, {"op": "replace", "path": "/parentId", "value": "fake-parent-id"}) == _bad(
        "Invalid Resource identifier specified", 404, "NotFoundException")  # invalid-parent-id
    sub = raw.create_resource(restApiId=rest_api, parentId=pets, pathPart="subpets")
    assert (sub["path"], sub["pathPart"], sub["parentId"]) == ("/pets/subpets", "subpets", pets)  # create-subresource
    child = raw.create_resource(restApiId=rest_api, parentId=sub["id"], pathPart="pets")
    assert child["path"] == "/pets/subpets/pets"  # create-subresource-child
    assert error_of(update, child["id"], {"op": "replace", "path": "/parentId", "value": root}) == _bad(
        "Another resource with the same parent already has this name: pets", 409, "ConflictException")
    raw.delete_resource(restApiId=rest_api, resourceId=child["id"])
    assert error_of(update, pets, {"op": "replace", "path": "/parentId", "value": sub["id"]}) == _bad(
        "Resources cannot be cyclical.")  # update-parent-id-to-subresource-id
    moved = plain(update(sub["id"], {"op": "replace", "path": "/parentId", "value": root}))
    assert moved == {"id": sub["id"], "parentId": root, "path": "/subpets", "pathPart": "subpets"}  # -to-root-id
    assert error_of(update, sub["id"], {"op": "replace", "path": "/pathPart", "value": "pets"}) == _bad(
        "Another resource with the same parent already has this name: pets", 409, "ConflictException")
    raw.delete_resource(restApiId=rest_api, resourceId=pets)
    listed = sorted((r["path"], r["id"]) for r in raw.get_resources(restApiId=rest_api)["items"])
    assert listed == [("/", root), ("/subpets", sub["id"])]  # resources-after-deletion
    for op in ("remove", "add"):  # remove-unsupported, add-unsupported
        assert error_of(update, sub["id"], {"op": op, "path": "/pathPart", "value": "added-pets"}) == _bad(
            f"Invalid patch path  '/pathPart' specified for op '{op}'. Please choose supported operations")


def test_update_resource_on_root(raw: Any, rest_api: str) -> None:
    """API, TestApiGatewayApiResource::test_update_resource_on_root / update-root-path-part, -parent."""
    root = _root(raw, rest_api)
    for path, message in (("/pathPart", "Root resource cannot update its pathPart."),
                          ("/parentId", "Root resource cannot update its parentId.")):
        assert error_of(raw.update_resource, restApiId=rest_api, resourceId=root,
                        patchOperations=[{"op": "replace", "path": path, "value": "dogs"}]) == _bad(message)


def test_delete_resource_takes_its_children(raw: Any, rest_api: str) -> None:
    """resources-after-deletion: what is left lists (moto leaves orphans that break GetResources)."""
    root = _root(raw, rest_api)
    parent = raw.create_resource(restApiId=rest_api, parentId=root, pathPart="parent")["id"]
    raw.create_resource(restApiId=rest_api, parentId=parent, pathPart="child")
    assert raw.delete_resource(restApiId=rest_api, resourceId=parent)["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert [r["path"] for r in raw.get_resources(restApiId=rest_api)["items"]] == ["/"]
    assert error_of(raw.delete_resource, restApiId=rest_api, resourceId=root)["Status"] == 400


def test_create_proxy_resource_validation(raw: Any, rest_api: str) -> None:
    """API, TestApiGatewayApiResource::test_create_proxy_resource_validation, every key."""
    root = _root(raw, rest_api)
    proxy = raw.create_resource(restApiId=rest_api, parentId=root, pathPart="{proxy+}")
    assert proxy["path"] == "/{proxy+}"  # create-base-proxy-resource
    assert error_of(raw.create_resource, restApiId=rest_api, parentId=root, pathPart="{dynamicSibling}") == _bad(
        "A sibling ({proxy+}) of this resource already has a variable path part -- only one is allowed")
    for part in ("static", "{dynamic}"):  # create-proxy-static-child-resource, -dynamic-child-resource
        assert error_of(raw.create_resource, restApiId=rest_api, parentId=proxy["id"], pathPart=part) == _bad(
            "Cannot create a child of a resource with a greedy path variable: {proxy+}")
    parent = raw.create_resource(restApiId=rest_api, parentId=root, pathPart="parent")["id"]
    assert raw.create_resource(restApiId=rest_api, parentId=parent, pathPart="{child+}")["path"] == "/parent/{child+}"


def test_a_new_api_has_the_default_models(raw: Any, rest_api: str) -> None:
    """API, TestApiGatewayApiModels::test_model_lifecycle / get-models: Empty and Error."""
    models = {m["name"]: m for m in raw.get_models(restApiId=rest_api)["items"]}
    assert set(models) == {"Empty", "Error"}
    assert models["Empty"]["description"] == "This is a default empty schema model"
    assert json.loads(models["Empty"]["schema"]) == {
        "$schema": "http://json-schema.org/draft-04/schema#", "title": "Empty Schema", "type": "object"}
    assert models["Error"]["description"] == "This is a default error schema model"
    assert json.loads(models["Error"]["schema"])["properties"] == {"message": {"type": "string"}}
    assert models["Error"]["contentType"] == "application/json"


def test_update_model(raw: Any, rest_api: str) -> None:
    """API, TestApiGatewayApiModels::test_update_model, every key."""
    updated = json.dumps({"title": "Updated schema", "type": "object"})
    ops = [{"op": "replace", "path": "/schema", "value": updated}, {"op": "replace", "path": "/description", "value": ""}]
    assert error_of(raw.update_model, restApiId="abcde0", modelName="mySchema", patchOperations=ops) == _bad(
        "Invalid model name specified: mySchema", 404, "NotFoundException")  # update-model-wrong-id
    raw.create_model(restApiId=rest_api, name="MySchema", contentType="application/json", description="",
                     schema=json.dumps({"title": "MySchema", "type": "object"}))
    answer = plain(raw.update_model(restApiId=rest_api, modelName="MySchema", patchOperations=ops))
    assert answer == {"contentType": "application/json", "id": answer["id"], "name": "MySchema", "schema": updated}
    assert error_of(raw.update_model, restApiId=rest_api, modelName="MySchema",  # update-model-invalid-op
                    patchOperations=[{"op": "add", "path": "/wrong-path", "value": "not supported op"}]) == _bad(
        "Invalid patch path  '/wrong-path' specified for op 'add'. Please choose supported operations")
    assert error_of(raw.update_model, restApiId=rest_api, modelName="MySchema",  # update-model-invalid-path
                    patchOperations=[{"op": "replace", "path": "/name", "value": "invalid"}]) == _bad(
        "Invalid patch path  '/name' specified for op 'replace'. Must be one of: [/description, /schema]")
    assert error_of(raw.update_model, restApiId=rest_api, modelName="MySchema",  # update-model-empty-schema
                    patchOperations=[{"op": "replace", "path": "/schema", "value": ""}]) == _bad(
        "Model schema must have at least 1 property or array items defined")


def test_request_validator_lifecycle(raw: Any, rest_api: str) -> None:
    """API, TestApiGatewayApiRequestValidator::test_request_validator_lifecycle and
    ::test_invalid_update_request_validator_operations and ::test_invalid_delete_request_validator."""
    created = plain(raw.create_request_validator(restApiId=rest_api, name="my-validator"))
    validator = created["id"]
    assert created == {"id": validator, "name": "my-validator", "validateRequestBody": False,
                       "validateRequestParameters": False}  # create-request-validator
    assert plain(raw.get_request_validator(restApiId=rest_api, requestValidatorId=validator)) == created

    def update(*ops: dict[str, Any]) -> Any:
        return raw.update_request_validator(restApiId=rest_api, requestValidatorId=validator, patchOperations=list(ops))

    assert plain(update({"op": "replace", "path": "/validateRequestBody", "value": "true"}))["validateRequestBody"] is True
    assert plain(update({"op": "replace", "path": "/validateRequestBody"}))["validateRequestBody"] is False  # -without-value
    for op in ("add", "remove"):
        assert error_of(update, {"op": op, "path": "/validateRequestBody", "value": "true"}) == _bad(
            f"Invalid patch path  '/validateRequestBody' specified for op '{op}'. Please choose supported operations")
    assert error_of(update, {"op": "replace", "path": "/invalidPath", "value": "x"}) == _bad(
        "Invalid patch path  '/invalidPath' specified for op 'replace'. Must be one of: "
        "[/name, /validateRequestParameters, /validateRequestBody]")
    assert error_of(update, {"op": "replace", "path": "/name", "value": ""}) == _bad("Request Validator name cannot be blank")
    missing = _bad("Invalid Request Validator identifier specified", 404, "NotFoundException")
    assert error_of(raw.delete_request_validator, restApiId="nosuchapi", requestValidatorId=validator) == missing
    assert error_of(raw.delete_request_validator, restApiId=rest_api, requestValidatorId="nosuch") == missing
    deleted = raw.delete_request_validator(restApiId=rest_api, requestValidatorId=validator)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 202  # delete-request-validator
    assert raw.get_request_validators(restApiId=rest_api)["items"] == []


def test_put_integration_wrong_type(raw: Any, rest_api: str) -> None:
    """API, TestApigatewayIntegration::test_put_integration_wrong_type / put-integration-wrong-type."""
    root = _root(raw, rest_api)
    raw.put_method(restApiId=rest_api, resourceId=root, httpMethod="GET", authorizationType="NONE")
    assert error_of(raw.put_integration, restApiId=rest_api, resourceId=root, httpMethod="GET", type="HTTPS_PROXY") == _bad(
        "1 validation error detected: Value 'HTTPS_PROXY' at 'putIntegrationInput.type' failed to satisfy constraint: "
        "Member must satisfy enum value set: [HTTP, MOCK, AWS_PROXY, HTTP_PROXY, AWS]", 400, "ValidationException")


def test_put_integration_response_templates(raw: Any, rest_api: str) -> None:
    """API, TestApigatewayIntegration::test_put_integration_response_templates, every key: a
    template "" or null is shown as null, none given no key; selectionPattern "" is kept."""
    root = _root(raw, rest_api)
    raw.put_method(restApiId=rest_api, resourceId=root, httpMethod="POST", authorizationType="NONE")
    raw.put_integration(restApiId=rest_api, resourceId=root, httpMethod="POST", integrationHttpMethod="GET", type="MOCK",
                        requestTemplates={"application/json": '{"statusCode": 200}'})

    def put(**kwargs: Any) -> dict[str, Any]:
        return plain(raw.put_integration_response(restApiId=rest_api, resourceId=root, httpMethod="POST",
                                                  statusCode="200", selectionPattern="", **kwargs))

    shown_null = {"responseTemplates": {"application/json": None}, "selectionPattern": "", "statusCode": "200"}
    assert put(responseTemplates={"application/json": None}) == shown_null  # -template-none
    assert put(responseTemplates={"application/json": ""}) == shown_null  # -template-empty
    assert put() == {"selectionPattern": "", "statusCode": "200"}  # put-integration-no-response-template


@pytest.mark.parametrize(("configuration", "description", "expected"), [
    ({"types": []}, None, _bad("REGIONAL Configuration and EDGE Configuration cannot be both DISABLED.")),
    ({"types": ["EDGE", "REGIONAL"]}, None, _bad("Cannot create an api with multiple Endpoint Types.")),
    ({"ipAddressType": "wrong", "types": ["EDGE"]}, None, _bad(
        "1 validation error detected: Value 'wrong' at 'createRestApiInput.endpointConfiguration.ipAddressType' failed to "
        "satisfy constraint: Member must satisfy enum value set: [ipv4, dualstack]", 400, "ValidationException")),
    ({"ipAddressType": "wrong", "types": ["wrong"]}, "", _bad(
        "2 validation errors detected: Value '[wrong]' at 'createRestApiInput.endpointConfiguration.types' failed to "
        "satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [PRIVATE, EDGE, "
        "REGIONAL]]; Value 'wrong' at 'createRestApiInput.endpointConfiguration.ipAddressType' failed to satisfy "
        "constraint: Member must satisfy enum value set: [ipv4, dualstack]", 400, "ValidationException")),
    ({"ipAddressType": "ipv4", "types": ["EDGE"]}, "", _bad("Description cannot be an empty string")),
    ({"ipAddressType": "ipv4", "types": ["PRIVATE"]}, None, _bad("Only dualstack ipAddressType is supported for Private APIs.")),
], ids=["empty-types", "two-types", "invalid-ip-address-type", "multiple-errors-1", "multiple-errors-2", "private-ipv4"])
def test_create_rest_api_with_endpoint_configuration(raw: Any, configuration: dict[str, Any], description: str | None,
                                                     expected: dict[str, Any]) -> None:
    """API, TestApiGatewayApiRestApi::test_create_rest_api_with_endpoint_configuration
    (create-with-empty-types, -two-types, -invalid-ip-address-type, -multiple-errors-1, -2) and
    ::test_create_rest_api_private_type / create-with-private-type-and-ipv4-ip-address-type."""
    extra = {} if description is None else {"description": description, "minimumCompressionSize": -1}
    assert error_of(raw.create_rest_api, name="endpoint", endpointConfiguration=configuration, **extra) == expected


def test_odd_inputs_moto_s_suite_sends(raw: Any, rest_api: str) -> None:
    """What moto's own suite sends (tests/test_apigateway, bench/moto_suite.py): `responseTemplates:
    {}` given is shown as given (as AWS CLI's documented update-method output shows it); a
    policy with an empty Statement list is stored (no recording says AWS refuses it; it admits
    no one); an `openapi` that is not 3.x gets moto's wording (no recording of AWS's)."""
    root = _root(raw, rest_api)
    raw.put_method(restApiId=rest_api, resourceId=root, httpMethod="GET", authorizationType="NONE")
    raw.put_integration(restApiId=rest_api, resourceId=root, httpMethod="GET", type="MOCK")
    put = plain(raw.put_integration_response(restApiId=rest_api, resourceId=root, httpMethod="GET", statusCode="200",
                                             selectionPattern="foobar", responseTemplates={}))
    assert put == {"statusCode": "200", "selectionPattern": "foobar", "responseTemplates": {}}
    got = plain(raw.get_integration_response(restApiId=rest_api, resourceId=root, httpMethod="GET", statusCode="200"))
    assert got == put
    created = raw.create_rest_api(name="empty-policy", policy='{"Version": "2012-10-17","Statement": []}')
    assert json.loads(created["policy"].replace('\\"', '"')) == {"Version": "2012-10-17", "Statement": []}
    document = json.dumps({"openapi": "2.0.0", "info": {"title": "v", "version": "1"}, "paths": {}})
    assert error_of(raw.put_rest_api, restApiId=rest_api, failOnWarnings=True, body=document) == _bad(
        "Only OpenAPI 3.x.x are currently supported")


def test_a_model_a_method_uses_cannot_be_deleted(raw: Any, rest_api: str) -> None:
    """API, TestApiGatewayApiMethod::test_put_method_model / delete-model-used,
    delete-model-used-by-2-method, delete-model-unused."""
    raw.create_model(restApiId=rest_api, name="MySchema", contentType="application/json",
                     schema=json.dumps({"type": "object", "properties": {"a": {"type": "string"}}}))
    root = _root(raw, rest_api)
    raw.put_method(restApiId=rest_api, resourceId=root, httpMethod="ANY", authorizationType="NONE",
                   requestModels={"application/json": "MySchema"})
    used = _bad("Cannot delete model 'MySchema', is referenced in method request: //ANY", 409, "ConflictException")
    assert error_of(raw.delete_model, restApiId=rest_api, modelName="MySchema") == used
    test = raw.create_resource(restApiId=rest_api, parentId=root, pathPart="test")["id"]
    raw.put_method(restApiId=rest_api, resourceId=test, httpMethod="ANY", authorizationType="NONE",
                   requestModels={"application/json": "MySchema"})
    assert error_of(raw.delete_model, restApiId=rest_api, modelName="MySchema")["Message"].endswith(": /test/ANY")
    for resource in (root, test):
        raw.update_method(restApiId=rest_api, resourceId=resource, httpMethod="ANY",
                          patchOperations=[{"op": "remove", "path": "/requestModels/application~1json"}])
    assert raw.delete_model(restApiId=rest_api, modelName="MySchema")["ResponseMetadata"]["HTTPStatusCode"] == 202


def test_unknown_ids_in_aws_s_words(raw: Any, rest_api: str) -> None:
    """API: test_update_resource_behaviour / nonexistent-resource (capital R), and
    TestApiGatewayApiRequestValidator::test_invalid_get_request_validator (an unknown API is an
    unknown validator), ::test_create_request_validator_invalid_api_id (400)."""
    resource = _bad("Invalid Resource identifier specified", 404, "NotFoundException")
    assert error_of(raw.get_resource, restApiId=rest_api, resourceId="nosuch") == resource
    validator = _bad("Invalid Request Validator identifier specified", 404, "NotFoundException")
    assert error_of(raw.get_request_validator, restApiId=rest_api, requestValidatorId="validator_id") == validator
    assert error_of(raw.get_request_validator, restApiId="api_id", requestValidatorId="validator_id") == validator
    assert error_of(raw.create_request_validator, restApiId="api_id", name="v") == _bad(
        "Invalid REST API identifier specified")


def test_method_and_integration_responses_that_do_not_exist(raw: Any, rest_api: str) -> None:
    """API, TestApigatewayIntegrationResponse::test_integration_response_invalid_statuscode,
    ::test_integration_response_wrong_status_code, ::test_integration_response_wrong_method,
    ::test_delete_integration_response_errors (non-existent-status-code, non-existent-method)."""
    root = _root(raw, rest_api)
    raw.put_method(restApiId=rest_api, resourceId=root, httpMethod="GET", authorizationType="NONE")
    raw.put_integration(restApiId=rest_api, resourceId=root, httpMethod="GET", type="MOCK")
    where = {"restApiId": rest_api, "resourceId": root, "httpMethod": "GET"}
    assert error_of(raw.get_integration_response, **where, statusCode="wrong") == _bad(
        "1 validation error detected: Value 'wrong' at 'statusCode' failed to satisfy constraint: Member must "
        "satisfy regular expression pattern: [1-5]\\d\\d", 400, "ValidationException")
    unknown = _bad("Invalid Response status code specified", 404, "NotFoundException")
    for call in (raw.get_integration_response, raw.delete_integration_response, raw.get_method_response,
                 raw.delete_method_response):
        assert error_of(call, **where, statusCode="400") == unknown, call
    assert error_of(raw.get_method_response, **{**where, "httpMethod": "PUT"}, statusCode="200") == _bad(
        "Invalid Method identifier specified", 404, "NotFoundException")


def test_a_rest_api_takes_tags_as_its_stages_do(raw: Any, rest_api: str) -> None:
    """TagResource, GetTags and UntagResource on a REST API's ARN (moto routes only stages'),
    and a malformed ARN refused in the words AWS records for one (test_apigateway_lambda.snapshot.json,
    test_put_integration_aws_proxy_uri / put-integration-wrong-arn)."""
    arn = f"arn:aws:apigateway:us-east-1::/restapis/{rest_api}"
    raw.tag_resource(resourceArn=arn, tags={"team": "pets", "env": "test"})
    raw.untag_resource(resourceArn=arn, tagKeys=["env"])
    assert raw.get_tags(resourceArn=arn)["tags"] == {"team": "pets"}
    assert raw.get_rest_api(restApiId=rest_api)["tags"] == {"team": "pets"}
    assert error_of(raw.get_tags, resourceArn="nosuch") == _bad("Invalid ARN specified in the request")


def test_an_operation_moto_has_no_route_for_is_501(raw: Any, rest_api: str) -> None:
    """Not AWS's answer, but not moto's HTML page either: petgate local says it lacks it."""
    assert error_of(raw.get_documentation_parts, restApiId=rest_api) == _bad(
        "petgate local does not implement GetDocumentationParts (moto lacks it)", 501, "NotImplemented")


def test_put_method_validation(raw: Any, rest_api: str) -> None:
    """API, TestApiGatewayApiMethod::test_put_method_validation, every key."""
    root = _root(raw, rest_api)

    def put(**kwargs: Any) -> dict[str, Any]:
        return error_of(raw.put_method, **{"restApiId": rest_api, "resourceId": root, "httpMethod": "ANY",
                                           "authorizationType": "NONE", **kwargs})

    resource = _bad("Invalid Resource identifier specified", 404, "NotFoundException")
    assert put(restApiId="fake-api", httpMethod="WRONG") == resource  # wrong-api
    assert put(resourceId="fake-resource-id", httpMethod="WRONG") == resource  # wrong-resource
    assert put(httpMethod="WRONG") == _bad(  # wrong-method
        "Invalid HttpMethod specified. Valid options are GET,PUT,POST,DELETE,PATCH,OPTIONS,HEAD,ANY")
    assert put(authorizationType="CUSTOM") == _bad(  # missing-authorizer-id
        "Invalid authorizer ID specified. Setting the authorization type to CUSTOM or COGNITO_USER_POOLS requires a "
        "valid authorizer.")
    assert put(requestValidatorId="fake-validator") == _bad("Invalid Request Validator identifier specified")
    assert put(requestModels={"application/json": "petModel"}) == _bad("Invalid model identifier specified: petModel")


def test_a_refused_call_changes_nothing(raw: Any, rest_api: str, local_url: str) -> None:
    """Found by review: a word where a number goes was stored (and every SDK then failed to read
    the API list back); a parent id that needs %-encoding made an orphan resource (the path was
    decoded twice); a stage could name a deployment that does not exist (moto's wording for it,
    GetDeployment's: no recording of CreateStage's)."""
    import requests

    assert error_of(raw.create_rest_api, name="r", minimumCompressionSize="abc")["Status"] == 400
    assert error_of(raw.create_rest_api, name="r", minimumCompressionSize=99999999999) == _bad(
        "Invalid minimum compression size, must be between 0 and 10485760")
    raw.get_rest_apis()  # still readable
    signed = "AWS4-HMAC-SHA256 Credential=test/20261202/us-east-1/apigateway/aws4_request, SignedHeaders=host, Signature=x"
    answer = requests.post(f"{local_url}/restapis/{rest_api}/resources/%252F", json={"pathPart": "p"},
                           headers={"Authorization": signed}, timeout=10)
    assert answer.status_code == 404
    assert [r["path"] for r in raw.get_resources(restApiId=rest_api)["items"]] == ["/"]
    root = _root(raw, rest_api)
    raw.put_method(restApiId=rest_api, resourceId=root, httpMethod="GET", authorizationType="NONE")
    raw.put_integration(restApiId=rest_api, resourceId=root, httpMethod="GET", type="MOCK")
    deployment = raw.create_deployment(restApiId=rest_api, stageName="one")["id"]
    missing = _bad("Invalid Deployment identifier specified", 404, "NotFoundException")
    assert error_of(raw.create_stage, restApiId=rest_api, stageName="two", deploymentId="nosuchdep") == missing
    assert error_of(raw.update_stage, restApiId=rest_api, stageName="one", patchOperations=[
        {"op": "replace", "path": "/deploymentId", "value": "nosuchdep"}]) == missing
    assert raw.get_stage(restApiId=rest_api, stageName="one")["deploymentId"] == deployment
