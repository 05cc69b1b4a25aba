# ruff: noqa: N803 - the stand-in takes boto3's argument names
"""waf_list.WafList through its public functions, with stand-in collaborators and no server.

WAF itself is an in-memory stand-in with the wafv2 client's methods (the ones petgate's Waf
calls), whose LockToken changes on every write and refuses a write under a stale one as WAF
does (WAFOptimisticLockException). petgate's own `Waf` runs over it, so its LockToken loop
and its 10,000 check are the real ones. The app is a stand-in too: .waf, .journal (a real
Journal on a tmp directory) and .target.describe()."""

from __future__ import annotations

import ipaddress
import itertools
import types
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from petgate.errors import AwsError, UsageError
from petgate.journal import Journal
from petgate.waf import MAX_ADDRESSES, MAX_LOCK_RETRIES, Waf
from petgate.waf_list import WafList

ACCOUNT = "123456789012"
LIST = "tests"
V4, V6 = f"petgate-{LIST}-ipv4", f"petgate-{LIST}-ipv6"
STAGE_ARN = "arn:aws:apigateway:us-east-1::/restapis/abcdefghij/stages/test"
WHERE = {"kind": "local", "endpoint": "http://127.0.0.1:4599", "region": "us-east-1"}


def refusal(code: str, operation: str, message: str = "") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message or code}}, operation)


