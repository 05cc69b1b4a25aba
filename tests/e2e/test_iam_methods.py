"""Issue 18 item 2 on the live local gateway: a method switched to AWS_IAM by UpdateMethod and
redeployed is served only to SigV4-signed callers (botocore's signer, service execute-api) that
IAM knows, as authorize() decides from the resource policy and the caller's identity policies
(Tables A and B of API Gateway's "apigateway-authorization-flow" page), with AWS's bodies for
every refusal (sources in petgate/local/sigv4_check.py and dataplane.py)."""

from __future__ import annotations

import datetime
import json
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from unittest import mock

import boto3
import pytest
import requests
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from petgate.local import http
from petgate.local.server import LocalGateway

ACCOUNT = "123456789012"
INVOKE_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*"}]}
DENY_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "execute-api:*", "Resource": "*"}]}
MISMATCH = ("The request signature we calculated does not match the signature you provided. Check your AWS Secret "
            "Access Key and signing method. Consult the service documentation for details.")


@dataclass(frozen=True)
class Keys:
    key: str
    secret: str
    token: str | None = None
    arn: str = ""


def aws_client(url: str, service: str, keys: Keys | None = None) -> Any:
    keys = keys or Keys("test", "test")
    return boto3.client(service, endpoint_url=url, region_name="us-east-1", aws_access_key_id=keys.key,  # type: ignore[call-overload]
                        aws_secret_access_key=keys.secret, aws_session_token=keys.token)


def signed(method: str, url: str, keys: Keys, at: datetime.datetime | None = None, body: bytes = b"",
           headers: dict[str, str] | None = None) -> requests.Response:
    """Sign with botocore's SigV4Auth (service execute-api), at `at` if given, and send."""
    request = AWSRequest(method=method, url=url, data=body, headers=headers or {})
    signer = SigV4Auth(Credentials(keys.key, keys.secret, keys.token), "execute-api", "us-east-1")
    if at is None:
        signer.add_auth(request)
    else:
        with mock.patch("botocore.auth.get_current_datetime", return_value=at):
            signer.add_auth(request)
    return requests.request(method, url, data=body, headers=dict(request.headers), timeout=10)


def user(iam: Any, *documents: dict[str, Any], prefix: str = "u") -> Keys:
    name = f"{prefix}{time.monotonic_ns()}"
    arn = iam.create_user(UserName=name)["User"]["Arn"]
    for index, document in enumerate(documents):
        iam.put_user_policy(UserName=name, PolicyName=f"p{index}", PolicyDocument=json.dumps(document))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return Keys(key["AccessKeyId"], key["SecretAccessKey"], None, arn)


def require_iam(apigw: Any, api_id: str, path: str = "/pets", method: str = "GET") -> None:
    resource = next(r for r in apigw.get_resources(restApiId=api_id)["items"] if r["path"] == path)
    answer = apigw.update_method(restApiId=api_id, resourceId=resource["id"], httpMethod=method,
                                 patchOperations=[{"op": "replace", "path": "/authorizationType", "value": "AWS_IAM"}])
    assert answer["authorizationType"] == "AWS_IAM"


def set_policy(apigw: Any, api_id: str, policy: dict[str, Any] | None) -> None:
    value = json.dumps(policy) if policy is not None else ""
    apigw.update_rest_api(restApiId=api_id, patchOperations=[{"op": "replace", "path": "/policy", "value": value}])


def deploy(apigw: Any, api_id: str) -> None:
    apigw.create_deployment(restApiId=api_id, stageName="test")


def invoke(local_url: str, api_id: str, path: str = "/pets") -> str:
    return f"{local_url}/restapis/{api_id}/test/_user_request_{path}"


def resource_arn(api_id: str, path: str = "pets", method: str = "GET") -> str:
    return f"arn:aws:execute-api:us-east-1:********9012:{api_id}/test/{method}/{path}"


@pytest.fixture()
def iam(local_url: str) -> Any:
    return aws_client(local_url, "iam")


