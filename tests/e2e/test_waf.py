"""WAF deny lists end to end against petgate local: enforced before the resource policy, no
redeploy, IPv4 and IPv6 in their own sets, the 10,000 quota, concurrent writers, clean delete,
and wafv2 errors with AWS's codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from typing import Any

import boto3
import botocore.exceptions
import pytest
import requests
from requests.adapters import HTTPAdapter

from petgate import expiry
from petgate.errors import UsageError
from petgate.policy import collapse
from tests.conftest import run_cli


def client_from(source: str) -> requests.Session:
    class SourceAdapter(HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            kwargs["source_address"] = (source, 0)
            super().init_poolmanager(*args, **kwargs)

    session = requests.Session()
    session.mount("http://", SourceAdapter())
    return session


@pytest.fixture()
def wafv2(local_url: str) -> Any:
    return boto3.client("wafv2", endpoint_url=local_url, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test")


def test_block_is_enforced_before_the_policy_without_redeploy(
    petgate: Any, deployed: str, waf_list: str, local_url: str, apigw: Any
) -> None:
    url = f"{local_url}/restapis/{deployed}/test/_user_request_/"
    deployment = apigw.get_stage(restApiId=deployed, stageName="test")["deploymentId"]
    attached = petgate("-o", "json", "waf", "attach", "--api", deployed, "--list", waf_list)
    assert attached.exit_code == 0, attached.stderr
    assert attached.json["stage_arn"] == f"arn:aws:apigateway:us-east-1::/restapis/{deployed}/stages/test"
    blocked = petgate("-o", "json", "waf", "block", "--cidr", "127.0.0.31", "--list", waf_list)
    assert blocked.exit_code == 0 and blocked.json["added"] == ["127.0.0.31/32"]
    refused = client_from("127.0.0.31").get(url)
    assert refused.status_code == 403 and refused.json() == {"message": "Forbidden"}
    assert refused.headers["x-amzn-ErrorType"] == "ForbiddenException"
    assert client_from("127.0.0.32").get(url).status_code == 200
    assert apigw.get_stage(restApiId=deployed, stageName="test")["deploymentId"] == deployment, "no redeploy"
    # a policy that explicitly allows the blocked address does not help: WAF comes first
    allow = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke",
                                                     "Resource": "execute-api:/*", "Condition": {"IpAddress": {"aws:SourceIp": "127.0.0.31"}}}]}
    apigw.update_rest_api(restApiId=deployed, patchOperations=[{"op": "replace", "path": "/policy", "value": json.dumps(allow)}])
    assert petgate("deploy", "--api", deployed).exit_code == 0
    assert client_from("127.0.0.31").get(url).status_code == 403
    verify = petgate("--source-address", "127.0.0.31", "-o", "json", "verify", "--api", deployed, "--expect", "denied", "--timeout", "2")
    assert verify.exit_code == 0 and verify.json["reason"] == "waf-block", verify.stderr
    unblocked = petgate("-o", "json", "waf", "unblock", "--cidr", "127.0.0.31", "--list", waf_list)
    assert unblocked.json["removed"] == ["127.0.0.31/32"]
    assert client_from("127.0.0.31").get(url).status_code == 200


def test_a_waf_block_answers_the_stage_s_waf_filtered_response(
    petgate: Any, deployed: str, waf_list: str, local_url: str, apigw: Any
) -> None:
    """Developer Guide, "supported-gateway-response-types": WAF_FILTERED is "the gateway
    response when a request is blocked by AWS WAF" (DEFAULT_4XX when not set): a stage that
    customised it answers its own body, not WAF's."""
    url = f"{local_url}/restapis/{deployed}/test/_user_request_/"
    assert petgate("waf", "attach", "--api", deployed, "--list", waf_list).exit_code == 0
    assert petgate("waf", "block", "--cidr", "127.0.0.33", "--list", waf_list).exit_code == 0
    apigw.put_gateway_response(restApiId=deployed, responseType="WAF_FILTERED", statusCode="429",
                               responseTemplates={"application/json": '{"blocked": "$context.error.message"}'})
    assert petgate("deploy", "--api", deployed).exit_code == 0
    refused = client_from("127.0.0.33").get(url)
    assert refused.status_code == 429 and refused.json() == {"blocked": "Forbidden"}
    assert refused.headers["x-amzn-ErrorType"] == "ForbiddenException"