class FakeWaf:
    """AWS WAF (REGIONAL) in memory, as boto3's wafv2 client shows it."""

    def __init__(self) -> None:
        self.ip_sets: dict[str, dict[str, Any]] = {}  # by Id
        self.acls: dict[str, dict[str, Any]] = {}
        self.associations: dict[str, str] = {}  # resource ARN -> web ACL Id
        self.calls: list[tuple[str, str]] = []  # (operation, the name it touched)
        self.before_update: Callable[[dict[str, Any]], None] = lambda _ip_set: None  # another writer's turn

    # -- what a test asks -----------------------------------------------------------------------

    @property
    def writes(self) -> list[tuple[str, str]]:
        return [(op, name) for op, name in self.calls if not op.startswith(("Get", "List"))]

    def reads_of(self, name: str) -> int:
        return self.calls.count(("GetIPSet", name))

    def addresses(self, name: str) -> list[str]:
        return list(self._set_named(name)["Addresses"])

    def _set_named(self, name: str) -> dict[str, Any]:
        return next(s for s in self.ip_sets.values() if s["Name"] == name)

    def acl_named(self, name: str) -> dict[str, Any]:
        return next(a for a in self.acls.values() if a["Name"] == name)

    def put(self, name: str, version: int, addresses: list[str]) -> None:
        """A set as it stands in WAF already (made earlier, by any machine)."""
        self.create_ip_set(Name=name, Scope="REGIONAL", IPAddressVersion=f"IPV{version}", Addresses=addresses,
                           Description="petgate deny list")
        self.calls.clear()

    # -- IP sets --------------------------------------------------------------------------------

    @staticmethod
    def _summary(thing: dict[str, Any]) -> dict[str, Any]:
        return {k: thing[k] for k in ("Name", "Id", "ARN", "LockToken", "Description")}

    def list_ip_sets(self, Scope: str, Limit: int = 100, NextMarker: str | None = None) -> dict[str, Any]:
        assert Scope == "REGIONAL"
        self.calls.append(("ListIPSets", ""))
        return {"IPSets": [self._summary(s) for s in self.ip_sets.values()]}

    def create_ip_set(self, Name: str, Scope: str, IPAddressVersion: str, Addresses: list[str],
                      Description: str = "") -> dict[str, Any]:
        self.calls.append(("CreateIPSet", Name))
        if any(s["Name"] == Name for s in self.ip_sets.values()):
            raise refusal("WAFDuplicateItemException", "CreateIPSet")
        set_id = uuid.uuid4().hex
        self.ip_sets[set_id] = {
            "Name": Name, "Id": set_id, "ARN": f"arn:aws:wafv2:us-east-1:{ACCOUNT}:regional/ipset/{Name}/{set_id}",
            "IPAddressVersion": IPAddressVersion, "Addresses": list(Addresses), "Description": Description,
            "LockToken": uuid.uuid4().hex,
        }
        return {"Summary": self._summary(self.ip_sets[set_id])}

    def _ip_set(self, Name: str, Id: str) -> dict[str, Any]:
        found = self.ip_sets.get(Id)
        if found is None or found["Name"] != Name:
            raise refusal("WAFNonexistentItemException", "GetIPSet")
        return found

    def get_ip_set(self, Name: str, Scope: str, Id: str) -> dict[str, Any]:
        self.calls.append(("GetIPSet", Name))
        found = self._ip_set(Name, Id)
        shown = {k: (list(v) if isinstance(v, list) else v) for k, v in found.items() if k != "LockToken"}
        return {"IPSet": shown, "LockToken": found["LockToken"]}

    def update_ip_set(self, Name: str, Scope: str, Id: str, Addresses: list[str], LockToken: str,
                      Description: str = "") -> dict[str, Any]:
        self.calls.append(("UpdateIPSet", Name))
        found = self._ip_set(Name, Id)
        self.before_update(found)
        if LockToken != found["LockToken"]:
            raise refusal("WAFOptimisticLockException", "UpdateIPSet")
        if len(Addresses) > MAX_ADDRESSES:
            raise refusal("WAFLimitsExceededException", "UpdateIPSet")
        found.update(Addresses=list(Addresses), Description=Description, LockToken=uuid.uuid4().hex)
        return {"NextLockToken": found["LockToken"]}

    def delete_ip_set(self, Name: str, Scope: str, Id: str, LockToken: str) -> dict[str, Any]:
        self.calls.append(("DeleteIPSet", Name))
        if LockToken != self._ip_set(Name, Id)["LockToken"]:
            raise refusal("WAFOptimisticLockException", "DeleteIPSet")
        del self.ip_sets[Id]
        return {}

    # -- web ACLs -------------------------------------------------------------------------------

    def list_web_acls(self, Scope: str, Limit: int = 100, NextMarker: str | None = None) -> dict[str, Any]:
        self.calls.append(("ListWebACLs", ""))
        return {"WebACLs": [self._summary(a) for a in self.acls.values()]}

    def create_web_acl(self, Name: str, Scope: str, DefaultAction: dict[str, Any], Rules: list[dict[str, Any]],
                       VisibilityConfig: dict[str, Any], Description: str = "") -> dict[str, Any]:
        self.calls.append(("CreateWebACL", Name))
        if any(a["Name"] == Name for a in self.acls.values()):
            raise refusal("WAFDuplicateItemException", "CreateWebACL")
        arns = {s["ARN"] for s in self.ip_sets.values()}
        for rule in Rules:
            if rule["Statement"]["IPSetReferenceStatement"]["ARN"] not in arns:
                raise refusal("WAFNonexistentItemException", "CreateWebACL")
        acl_id = uuid.uuid4().hex
        self.acls[acl_id] = {
            "Name": Name, "Id": acl_id, "ARN": f"arn:aws:wafv2:us-east-1:{ACCOUNT}:regional/webacl/{Name}/{acl_id}",
            "DefaultAction": DefaultAction, "Rules": list(Rules), "VisibilityConfig": VisibilityConfig,
            "Description": Description, "LockToken": uuid.uuid4().hex,
        }
        return {"Summary": self._summary(self.acls[acl_id])}

    def get_web_acl(self, Name: str, Scope: str, Id: str) -> dict[str, Any]:
        self.calls.append(("GetWebACL", Name))
        found = self.acls[Id]
        return {"WebACL": {k: v for k, v in found.items() if k != "LockToken"}, "LockToken": found["LockToken"]}

    def update_web_acl(self, Name: str, Scope: str, Id: str, DefaultAction: dict[str, Any],
                       Rules: list[dict[str, Any]], VisibilityConfig: dict[str, Any], LockToken: str,
                       **kept: Any) -> dict[str, Any]:
        self.calls.append(("UpdateWebACL", Name))
        found = self.acls[Id]
        if LockToken != found["LockToken"]:
            raise refusal("WAFOptimisticLockException", "UpdateWebACL")
        found.update(DefaultAction=DefaultAction, Rules=list(Rules), VisibilityConfig=VisibilityConfig,
                     LockToken=uuid.uuid4().hex, **kept)
        return {"NextLockToken": found["LockToken"]}

    # -- stages ---------------------------------------------------------------------------------

    def get_web_acl_for_resource(self, ResourceArn: str) -> dict[str, Any]:
        self.calls.append(("GetWebACLForResource", ResourceArn))
        acl_id = self.associations.get(ResourceArn)
        return {"WebACL": {k: v for k, v in self.acls[acl_id].items() if k != "LockToken"}} if acl_id else {}

    def associate_web_acl(self, WebACLArn: str, ResourceArn: str) -> dict[str, Any]:
        self.calls.append(("AssociateWebACL", ResourceArn))
        self.associations[ResourceArn] = next(i for i, a in self.acls.items() if a["ARN"] == WebACLArn)
        return {}