@pytest.fixture()
def iam_api(deployed: str, apigw: Any) -> str:
    """The PetStore with GET /pets on AWS_IAM, redeployed."""
    require_iam(apigw, deployed)
    deploy(apigw, deployed)
    return deployed


def test_update_method_to_aws_iam_refuses_the_unsigned_after_a_redeploy(deployed: str, apigw: Any, local_url: str) -> None:
    url = invoke(local_url, deployed)
    require_iam(apigw, deployed)
    assert requests.get(url, timeout=10).status_code == 200, "not deployed yet: the stage serves its old snapshot"
    deploy(apigw, deployed)
    refused = requests.get(url, timeout=10)
    assert refused.status_code == 403
    assert refused.json() == {"message": "Missing Authentication Token"}
    assert refused.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
    assert refused.headers["x-amzn-RequestId"] and refused.headers["x-amz-apigw-id"]
    # the other methods keep their authorization (NONE): open, exactly as before
    assert requests.get(invoke(local_url, deployed, "/"), timeout=10).status_code == 200
    assert requests.get(invoke(local_url, deployed, "/pets/1"), timeout=10).status_code == 200
    # the customised MISSING_AUTHENTICATION_TOKEN response answers it (the stage's gateway responses)
    apigw.put_gateway_response(restApiId=deployed, responseType="MISSING_AUTHENTICATION_TOKEN", statusCode="401",
                               responseTemplates={"application/json": '{"sign":"$context.error.message"}'})
    deploy(apigw, deployed)
    custom = requests.get(url, timeout=10)
    assert custom.status_code == 401 and custom.json() == {"sign": "Missing Authentication Token"}


def test_a_user_whose_identity_policy_allows_gets_in_and_others_are_named(
    iam_api: str, iam: Any, local_url: str
) -> None:
    url = invoke(local_url, iam_api)
    allowed = user(iam, INVOKE_ALL)
    answer = signed("GET", url, allowed)
    assert answer.status_code == 200, answer.text
    assert isinstance(answer.json(), list), "the PetStore's pets"

    nobody = user(iam)  # no identity policy, no resource policy (Table A: both silent)
    refused = signed("GET", url, nobody)
    assert refused.status_code == 403
    assert refused.headers["x-amzn-ErrorType"] == "AccessDeniedException"
    assert refused.json() == {"Message": f"User: {nobody.arn} is not authorized to perform: execute-api:Invoke on resource: "
                                         f"{resource_arn(iam_api)} because no identity-based policy allows the "
                                         "execute-api:Invoke action"}

    denied = user(iam, INVOKE_ALL, DENY_ALL)
    assert signed("GET", url, denied).json() == {
        "Message": f"User: {denied.arn} is not authorized to perform: execute-api:Invoke on resource: "
                   f"{resource_arn(iam_api)} with an explicit deny in an identity-based policy"}

    # a managed policy attached to a group the user is in
    member = user(iam)
    group = f"g{time.monotonic_ns()}"
    iam.create_group(GroupName=group)
    managed = iam.create_policy(PolicyName=f"m{time.monotonic_ns()}", PolicyDocument=json.dumps(INVOKE_ALL))["Policy"]
    iam.attach_group_policy(GroupName=group, PolicyArn=managed["Arn"])
    assert signed("GET", url, member).status_code == 403
    iam.add_user_to_group(GroupName=group, UserName=member.arn.rsplit("/", 1)[1])
    assert signed("GET", url, member).status_code == 200, "IAM is read at every call: no redeploy"

    # a signed POST with a body, and a query string, verify too
    pets = signed("GET", invoke(local_url, iam_api, "/pets?type=dog&page=2"), allowed)
    assert pets.status_code == 200, pets.text


