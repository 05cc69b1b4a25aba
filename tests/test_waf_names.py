"""Every WAF name petgate derives for a list, under one length rule: a list name is refused
before any AWS call exactly when a name derived from it would be refused later."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from petgate.errors import UsageError
from petgate.waf_names import (
    LONGEST_OVERHEAD,
    MAX_LIST_NAME,
    WAF_NAME_MAX,
    ListNames,
    check_list_name,
    list_name_of,
)
from tests.test_call_counts import counted

WAF_NAME = re.compile(r"[A-Za-z0-9_-]{1,128}")  # AWS WAF's Name: ^[\w\-]+$, 1 to 128
END = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)


def test_the_longest_derived_name_is_the_rule_of_ipv6_blocks_that_end() -> None:
    names = ListNames("x" * MAX_LIST_NAME)
    longest = max(len(n) for n in names.derived(END))
    assert names.group_rule(6, END) == f"petgate-{'x' * MAX_LIST_NAME}-block-ipv6-until-20261201T180000Z"
    assert [n for n in names.derived(END) if len(n) == longest] == [names.group_rule(4, END), names.group_rule(6, END)]
    assert longest == WAF_NAME_MAX and len("petgate--block-ipv6-until-20261201T180000Z") == LONGEST_OVERHEAD
    assert MAX_LIST_NAME == 86


def test_every_derived_name_of_the_longest_list_name_is_a_waf_name() -> None:
    name = check_list_name("a-Z_9" * (MAX_LIST_NAME // 5) + "x" * (MAX_LIST_NAME % 5))
    assert len(name) == MAX_LIST_NAME
    names = ListNames(name)
    derived = names.derived(END)
    assert set(derived) >= {names.web_acl, names.ip_set(4), names.ip_set(6), names.rule(4), names.rule(6),
                            names.group_ip_set(4, END), names.group_ip_set(6, END), names.group_rule(4, END)}
    assert all(WAF_NAME.fullmatch(n) for n in derived), [n for n in derived if not WAF_NAME.fullmatch(n)]


@pytest.mark.parametrize("bad", ["", "x" * (MAX_LIST_NAME + 1), "a b", "déjà", "a.b", "a/b", "ü"])
def test_names_waf_would_refuse_are_refused(bad: str) -> None:
    with pytest.raises(UsageError):
        check_list_name(bad)


def test_the_group_names_round_trip() -> None:
    names = ListNames("x" * MAX_LIST_NAME)
    assert names.group_of(names.group_ip_set(6, END)) == (6, END)
    assert names.group_of(names.ip_set(4)) is None


def test_a_web_acl_is_petgates_by_its_name_and_its_block_rule() -> None:
    assert list_name_of({"Name": "petgate-xa", "Rules": [{"Name": "petgate-xa-block-ipv4"}]}) == "xa"
    assert list_name_of({"Name": "petgate-xa", "Rules": [{"Name": "mine"}]}) is None
    assert list_name_of({"Name": "mine", "Rules": [{"Name": "petgate-mine-block-ipv4"}]}) is None


def test_the_names_are_still_importable_from_petgate_waf() -> None:
    from petgate import waf, waf_names

    for name in ("ListNames", "check_list_name", "stage_arn", "block_rule", "block_rules", "split_by_version"):
        assert getattr(waf, name) is getattr(waf_names, name)


@pytest.fixture()
def waf_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    yield counted(monkeypatch, "waf", "wafv2")


def test_one_over_the_limit_is_refused_before_any_aws_call(
    petgate: Any, waf_calls: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    over = "n" * (MAX_LIST_NAME + 1)
    for args in (("waf", "block", "--cidr", "192.0.2.1", "--for", "1h", "--list", over),
                 ("waf", "attach", "--api", "a1b2c3d4e5", "--list", over),
                 ("waf", "sync", "--file", "-", "--list", over)):
        result = petgate(*args)
        assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert f"use at most {MAX_LIST_NAME}" in result.stderr
    monkeypatch.setenv("PETGATE_WAF_LIST", over)
    assert petgate("waf", "block", "--cidr", "192.0.2.1").exit_code == 2
    assert waf_calls == [], "nothing created, nothing read"


def test_the_limit_itself_works_with_blocks_that_end(petgate: Any, local_url: str) -> None:
    name = "L" * (MAX_LIST_NAME - 10) + "0123456789"
    wafv2 = boto3.client("wafv2", endpoint_url=local_url, region_name="us-east-1",
                         aws_access_key_id="test", aws_secret_access_key="test")
    try:
        blocked = petgate("-o", "json", "waf", "block", "--list", name, "--cidr", "192.0.2.1", "--cidr", "2001:db8::1",
                          "--until", "2098-06-01T12:00:00Z")
        assert blocked.exit_code == 0, blocked.stderr
        shown = petgate("-o", "json", "waf", "show", "--list", name).json
        assert sorted(e["cidr"] for e in shown["expiring"]) == ["192.0.2.1/32", "2001:db8::1/128"]
        acl = next(a for a in wafv2.list_web_acls(Scope="REGIONAL")["WebACLs"] if a["Name"] == f"petgate-{name}")
        rules = wafv2.get_web_acl(Name=acl["Name"], Scope="REGIONAL", Id=acl["Id"])["WebACL"]["Rules"]
        assert max(len(r["Name"]) for r in rules) == WAF_NAME_MAX
        pruned = petgate("-o", "json", "waf", "prune", "--list", name, "--now", "2099-01-01T00:00:00Z")
        assert pruned.exit_code == 0 and len(pruned.json["ip_sets_deleted"]) == 2
    finally:
        assert petgate("waf", "delete", "--list", name).exit_code == 0
    assert not [s for s in wafv2.list_ip_sets(Scope="REGIONAL")["IPSets"] if name in s["Name"]]