@pytest.fixture()
def fake() -> FakeWaf:
    return FakeWaf()


@pytest.fixture()
def slept() -> list[float]:
    return []


@pytest.fixture()
def warned() -> list[str]:
    return []


@pytest.fixture()
def app(fake: FakeWaf, slept: list[float], warned: list[str], tmp_path: Path) -> Any:
    return types.SimpleNamespace(
        waf=Waf(fake, sleep=slept.append),
        journal=Journal(tmp_path / "state", warn=warned.append),
        target=types.SimpleNamespace(describe=lambda: dict(WHERE)),
    )


@pytest.fixture()
def existing(fake: FakeWaf, app: Any) -> WafList:
    """A list that exists (its two sets and its web ACL), holding nothing yet."""
    WafList(app, LIST).web_acl(create=True)
    fake.calls.clear()
    return WafList(app, LIST)


def journaled(app: Any) -> list[dict[str, Any]]:
    return app.journal.entries()


# --- a new list ------------------------------------------------------------------------------------


def test_the_first_block_makes_the_list_and_journals_the_change(fake: FakeWaf, app: Any) -> None:
    result = WafList(app, LIST).change(["192.0.2.7"], [])
    assert result.added == ["192.0.2.7/32"] and result.removed == [] and result.changed is True
    assert fake.addresses(V4) == ["192.0.2.7/32"] and fake.addresses(V6) == []
    acl = fake.acl_named(f"petgate-{LIST}")
    assert acl["DefaultAction"] == {"Allow": {}}
    rules = {r["Name"]: r for r in acl["Rules"]}
    assert rules[f"petgate-{LIST}-block-ipv4"]["Statement"]["IPSetReferenceStatement"]["ARN"] == fake._set_named(V4)["ARN"]
    assert rules[f"petgate-{LIST}-block-ipv6"]["Statement"]["IPSetReferenceStatement"]["ARN"] == fake._set_named(V6)["ARN"]
    assert all(r["Action"] == {"Block": {}} for r in acl["Rules"])
    [entry] = journaled(app)
    assert entry["kind"] == "waf" and entry["command"] == "waf block" and entry["list"] == LIST
    assert entry["target"] == WHERE
    assert entry["ip_sets"] == {V4: {"before": [], "after": ["192.0.2.7/32"]}}
    assert result.journal_id == entry["id"]


# --- block and unblock split a stored range --------------------------------------------------------


def test_block_merges_and_unblock_splits_a_stored_range(fake: FakeWaf, app: Any, existing: WafList) -> None:
    blocked = existing.change(["198.18.0.2", "198.18.0.3"], [])
    assert fake.addresses(V4) == ["198.18.0.2/31"], "two neighbours are stored as one /31"
    assert blocked.added == ["198.18.0.2/31"] and blocked.ip_sets == {V4: 1}
    unblocked = WafList(app, LIST).change([], ["198.18.0.3"])
    assert fake.addresses(V4) == ["198.18.0.2/32"], "the /31 is split: .2 stays blocked"
    assert unblocked.removed == ["198.18.0.3/32"] and unblocked.added == []
    assert unblocked.changed is True and unblocked.ip_sets == {V4: 1}
    block, unblock = journaled(app)
    assert unblock["command"] == "waf unblock"
    assert unblock["ip_sets"] == {V4: {"before": ["198.18.0.2/31"], "after": ["198.18.0.2/32"]}}
    assert block["ip_sets"] == {V4: {"before": [], "after": ["198.18.0.2/31"]}}


def test_unblock_inside_a_wider_range_leaves_the_rest(fake: FakeWaf, app: Any) -> None:
    fake.put(V4, 4, ["10.0.0.0/24"])
    fake.put(V6, 6, [])
    result = WafList(app, LIST).change([], ["10.0.0.128/25"])
    assert fake.addresses(V4) == ["10.0.0.0/25"] and result.removed == ["10.0.0.128/25"]