def test_refusals_of_the_signature(iam_api: str, iam: Any, local_url: str) -> None:
    url = invoke(local_url, iam_api)
    keys = user(iam, INVOKE_ALL)

    unknown = signed("GET", url, Keys("AKIAUNKNOWNKEY000000", "x" * 40))
    assert unknown.status_code == 403
    assert unknown.json() == {"message": "The security token included in the request is invalid."}
    assert unknown.headers["x-amzn-ErrorType"] == "UnrecognizedClientException"

    wrong_secret = signed("GET", url, Keys(keys.key, "y" * 40))
    assert wrong_secret.status_code == 403 and wrong_secret.headers["x-amzn-ErrorType"] == "InvalidSignatureException"
    message = wrong_secret.json()["message"]
    assert message.startswith(MISMATCH + "\n\nThe Canonical String for this request should have been\n'GET\n/restapis/")
    assert "\n\nThe String-to-Sign should have been\n'AWS4-HMAC-SHA256\n" in message

    # a signature tampered with after signing: one hex digit changed
    request = AWSRequest(method="GET", url=url)
    SigV4Auth(Credentials(keys.key, keys.secret), "execute-api", "us-east-1").add_auth(request)
    header = request.headers["Authorization"]
    tampered = header[:-1] + ("0" if header[-1] != "0" else "1")
    answer = requests.get(url, headers={**dict(request.headers), "Authorization": tampered}, timeout=10)
    assert answer.status_code == 403 and answer.json()["message"].startswith(MISMATCH)
    # the signed path changed on the way (another resource): the signature no longer matches
    moved = requests.get(invoke(local_url, iam_api, "/pets?type=cat"), headers=dict(request.headers), timeout=10)
    assert moved.status_code == 403 and moved.json()["message"].startswith(MISMATCH)

    now = datetime.datetime.now(datetime.UTC)
    old = signed("GET", url, keys, at=now - datetime.timedelta(minutes=10))
    assert old.status_code == 403 and old.headers["x-amzn-ErrorType"] == "InvalidSignatureException"
    stamp = (now - datetime.timedelta(minutes=10)).strftime("%Y%m%dT%H%M%SZ")
    assert old.json()["message"].startswith(f"Signature expired: {stamp} is now earlier than ")
    assert old.json()["message"].endswith(" - 5 min.)")
    ahead = signed("GET", url, keys, at=now + datetime.timedelta(minutes=10))
    assert ahead.status_code == 403 and ahead.json()["message"].startswith("Signature not yet current: ")

    bearer = requests.get(url, headers={"Authorization": "Bearer abc"}, timeout=10)
    assert bearer.status_code == 403 and bearer.headers["x-amzn-ErrorType"] == "IncompleteSignatureException"
    assert bearer.json()["message"] == (
        "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. "
        "Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either "
        "a 'X-Amz-Date' or a 'Date' header. Authorization=Bearer")

    other_region = AWSRequest(method="GET", url=url)
    SigV4Auth(Credentials(keys.key, keys.secret), "execute-api", "eu-west-1").add_auth(other_region)
    scoped = requests.get(url, headers=dict(other_region.headers), timeout=10)
    assert scoped.status_code == 403 and scoped.json() == {
        "message": "Credential should be scoped to a valid region, not 'eu-west-1'. "}

    # a presigned URL (SigV4 in the query string) is a signature too
    presign = AWSRequest(method="GET", url=url)
    SigV4QueryAuth(Credentials(keys.key, keys.secret), "execute-api", "us-east-1", expires=300).add_auth(presign)
    assert requests.get(presign.url, timeout=10).status_code == 200

    # an inactive key is no longer recognised
    iam.update_access_key(UserName=keys.arn.rsplit("/", 1)[1], AccessKeyId=keys.key, Status="Inactive")
    assert signed("GET", url, keys).json() == {"message": "The security token included in the request is invalid."}


