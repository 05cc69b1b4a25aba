"""Issue 18 item 1: IAM and STS on petgate local's port, through boto3 and the aws CLI, with a
second account reached by AssumeRole, kept by --state, and malformed Query requests answered
with one clean 4xx."""

from __future__ import annotations

import json
import os
import random
import subprocess
import time
from pathlib import Path
from typing import Any

import boto3
import botocore.exceptions
import pytest
import requests

from tests.conftest import petgate_local

AWS = Path(os.environ.get("PETGATE_TEST_AWS_CLI") or Path(__file__).resolve().parents[2] / "bench/.venv-awscli/bin/aws")
INVOKE = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*"}]}
TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}]}
SIGNED = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=00"


def client(url: str, service: str, key: str = "test", secret: str = "test", token: str | None = None) -> Any:
    return boto3.client(service, endpoint_url=url, region_name="us-east-1", aws_access_key_id=key,  # type: ignore[call-overload]
                        aws_secret_access_key=secret, aws_session_token=token)


def unique(prefix: str) -> str:
    return f"{prefix}{time.monotonic_ns()}"


def test_users_keys_and_policies_through_boto3(local_url: str) -> None:
    iam = client(local_url, "iam")
    name = unique("alice")
    user = iam.create_user(UserName=name)["User"]
    assert user["Arn"] == f"arn:aws:iam::123456789012:user/{name}"
    key = iam.create_access_key(UserName=name)["AccessKey"]
    assert key["AccessKeyId"].startswith("AKIA") and len(key["SecretAccessKey"]) == 40
    iam.put_user_policy(UserName=name, PolicyName="invoke", PolicyDocument=json.dumps(INVOKE))
    assert json.loads(json.dumps(iam.get_user_policy(UserName=name, PolicyName="invoke")["PolicyDocument"])) == INVOKE
    managed = iam.create_policy(PolicyName=unique("managed"), PolicyDocument=json.dumps(INVOKE))["Policy"]
    iam.attach_user_policy(UserName=name, PolicyArn=managed["Arn"])
    assert [p["PolicyArn"] for p in iam.list_attached_user_policies(UserName=name)["AttachedPolicies"]] == [managed["Arn"]]
    role = iam.create_role(RoleName=unique("role"), AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]
    iam.put_role_policy(RoleName=role["RoleName"], PolicyName="invoke", PolicyDocument=json.dumps(INVOKE))
    iam.attach_role_policy(RoleName=role["RoleName"], PolicyArn=managed["Arn"])
    assert iam.list_role_policies(RoleName=role["RoleName"])["PolicyNames"] == ["invoke"]

    # the user's own keys: GetCallerIdentity names the user
    me = client(local_url, "sts", key["AccessKeyId"], key["SecretAccessKey"]).get_caller_identity()
    assert me["Arn"] == user["Arn"] and me["Account"] == "123456789012"

    # AssumeRole in the same account: a session of the role, with a session token
    assumed = client(local_url, "sts", key["AccessKeyId"], key["SecretAccessKey"]).assume_role(
        RoleArn=role["Arn"], RoleSessionName="work")
    credentials = assumed["Credentials"]
    assert credentials["AccessKeyId"].startswith("ASIA") and credentials["SessionToken"]
    assert assumed["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::123456789012:assumed-role/{role['RoleName']}/work"
    session = client(local_url, "sts", credentials["AccessKeyId"], credentials["SecretAccessKey"], credentials["SessionToken"])
    assert session.get_caller_identity()["Arn"] == assumed["AssumedRoleUser"]["Arn"]

    with pytest.raises(botocore.exceptions.ClientError) as missing:
        iam.get_user(UserName=unique("nobody"))
    assert missing.value.response["Error"]["Code"] == "NoSuchEntity"
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_assume_role_into_a_second_account(local_url: str) -> None:
    """moto's multi-account support: keys from AssumeRole of a role ARN in another account are
    that account's, for IAM, STS and API Gateway alike."""
    other = f"2{random.randint(10**10, 10**11 - 1)}"
    role_arn = f"arn:aws:iam::{other}:role/deployer"
    assumed = client(local_url, "sts").assume_role(RoleArn=role_arn, RoleSessionName="cross")
    credentials = assumed["Credentials"]
    keys = (credentials["AccessKeyId"], credentials["SecretAccessKey"], credentials["SessionToken"])
    identity = client(local_url, "sts", *keys).get_caller_identity()
    assert identity["Account"] == other
    assert identity["Arn"] == f"arn:aws:sts::{other}:assumed-role/deployer/cross"

    iam = client(local_url, "iam", *keys)
    created = iam.create_user(UserName="bob")["User"]
    assert created["Arn"] == f"arn:aws:iam::{other}:user/bob"
    assert [u["UserName"] for u in iam.list_users()["Users"]] == ["bob"], "the second account starts empty"
    assert "bob" not in [u["UserName"] for u in client(local_url, "iam").list_users()["Users"]]

    # a user of the second account gets keys of that account
    key = iam.create_access_key(UserName="bob")["AccessKey"]
    bob = client(local_url, "sts", key["AccessKeyId"], key["SecretAccessKey"]).get_caller_identity()
    assert bob["Arn"] == f"arn:aws:iam::{other}:user/bob"
    # and API Gateway serves that account too
    apigw = client(local_url, "apigateway", key["AccessKeyId"], key["SecretAccessKey"])
    api = apigw.create_rest_api(name="in-the-second-account")
    assert [a["id"] for a in apigw.get_rest_apis()["items"]] == [api["id"]]
    assert api["id"] not in [a["id"] for a in client(local_url, "apigateway").get_rest_apis()["items"]]


def test_the_aws_cli_creates_a_user_and_assumes_a_role(local_url: str, tmp_path: Path) -> None:
    if not AWS.exists():
        pytest.skip(f"the aws CLI is not installed at {AWS} (`make test` installs it)")
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "AWS_ACCESS_KEY_ID": "test",
           "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1", "AWS_PAGER": ""}

    def aws(*args: str, extra: dict[str, str] | None = None) -> Any:
        done = subprocess.run([str(AWS), "--endpoint-url", local_url, "--output", "json", *args],
                              capture_output=True, text=True, env={**env, **(extra or {})}, timeout=120)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout) if done.stdout.strip() else None

    name = unique("cli")
    assert aws("iam", "create-user", "--user-name", name)["User"]["Arn"] == f"arn:aws:iam::123456789012:user/{name}"
    key = aws("iam", "create-access-key", "--user-name", name)["AccessKey"]
    as_user = {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}
    assert aws("sts", "get-caller-identity", extra=as_user)["Arn"] == f"arn:aws:iam::123456789012:user/{name}"
    other = f"3{random.randint(10**10, 10**11 - 1)}"
    assumed = aws("sts", "assume-role", "--role-arn", f"arn:aws:iam::{other}:role/ops", "--role-session-name", "cli",
                  extra=as_user)["Credentials"]
    in_other = {"AWS_ACCESS_KEY_ID": assumed["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": assumed["SecretAccessKey"],
                "AWS_SESSION_TOKEN": assumed["SessionToken"]}
    assert aws("sts", "get-caller-identity", extra=in_other)["Account"] == other
    failed = subprocess.run([str(AWS), "--endpoint-url", local_url, "iam", "get-user", "--user-name", unique("none")],
                            capture_output=True, text=True, env=env, timeout=120)
    assert failed.returncode == 255 and "NoSuchEntity" in failed.stderr


@pytest.mark.parametrize(
    ("service", "body", "status", "code"),
    [
        ("iam", "Version=2010-05-08", 400, "MissingAction"),
        ("iam", "Action=NoSuchThing&Version=2010-05-08", 400, "InvalidAction"),
        ("iam", "Action=CreateUser&Version=2010-05-08", 400, "ValidationError"),
        ("iam", "Action=ListUsers&MaxItems=many&Version=2010-05-08", 400, "InvalidParameterValue"),
        ("iam", "Action=CreatePolicy&PolicyName=p&PolicyDocument=not-json&Version=2010-05-08", 400, "MalformedPolicyDocument"),
        ("sts", "Action=AssumeRole&Version=2011-06-15", 400, "ValidationError"),
        ("sts", "Action=AssumeRole&RoleArn=x&RoleSessionName=s&DurationSeconds=1.5&Version=2011-06-15", 400,
         "InvalidParameterValue"),
    ],
)
def test_malformed_query_requests_get_one_clean_4xx(local_url: str, service: str, body: str, status: int, code: str) -> None:
    answer = requests.post(f"{local_url}/", data=body, timeout=10, headers={
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8", "Authorization": SIGNED.format(service=service)})
    assert answer.status_code == status, answer.text
    assert f"<Code>{code}</Code>" in answer.text and answer.headers["Content-Type"] == "text/xml"


def test_a_malformed_signature_is_incomplete_signature_and_a_bad_region_does_not_match(local_url: str) -> None:
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    incomplete = requests.post(f"{local_url}/", data="Action=GetCallerIdentity&Version=2011-06-15", timeout=10,
                               headers={**form, "Authorization": "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/sts/aws4_request"})
    assert incomplete.status_code == 400 and "<Code>IncompleteSignature</Code>" in incomplete.text
    assert "Authorization header requires 'Signature' parameter." in incomplete.text
    region = requests.post(f"{local_url}/", data="Action=ListUsers&Version=2010-05-08", timeout=10, headers={
        **form, "Authorization": SIGNED.format(service="iam").replace("us-east-1", "mars-north-1")})
    assert region.status_code == 403 and "<Code>SignatureDoesNotMatch</Code>" in region.text
    unsigned = requests.post(f"{local_url}/", data="Action=GetCallerIdentity&Version=2011-06-15", timeout=10, headers=form)
    assert unsigned.status_code == 200 and "<GetCallerIdentityResponse" in unsigned.text, "routed by its Action"
    assert requests.get(f"{local_url}/_petgate/health", timeout=5).status_code == 200


def test_iam_and_sts_survive_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "iam.state"
    with petgate_local("--state", str(state)) as url:
        iam = client(url, "iam")
        iam.create_user(UserName="kept")
        key = iam.create_access_key(UserName="kept")["AccessKey"]
        iam.put_user_policy(UserName="kept", PolicyName="invoke", PolicyDocument=json.dumps(INVOKE))
        assumed = client(url, "sts").assume_role(RoleArn="arn:aws:iam::444455556666:role/r", RoleSessionName="kept")
    with petgate_local("--state", str(state)) as url:
        assert client(url, "iam").get_user_policy(UserName="kept", PolicyName="invoke")["PolicyName"] == "invoke"
        me = client(url, "sts", key["AccessKeyId"], key["SecretAccessKey"]).get_caller_identity()
        assert me["Arn"] == "arn:aws:iam::123456789012:user/kept", "the key and its secret came back"
        credentials = assumed["Credentials"]
        session = client(url, "sts", credentials["AccessKeyId"], credentials["SecretAccessKey"], credentials["SessionToken"])
        assert session.get_caller_identity()["Arn"] == "arn:aws:sts::444455556666:assumed-role/r/kept"
