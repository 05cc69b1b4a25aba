"""Block lists as data: list files and stdin (lists.py and every command's --file)."""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from petgate import lists
from petgate import policy as policies

LIST = """\
# abusers seen on 2026-11-30
192.0.2.7            # a bare address is a /32
198.51.100.0/24

2001:db8::1          # and an IPv6 one a /128
203.0.113.9/24       # host bits: cleared
192.0.2.7            # twice: once
"""


def test_parse_comments_blank_lines_and_bare_addresses() -> None:
    assert lists.parse(LIST) == ["192.0.2.7/32", "198.51.100.0/24", "2001:db8::1/128", "203.0.113.0/24"]


@pytest.mark.parametrize(("text", "line"), [("192.0.2.1\nnot-an-ip\n", 2), ("# c\n\n10.0.0.0/33\n", 3), ("1.2.3.4 5.6.7.8", 1)])
def test_a_bad_line_is_named(text: str, line: int) -> None:
    with pytest.raises(lists.ListFileError, match=f"abusers.txt, line {line}: .* is not an IP address or CIDR"):
        lists.parse(text, "abusers.txt")


def stored(apigw: Any, api_id: str) -> Any:
    return policies.decode_stored(apigw.get_rest_api(restApiId=api_id).get("policy"))


def test_block_and_unblock_from_a_file(petgate: Any, api_id: str, apigw: Any, tmp_path: Path) -> None:
    listed = tmp_path / "abusers.txt"
    listed.write_text(LIST)
    result = petgate("-o", "json", "block-my-ip", "--api", api_id, "--file", str(listed), "--no-deploy")
    assert result.exit_code == 0, result.stderr
    assert sorted(policies.blocked_cidrs(stored(apigw, api_id))) == sorted(
        ["192.0.2.7/32", "198.51.100.0/24", "2001:db8::1/128", "203.0.113.0/24"])
    lifted = petgate("unblock", "--api", api_id, "--file", str(listed), "--no-deploy")
    assert lifted.exit_code == 0 and policies.blocked_cidrs(stored(apigw, api_id)) == []


def test_a_bad_line_writes_nothing(petgate: Any, api_id: str, apigw: Any, tmp_path: Path) -> None:
    listed = tmp_path / "bad.txt"
    listed.write_text("192.0.2.1\n192.0.2.2\nfoo.example.com\n")
    result = petgate("block-my-ip", "--api", api_id, "--file", str(listed))
    assert result.exit_code == 2
    assert f"error: {listed}, line 3: 'foo.example.com' is not an IP address or CIDR (nothing was written)" in result.stderr
    assert stored(apigw, api_id) is None
    missing = petgate("block-my-ip", "--api", api_id, "--file", str(tmp_path / "nope.txt"))
    assert missing.exit_code == 2 and "cannot read list file" in missing.stderr
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing yet\n")
    assert petgate("block-my-ip", "--api", api_id, "--file", str(empty)).exit_code == 2
    assert stored(apigw, api_id) is None


def petgate_with_stdin(text: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "petgate", *args], input=text, capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=60)


def test_stdin_for_the_policy_waf_and_allow_only(api_id: str, apigw: Any, local_env: str) -> None:
    env = {"PETGATE_LOCAL": "1", "PETGATE_LOCAL_URL": local_env}
    blocked = petgate_with_stdin("192.0.2.44\n# c\n", "block-my-ip", "--api", api_id, "--file", "-", "--no-deploy", env=env)
    assert blocked.returncode == 0, blocked.stderr
    assert policies.blocked_cidrs(stored(apigw, api_id)) == ["192.0.2.44/32"]
    waf = petgate_with_stdin("198.18.0.0/15\n2001:db8:9::/48\n", "-o", "json", "waf", "block", "--list", "liststest",
                             "--file", "-", env=env)
    assert waf.returncode == 0, waf.stderr
    assert sorted(json.loads(waf.stdout)["added"]) == ["198.18.0.0/15", "2001:db8:9::/48"]
    assert petgate_with_stdin("", "waf", "delete", "--list", "liststest", env=env).returncode == 0
    only = petgate_with_stdin("127.0.0.1\n198.51.100.0/24\n", "-o", "json", "allow-only", "--api", api_id, "--file", "-",
                              "--no-deploy", "--force", env=env)
    assert only.returncode == 0, only.stderr
    assert sorted(json.loads(only.stdout)["added"]) == ["127.0.0.1/32", "198.51.100.0/24"]


