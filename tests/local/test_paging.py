"""Server-side pagination of API Gateway's list calls (paging.py): `limit` (default 25, 1 to
500) and `position`, walked by botocore's paginators and by petgate's own Gateway."""

from __future__ import annotations

from collections.abc import Iterator

import botocore.exceptions
import pytest

from petgate.pytest_plugin import LocalGateway, running_gateway


@pytest.fixture(scope="module")
def gateway() -> Iterator[LocalGateway]:
    with running_gateway() as running:
        client = running.client("apigateway")
        for number in range(32):
            client.create_rest_api(name=f"paged-{number:02d}")
        yield running


def test_the_default_page_is_25_and_position_walks_on(gateway: LocalGateway) -> None:
    client = gateway.client("apigateway")
    first = client.get_rest_apis()
    assert len(first["items"]) == 25 and first["position"]
    rest = client.get_rest_apis(position=first["position"])
    assert len(rest["items"]) == 7 and "position" not in rest
    names = {a["name"] for a in first["items"] + rest["items"]}
    assert names == {f"paged-{n:02d}" for n in range(32)}


def test_limits(gateway: LocalGateway) -> None:
    client = gateway.client("apigateway")
    assert len(client.get_rest_apis(limit=500)["items"]) == 32
    assert len(client.get_rest_apis(limit=1)["items"]) == 1
    for bad in (0, 501):
        with pytest.raises(botocore.exceptions.ClientError) as raised:
            client.get_rest_apis(limit=bad)
        assert raised.value.response["Error"]["Code"] == "BadRequestException"
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        client.get_rest_apis(position="not-a-position")
    assert raised.value.response["Error"]["Code"] == "BadRequestException"


def test_paginators_walk_every_list(gateway: LocalGateway) -> None:
    client = gateway.client("apigateway")
    pages = list(client.get_paginator("get_rest_apis").paginate(PaginationConfig={"PageSize": 10}))
    assert [len(p["items"]) for p in pages] == [10, 10, 10, 2]
    assert len(list(client.get_paginator("get_rest_apis").paginate().search("items[]"))) == 32
    api_id = pages[0]["items"][0]["id"]
    responses = list(client.get_paginator("get_gateway_responses").paginate(restApiId=api_id).search("items[]"))
    assert len(responses) == 21, "petgate's own list is paged too (21 types, default page 25)"
    first = client.get_gateway_responses(restApiId=api_id, limit=5)
    assert len(first["items"]) == 5 and first["position"]


def test_petgates_gateway_finds_every_api(gateway: LocalGateway) -> None:
    from petgate.gateway import Gateway

    found = Gateway(gateway.client("apigateway")).find_apis_named("paged-31")
    assert len(found) == 1