def test_an_assumed_role_session_and_its_identity_in_templates(iam_api: str, iam: Any, apigw: Any, local_url: str) -> None:
    url = invoke(local_url, iam_api)
    role_name = f"r{time.monotonic_ns()}"
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}]}
    role = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    iam.put_role_policy(RoleName=role_name, PolicyName="invoke", PolicyDocument=json.dumps(INVOKE_ALL))
    session = aws_client(local_url, "sts").assume_role(RoleArn=role["Arn"], RoleSessionName="tester")
    credentials = session["Credentials"]
    keys = Keys(credentials["AccessKeyId"], credentials["SecretAccessKey"], credentials["SessionToken"],
                session["AssumedRoleUser"]["Arn"])
    assert signed("GET", url, keys).status_code == 200
    no_token = signed("GET", url, Keys(keys.key, keys.secret))
    assert no_token.status_code == 403 and no_token.headers["x-amzn-ErrorType"] == "UnrecognizedClientException"
    wrong_token = signed("GET", url, Keys(keys.key, keys.secret, keys.token[:-2] + "xx"))
    assert wrong_token.json() == {"message": "The security token included in the request is invalid."}

    # the resource policy names the role: its sessions are matched by it (here it denies them)
    set_policy(apigw, iam_api, {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*"},
        {"Effect": "Deny", "Principal": {"AWS": role["Arn"]}, "Action": "execute-api:Invoke", "Resource": "execute-api:/*"}]})
    apigw.put_gateway_response(restApiId=iam_api, responseType="ACCESS_DENIED", statusCode="403", responseTemplates={
        "application/json": '{"arn":"$context.identity.userArn","account":"$context.identity.accountId",'
                            '"caller":"$context.identity.caller","user":"$context.identity.user",'
                            '"key":"$context.identity.accessKey","message":$context.error.messageString}'})
    deploy(apigw, iam_api)
    denied = signed("GET", url, keys)
    assert denied.status_code == 403
    body = denied.json()
    assert body["arn"] == keys.arn and body["account"] == ACCOUNT and body["key"] == keys.key
    assert body["caller"] == body["user"] == session["AssumedRoleUser"]["AssumedRoleId"]
    assert body["message"] == (f"User: {keys.arn} is not authorized to perform: execute-api:Invoke on resource: "
                               f"{resource_arn(iam_api)} with an explicit deny")


def second_account_user(local_url: str, *documents: dict[str, Any]) -> tuple[str, Keys]:
    """A user in a fresh account (its keys come from AssumeRole into that account)."""
    other = f"5{random.randint(10**10, 10**11 - 1)}"
    session = aws_client(local_url, "sts").assume_role(RoleArn=f"arn:aws:iam::{other}:role/admin", RoleSessionName="setup")
    credentials = session["Credentials"]
    admin = Keys(credentials["AccessKeyId"], credentials["SecretAccessKey"], credentials["SessionToken"])
    return other, user(aws_client(local_url, "iam", admin), *documents, prefix="b")


def allow(principal: str) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "execute-api:Invoke", "Resource": "execute-api:/*"}]}


def test_table_a_and_table_b_cells_live(iam_api: str, iam: Any, apigw: Any, local_url: str) -> None:
    url = invoke(local_url, iam_api)
    same_silent = user(iam)                   # account A, no identity policy
    same_allowed = user(iam, INVOKE_ALL)      # account A, identity allows
    other, cross_allowed = second_account_user(local_url, INVOKE_ALL)   # account B, identity allows
    _, cross_silent = second_account_user(local_url)                    # account B, no identity policy
    assert cross_allowed.arn.startswith(f"arn:aws:iam::{other}:user/")

    def status(keys: Keys) -> int:
        return signed("GET", url, keys).status_code

    # no resource policy: Table A follows the identity side; Table B needs both, so it is refused
    assert (status(same_silent), status(same_allowed), status(cross_allowed)) == (403, 200, 403)
    assert signed("GET", url, cross_allowed).json()["Message"] == (
        f"User: {cross_allowed.arn} is not authorized to perform: execute-api:Invoke on resource: {resource_arn(iam_api)}")

    # the resource policy allows account B (its root: every principal of B) and user same_silent
    policy = allow(f"arn:aws:iam::{other}:root")
    policy["Statement"].append(allow(same_silent.arn)["Statement"][0])
    set_policy(apigw, iam_api, policy)
    deploy(apigw, iam_api)
    # A: the resource policy alone lets same_silent in; B: both allow for cross_allowed
    assert (status(same_silent), status(cross_allowed)) == (200, 200)
    # A: identity allows, resource policy silent for same_allowed: allowed (either side suffices)
    assert status(same_allowed) == 200
    # B: the resource policy allows, the identity side is silent: refused
    assert signed("GET", url, cross_silent).json()["Message"].endswith(
        " because no identity-based policy allows the execute-api:Invoke action")

    # an explicit deny in the resource policy wins over both allows
    policy["Statement"].append({"Effect": "Deny", "Principal": {"AWS": other}, "Action": "execute-api:Invoke",
                                "Resource": "execute-api:/*"})
    set_policy(apigw, iam_api, policy)
    deploy(apigw, iam_api)
    refused = signed("GET", url, cross_allowed)
    assert refused.status_code == 403 and refused.json()["Message"].endswith(" with an explicit deny")
    assert status(same_silent) == 200


