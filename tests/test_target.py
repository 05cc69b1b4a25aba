"""target.py through its public functions: URLs, regions, invoke URLs, describe(), and the
clients it builds (never used: nothing is sent)."""

from __future__ import annotations

from pathlib import Path

import pytest

from petgate import target as targets
from petgate.errors import EXIT_USAGE, UsageError
from petgate.target import DEFAULT_LOCAL_URL, LOCAL_REGION, Target, check_url


@pytest.fixture(autouse=True)
def no_aws_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No region or profile from the machine running the tests: an empty AWS config of our own."""
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_CA_BUNDLE",
                 "PETGATE_CONTROL_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "aws-config"
    config.write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
    return config


# --- check_url ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "host", "port"),
    [
        ("http://127.0.0.1:4599", "127.0.0.1", 4599),
        ("http://127.0.0.1:4599/", "127.0.0.1", 4599),
        ("  http://localhost:8080/some/path  ", "localhost", 8080),
        ("http://example.com", "example.com", 80),
        ("https://apigateway.eu-west-1.amazonaws.com", "apigateway.eu-west-1.amazonaws.com", 443),
        ("https://example.com:8443", "example.com", 8443),
        ("http://[::1]:9000", "::1", 9000),
        ("HTTP://Example.COM:1", "example.com", 1),
        ("http://127.0.0.1:65535", "127.0.0.1", 65535),
    ],
)
def test_check_url_gives_the_host_and_port(url: str, host: str, port: int) -> None:
    assert check_url(url, "--endpoint-url") == (host, port)


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("ftp://127.0.0.1:21", "is not an http(s) URL with a host"),
        ("127.0.0.1:4599", "is not an http(s) URL with a host"),
        ("localhost", "is not an http(s) URL with a host"),
        ("http://", "is not an http(s) URL with a host"),
        ("http:///path", "is not an http(s) URL with a host"),
        ("", "is not an http(s) URL with a host"),
        ("http://127.0.0.1:0", "names port 0"),
        ("http://127.0.0.1:65536", "is not a usable URL ("),
        ("http://127.0.0.1:port", "is not a usable URL ("),
        ("http://[::1", "is not a usable URL ("),
    ],
)
def test_check_url_refuses_what_cannot_be_an_endpoint(url: str, says: str) -> None:
    with pytest.raises(UsageError) as raised:
        check_url(url, "PETGATE_LOCAL_URL")
    assert raised.value.message.startswith(f"PETGATE_LOCAL_URL {url!r} ") and says in raised.value.message
    assert raised.value.hint == "give a URL like http://127.0.0.1:4599"
    assert raised.value.exit_code == EXIT_USAGE


def test_validate_checks_the_url_in_use_under_its_own_name() -> None:
    with pytest.raises(UsageError, match=r"^PETGATE_LOCAL_URL 'nope' "):
        Target(local=True, local_url="nope").validate()
    with pytest.raises(UsageError, match=r"^--endpoint-url 'http://h:0' names port 0"):
        Target(endpoint_url="http://h:0").validate()
    Target(local=True, local_url="http://127.0.0.1:4599", endpoint_url="not a url").validate()  # --local wins
    Target(local_url="not used").validate()  # AWS itself: nothing to check
    Target(local=True).validate()


# --- regions ------------------------------------------------------------------------------------


def test_the_region_option_comes_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-2")
    assert Target(region="ap-south-1").resolved_region() == "ap-south-1"
    assert Target(region="ap-south-1", local=True).resolved_region() == "ap-south-1"


def test_then_aws_region_then_aws_default_region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-2")
    assert Target().resolved_region() == "eu-west-1"
    assert Target(local=True).resolved_region() == "eu-west-1", "the environment beats the local default"
    monkeypatch.delenv("AWS_REGION")
    assert Target().resolved_region() == "eu-west-2"
    assert Target(local=True).resolved_region() == "eu-west-2"
    monkeypatch.setenv("AWS_REGION", "")  # empty is not set
    assert Target().resolved_region() == "eu-west-2"


def test_local_defaults_to_us_east_1() -> None:
    assert LOCAL_REGION == "us-east-1"
    assert Target(local=True).resolved_region() == "us-east-1"


def test_then_the_profiles_region(no_aws_config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    no_aws_config.write_text("[default]\nregion = sa-east-1\n\n[profile other]\nregion = ca-central-1\n")
    assert Target().resolved_region() == "sa-east-1"
    assert Target(profile="other").resolved_region() == "ca-central-1"
    assert Target(profile="other", local=True).resolved_region() == "us-east-1", "the local default first"
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-north-1")
    assert Target(profile="other").resolved_region() == "eu-north-1"


def test_no_region_anywhere_is_a_usage_error() -> None:
    with pytest.raises(UsageError) as raised:
        Target().resolved_region()
    assert raised.value.message == "no AWS region configured"
    assert raised.value.hint is not None and "--region" in raised.value.hint and "AWS_REGION" in raised.value.hint
    with pytest.raises(UsageError, match="no AWS region configured"):
        Target(endpoint_url="http://127.0.0.1:9").resolved_region()  # an endpoint has no default either
    assert Target().region_or_none() is None


@pytest.mark.parametrize("region", ["eu west 1", "eu-west-1/", "-eu"])
def test_a_region_botocore_cannot_take_is_a_usage_error_not_a_traceback(region: str) -> None:
    with pytest.raises(UsageError) as caught:
        Target(region=region).resolved_region()
    assert caught.value.message == f"{region!r} is not an AWS region name"
    assert Target(region=region).region_or_none() is None


def test_a_profile_that_does_not_exist_is_a_usage_error() -> None:
    with pytest.raises(UsageError) as raised:
        Target(profile="nosuch").resolved_region()
    assert raised.value.message == "AWS profile 'nosuch' not found"
    assert raised.value.hint == "check --profile / AWS_PROFILE"
    with pytest.raises(UsageError, match="AWS profile 'nosuch' not found"):
        Target(profile="nosuch", region="us-east-1").boto3_session()


def test_an_unreadable_config_is_no_region_not_a_crash(no_aws_config: Path) -> None:
    no_aws_config.write_text("[default\nregion = nope\n")
    assert Target().region_or_none() is None


# --- invoke URLs, control URLs --------------------------------------------------------------------


def test_the_invoke_url_on_aws() -> None:
    assert Target(region="eu-west-1").invoke_url("abcdefghij", "prod") == "https://abcdefghij.execute-api.eu-west-1.amazonaws.com/prod"


def test_the_invoke_url_on_aws_needs_a_region() -> None:
    with pytest.raises(UsageError, match="no AWS region configured"):
        Target().invoke_url("abcdefghij", "prod")


def test_the_invoke_url_of_an_endpoint_and_of_local() -> None:
    assert Target(endpoint_url="http://127.0.0.1:5000/").invoke_url("abcdefghij", "test") == (
        "http://127.0.0.1:5000/restapis/abcdefghij/test/_user_request_")
    assert Target(local=True).invoke_url("abcdefghij", "test") == (
        f"{DEFAULT_LOCAL_URL}/restapis/abcdefghij/test/_user_request_")
    assert Target(local=True, local_url="http://127.0.0.1:7000/").invoke_url("abcdefghij", "v1") == (
        "http://127.0.0.1:7000/restapis/abcdefghij/v1/_user_request_")


def test_kind_and_control_url() -> None:
    assert (Target().kind, Target().control_url) == ("aws", None)
    endpoint = Target(endpoint_url="http://127.0.0.1:5000/")
    assert (endpoint.kind, endpoint.control_url) == ("endpoint", "http://127.0.0.1:5000")
    local = Target(local=True, local_url="http://127.0.0.1:7000/", endpoint_url="http://127.0.0.1:5000")
    assert (local.kind, local.control_url) == ("local", "http://127.0.0.1:7000")


def test_the_checkip_url() -> None:
    from petgate.checkip import DEFAULT_CHECKIP_URL

    assert Target().effective_checkip_url == DEFAULT_CHECKIP_URL
    assert Target(endpoint_url="http://127.0.0.1:5000").effective_checkip_url == DEFAULT_CHECKIP_URL
    assert Target(local=True, local_url="http://127.0.0.1:7000/").effective_checkip_url == "http://127.0.0.1:7000/_petgate/checkip"
    assert Target(local=True, checkip_url="http://127.0.0.1:1/ip").effective_checkip_url == "http://127.0.0.1:1/ip"


# --- describe ------------------------------------------------------------------------------------


def test_describe_names_where_a_change_was_made(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Target(region="eu-west-1").describe() == {"kind": "aws", "endpoint": None, "region": "eu-west-1"}
    assert Target(endpoint_url="http://127.0.0.1:5000/", region="us-east-1").describe() == {
        "kind": "endpoint", "endpoint": "http://127.0.0.1:5000", "region": "us-east-1"}
    assert Target(local=True).describe() == {"kind": "local", "endpoint": DEFAULT_LOCAL_URL, "region": "us-east-1"}
    assert Target().describe() == {"kind": "aws", "endpoint": None, "region": None}, "no region: still described"
    monkeypatch.setenv("AWS_REGION", "ap-south-1")
    assert Target().describe()["region"] == "ap-south-1"


def test_describe_tells_apart_what_undo_must_not_mix() -> None:
    places = [
        Target(local=True),
        Target(local=True, local_url="http://127.0.0.1:4600"),
        Target(local=True, region="eu-west-1"),
        Target(endpoint_url="http://127.0.0.1:4599", region="us-east-1"),
        Target(region="us-east-1"),
        Target(region="eu-west-1"),
    ]
    described = [str(sorted(p.describe().items())) for p in places]
    assert len(set(described)) == len(places)
    assert Target(local=True, local_url="http://127.0.0.1:4599/").describe() == Target(local=True).describe()


# --- the clients it builds ---------------------------------------------------------------------


def test_the_gateway_client_points_at_the_control_url_with_one_attempt(monkeypatch: pytest.MonkeyPatch) -> None:
    from petgate.gateway import Gateway

    monkeypatch.setenv("PETGATE_CONTROL_TIMEOUT", "7")
    gateway = Target(local=True, local_url="http://127.0.0.1:7000/").gateway()
    assert isinstance(gateway, Gateway)
    meta = gateway.client.meta
    assert meta.endpoint_url == "http://127.0.0.1:7000" and meta.region_name == "us-east-1"
    assert meta.config.retries["total_max_attempts"] == 1, "Gateway decides on retries, not botocore"
    assert (meta.config.connect_timeout, meta.config.read_timeout) == (5, 7.0)
    credentials = gateway.client._request_signer._credentials
    assert (credentials.access_key, credentials.secret_key) == targets.LOCAL_CREDENTIALS
    assert gateway.write_bound_s == 12.0


def test_the_default_control_timeout_is_30_s() -> None:
    assert Target(local=True).gateway().client.meta.config.read_timeout == 30.0


def test_the_waf_client_points_at_the_same_place() -> None:
    from petgate.waf import Waf

    waf = Target(endpoint_url="http://127.0.0.1:5000", region="eu-west-1").waf()
    assert isinstance(waf, Waf)
    assert waf.client.meta.endpoint_url == "http://127.0.0.1:5000" and waf.client.meta.region_name == "eu-west-1"
    assert waf.client.meta.service_model.service_name == "wafv2"


def test_the_http_apis_client_points_at_the_same_place_and_signs_as_api_gateway() -> None:
    from petgate.http_apis import HttpApis

    http_apis = Target(local=True, local_url="http://127.0.0.1:7000", region="eu-west-1").http_apis()
    assert isinstance(http_apis, HttpApis)
    meta = http_apis.client.meta
    assert meta.endpoint_url == "http://127.0.0.1:7000" and meta.region_name == "eu-west-1"
    assert meta.service_model.service_name == "apigatewayv2"
    assert meta.service_model.signing_name == "apigateway", "the local gateway tells the planes apart by path"


def test_an_app_for_another_region_builds_that_regions_clients_and_leaves_this_one_alone() -> None:
    """audit --region: one App a region (App.for_region), as App.for_local_url does for a URL."""
    from petgate.app import App
    from petgate.output import Output

    output = Output()
    app = App(Target(endpoint_url="http://127.0.0.1:5000", region="us-east-1"), output)
    west = app.for_region("eu-west-1")
    assert west is not app and west.target is not app.target and west.output is output
    assert (app.target.region, west.target.region) == ("us-east-1", "eu-west-1")
    assert west.target.endpoint_url == "http://127.0.0.1:5000"
    for client in (west.gateway.client, west.waf.client, west.http_apis.client):
        assert client.meta.region_name == "eu-west-1" and client.meta.endpoint_url == "http://127.0.0.1:5000"
    assert app.gateway.client.meta.region_name == "us-east-1" and app.http_apis.client.meta.region_name == "us-east-1"


def test_the_session_loader_knows_every_service_petgate_makes_clients_for() -> None:
    session = targets.new_session(region_name="us-east-1")
    assert set(targets.SERVICES) <= set(session.get_available_services())
    assert "apigatewayv2" in targets.SERVICES


def test_the_http_session_trusts_the_environment_only_for_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert Target(region="us-east-1").http_session().trust_env is True
    assert Target(local=True).http_session().trust_env is False, "loopback never through a proxy"
    assert Target(endpoint_url="http://127.0.0.1:5000").http_session().trust_env is False
    bundle = tmp_path / "ca.pem"
    monkeypatch.setenv("AWS_CA_BUNDLE", str(bundle))
    assert Target(local=True).http_session().verify == str(bundle)


def test_the_http_session_leaves_from_the_source_address() -> None:
    session = Target(local=True, source_address="127.0.0.5").http_session()
    for scheme in ("http://127.0.0.1/", "https://example.com/"):
        assert session.get_adapter(scheme).poolmanager.connection_pool_kw["source_address"] == ("127.0.0.5", 0)
    plain = Target(local=True).http_session()
    assert "source_address" not in plain.get_adapter("http://127.0.0.1/").poolmanager.connection_pool_kw
