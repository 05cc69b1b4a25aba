"""verify --sign / --as PROFILE against a live `petgate local`: users and keys made in the local IAM
with boto3, GET /pets switched to AWS_IAM with UpdateMethod and redeployed, then each reason an
IAM-signed (or unsigned, or badly signed) probe gets, and the bad inputs that stop it first."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import boto3
import pytest

ACCOUNT = "123456789012"  # moto's default account: the one the test keys and the API live in
OTHER_ACCOUNT = "222222222222"
INVOKE_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*"}]}
DENY_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "execute-api:*", "Resource": "*"}]}


def client(local_url: str, service: str, key: str = "test", secret: str = "test", token: str | None = None) -> Any:
    return boto3.client(service, endpoint_url=local_url, region_name="us-east-1", aws_access_key_id=key,  # type: ignore[call-overload]
                        aws_secret_access_key=secret, aws_session_token=token)


def user_keys(iam: Any, *documents: dict[str, Any]) -> dict[str, str]:
    """A new IAM user with these inline policies, and an access key of its own."""
    name = f"v{time.monotonic_ns()}"
    arn = iam.create_user(UserName=name)["User"]["Arn"]
    for index, document in enumerate(documents):
        iam.put_user_policy(UserName=name, PolicyName=f"p{index}", PolicyDocument=json.dumps(document))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return {"key": key["AccessKeyId"], "secret": key["SecretAccessKey"], "arn": arn}


def set_policy(apigw: Any, api_id: str, policy: dict[str, Any] | None) -> None:
    value = json.dumps(policy) if policy is not None else ""
    apigw.update_rest_api(restApiId=api_id, patchOperations=[{"op": "replace", "path": "/policy", "value": value}])
    apigw.create_deployment(restApiId=api_id, stageName="test")


@pytest.fixture(autouse=True)
def no_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """No credentials but those a test gives: empty AWS config files of the test's own, no key in
    the environment, and never the instance metadata service (only 127.0.0.0/8 is touched)."""
    files = {"config": tmp_path / "aws-config", "credentials": tmp_path / "aws-credentials"}
    for path in files.values():
        path.write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(files["config"]))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(files["credentials"]))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
                 "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE",
                 "AWS_ROLE_ARN"):
        monkeypatch.delenv(name, raising=False)
    return files


def use_keys(monkeypatch: pytest.MonkeyPatch, keys: dict[str, str]) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", keys["key"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", keys["secret"])


@pytest.fixture()
def iam(local_url: str) -> Any:
    return client(local_url, "iam")


@pytest.fixture()
def iam_api(deployed: str, apigw: Any) -> str:
    """The PetStore with GET /pets on AWS_IAM (UpdateMethod, as a user would), redeployed."""
    resource = next(r for r in apigw.get_resources(restApiId=deployed)["items"] if r["path"] == "/pets")
    apigw.update_method(restApiId=deployed, resourceId=resource["id"], httpMethod="GET",
                        patchOperations=[{"op": "replace", "path": "/authorizationType", "value": "AWS_IAM"}])
    apigw.create_deployment(restApiId=deployed, stageName="test")
    return deployed


def verify(petgate: Any, api_id: str, expect: str, *more: str) -> Any:
    return petgate("-o", "json", "verify", "--api", api_id, "--path", "/pets", "--expect", expect, "--timeout", "0.3", *more)


def test_signed_callers_get_in_or_are_denied_by_their_identity_policies(
    petgate: Any, iam_api: str, iam: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    allowed = user_keys(iam, INVOKE_ALL)
    use_keys(monkeypatch, allowed)
    result = verify(petgate, iam_api, "allowed", "--sign")
    assert result.exit_code == 0, result.stderr
    assert (result.json["reason"], result.json["status"]) == ("allowed", 200)
    assert (result.json["signed"], result.json["signed_as"]) == (True, allowed["arn"])
    text = petgate("verify", "--api", iam_api, "--path", "/pets", "--sign", "--timeout", "0.3")
    assert "allowed (allowed, HTTP 200)" in text.stderr and f"signed as {allowed['arn']}" in text.stderr

    for documents, reason in [((), "iam-implicit-deny"), ((DENY_ALL,), "iam-explicit-deny")]:
        use_keys(monkeypatch, user_keys(iam, *documents))
        refused = verify(petgate, iam_api, "denied", "--sign")
        assert refused.exit_code == 0, (reason, refused.stderr)
        assert (refused.json["reason"], refused.json["outcome"], refused.json["error_type"]) == (
            reason, "denied", "AccessDeniedException")


def test_the_resource_policy_refusing_a_signed_caller(petgate: Any, iam_api: str, iam: Any, apigw: Any,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    keys = user_keys(iam, INVOKE_ALL)
    set_policy(apigw, iam_api, {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*"},
        {"Effect": "Deny", "Principal": {"AWS": keys["arn"]}, "Action": "execute-api:Invoke", "Resource": "execute-api:/*"}]})
    use_keys(monkeypatch, keys)
    result = verify(petgate, iam_api, "denied", "--sign")
    assert result.exit_code == 0, result.stderr
    assert result.json["reason"] == "policy-explicit-deny" and result.json["signed_as"] == keys["arn"]


def test_unsigned_is_a_missing_signature_and_never_denied(petgate: Any, iam_api: str) -> None:
    result = verify(petgate, iam_api, "denied")
    assert result.exit_code == 1, result.stderr
    assert (result.json["reason"], result.json["outcome"], result.json["error_type"]) == (
        "missing-signature", "other", "MissingAuthenticationTokenException")
    assert (result.json["signed"], result.json["signed_as"]) == (False, None)
    assert "expected denied, got other (missing-signature, HTTP 403)" in result.stderr
    assert "--sign" in result.stderr, "the hint says how to sign"
    # a path the stage does not serve is still a missing route, signed or not
    missing = petgate("-o", "json", "verify", "--api", iam_api, "--path", "/nosuch", "--timeout", "0.3")
    assert missing.json["reason"] == "missing-route"


def test_a_signed_request_to_a_missing_route(petgate: Any, iam_api: str, iam: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    use_keys(monkeypatch, user_keys(iam, INVOKE_ALL))
    result = petgate("-o", "json", "verify", "--api", iam_api, "--path", "/nosuch", "--sign", "--timeout", "0.3")
    assert result.exit_code == 0 and result.json["reason"] == "missing-route" and result.json["signed"] is True


def test_keys_the_gateway_refuses(petgate: Any, iam_api: str, iam: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    use_keys(monkeypatch, {"key": "AKIAUNKNOWNKEY000000", "secret": "nope"})
    unknown = verify(petgate, iam_api, "denied", "--sign")
    assert unknown.exit_code == 1, unknown.stderr
    assert (unknown.json["reason"], unknown.json["error_type"], unknown.json["outcome"]) == (
        "unrecognized-client", "UnrecognizedClientException", "other")
    assert unknown.json["signed"] is True and unknown.json["signed_as"] is None

    keys = user_keys(iam, INVOKE_ALL)
    use_keys(monkeypatch, {**keys, "secret": keys["secret"][::-1]})
    tampered = verify(petgate, iam_api, "denied", "--sign")
    assert tampered.exit_code == 1
    assert (tampered.json["reason"], tampered.json["error_type"]) == ("invalid-signature", "InvalidSignatureException")


def write_profiles(files: dict[str, Path], profiles: dict[str, dict[str, str]]) -> None:
    lines = []
    for name, keys in profiles.items():
        lines += [f"[{name}]", f"aws_access_key_id = {keys['key']}", f"aws_secret_access_key = {keys['secret']}"]
        if keys.get("token"):
            lines.append(f"aws_session_token = {keys['token']}")
    files["credentials"].write_text("\n".join(lines) + "\n")


def other_account_session(local_url: str) -> dict[str, str]:
    """Keys of a session of a role in another account that may invoke anything (its identity
    side allows): AssumeRole into that account, make the role there, assume it."""
    sts = client(local_url, "sts")
    admin = sts.assume_role(RoleArn=f"arn:aws:iam::{OTHER_ACCOUNT}:role/admin", RoleSessionName="setup")["Credentials"]
    there = client(local_url, "iam", admin["AccessKeyId"], admin["SecretAccessKey"], admin["SessionToken"])
    name = f"caller{time.monotonic_ns()}"
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}]}
    role_arn = there.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    there.put_role_policy(RoleName=name, PolicyName="invoke", PolicyDocument=json.dumps(INVOKE_ALL))
    session = sts.assume_role(RoleArn=role_arn, RoleSessionName="probe")
    credentials = session["Credentials"]
    return {"key": credentials["AccessKeyId"], "secret": credentials["SecretAccessKey"],
            "token": credentials["SessionToken"], "arn": session["AssumedRoleUser"]["Arn"]}


def test_as_profile_account_a_gets_in_and_account_b_only_once_the_policy_allows_it(
    petgate: Any, iam_api: str, iam: Any, apigw: Any, local_url: str, no_credentials: dict[str, Path]
) -> None:
    alice = user_keys(iam, INVOKE_ALL)
    bob = other_account_session(local_url)
    write_profiles(no_credentials, {"account-a": alice, "account-b": bob})

    a = verify(petgate, iam_api, "allowed", "--as", "account-a")
    assert a.exit_code == 0, a.stderr
    assert a.json["signed_as"] == alice["arn"]
    # Table B: from another account both sides must allow, and there is no resource policy
    b = verify(petgate, iam_api, "denied", "--as", "account-b")
    assert b.exit_code == 0, b.stderr
    assert (b.json["reason"], b.json["signed_as"]) == ("policy-implicit-deny", bob["arn"])

    set_policy(apigw, iam_api, {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": [f"arn:aws:iam::{OTHER_ACCOUNT}:root"]}, "Action": "execute-api:Invoke",
         "Resource": "execute-api:/*"}]})
    now_b = verify(petgate, iam_api, "allowed", "--as", "account-b")
    assert now_b.exit_code == 0, now_b.stderr
    still_a = verify(petgate, iam_api, "allowed", "--as", "account-a")  # Table A: its identity policy allows
    assert still_a.exit_code == 0, still_a.stderr


def test_bad_inputs_are_one_line_and_exit_2(petgate: Any, iam_api: str, no_credentials: dict[str, Path]) -> None:
    missing = petgate("verify", "--api", iam_api, "--as", "nosuch", "--timeout", "0.3")
    assert missing.exit_code == 2, missing.stderr
    assert "AWS profile 'nosuch' not found" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1 and "Traceback" not in missing.stderr

    unsigned = petgate("verify", "--api", iam_api, "--sign", "--timeout", "0.3")
    assert unsigned.exit_code == 2, unsigned.stderr
    assert "--sign: no AWS credentials found to sign with" in unsigned.stderr
    assert len(unsigned.stderr.strip().splitlines()) == 1

    as_json = petgate("-o", "json", "verify", "--api", iam_api, "--as", "nosuch")
    assert as_json.exit_code == 2 and as_json.json["exit_code"] == 2 and "nosuch" in as_json.json["error"]["message"]


def test_sign_with_the_apps_own_credentials_off_local(iam_api: str, iam: Any, local_url: str, local_env: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Not --local (an --endpoint-url, as against AWS): --sign takes the App's credentials, the
    environment's here, for the control plane, STS and the signature alike."""
    from tests.conftest import run_cli

    keys = user_keys(iam, INVOKE_ALL)
    use_keys(monkeypatch, keys)
    result = run_cli("--endpoint-url", local_url, "--region", "us-east-1", "-o", "json", "verify", "--api", iam_api,
                     "--path", "/pets", "--sign", "--expect", "allowed", "--timeout", "0.3")
    assert result.exit_code == 0, result.stderr
    assert (result.json["reason"], result.json["signed_as"]) == ("allowed", keys["arn"])