@pytest.fixture()
def clocked_gateway() -> Iterator[tuple[str, list[float]]]:
    """An in-process gateway whose data plane reads a clock the test sets."""
    now = [time.time()]
    server = http.GatewayHTTPServer(("127.0.0.1", 0), LocalGateway(clock=lambda: now[0]))  # type: ignore[arg-type]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", now
    server.shutdown()
    server.server_close()


def test_the_five_minute_window_against_the_injected_clock(clocked_gateway: tuple[str, list[float]]) -> None:
    url, now = clocked_gateway
    apigw = aws_client(url, "apigateway")
    api = apigw.create_rest_api(name=f"clock{time.monotonic_ns()}")
    root = api["rootResourceId"]
    apigw.put_method(restApiId=api["id"], resourceId=root, httpMethod="GET", authorizationType="AWS_IAM")
    apigw.put_integration(restApiId=api["id"], resourceId=root, httpMethod="GET", type="MOCK",
                          requestTemplates={"application/json": '{"statusCode": 200}'})
    apigw.put_integration_response(restApiId=api["id"], resourceId=root, httpMethod="GET", statusCode="200",
                                   responseTemplates={"application/json": '{"who":"$context.identity.userArn"}'})
    apigw.put_method_response(restApiId=api["id"], resourceId=root, httpMethod="GET", statusCode="200")
    apigw.create_deployment(restApiId=api["id"], stageName="test")
    keys = user(aws_client(url, "iam"), INVOKE_ALL, prefix="clock")
    target = f"{url}/restapis/{api['id']}/test/_user_request_/"
    signed_at = datetime.datetime(2030, 1, 1, 12, 0, 0, tzinfo=datetime.UTC)
    request = AWSRequest(method="GET", url=target)
    with mock.patch("botocore.auth.get_current_datetime", return_value=signed_at):
        SigV4Auth(Credentials(keys.key, keys.secret), "execute-api", "us-east-1").add_auth(request)
    headers = dict(request.headers)
    at = signed_at.timestamp()

    now[0] = at + 299
    inside = requests.get(target, headers=headers, timeout=10)
    assert inside.status_code == 200 and inside.json() == {"who": keys.arn}
    now[0] = at - 299
    assert requests.get(target, headers=headers, timeout=10).status_code == 200
    now[0] = at + 301
    late = requests.get(target, headers=headers, timeout=10)
    assert late.status_code == 403
    assert late.json() == {"message": "Signature expired: 20300101T120000Z is now earlier than 20300101T120001Z "
                                      "(20300101T120501Z - 5 min.)"}
    now[0] = at - 301
    assert requests.get(target, headers=headers, timeout=10).json() == {
        "message": "Signature not yet current: 20300101T120000Z is still later than 20300101T115959Z "
                   "(20300101T115459Z + 5 min.)"}


