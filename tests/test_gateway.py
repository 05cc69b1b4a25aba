"""gateway.py through its public functions, with a real botocore client and no server: AWS's
answers come from botocore's Stubber (straight to the error translation) or from a before-send
hook (through botocore's whole send loop, so the needs-retry hook really runs). No sleep is
real: botocore's sleep between attempts is recorded instead."""

from __future__ import annotations

import json
import types
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import botocore.endpoint
import botocore.exceptions as bex
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.stub import Stubber

from petgate import gateway as gw
from petgate.errors import EXIT_AWS, EXIT_NETWORK, AwsError, NetworkError, UsageError
from petgate.gateway import DEPLOY_QUOTA_S, Gateway, aws_errors, decode_policy

ENDPOINT = "http://127.0.0.1:9"  # never contacted: every answer is canned
API_ID = "abcdefghij"
OTHER_ID = "zyxwvutsrq"


def client(**credentials: Any) -> Any:
    """A real apigateway client, configured as target.Target.gateway() configures it."""
    keys = credentials or {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
    config = Config(retries={"mode": "standard", "total_max_attempts": 1}, connect_timeout=5, read_timeout=30)
    return boto3.client("apigateway", region_name="us-east-1", endpoint_url=ENDPOINT, config=config, **keys)


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.body


def aws_answer(status: int, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None,
               error: str | None = None) -> tuple[int, dict[str, str], bytes]:
    """An answer as API Gateway sends it (rest-json: the code in x-amzn-ErrorType)."""
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    if error:
        all_headers["x-amzn-ErrorType"] = error
        body = {"message": f"{error} said no", **(body or {})}
    return status, all_headers, json.dumps(body or {}).encode()


class Canned:
    """Answers every request botocore sends with the next of `answers` (the last one again when
    they run out); an exception in the list is raised as if the connection failed."""

    def __init__(self, gateway: Gateway, answers: list[Any]) -> None:
        self.answers = list(answers)
        self.sent: list[str] = []  # "METHOD path" of every attempt
        gateway.client.meta.events.register("before-send.api-gateway", self._send)

    def _send(self, request: Any, **_: Any) -> AWSResponse:
        self.sent.append(f"{request.method} {request.url.removeprefix(ENDPOINT)}")
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, BaseException):
            raise answer
        status, headers, body = answer
        return AWSResponse(request.url, status, headers, _Raw(body))


