"""wafv2 calls per `waf` command that changes something, counted with botocore's event hooks
(tests.test_call_counts.counted): exactly the sequence, no round trip safety does not need.

A change reads (GetIPSet, for the LockToken) and writes only the sets of the IP versions it
names; an existing list's web ACL is not looked up to change addresses; a stage's web ACL is
read before attaching (a stage holds one, and AWS replaces it without a word)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.test_call_counts import counted


@pytest.fixture()
def waf_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every wafv2 operation the CLI calls, in order."""
    yield counted(monkeypatch, "waf", "wafv2")


@pytest.fixture()
def name(petgate: Any) -> Iterator[str]:
    """A list of this test's own, deleted afterwards."""
    name = f"c{os.getpid()}{id(object())}"[-20:]
    yield name
    petgate("waf", "delete", "--list", name)


@pytest.fixture()
def deployed(petgate: Any, api_id: str) -> str:
    assert petgate("deploy", "--api", api_id).exit_code == 0
    return api_id


def run(petgate: Any, calls: list[str], *args: str) -> list[str]:
    """The wafv2 calls of one command (which must succeed)."""
    calls.clear()
    result = petgate(*args)
    assert result.exit_code == 0, result.stderr
    return list(calls)


def test_the_first_block_creates_the_list(petgate: Any, name: str, waf_calls: list[str]) -> None:
    assert run(petgate, waf_calls, "waf", "block", "--list", name, "--cidr", "192.0.2.1") == [
        "ListIPSets", "CreateIPSet", "CreateIPSet", "ListWebACLs", "CreateWebACL", "GetIPSet", "UpdateIPSet"]


def test_block_and_unblock_touch_only_the_set_they_change(petgate: Any, name: str, waf_calls: list[str]) -> None:
    petgate("waf", "block", "--list", name, "--cidr", "192.0.2.1")
    assert run(petgate, waf_calls, "waf", "block", "--list", name, "--cidr", "192.0.2.2") == [
        "ListIPSets", "GetIPSet", "UpdateIPSet"]
    assert run(petgate, waf_calls, "waf", "block", "--list", name, "--cidr", "2001:db8::1") == [
        "ListIPSets", "GetIPSet", "UpdateIPSet"]
    assert run(petgate, waf_calls, "waf", "unblock", "--list", name, "--cidr", "192.0.2.2") == [
        "ListIPSets", "GetIPSet", "UpdateIPSet"]


def test_a_block_already_there_only_reads(petgate: Any, name: str, waf_calls: list[str]) -> None:
    petgate("waf", "block", "--list", name, "--cidr", "192.0.2.0/24")
    assert run(petgate, waf_calls, "waf", "block", "--list", name, "--cidr", "192.0.2.7") == ["ListIPSets", "GetIPSet"]
    assert run(petgate, waf_calls, "waf", "unblock", "--list", name, "--cidr", "198.51.100.7") == ["ListIPSets", "GetIPSet"]


def test_a_block_that_ends(petgate: Any, name: str, waf_calls: list[str]) -> None:
    petgate("waf", "block", "--list", name, "--cidr", "192.0.2.1")
    until = ("--until", "2098-06-01T12:00:00Z")
    # what is blocked for good is read (an address there is not added), then the new group's set and rule
    assert run(petgate, waf_calls, "waf", "block", "--list", name, "--cidr", "192.0.2.9", *until) == [
        "ListIPSets", "GetIPSet", "ListWebACLs", "CreateIPSet", "GetWebACL", "UpdateWebACL", "GetIPSet", "UpdateIPSet"]
    assert run(petgate, waf_calls, "waf", "block", "--list", name, "--cidr", "192.0.2.1", *until) == [
        "ListIPSets", "GetIPSet"], "blocked for good already: only reads"
    assert run(petgate, waf_calls, "waf", "block", "--list", name, "--cidr", "192.0.2.9", *until) == [
        "ListIPSets", "GetIPSet", "GetIPSet"], "blocked as long already: only reads"
    assert run(petgate, waf_calls, "waf", "block", "--list", name, "--cidr", "192.0.2.10", *until) == [
        "ListIPSets", "GetIPSet", "GetIPSet", "ListWebACLs", "GetWebACL", "UpdateIPSet"], "the rule is there; one read a set"


def test_sync_reads_each_set_once(petgate: Any, name: str, waf_calls: list[str], tmp_path: Any) -> None:
    feed = tmp_path / "deny.txt"
    feed.write_text("".join(f"192.0.2.{n * 2}\n" for n in range(1, 21)) + "2001:db8::1\n")
    petgate("waf", "sync", "--list", name, "--file", str(feed))
    feed.write_text("".join(f"192.0.2.{n * 2}\n" for n in range(1, 22)) + "2001:db8::1\n")
    assert run(petgate, waf_calls, "waf", "sync", "--list", name, "--file", str(feed)) == [
        "ListIPSets", "GetIPSet", "GetIPSet", "UpdateIPSet"], "the read that decided is the write's LockToken"
    assert run(petgate, waf_calls, "waf", "sync", "--list", name, "--file", str(feed)) == [
        "ListIPSets", "GetIPSet", "GetIPSet"]


def test_prune_with_nothing_due_lists_only(petgate: Any, name: str, waf_calls: list[str]) -> None:
    petgate("waf", "block", "--list", name, "--cidr", "192.0.2.1", "--for", "1h")
    assert run(petgate, waf_calls, "waf", "prune", "--list", name) == ["ListIPSets"]


def test_attach_and_detach(petgate: Any, name: str, deployed: str, waf_calls: list[str]) -> None:
    petgate("waf", "block", "--list", name, "--cidr", "192.0.2.1")
    attach = ("waf", "attach", "--api", deployed, "--list", name)
    assert run(petgate, waf_calls, *attach) == ["GetWebACLForResource", "ListWebACLs", "AssociateWebACL"]
    assert run(petgate, waf_calls, *attach) == ["GetWebACLForResource"], "attached already: nothing to do"
    assert run(petgate, waf_calls, "waf", "detach", "--api", deployed, "--list", name) == [
        "GetWebACLForResource", "DisassociateWebACL"]


def test_attach_creates_a_list_on_first_use(petgate: Any, name: str, deployed: str, waf_calls: list[str]) -> None:
    assert run(petgate, waf_calls, "waf", "attach", "--api", deployed, "--list", name) == [
        "GetWebACLForResource", "ListWebACLs", "ListIPSets", "CreateIPSet", "CreateIPSet", "CreateWebACL", "AssociateWebACL"]


def test_a_refused_attach_only_reads(petgate: Any, name: str, deployed: str, waf_calls: list[str]) -> None:
    petgate("waf", "block", "--list", name, "--cidr", "192.0.2.1", "--cidr", "2001:db8::1")
    petgate("waf", "attach", "--api", deployed, "--list", name)
    waf_calls.clear()
    refused = petgate("waf", "attach", "--api", deployed, "--list", f"{name}x")
    assert refused.exit_code == 2 and "2 address(es)" in refused.stderr
    assert waf_calls == ["GetWebACLForResource", "GetIPSet", "GetIPSet"], "the count of the list there, nothing written"
