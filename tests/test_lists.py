"""Block lists as data: list files and stdin (lists.py and every command's --file)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

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