@pytest.fixture()
def slept(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The seconds botocore's send loop waited between attempts (what the needs-retry hook returned)."""
    waits: list[float] = []
    monkeypatch.setattr(botocore.endpoint, "time", types.SimpleNamespace(sleep=waits.append))
    return waits


@pytest.fixture()
def no_jitter(monkeypatch: pytest.MonkeyPatch) -> list[tuple[float, float]]:
    """random.uniform(a, b) answers b (the full backoff); its arguments are kept."""
    asked: list[tuple[float, float]] = []

    def uniform(low: float, high: float) -> float:
        asked.append((low, high))
        return high

    monkeypatch.setattr(gw.random, "uniform", uniform)
    return asked


def stubbed(max_attempts: int | None = None) -> tuple[Gateway, Stubber]:
    gateway = Gateway(client(), max_attempts=max_attempts)
    stubber = Stubber(gateway.client)
    stubber.activate()
    return gateway, stubber


# --- error translation ------------------------------------------------------------------------

CREDENTIAL_CODES = [
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "ExpiredTokenException",
    "ExpiredToken",
    "AccessDeniedException",
    "AccessDenied",
    "SignatureDoesNotMatch",
]


@pytest.mark.parametrize("code", CREDENTIAL_CODES)
def test_each_credential_code_is_an_aws_error_with_the_credentials_hint(code: str) -> None:
    gateway, stubber = stubbed()
    stubber.add_client_error("get_rest_api", service_error_code=code, service_message="The token is bad",
                             http_status_code=403)
    with pytest.raises(AwsError) as raised:
        gateway.get_api(API_ID)
    error = raised.value
    assert error.code == code and error.exit_code == EXIT_AWS
    assert error.message == f"reading API {API_ID}: AWS refused the credentials ({code}: The token is bad)"
    assert error.hint == "check AWS_PROFILE / your credentials, or refresh an expired session"


def test_a_code_that_is_not_about_credentials_gets_no_credentials_hint() -> None:
    gateway, stubber = stubbed()
    stubber.add_client_error("get_rest_api", service_error_code="BadRequestException",
                             service_message="Invalid patch path", http_status_code=400)
    with pytest.raises(AwsError) as raised:
        gateway.get_api(API_ID)
    assert raised.value.message == f"reading API {API_ID}: BadRequestException: Invalid patch path"
    assert raised.value.hint is None and raised.value.code == "BadRequestException"


def test_not_found_is_an_aws_error_and_none_where_absence_is_an_answer() -> None:
    gateway, stubber = stubbed()
    for _ in range(2):
        stubber.add_client_error("get_rest_api", service_error_code="NotFoundException",
                                 service_message="Invalid API identifier specified", http_status_code=404)
    with pytest.raises(AwsError) as raised:
        gateway.get_api(API_ID)
    assert raised.value.code == "NotFoundException" and raised.value.exit_code == EXIT_AWS
    assert raised.value.message == f"reading API {API_ID}: NotFoundException: Invalid API identifier specified"
    assert gateway.get_api_or_none(API_ID) is None
    # the calls that tolerate "not there" say so with None, never with an error
    stubber.add_client_error("get_stage", service_error_code="NotFoundException", http_status_code=404)
    assert gateway.get_stage(API_ID, "test") is None
    stubber.add_client_error("delete_gateway_response", service_error_code="NotFoundException", http_status_code=404)
    gateway.delete_gateway_response(API_ID, "ACCESS_DENIED")  # already the default: fine


def test_other_errors_are_not_turned_into_none() -> None:
    gateway, stubber = stubbed()
    stubber.add_client_error("get_stage", service_error_code="AccessDeniedException", http_status_code=403)
    with pytest.raises(AwsError) as raised:
        gateway.get_stage(API_ID, "test")
    assert raised.value.code == "AccessDeniedException"


def test_an_html_body_is_named_not_shown() -> None:
    gateway, stubber = stubbed()
    page = "<html>\n<head><title>502 Bad Gateway</title></head>\n<body>nginx</body>\n</html>"
    stubber.add_client_error("get_rest_api", service_error_code="502", service_message=page, http_status_code=502)
    with pytest.raises(AwsError) as raised:
        gateway.get_api(API_ID)
    message = raised.value.message
    assert "HTTP 502 with an HTML page, not an API Gateway answer (is the endpoint right?)" in message
    assert "<" not in message and "nginx" not in message


def test_a_long_message_is_one_short_line() -> None:
    gateway, stubber = stubbed()
    stubber.add_client_error("get_rest_api", service_error_code="BadRequestException",
                             service_message="word\n\t " * 200, http_status_code=400)
    with pytest.raises(AwsError) as raised:
        gateway.get_api(API_ID)
    said = raised.value.message.split("BadRequestException: ", 1)[1]
    assert "\n" not in said and "\t" not in said and "  " not in said
    assert len(said) == 300 and said.endswith("...")


def test_an_error_without_a_message_names_its_code() -> None:
    gateway, stubber = stubbed()
    stubber.add_client_error("get_rest_api", service_error_code="LimitExceededException", service_message="",
                             http_status_code=429)
    with pytest.raises(AwsError) as raised:
        gateway.get_api(API_ID)
    assert raised.value.message == f"reading API {API_ID}: LimitExceededException: LimitExceededException"


def test_throttling_after_every_retry_is_an_aws_error_that_says_so(slept: list[float]) -> None:
    gateway = Gateway(client(), max_attempts=3)
    canned = Canned(gateway, [aws_answer(429, error="TooManyRequestsException")])
    with pytest.raises(AwsError) as raised:
        gateway.get_api(API_ID)
    assert len(canned.sent) == 3, "max_attempts attempts in all"
    assert raised.value.code == "TooManyRequestsException" and raised.value.exit_code == EXIT_AWS
    assert raised.value.message.startswith(f"reading API {API_ID}: throttled by AWS even after retrying (")
    assert raised.value.hint == "wait a minute and run the command again"
    assert slept == gateway.quota_waits == [1.0, 2.0], "each wait the hook asked for, recorded"


def test_no_credentials_is_an_aws_error_pointing_at_a_profile(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                 "AWS_DEFAULT_PROFILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                 "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    session = boto3.Session(region_name="us-east-1")
    gateway = Gateway(session.client("apigateway", endpoint_url=ENDPOINT))
    canned = Canned(gateway, [aws_answer(200, {"id": API_ID})])
    with pytest.raises(AwsError) as raised:
        gateway.get_api(API_ID)
    assert raised.value.code == "NoCredentials" and raised.value.exit_code == EXIT_AWS
    assert raised.value.message == f"reading API {API_ID}: no AWS credentials found"
    assert raised.value.hint is not None and "AWS_PROFILE" in raised.value.hint and "--local" in raised.value.hint
    assert canned.sent == [], "nothing unsigned was sent"


@pytest.mark.parametrize(
    "failure",
    [
        bex.EndpointConnectionError(endpoint_url=ENDPOINT),
        bex.ConnectionClosedError(endpoint_url=ENDPOINT),
        bex.ConnectTimeoutError(endpoint_url=ENDPOINT),
        bex.ReadTimeoutError(endpoint_url=ENDPOINT, error="read timed out"),
    ],
    ids=lambda failure: type(failure).__name__,
)
def test_a_broken_connection_is_a_network_error_exit_4_after_retrying(failure: Exception, slept: list[float]) -> None:
    gateway = Gateway(client(), max_attempts=2)
    canned = Canned(gateway, [failure])
    with pytest.raises(NetworkError) as raised:
        gateway.get_api(API_ID)
    assert raised.value.exit_code == EXIT_NETWORK == 4
    assert raised.value.message.startswith(f"reading API {API_ID}: cannot reach the control plane (")
    assert raised.value.hint is not None and "petgate local" in raised.value.hint
    assert len(canned.sent) == 2 and len(slept) == 1, "backed off once, then gave up"
    assert gateway.quota_waits == [], "a network backoff is not a quota wait"


def test_a_connection_that_comes_back_is_not_an_error(slept: list[float]) -> None:
    gateway = Gateway(client(), max_attempts=3)
    canned = Canned(gateway, [bex.EndpointConnectionError(endpoint_url=ENDPOINT), aws_answer(200, {"id": API_ID, "name": "P"})])
    assert gateway.get_api(API_ID)["name"] == "P"
    assert len(canned.sent) == 2 and len(slept) == 1


def test_no_region_is_a_usage_error_and_other_botocore_errors_are_aws_errors() -> None:
    with pytest.raises(UsageError) as no_region, aws_errors("listing REST APIs"):
        raise bex.NoRegionError()
    assert no_region.value.message == "listing REST APIs: no AWS region configured" and no_region.value.hint == "pass --region"
    assert not isinstance(no_region.value, AwsError)
    with pytest.raises(AwsError) as other, aws_errors("listing REST APIs"):
        raise bex.ParamValidationError(report="restApiId is missing")
    assert other.value.message.startswith("listing REST APIs: ") and "restApiId is missing" in other.value.message


# --- _needs_retry as a unit: called as botocore calls it ---------------------------------------


def op(name: str) -> Any:
    return types.SimpleNamespace(name=name)


def answer(status: int, code: str | None = None, retry_after: str | None = None) -> tuple[Any, dict[str, Any]]:
    """(http_response, parsed) as botocore hands them to needs-retry."""
    headers = {"retry-after": retry_after} if retry_after is not None else {}
    parsed: dict[str, Any] = {"ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": headers}}
    if code:
        parsed["Error"] = {"Code": code, "Message": "m"}
    return object(), parsed


@pytest.fixture()
def hook() -> Gateway:
    """A Gateway whose quota waits are also told to a listener (as App's warning is)."""
    gateway = Gateway(client(), max_attempts=6)
    told: list[tuple[str, float]] = []
    gateway.on_quota_wait = lambda operation, seconds: told.append((operation, seconds))
    gateway.told = told  # type: ignore[attr-defined]
    return gateway


def needs_retry(gateway: Gateway, name: str, attempts: int = 1, response: Any = None, exception: Any = None) -> Any:
    return gateway._needs_retry(response=response, endpoint=object(), operation=op(name), attempts=attempts,
                                caught_exception=exception, request_dict={})


@pytest.mark.parametrize(("attempts", "seconds"), [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 16.0)])
def test_throttling_waits_longer_each_attempt_and_is_recorded(hook: Gateway, attempts: int, seconds: float) -> None:
    assert needs_retry(hook, "GetRestApi", attempts, answer(429, "TooManyRequestsException")) == seconds
    assert hook.quota_waits == [seconds]
    assert hook.told == [("GetRestApi", seconds)]  # type: ignore[attr-defined]


