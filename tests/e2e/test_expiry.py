"""Blocks that end, end to end against petgate local: the end is kept in AWS with the list
(a policy statement's Sid, a WAF IP set's name), so another machine (another state dir, no
journal in common) sees it and prunes it; pruning is idempotent and redeploys only when
something went."""

from __future__ import annotations

from typing import Any

import pytest

from petgate import policy as policies
from tests.e2e.test_waf import client_from, wafv2  # noqa: F401  (wafv2: a fixture)

LATER = "2099-01-01T00:00:00Z"


def other_machine(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """From here on, petgate runs as if on another machine: a state dir of its own."""
    monkeypatch.setenv("PETGATE_STATE_DIR", str(tmp_path / "other-machine"))


def test_a_block_for_a_while_is_pruned_from_another_machine(
    petgate: Any, deployed: str, local_url: str, apigw: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    url = f"{local_url}/restapis/{deployed}/test/_user_request_/"
    blocked = petgate("-o", "json", "block-my-ip", "--api", deployed, "--cidr", "127.0.0.41", "--for", "1h")
    assert blocked.exit_code == 0, blocked.stderr
    end = blocked.json["expiring"][0]["expires"]  # an hour's block may end up to 6 minutes later (its group)
    assert blocked.json["until"] and end >= blocked.json["until"] and blocked.json["expiring"] == [
        {"cidr": "127.0.0.41/32", "expires": end, "expired": False}]
    sid = next(s["Sid"] for s in blocked.json["policy"]["Statement"] if s["Sid"] != policies.ALLOW_SID)
    assert sid == "PetgateDenyUntil" + end.replace("-", "").replace(":", "")
    assert client_from("127.0.0.41").get(url).status_code == 403
    assert client_from("127.0.0.42").get(url).status_code == 200

    other_machine(monkeypatch, tmp_path)
    early = petgate("-o", "json", "prune", "--api", deployed)  # an hour early, by this machine's clock
    assert early.exit_code == 0 and early.json["pruned"] == [] and early.json["changed"] is False
    # the hour has passed: on this clock (--now), not on the wall clock, so the test waits on nothing
    pruned = petgate("-o", "json", "prune", "--api", deployed, "--now", end)
    assert pruned.exit_code == 0, pruned.stderr
    assert pruned.json["pruned"] == [{"cidr": "127.0.0.41/32", "expired": end}]
    assert pruned.json["deployed"] is True and pruned.json["policy"] is None
    assert client_from("127.0.0.41").get(url).status_code == 200
    deployment = apigw.get_stage(restApiId=deployed, stageName="test")["deploymentId"]
    again = petgate("-o", "json", "prune", "--api", deployed)
    assert again.exit_code == 0 and again.json["pruned"] == [] and again.json["changed"] is False
    assert apigw.get_stage(restApiId=deployed, stageName="test")["deploymentId"] == deployment, "nothing to prune: no redeploy"


def test_show_and_status_say_when_blocks_end(petgate: Any, deployed: str) -> None:
    assert petgate("block-my-ip", "--api", deployed, "--cidr", "192.0.2.1", "--until", "2098-06-01T12:00:00Z").exit_code == 0
    assert petgate("block-my-ip", "--api", deployed, "--cidr", "192.0.2.2").exit_code == 0
    shown = petgate("policy", "show", "--api", deployed)
    assert "denies everyone from 192.0.2.1/32 until 2098-06-01T12:00:00Z [PetgateDenyUntil20980601T120000Z]" in shown.stdout
    assert "denies everyone from 192.0.2.2/32 [PetgateDenyIps]" in shown.stdout
    status = petgate("-o", "json", "status", "--api", deployed).json
    assert status["expiring"] == [{"cidr": "192.0.2.1/32", "expires": "2098-06-01T12:00:00Z", "expired": False}]
    assert status["blocked"] == ["192.0.2.1/32", "192.0.2.2/32"]
    preview = petgate("-o", "json", "prune", "--api", deployed, "--now", "2098-06-01T12:00:00Z", "--dry-run")
    assert preview.json["pruned"] == [{"cidr": "192.0.2.1/32", "expired": "2098-06-01T12:00:00Z"}]
    assert preview.json["dry_run"] is True and petgate("-o", "json", "status", "--api", deployed).json["expiring"]


@pytest.mark.parametrize(("args", "message"), [
    (("--for", "5x"), "'5x' is not a duration: use a number and s, m, h or d"),
    (("--for", "1h", "--until", LATER), "--for and --until do not go together"),
    (("--until", "2020-01-01T00:00:00Z"), "--until 2020-01-01T00:00:00Z has already passed"),
    (("--until", "next tuesday"), "'next tuesday' is not an ISO 8601 time"),
])
def test_bad_expiry_is_refused_and_nothing_written(petgate: Any, api_id: str, apigw: Any, args: tuple[str, ...], message: str) -> None:
    result = petgate("block-my-ip", "--api", api_id, "--cidr", "192.0.2.1", *args)
    assert result.exit_code == 2 and message in result.stderr
    assert "policy" not in apigw.get_rest_api(restApiId=api_id)


def test_sync_leaves_blocks_that_end_alone(petgate: Any, api_id: str, tmp_path: Any) -> None:
    assert petgate("block-my-ip", "--api", api_id, "--cidr", "198.51.100.9", "--for", "24h", "--no-deploy").exit_code == 0
    feed = tmp_path / "feed.txt"
    feed.write_text("192.0.2.1\n192.0.2.2\n")
    synced = petgate("-o", "json", "sync", "--api", api_id, "--file", str(feed), "--no-deploy")
    assert synced.exit_code == 0, synced.stderr
    assert synced.json["added"] == ["192.0.2.1/32", "192.0.2.2/32"] and synced.json["removed"] == []
    policy = synced.json["policy"]
    assert policies.permanent_cidrs(policy) == ["192.0.2.1/32", "192.0.2.2/32"]
    assert [c for c, _ in policies.expiring(policy)] == ["198.51.100.9/32"], "the 24h block is not the feed's to remove"


def test_waf_blocks_that_end_have_their_own_ip_set_and_are_pruned(
    petgate: Any, deployed: str, waf_list: str, local_url: str, wafv2: Any, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
    tmp_path: Any,
) -> None:
    url = f"{local_url}/restapis/{deployed}/test/_user_request_/"
    assert petgate("waf", "attach", "--api", deployed, "--list", waf_list).exit_code == 0
    blocked = petgate("-o", "json", "waf", "block", "--cidr", "127.0.0.43", "--until", "2098-06-01T12:00:00Z", "--list", waf_list)
    assert blocked.exit_code == 0, blocked.stderr
    assert blocked.json["added"] == ["127.0.0.43/32"] and blocked.json["until"] == "2098-06-01T12:00:00Z"
    assert petgate("waf", "block", "--cidr", "127.0.0.44", "--list", waf_list).exit_code == 0
    group = f"petgate-{waf_list}-ipv4-until-20980601T120000Z"
    shown = petgate("-o", "json", "waf", "show", "--list", waf_list).json
    assert {s["name"]: s["expires"] for s in shown["ip_sets"]}[group] == "2098-06-01T12:00:00Z"
    assert shown["expiring"] == [{"cidr": "127.0.0.43/32", "expires": "2098-06-01T12:00:00Z", "expired": False}]
    assert "until 2098-06-01T12:00:00Z" in petgate("waf", "show", "--list", waf_list).stdout
    assert client_from("127.0.0.43").get(url).status_code == 403, "enforced through its own rule"

    other_machine(monkeypatch, tmp_path)
    early = petgate("-o", "json", "waf", "prune", "--list", waf_list, "--now", "2098-06-01T11:59:59Z")
    assert early.exit_code == 0 and early.json["pruned"] == [] and early.json["changed"] is False
    pruned = petgate("-o", "json", "waf", "prune", "--list", waf_list, "--now", "2098-06-01T12:00:00Z")
    assert pruned.exit_code == 0, pruned.stderr
    assert pruned.json["pruned"] == [{"cidr": "127.0.0.43/32", "expired": "2098-06-01T12:00:00Z"}]
    assert pruned.json["ip_sets_deleted"] == [group]
    assert f"waf prune: 1 expired block(s) lifted from WAF list {waf_list}" in petgate("history").stdout
    names = [s["Name"] for s in wafv2.list_ip_sets(Scope="REGIONAL")["IPSets"]]
    assert group not in names and f"petgate-{waf_list}-ipv4" in names
    acl = next(a for a in wafv2.list_web_acls(Scope="REGIONAL")["WebACLs"] if a["Name"] == f"petgate-{waf_list}")
    rules = wafv2.get_web_acl(Name=acl["Name"], Scope="REGIONAL", Id=acl["Id"])["WebACL"]["Rules"]
    assert [r["Name"] for r in rules] == [f"petgate-{waf_list}-block-ipv4", f"petgate-{waf_list}-block-ipv6"]
    assert client_from("127.0.0.43").get(url).status_code == 200
    assert client_from("127.0.0.44").get(url).status_code == 403, "the permanent block stays"
    again = petgate("-o", "json", "waf", "prune", "--list", waf_list, "--now", "2098-06-01T12:00:00Z")
    assert again.json["pruned"] == [] and again.json["changed"] is False


def test_writers_on_several_machines_blocking_for_a_day_on_a_new_list_lose_nothing(
    petgate: Any, waf_list: str, wafv2: Any, tmp_path: Any  # noqa: F811
) -> None:
    import os
    import subprocess
    import sys

    cidrs = [f"198.51.100.{n}/32" for n in range(20, 26, 2)]  # none adjacent
    processes = []
    for index, cidr in enumerate(cidrs):  # the list does not exist yet: they race to create it too
        env = {**os.environ, "PETGATE_LOCAL": "1", "PETGATE_STATE_DIR": str(tmp_path / f"machine-{index}")}
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "petgate", "waf", "block", "--cidr", cidr, "--for", "24h", "--list", waf_list],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env))
    results = [(p.wait(timeout=180), p.communicate()[1]) for p in processes]
    assert all(code == 0 for code, _ in results), results
    shown = petgate("-o", "json", "waf", "show", "--list", waf_list).json
    assert sorted(e["cidr"] for e in shown["expiring"]) == cidrs
    groups = [s for s in shown["ip_sets"] if s["expires"]]
    assert 1 <= len(groups) <= 2, "one group per hour (two if the runs straddled a full hour)"
    names = [s["Name"] for s in wafv2.list_ip_sets(Scope="REGIONAL")["IPSets"]]
    assert len([n for n in names if n.startswith(f"petgate-{waf_list}-ipv4")]) == 1 + len(groups), "no set made twice"
    acl = next(a for a in wafv2.list_web_acls(Scope="REGIONAL")["WebACLs"] if a["Name"] == f"petgate-{waf_list}")
    rules = wafv2.get_web_acl(Name=acl["Name"], Scope="REGIONAL", Id=acl["Id"])["WebACL"]["Rules"]
    referenced = {r["Statement"]["IPSetReferenceStatement"]["ARN"] for r in rules}
    assert {g["arn"] for g in groups} <= referenced, "every group has its Block rule"
    assert len({r["Priority"] for r in rules}) == len(rules) == 2 + len(groups)


