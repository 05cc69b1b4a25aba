"""policy/normalise.py: a policy and what AWS makes of it compare equal; a real change does not."""

from __future__ import annotations

import copy
import json
import random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from petgate import policy as policies
from petgate.policy.normalise import compare, normalise

REGION, ACCOUNT, API = "us-east-1", "123456789012", "a1b2c3d4e5"
ARN = policies.api_arn(REGION, ACCOUNT, API)

SHORT: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "PetgateDenyIps", "Effect": "Deny", "Principal": "*", "Action": ["execute-api:Invoke"],
         "Resource": ["execute-api:/*"],
         "Condition": {"IpAddress": {"aws:SourceIp": ["192.0.2.1/32", "198.51.100.0/24"]}}},
        {"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::111122223333:root"]}, "Action": "execute-api:Invoke",
         "Resource": ["execute-api:/test/GET/pets", "execute-api:/test/POST/pets"]},
        {"Sid": "PetgateAllowInvoke", "Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke",
         "Resource": "execute-api:/*"},
    ],
}


def one_item_lists_as_items(value: Any) -> Any:
    """AWS's habit: every one-item list stored as its item, anywhere in the policy."""
    if isinstance(value, list):
        items = [one_item_lists_as_items(v) for v in value]
        return items[0] if len(items) == 1 else items
    if isinstance(value, dict):
        return {k: (one_item_lists_as_items(v) if k != "Statement" else [one_item_lists_as_items(s) for s in v])
                for k, v in value.items()}
    return value


def as_aws_stores(policy: dict[str, Any], seed: int = 0) -> dict[str, Any] | None:
    """What GetRestApi gives back after petgate local's own rewrite (expand_resources, one-item
    lists, the extra escaping), read back with decode_stored; statements and values shuffled."""
    stored = one_item_lists_as_items(policies.expand_resources(policy, REGION, ACCOUNT, API))
    shuffler = random.Random(seed)
    shuffled = copy.deepcopy(stored)
    shuffler.shuffle(shuffled["Statement"])
    for statement in shuffled["Statement"]:
        for value in statement.values():
            if isinstance(value, list):
                shuffler.shuffle(value)
    shuffled.pop("Version", None)
    return policies.decode_stored(policies.escape_for_storage(shuffled))


def test_every_rewrite_form_is_the_same() -> None:
    assert compare(SHORT, as_aws_stores(SHORT), ARN).same
    assert "\\/" in policies.escape_for_storage(policies.expand_resources(SHORT, REGION, ACCOUNT, API))


def test_principal_star_and_aws_star_are_the_same() -> None:
    other = copy.deepcopy(SHORT)
    other["Statement"][0]["Principal"] = {"AWS": "*"}
    other["Statement"][2]["Principal"] = {"AWS": ["*"]}
    assert compare(SHORT, other, ARN).same


def test_stage_paths_expand_and_an_empty_condition_is_none() -> None:
    file = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke",
                           "Resource": "execute-api:/prod/GET/*", "Condition": {}}]}
    aws = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": ["execute-api:Invoke"],
                          "Resource": [f"{ARN}/prod/GET/*"]}]}
    assert compare(file, aws, ARN).same


def test_an_added_cidr_is_a_change_of_that_statement() -> None:
    aws = as_aws_stores(SHORT)
    changed = copy.deepcopy(SHORT)
    changed["Statement"][0]["Condition"]["IpAddress"]["aws:SourceIp"].append("203.0.113.0/24")
    found = compare(changed, aws, ARN)
    assert not found.same and not found.only_in_file and not found.only_in_aws
    assert list(found.changed) == ["PetgateDenyIps"]
    field = found.changed["PetgateDenyIps"]
    assert list(field) == ["Condition"]
    assert "203.0.113.0/24" in field["Condition"]["file"]["IpAddress"]["aws:SourceIp"]
    assert "203.0.113.0/24" not in field["Condition"]["aws"]["IpAddress"]["aws:SourceIp"]