def test_a_throttling_wait_stops_growing_at_20_s() -> None:
    gateway = Gateway(client(), max_attempts=50)
    assert needs_retry(gateway, "GetRestApi", 6, answer(429, "TooManyRequestsException")) == 20.0
    assert needs_retry(gateway, "GetRestApi", 30, answer(429, "TooManyRequestsException")) == 20.0


@pytest.mark.parametrize(("retry_after", "seconds"), [("7", 7.0), ("2.5", 2.5), ("0.1", 1.0), ("soon", 1.0), ("", 1.0)])
def test_throttling_waits_as_long_as_retry_after_says(hook: Gateway, retry_after: str, seconds: float) -> None:
    assert needs_retry(hook, "GetRestApis", 1, answer(429, "TooManyRequestsException", retry_after)) == seconds
    assert hook.quota_waits == [seconds]


@pytest.mark.parametrize("code", ["TooManyRequestsException", "ConflictException"])
@pytest.mark.parametrize(("retry_after", "seconds"), [(None, DEPLOY_QUOTA_S), ("1", DEPLOY_QUOTA_S), ("9", 9.0)])
def test_create_deployment_waits_at_least_its_5_s_quota(hook: Gateway, code: str, retry_after: str | None,
                                                        seconds: float) -> None:
    assert DEPLOY_QUOTA_S == 5.0
    assert needs_retry(hook, "CreateDeployment", 1, answer(429 if code.startswith("Too") else 409, code, retry_after)) == seconds
    assert hook.quota_waits == [seconds] and hook.told == [("CreateDeployment", seconds)]  # type: ignore[attr-defined]