def test_sync_diff_gate_dry_run_and_idempotence(petgate: Any, api_id: str, apigw: Any, tmp_path: Path) -> None:
    user = {"Sid": "Mine", "Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*"}
    apigw.update_rest_api(restApiId=api_id, patchOperations=[{"op": "replace", "path": "/policy",
                                                              "value": json.dumps({"Version": "2012-10-17", "Statement": [user]})}])
    feed = tmp_path / "feed.txt"
    feed.write_text("".join(f"192.0.2.{n * 2}\n" for n in range(1, 21)))  # 20 scattered /32s
    first = petgate("-o", "json", "sync", "--api", api_id, "--file", str(feed), "--no-deploy")
    assert first.exit_code == 0, first.stderr  # an empty list has nothing to lose: no gate
    assert len(first.json["added"]) == 20 and first.json["removed"] == []
    assert "Mine" in [s.get("Sid") for s in stored(apigw, api_id)["Statement"]]
    again = petgate("-o", "json", "sync", "--api", api_id, "--file", str(feed), "--no-deploy")
    assert again.exit_code == 0 and again.json["added"] == [] and again.json["removed"] == [] and again.json["changed"] is False
    feed.write_text("".join(f"192.0.2.{n * 2}\n" for n in range(1, 20)) + "198.51.100.7\n")  # 1 out, 1 in: 10%
    small = petgate("-o", "json", "sync", "--api", api_id, "--file", str(feed), "--no-deploy", "--dry-run")
    assert small.exit_code == 0 and small.json["added"] == ["198.51.100.7/32"] and small.json["removed"] == ["192.0.2.40/32"]
    assert "192.0.2.40/32" in policies.blocked_cidrs(stored(apigw, api_id)), "a dry run changes nothing"
    feed.write_text("# the feed broke\n192.0.2.2\n")  # would remove 19 of 20
    wiped = petgate("sync", "--api", api_id, "--file", str(feed), "--no-deploy")
    assert wiped.exit_code == 2 and "more than --max-change 10%; nothing was written" in wiped.stderr
    as_json = petgate("-o", "json", "sync", "--api", api_id, "--file", str(feed), "--no-deploy")
    assert as_json.exit_code == 2 and as_json.json["error"]["code"] == "ChangeGateError", "a monitor can tell it apart"
    assert len(policies.blocked_cidrs(stored(apigw, api_id))) == 20
    forced = petgate("-o", "json", "sync", "--api", api_id, "--file", str(feed), "--no-deploy", "--force")
    assert forced.exit_code == 0 and policies.blocked_cidrs(stored(apigw, api_id)) == ["192.0.2.2/32"]


def test_waf_sync_of_ten_thousand_lines(petgate: Any, tmp_path: Path) -> None:
    feed = tmp_path / "feed.txt"
    import ipaddress

    # 10,000 even addresses: none adjacent, so none merge
    feed.write_text("".join(f"{ipaddress.IPv4Address(0x0A000000 + 2 * n)}\n" for n in range(10_000)))
    result = petgate("-o", "json", "waf", "sync", "--file", str(feed), "--list", "syncten")
    try:
        assert result.exit_code == 0, result.stderr[-500:]
        assert result.json["listed"] == 10_000 and len(result.json["added"]) == 10_000
        shown = petgate("-o", "json", "waf", "show", "--list", "syncten").json
        assert shown["addresses"] == 10_000
        feed.write_text("10.0.0.0/32\n")
        gated = petgate("waf", "sync", "--file", str(feed), "--list", "syncten")
        assert gated.exit_code == 2 and "nothing was written" in gated.stderr
    finally:
        petgate("waf", "delete", "--list", "syncten")


def test_waf_sync_reads_stdin_once(local_env: str) -> None:
    env = {"PETGATE_LOCAL": "1", "PETGATE_LOCAL_URL": local_env}
    synced = petgate_with_stdin("192.0.2.80\n2001:db8:80::/48\n", "-o", "json", "waf", "sync", "--file", "-",
                                "--list", "syncstdin", env=env)
    try:
        assert synced.returncode == 0, synced.stderr
        assert sorted(json.loads(synced.stdout)["added"]) == ["192.0.2.80/32", "2001:db8:80::/48"]
    finally:
        petgate_with_stdin("", "waf", "delete", "--list", "syncstdin", env=env)


# --- BOMs and IPv4-mapped addresses (issue 16) -----------------------------------------------