def test_ipv6_goes_to_its_own_set_and_show_counts(petgate: Any, waf_list: str) -> None:
    result = petgate("-o", "json", "waf", "block", "--cidr", "2001:db8::/48", "--cidr", "192.0.2.0/24", "--list", waf_list)
    assert result.exit_code == 0
    shown = petgate("-o", "json", "waf", "show", "--list", waf_list).json
    sets = {s["version"]: s for s in shown["ip_sets"]}
    assert sets["IPV6"]["addresses"] == ["2001:db8::/48"] and sets["IPV4"]["addresses"] == ["192.0.2.0/24"]
    assert shown["addresses"] == 2 and shown["attached"] == [] and set(shown) >= {"list", "web_acl_arn", "ip_sets", "addresses", "attached"}
    text = petgate("waf", "show", "--list", waf_list)
    assert "petgate-" + waf_list + "-ipv6: 1 of 10,000" in text.stdout and "2001:db8::/48" in text.stdout


def test_five_thousand_addresses_and_the_quota(petgate: Any, waf_list: str) -> None:
    many = [f"10.{n // 250}.{n % 250}.{(n * 7) % 250 + 1}/32" for n in range(5000)]
    args = [a for c in many for a in ("--cidr", c)]
    result = petgate("-o", "json", "waf", "block", *args, "--list", waf_list)
    assert result.exit_code == 0, result.stderr[-500:]
    assert result.json["ip_sets"][f"petgate-{waf_list}-ipv4"] == len(set(many))
    more = [f"172.16.{n // 120}.{(n % 120) * 2 + 1}/32" for n in range(5001)]  # odd addresses: none merge
    over = petgate("waf", "block", *[a for c in more for a in ("--cidr", c)], "--list", waf_list)
    assert over.exit_code == 2 and "AWS WAF takes at most 10,000 per set (nothing was written)" in over.stderr
    assert petgate("-o", "json", "waf", "show", "--list", waf_list).json["addresses"] == len(set(many))


def test_eight_writers_on_eight_machines_lose_nothing(petgate: Any, waf_list: str, tmp_path: Any) -> None:
    assert petgate("waf", "block", "--cidr", "198.51.100.1", "--list", waf_list).exit_code == 0  # the list exists
    cidrs = [f"198.51.100.{n}/32" for n in range(10, 18)]
    processes = []
    for index, cidr in enumerate(cidrs):
        env = {**os.environ, "PETGATE_LOCAL": "1", "PETGATE_STATE_DIR": str(tmp_path / f"machine-{index}")}
        processes.append(subprocess.Popen([sys.executable, "-m", "petgate", "waf", "block", "--cidr", cidr, "--list", waf_list],
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env))
    results = [(p.wait(timeout=180), p.communicate()[1]) for p in processes]
    assert all(code == 0 for code, _ in results), results
    shown = petgate("-o", "json", "waf", "show", "--list", waf_list).json
    v4 = next(s for s in shown["ip_sets"] if s["version"] == "IPV4")
    assert sorted(v4["addresses"]) == sorted(collapse(["198.51.100.1/32", *cidrs])), "all nine, merged where adjacent"


def test_delete_leaves_nothing_behind(petgate: Any, deployed: str, waf_list: str, wafv2: Any) -> None:
    petgate("waf", "attach", "--api", deployed, "--list", waf_list)
    petgate("waf", "block", "--cidr", "192.0.2.9", "--list", waf_list)
    petgate("waf", "block", "--cidr", "192.0.2.10", "--cidr", "2001:db8::10", "--for", "1h", "--list", waf_list)
    deleted = petgate("-o", "json", "waf", "delete", "--list", waf_list)
    assert deleted.exit_code == 0 and len(deleted.json["detached"]) == 1
    assert len(deleted.json["ip_sets"]) == 4, "the sets of blocks that end go too"
    names = [s["Name"] for s in wafv2.list_ip_sets(Scope="REGIONAL")["IPSets"]] + [
        a["Name"] for a in wafv2.list_web_acls(Scope="REGIONAL")["WebACLs"]]
    assert not [n for n in names if waf_list in n]
    arn = f"arn:aws:apigateway:us-east-1::/restapis/{deployed}/stages/test"
    assert "WebACL" not in wafv2.get_web_acl_for_resource(ResourceArn=arn) or not wafv2.get_web_acl_for_resource(ResourceArn=arn).get("WebACL")
    assert petgate("waf", "show", "--list", waf_list).exit_code == 2


