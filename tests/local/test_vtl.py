"""Mapping templates: $input, $util, $context and $stageVariables as API Gateway renders them."""

from __future__ import annotations

import base64
import json

import pytest

from petgate.local import vtl

BODY = json.dumps({"pet": {"type": "dog", "price": 249.99, "tags": ["a", "b"]}, "name": "Rex"})
PARAMS = {"path": {"petId": "7"}, "querystring": {"page": "2"}, "header": {"accept": "application/json"}}


def render(template: str) -> str:
    return vtl.render(template, {"stage": "test", "requestId": "r-1"}, body=BODY, params=PARAMS,
                      stage_variables={"color": "blue"})


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("$input.json('$')", BODY),
        ("$input.json('$.pet.type')", '"dog"'),
        ("$input.json('$.pet')", json.dumps({"type": "dog", "price": 249.99, "tags": ["a", "b"]})),
        ("$input.json('$.nothing')", "null"),
        ("$input.path('$.name')", "Rex"),
        ("$input.path('$.pet.price')", "249.99"),
        ("$input.params('petId')/$input.params('page')/$input.params('accept')", "7/2/application/json"),
        ("[$input.params('missing')]", "[]"),
        ("$input.body", BODY),
        ("$util.escapeJavaScript(\"it's \\\"quoted\\\"\")", "it\\'s \\\"quoted\\\""),
        ("$util.urlEncode('a b&c')", "a%20b%26c"),
        ("$util.urlDecode('a%20b%26c')", "a b&c"),
        ("$util.base64Encode('petgate')", base64.b64encode(b"petgate").decode()),
        ("$util.base64Decode('cGV0Z2F0ZQ==')", "petgate"),
        ("#set($o = $util.parseJson($input.json('$.pet')))$o.type", "dog"),
        ("$context.stage $context.requestId $stageVariables.color", "test r-1 blue"),
        ("#if($input.path('$.pet.type') == 'dog')woof#{else}meow#end", "woof"),
    ],
)
def test_templates_render_as_api_gateway_does(template: str, expected: str) -> None:
    assert render(template) == expected


def test_a_body_that_is_not_json_gives_empty_paths() -> None:
    assert vtl.render("[$input.path('$.x')]", {}, body="not json") == "[]"
    assert vtl.render("$input.json('$')", {}, body="not json") == "not json"


def test_templates_are_compiled_once() -> None:
    template = "$context.stage-once"
    vtl.render(template, {"stage": "a"})
    compiled = vtl._cache[template]
    assert vtl.render(template, {"stage": "b"}) == "b-once" and vtl._cache[template] is compiled
