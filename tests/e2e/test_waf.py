"""WAF deny lists end to end against petgate local: enforced before the resource policy, no
redeploy, IPv4 and IPv6 in their own sets, the 10,000 quota, concurrent writers, clean delete,
and wafv2 errors with AWS's codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import boto3
import botocore.exceptions
import pytest
import requests
from requests.adapters import HTTPAdapter

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


@pytest.fixture()
def waf_list(petgate: Any) -> Any:
    """A list of this test's own (lists are account-wide), deleted afterwards."""
    name = f"t{os.getpid()}{id(object())}"[-20:]
    yield name
    petgate("waf", "delete", "--list", name)


@pytest.fixture()
def deployed(petgate: Any, api_id: str) -> str:
    assert petgate("deploy", "--api", api_id).exit_code == 0
    return api_id


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
        assert petgate("waf", "attach", "--api", deployed, "--list", other).exit_code == 0
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