def test_a_removed_statement_is_only_in_aws() -> None:
    fewer = copy.deepcopy(SHORT)
    del fewer["Statement"][1]  # the Sid-less one
    found = compare(fewer, as_aws_stores(SHORT), ARN)
    assert not found.same and not found.only_in_file and not found.changed
    assert [s.get("Sid") for s in found.only_in_aws] == [None]
    assert found.only_in_aws[0]["Principal"] == {"AWS": ["arn:aws:iam::111122223333:root"]}


def test_allow_turned_deny_and_a_changed_resource_are_changes() -> None:
    aws = as_aws_stores(SHORT)
    deny = copy.deepcopy(SHORT)
    deny["Statement"][2]["Effect"] = "Deny"
    assert compare(deny, aws, ARN).changed == {"PetgateAllowInvoke": {"Effect": {"file": "Deny", "aws": "Allow"}}}
    narrower = copy.deepcopy(SHORT)
    narrower["Statement"][2]["Resource"] = "execute-api:/test/GET/*"
    assert compare(narrower, aws, ARN).changed == {"PetgateAllowInvoke": {"Resource": {
        "file": [f"{ARN}/test/GET/*"], "aws": [f"{ARN}/*"]}}}
    sidless = copy.deepcopy(SHORT)
    sidless["Statement"][1]["Effect"] = "Deny"
    found = compare(sidless, aws, ARN)
    assert len(found.only_in_file) == 1 and len(found.only_in_aws) == 1 and not found.changed


def test_another_api_or_account_is_not_this_one() -> None:
    elsewhere = json.loads(json.dumps(as_aws_stores(SHORT)).replace(ACCOUNT, "999999999999"))
    assert not compare(SHORT, elsewhere, ARN).same


def test_a_missing_policy_has_no_statements() -> None:
    assert normalise(None, ARN) == []
    found = compare(SHORT, None, ARN)
    assert len(found.only_in_file) == 3 and not found.same


# --- the property: a policy and its AWS-rewritten form always compare equal -------------------

_cidrs = st.builds(lambda a, b, n: f"10.{a}.{b}.0/{n}", st.integers(0, 255), st.integers(0, 255), st.integers(16, 32))
_resources = st.sampled_from(["execute-api:/*", "execute-api:/test/GET/pets", "execute-api:/*/POST/*",
                              "execute-api:/prod/*", f"{ARN}/test/GET/*"])
_principals = st.one_of(
    st.just("*"), st.just({"AWS": "*"}),
    st.builds(lambda ids: {"AWS": [f"arn:aws:iam::{i}:root" for i in ids]},
              st.lists(st.sampled_from(["111122223333", "444455556666", "777788889999"]), min_size=1, unique=True)),
)


def _one_or_list(values: st.SearchStrategy[Any], min_size: int = 1) -> st.SearchStrategy[Any]:
    return st.one_of(values, st.lists(values, min_size=min_size, max_size=4, unique=True))


_statements = st.fixed_dictionaries(
    {"Effect": st.sampled_from(["Allow", "Deny"]), "Principal": _principals,
     "Action": _one_or_list(st.just("execute-api:Invoke")), "Resource": _one_or_list(_resources)},
    optional={"Sid": st.sampled_from(["A", "B", "PetgateDenyIps", "PetgateAllowInvoke"]),
              "Condition": st.builds(lambda op, cidrs: {op: {"aws:SourceIp": cidrs}},
                                     st.sampled_from(["IpAddress", "NotIpAddress"]), _one_or_list(_cidrs))},
)
_policies = st.builds(lambda statements: {"Version": "2012-10-17", "Statement": statements},
                      st.lists(_statements, min_size=1, max_size=5))


@settings(max_examples=200, deadline=None)
@given(_policies, st.integers(0, 2**16))
def test_a_policy_and_its_aws_rewritten_form_compare_equal(policy: dict[str, Any], seed: int) -> None:
    policies.validate(policy)
    stored = as_aws_stores(policy, seed)
    found = compare(policy, stored, ARN)
    assert found.same, found
    assert compare(stored, policy, ARN).same