def waf_error(call: Any, **kwargs: Any) -> str:
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        call(**kwargs)
    return str(raised.value.response["Error"]["Code"])


def test_wafv2_errors_have_aws_codes(wafv2: Any, waf_list: str) -> None:
    name = f"raw-{waf_list}"
    created = wafv2.create_ip_set(Name=name, Scope="REGIONAL", IPAddressVersion="IPV4", Addresses=["192.0.2.0/24"])["Summary"]
    assert waf_error(wafv2.create_ip_set, Name=name, Scope="REGIONAL", IPAddressVersion="IPV4", Addresses=[]) == "WAFDuplicateItemException"
    for bad in (["not-an-ip"], ["0.0.0.0/0"], ["2001:db8::/32"], ["192.0.2.1"]):
        assert waf_error(wafv2.create_ip_set, Name=f"{name}-bad", Scope="REGIONAL", IPAddressVersion="IPV4", Addresses=bad) == "WAFInvalidParameterException"
    token = wafv2.get_ip_set(Name=name, Scope="REGIONAL", Id=created["Id"])["LockToken"]
    too_many = [f"10.{n // 65536}.{n // 256 % 256}.{n % 256}/32" for n in range(10_001)]
    assert waf_error(wafv2.update_ip_set, Name=name, Scope="REGIONAL", Id=created["Id"], Addresses=too_many, LockToken=token) == "WAFLimitsExceededException"
    assert waf_error(wafv2.update_ip_set, Name=name, Scope="REGIONAL", Id=created["Id"], Addresses=[], LockToken="stale") == "WAFOptimisticLockException"
    rule = {"Name": "r", "Priority": 0, "Action": {"Block": {}}, "Statement": {"IPSetReferenceStatement": {"ARN": created["ARN"]}},
            "VisibilityConfig": {"SampledRequestsEnabled": False, "CloudWatchMetricsEnabled": False, "MetricName": "r"}}
    acl = wafv2.create_web_acl(Name=name, Scope="REGIONAL", DefaultAction={"Allow": {}}, Rules=[rule],
                               VisibilityConfig=rule["VisibilityConfig"])["Summary"]
    assert waf_error(wafv2.create_web_acl, Name=name, Scope="REGIONAL", DefaultAction={"Allow": {}}, Rules=[],
                     VisibilityConfig=rule["VisibilityConfig"]) == "WAFDuplicateItemException"
    token = wafv2.get_ip_set(Name=name, Scope="REGIONAL", Id=created["Id"])["LockToken"]
    assert waf_error(wafv2.delete_ip_set, Name=name, Scope="REGIONAL", Id=created["Id"], LockToken=token) == "WAFAssociatedItemException"
    acl_token = wafv2.get_web_acl(Name=name, Scope="REGIONAL", Id=acl["Id"])["LockToken"]
    wafv2.update_web_acl(Name=name, Scope="REGIONAL", Id=acl["Id"], DefaultAction={"Allow": {}}, Rules=[],
                         VisibilityConfig=rule["VisibilityConfig"], LockToken=acl_token)
    assert wafv2.get_web_acl(Name=name, Scope="REGIONAL", Id=acl["Id"])["WebACL"]["Rules"] == []
    wafv2.delete_ip_set(Name=name, Scope="REGIONAL", Id=created["Id"], LockToken=token)  # no longer in use
    acl_token = wafv2.get_web_acl(Name=name, Scope="REGIONAL", Id=acl["Id"])["LockToken"]
    wafv2.delete_web_acl(Name=name, Scope="REGIONAL", Id=acl["Id"], LockToken=acl_token)