def test_an_expired_sts_session_is_expired_token(clocked_gateway: tuple[str, list[float]]) -> None:
    url, now = clocked_gateway
    apigw = aws_client(url, "apigateway")
    api = apigw.create_rest_api(name=f"session{time.monotonic_ns()}")
    root = api["rootResourceId"]
    apigw.put_method(restApiId=api["id"], resourceId=root, httpMethod="GET", authorizationType="AWS_IAM")
    apigw.put_integration(restApiId=api["id"], resourceId=root, httpMethod="GET", type="MOCK",
                          requestTemplates={"application/json": '{"statusCode": 200}'})
    apigw.put_integration_response(restApiId=api["id"], resourceId=root, httpMethod="GET", statusCode="200")
    apigw.put_method_response(restApiId=api["id"], resourceId=root, httpMethod="GET", statusCode="200")
    apigw.create_deployment(restApiId=api["id"], stageName="test")
    session = aws_client(url, "sts").assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/nobody-made-me",
                                                 RoleSessionName="short", DurationSeconds=900)
    credentials = session["Credentials"]
    keys = Keys(credentials["AccessKeyId"], credentials["SecretAccessKey"], credentials["SessionToken"])
    expiration = credentials["Expiration"].timestamp()
    target = f"{url}/restapis/{api['id']}/test/_user_request_/"
    now[0] = expiration - 60
    at = datetime.datetime.fromtimestamp(now[0], datetime.UTC)
    refused = signed("GET", target, keys, at=at)
    # a role that does not exist has no policies: signed and known, but no identity policy allows it
    assert refused.status_code == 403 and refused.json()["Message"].endswith(
        " because no identity-based policy allows the execute-api:Invoke action")
    now[0] = expiration + 60
    at = datetime.datetime.fromtimestamp(now[0], datetime.UTC)
    late = signed("GET", target, keys, at=at)
    assert late.status_code == 403
    assert late.json() == {"message": "The security token included in the request is expired"}
    assert late.headers["x-amzn-ErrorType"] == "ExpiredTokenException"


@pytest.mark.parametrize("headers", [
    {"Authorization": ""},
    {"Authorization": "AWS4-HMAC-SHA256"},
    {"Authorization": "AWS4-HMAC-SHA256 Credential=a/b/c/d/e, SignedHeaders=host, Signature=00", "X-Amz-Date": "garbage"},
    {"Authorization": "AWS4-HMAC-SHA256 Credential=a/b, SignedHeaders=host, Signature=00", "X-Amz-Date": "20300101T000000Z"},
    {"Authorization": "AWS4-HMAC-SHA256 Credential=AKIA/20300101/us-east-1/execute-api/aws4_request, "
                      "SignedHeaders=host;x-missing, Signature=00", "Date": "not a date"},
    {"Authorization": "AWS4-HMAC-SHA256 Credential=AKIA/20300101/us-east-1/s3/aws4_request, SignedHeaders=, Signature=0",
     "X-Amz-Date": "20300101T000000Z"},
    {"Authorization": "AWS4-HMAC-SHA256 Credential=\u00e9/x/y/z/w, SignedHeaders=host, Signature=\u00e9"},
])
def test_hostile_signatures_are_one_clean_403(iam_api: str, local_url: str, headers: dict[str, str]) -> None:
    encoded = {k: v.encode("utf-8").decode("latin-1") for k, v in headers.items()}
    answer = requests.get(invoke(local_url, iam_api, "/pets?X-Amz-Signature=%zz&a=%"), headers=encoded, timeout=10)
    assert answer.status_code == 403, answer.text
    assert answer.headers["x-amzn-ErrorType"] in (
        "IncompleteSignatureException", "InvalidSignatureException", "UnrecognizedClientException")
    assert answer.json()["message"]
    presigned = requests.get(invoke(local_url, iam_api, "/pets?X-Amz-Signature=00&X-Amz-Credential=a%2Fb"), timeout=10)
    assert presigned.status_code == 403 and presigned.headers["x-amzn-ErrorType"] == "IncompleteSignatureException"
    assert requests.get(f"{local_url}/_petgate/health", timeout=5).status_code == 200
