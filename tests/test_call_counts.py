"""Control-plane calls per command, counted with botocore's event hooks: the minimum.

A command reads first, with no lease: a run with nothing to change (a block of what is blocked
already, a cron job's sync) stops after at most two reads, the API and what its stage serves
(GetExport), with no lease, no write and no deployment. A change is then made under the API's
lease (CreateModel / DeleteModel of `PetgateLease`, see lease.py), on a read made under the
lease: the first read may be stale by the time the lease is ours, and writing from it could
lose another writer's update. So a change costs its minimum (read, write, deploy), the lease's
two calls, and that second read."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from petgate.target import Target


def counted(monkeypatch: pytest.MonkeyPatch, factory: str, service: str) -> list[str]:
    """The operations every client that Target.<factory> makes calls, in order (botocore's hook)."""
    seen: list[str] = []
    original = getattr(Target, factory)

    def counting(self: Target) -> Any:
        wrapper = original(self)
        hook = f"before-call.{service}"
        if hasattr(wrapper, "register"):  # every client of the wrapper (the gateway's writer too)
            wrapper.register(hook, lambda model, **_: seen.append(model.name))
        else:
            wrapper.client.meta.events.register(hook, lambda model, **_: seen.append(model.name))
        return wrapper

    monkeypatch.setattr(Target, factory, counting)
    return seen


@pytest.fixture()
def calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every API Gateway operation the CLI calls, in order."""
    yield counted(monkeypatch, "gateway", "api-gateway")


CHANGE = ["CreateModel", "GetRestApi", "UpdateRestApi", "DeleteModel", "CreateDeployment"]


def in_either_order(calls: list[str], together: tuple[str, str], *rest: str) -> bool:
    """`calls` is `together` (two calls that go out at once, so either may arrive first) then `rest`."""
    first, second = together
    return calls in ([first, second, *rest], [second, first, *rest])


def test_block_my_ip_by_id_reads_then_changes_under_the_lease(petgate: Any, api_id: str, calls: list[str]) -> None:
    assert petgate("block-my-ip", "--api", api_id, "--cidr", "192.0.2.1").exit_code == 0
    assert calls == ["GetRestApi", *CHANGE]


def test_block_my_ip_by_name_walks_the_list_once(petgate: Any, calls: list[str]) -> None:
    petgate("import-example", "--name", "CallCountByName", "--new")
    calls.clear()
    assert petgate("block-my-ip", "--api", "CallCountByName", "--cidr", "192.0.2.1").exit_code == 0
    assert calls == ["GetRestApis", "GetRestApi", *CHANGE]


def test_a_block_of_what_is_blocked_only_reads(petgate: Any, api_id: str, calls: list[str]) -> None:
    assert petgate("block-my-ip", "--api", api_id, "--cidr", "192.0.2.0/24").exit_code == 0
    calls.clear()
    again = petgate("-o", "json", "block-my-ip", "--api", api_id, "--cidr", "192.0.2.7")
    assert again.exit_code == 0 and again.json["changed"] is False and again.json["added"] == []
    assert calls == ["GetRestApi", "GetExport"], "no lease, no write, no deployment"
    assert "deployed" not in again.json


def test_a_no_op_deploys_what_the_stage_does_not_serve_yet(petgate: Any, api_id: str, calls: list[str]) -> None:
    assert petgate("deploy", "--api", api_id).exit_code == 0
    assert petgate("block-my-ip", "--api", api_id, "--cidr", "192.0.2.1", "--no-deploy").exit_code == 0
    calls.clear()
    again = petgate("-o", "json", "block-my-ip", "--api", api_id, "--cidr", "192.0.2.1")
    assert again.exit_code == 0 and again.json["changed"] is False and again.json["deployed"] is True
    assert calls == ["GetRestApi", "GetExport", "CreateDeployment"]


def test_unblock_and_template_by_id(petgate: Any, api_id: str, calls: list[str]) -> None:
    petgate("block-my-ip", "--api", api_id, "--cidr", "192.0.2.1", "--no-deploy")
    calls.clear()
    assert petgate("unblock", "--api", api_id, "--cidr", "192.0.2.1").exit_code == 0
    assert calls == ["GetRestApi", *CHANGE]
    calls.clear()
    assert petgate("unblock", "--api", api_id, "--cidr", "192.0.2.1").exit_code == 0
    assert calls == ["GetRestApi", "GetExport"]
    calls.clear()
    # by id, the API (for its name) and its ACCESS_DENIED response are read at once
    first_reads = ("GetRestApi", "GetGatewayResponse")
    assert petgate("set-403-template", "--api", api_id).exit_code == 0
    assert in_either_order(calls, first_reads, "CreateModel", "GetGatewayResponse", "PutGatewayResponse",
                           "DeleteModel", "CreateDeployment"), calls
    calls.clear()
    assert petgate("set-403-template", "--api", api_id).exit_code == 0
    assert in_either_order(calls, first_reads, "GetExport"), "the same template again: no lease, no deployment"


def test_set_403_template_by_id_names_the_api(petgate: Any, calls: list[str]) -> None:
    name = f"CallCountTemplate-{time.monotonic_ns()}"
    api_id = petgate("-o", "json", "import-example", "--name", name, "--new").json["api_id"]
    result = petgate("-o", "json", "set-403-template", "--api", api_id, "--no-deploy")
    assert result.exit_code == 0 and (result.json["api_id"], result.json["api_name"]) == (api_id, name)


def test_set_403_template_by_name_reads_the_api_first(petgate: Any, calls: list[str]) -> None:
    petgate("import-example", "--name", "CallCountTemplateByName", "--new")
    calls.clear()
    assert petgate("set-403-template", "--api", "CallCountTemplateByName").exit_code == 0
    assert calls == ["GetRestApis", "GetRestApi", "GetGatewayResponse", "CreateModel", "GetGatewayResponse",
                     "PutGatewayResponse", "DeleteModel", "CreateDeployment"]


def test_set_403_template_by_a_name_that_looks_like_an_id(petgate: Any, calls: list[str]) -> None:
    """The response read for the id at once with GetRestApi is of no API: it is read again for
    the API the name resolves to."""
    name = f"{time.monotonic_ns() % 10**10:010d}"[:5] + "named"  # ten lower-case letters and digits
    api_id = petgate("-o", "json", "import-example", "--name", name, "--new").json["api_id"]
    calls.clear()
    result = petgate("-o", "json", "set-403-template", "--api", name, "--no-deploy")
    assert result.exit_code == 0, result.stderr
    assert (result.json["api_id"], result.json["api_name"], result.json["changed"]) == (api_id, name, True)
    # no API has that id (GetRestApi twice, as resolving a name that looks like an id does), then
    # the list, the API by the id found, and its response
    assert in_either_order(calls, ("GetRestApi", "GetGatewayResponse"), "GetRestApi", "GetRestApis", "GetRestApi",
                           "GetGatewayResponse", "CreateModel", "GetGatewayResponse", "PutGatewayResponse",
                           "DeleteModel"), calls


def test_set_403_template_of_no_api_is_the_read_of_the_api_failing(petgate: Any) -> None:
    result = petgate("set-403-template", "--api", "zzzzzzzzz9")
    assert result.exit_code == 3 and "no REST API with id or name 'zzzzzzzzz9'" in result.stderr


def test_remove_policy_reads_first(petgate: Any, api_id: str, calls: list[str]) -> None:
    petgate("block-my-ip", "--api", api_id, "--cidr", "192.0.2.1", "--no-deploy")
    calls.clear()
    assert petgate("unblock", "--api", api_id, "--all").exit_code == 0
    assert calls == ["GetRestApi", *CHANGE]
    calls.clear()
    assert petgate("unblock", "--api", api_id, "--all").exit_code == 0
    assert calls == ["GetRestApi", "GetExport"]


def test_deploy_and_verify_by_id(petgate: Any, api_id: str, calls: list[str]) -> None:
    assert petgate("deploy", "--api", api_id).exit_code == 0
    assert calls == ["CreateDeployment"]
    calls.clear()
    assert petgate("verify", "--api", api_id, "--expect", "allowed", "--timeout", "5").exit_code == 0
    assert calls == []


def test_a_dry_run_only_reads(petgate: Any, api_id: str, calls: list[str]) -> None:
    assert petgate("block-my-ip", "--api", api_id, "--cidr", "192.0.2.1", "--dry-run").exit_code == 0
    assert calls == ["GetRestApi"]


@pytest.fixture()
def waf_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every wafv2 operation the CLI calls, in order."""
    yield counted(monkeypatch, "waf", "wafv2")


def scattered(count: int, start: int = 0) -> list[str]:
    """`count` /32s that do not collapse into each other."""
    return [f"10.{(i * 2) // 250}.{(i * 2) % 250}.1" for i in range(start, start + count)]


@pytest.mark.parametrize("entries", [1, 400])
def test_sync_costs_the_same_calls_for_1_or_400_entries(
    petgate: Any, api_id: str, calls: list[str], tmp_path: Any, entries: int
) -> None:
    feed = tmp_path / "feed.txt"
    feed.write_text("\n".join(scattered(entries)) + "\n")
    result = petgate("-o", "json", "sync", "--api", api_id, "--file", str(feed))
    assert result.exit_code == 0, result.stderr
    assert len(result.json["added"]) == entries
    # a read first (most cron runs stop there), then the change under the lease, then the deployment
    assert calls == ["GetRestApi", *CHANGE]
    calls.clear()
    assert petgate("sync", "--api", api_id, "--file", str(feed)).exit_code == 0
    assert calls == ["GetRestApi", "GetExport"], "nothing to change and the stage serves it: no lease, no deployment"


def test_prune_with_nothing_due_only_reads(petgate: Any, api_id: str, calls: list[str]) -> None:
    petgate("deploy", "--api", api_id)
    petgate("block-my-ip", "--api", api_id, "--cidr", "192.0.2.1", "--for", "1h", "--no-deploy")
    calls.clear()
    assert petgate("prune", "--api", api_id).exit_code == 0
    assert calls == ["GetRestApi", "GetExport", "CreateDeployment"], "the block was never deployed: now it is"
    calls.clear()
    assert petgate("prune", "--api", api_id).exit_code == 0
    assert calls == ["GetRestApi", "GetExport"]
    calls.clear()
    assert petgate("prune", "--api", api_id, "--now", "2099-01-01T00:00:00Z").exit_code == 0
    assert calls == ["GetRestApi", *CHANGE]


def test_a_10000_entry_waf_sync_is_one_update_per_ip_set(petgate: Any, waf_calls: list[str], tmp_path: Any) -> None:
    waf_list = f"calls{id(tmp_path)}"[-20:]
    feed = tmp_path / "feed.txt"
    feed.write_text("\n".join(scattered(9_998) + ["2001:db8::1", "2001:db8::3"]) + "\n")
    try:
        result = petgate("-o", "json", "waf", "sync", "--list", waf_list, "--file", str(feed))
        assert result.exit_code == 0, result.stderr
        assert len(result.json["added"]) == 10_000
        assert waf_calls.count("UpdateIPSet") == 2, waf_calls  # one per set: IPv4 and IPv6
        writes = [c for c in waf_calls if not c.startswith(("List", "Get"))]
        assert writes == ["CreateIPSet", "CreateIPSet", "CreateWebACL", "UpdateIPSet", "UpdateIPSet"]
        waf_calls.clear()
        feed.write_text("\n".join(scattered(9_998, start=1) + ["2001:db8::1", "2001:db8::3"]) + "\n")
        moved = petgate("-o", "json", "waf", "sync", "--list", waf_list, "--file", str(feed))
        assert moved.exit_code == 0 and len(moved.json["added"]) == 1 and len(moved.json["removed"]) == 1
        assert [c for c in waf_calls if not c.startswith(("List", "Get"))] == ["UpdateIPSet"]
    finally:
        petgate("waf", "delete", "--list", waf_list)


def test_a_sync_with_nothing_to_change_deploys_what_the_stage_does_not_serve_yet(
    petgate: Any, api_id: str, calls: list[str], tmp_path: Any
) -> None:
    feed = tmp_path / "feed.txt"
    feed.write_text("192.0.2.1\n")
    petgate("deploy", "--api", api_id)
    assert petgate("sync", "--api", api_id, "--file", str(feed), "--no-deploy").exit_code == 0  # written, not deployed
    calls.clear()
    again = petgate("-o", "json", "sync", "--api", api_id, "--file", str(feed))
    assert again.exit_code == 0 and again.json["changed"] is False and again.json["deployed"] is True
    assert calls == ["GetRestApi", "GetExport", "CreateDeployment"]
    calls.clear()
    assert petgate("sync", "--api", api_id, "--file", str(feed)).exit_code == 0
    assert calls == ["GetRestApi", "GetExport"]

# --- wafv2 -----------------------------------------------------------------------------------
# A change reads (GetIPSet, for the LockToken) and writes only the sets of the IP versions it
# names; an existing list's web ACL is not looked up to change addresses; a stage's web ACL is
# read before attaching (a stage holds one, and AWS replaces it without a word).


def run(petgate: Any, calls: list[str], *args: str) -> list[str]:
    """The wafv2 calls of one command (which must succeed)."""
    calls.clear()
    result = petgate(*args)
    assert result.exit_code == 0, result.stderr
    return list(calls)


def test_the_first_block_creates_the_list(petgate: Any, waf_list: str, waf_calls: list[str]) -> None:
    assert run(petgate, waf_calls, "waf", "block", "--list", waf_list, "--cidr", "192.0.2.1") == [
        "ListIPSets", "CreateIPSet", "CreateIPSet", "ListWebACLs", "CreateWebACL", "GetIPSet", "UpdateIPSet"]


def test_block_and_unblock_touch_only_the_set_they_change(petgate: Any, waf_list: str, waf_calls: list[str]) -> None:
    petgate("waf", "block", "--list", waf_list, "--cidr", "192.0.2.1")
    assert run(petgate, waf_calls, "waf", "block", "--list", waf_list, "--cidr", "192.0.2.2") == [
        "ListIPSets", "GetIPSet", "UpdateIPSet"]
    assert run(petgate, waf_calls, "waf", "block", "--list", waf_list, "--cidr", "2001:db8::1") == [
        "ListIPSets", "GetIPSet", "UpdateIPSet"]
    assert run(petgate, waf_calls, "waf", "unblock", "--list", waf_list, "--cidr", "192.0.2.2") == [
        "ListIPSets", "GetIPSet", "UpdateIPSet"]


def test_a_block_already_there_only_reads(petgate: Any, waf_list: str, waf_calls: list[str]) -> None:
    petgate("waf", "block", "--list", waf_list, "--cidr", "192.0.2.0/24")
    assert run(petgate, waf_calls, "waf", "block", "--list", waf_list, "--cidr", "192.0.2.7") == ["ListIPSets", "GetIPSet"]
    assert run(petgate, waf_calls, "waf", "unblock", "--list", waf_list, "--cidr", "198.51.100.7") == ["ListIPSets", "GetIPSet"]


def test_a_block_that_ends(petgate: Any, waf_list: str, waf_calls: list[str]) -> None:
    petgate("waf", "block", "--list", waf_list, "--cidr", "192.0.2.1")
    until = ("--until", "2098-06-01T12:00:00Z")
    # what is blocked for good is read (an address there is not added), then the new group's set and rule
    assert run(petgate, waf_calls, "waf", "block", "--list", waf_list, "--cidr", "192.0.2.9", *until) == [
        "ListIPSets", "GetIPSet", "ListWebACLs", "CreateIPSet", "GetWebACL", "UpdateWebACL", "GetIPSet", "UpdateIPSet"]
    assert run(petgate, waf_calls, "waf", "block", "--list", waf_list, "--cidr", "192.0.2.1", *until) == [
        "ListIPSets", "GetIPSet"], "blocked for good already: only reads"
    assert run(petgate, waf_calls, "waf", "block", "--list", waf_list, "--cidr", "192.0.2.9", *until) == [
        "ListIPSets", "GetIPSet", "GetIPSet"], "blocked as long already: only reads"
    assert run(petgate, waf_calls, "waf", "block", "--list", waf_list, "--cidr", "192.0.2.10", *until) == [
        "ListIPSets", "GetIPSet", "GetIPSet", "ListWebACLs", "GetWebACL", "UpdateIPSet"], "the rule is there; one read a set"


def test_sync_reads_each_set_once(petgate: Any, waf_list: str, waf_calls: list[str], tmp_path: Any) -> None:
    feed = tmp_path / "deny.txt"
    feed.write_text("".join(f"192.0.2.{n * 2}\n" for n in range(1, 21)) + "2001:db8::1\n")
    petgate("waf", "sync", "--list", waf_list, "--file", str(feed))
    feed.write_text("".join(f"192.0.2.{n * 2}\n" for n in range(1, 22)) + "2001:db8::1\n")
    assert run(petgate, waf_calls, "waf", "sync", "--list", waf_list, "--file", str(feed)) == [
        "ListIPSets", "GetIPSet", "GetIPSet", "UpdateIPSet"], "the read that decided is the write's LockToken"
    assert run(petgate, waf_calls, "waf", "sync", "--list", waf_list, "--file", str(feed)) == [
        "ListIPSets", "GetIPSet", "GetIPSet"]


def test_prune_with_nothing_due_lists_only(petgate: Any, waf_list: str, waf_calls: list[str]) -> None:
    petgate("waf", "block", "--list", waf_list, "--cidr", "192.0.2.1", "--for", "1h")
    assert run(petgate, waf_calls, "waf", "prune", "--list", waf_list) == ["ListIPSets"]


def test_attach_and_detach(petgate: Any, waf_list: str, deployed: str, waf_calls: list[str]) -> None:
    petgate("waf", "block", "--list", waf_list, "--cidr", "192.0.2.1")
    attach = ("waf", "attach", "--api", deployed, "--list", waf_list)
    assert run(petgate, waf_calls, *attach) == ["GetWebACLForResource", "ListWebACLs", "AssociateWebACL"]
    assert run(petgate, waf_calls, *attach) == ["GetWebACLForResource"], "attached already: nothing to do"
    assert run(petgate, waf_calls, "waf", "detach", "--api", deployed, "--list", waf_list) == [
        "GetWebACLForResource", "DisassociateWebACL"]


def test_attach_creates_a_list_on_first_use(petgate: Any, waf_list: str, deployed: str, waf_calls: list[str]) -> None:
    assert run(petgate, waf_calls, "waf", "attach", "--api", deployed, "--list", waf_list) == [
        "GetWebACLForResource", "ListWebACLs", "ListIPSets", "CreateIPSet", "CreateIPSet", "CreateWebACL", "AssociateWebACL"]


def test_a_refused_attach_only_reads(petgate: Any, waf_list: str, deployed: str, waf_calls: list[str]) -> None:
    petgate("waf", "block", "--list", waf_list, "--cidr", "192.0.2.1", "--cidr", "2001:db8::1")
    petgate("waf", "attach", "--api", deployed, "--list", waf_list)
    waf_calls.clear()
    refused = petgate("waf", "attach", "--api", deployed, "--list", f"{waf_list}x")
    assert refused.exit_code == 2 and "2 address(es)" in refused.stderr
    assert waf_calls == ["GetWebACLForResource", "GetIPSet", "GetIPSet"], "the count of the list there, nothing written"


# --- require-iam, and the allow-lists that need it (issue 18) ----------------------------------
# require-iam reads the API and its methods (GetResources with embed=methods: one call), then
# under the lease reads the methods again and sends one UpdateMethod a method it changes. An
# account or principal list first costs one GetResources: refused unless a method uses AWS_IAM.

SIGNED_PETSTORE = 4  # GET /, GET /pets, POST /pets, GET /pets/{petId}; the OPTIONS stay open


def test_require_iam_reads_then_changes_each_method_under_the_lease(petgate: Any, api_id: str, calls: list[str]) -> None:
    assert petgate("require-iam", "--api", api_id, "--dry-run").exit_code == 0
    assert calls == ["GetRestApi", "GetResources"], "a dry run only reads"
    calls.clear()
    assert petgate("require-iam", "--api", api_id).exit_code == 0
    assert calls == ["GetRestApi", "GetResources", "CreateModel", "GetResources", *["UpdateMethod"] * SIGNED_PETSTORE,
                     "DeleteModel", "CreateDeployment"]
    calls.clear()
    assert petgate("require-iam", "--api", api_id).exit_code == 0
    assert calls == ["GetRestApi", "GetResources", "GetExport"], "nothing to change, the stage serves it: no lease"
    calls.clear()
    assert petgate("require-iam", "--api", api_id, "--path", "/pets", "--method", "OPTIONS", "--no-deploy").exit_code == 0
    assert calls == ["GetRestApi", "GetResources", "CreateModel", "GetResources", "UpdateMethod", "DeleteModel"]


def test_undo_of_require_iam_checks_then_puts_each_method_back(petgate: Any, api_id: str, calls: list[str]) -> None:
    assert petgate("require-iam", "--api", api_id, "--no-deploy").exit_code == 0
    calls.clear()
    assert petgate("undo", "--api", api_id).exit_code == 0
    assert calls == ["GetResources", "CreateModel", "GetResources", *["UpdateMethod"] * SIGNED_PETSTORE, "DeleteModel",
                     "CreateDeployment"], "refusals first with no lease, then again under it"


def test_account_and_principal_lists_read_the_methods_once_first(petgate: Any, api_id: str, calls: list[str]) -> None:
    for command, value in (("allow-accounts", "111122223333"), ("allow-principals", "arn:aws:iam::111122223333:user/a")):
        calls.clear()
        assert petgate(command, "--api", api_id, value).exit_code == 2
        assert calls == ["GetResources"], f"{command}: no method uses AWS_IAM: refused after one read"
    calls.clear()
    assert petgate("allow-accounts", "--api", api_id, "111122223333", "--force").exit_code == 0
    assert calls == ["GetRestApi", *CHANGE], "--force: no check"
    petgate("require-iam", "--api", api_id, "--path", "/pets", "--method", "GET", "--no-deploy")
    for command, value in (("allow-accounts", "444455556666"), ("allow-principals", "arn:aws:iam::111122223333:user/a")):
        calls.clear()
        assert petgate(command, "--api", api_id, value).exit_code == 0
        assert calls == ["GetResources", "GetRestApi", *CHANGE], command
    calls.clear()
    assert petgate("allow-principals", "--api", api_id, "arn:aws:iam::111122223333:user/a", "--remove").exit_code == 0
    assert calls == ["GetRestApi", *CHANGE], "taking a principal out needs no check"


def test_a_malformed_principal_makes_no_call(petgate: Any, api_id: str, calls: list[str]) -> None:
    result = petgate("allow-principals", "--api", api_id, "arn:aws:iam::111122223333:usr/a")
    assert result.exit_code == 2 and "not an IAM principal ARN" in result.stderr
    assert calls == []


def test_diff_only_reads(petgate: Any, api_id: str, calls: list[str], tmp_path: Any) -> None:
    file = tmp_path / "policy.json"
    file.write_text('{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", '
                    '"Resource": "execute-api:/*"}]}', encoding="utf-8")
    assert petgate("deploy", "--api", api_id).exit_code == 0
    calls.clear()
    assert petgate("diff", "--api", api_id, "--file", str(file)).exit_code == 1
    assert calls == ["GetRestApi"], "the stored policy: one read, no lease"
    calls.clear()
    assert petgate("diff", "--api", api_id, "--file", str(file), "--deployed").exit_code == 1
    assert calls == ["GetRestApi", "GetExport"]
    calls.clear()
    file.write_text("not json", encoding="utf-8")
    assert petgate("diff", "--api", api_id, "--file", str(file)).exit_code == 2
    assert calls == [], "a bad file is refused before any call"