def test_reassociating_a_stage_replaces_its_web_acl(petgate: Any, deployed: str, waf_list: str, wafv2: Any) -> None:
    other = f"{waf_list}b"
    try:
        assert petgate("waf", "attach", "--api", deployed, "--list", waf_list).exit_code == 0
        assert petgate("waf", "attach", "--api", deployed, "--list", other, "--replace").exit_code == 0
        arn = f"arn:aws:apigateway:us-east-1::/restapis/{deployed}/stages/test"
        assert wafv2.get_web_acl_for_resource(ResourceArn=arn)["WebACL"]["Name"] == f"petgate-{other}"
        first = petgate("-o", "json", "waf", "show", "--list", waf_list).json
        assert first["attached"] == []
    finally:
        run_cli("--local", "waf", "delete", "--list", other)


def test_migrate_moves_the_policy_list_to_waf(petgate: Any, deployed: str, waf_list: str, local_url: str, apigw: Any) -> None:
    user = {"Sid": "Mine", "Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*"}
    apigw.update_rest_api(restApiId=deployed, patchOperations=[{"op": "replace", "path": "/policy",
                                                                "value": json.dumps({"Version": "2012-10-17", "Statement": [user]})}])
    assert petgate("block-my-ip", "--api", deployed, "--cidr", "127.0.0.41", "--cidr", "2001:db8:1::/48").exit_code == 0
    assert petgate("block-my-ip", "--api", deployed, "--cidr", "127.0.0.45", "--until", "2098-06-01T12:00:00Z").exit_code == 0
    url = f"{local_url}/restapis/{deployed}/test/_user_request_/"
    assert client_from("127.0.0.41").get(url).status_code == 403
    moved = petgate("-o", "json", "waf", "migrate", "--api", deployed, "--list", waf_list)
    assert moved.exit_code == 0, moved.stderr
    assert sorted(moved.json["migrated"]) == ["127.0.0.41/32", "127.0.0.45/32", "2001:db8:1::/48"] and moved.json["deployed"] is True
    shown = petgate("-o", "json", "waf", "show", "--list", waf_list).json
    assert shown["expiring"] == [{"cidr": "127.0.0.45/32", "expires": "2098-06-01T12:00:00Z", "expired": False}], "its end moved with it"
    assert client_from("127.0.0.45").get(url).status_code == 403
    policy = moved.json["policy"]
    assert [s.get("Sid") for s in policy["Statement"]] == ["Mine"], "petgate's deny statement left; the user's stayed"
    refused = client_from("127.0.0.41").get(url)
    assert refused.status_code == 403 and refused.headers["x-amzn-ErrorType"] == "ForbiddenException"  # now WAF's
    assert client_from("127.0.0.42").get(url).status_code == 200
    again = petgate("-o", "json", "waf", "migrate", "--api", deployed, "--list", waf_list)
    assert again.exit_code == 0 and again.json["changed"] is False


def test_walkthrough_with_waf(petgate: Any) -> None:
    result = petgate("-o", "json", "walkthrough", "--waf", "--name", "WafWalkthrough", "--new", "--cleanup", "--timeout", "10")
    assert result.exit_code == 0, result.stderr[-1000:]
    checks = [s["verify"] for s in result.json["steps"] if "verify" in s]
    assert [(c["outcome"], c["reason"]) for c in checks] == [("allowed", "allowed"), ("denied", "waf-block"), ("allowed", "allowed")]
    assert result.json["steps"][-1]["deleted"] is True


def test_waf_changes_are_journaled_and_undone(petgate: Any, waf_list: str) -> None:
    first = petgate("-o", "json", "waf", "block", "--cidr", "192.0.2.50", "--list", waf_list)
    second = petgate("-o", "json", "waf", "block", "--cidr", "192.0.2.51", "--list", waf_list)
    refused = petgate("undo", first.json["journal_id"])  # the set changed after it (.51 came)
    assert refused.exit_code == 2 and f"changed after entry {first.json['journal_id']}" in refused.stderr
    undone = petgate("-o", "json", "undo", second.json["journal_id"])
    assert undone.exit_code == 0, undone.stderr
    shown = petgate("-o", "json", "waf", "show", "--list", waf_list).json
    assert next(s for s in shown["ip_sets"] if s["version"] == "IPV4")["addresses"] == ["192.0.2.50/32"]
    assert "waf block: WAF list" in petgate("history").stdout


def test_undo_explains_a_change_to_a_deleted_waf_list(petgate: Any, waf_list: str) -> None:
    blocked = petgate("-o", "json", "waf", "block", "--cidr", "192.0.2.60", "--list", waf_list)
    assert petgate("waf", "delete", "--list", waf_list).exit_code == 0
    result = petgate("undo", blocked.json["journal_id"])
    assert result.exit_code == 2
    assert f"changed WAF list {waf_list}, which `waf delete` deleted afterwards" in result.stderr