def test_undo_takes_back_a_waf_block_that_ends(petgate: Any, waf_list: str) -> None:  # noqa: F811
    blocked = petgate("-o", "json", "waf", "block", "--cidr", "192.0.2.77", "--for", "1h", "--list", waf_list)
    assert blocked.exit_code == 0, blocked.stderr
    undone = petgate("-o", "json", "undo", blocked.json["journal_id"])
    assert undone.exit_code == 0, undone.stderr
    assert list(undone.json["restored"].values()) == [[]]
    assert petgate("-o", "json", "waf", "show", "--list", waf_list).json["expiring"] == []


def test_machines_pruning_a_waf_list_at_once_all_succeed(petgate: Any, waf_list: str, wafv2: Any, tmp_path: Any) -> None:  # noqa: F811
    import os
    import subprocess
    import sys

    for n in range(3):
        assert petgate("waf", "block", "--cidr", f"192.0.2.{60 + 2 * n}", "--until", f"2098-06-0{n + 1}T00:00:00Z",
                       "--list", waf_list).exit_code == 0
    processes = []
    for index in range(3):
        env = {**os.environ, "PETGATE_LOCAL": "1", "PETGATE_STATE_DIR": str(tmp_path / f"machine-{index}")}
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "petgate", "waf", "prune", "--list", waf_list, "--now", "2099-01-01T00:00:00Z"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env))
    results = [(p.wait(timeout=180), p.communicate()[1]) for p in processes]
    assert all(code == 0 for code, _ in results), results
    names = [s["Name"] for s in wafv2.list_ip_sets(Scope="REGIONAL")["IPSets"]]
    assert not [n for n in names if n.startswith(f"petgate-{waf_list}-ipv4-until-")]


def test_pruning_a_list_that_does_not_exist_says_so(petgate: Any) -> None:
    result = petgate("waf", "prune", "--list", "no-such-list-here")
    assert result.exit_code == 2 and "there is no WAF list 'no-such-list-here' yet" in result.stderr