def test_a_leading_byte_order_mark_is_not_part_of_line_one() -> None:
    assert lists.parse("\ufeff192.0.2.7\n198.51.100.0/24\n", "bom.txt") == ["192.0.2.7/32", "198.51.100.0/24"]
    assert lists.parse("\ufeff# a comment first\n192.0.2.7\n") == ["192.0.2.7/32"]
    with pytest.raises(lists.ListFileError, match=r"line 2: '\\ufeff192.0.2.8' is not an IP address"):
        lists.parse("192.0.2.7\n\ufeff192.0.2.8\n")  # only a mark at the start is one


@pytest.mark.parametrize(("line", "network"), [
    ("::ffff:127.0.0.61", "127.0.0.61/32"),
    ("::ffff:7f00:3d", "127.0.0.61/32"),
    ("::ffff:127.0.0.61/128", "127.0.0.61/32"),
    ("::ffff:192.0.2.0/120", "192.0.2.0/24"),
    ("::FFFF:192.0.2.77/120", "192.0.2.0/24"),
    ("::ffff:0:0/96", "0.0.0.0/0"),
])
def test_ipv4_mapped_lines_are_their_ipv4_address(line: str, network: str) -> None:
    assert lists.parse(f"{line}\n") == [network]
    assert lists.parse(f"{line}\n{network}\n") == [network], "one entry, however it is written"


def test_an_ipv4_mapped_prefix_shorter_than_96_is_refused_naming_the_line() -> None:
    with pytest.raises(lists.ListFileError, match=r"feed.txt, line 2: ::ffff:192.0.2.0/80 is an IPv4-mapped address "
                                                  r"\(192.0.2.0\) with a prefix shorter than /96.*\(nothing was written\)"):
        lists.parse("192.0.2.1\n::ffff:192.0.2.0/80\n", "feed.txt")


# --- diff and the change gate: addresses, not entries ----------------------------------------


@pytest.mark.parametrize(("current", "desired", "added", "removed"), [
    ([], [], [], []),
    ([], ["192.0.2.0/24"], ["192.0.2.0/24"], []),
    (["192.0.2.0/24"], [], [], ["192.0.2.0/24"]),
    (["192.0.2.1/32", "192.0.2.2/32"], ["192.0.2.2/32", "192.0.2.3/32"], ["192.0.2.3/32"], ["192.0.2.1/32"]),
    (["192.0.2.0/24"], ["192.0.2.0/25", "192.0.2.128/25"], ["192.0.2.0/25", "192.0.2.128/25"], ["192.0.2.0/24"]),
    (["2001:db8::/64", "192.0.2.1/32"], ["192.0.2.1/32", "2001:db8::/64"], [], []),
])
def test_diff_is_by_entry_in_order(current: list[str], desired: list[str], added: list[str], removed: list[str]) -> None:
    assert lists.diff(current, desired) == (added, removed)


def forty() -> list[str]:
    """40 consecutive /32s (10.0.0.1 to 10.0.0.40), as a sync stores them: 7 collapsed entries."""
    return policies.collapse(f"10.0.0.{i}" for i in range(1, 41))


def gate(current: list[str], desired: list[str], pct: float = 10) -> str | None:
    return lists.change_gate(current, *lists.diff(current, desired), pct)


def test_forty_consecutive_addresses_are_forty_not_seven_entries() -> None:
    current = forty()
    assert len(current) == 7
    # 3 of the 40 addresses change (two go, one comes): 7.5%, though most of the 7 entries change
    desired = policies.collapse([f"10.0.0.{i}" for i in range(1, 41) if i not in (20, 33)] + ["10.0.0.50"])
    added, removed = lists.diff(current, desired)
    assert len(added) + len(removed) > 3
    assert lists.changed_addresses(current, added, removed) == {4: (3, 40), 6: (0, 0)}
    assert lists.change_gate(current, added, removed, 10) is None
    assert lists.change_gate(current, added, removed, 7.5) is None, "at the limit is not past it"
    refusal = lists.change_gate(current, added, removed, 7)
    assert refusal == ("this sync would add or remove 3 IPv4 addresses against the 40 listed now (7.5%), counting "
                       "addresses and each IP version on its own, more than --max-change 7%; nothing was written")