def test_policy_check_with_waf_says_which_layer_decides(petgate: Any, deployed: str, waf_list: str) -> None:
    petgate("block-my-ip", "--api", deployed, "--cidr", "192.0.2.70")
    petgate("waf", "attach", "--api", deployed, "--list", waf_list)
    petgate("waf", "block", "--cidr", "192.0.2.71", "--list", waf_list)
    by_waf = petgate("-o", "json", "policy", "check", "--api", deployed, "--ip", "192.0.2.71", "--with-waf")
    assert by_waf.json["layer"] == "waf" and by_waf.json["reason"] == "waf-block" and by_waf.json["allowed"] is False
    assert by_waf.json["waf_rule"] == f"petgate-{waf_list}-block-ipv4"
    by_policy = petgate("-o", "json", "policy", "check", "--api", deployed, "--ip", "192.0.2.70", "--with-waf")
    assert by_policy.json["layer"] == "policy" and by_policy.json["reason"] == "policy-explicit-deny"
    text = petgate("policy", "check", "--api", deployed, "--ip", "192.0.2.71", "--with-waf", "--expect", "denied")
    assert text.exit_code == 0 and "waf-block (WAF rule" in text.stderr
    assert petgate("policy", "check", "--file", "x.json", "--ip", "192.0.2.71", "--with-waf").exit_code == 2
    mapped = petgate("-o", "json", "policy", "check", "--api", deployed, "--ip", "::ffff:192.0.2.71", "--with-waf")
    assert mapped.json["layer"] == "waf" and mapped.json["reason"] == "waf-block", "a mapped caller is its IPv4 address"


# --- issue 16: unblock splits, attach refuses to replace, attach/detach/delete undone ------------

def stage_url(local_url: str, api_id: str) -> str:
    return f"{local_url}/restapis/{api_id}/test/_user_request_/"


def addresses(petgate: Any, waf_list: str, expires: bool = False) -> list[str]:
    """The list's IPv4 addresses: the permanent set's, or those of its sets of blocks that end."""
    shown = petgate("-o", "json", "waf", "show", "--list", waf_list).json
    return [a for s in shown["ip_sets"] if s["version"] == "IPV4" and bool(s["expires"]) == expires for a in s["addresses"]]


def status_from(source: str, url: str) -> int:
    return int(client_from(source).get(url).status_code)


def test_unblock_lifts_one_address_of_a_collapsed_range(petgate: Any, deployed: str, waf_list: str, local_url: str) -> None:
    url = stage_url(local_url, deployed)
    assert petgate("waf", "attach", "--api", deployed, "--list", waf_list).exit_code == 0
    assert petgate("waf", "block", "--cidr", "127.0.0.70", "--list", waf_list).exit_code == 0
    assert petgate("waf", "block", "--cidr", "127.0.0.71", "--list", waf_list).exit_code == 0
    assert addresses(petgate, waf_list) == ["127.0.0.70/31"], "stored collapsed"
    assert status_from("127.0.0.71", url) == 403
    unblocked = petgate("-o", "json", "waf", "unblock", "--cidr", "127.0.0.71", "--list", waf_list)
    assert unblocked.exit_code == 0, unblocked.stderr
    assert unblocked.json["removed"] == ["127.0.0.71/32"] and unblocked.json["added"] == [] and unblocked.json["changed"] is True
    assert addresses(petgate, waf_list) == ["127.0.0.70/32"], "the range split around what was lifted"
    assert status_from("127.0.0.71", url) == 200 and status_from("127.0.0.70", url) == 403
    # undo puts the range back whole
    assert petgate("undo", unblocked.json["journal_id"]).exit_code == 0
    assert addresses(petgate, waf_list) == ["127.0.0.70/31"] and status_from("127.0.0.71", url) == 403
    text = petgate("waf", "unblock", "--cidr", "127.0.0.70", "--list", waf_list)
    assert "Unblocked 127.0.0.70/32 from WAF list" in text.stderr and "unchanged" not in text.stderr
    assert status_from("127.0.0.70", url) == 200 and status_from("127.0.0.71", url) == 403


