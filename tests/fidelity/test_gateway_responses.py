"""Gateway responses as AWS answers them.

RECORDING = tests/aws/services/apigateway/test_apigateway_api.snapshot.json (localstack/localstack),
tests TestApiGatewayGatewayResponse::*.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.fidelity.conftest import error_of, plain

DOC = '{"message":$context.error.messageString}'
RICH = '{\n     "message": $context.error.messageString,\n     "type":  "$context.error.responseType"\n}'
PARAMS = {
    "gatewayresponse.header.x-request-path": "method.request.path.petId",
    "gatewayresponse.header.Access-Control-Allow-Origin": "'a.b.c'",
}
ENUM = (
    "[REQUEST_TOO_LARGE, RESOURCE_NOT_FOUND, AUTHORIZER_CONFIGURATION_ERROR, MISSING_AUTHENTICATION_TOKEN, "
    "BAD_REQUEST_BODY, INVALID_SIGNATURE, INVALID_API_KEY, BAD_REQUEST_PARAMETERS, AUTHORIZER_FAILURE, "
    "UNAUTHORIZED, INTEGRATION_TIMEOUT, ACCESS_DENIED, DEFAULT_4XX, DEFAULT_5XX, WAF_FILTERED, QUOTA_EXCEEDED, "
    "THROTTLED, API_CONFIGURATION_ERROR, UNSUPPORTED_MEDIA_TYPE, INTEGRATION_FAILURE, EXPIRED_TOKEN]"
)


def test_crud(raw: Any, rest_api: str) -> None:
    """test_gateway_response_crud: get-gateway-response-default, put-, get-, delete-, get-deleted-."""
    default = {"defaultResponse": True, "responseParameters": {}, "responseTemplates": {"application/json": DOC},
               "responseType": "MISSING_AUTHENTICATION_TOKEN", "statusCode": "403"}
    assert plain(raw.get_gateway_response(restApiId=rest_api, responseType="MISSING_AUTHENTICATION_TOKEN")) == default
    put = raw.put_gateway_response(restApiId=rest_api, responseType="MISSING_AUTHENTICATION_TOKEN", statusCode="404",
                                   responseParameters=PARAMS, responseTemplates={"application/json": RICH})
    assert put["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert plain(put) == {"defaultResponse": False, "responseParameters": PARAMS,
                          "responseTemplates": {"application/json": RICH},
                          "responseType": "MISSING_AUTHENTICATION_TOKEN", "statusCode": "404"}
    items = raw.get_gateway_responses(restApiId=rest_api)["items"]
    assert len(items) == 21
    by_type = {i["responseType"]: i for i in items}
    assert by_type["DEFAULT_4XX"] == {"defaultResponse": True, "responseParameters": {},
                                      "responseTemplates": {"application/json": DOC}, "responseType": "DEFAULT_4XX"}
    assert by_type["INTEGRATION_FAILURE"]["statusCode"] == "504" and by_type["ACCESS_DENIED"]["statusCode"] == "403"
    deleted = raw.delete_gateway_response(restApiId=rest_api, responseType="MISSING_AUTHENTICATION_TOKEN")
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert plain(raw.get_gateway_response(restApiId=rest_api, responseType="MISSING_AUTHENTICATION_TOKEN")) == default


def test_a_partial_put_takes_the_types_defaults(raw: Any, rest_api: str) -> None:
    """test_gateway_response_put: put-gateway-response-status-only, -response-parameters-only,
    -response-templates-only, -default-5xx, -default-ignored, get-gateway-responses."""
    kind = "MISSING_AUTHENTICATION_TOKEN"
    raw.put_gateway_response(restApiId=rest_api, responseType=kind, statusCode="404", responseParameters=PARAMS,
                             responseTemplates={"application/json": RICH})
    status_only = plain(raw.put_gateway_response(restApiId=rest_api, responseType=kind, statusCode="404"))
    assert status_only == {"defaultResponse": False, "responseParameters": {}, "responseTemplates": {"application/json": DOC},
                           "responseType": kind, "statusCode": "404"}
    header = {"gatewayresponse.header.x-request-header": "method.request.header.Accept"}
    params_only = plain(raw.put_gateway_response(restApiId=rest_api, responseType=kind, responseParameters=header))
    assert params_only["statusCode"] == "403" and params_only["responseTemplates"] == {"application/json": DOC}
    templates_only = plain(raw.put_gateway_response(restApiId=rest_api, responseType=kind,
                                                    responseTemplates={"application/json": RICH}))
    assert templates_only["statusCode"] == "403" and templates_only["responseParameters"] == {}
    five = plain(raw.put_gateway_response(restApiId=rest_api, responseType="DEFAULT_5XX", statusCode="599",
                                          responseParameters=header, responseTemplates={"application/json": RICH}))
    assert five["statusCode"] == "599" and five["defaultResponse"] is False
    ignored = plain(raw.put_gateway_response(restApiId=rest_api, responseType="AUTHORIZER_FAILURE",
                                             responseParameters={"gatewayresponse.header.foo": "'bar'"}))
    assert ignored == {"defaultResponse": False, "responseParameters": {"gatewayresponse.header.foo": "'bar'"},
                       "responseTemplates": {"application/json": DOC}, "responseType": "AUTHORIZER_FAILURE",
                       "statusCode": "500"}
    by_type = {i["responseType"]: i for i in raw.get_gateway_responses(restApiId=rest_api)["items"]}
    for inherited in ("API_CONFIGURATION_ERROR", "AUTHORIZER_CONFIGURATION_ERROR", "INTEGRATION_FAILURE", "INTEGRATION_TIMEOUT"):
        assert by_type[inherited] == {"defaultResponse": True, "responseParameters": header,
                                      "responseTemplates": {"application/json": RICH}, "responseType": inherited,
                                      "statusCode": "599"}
    assert by_type["AUTHORIZER_FAILURE"]["statusCode"] == "500"  # its own put wins
    assert by_type["ACCESS_DENIED"]["statusCode"] == "403" and by_type["ACCESS_DENIED"]["defaultResponse"] is True
    assert "statusCode" not in by_type["DEFAULT_4XX"]


def test_update(raw: Any, rest_api: str) -> None:
    """test_update_gateway_response: update-gateway-response-not-set, default-get-, update-, get-."""
    not_set = plain(raw.update_gateway_response(restApiId=rest_api, responseType="DEFAULT_4XX",
                                                patchOperations=[{"op": "replace", "path": "/statusCode", "value": "444"}]))
    assert not_set == {"defaultResponse": False, "responseParameters": {}, "responseTemplates": {"application/json": DOC},
                       "responseType": "DEFAULT_4XX", "statusCode": "444"}
    assert plain(raw.get_gateway_response(restApiId=rest_api, responseType="DEFAULT_4XX")) == not_set
    raw.put_gateway_response(restApiId=rest_api, responseType="DEFAULT_4XX", statusCode="404", responseParameters=PARAMS,
                             responseTemplates={"application/json": DOC})
    xml = "<gatewayResponse><message>$context.error.messageString</message></gatewayResponse>"
    updated = plain(raw.update_gateway_response(restApiId=rest_api, responseType="DEFAULT_4XX", patchOperations=[
        {"op": "replace", "path": "/statusCode", "value": "444"},
        {"op": "replace", "path": "/responseParameters/gatewayresponse.header.Access-Control-Allow-Origin", "value": "'example.com'"},
        {"op": "add", "path": "/responseTemplates/application~1xml", "value": xml},
    ]))
    assert updated["statusCode"] == "444"
    assert updated["responseParameters"]["gatewayresponse.header.Access-Control-Allow-Origin"] == "'example.com'"
    assert updated["responseTemplates"] == {"application/json": DOC, "application/xml": xml}
    assert plain(raw.get_gateway_response(restApiId=rest_api, responseType="DEFAULT_4XX")) == updated


@pytest.mark.parametrize(
    ("kind", "operations", "error"),
    [  # test_update_gateway_response: update-gateway-add-status-code ... update-gateway-replace-invalid-parameter-1-none
        ("DEFAULT_4XX", [{"op": "add", "path": "/statusCode", "value": "444"}],
         ("BadRequestException", "Invalid patch path /statusCode", 400)),
        ("DEFAULT_4XX", [{"op": "remove", "path": "/statusCode"}], ("BadRequestException", "Invalid patch path /statusCode", 400)),
        ("DEFAULT_5XX", [{"op": "replace", "path": "/responseParameters/gatewayresponse.header.Access-Control-Allow-Origin",
                          "value": "'example.com'"}], ("NotFoundException", "Invalid parameter name specified", 404)),
        ("DEFAULT_4XX", [{"op": "add", "value": "'example.com'"}], ("BadRequestException", "Invalid patch path null", 400)),
        ("DEFAULT_4XX", [{"op": "wrong-op", "path": "/statusCode", "value": "'example.com'"}],
         ("ValidationException", "1 validation error detected: Value 'wrong-op' at 'updateGatewayResponseInput.patchOperations"
          ".1.member.op' failed to satisfy constraint: Member must satisfy enum value set: [add, remove, move, test, replace, copy]", 400)),
        ("DEFAULT_4XX", [{"op": "add", "path": "/wrongPath", "value": "'example.com'"}],
         ("BadRequestException", "Invalid patch path /wrongPath", 400)),
        ("DEFAULT_4XX", [{"op": "replace", "path": "/responseTemplates/application~1xml", "value": None}],
         ("BadRequestException", "Invalid null or empty value in responseTemplates", 400)),
        ("DEFAULT_4XX", [{"op": "replace", "path": "/responseParameters/gatewayresponse.header.Access-Control-Allow-Origin", "value": None}],
         ("BadRequestException", "Invalid null or empty value in responseParameters", 400)),
    ],
)
def test_update_errors(raw: Any, rest_api: str, kind: str, operations: list[dict[str, Any]], error: tuple[str, str, int]) -> None:
    found = error_of(raw.update_gateway_response, restApiId=rest_api, responseType=kind, patchOperations=operations)
    assert (found["Code"], found["Message"], found["Status"]) == error


def test_validation(raw: Any, rest_api: str) -> None:
    """test_gateway_response_validation: *-no-api, delete-gateway-response-not-set, *-wrong-response-type."""
    fake = "apiid123nope"
    no_api = {"Code": "NotFoundException", "Message": f"Invalid API identifier specified 123456789012:{fake}", "Status": 404}
    assert error_of(raw.get_gateway_responses, restApiId=fake) == no_api
    assert error_of(raw.get_gateway_response, restApiId=fake, responseType="DEFAULT_4XX") == no_api
    assert error_of(raw.delete_gateway_response, restApiId=fake, responseType="DEFAULT_4XX") == no_api
    assert error_of(raw.update_gateway_response, restApiId=fake, responseType="DEFAULT_4XX", patchOperations=[]) == no_api
    assert error_of(raw.delete_gateway_response, restApiId=rest_api, responseType="DEFAULT_4XX") == {
        "Code": "NotFoundException", "Message": "Gateway response type not defined on api", "Status": 404}
    wrong = {"Code": "ValidationException", "Status": 400, "Message": (
        "1 validation error detected: Value 'FAKE_RESPONSE_TYPE' at 'responseType' failed to satisfy constraint: "
        f"Member must satisfy enum value set: {ENUM}")}
    assert error_of(raw.get_gateway_response, restApiId=rest_api, responseType="FAKE_RESPONSE_TYPE") == wrong
    assert error_of(raw.delete_gateway_response, restApiId=rest_api, responseType="FAKE_RESPONSE_TYPE") == wrong
    assert error_of(raw.update_gateway_response, restApiId=rest_api, responseType="FAKE_RESPONSE_TYPE", patchOperations=[]) == wrong
    assert error_of(raw.put_gateway_response, restApiId=rest_api, responseType="FAKE_RESPONSE_TYPE", statusCode="404",
                    responseParameters={}, responseTemplates={}) == wrong
