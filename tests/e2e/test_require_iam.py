"""`petgate require-iam` on the live local gateway: the methods' authorizationType set with
UpdateMethod, journaled, redeployed (the stage then refuses unsigned callers), undone; and
allow-principals, which needs it, letting a signed user in and another out; `status` showing
both."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

PETSTORE = [("/", "GET"), ("/pets", "GET"), ("/pets", "OPTIONS"), ("/pets", "POST"), ("/pets/{petId}", "GET"),
            ("/pets/{petId}", "OPTIONS")]
SIGNED_BY_DEFAULT = [m for m in PETSTORE if m[1] != "OPTIONS"]


def types_of(apigw: Any, api_id: str) -> dict[tuple[str, str], str]:
    """Each method's authorizationType, as the control plane holds it."""
    return {(r["path"], name): m["authorizationType"]
            for r in apigw.get_resources(restApiId=api_id, embed=["methods"])["items"]
            for name, m in (r.get("resourceMethods") or {}).items()}


def url(local_url: str, api_id: str, path: str = "/") -> str:
    return f"{local_url}/restapis/{api_id}/test/_user_request_{path}"


def signed_get(address: str, key: str, secret: str) -> requests.Response:
    request = AWSRequest(method="GET", url=address)
    SigV4Auth(Credentials(key, secret), "execute-api", "us-east-1").add_auth(request)
    return requests.get(address, headers=dict(request.headers), timeout=10)


def test_require_iam_turns_iam_on_redeploys_and_undo_puts_it_back(
    petgate: Any, deployed: str, apigw: Any, local_url: str
) -> None:
    assert requests.get(url(local_url, deployed), timeout=10).status_code == 200
    result = petgate("-o", "json", "require-iam", "--api", deployed)
    assert result.exit_code == 0, result.stderr
    data = result.json
    assert [(c["path"], c["method"], c["before"], c["after"]) for c in data["changes"]] == [
        (path, method, "NONE", "AWS_IAM") for path, method in SIGNED_BY_DEFAULT]
    assert [(s["path"], s["method"], s["reason"]) for s in data["skipped"]] == [
        ("/pets", "OPTIONS", "cors-preflight"), ("/pets/{petId}", "OPTIONS", "cors-preflight")]
    assert data["changed"] is True and data["deployed"] is True and data["journal_id"]
    assert data["authorization_type"] == "AWS_IAM" and data["stage"] == "test"
    stored = types_of(apigw, deployed)
    assert {key for key, kind in stored.items() if kind == "AWS_IAM"} == set(SIGNED_BY_DEFAULT)
    assert [(m["path"], m["method"], m["authorization_type"]) for m in data["methods"]] == [
        (path, method, stored[(path, method)]) for path, method in PETSTORE], "what AWS stored, every method"

    refused = requests.get(url(local_url, deployed), timeout=10)  # the stage serves it: deployed
    assert refused.status_code == 403 and refused.json() == {"message": "Missing Authentication Token"}
    assert refused.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
    preflight = requests.options(url(local_url, deployed, "/pets"), timeout=10,
                                 headers={"Origin": "https://example.com", "Access-Control-Request-Method": "GET"})
    assert preflight.status_code == 200, "the CORS preflight stays unsigned and open"

    entry = data["journal_id"]
    journaled = petgate("-o", "json", "history", "--api", deployed).json["entries"]
    mine = next(e for e in journaled if e["id"] == entry)
    assert mine["kind"] == "authorization" and mine["state"] == "done" and mine["command"] == "require-iam"
    assert [(m["path"], m["method"], m["before"], m["after"]) for m in mine["methods"]] == [
        (path, method, "NONE", "AWS_IAM") for path, method in SIGNED_BY_DEFAULT]

    undone = petgate("-o", "json", "undo", "--api", deployed)
    assert undone.exit_code == 0, undone.stderr
    assert undone.json["undoes"] == entry and undone.json["kind"] == "authorization" and undone.json["deployed"] is True
    assert undone.json["restored"] == [{"path": p, "method": m, "authorization_type": "NONE"} for p, m in SIGNED_BY_DEFAULT]
    assert undone.json["previous"] == [{"path": p, "method": m, "authorization_type": "AWS_IAM"} for p, m in SIGNED_BY_DEFAULT]
    assert set(types_of(apigw, deployed).values()) == {"NONE"}
    assert requests.get(url(local_url, deployed), timeout=10).status_code == 200, "open again, deployed"
    again = petgate("undo", "--api", deployed)
    assert again.exit_code == 2 and "nothing to undo" in again.stderr