@pytest.mark.parametrize(("current", "desired", "pct", "verdict"), [
    # a /16 is 65,536 addresses, not one entry
    (["192.0.2.1/32"] * 1 + [f"198.51.100.{i}/32" for i in range(0, 20, 2)], None, 10, "65,536 IPv4 addresses"),
    # removing 19 of 20 scattered addresses
    ([f"192.0.2.{2 * i}/32" for i in range(1, 21)], ["192.0.2.2/32"], 10, "19 IPv4 addresses against the 20"),
    # 2 of 20 (one out, one in) is 10%: passes at 10
    ([f"192.0.2.{2 * i}/32" for i in range(1, 21)],
     [f"192.0.2.{2 * i}/32" for i in range(1, 20)] + ["198.51.100.7/32"], 10, None),
    # an empty list has nothing to lose
    ([], ["0.0.0.0/0", "::/0"], 10, None),
    # nor has a version with nothing listed: the first IPv6 entries of an IPv4 list pass
    ([f"192.0.2.{i}/32" for i in range(20)], [f"192.0.2.{i}/32" for i in range(20)] + ["2001:db8::/32"], 10, None),
    # wiping every IPv6 address is 100% of IPv6, however many IPv4 addresses stay
    (["10.0.0.0/8", "2001:db8::1/128"], ["10.0.0.0/8"], 10, "1 IPv6 address against the 1 listed now (100%)"),
    # each version against its own: a huge IPv6 list does not drown 3 of 20 IPv4 addresses...
    (["2001:db8::/48", *[f"192.0.2.{i}/32" for i in range(20)]],
     ["2001:db8::/48", *[f"192.0.2.{i}/32" for i in range(17)]], 10, "3 IPv4 addresses against the 20 listed now (15%)"),
    # ...nor a big IPv4 list 2 of 4 IPv6 addresses
    (["10.0.0.0/8", "2001:db8::/126"], ["10.0.0.0/8", "2001:db8::/127"], 10,
     "2 IPv6 addresses against the 4 listed now (50%)"),
    # and a /64 added to a /48 is a small share of IPv6, whatever IPv4 holds
    (["2001:db8::/48", "192.0.2.1/32"], ["2001:db8::/48", "2001:db9::/64", "192.0.2.1/32"], 10, None),
    (["2001:db8::/48", "192.0.2.1/32"], ["2001:db8::/48", "2001:db9::/64", "192.0.2.1/32"], 0.001,
     "18,446,744,073,709,551,616 IPv6 addresses against the 1,208,925,819,614,629,174,706,176 listed now (0.0015%)"),
    # both versions past the limit: both named
    (["192.0.2.0/24", "2001:db8::/64"], ["2001:db8::/65"], 10,
     "256 IPv4 addresses against the 256 listed now (100%) and 9,223,372,036,854,775,808 IPv6 addresses"),
    # --max-change 0: any change is refused, none passes
    (["192.0.2.0/24"], ["192.0.2.0/24", "192.0.2.1/32"], 0, None),
    (["192.0.2.0/24"], ["192.0.2.0/25"], 0, "128 IPv4 addresses against the 256 listed now (50%)"),
    # a split of a range into halves changes no address
    (["192.0.2.0/24"], ["192.0.2.0/25", "192.0.2.128/25"], 0, None),
])
def test_the_change_gate_counts_addresses_per_ip_version(current: list[str], desired: list[str] | None, pct: float,
                                                         verdict: str | None) -> None:
    desired = [*current, "10.20.0.0/16"] if desired is None else desired
    refusal = gate(current, desired, pct)
    if verdict is None:
        assert refusal is None
    else:
        assert refusal is not None and verdict in refusal, refusal
        assert refusal.endswith(f"more than --max-change {pct:g}%; nothing was written")


v4_networks = st.lists(st.tuples(st.integers(0, 255), st.integers(24, 32)).map(
    lambda t: str(ipaddress.ip_network(f"10.0.{t[0]}.0/{t[1]}", strict=False))), max_size=12)
v6_networks = st.lists(st.tuples(st.integers(0, 255), st.integers(56, 64)).map(
    lambda t: str(ipaddress.ip_network(f"2001:db8:0:{t[0]:x}00::/{t[1]}", strict=False))), max_size=6)


def addresses(cidrs: list[str], version: int) -> set[int]:
    found: set[int] = set()
    for cidr in cidrs:
        network = ipaddress.ip_network(cidr)
        if network.version == version:
            found.update(range(int(network.network_address), int(network.broadcast_address) + 1))
    return found