def test_an_address_already_blocked_writes_nothing(fake: FakeWaf, app: Any, existing: WafList) -> None:
    existing.change(["198.18.0.2", "198.18.0.3"], [])
    fake.calls.clear()
    entries = len(journaled(app))
    for again in (["198.18.0.3"], ["198.18.0.2/31"], ["198.18.0.2", "198.18.0.3/32"]):
        result = WafList(app, LIST).change(again, [])
        assert result.changed is False and result.added == [] and "journal_id" not in result.to_json()
    assert fake.writes == [], "no UpdateIPSet, no CreateIPSet, no web ACL change"
    assert len(journaled(app)) == entries
    assert fake.addresses(V4) == ["198.18.0.2/31"]


def test_unblocking_an_address_not_blocked_writes_nothing(fake: FakeWaf, app: Any, existing: WafList) -> None:
    existing.change(["192.0.2.1"], [])
    fake.calls.clear()
    result = WafList(app, LIST).change([], ["192.0.2.2", "2001:db8::1"])
    assert result.changed is False and result.removed == [] and fake.writes == []


def test_only_the_set_of_the_ip_version_given_is_read_and_written(fake: FakeWaf, app: Any, existing: WafList) -> None:
    existing.change(["2001:db8::/48"], [])
    assert fake.reads_of(V6) == 1 and fake.reads_of(V4) == 0
    assert fake.writes == [("UpdateIPSet", V6)]
    assert fake.addresses(V6) == ["2001:db8::/48"] and fake.addresses(V4) == []


def test_ipv4_and_ipv6_go_to_their_own_sets(fake: FakeWaf, app: Any, existing: WafList) -> None:
    result = existing.change(["192.0.2.9", "2001:db8::9"], [])
    assert fake.addresses(V4) == ["192.0.2.9/32"] and fake.addresses(V6) == ["2001:db8::9/128"]
    assert sorted(result.added) == ["192.0.2.9/32", "2001:db8::9/128"]


def test_unblock_everything_empties_every_set(fake: FakeWaf, app: Any, existing: WafList) -> None:
    existing.change(["192.0.2.9", "2001:db8::9"], [])
    result = WafList(app, LIST).change([], [], everything=True)
    assert fake.addresses(V4) == [] and fake.addresses(V6) == []
    assert sorted(result.removed) == ["192.0.2.9/32", "2001:db8::9/128"]


def test_slash_zero_is_refused_before_anything_is_read(fake: FakeWaf, app: Any, existing: WafList) -> None:
    with pytest.raises(UsageError, match="does not take /0"):
        existing.change(["0.0.0.0/0"], [])
    assert fake.calls == []


# --- LockToken: another writer came first ----------------------------------------------------------


def test_a_writer_that_loses_twice_reads_again_and_keeps_both_changes(fake: FakeWaf, app: Any, existing: WafList,
                                                                      slept: list[float]) -> None:
    theirs = iter(["203.0.113.1/32", "203.0.113.3/32"])

    def another_writer(ip_set: dict[str, Any]) -> None:
        address = next(theirs, None)
        if address is not None:  # they write first: our LockToken is stale
            ip_set.update(Addresses=[*ip_set["Addresses"], address], LockToken=uuid.uuid4().hex)

    fake.before_update = another_writer
    result = existing.change(["192.0.2.1"], [])
    assert sorted(fake.addresses(V4)) == ["192.0.2.1/32", "203.0.113.1/32", "203.0.113.3/32"], "nothing lost"
    assert result.lock_retries == 2 and fake.calls.count(("UpdateIPSet", V4)) == 3
    assert fake.reads_of(V4) == 3, "a fresh read (and LockToken) for every attempt"
    assert result.added == ["192.0.2.1/32"], "their addresses are not ours"
    assert len(slept) == 2 and all(0 < s <= 0.5 for s in slept), "jitter between attempts"
    [entry] = journaled(app)
    assert entry["ip_sets"][V4]["before"] == ["203.0.113.1/32", "203.0.113.3/32"]


def test_a_writer_that_always_loses_ends_with_a_clear_error_after_max_lock_retries(
    fake: FakeWaf, app: Any, existing: WafList, slept: list[float]
) -> None:
    counter = itertools.count(1)

    def another_writer(ip_set: dict[str, Any]) -> None:
        ip_set.update(Addresses=[*ip_set["Addresses"], f"203.0.113.{next(counter)}/32"], LockToken=uuid.uuid4().hex)

    fake.before_update = another_writer
    with pytest.raises(AwsError) as raised:
        existing.change(["192.0.2.1"], [])
    assert MAX_LOCK_RETRIES == 8
    # _until_written makes MAX_LOCK_RETRIES attempts in all, each counted as a lock retry
    assert fake.calls.count(("UpdateIPSet", V4)) == MAX_LOCK_RETRIES
    assert fake.reads_of(V4) == MAX_LOCK_RETRIES
    assert app.waf.lock_retries == MAX_LOCK_RETRIES
    assert raised.value.message == f"IP set {V4} kept changing under petgate"
    assert raised.value.hint == "run the command again; nothing was lost"
    assert raised.value.code != "WAFOptimisticLockException", "petgate's own error, not WAF's last refusal"
    assert "192.0.2.1/32" not in fake.addresses(V4) and len(fake.addresses(V4)) == MAX_LOCK_RETRIES
    assert journaled(app) == [], "nothing was written by us: nothing journaled"


