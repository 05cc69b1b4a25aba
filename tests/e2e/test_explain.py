"""petgate explain through the CLI against the session's petgate local: text and JSON for hand-made
cases (allowed, a WAF block, a policy deny naming its statement, a missing route, an unsigned call
to an AWS_IAM method, a PRIVATE API called from outside its endpoints), --live agreeing, --live
disagreeing where petgate honestly cannot see (a resource without methods is not exported), and
one clear line for an unknown API, and an unknown stage explained."""

from __future__ import annotations

import json
from typing import Any

from tests.test_errors import assert_one_clear_line


def explain(petgate: Any, api_id: str, *more: str) -> Any:
    return petgate("explain", "--api", api_id, *more)


def layer(data: dict[str, Any], name: str) -> dict[str, Any]:
    return next(item for item in data["layers"] if item["layer"] == name)


def set_policy(apigw: Any, api_id: str, policy: dict[str, Any]) -> None:
    apigw.update_rest_api(restApiId=api_id, patchOperations=[{"op": "replace", "path": "/policy", "value": json.dumps(policy)}])
    apigw.create_deployment(restApiId=api_id, stageName="test")


def test_allowed_in_text_and_json(petgate: Any, deployed: str) -> None:
    text = explain(petgate, deployed, "--path", "/pets", "--ip", "127.0.0.1")
    assert text.exit_code == 0, text.stderr
    assert "pass     policy           no resource policy: everyone may invoke" in text.stdout
    assert "Outcome: allowed" in text.stdout
    data = explain(petgate, deployed, "-o", "json", "--path", "/pets", "--ip", "127.0.0.1").json
    assert [item["layer"] for item in data["layers"]] == ["stage", "vpc-endpoint", "waf", "route", "api-key",
                                                         "policy-precheck", "authentication", "policy"]
    assert {item["decision"] for item in data["layers"]} == {"pass"}
    assert set(data["layers"][0]) == {"layer", "decision", "because", "statement", "rule"}
    assert (data["outcome"]["allowed"], data["outcome"]["reason"], data["outcome"]["known"]) == (True, "allowed", True)


def test_a_policy_deny_names_its_statement_and_the_body_aws_sends(petgate: Any, deployed: str) -> None:
    assert petgate("block-my-ip", "--api", deployed, "--cidr", "127.0.0.5/32").exit_code == 0
    data = explain(petgate, deployed, "-o", "json", "--path", "/pets", "--ip", "127.0.0.5", "--live").json
    policy = layer(data, "policy")
    assert policy["decision"] == "refuse" and "'PetgateDenyIps'" in policy["because"]
    assert policy["statement"]["Sid"] == "PetgateDenyIps" and policy["statement"]["Effect"] == "Deny"
    outcome = data["outcome"]
    assert (outcome["status"], outcome["error_type"], outcome["reason"]) == (403, "AccessDeniedException", "policy-explicit-deny")
    assert json.loads(outcome["body"]) == {"Message": "User: anonymous is not authorized to perform: execute-api:Invoke "
                                           f"on resource: arn:aws:execute-api:us-east-1:********9012:{deployed}/test/GET/pets "
                                           "with an explicit deny"}
    assert data["live"]["agrees"] is True and data["live"]["body"] == outcome["body"]
    text = explain(petgate, deployed, "--path", "/pets", "--ip", "127.0.0.5", "--live")
    assert text.exit_code == 0, text.stderr
    assert "REFUSE   policy" in text.stdout and "agrees" in text.stderr
    assert petgate("set-403-template", "--api", deployed).exit_code == 0  # the deployed ACCESS_DENIED is rendered
    custom = explain(petgate, deployed, "-o", "json", "--path", "/pets", "--ip", "127.0.0.5").json
    assert custom["outcome"]["body"] == '{"message":"Access denied"}'


def test_waf_blocks_by_its_rule(petgate: Any, deployed: str, waf_list: str) -> None:
    assert petgate("waf", "block", "--list", waf_list, "--cidr", "127.0.0.6/32").exit_code == 0
    assert petgate("waf", "attach", "--list", waf_list, "--api", deployed).exit_code == 0
    data = explain(petgate, deployed, "-o", "json", "--path", "/pets", "--ip", "127.0.0.6", "--live").json
    waf = layer(data, "waf")
    assert waf["decision"] == "refuse" and waf["rule"] and waf["rule"] in waf["because"]
    assert [item["layer"] for item in data["layers"]][-1] == "waf"
    assert (data["outcome"]["status"], data["outcome"]["error_type"], data["outcome"]["reason"]) == (
        403, "ForbiddenException", "waf-block")
    assert data["live"]["agrees"] is True
    assert layer(explain(petgate, deployed, "-o", "json", "--path", "/pets", "--ip", "127.0.0.7").json, "waf")["decision"] == "pass"


def test_a_missing_route(petgate: Any, deployed: str) -> None:
    data = explain(petgate, deployed, "-o", "json", "--path", "/nothing/here", "--ip", "127.0.0.1", "--live").json
    assert layer(data, "route")["decision"] == "refuse"
    assert (data["outcome"]["status"], data["outcome"]["error_type"], json.loads(data["outcome"]["body"])) == (
        403, "MissingAuthenticationTokenException", {"message": "Missing Authentication Token"})
    assert data["live"]["agrees"] is True
    text = explain(petgate, deployed, "--method", "DELETE", "--path", "/pets", "--ip", "127.0.0.1")
    assert "REFUSE   route            the deployment has no DELETE /pets" in text.stdout