def test_unblock_splits_a_range_of_blocks_that_end(petgate: Any, deployed: str, waf_list: str, local_url: str) -> None:
    url = stage_url(local_url, deployed)
    assert petgate("waf", "attach", "--api", deployed, "--list", waf_list).exit_code == 0
    assert petgate("waf", "block", "--cidr", "127.0.0.72", "--cidr", "127.0.0.73", "--for", "1h", "--list", waf_list).exit_code == 0
    assert addresses(petgate, waf_list, expires=True) == ["127.0.0.72/31"]
    unblocked = petgate("-o", "json", "waf", "unblock", "--cidr", "127.0.0.73", "--list", waf_list)
    assert unblocked.json["removed"] == ["127.0.0.73/32"]
    assert addresses(petgate, waf_list, expires=True) == ["127.0.0.72/32"]
    assert status_from("127.0.0.73", url) == 200 and status_from("127.0.0.72", url) == 403
    # a wider network lifts every address inside it, as the policy store does
    wider = petgate("-o", "json", "waf", "unblock", "--cidr", "127.0.0.0/24", "--list", waf_list)
    assert wider.json["removed"] == ["127.0.0.72/32"] and addresses(petgate, waf_list, expires=True) == []


def test_sync_splits_around_what_leaves_the_file(
    petgate: Any, deployed: str, waf_list: str, local_url: str, tmp_path: Any
) -> None:
    url = stage_url(local_url, deployed)
    feed = tmp_path / "deny.txt"
    assert petgate("waf", "attach", "--api", deployed, "--list", waf_list).exit_code == 0
    feed.write_text("127.0.0.74\n127.0.0.75\n")
    assert petgate("waf", "sync", "--list", waf_list, "--file", str(feed)).exit_code == 0
    assert addresses(petgate, waf_list) == ["127.0.0.74/31"]
    feed.write_text("127.0.0.74\n")
    synced = petgate("-o", "json", "waf", "sync", "--list", waf_list, "--file", str(feed), "--force")
    assert synced.exit_code == 0, synced.stderr
    assert addresses(petgate, waf_list) == ["127.0.0.74/32"]
    assert status_from("127.0.0.75", url) == 200 and status_from("127.0.0.74", url) == 403


def test_attach_refuses_to_replace_another_lists_web_acl(
    petgate: Any, deployed: str, waf_list: str, local_url: str, wafv2: Any, undo: Any
) -> None:
    other = f"{waf_list}b"
    url = stage_url(local_url, deployed)
    arn = f"arn:aws:apigateway:us-east-1::/restapis/{deployed}/stages/test"
    try:
        assert petgate("waf", "block", "--list", waf_list, "--cidr", "127.0.0.51").exit_code == 0
        assert petgate("waf", "attach", "--api", deployed, "--list", waf_list).exit_code == 0
        again = petgate("-o", "json", "waf", "attach", "--api", deployed, "--list", waf_list)
        assert again.exit_code == 0 and again.json["changed"] is False, "already attached: nothing to do"
        refused = petgate("waf", "attach", "--api", deployed, "--list", other)
        assert refused.exit_code == 2 and len(refused.stderr.strip().splitlines()) == 1
        assert f"guarded by WAF list {waf_list} (web ACL petgate-{waf_list}, 1 address(es)" in refused.stderr
        assert "--replace" in refused.stderr
        assert status_from("127.0.0.51", url) == 403
        names = [a["Name"] for a in wafv2.list_web_acls(Scope="REGIONAL")["WebACLs"]]
        assert f"petgate-{other}" not in names, "nothing created for a refused attach"
        replaced = petgate("-o", "json", "waf", "attach", "--api", deployed, "--list", other, "--replace")
        assert replaced.exit_code == 0 and replaced.json["replaced"]["name"] == f"petgate-{waf_list}"
        assert status_from("127.0.0.51", url) == 200
        # undo of the attach puts back the web ACL it replaced
        entry = journal_entry(replaced.json["journal_id"])
        assert entry["kind"] == "waf-attach" and entry["command"] == "waf attach"
        undone = undo(entry)
        assert undone["restored"]["name"] == f"petgate-{waf_list}"
        assert wafv2.get_web_acl_for_resource(ResourceArn=arn)["WebACL"]["Name"] == f"petgate-{waf_list}"
        assert status_from("127.0.0.51", url) == 403
    finally:
        run_cli("--local", "waf", "delete", "--list", other)