def test_create_deployment_late_attempts_wait_longer_than_the_quota(hook: Gateway) -> None:
    assert needs_retry(hook, "CreateDeployment", 4, answer(429, "TooManyRequestsException")) == 8.0


def test_a_conflict_waits_like_throttling_except_on_create_model(hook: Gateway) -> None:
    assert needs_retry(hook, "UpdateStage", 2, answer(409, "ConflictException")) == 2.0
    assert needs_retry(hook, "CreateModel", 1, answer(409, "ConflictException")) is None, "the lease is taken: an answer"
    assert hook.quota_waits == [2.0] and hook.told == [("UpdateStage", 2.0)]  # type: ignore[attr-defined]


def test_create_model_throttled_still_waits(hook: Gateway) -> None:
    assert needs_retry(hook, "CreateModel", 1, answer(429, "TooManyRequestsException")) == 1.0


@pytest.mark.parametrize(("status", "code"), [(500, "InternalFailure"), (502, None), (503, "ServiceUnavailable"), (504, "504")])
@pytest.mark.parametrize(("attempts", "seconds"), [(1, 0.5), (2, 1.0), (3, 2.0), (5, 8.0)])
def test_a_5xx_backs_off_without_a_quota_wait(hook: Gateway, no_jitter: list[tuple[float, float]], status: int,
                                              code: str | None, attempts: int, seconds: float) -> None:
    assert needs_retry(hook, "GetRestApi", attempts, answer(status, code)) == seconds
    assert no_jitter == [(0.5, 1.0)], "jitter: between half and all of the backoff"
    assert hook.quota_waits == [] and hook.told == []  # type: ignore[attr-defined]