def test_another_refusal_is_not_retried(fake: FakeWaf, app: Any, existing: WafList) -> None:
    def refuse(_ip_set: dict[str, Any]) -> None:
        raise refusal("WAFInvalidParameterException", "UpdateIPSet", "bad address")

    fake.before_update = refuse
    with pytest.raises(AwsError) as raised:
        existing.change(["192.0.2.1"], [])
    assert raised.value.code == "WAFInvalidParameterException" and fake.calls.count(("UpdateIPSet", V4)) == 1
    assert app.waf.lock_retries == 0


# --- the 10,000 quota ----------------------------------------------------------------------------------


def spaced(count: int, start: str = "10.0.0.1") -> list[str]:
    """`count` /32s no two of which merge (every other address)."""
    first = int(ipaddress.IPv4Address(start))
    return [f"{ipaddress.IPv4Address(first + 2 * n)}/32" for n in range(count)]


def test_a_10001st_address_is_refused_before_any_write(fake: FakeWaf, app: Any) -> None:
    full = spaced(MAX_ADDRESSES)
    fake.put(V4, 4, full)
    fake.put(V6, 6, [])
    with pytest.raises(UsageError) as raised:
        WafList(app, LIST).change(["192.0.2.1"], [])
    assert raised.value.message == (
        f"IP set {V4} would hold 10,001 addresses; AWS WAF takes at most 10,000 per set (nothing was written)")
    assert fake.writes == [] and fake.addresses(V4) == full and journaled(app) == []


def test_the_10000th_address_is_taken(fake: FakeWaf, app: Any) -> None:
    fake.put(V4, 4, spaced(MAX_ADDRESSES - 1))
    fake.put(V6, 6, [])
    result = WafList(app, LIST).change(["192.0.2.1"], [])
    assert result.changed is True and len(fake.addresses(V4)) == MAX_ADDRESSES
    assert fake.writes == [("UpdateIPSet", V4)]


def test_a_full_set_still_takes_an_address_that_merges(fake: FakeWaf, app: Any) -> None:
    full = spaced(MAX_ADDRESSES)
    fake.put(V4, 4, full)
    fake.put(V6, 6, [])
    neighbour = str(ipaddress.IPv4Address(int(ipaddress.IPv4Address("10.0.0.1")) - 1))  # 10.0.0.0 + 10.0.0.1 = /31
    WafList(app, LIST).change([neighbour], [])
    assert len(fake.addresses(V4)) == MAX_ADDRESSES and "10.0.0.0/31" in fake.addresses(V4)


# --- blocks that end -----------------------------------------------------------------------------------


def test_a_block_that_ends_goes_to_a_set_and_rule_of_its_own(fake: FakeWaf, app: Any, existing: WafList) -> None:
    clock = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
    until = clock + timedelta(hours=1)
    result = existing.change(["192.0.2.5"], [], until=until, clock=clock)
    group = f"{V4}-until-20300101T130000Z"
    assert fake.addresses(group) == ["192.0.2.5/32"] and fake.addresses(V4) == []
    assert result.added == ["192.0.2.5/32"] and result.until == "2030-01-01T13:00:00Z"
    rules = fake.acl_named(f"petgate-{LIST}")["Rules"]
    rule = next(r for r in rules if r["Name"] == f"petgate-{LIST}-block-ipv4-until-20300101T130000Z")
    assert rule["Statement"]["IPSetReferenceStatement"]["ARN"] == fake._set_named(group)["ARN"]
    assert rule["Priority"] == 2 and rule["Action"] == {"Block": {}}


def test_an_address_blocked_for_good_is_not_added_to_a_block_that_ends(fake: FakeWaf, app: Any, existing: WafList) -> None:
    existing.change(["192.0.2.0/24"], [])
    fake.calls.clear()
    clock = datetime(2030, 1, 1, tzinfo=UTC)
    result = WafList(app, LIST).change(["192.0.2.5"], [], until=clock + timedelta(hours=1), clock=clock)
    assert result.changed is False and fake.writes == []