def test_attach_refuses_to_replace_a_users_own_web_acl(
    petgate: Any, deployed: str, waf_list: str, local_url: str, wafv2: Any, undo: Any
) -> None:
    arn = f"arn:aws:apigateway:us-east-1::/restapis/{deployed}/stages/test"
    mine = f"mine-{waf_list}"
    visibility = {"SampledRequestsEnabled": False, "CloudWatchMetricsEnabled": False, "MetricName": mine}
    acl = wafv2.create_web_acl(Name=mine, Scope="REGIONAL", DefaultAction={"Allow": {}}, Rules=[],
                               VisibilityConfig=visibility)["Summary"]
    wafv2.associate_web_acl(WebACLArn=acl["ARN"], ResourceArn=arn)
    try:
        refused = petgate("waf", "attach", "--api", deployed, "--list", waf_list)
        assert refused.exit_code == 2 and f"web ACL {mine}, which is not petgate's" in refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1
        assert wafv2.get_web_acl_for_resource(ResourceArn=arn)["WebACL"]["Name"] == mine
        assert f"petgate-{waf_list}" not in [a["Name"] for a in wafv2.list_web_acls(Scope="REGIONAL")["WebACLs"]]
        replaced = petgate("-o", "json", "waf", "attach", "--api", deployed, "--list", waf_list, "--replace")
        assert replaced.exit_code == 0 and replaced.json["replaced"] == {"arn": acl["ARN"], "name": mine}
        assert wafv2.get_web_acl_for_resource(ResourceArn=arn)["WebACL"]["Name"] == f"petgate-{waf_list}"
        undo(journal_entry(replaced.json["journal_id"]))
        assert wafv2.get_web_acl_for_resource(ResourceArn=arn)["WebACL"]["Name"] == mine
    finally:
        wafv2.disassociate_web_acl(ResourceArn=arn)
        token = wafv2.get_web_acl(Name=mine, Scope="REGIONAL", Id=acl["Id"])["LockToken"]
        wafv2.delete_web_acl(Name=mine, Scope="REGIONAL", Id=acl["Id"], LockToken=token)


def test_migrate_refuses_a_stage_with_another_web_acl_before_writing(
    petgate: Any, deployed: str, waf_list: str, apigw: Any
) -> None:
    other = f"{waf_list}m"
    try:
        assert petgate("waf", "attach", "--api", deployed, "--list", other).exit_code == 0
        assert petgate("block-my-ip", "--api", deployed, "--cidr", "192.0.2.81").exit_code == 0
        refused = petgate("waf", "migrate", "--api", deployed, "--list", waf_list)
        assert refused.exit_code == 2 and f"guarded by WAF list {other}" in refused.stderr
        assert petgate("waf", "show", "--list", waf_list).exit_code == 2, "no list created"
        assert "PetgateDenyIps" in apigw.get_rest_api(restApiId=deployed)["policy"].replace("\\", ""), "policy untouched"
    finally:
        run_cli("--local", "waf", "delete", "--list", other)


def test_detach_is_journaled_and_undone(petgate: Any, deployed: str, waf_list: str, local_url: str, undo: Any) -> None:
    url = stage_url(local_url, deployed)
    assert petgate("waf", "block", "--list", waf_list, "--cidr", "127.0.0.52").exit_code == 0
    attached = petgate("-o", "json", "waf", "attach", "--api", deployed, "--list", waf_list)
    detached = petgate("-o", "json", "waf", "detach", "--api", deployed, "--list", waf_list)
    assert detached.json["changed"] is True and status_from("127.0.0.52", url) == 200
    entry = journal_entry(detached.json["journal_id"])
    assert (entry["kind"], entry["command"], entry["api_id"], entry["stage"]) == ("waf-detach", "waf detach", deployed, "test")
    assert entry["before"]["arn"] == attached.json["web_acl_arn"] and entry["after"] is None
    # the attach left the list on the stage, which has none now: its undo would undo the detach's change too
    with pytest.raises(UsageError, match=f"changed after entry {attached.json['journal_id']}"):
        undo(journal_entry(attached.json["journal_id"]))
    assert undo(journal_entry(attached.json["journal_id"]), force=True)["restored"] is None
    dry = undo(entry, dry_run=True)
    assert dry["dry_run"] is True and status_from("127.0.0.52", url) == 200
    undone = undo(entry)
    assert undone["restored"]["arn"] == attached.json["web_acl_arn"] and status_from("127.0.0.52", url) == 403
    # the detach's undo is journaled as an attach: undoing that detaches again
    redo = journal_entry(undone["journal_id"])
    assert (redo["kind"], redo["command"], redo["undoes"]) == ("waf-attach", "undo", entry["id"])
    undo(redo)
    assert status_from("127.0.0.52", url) == 200