def test_the_5xx_backoff_stops_growing_at_20_s(no_jitter: list[tuple[float, float]]) -> None:
    gateway = Gateway(client(), max_attempts=50)
    assert needs_retry(gateway, "GetRestApi", 6, answer(500, "InternalFailure")) == 16.0
    assert needs_retry(gateway, "GetRestApi", 7, answer(500, "InternalFailure")) == 20.0
    assert needs_retry(gateway, "GetRestApi", 40, answer(500, "InternalFailure")) == 20.0


def test_the_5xx_backoff_is_jittered_down_to_half(monkeypatch: pytest.MonkeyPatch, hook: Gateway) -> None:
    monkeypatch.setattr(gw.random, "uniform", lambda low, high: low)
    assert needs_retry(hook, "GetRestApi", 3, answer(503, "ServiceUnavailable")) == 1.0


@pytest.mark.parametrize(
    ("status", "code"),
    [(200, None), (201, None), (400, "BadRequestException"), (403, "AccessDeniedException"), (404, "NotFoundException"),
     (409, None), (413, "PayloadTooLargeException"), (499, None)],
)
def test_other_answers_are_let_through(hook: Gateway, status: int, code: str | None) -> None:
    assert needs_retry(hook, "GetRestApi", 1, answer(status, code)) is None
    assert hook.quota_waits == []


@pytest.mark.parametrize(
    "failure",
    [bex.EndpointConnectionError(endpoint_url=ENDPOINT), bex.ConnectionClosedError(endpoint_url=ENDPOINT),
     bex.ReadTimeoutError(endpoint_url=ENDPOINT, error="t"), bex.ConnectTimeoutError(endpoint_url=ENDPOINT),
     bex.ProxyConnectionError(proxy_url="http://127.0.0.1:3128", error="refused")],
    ids=lambda failure: type(failure).__name__,
)
def test_a_broken_connection_backs_off(hook: Gateway, no_jitter: list[tuple[float, float]], failure: Exception) -> None:
    assert needs_retry(hook, "GetRestApi", 2, exception=failure) == 1.0
    assert hook.quota_waits == []


@pytest.mark.parametrize("failure", [ValueError("bug"), bex.NoCredentialsError(), bex.ParamValidationError(report="r")],
                         ids=lambda failure: type(failure).__name__)
def test_other_exceptions_are_not_retried(hook: Gateway, failure: Exception) -> None:
    assert needs_retry(hook, "GetRestApi", 1, exception=failure) is None


def test_no_answer_at_all_is_let_through(hook: Gateway) -> None:
    assert needs_retry(hook, "GetRestApi", 1, response=None) is None
    assert needs_retry(hook, "GetRestApi", 1, response=(object(), None)) is None


@pytest.mark.parametrize("name", ["UpdateRestApi", "PutGatewayResponse", "DeleteGatewayResponse", "DeleteModel"])
@pytest.mark.parametrize(
    ("response", "exception"),
    [(answer(429, "TooManyRequestsException", "1"), None), (answer(409, "ConflictException"), None),
     (answer(503, "ServiceUnavailable"), None), (None, bex.ReadTimeoutError(endpoint_url=ENDPOINT, error="t")),
     (None, bex.EndpointConnectionError(endpoint_url=ENDPOINT))],
    ids=["throttled", "conflict", "5xx", "read-timeout", "refused"],
)
def test_a_guarded_write_is_never_resent(hook: Gateway, name: str, response: Any, exception: Any) -> None:
    assert needs_retry(hook, name, 1, response, exception) is None
    assert hook.quota_waits == [] and hook.told == []  # type: ignore[attr-defined]


def test_the_guarded_writes_are_exactly_the_leased_ones() -> None:
    assert frozenset({"UpdateRestApi", "PutGatewayResponse", "DeleteGatewayResponse", "DeleteModel", "UpdateMethod"}) == gw.GUARDED_WRITES


