"""Issue 18 item 3 on a live `petgate local` started with --vpc-endpoint mappings: a PRIVATE API
is reached only through a VPC endpoint (a mapped loopback source address), in petgate's path
form and AWS's private invoke forms (Developer Guide, "apigateway-private-api-test-invoke-url":
Host {api}-{vpce}.execute-api..., the x-apigw-api-id header, private DNS); its policy sees
aws:SourceVpce, aws:SourceVpc and aws:VpcSourceIp, and no aws:SourceIp; from anywhere else, and
through an endpoint to a public API, the answer is 403 Forbidden. CreateDeployment of a private
API without a policy is refused as on AWS. Distinct loopback source addresses stand in for the
clients (each request's socket is bound to one)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from petgate import example
from petgate.target import Target
from tests.conftest import Result, petgate_local, run_cli
from tests.test_errors import assert_one_clear_line

ENDPOINT_A, VPC_A, FROM_A = "vpce-0abc1234", "vpc-0def5678", "127.0.0.9"
ENDPOINT_B, FROM_B = "vpce-0bbb2222", "127.0.0.10"  # another endpoint in the same VPC
ENDPOINT_C, VPC_C, FROM_C = "vpce-0ccc3333", "vpc-0eee9999", "127.0.0.11"  # an endpoint in another VPC
PLAIN = "127.0.0.12"  # no endpoint: the public internet
MAPPINGS = (f"{ENDPOINT_A}:{VPC_A}={FROM_A}", f"{ENDPOINT_B}:{VPC_A}={FROM_B}", f"{ENDPOINT_C}:{VPC_C}={FROM_C}")
FORBIDDEN = {"message": "Forbidden"}


def options(*mappings: str) -> list[str]:
    return [part for mapping in mappings for part in ("--vpc-endpoint", mapping)]


@pytest.fixture(scope="module")
def gateway() -> Iterator[str]:
    with petgate_local(*options(*MAPPINGS)) as url:
        yield url


@pytest.fixture()
def cli(gateway: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """`cli(*args)` runs `petgate --local *args` against this module's gateway."""
    monkeypatch.setenv("PETGATE_LOCAL_URL", gateway)
    for name in ("PETGATE_LOCAL", "PETGATE_OUTPUT", "PETGATE_API", "PETGATE_STAGE", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    return lambda *args: run_cli("--local", *args)


@pytest.fixture()
def apigw(gateway: str) -> Any:
    return boto3.client("apigateway", endpoint_url=gateway, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test")


def client_from(address: str) -> requests.Session:
    return Target(local=True, source_address=address).http_session()


def path_form(url: str, api_id: str, path: str = "/") -> str:
    return f"{url}/restapis/{api_id}/test/_user_request_{path}"


def alias(api_id: str, vpce: str) -> dict[str, str]:
    """The Route 53 alias of the API on an endpoint (path /{stage}/...)."""
    return {"Host": f"{api_id}-{vpce}.execute-api.us-east-1.amazonaws.com"}


def by_header(api_id: str) -> dict[str, str]:
    """The endpoint's own host (locally: the gateway's), the API named by x-apigw-api-id."""
    return {"x-apigw-api-id": api_id}


def by_name(api_id: str) -> dict[str, str]:
    """The API's default name: through the endpoint when private DNS resolves it there."""
    return {"Host": f"{api_id}.execute-api.us-east-1.amazonaws.com"}


def get(address: str, url: str, headers: dict[str, str] | None = None) -> requests.Response:
    return client_from(address).get(url, headers=headers or {}, timeout=10)


def assert_forbidden(answer: requests.Response) -> None:
    assert answer.status_code == 403, answer.text
    assert answer.json() == FORBIDDEN
    assert answer.headers["x-amzn-ErrorType"] == "ForbiddenException"
    assert answer.headers["x-amzn-RequestId"] and answer.headers["x-amz-apigw-id"]


def imported(cli: Any, *args: str) -> Result:
    result = cli("-o", "json", "import-example", "--name", f"Private-{time.monotonic_ns()}", "--new", *args)
    assert result.exit_code == 0, result.stderr
    return result


@pytest.fixture()
def private_api(cli: Any) -> str:
    """The PetStore imported PRIVATE for endpoint A only, and deployed to stage test."""
    result = imported(cli, "--endpoint-type", "PRIVATE", "--vpce", ENDPOINT_A)
    api_id = str(result.json["api_id"])
    deployed = cli("deploy", "--api", api_id)
    assert deployed.exit_code == 0, deployed.stderr
    return api_id


def petstore(apigw: Any, endpoint_type: str) -> str:
    """The PetStore imported by ImportRestApi itself (no policy)."""
    definition = example.definition_bytes(f"Plain-{time.monotonic_ns()}")
    return str(apigw.import_rest_api(body=definition, parameters={"endpointConfigurationTypes": endpoint_type})["id"])


def set_policy(apigw: Any, api_id: str, policy: dict[str, Any]) -> None:
    apigw.update_rest_api(restApiId=api_id, patchOperations=[{"op": "replace", "path": "/policy", "value": json.dumps(policy)}])
    apigw.create_deployment(restApiId=api_id, stageName="test")


def statement(effect: str, condition: dict[str, Any] | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {"Effect": effect, "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*"}
    if condition:
        found["Condition"] = condition
    return found


# --- import-example --endpoint-type PRIVATE, then deploy --------------------------------------------


def test_import_example_private_carries_the_vpc_whitelist_and_deploys(cli: Any, apigw: Any) -> None:
    result = imported(cli, "--endpoint-type", "PRIVATE", "--vpce", ENDPOINT_A, "--vpce", ENDPOINT_B)
    assert result.json["created"] is True and result.json["vpc_endpoints"] == [ENDPOINT_A, ENDPOINT_B]
    api = apigw.get_rest_api(restApiId=result.json["api_id"])
    assert api["endpointConfiguration"]["types"] == ["PRIVATE"]
    shown = cli("-o", "json", "policy", "show", "--api", result.json["api_id"])
    assert shown.exit_code == 0, shown.stderr
    assert ENDPOINT_A in json.dumps(shown.json) and "aws:SourceVpce" in json.dumps(shown.json)
    deployed = cli("-o", "json", "deploy", "--api", result.json["api_id"])
    assert deployed.exit_code == 0, deployed.stderr
    assert deployed.json["deployed"] is True

    human = cli("import-example", "--name", f"Private-{time.monotonic_ns()}", "--new", "--endpoint-type", "private",
                "--vpce", ENDPOINT_A)
    assert human.exit_code == 0, human.stderr
    assert f"(private: only {ENDPOINT_A} may invoke it)" in human.stderr


def test_import_example_without_private_json_keys_are_unchanged(cli: Any) -> None:
    assert set(imported(cli).json) == {"api_id", "api_name", "created"}


@pytest.mark.parametrize(("args", "message"), [
    (("--endpoint-type", "PRIVATE"), "--endpoint-type PRIVATE needs --vpce VPCE_ID (repeatable)"),
    (("--vpce", ENDPOINT_A), "--vpce goes with --endpoint-type PRIVATE"),
    (("--endpoint-type", "PRIVATE", "--vpce", "vpce-XYZ"), "not a VPC endpoint id: 'vpce-XYZ'"),
])
def test_import_example_private_refuses_bad_input_in_one_line(cli: Any, apigw: Any, args: tuple[str, ...], message: str) -> None:
    name = f"Refused-{time.monotonic_ns()}"
    assert_one_clear_line(cli("import-example", "--name", name, "--new", *args), 2, message)
    assert all(api["name"] != name for api in apigw.get_rest_apis(limit=500)["items"]), "nothing was imported"


def test_import_example_private_reuses_only_a_private_api(cli: Any) -> None:
    name = f"Shared-{time.monotonic_ns()}"
    public = cli("-o", "json", "import-example", "--name", name)
    assert public.exit_code == 0, public.stderr
    refused = cli("import-example", "--name", name, "--endpoint-type", "PRIVATE", "--vpce", ENDPOINT_A)
    assert_one_clear_line(refused, 2, f"API {public.json['api_id']} ({name!r}) is REGIONAL, not PRIVATE")

    private_name = f"Kept-{time.monotonic_ns()}"
    first = cli("-o", "json", "import-example", "--name", private_name, "--endpoint-type", "PRIVATE", "--vpce", ENDPOINT_A)
    again = cli("-o", "json", "import-example", "--name", private_name, "--endpoint-type", "PRIVATE", "--vpce", ENDPOINT_A)
    assert again.exit_code == 0 and again.json == {"api_id": first.json["api_id"], "api_name": private_name, "created": False}


# --- CreateDeployment of a private API without a policy -------------------------------------------


def test_deploying_a_private_api_without_a_policy_is_refused_as_on_aws(cli: Any, apigw: Any) -> None:
    api_id = petstore(apigw, "PRIVATE")
    with pytest.raises(ClientError) as refused:
        apigw.create_deployment(restApiId=api_id, stageName="test")
    error = refused.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["Error"] == {"Code": "BadRequestException", "Message": "Private REST API doesn't have a resource policy attached to it"}
    assert apigw.get_stages(restApiId=api_id)["item"] == [], "no stage was made"

    by_cli = cli("deploy", "--api", api_id)
    assert by_cli.exit_code != 0 and "Private REST API doesn't have a resource policy attached to it" in by_cli.stderr

    set_policy(apigw, api_id, {"Version": "2012-10-17", "Statement": [statement("Allow")]})  # then it deploys
    assert apigw.get_stages(restApiId=api_id)["item"][0]["stageName"] == "test"
    # a public API deploys without one, as before
    public = petstore(apigw, "REGIONAL")
    assert apigw.create_deployment(restApiId=public, stageName="test")["id"]


# --- who reaches a private API ------------------------------------------------------------------


def test_a_private_api_answers_its_endpoint_in_every_form(private_api: str, gateway: str) -> None:
    stage_root = f"{gateway}/test/"
    for url, headers in [
        (path_form(gateway, private_api), {}),
        (stage_root, alias(private_api, ENDPOINT_A)),
        (stage_root, by_header(private_api)),
        (stage_root, by_name(private_api)),
    ]:
        answer = get(FROM_A, url, headers)
        assert answer.status_code == 200, (headers, answer.text)
        assert "<title>PetStore</title>" in answer.text
    pets = get(FROM_A, f"{gateway}/test/pets/1", alias(private_api, ENDPOINT_A))
    assert pets.status_code == 200 and pets.json()["id"] == 1, "the path after the stage routes as usual"


def test_another_endpoint_is_denied_by_the_policy(private_api: str, gateway: str) -> None:
    for url, headers in [(path_form(gateway, private_api), {}), (f"{gateway}/test/", by_header(private_api)),
                         (f"{gateway}/test/", alias(private_api, ENDPOINT_B))]:
        denied = get(FROM_B, url, headers)
        assert denied.status_code == 403, (headers, denied.text)
        assert denied.headers["x-amzn-ErrorType"] == "AccessDeniedException"
        assert denied.json() == {
            "Message": "User: anonymous is not authorized to perform: execute-api:Invoke on resource: "
                       f"arn:aws:execute-api:us-east-1:********9012:{private_api}/test/GET/ with an explicit deny"}


def test_a_plain_address_gets_forbidden_in_every_form(private_api: str, gateway: str) -> None:
    for url, headers in [(path_form(gateway, private_api), {}), (f"{gateway}/test/", by_header(private_api)),
                         (f"{gateway}/test/", by_name(private_api)), (f"{gateway}/test/", alias(private_api, ENDPOINT_A))]:
        assert_forbidden(get(PLAIN, url, headers))


def test_the_alias_of_another_endpoint_or_region_is_forbidden(private_api: str, gateway: str) -> None:
    assert_forbidden(get(FROM_A, f"{gateway}/test/", alias(private_api, ENDPOINT_B)))
    assert_forbidden(get(FROM_A, f"{gateway}/test/", {"Host": f"{private_api}-{ENDPOINT_A}.execute-api.eu-west-1.amazonaws.com"}))
    assert_forbidden(get(FROM_A, f"{gateway}/nostage/", by_header(private_api)))
    assert_forbidden(get(FROM_A, f"{gateway}/test/", by_header("noapi00000")))
    assert_forbidden(get(FROM_A, f"{gateway}/test/", {"Host": f"{ENDPOINT_A}-1a2b3c4d.execute-api.us-east-1.vpce.amazonaws.com"}))


def test_the_policy_sees_the_endpoint_the_vpc_and_the_vpc_source_ip(
    cli: Any, apigw: Any, private_api: str, gateway: str
) -> None:
    root = path_form(gateway, private_api)
    # aws:SourceVpc: both endpoints of VPC A, not the one of VPC C
    set_policy(apigw, private_api, {"Version": "2012-10-17", "Statement": [
        statement("Allow", {"StringEquals": {"aws:SourceVpc": VPC_A}})]})
    assert get(FROM_A, root).status_code == 200 and get(FROM_B, root).status_code == 200
    refused = get(FROM_C, root)
    assert refused.status_code == 403 and refused.headers["x-amzn-ErrorType"] == "AccessDeniedException"
    assert not refused.json()["Message"].endswith("with an explicit deny"), "no statement allows it: implicit"

    # aws:VpcSourceIp is the client's own address
    set_policy(apigw, private_api, {"Version": "2012-10-17", "Statement": [
        statement("Allow", {"IpAddress": {"aws:VpcSourceIp": f"{FROM_B}/32"}})]})
    assert get(FROM_B, root).status_code == 200 and get(FROM_A, root).status_code == 403

    # aws:SourceIp is not the client's address through an endpoint (a deny on it holds no one)
    set_policy(apigw, private_api, {"Version": "2012-10-17", "Statement": [
        statement("Allow"), statement("Deny", {"IpAddress": {"aws:SourceIp": ["127.0.0.0/8"]}})]})
    assert get(FROM_A, root).status_code == 200
    set_policy(apigw, private_api, {"Version": "2012-10-17", "Statement": [
        statement("Allow", {"IpAddress": {"aws:SourceIp": ["127.0.0.0/8"]}})]})
    assert get(FROM_A, root).status_code == 403

    # the stage's own `$context.identity.sourceIp` is still the client's address
    apigw.put_gateway_response(restApiId=private_api, responseType="ACCESS_DENIED", statusCode="403",
                               responseTemplates={"application/json": '{"from":"$context.identity.sourceIp"}'})
    apigw.create_deployment(restApiId=private_api, stageName="test")
    assert get(FROM_A, root).json() == {"from": FROM_A}


def test_a_private_api_without_a_policy_refuses_every_call(cli: Any, apigw: Any, gateway: str) -> None:
    """Deployed public with no policy, then made PRIVATE (the endpoint type needs no redeploy)."""
    api_id = str(imported(cli).json["api_id"])
    assert cli("deploy", "--api", api_id).exit_code == 0
    assert get(FROM_A, path_form(gateway, api_id)).status_code == 200, "public: the path form is a public call"
    apigw.update_rest_api(restApiId=api_id, patchOperations=[
        {"op": "replace", "path": "/endpointConfiguration/types/REGIONAL", "value": "PRIVATE"}])
    assert_forbidden(get(PLAIN, path_form(gateway, api_id)))
    refused = get(FROM_A, path_form(gateway, api_id))
    assert refused.status_code == 403 and refused.headers["x-amzn-ErrorType"] == "AccessDeniedException"


# --- an endpoint reaches private APIs only ----------------------------------------------------------


def test_an_endpoint_cannot_reach_a_public_api(cli: Any, gateway: str) -> None:
    api_id = str(imported(cli).json["api_id"])
    assert cli("deploy", "--api", api_id).exit_code == 0
    for headers in (alias(api_id, ENDPOINT_A), by_header(api_id), by_name(api_id)):
        assert_forbidden(get(FROM_A, f"{gateway}/test/", headers))
    # the public ways in are what they were: the path form from anywhere, the API's name from outside
    assert get(FROM_A, path_form(gateway, api_id)).status_code == 200
    assert get(PLAIN, path_form(gateway, api_id)).status_code == 200
    assert get(PLAIN, f"{gateway}/test/", by_name(api_id)).status_code == 200


# --- a signed call through the alias ---------------------------------------------------------------


def test_an_aws_iam_method_of_a_private_api_verifies_the_alias_host(private_api: str, apigw: Any, gateway: str) -> None:
    iam = boto3.client("iam", endpoint_url=gateway, region_name="us-east-1", aws_access_key_id="test",
                       aws_secret_access_key="test")
    name = f"p{time.monotonic_ns()}"
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="invoke", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*"}]}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    resource = next(r for r in apigw.get_resources(restApiId=private_api)["items"] if r["path"] == "/pets")
    apigw.update_method(restApiId=private_api, resourceId=resource["id"], httpMethod="GET",
                        patchOperations=[{"op": "replace", "path": "/authorizationType", "value": "AWS_IAM"}])
    apigw.create_deployment(restApiId=private_api, stageName="test")

    url = f"{gateway}/test/pets"
    headers = alias(private_api, ENDPOINT_A)
    request = AWSRequest(method="GET", url=url, headers=headers)
    SigV4Auth(Credentials(key["AccessKeyId"], key["SecretAccessKey"]), "execute-api", "us-east-1").add_auth(request)
    answer = get(FROM_A, url, dict(request.headers))
    assert answer.status_code == 200, answer.text
    unsigned = get(FROM_A, url, headers)
    assert unsigned.status_code == 403 and unsigned.json() == {"message": "Missing Authentication Token"}
    assert_forbidden(get(FROM_B, url, dict(request.headers)))  # endpoint B does not serve A's alias

    other = AWSRequest(method="GET", url=url, headers=by_header(private_api))  # B, by the header form
    SigV4Auth(Credentials(key["AccessKeyId"], key["SecretAccessKey"]), "execute-api", "us-east-1").add_auth(other)
    denied = get(FROM_B, url, dict(other.headers))
    assert denied.status_code == 403 and denied.headers["x-amzn-ErrorType"] == "AccessDeniedException"
    assert denied.json()["Message"].startswith(f"User: arn:aws:iam::123456789012:user/{name} is not authorized")
    assert denied.json()["Message"].endswith(" with an explicit deny"), "the resource policy's deny of endpoint B"


# --- the mappings: bad ones, and --state ------------------------------------------------------------


@pytest.mark.parametrize(("mappings", "message"), [
    (("vpce-0abc1234=127.0.0.9",), "--vpc-endpoint 'vpce-0abc1234=127.0.0.9' does not parse: expected VPCE_ID:VPC_ID=ADDRESS"),
    (("vpce-0abc1234:vpc-0def5678",), "does not parse: expected VPCE_ID:VPC_ID=ADDRESS"),
    (("vpce-zz:vpc-0def5678=127.0.0.9",), "'vpce-zz' is not a VPC endpoint id"),
    (("vpce-0abc1234:vpc0def5678=127.0.0.9",), "'vpc0def5678' is not a VPC id"),
    (("vpce-0abc1234:vpc-0def5678=127.0.0.300",), "'127.0.0.300' is not an IP address"),
    (("vpce-0abc1234:vpc-0def5678=127.0.0.9", "vpce-0bbb2222:vpc-0def5678=127.0.0.9"),
     "--vpc-endpoint maps 127.0.0.9 twice (vpce-0abc1234 and vpce-0bbb2222)"),
    (("vpce-0abc1234:vpc-0def5678=127.0.0.9", "vpce-0abc1234:vpc-0def5678=::ffff:127.0.0.9"),
     "--vpc-endpoint maps 127.0.0.9 twice"),
    (("vpce-0abc1234:vpc-0def5678=127.0.0.9", "vpce-0abc1234:vpc-0eee9999=127.0.0.10"),
     "--vpc-endpoint puts vpce-0abc1234 in two VPCs (vpc-0def5678 and vpc-0eee9999)"),
])
def test_a_bad_mapping_is_one_clear_line(mappings: tuple[str, ...], message: str) -> None:
    assert_one_clear_line(run_cli("local", "--port", "0", *options(*mappings)), 2, message)


def test_the_state_file_keeps_the_mappings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    state = tmp_path / "private.state"
    with petgate_local("--state", str(state), *options(f"{ENDPOINT_A}:{VPC_A}={FROM_A}")) as url:
        monkeypatch.setenv("PETGATE_LOCAL_URL", url)
        made = run_cli("--local", "-o", "json", "import-example", "--name", "KeptPrivate", "--new",
                       "--endpoint-type", "PRIVATE", "--vpce", ENDPOINT_A)
        assert made.exit_code == 0, made.stderr
        api_id = made.json["api_id"]
        assert run_cli("--local", "deploy", "--api", api_id).exit_code == 0
        assert get(FROM_A, path_form(url, api_id)).status_code == 200
    with petgate_local("--state", str(state)) as url:  # no --vpc-endpoint: the kept ones
        assert get(FROM_A, path_form(url, api_id)).status_code == 200
        assert_forbidden(get(FROM_B, path_form(url, api_id)))
    with petgate_local("--state", str(state), *options(f"{ENDPOINT_A}:{VPC_A}={FROM_B}")) as url:  # given: they replace
        assert_forbidden(get(FROM_A, path_form(url, api_id)))
        assert get(FROM_B, path_form(url, api_id)).status_code == 200
    with petgate_local("--state", str(state)) as url:  # and the replacement is what is kept
        assert get(FROM_B, path_form(url, api_id)).status_code == 200


def test_which_requests_are_private_invoke_forms() -> None:
    """private_endpoints.invoke_target on the WSGI environ: the forms, a port or a trailing dot in
    Host, and everything else left to the control planes."""
    from petgate.local.private_endpoints import EndpointMap, VpcEndpoint, invoke_target

    def target(path: str, **headers: str) -> Any:
        found = invoke_target({"PATH_INFO": path, **{f"HTTP_{k.upper()}": v for k, v in headers.items()}})
        return found and (found.form, found.api_id, found.stage, found.path, found.region, found.vpce_id)

    assert target("/test/pets", host=f"a1b2c3d4e5-{ENDPOINT_A}.execute-api.us-east-1.amazonaws.com:443") == (
        "alias", "a1b2c3d4e5", "test", "/pets", "us-east-1", ENDPOINT_A)
    assert target("/test/", host="A1B2C3D4E5.execute-api.eu-west-1.amazonaws.com.") == (
        "dns", "a1b2c3d4e5", "test", "/", "eu-west-1", None)
    assert target("/test", x_apigw_api_id="a1b2c3d4e5", host="127.0.0.1:4599") == (
        "header", "a1b2c3d4e5", "test", "/", None, None)
    assert target("/test/", x_apigw_api_id="a1b2c3d4e5",
                  host=f"{ENDPOINT_A}-1a2b3c4d.execute-api.us-east-2.vpce.amazonaws.com") == (
        "header", "a1b2c3d4e5", "test", "/", "us-east-2", None)
    assert target("/restapis", host="127.0.0.1:4599") is None
    assert target("/restapis", host="apigateway.us-east-1.amazonaws.com") is None
    assert target("/restapis") is None

    endpoints = EndpointMap({FROM_A: VpcEndpoint(ENDPOINT_A, VPC_A)})
    assert endpoints.of(FROM_A) == endpoints.of(f"::ffff:{FROM_A}") == VpcEndpoint(ENDPOINT_A, VPC_A)
    assert endpoints.of(PLAIN) is None
