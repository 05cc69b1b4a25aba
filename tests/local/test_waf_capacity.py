"""Web ACL capacity (WCUs) as the AWS WAF Developer Guide prices each statement: the pure
calculation (petgate/local/waf_capacity.py), and GetWebACL's Capacity and CheckCapacity of a
running local gateway (moto reports 3 for any web ACL and lacks CheckCapacity)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from petgate.local.waf_capacity import rules_capacity

VISIBILITY = {"SampledRequestsEnabled": False, "CloudWatchMetricsEnabled": False, "MetricName": "m"}


def rule(statement: dict[str, Any], name: str = "r") -> dict[str, Any]:
    return {"Name": name, "Priority": 0, "Action": {"Block": {}}, "VisibilityConfig": VISIBILITY, "Statement": statement}


def no_groups(_: str) -> int:
    raise AssertionError("no rule group is referenced")


@pytest.mark.parametrize(("statement", "wcus"), [
    ({"IPSetReferenceStatement": {"ARN": "arn"}}, 1),
    ({"IPSetReferenceStatement": {"ARN": "arn", "IPSetForwardedIPConfig": {"HeaderName": "X-F", "Position": "ANY",
                                                                            "FallbackBehavior": "MATCH"}}}, 5),
    ({"GeoMatchStatement": {"CountryCodes": ["FR"]}}, 1),
    ({"ByteMatchStatement": {"PositionalConstraint": "EXACTLY", "FieldToMatch": {"UriPath": {}},
                             "TextTransformations": [{"Priority": 0, "Type": "NONE"}]}}, 2),
    ({"ByteMatchStatement": {"PositionalConstraint": "CONTAINS", "FieldToMatch": {"AllQueryArguments": {}},
                             "TextTransformations": [{"Priority": 0, "Type": "LOWERCASE"}]}}, 30),
    ({"SqliMatchStatement": {"FieldToMatch": {"JsonBody": {}}, "TextTransformations": []}}, 40),
    ({"RegexPatternSetReferenceStatement": {"ARN": "arn", "FieldToMatch": {"Body": {}}, "TextTransformations": []}}, 25),
    ({"NotStatement": {"Statement": {"IPSetReferenceStatement": {"ARN": "arn"}}}}, 1),
    ({"OrStatement": {"Statements": [{"GeoMatchStatement": {}}, {"XssMatchStatement": {"FieldToMatch": {"Body": {}}}}]}}, 41),
    ({"RateBasedStatement": {"Limit": 100, "ScopeDownStatement": {"LabelMatchStatement": {"Key": "k"}}}}, 3),
], ids=["ip-set", "ip-set-forwarded-any", "geo", "exact-string", "contains-all-query-args-lowercase", "sqli-json-body",
        "regex-pattern-set", "not", "or", "rate-based"])
def test_each_statement_costs_what_the_guide_says(statement: dict[str, Any], wcus: int) -> None:
    assert rules_capacity([rule(statement)], no_groups) == wcus


def test_a_rule_group_costs_its_capacity_and_odd_rules_cost_nothing() -> None:
    assert rules_capacity([rule({"RuleGroupReferenceStatement": {"ARN": "g"}})], {"g": 50}.__getitem__) == 50
    assert rules_capacity("not a list", no_groups) == 0
    assert rules_capacity([None, {"Statement": "x"}, rule({"NoSuchStatement": {}})], no_groups) == 0


def test_the_local_gateway_reports_the_rules_wcus(local_url: str) -> None:
    waf = boto3.client("wafv2", endpoint_url=local_url, region_name="eu-west-2", aws_access_key_id="test",
                       aws_secret_access_key="test")
    ip_set = waf.create_ip_set(Name="capacity", Scope="REGIONAL", IPAddressVersion="IPV4", Addresses=["10.0.0.0/8"])["Summary"]
    one = rule({"IPSetReferenceStatement": {"ARN": ip_set["ARN"]}})
    acl = waf.create_web_acl(Name="capacity", Scope="REGIONAL", DefaultAction={"Allow": {}}, Rules=[one],
                             VisibilityConfig=VISIBILITY)["Summary"]
    assert waf.get_web_acl(Name="capacity", Scope="REGIONAL", Id=acl["Id"])["WebACL"]["Capacity"] == 1
    group = waf.create_rule_group(Name="g", Scope="REGIONAL", Capacity=50, VisibilityConfig=VISIBILITY)["Summary"]
    rules = [one, rule({"RuleGroupReferenceStatement": {"ARN": group["ARN"]}}, name="group")]
    assert waf.check_capacity(Scope="REGIONAL", Rules=rules)["Capacity"] == 51