@pytest.mark.parametrize(
    ("response", "exception"),
    [(answer(429, "TooManyRequestsException"), None), (answer(500, "InternalFailure"), None),
     (None, bex.EndpointConnectionError(endpoint_url=ENDPOINT))],
    ids=["throttled", "5xx", "refused"],
)
def test_no_retry_once_max_attempts_were_made(response: Any, exception: Any) -> None:
    gateway = Gateway(client(), max_attempts=3)
    assert needs_retry(gateway, "GetRestApi", 2, response, exception) is not None
    assert needs_retry(gateway, "GetRestApi", 3, response, exception) is None
    assert needs_retry(gateway, "GetRestApi", 4, response, exception) is None


def test_max_attempts_comes_from_the_argument_then_aws_max_attempts_then_6(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_MAX_ATTEMPTS", raising=False)
    assert Gateway(client()).max_attempts == 6 == gw.DEFAULT_MAX_ATTEMPTS
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")
    assert Gateway(client()).max_attempts == 2
    assert Gateway(client(), max_attempts=4).max_attempts == 4
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "")
    assert Gateway(client()).max_attempts == 6


def test_aws_max_attempts_bounds_the_real_send_loop(monkeypatch: pytest.MonkeyPatch, slept: list[float]) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")
    gateway = Gateway(client())
    canned = Canned(gateway, [aws_answer(500, error="InternalFailure")])
    with pytest.raises(AwsError) as raised:
        gateway.get_stages(API_ID)
    assert raised.value.code == "InternalFailure" and len(canned.sent) == 2


# --- the hook in botocore's real send loop ----------------------------------------------------


def test_a_throttled_deployment_waits_its_quota_and_goes_through(slept: list[float]) -> None:
    gateway = Gateway(client())
    told: list[tuple[str, float]] = []
    gateway.on_quota_wait = lambda operation, seconds: told.append((operation, seconds))
    canned = Canned(gateway, [aws_answer(429, error="TooManyRequestsException"), aws_answer(201, {"id": "dep1"})])
    assert gateway.deploy(API_ID, "test")["id"] == "dep1"
    assert canned.sent == [f"POST /restapis/{API_ID}/deployments"] * 2
    assert slept == gateway.quota_waits == [DEPLOY_QUOTA_S] and told == [("CreateDeployment", DEPLOY_QUOTA_S)]


def test_retry_after_from_the_wire_is_honoured(slept: list[float]) -> None:
    gateway = Gateway(client())
    Canned(gateway, [aws_answer(429, headers={"Retry-After": "3"}, error="TooManyRequestsException"),
                     aws_answer(200, {"item": [{"stageName": "test"}]})])
    assert gateway.get_stages(API_ID) == [{"stageName": "test"}]
    assert slept == gateway.quota_waits == [3.0]


@pytest.mark.parametrize(
    ("call", "sent"),
    [
        (lambda g: g.set_policy(API_ID, None), f"PATCH /restapis/{API_ID}"),
        (lambda g: g.put_gateway_response(API_ID, "ACCESS_DENIED", "403", {"application/json": "{}"}),
         f"PUT /restapis/{API_ID}/gatewayresponses/ACCESS_DENIED"),
        (lambda g: g.delete_model(API_ID, "PetgateLease"), f"DELETE /restapis/{API_ID}/models/PetgateLease"),
    ],
    ids=["UpdateRestApi", "PutGatewayResponse", "DeleteModel"],
)
@pytest.mark.parametrize("failure", [aws_answer(503, error="ServiceUnavailable"),
                                     aws_answer(429, headers={"Retry-After": "1"}, error="TooManyRequestsException"),
                                     bex.ReadTimeoutError(endpoint_url=ENDPOINT, error="t")],
                         ids=["5xx", "throttled", "read-timeout"])
def test_a_guarded_write_is_sent_once_in_the_real_loop(call: Callable[[Gateway], Any], sent: str, failure: Any,
                                                       slept: list[float]) -> None:
    gateway = Gateway(client())
    canned = Canned(gateway, [failure, aws_answer(200, {})])
    with pytest.raises((AwsError, NetworkError)):
        call(gateway)
    assert canned.sent == [sent] and slept == [] and gateway.quota_waits == []


