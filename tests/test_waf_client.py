"""waf.Waf's LockToken loop with a stand-in client: another writer's WAFOptimisticLockException
means read again and write again (never lose either change), other errors go up, and a set or
web ACL another writer just created is used instead of failing."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from petgate.errors import AwsError
from petgate.waf import MAX_LOCK_RETRIES, Waf


def refusal(code: str, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, operation)


class StandIn:
    """An IP set and a web ACL; `conflicts` writes are refused as if another writer came first."""

    def __init__(self, conflicts: int = 0, code: str = "WAFOptimisticLockException") -> None:
        self.addresses = ["192.0.2.1/32"]
        self.rules: list[dict[str, Any]] = []
        self.conflicts, self.code = conflicts, code
        self.reads = self.writes = 0

    def _maybe_refuse(self, operation: str) -> None:
        self.writes += 1
        if self.conflicts:
            self.conflicts -= 1
            self.addresses.append(f"198.51.100.{self.conflicts}/32")  # what the other writer added
            raise refusal(self.code, operation)

    def get_ip_set(self, **_: Any) -> dict[str, Any]:
        self.reads += 1
        return {"IPSet": {"Addresses": list(self.addresses), "Description": "d"}, "LockToken": str(self.reads)}

    def update_ip_set(self, Addresses: list[str], **_: Any) -> None:  # noqa: N803 (boto3's names)
        self._maybe_refuse("UpdateIPSet")
        self.addresses = list(Addresses)

    def get_web_acl(self, **_: Any) -> dict[str, Any]:
        self.reads += 1
        return {"WebACL": {"Rules": list(self.rules), "DefaultAction": {"Allow": {}}, "VisibilityConfig": {}},
                "LockToken": str(self.reads)}

    def update_web_acl(self, Rules: list[dict[str, Any]], **_: Any) -> None:  # noqa: N803
        self._maybe_refuse("UpdateWebACL")
        self.rules = list(Rules)


SET = {"Name": "petgate-t-ipv4", "Id": "1"}


def test_a_conflict_reads_again_and_keeps_both_changes() -> None:
    client = StandIn(conflicts=2)
    waf = Waf(client, sleep=lambda _s: None)
    before, after = waf.edit_ip_set(SET, lambda current: [*current, "203.0.113.9/32"])
    assert waf.lock_retries == 2 and client.writes == 3
    assert "203.0.113.9/32" in client.addresses and "198.51.100.0/32" in client.addresses and "198.51.100.1/32" in client.addresses
    assert after == client.addresses and "203.0.113.9/32" not in before


def test_nothing_to_change_writes_nothing() -> None:
    client = StandIn()
    assert Waf(client).edit_ip_set(SET, lambda current: list(reversed(current))) == (["192.0.2.1/32"], ["192.0.2.1/32"])
    assert client.writes == 0


def test_rules_take_the_same_loop() -> None:
    client = StandIn(conflicts=1)
    waf = Waf(client, sleep=lambda _s: None)
    waf.edit_rules({"Name": "petgate-t", "Id": "2"}, lambda rules: [*rules, {"Name": "r"}])
    assert client.rules == [{"Name": "r"}] and waf.lock_retries == 1


def test_a_writer_that_always_wins_ends_with_a_clear_error() -> None:
    waf = Waf(StandIn(conflicts=MAX_LOCK_RETRIES), sleep=lambda _s: None)
    with pytest.raises(AwsError, match="IP set petgate-t-ipv4 kept changing under petgate"):
        waf.edit_ip_set(SET, lambda current: [*current, "203.0.113.9/32"])


def test_other_errors_are_not_retried() -> None:
    client = StandIn(conflicts=1, code="WAFInvalidParameterException")
    with pytest.raises(AwsError) as raised:
        Waf(client, sleep=lambda _s: None).edit_ip_set(SET, lambda current: [*current, "203.0.113.9/32"])
    assert raised.value.code == "WAFInvalidParameterException" and client.writes == 1


def test_a_set_another_writer_just_created_is_used() -> None:
    class Racing:
        def create_ip_set(self, **_: Any) -> None:
            raise refusal("WAFDuplicateItemException", "CreateIPSet")

        def list_ip_sets(self, **_: Any) -> dict[str, Any]:
            return {"IPSets": [{"Name": "petgate-t-ipv4", "Id": "theirs", "ARN": "arn"}]}

    assert Waf(Racing()).create_ip_set("petgate-t-ipv4", 4, "d")["Id"] == "theirs"


# --- the WAF store's unblock: exactly the addresses given (waf_ranges.lift, waf_ranges.difference) ---

def test_lift_splits_a_wider_entry_around_the_addresses_removed() -> None:
    from petgate.waf_ranges import lift

    assert lift(["198.18.0.2/31"], ["198.18.0.3/32"]) == ["198.18.0.2/32"]
    assert lift(["10.0.0.0/24", "192.0.2.1/32"], ["10.0.0.128/25"]) == ["10.0.0.0/25", "192.0.2.1/32"]
    assert lift(["10.1.0.0/16", "2001:db8::/48"], ["10.0.0.0/8"]) == ["2001:db8::/48"], "a wider hole lifts it whole"
    assert lift(["2001:db8::/127"], ["2001:db8::1/128"]) == ["2001:db8::/128"]
    assert lift(["192.0.2.0/24"], ["198.51.100.0/24"]) == ["192.0.2.0/24"]


def test_difference_names_what_was_lifted_and_what_is_new() -> None:
    from petgate.waf_ranges import difference

    assert difference(["198.18.0.2/31"], ["198.18.0.2/32"]) == ([], ["198.18.0.3/32"]), "a split adds nothing"
    assert difference(["198.18.0.2/32"], ["198.18.0.2/31"]) == (["198.18.0.2/31"], []), "a merge lifts nothing"
    assert difference(["192.0.2.1/32"], []) == ([], ["192.0.2.1/32"])
    many = [f"10.{n // 250}.{n % 250}.1/32" for n in range(10_000)]
    assert difference(many, many[1:] + ["192.0.2.1/32"]) == (["192.0.2.1/32"], [many[0]])