def test_a_second_run_changes_nothing_and_says_so(petgate: Any, deployed: str) -> None:
    assert petgate("require-iam", "--api", deployed).exit_code == 0
    again = petgate("require-iam", "--api", deployed)
    assert again.exit_code == 0
    assert f"Nothing to change: the chosen methods of API {deployed} already use AWS_IAM." in again.stderr
    assert "Left open: OPTIONS /pets, OPTIONS /pets/{petId}" in again.stderr
    assert "Deployed" not in again.stderr, "the stage serves it already"
    data = petgate("-o", "json", "require-iam", "--api", deployed).json
    assert data["changed"] is False and data["changes"] == [] and "journal_id" not in data and "deployed" not in data


def test_text_output_names_each_method(petgate: Any, deployed: str) -> None:
    result = petgate("require-iam", "--api", deployed, "--no-deploy")
    assert result.exit_code == 0 and result.stdout == ""
    assert (f"Set AWS_IAM on 4 method(s) of API {deployed}: GET /, GET /pets, POST /pets, GET /pets/{{petId}}."
            in result.stderr)
    assert "  OPTIONS /pets: NONE" in result.stderr and "  GET /pets: AWS_IAM" in result.stderr
    assert "Not redeployed: run `petgate deploy`" in result.stderr


def test_a_dry_run_writes_nothing(petgate: Any, api_id: str, apigw: Any) -> None:
    result = petgate("-o", "json", "require-iam", "--api", api_id, "--dry-run")
    assert result.exit_code == 0 and result.json["dry_run"] is True and len(result.json["changes"]) == 4
    assert "journal_id" not in result.json and "deployed" not in result.json
    assert set(types_of(apigw, api_id).values()) == {"NONE"}
    assert petgate("-o", "json", "history", "--api", api_id).json["entries"][0]["kind"] == "import"


def test_path_and_method_choose_and_options_only_when_named(petgate: Any, api_id: str, apigw: Any) -> None:
    one = petgate("-o", "json", "require-iam", "--api", api_id, "--path", "pets/", "--method", "get", "--no-deploy")
    assert one.exit_code == 0, one.stderr
    assert [(c["path"], c["method"]) for c in one.json["changes"]] == [("/pets", "GET")]
    assert one.json["skipped"] == [], "OPTIONS is not chosen by --method GET"
    both = petgate("-o", "json", "require-iam", "--api", api_id, "--path", "/pets", "--no-deploy")
    assert [(c["path"], c["method"]) for c in both.json["changes"]] == [("/pets", "POST")]
    assert [s["method"] for s in both.json["skipped"]] == ["OPTIONS"]
    named = petgate("-o", "json", "require-iam", "--api", api_id, "--method", "OPTIONS", "--no-deploy")
    assert [(c["path"], c["method"]) for c in named.json["changes"]] == [("/pets", "OPTIONS"), ("/pets/{petId}", "OPTIONS")]
    stored = types_of(apigw, api_id)
    assert {k for k, v in stored.items() if v == "AWS_IAM"} == {
        ("/pets", "GET"), ("/pets", "POST"), ("/pets", "OPTIONS"), ("/pets/{petId}", "OPTIONS")}


def test_off_turns_iam_off_on_every_method_options_included(petgate: Any, api_id: str, apigw: Any) -> None:
    assert petgate("require-iam", "--api", api_id, "--no-deploy").exit_code == 0
    assert petgate("require-iam", "--api", api_id, "--method", "OPTIONS", "--path", "/pets", "--no-deploy").exit_code == 0
    off = petgate("-o", "json", "require-iam", "--api", api_id, "--off", "--no-deploy")
    assert off.exit_code == 0, off.stderr
    assert off.json["authorization_type"] == "NONE" and len(off.json["changes"]) == 5
    assert all(c["before"] == "AWS_IAM" and c["after"] == "NONE" for c in off.json["changes"])
    assert set(types_of(apigw, api_id).values()) == {"NONE"}
    entry = petgate("-o", "json", "history", "--api", api_id, "-n", "1").json["entries"][0]
    assert entry["command"] == "require-iam --off" and entry["kind"] == "authorization"