def test_delete_is_undone_whole(
    petgate: Any, deployed: str, waf_list: str, local_url: str, undo: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = stage_url(local_url, deployed)
    assert petgate("waf", "attach", "--api", deployed, "--list", waf_list).exit_code == 0
    assert petgate("waf", "block", "--list", waf_list, "--cidr", "127.0.0.53", "--cidr", "2001:db8::53").exit_code == 0
    assert petgate("waf", "block", "--list", waf_list, "--cidr", "127.0.0.54", "--until", "2098-06-01T12:00:00Z").exit_code == 0
    ending = petgate("-o", "json", "waf", "block", "--list", waf_list, "--cidr", "127.0.0.55", "--for", "1h")
    ended = next(name for name in ending.json["ip_sets"] if "-until-" in name)
    before = petgate("-o", "json", "waf", "show", "--list", waf_list).json
    assert petgate("waf", "delete", "--list", waf_list).exit_code == 0
    assert status_from("127.0.0.53", url) == 200
    entry = next(e for e in reversed(journal_entries()) if e["kind"] == "delete")
    assert entry["command"] == "waf delete" and len(entry["sets"]) == 4 and entry["attached"] == [before["attached"][0]]
    later = expiry.now() + timedelta(hours=2)
    with monkeypatch.context() as patched:
        patched.setattr(expiry, "now", lambda *_: later)
        undone = undo(entry)
    assert undone["ended"] == [ended], "a block that has ended since stays lifted"
    after = petgate("-o", "json", "waf", "show", "--list", waf_list).json
    assert after["attached"] == before["attached"]
    kept = [{k: s[k] for k in ("name", "addresses", "expires")} for s in before["ip_sets"] if s["name"] != ended]
    assert [{k: s[k] for k in ("name", "addresses", "expires")} for s in after["ip_sets"]] == kept
    assert status_from("127.0.0.53", url) == 403 and status_from("127.0.0.54", url) == 403
    assert status_from("127.0.0.55", url) == 200
    with pytest.raises(UsageError, match=f"WAF list {waf_list} exists again"):
        undo(entry)


def test_migrate_journals_every_change_as_waf_migrate(petgate: Any, deployed: str, waf_list: str) -> None:
    assert petgate("block-my-ip", "--api", deployed, "--cidr", "192.0.2.91").exit_code == 0
    assert petgate("block-my-ip", "--api", deployed, "--cidr", "192.0.2.92", "--for", "1h").exit_code == 0
    start = len(journal_entries())
    assert petgate("waf", "migrate", "--api", deployed, "--list", waf_list).exit_code == 0
    made = [e for e in journal_entries()[start:] if e["kind"] != "deployment"]
    assert sorted(e["kind"] for e in made) == ["policy", "waf", "waf", "waf-attach"]
    assert {e["command"] for e in made} == {"waf migrate"}


@pytest.fixture()
def undo(local_url: str) -> Any:
    """waf_undo.undo_entry against the local gateway, as `petgate undo` calls it."""
    from petgate.app import App
    from petgate.output import Output
    from petgate.target import Target
    from petgate.waf_undo import undo_entry

    def run(entry: dict[str, Any], force: bool = False, dry_run: bool = False) -> dict[str, Any]:
        return undo_entry(App(Target(local=True, local_url=local_url), Output()), entry, force, dry_run).to_json()

    return run


def journal_entries() -> list[dict[str, Any]]:
    from petgate.journal import Journal

    return Journal().entries()


def journal_entry(entry_id: str) -> dict[str, Any]:
    return next(e for e in journal_entries() if e["id"] == entry_id)
