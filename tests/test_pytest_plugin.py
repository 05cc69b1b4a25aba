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