@settings(max_examples=150, deadline=None)
@given(current_v4=v4_networks, desired_v4=v4_networks, v6=v6_networks, pct=st.floats(0, 100))
def test_the_gate_agrees_with_counting_every_address(current_v4: list[str], desired_v4: list[str], v6: list[str],
                                                     pct: float) -> None:
    # IPv4 by brute force (address sets); the same IPv6 on both sides changes nothing of IPv6
    current, desired = policies.collapse(current_v4 + v6), policies.collapse(desired_v4 + v6)
    added, removed = lists.diff(current, desired)
    before, after = addresses(current, 4), addresses(desired, 4)
    changed = len(before ^ after)
    counted = lists.changed_addresses(current, added, removed)
    assert counted[4] == (changed, len(before))
    assert counted[6][0] == 0
    refused = lists.change_gate(current, added, removed, pct) is not None
    assert refused == bool(current and before and 100 * changed > Fraction(pct) * len(before))
    # however the same addresses are split into entries, the verdict is the same
    split = [str(n) for c in current for n in ipaddress.ip_network(c).subnets(new_prefix=max(28, ipaddress.ip_network(c).prefixlen))
             if ipaddress.ip_network(c).version == 4] + [c for c in current if ":" in c]
    assert (lists.change_gate(split, *lists.diff(split, desired), pct) is not None) == refused


# --- the gate through the CLI ----------------------------------------------------------------


def test_sync_of_forty_consecutive_addresses_with_three_changed_passes(petgate: Any, api_id: str, apigw: Any,
                                                                       tmp_path: Path) -> None:
    feed = tmp_path / "feed.txt"
    feed.write_text("".join(f"10.0.0.{i}\n" for i in range(1, 41)))
    assert petgate("sync", "--api", api_id, "--file", str(feed), "--no-deploy").exit_code == 0
    assert len(policies.permanent_cidrs(stored(apigw, api_id))) == 7
    feed.write_text("".join(f"10.0.0.{i}\n" for i in range(1, 41) if i not in (20, 33)) + "10.0.0.50\n")
    synced = petgate("-o", "json", "sync", "--api", api_id, "--file", str(feed), "--no-deploy")  # the default 10%
    assert synced.exit_code == 0, synced.stderr
    assert synced.json["max_change"] == 10.0
    blocked = set(policies.collapse(policies.permanent_cidrs(stored(apigw, api_id))))
    assert blocked == set(policies.collapse(f"10.0.0.{i}" for i in [*range(1, 41), 50] if i not in (20, 33)))


def test_sync_adding_a_slash_16_to_a_small_list_is_refused(petgate: Any, api_id: str, apigw: Any, tmp_path: Path) -> None:
    from tests.test_errors import assert_one_clear_line

    feed = tmp_path / "feed.txt"
    small = "".join(f"192.0.2.{2 * i}\n" for i in range(1, 21))
    feed.write_text(small)
    assert petgate("sync", "--api", api_id, "--file", str(feed), "--no-deploy").exit_code == 0
    before = stored(apigw, api_id)
    feed.write_text(small + "10.20.0.0/16\n")  # one entry more, 65,536 addresses more
    refused = petgate("sync", "--api", api_id, "--file", str(feed), "--no-deploy")
    assert_one_clear_line(refused, 2, "this sync would add or remove 65,536 IPv4 addresses against the 20 listed now "
                                      "(327,680%), counting addresses and each IP version on its own, more than "
                                      "--max-change 10%; nothing was written")
    assert stored(apigw, api_id) == before
    feed.write_text(small)
    try:  # the WAF list's sync: the same gate
        assert petgate("waf", "sync", "--file", str(feed), "--list", "gateslash16").exit_code == 0
        feed.write_text(small + "10.20.0.0/16\n")
        assert_one_clear_line(petgate("waf", "sync", "--file", str(feed), "--list", "gateslash16"), 2,
                              "this sync would add or remove 65,536 IPv4 addresses against the 20 listed now")
    finally:
        petgate("waf", "delete", "--list", "gateslash16")


def test_sync_help_says_addresses_are_counted(petgate: Any) -> None:
    for command in (("sync",), ("waf", "sync")):
        shown = " ".join(petgate(*command, "--help").stdout.split())
        assert "more than PCT% of the listed addresses would be added or removed. Addresses are counted, not entries " \
               "(a /16 is 65,536), and IPv4 and IPv6 each against the addresses of its own version listed now." in shown


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf", "-1", "100.5", "101"])
def test_a_max_change_that_is_not_a_percentage_is_refused(petgate: Any, api_id: str, apigw: Any, tmp_path: Path,
                                                          value: str) -> None:
    feed = tmp_path / "feed.txt"
    feed.write_text("192.0.2.1\n")
    for command in (("sync", "--api", api_id), ("waf", "sync", "--list", "maxchange")):
        result = petgate(*command, "--file", str(feed), "--max-change", value)
        assert result.exit_code == 2, result.stderr
        assert "Traceback" not in result.stderr
        errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
        assert len(errors) == 1 and errors[0].startswith("Error: Invalid value for '--max-change':"), result.stderr
    assert stored(apigw, api_id) is None