def test_create_model_conflict_is_sent_once_and_is_the_callers_answer(slept: list[float]) -> None:
    gateway = Gateway(client())
    canned = Canned(gateway, [aws_answer(409, error="ConflictException"), aws_answer(201, {"name": "PetgateLease"})])
    with pytest.raises(AwsError) as raised:
        gateway.create_model(API_ID, "PetgateLease", "lease until ...")
    assert raised.value.code == "ConflictException" and len(canned.sent) == 1 and slept == []


def test_a_5xx_read_is_retried_in_the_real_loop(slept: list[float], no_jitter: list[tuple[float, float]]) -> None:
    gateway = Gateway(client())
    canned = Canned(gateway, [aws_answer(500, error="InternalFailure"), aws_answer(502, error="BadGateway"),
                              aws_answer(200, {"id": API_ID, "name": "PetStore"})])
    assert gateway.get_api(API_ID)["name"] == "PetStore"
    assert len(canned.sent) == 3 and slept == [0.5, 1.0] and gateway.quota_waits == []


# --- resolve_api --------------------------------------------------------------------------------


def resolve_api(gateway: Gateway, ref: str) -> gw.ApiRef:
    """Gateway.resolve_api (a move to petgate.ops.apis.resolve_api(gateway, ref) is under way)."""
    method = getattr(gateway, "resolve_api", None)
    if method is not None:
        return method(ref)  # type: ignore[no-any-return]
    from petgate.ops.apis import resolve_api as resolve  # type: ignore[import-not-found, unused-ignore]

    return resolve(gateway, ref)  # type: ignore[no-any-return]


def test_an_id_is_looked_up_directly() -> None:
    gateway, stubber = stubbed()
    stubber.add_response("get_rest_api", {"id": API_ID, "name": "PetStore"}, {"restApiId": API_ID})
    assert resolve_api(gateway, API_ID) == gw.ApiRef(API_ID, "PetStore")
    stubber.assert_no_pending_responses()


def test_a_name_matching_one_api_is_that_api() -> None:
    gateway, stubber = stubbed()
    stubber.add_response("get_rest_apis", {"items": [{"id": OTHER_ID, "name": "Other"}, {"id": API_ID, "name": "PetStore"}]}, {"limit": 500})
    assert resolve_api(gateway, "PetStore") == gw.ApiRef(API_ID, "PetStore")
    stubber.assert_no_pending_responses()


def test_an_id_shaped_name_is_found_by_name_when_no_api_has_that_id() -> None:
    gateway, stubber = stubbed()
    stubber.add_client_error("get_rest_api", service_error_code="NotFoundException", http_status_code=404,
                             expected_params={"restApiId": "mypetstore"})
    stubber.add_response("get_rest_apis", {"items": [{"id": API_ID, "name": "mypetstore"}]}, {"limit": 500})
    assert resolve_api(gateway, "mypetstore") == gw.ApiRef(API_ID, "mypetstore")


def test_no_match_is_a_not_found_aws_error() -> None:
    gateway, stubber = stubbed()
    stubber.add_response("get_rest_apis", {"items": [{"id": API_ID, "name": "PetStore"}]}, {"limit": 500})
    with pytest.raises(AwsError) as raised:
        resolve_api(gateway, "Petstore")
    assert raised.value.code == "NotFoundException" and raised.value.exit_code == EXIT_AWS
    assert raised.value.message == "no REST API with id or name 'Petstore'"
    assert raised.value.hint is not None and "import-example" in raised.value.hint


def test_two_apis_of_that_name_is_a_usage_error_listing_both_ids() -> None:
    gateway, stubber = stubbed()
    # on two pages: every page is read
    stubber.add_response("get_rest_apis", {"items": [{"id": API_ID, "name": "PetStore"}, {"id": "aaaaaaaaaa", "name": "X"}],
                                           "position": "next"}, {"limit": 500})
    stubber.add_response("get_rest_apis", {"items": [{"id": OTHER_ID, "name": "PetStore"}]}, {"limit": 500, "position": "next"})
    with pytest.raises(UsageError) as raised:
        resolve_api(gateway, "PetStore")
    assert not isinstance(raised.value, AwsError)
    assert raised.value.message == f"2 REST APIs are named 'PetStore' ({API_ID}, {OTHER_ID})"
    assert raised.value.hint == "pass --api with one of these ids"