@pytest.mark.parametrize(("args", "message"), [
    (("--path", "/nope"), "has no resource /nope (its paths: /, /pets, /pets/{petId})"),
    (("--method", "FETCH"), "not an HTTP method API Gateway knows: 'FETCH'"),
    (("--path", "/", "--method", "POST"), "has no POST method on /"),
    (("--path", " "), "--path cannot be empty"),
])
def test_a_choice_that_names_nothing_is_refused_and_nothing_is_written(
    petgate: Any, api_id: str, apigw: Any, args: tuple[str, ...], message: str
) -> None:
    result = petgate("require-iam", "--api", api_id, *args)
    assert result.exit_code == 2 and message in result.stderr
    assert len([line for line in result.stderr.splitlines() if line.startswith("error:")]) == 1
    assert set(types_of(apigw, api_id).values()) == {"NONE"}
    assert [e["kind"] for e in petgate("-o", "json", "history", "--api", api_id).json["entries"]] == ["import"]


def test_undo_refuses_a_method_changed_since_unless_force(petgate: Any, api_id: str, apigw: Any) -> None:
    assert petgate("require-iam", "--api", api_id, "--no-deploy").exit_code == 0
    resource = next(r for r in apigw.get_resources(restApiId=api_id)["items"] if r["path"] == "/pets")
    apigw.update_method(restApiId=api_id, resourceId=resource["id"], httpMethod="GET",
                        patchOperations=[{"op": "replace", "path": "/authorizationType", "value": "NONE"}])
    apigw.update_method(restApiId=api_id, resourceId=resource["id"], httpMethod="POST",
                        patchOperations=[{"op": "replace", "path": "/apiKeyRequired", "value": "true"}])
    root = next(r for r in apigw.get_resources(restApiId=api_id)["items"] if r["path"] == "/")
    authorizer = apigw.create_authorizer(restApiId=api_id, name="a", type="TOKEN", identitySource="method.request.header.A",
                                         authorizerUri="arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
                                         "arn:aws:lambda:us-east-1:123456789012:function:f/invocations")
    apigw.update_method(restApiId=api_id, resourceId=root["id"], httpMethod="GET", patchOperations=[
        {"op": "replace", "path": "/authorizationType", "value": "CUSTOM"},
        {"op": "replace", "path": "/authorizerId", "value": authorizer["id"]}])
    refused = petgate("undo", "--api", api_id, "--no-deploy")
    assert refused.exit_code == 2
    assert f"the authorization of GET / in API {api_id} changed after entry" in refused.stderr
    assert "(it is CUSTOM now)" in refused.stderr and "--force" in refused.stderr
    assert types_of(apigw, api_id)[("/", "GET")] == "CUSTOM", "nothing was put back"
    forced = petgate("-o", "json", "undo", "--api", api_id, "--no-deploy", "--force")
    assert forced.exit_code == 0, forced.stderr
    assert set(types_of(apigw, api_id).values()) == {"NONE"}
    assert {(m["path"], m["method"]) for m in forced.json["previous"]} == set(SIGNED_BY_DEFAULT)


def test_the_stage_export_names_sigv4_as_aws_exports_it(petgate: Any, deployed: str, apigw: Any) -> None:
    assert petgate("require-iam", "--api", deployed, "--path", "/pets", "--method", "GET").exit_code == 0
    scheme = {"type": "apiKey", "name": "Authorization", "in": "header", "x-amazon-apigateway-authtype": "awsSigv4"}
    for kind in ("oas30", "swagger"):
        answer = apigw.get_export(restApiId=deployed, stageName="test", exportType=kind,
                                  parameters={"extensions": "apigateway"}, accepts="application/json")
        exported = json.loads(answer["body"].read())
        schemes = exported["components"]["securitySchemes"] if kind == "oas30" else exported["securityDefinitions"]
        assert schemes == {"sigv4": scheme}, kind
        assert exported["paths"]["/pets"]["get"]["security"] == [{"sigv4": []}]
        assert "security" not in exported["paths"]["/pets"]["post"] and "security" not in exported["paths"]["/"]["get"]


def test_several_apis_in_turn(petgate: Any, api_id: str) -> None:
    second = petgate("-o", "json", "import-example", "--name", f"Second-{time.monotonic_ns()}", "--new").json["api_id"]
    result = petgate("-o", "json", "require-iam", "--api", api_id, "--api", second, "--no-deploy")
    assert result.exit_code == 0, result.stderr
    assert [(a["api"], len(a["changes"])) for a in result.json["apis"]] == [(api_id, 4), (second, 4)]
    assert result.json["ok"] is True
    one_fails = petgate("-o", "json", "require-iam", "--api", api_id, "--api", "zzzzzzzzz9", "--no-deploy")
    assert one_fails.exit_code == 3 and one_fails.json["ok"] is False
    assert one_fails.json["apis"][0]["changes"] == [] and "error" in one_fails.json["apis"][1]


