"""Server-side pagination of wafv2's List* calls (paging.py's wafv2 part): `Limit` 1 to 100
(default 100), an opaque `NextMarker` present only while more follow, walked by boto3 and by
petgate's own Waf client and `petgate waf show`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import botocore.config
import botocore.exceptions
import pytest

from petgate.pytest_plugin import LocalGateway, running_gateway
from tests.conftest import run_cli

OTHERS = 120  # IP sets besides the list's own


@pytest.fixture(scope="module")
def gateway() -> Iterator[LocalGateway]:
    with running_gateway() as running:
        client = running.client("wafv2")
        for number in range(OTHERS):
            client.create_ip_set(Name=f"paged-{number:03d}", Scope="REGIONAL", IPAddressVersion="IPV4",
                                 Addresses=[f"10.0.{number}.0/24"])
        for number in range(3):
            client.create_regex_pattern_set(Name=f"pattern-{number}", Scope="REGIONAL",
                                            RegularExpressionList=[{"RegexString": f"^x{number}$"}])
        yield running


def walk(client: Any, operation: str, key: str, **kwargs: Any) -> list[list[dict[str, Any]]]:
    pages: list[list[dict[str, Any]]] = []
    marker = None
    while True:
        page = getattr(client, operation)(Scope="REGIONAL", **kwargs, **({"NextMarker": marker} if marker else {}))
        pages.append(page[key])
        marker = page.get("NextMarker")
        if not marker:
            return pages


def test_pages_of_the_asked_limit_and_the_marker_round_trip(gateway: LocalGateway) -> None:
    client = gateway.client("wafv2")
    pages = walk(client, "list_ip_sets", "IPSets", Limit=50)
    assert [len(p) for p in pages] == [50, 50, 20]
    names = [s["Name"] for p in pages for s in p]
    assert sorted(names) == [f"paged-{n:03d}" for n in range(OTHERS)] and len(set(names)) == len(names)
    assert [len(p) for p in walk(client, "list_ip_sets", "IPSets", Limit=1)][:3] == [1, 1, 1]
    assert [len(p) for p in walk(client, "list_regex_pattern_sets", "RegexPatternSets", Limit=2)] == [2, 1]


def test_the_default_page_is_100_and_the_last_has_no_marker(gateway: LocalGateway) -> None:
    client = gateway.client("wafv2")
    first = client.list_ip_sets(Scope="REGIONAL")
    assert len(first["IPSets"]) == 100 and first["NextMarker"]
    rest = client.list_ip_sets(Scope="REGIONAL", NextMarker=first["NextMarker"])
    assert len(rest["IPSets"]) == OTHERS - 100
    assert "NextMarker" not in rest
    assert len(client.list_ip_sets(Scope="REGIONAL", Limit=100)["IPSets"]) == 100
    empty = client.list_web_acls(Scope="REGIONAL")
    assert empty["WebACLs"] == [] and "NextMarker" not in empty


def test_the_wire_omits_a_null_marker(gateway: LocalGateway) -> None:
    """moto's last page says \"NextMarker\": null; the reply leaves it out, as AWS does."""
    import requests

    reply = requests.post(gateway.url, data=json.dumps({"Scope": "REGIONAL", "Limit": 2}),
                          headers=_headers("ListRegexPatternSets"), timeout=10)
    assert reply.status_code == 200 and reply.json()["NextMarker"]
    following = {"Scope": "REGIONAL", "Limit": 2, "NextMarker": reply.json()["NextMarker"]}
    last = requests.post(gateway.url, data=json.dumps(following), headers=_headers("ListRegexPatternSets"), timeout=10)
    assert last.status_code == 200 and "NextMarker" not in last.json() and len(last.json()["RegexPatternSets"]) == 1


def _headers(operation: str) -> dict[str, str]:
    return {"X-Amz-Target": f"AWSWAF_20190729.{operation}", "Content-Type": "application/x-amz-json-1.1",
            "Authorization": "AWS4-HMAC-SHA256 Credential=petgate-local/20260101/us-east-1/wafv2/aws4_request, "
                             "SignedHeaders=host, Signature=00"}


def test_a_limit_outside_1_to_100_and_a_bad_marker(gateway: LocalGateway) -> None:
    # botocore checks only the minimum itself; without its validation the server answers for both ends
    client = gateway.client("wafv2", config=botocore.config.Config(parameter_validation=False))
    for operation in ("list_ip_sets", "list_web_acls", "list_rule_groups", "list_regex_pattern_sets"):
        for bad in (0, 101, -1):
            with pytest.raises(botocore.exceptions.ClientError) as raised:
                getattr(client, operation)(Scope="REGIONAL", Limit=bad)
            assert raised.value.response["Error"]["Code"] == "WAFInvalidParameterException"
            assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    for marker in ("not-a-marker", " x"):
        with pytest.raises(botocore.exceptions.ClientError) as raised:
            client.list_ip_sets(Scope="REGIONAL", NextMarker=marker)
        assert raised.value.response["Error"]["Code"] == "WAFInvalidParameterException"
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_botocore_has_no_wafv2_paginator(gateway: LocalGateway) -> None:
    """botocore's paginators-1.json for wafv2 is empty: callers follow NextMarker themselves."""
    client = gateway.client("wafv2")
    assert not client.can_paginate("list_ip_sets") and not client.can_paginate("list_web_acls")


def test_petgates_waf_client_and_waf_show_find_a_list_among_120_others(
    gateway: LocalGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    from petgate.waf import Waf

    waf = Waf(gateway.client("wafv2"))
    assert len(waf.list_ip_sets()) == OTHERS
    monkeypatch.setenv("PETGATE_LOCAL_URL", gateway.url)
    for name in ("PETGATE_LOCAL", "PETGATE_OUTPUT", "PETGATE_API", "PETGATE_STAGE", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    blocked = run_cli("--local", "-o", "json", "waf", "block", "--cidr", "192.0.2.7", "--list", "zz-last")
    assert blocked.exit_code == 0, blocked.stderr
    listed = waf.list_ip_sets()
    own = [s["Name"] for s in listed if "zz-last" in s["Name"]]
    assert own and len(listed) == OTHERS + len(own)
    assert listed.index(next(s for s in listed if s["Name"] == own[0])) >= 100, "the list's sets are past the first page"
    assert waf.find_ip_set(own[0]) is not None
    shown = run_cli("--local", "-o", "json", "waf", "show", "--list", "zz-last")
    assert shown.exit_code == 0, shown.stderr
    assert json.loads(shown.stdout)["addresses"] == 1