@pytest.mark.parametrize(("text", "is_id"), [(API_ID, True), ("abc123defg", True), ("ABCDEFGHIJ", False),
                                             ("abcdefghi", False), ("abcdefghijk", False), ("abc-defghi", False)])
def test_what_looks_like_an_api_id(text: str, is_id: bool) -> None:
    assert gw.looks_like_api_id(text) is is_id


def test_a_name_is_never_looked_up_as_an_id() -> None:
    gateway, stubber = stubbed()
    stubber.add_response("get_rest_apis", {"items": [{"id": API_ID, "name": "Pet-Store"}]}, {"limit": 500})
    assert resolve_api(gateway, "Pet-Store").id == API_ID  # a GetRestApi call would fail the Stubber


# --- decode_policy, write_bound_s ---------------------------------------------------------------

POLICY = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke",
    "Resource": "arn:aws:execute-api:us-east-1:123456789012:abcdefghij/*",
    "Condition": {"IpAddress": {"aws:SourceIp": ["192.0.2.0/24"]}}}]}


def aws_escaped(policy: dict[str, Any]) -> str:
    """The policy as GetRestApi returns it: minified, quotes and slashes escaped once more."""
    return json.dumps(policy, separators=(",", ":")).replace('"', '\\"').replace("/", "\\/")


def test_decode_policy_undoes_aws_escaping() -> None:
    stored = aws_escaped(POLICY)
    assert stored.startswith('{\\"Version') and "192.0.2.0\\/24" in stored
    assert decode_policy(API_ID, {"id": API_ID, "policy": stored}) == POLICY
    assert decode_policy(API_ID, {"id": API_ID, "policy": json.dumps(POLICY)}) == POLICY
    assert decode_policy(API_ID, {"id": API_ID}) is None
    assert decode_policy(API_ID, {"id": API_ID, "policy": ""}) is None


def test_an_unreadable_policy_is_the_users_to_fix() -> None:
    with pytest.raises(UsageError) as raised:
        decode_policy(API_ID, {"policy": '{\\"Version\\": '})
    assert raised.value.message.startswith(f"API {API_ID}: ") and raised.value.message.endswith("petgate leaves it as it is")
    assert raised.value.hint is not None and "petgate unblock --all" in raised.value.hint


def test_get_policy_reads_the_stored_policy() -> None:
    gateway, stubber = stubbed()
    stubber.add_response("get_rest_api", {"id": API_ID, "policy": aws_escaped(POLICY)}, {"restApiId": API_ID})
    assert gateway.get_policy(API_ID) == POLICY
    assert gateway.get_policy(API_ID, {"id": API_ID}) is None, "an answer in hand is not read again"
    stubber.assert_no_pending_responses()


def test_set_policy_writes_the_policy_or_removes_it() -> None:
    gateway, stubber = stubbed()
    written: list[Any] = []
    gateway.client.meta.events.register(
        "provide-client-params.api-gateway.UpdateRestApi", lambda params, **_: written.append(params["patchOperations"]))
    stubber.add_response("update_rest_api", {"id": API_ID})
    stubber.add_response("update_rest_api", {"id": API_ID})
    gateway.set_policy(API_ID, POLICY)
    gateway.set_policy(API_ID, None)
    [(first,), (second,)] = written
    assert first["op"] == "replace" and first["path"] == "/policy" and json.loads(first["value"]) == POLICY
    assert second == {"op": "replace", "path": "/policy", "value": ""}


def test_write_bound_is_one_attempts_connect_and_read_timeouts() -> None:
    assert Gateway(client()).write_bound_s == 35.0
    config = Config(retries={"mode": "standard", "total_max_attempts": 1}, connect_timeout=2, read_timeout=7.5)
    other = boto3.client("apigateway", region_name="us-east-1", endpoint_url=ENDPOINT, config=config,
                         aws_access_key_id="t", aws_secret_access_key="t")
    assert Gateway(other).write_bound_s == 9.5