# --- attach ---------------------------------------------------------------------------------------------


def test_attach_makes_the_list_and_journals_what_it_replaced(fake: FakeWaf, app: Any) -> None:
    result = WafList(app, LIST).attach(STAGE_ARN, api_id="abcdefghij", stage="test")
    acl = fake.acl_named(f"petgate-{LIST}")
    assert fake.associations[STAGE_ARN] == acl["Id"]
    assert result.changed is True and result.replaced is None and result.web_acl_arn == acl["ARN"]
    [entry] = journaled(app)
    assert entry["kind"] == "waf-attach" and entry["before"] is None
    assert entry["after"] == {"arn": acl["ARN"], "name": acl["Name"]} and entry["api_id"] == "abcdefghij"
    fake.calls.clear()
    again = WafList(app, LIST).attach(STAGE_ARN)
    assert again.changed is False and fake.writes == [] and len(journaled(app)) == 1


def test_attach_refuses_a_web_acl_that_is_not_petgates(fake: FakeWaf, app: Any) -> None:
    fake.create_web_acl(Name="mine", Scope="REGIONAL", DefaultAction={"Allow": {}}, Rules=[], VisibilityConfig={})
    fake.associations[STAGE_ARN] = fake.acl_named("mine")["Id"]
    fake.calls.clear()
    with pytest.raises(UsageError, match="guarded by web ACL mine, which is not petgate's"):
        WafList(app, LIST).attach(STAGE_ARN)
    assert fake.writes == [] and journaled(app) == []


def test_a_journal_that_cannot_be_written_does_not_stop_the_change(fake: FakeWaf, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    warned: list[str] = []
    app = types.SimpleNamespace(waf=Waf(fake, sleep=lambda _s: None), journal=Journal(tmp_path / "file" / "d", warn=warned.append),
                                target=types.SimpleNamespace(describe=lambda: dict(WHERE)))
    result = WafList(app, LIST).change(["192.0.2.1"], [])
    assert fake.addresses(V4) == ["192.0.2.1/32"] and result.journal_id is None
    assert len(warned) == 1 and "not journaled" in warned[0]


# --- sync: one read serves the write, unless another writer came in between ------------------------------


def test_sync_reads_each_set_once_and_writes_under_that_read(fake: FakeWaf, app: Any) -> None:
    fake.put(V4, 4, ["192.0.2.1/32"])
    fake.put(V6, 6, [])
    seen: list[list[str]] = []

    def decide(current: list[str]) -> tuple[list[str], list[str]]:
        seen.append(current)
        return ["192.0.2.2/32"], ["192.0.2.1/32"]

    result = WafList(app, LIST).sync(decide, dry_run=False)
    assert seen == [["192.0.2.1/32"]] and result.changed is True
    assert fake.addresses(V4) == ["192.0.2.2/32"]
    assert fake.reads_of(V4) == 1, "the read decide saw guards the write: not read again"
    assert fake.writes == [("UpdateIPSet", V4)]
    assert journaled(app)[0]["command"] == "waf sync"


def test_sync_reads_again_when_another_writer_came_in_between(fake: FakeWaf, app: Any) -> None:
    fake.put(V4, 4, ["192.0.2.1/32"])
    fake.put(V6, 6, [])
    theirs = iter(["203.0.113.1/32"])

    def another_writer(ip_set: dict[str, Any]) -> None:
        address = next(theirs, None)
        if address is not None:
            ip_set.update(Addresses=[*ip_set["Addresses"], address], LockToken=uuid.uuid4().hex)

    fake.before_update = another_writer
    result = WafList(app, LIST).sync(lambda _current: (["192.0.2.2/32"], ["192.0.2.1/32"]), dry_run=False)
    assert sorted(fake.addresses(V4)) == ["192.0.2.2/32", "203.0.113.1/32"], "theirs kept, ours applied"
    assert result.lock_retries == 1 and fake.reads_of(V4) == 2


def test_sync_dry_run_writes_nothing(fake: FakeWaf, app: Any) -> None:
    fake.put(V4, 4, ["192.0.2.1/32"])
    fake.put(V6, 6, [])
    result = WafList(app, LIST).sync(lambda _current: (["192.0.2.2/32"], []), dry_run=True)
    assert result.dry_run is True and result.added == ["192.0.2.2/32"]
    assert fake.writes == [] and journaled(app) == []