def test_allow_principals_needs_iam_then_lets_the_named_user_in_and_no_other(
    petgate: Any, deployed: str, local_url: str
) -> None:
    iam = boto3.client("iam", endpoint_url=local_url, region_name="us-east-1", aws_access_key_id="test",
                       aws_secret_access_key="test")
    keys = {}
    for who in ("named", "other"):
        name = f"{who}{time.monotonic_ns()}"
        arn = iam.create_user(UserName=name)["User"]["Arn"]
        key = iam.create_access_key(UserName=name)["AccessKey"]
        keys[who] = (arn, key["AccessKeyId"], key["SecretAccessKey"])
    refused = petgate("allow-principals", "--api", deployed, keys["named"][0])
    assert refused.exit_code == 2
    assert f"no method of API {deployed} uses IAM authorization (AWS_IAM)" in refused.stderr
    assert f"run `petgate require-iam --api {deployed}` first" in refused.stderr
    assert petgate("-o", "json", "policy", "show", "--api", deployed).json["policy"] is None, "nothing was written"

    assert petgate("require-iam", "--api", deployed, "--no-deploy").exit_code == 0
    allowed = petgate("-o", "json", "allow-principals", "--api", deployed, keys["named"][0])
    assert allowed.exit_code == 0, allowed.stderr
    assert allowed.json["added"] == [keys["named"][0]] and allowed.json["kind"] == "allowed principals"
    assert allowed.json["deployed"] is True
    # same account, no identity policy: the resource policy alone decides (Table A)
    assert signed_get(url(local_url, deployed), *keys["named"][1:]).status_code == 200
    other = signed_get(url(local_url, deployed), *keys["other"][1:])
    assert other.status_code == 403 and keys["other"][0] in other.json()["Message"]
    assert requests.get(url(local_url, deployed), timeout=10).status_code == 403, "unsigned: no token"


def test_allow_accounts_is_refused_without_iam_unless_force(petgate: Any, api_id: str) -> None:
    refused = petgate("allow-accounts", "--api", api_id, "111122223333", "--no-deploy")
    assert refused.exit_code == 2 and "petgate require-iam" in refused.stderr
    forced = petgate("allow-accounts", "--api", api_id, "111122223333", "--no-deploy", "--force")
    assert forced.exit_code == 0 and "only apply to methods that use IAM authorization" in forced.stderr
    removed = petgate("allow-accounts", "--api", api_id, "111122223333", "--no-deploy", "--remove")
    assert removed.exit_code == 0, "taking an account out needs no IAM method"


def test_status_shows_each_methods_authorization_and_whether_private(petgate: Any, api_id: str, apigw: Any) -> None:
    assert petgate("require-iam", "--api", api_id, "--path", "/pets", "--method", "POST", "--no-deploy").exit_code == 0
    data = petgate("-o", "json", "status", "--api", api_id).json
    assert data["private"] is False and data["endpoint_types"] == ["REGIONAL"]
    assert [(m["path"], m["method"], m["authorization_type"]) for m in data["methods"]] == [
        (p, m, "AWS_IAM" if (p, m) == ("/pets", "POST") else "NONE") for p, m in PETSTORE]
    text = petgate("status", "--api", api_id)
    assert "  endpoint REGIONAL: public, reachable from the internet" in text.stdout
    assert "Methods (authorization)\n  GET /: NONE\n  GET /pets: NONE\n  OPTIONS /pets: NONE\n  POST /pets: AWS_IAM\n" in text.stdout

    private = apigw.create_rest_api(name=f"Private-{time.monotonic_ns()}", endpointConfiguration={"types": ["PRIVATE"]})
    try:
        shown = petgate("-o", "json", "status", "--api", private["id"]).json
        assert shown["private"] is True and shown["endpoint_types"] == ["PRIVATE"]
        assert shown["methods"] == [], "a new API's root has no method"
        words = petgate("status", "--api", private["id"]).stdout
        assert "  endpoint PRIVATE: private, reachable only through VPC endpoints" in words
        assert "Methods (authorization)\n  none\n" in words
    finally:
        apigw.delete_rest_api(restApiId=private["id"])
