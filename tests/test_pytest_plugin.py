"""The shipped pytest plugin: `petgate_gateway` is one gateway per session, with working clients."""

from __future__ import annotations

from typing import Any

import requests

from petgate.pytest_plugin import LocalGateway


def test_the_fixture_is_a_running_gateway(petgate_gateway: LocalGateway) -> None:
    assert requests.get(f"{petgate_gateway.url}/_petgate/health", timeout=5).text == "ok\n"
    apis = petgate_gateway.client("apigateway").get_rest_apis()
    assert apis["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert petgate_gateway.environment["PETGATE_LOCAL_URL"] == petgate_gateway.url
    assert petgate_gateway.invoke_url("a1b2c3d4e5", "test") == f"{petgate_gateway.url}/restapis/a1b2c3d4e5/test/_user_request_"


def test_it_is_started_once_per_session(petgate_gateway: LocalGateway, request: Any) -> None:
    assert request.getfixturevalue("petgate_gateway") is petgate_gateway
    defined = request._fixturemanager.getfixturedefs("petgate_gateway", request.node)
    assert defined and defined[-1].scope == "session"


def test_it_is_registered_as_an_entry_point() -> None:
    from importlib.metadata import entry_points

    plugins = {e.name: e.value for e in entry_points(group="pytest11")}
    assert plugins.get("petgate") == "petgate.pytest_plugin"


def test_the_clean_fixture_resets_before_the_test(petgate_gateway: LocalGateway, request: Any) -> None:
    petgate_gateway.client("apigateway").create_rest_api(name="left-by-an-earlier-test")
    petgate_gateway.client("wafv2").create_ip_set(Name="left", Scope="REGIONAL", IPAddressVersion="IPV4", Addresses=[])
    clean = request.getfixturevalue("petgate_clean_gateway")
    assert clean is petgate_gateway, "the session's gateway, not another process"
    assert clean.client("apigateway").get_rest_apis()["items"] == []
    assert clean.client("wafv2").list_ip_sets(Scope="REGIONAL")["IPSets"] == []
    defined = request._fixturemanager.getfixturedefs("petgate_clean_gateway", request.node)
    assert defined and defined[-1].scope == "function"


def test_each_test_with_the_clean_fixture_starts_empty(petgate_clean_gateway: LocalGateway) -> None:
    apigateway = petgate_clean_gateway.client("apigateway")
    assert apigateway.get_rest_apis()["items"] == []
    apigateway.create_rest_api(name="mine")


def test_starts_empty(petgate_clean_gateway):  # type: ignore[no-untyped-def]  # README's example, verbatim
    assert petgate_clean_gateway.client("apigateway").get_rest_apis()["items"] == []


def test_the_readme_example_of_the_clean_fixture_is_this_one() -> None:
    import inspect
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    source = inspect.getsource(test_starts_empty).replace(
        "  # type: ignore[no-untyped-def]  # README's example, verbatim", "")
    assert f"```python\n{source}```" in readme