def test_an_unsigned_call_to_an_aws_iam_method(petgate: Any, deployed: str) -> None:
    assert petgate("require-iam", "--api", deployed).exit_code == 0
    data = explain(petgate, deployed, "-o", "json", "--path", "/pets", "--ip", "127.0.0.1", "--live").json
    assert layer(data, "authentication")["decision"] == "refuse"
    assert "AWS_IAM" in layer(data, "authentication")["because"]
    assert (data["outcome"]["reason"], data["outcome"]["error_type"]) == ("missing-signature", "MissingAuthenticationTokenException")
    assert data["live"]["agrees"] is True and data["live"]["reason"] == "missing-signature"
    unknown = explain(petgate, deployed, "--path", "/pets", "--principal", "arn:aws:iam::222222222222:user/elsewhere")
    assert_one_clear_line(unknown, 3, "IAM has no user elsewhere in account 222222222222")
    root = explain(petgate, deployed, "-o", "json", "--path", "/pets", "--ip", "127.0.0.1", "--principal", "123456789012").json
    assert layer(root, "authentication")["decision"] == "pass"
    assert (root["outcome"]["reason"], root["outcome"]["allowed"]) == ("allowed", True)  # Table A: the root user


def test_a_private_api_without_an_endpoint(petgate: Any) -> None:
    imported = petgate("-o", "json", "import-example", "--name", "PrivateExplain", "--new", "--endpoint-type", "PRIVATE",
                       "--vpce", "vpce-0abc1234")
    assert imported.exit_code == 0, imported.stderr
    api_id = imported.json["api_id"]
    assert petgate("deploy", "--api", api_id).exit_code == 0
    data = explain(petgate, api_id, "-o", "json", "--path", "/pets", "--ip", "127.0.0.1", "--live").json
    assert layer(data, "vpc-endpoint")["decision"] == "refuse" and "PRIVATE" in layer(data, "vpc-endpoint")["because"]
    assert (data["outcome"]["status"], data["outcome"]["error_type"], data["outcome"]["reason"]) == (
        403, "ForbiddenException", "private-endpoint-required")
    assert data["live"]["agrees"] is True


def test_live_disagrees_where_the_export_cannot_show(petgate: Any, api_id: str, apigw: Any) -> None:
    """A resource with no method is not in the stage's export, yet it wins the route over
    {proxy+} (the local gateway, as API Gateway routes): explain cannot see it, --live says so, exit 1."""
    root = next(r for r in apigw.get_resources(restApiId=api_id)["items"] if r["path"] == "/")
    proxy = apigw.create_resource(restApiId=api_id, parentId=root["id"], pathPart="{proxy+}")
    apigw.put_method(restApiId=api_id, resourceId=proxy["id"], httpMethod="ANY", authorizationType="NONE")
    apigw.put_integration(restApiId=api_id, resourceId=proxy["id"], httpMethod="ANY", type="MOCK",
                          requestTemplates={"application/json": '{"statusCode": 200}'})
    apigw.put_integration_response(restApiId=api_id, resourceId=proxy["id"], httpMethod="ANY", statusCode="200",
                                   selectionPattern="")
    apigw.create_resource(restApiId=api_id, parentId=root["id"], pathPart="hidden")  # no method
    apigw.create_deployment(restApiId=api_id, stageName="test")
    result = explain(petgate, api_id, "-o", "json", "--path", "/hidden", "--ip", "127.0.0.1", "--live")
    assert_one_clear_line(result, 1, "the live answer disagrees with the explanation: status 403, explained 200")
    assert result.json["outcome"]["allowed"] is True and result.json["live"]["agrees"] is False
    assert result.json["live"]["error_type"] == "MissingAuthenticationTokenException"


def test_an_unknown_api_is_one_clear_line(petgate: Any) -> None:
    result = petgate("explain", "--path", "/pets", "--api", "no-such-api")
    assert_one_clear_line(result, 3, "no REST API with id or name 'no-such-api'")


def test_an_unknown_stage_is_the_layer_that_refuses(petgate: Any, deployed: str) -> None:
    """A mistyped or never-deployed stage is one of the 403's causes: explained (exit 0), and
    --live agrees with the gateway's plain 403 Forbidden."""
    result = explain(petgate, deployed, "-o", "json", "--stage", "nostage", "--path", "/pets", "--ip", "127.0.0.1", "--live")
    assert result.exit_code == 0, result.stderr
    assert [(layer["layer"], layer["decision"]) for layer in result.json["layers"]] == [("stage", "refuse")]
    assert "no stage 'nostage'" in result.json["layers"][0]["because"]
    outcome = result.json["outcome"]
    assert (outcome["status"], outcome["error_type"], outcome["reason"]) == (403, "ForbiddenException", "stage-not-found")
    assert result.json["live"]["agrees"] is True and result.json["live"]["reason"] == "stage-not-found"


def test_bad_options_are_refused_before_anything_is_read(petgate: Any) -> None:
    for args, words in [(("--method", "BREW"), "not an HTTP method"), (("--ip", "nowhere"), "not an IP address"),
                        (("--header", "novalue"), "NAME=VALUE"),
                        (("--path", "/pets#frag"), "not what an HTTP client sends"),
                        (("--path", "/pets/../x"), "not what an HTTP client sends"),
                        (("--principal", "arn:aws:iam::111122223333:user/a", "--as", "x"), "not both")]:
        result = petgate("explain", "--api", "abcdefghij", *args)
        assert result.exit_code == 2, (args, result.stderr)
        assert words in result.stderr
