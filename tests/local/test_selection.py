"""Gateway-response selection and request routing, as tables."""

from __future__ import annotations

import pytest

from petgate.local import gateway_responses as gr
from petgate.local import routing
from petgate.local.snapshot import ResourceSpec

CUSTOM_DENIED = {"statusCode": "401", "responseTemplates": {"application/json": "own"}, "responseParameters": {"a": "'b'"}}
CUSTOM_4XX = {"responseTemplates": {"application/json": "fallback"}}
CUSTOM_4XX_STATUS = {"statusCode": "418", "responseTemplates": {"text/plain": "teapot"}}
CUSTOM_5XX = {"responseTemplates": {"application/json": "five"}}

SELECTION = [
    ("built-in ACCESS_DENIED has the real capital-M body", "ACCESS_DENIED", {}, 403, gr.ACCESS_DENIED_BODY_TEMPLATE),
    ("built-in others use the documented template", "MISSING_AUTHENTICATION_TOKEN", {}, 403, gr.DOCUMENTED_TEMPLATE),
    ("own response wins", "ACCESS_DENIED", {"ACCESS_DENIED": CUSTOM_DENIED, "DEFAULT_4XX": CUSTOM_4XX}, 401, "own"),
    ("falls back to DEFAULT_4XX, keeps its own status", "ACCESS_DENIED", {"DEFAULT_4XX": CUSTOM_4XX}, 403, "fallback"),
    ("DEFAULT_4XX status applies to all 4XX", "MISSING_AUTHENTICATION_TOKEN", {"DEFAULT_4XX": CUSTOM_4XX_STATUS}, 418, "teapot"),
    ("5XX types fall back to DEFAULT_5XX", "INTEGRATION_FAILURE", {"DEFAULT_5XX": CUSTOM_5XX, "DEFAULT_4XX": CUSTOM_4XX}, 504, "five"),
    ("4XX customisation does not touch 5XX", "INTEGRATION_TIMEOUT", {"DEFAULT_4XX": CUSTOM_4XX}, 504, gr.DOCUMENTED_TEMPLATE),
]


@pytest.mark.parametrize(("name", "kind", "customised", "status", "template"), SELECTION, ids=[s[0] for s in SELECTION])
def test_select(name: str, kind: str, customised: dict, status: int, template: str) -> None:
    selected = gr.select(kind, customised)
    assert selected.status == status
    assert template in selected.templates.values()


def test_defaults_listed_for_every_type() -> None:
    assert len(gr.RESPONSE_TYPES) == 21
    assert gr.default_response("DEFAULT_4XX").get("statusCode") is None
    assert gr.default_response("THROTTLED")["statusCode"] == "429"


RESOURCES = [
    ResourceSpec("/", (), {"GET": {"m": "root"}}),
    ResourceSpec("/pets", ("pets",), {"GET": {"m": "list"}, "POST": {"m": "create"}}),
    ResourceSpec("/pets/{petId}", ("pets", "{petId}"), {"GET": {"m": "one"}}),
    ResourceSpec("/pets/new", ("pets", "new"), {"GET": {"m": "new"}}),
    ResourceSpec("/files/{proxy+}", ("files", "{proxy+}"), {"ANY": {"m": "files"}}),
]

ROUTES = [
    ("GET", "/", "root", {}),
    ("GET", "/pets", "list", {}),
    ("GET", "/pets/", "list", {}),
    ("POST", "/pets", "create", {}),
    ("GET", "/pets/7", "one", {"petId": "7"}),
    ("GET", "/pets/new", "new", {}),
    ("DELETE", "/files/a/b/c", "files", {"proxy": "a/b/c"}),
    ("DELETE", "/pets", None, None),
    ("GET", "/files", None, None),
    ("GET", "/pets/7/toys", None, None),
]


@pytest.mark.parametrize(("method", "path", "expected", "params"), ROUTES)
def test_find(method: str, path: str, expected: str | None, params: dict | None) -> None:
    route = routing.find(RESOURCES, path, method)
    if expected is None:
        assert route is None
    else:
        assert route is not None and route.method["m"] == expected and route.path_parameters == params
