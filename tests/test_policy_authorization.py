"""petgate/policy/authorization.py: the resource policy and the caller's identity policies
combined as API Gateway's developer guide says ("How API Gateway resource policies affect
authorization workflow", its Policy evaluation outcome tables): every cell of Table A (caller and
API in one account) and Table B (another account), as AWS writes them, then petgate's reason,
side and statement for each; no resource policy; the anonymous caller; identity policies
combined as IAM does."""

from __future__ import annotations

import pytest

from petgate import policy as p
from petgate.policy.authorization import ANONYMOUS, Authorization, Caller, authorize

API_ACCOUNT = "111122223333"
OTHER_ACCOUNT = "444455556666"
STRANGER_ACCOUNT = "999988887777"
API_ID = "abc123defg"
PREFIX = p.api_arn("us-east-1", API_ACCOUNT, API_ID)
ARN = p.request_arn("us-east-1", API_ACCOUNT, API_ID, "test", "GET", "/pets")

SAME = Caller(arn=f"arn:aws:iam::{API_ACCOUNT}:user/alice", user_id="AIDASAMEEXAMPLE")
OTHER = Caller(arn=f"arn:aws:iam::{OTHER_ACCOUNT}:user/bob", user_id="AIDAOTHEREXAMPLE")


def policy(*statements: p.Statement) -> p.Policy:
    return {"Version": p.POLICY_VERSION, "Statement": list(statements)}


def resource_statement(effect: str, account: str, sid: str) -> p.Statement:
    return {"Sid": sid, "Effect": effect, "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
            "Action": "execute-api:Invoke", "Resource": "execute-api:/*"}


def identity_statement(effect: str, resource: str, sid: str) -> p.Statement:
    return {"Sid": sid, "Effect": effect, "Action": "execute-api:Invoke", "Resource": resource}


def resource_side(kind: str, caller: Caller) -> p.CompiledPolicy:
    """The resource policy: allows the caller's account, denies it, or is silent about it (it
    allows a stranger's account only); "none": no policy at all."""
    account = caller.account or ""
    statements = {
        "allow": [resource_statement("Allow", account, "ResourceAllow")],
        "deny": [resource_statement("Allow", STRANGER_ACCOUNT, "ResourceStranger"), resource_statement("Deny", account, "ResourceDeny")],
        "neither": [resource_statement("Allow", STRANGER_ACCOUNT, "ResourceStranger")],
    }
    return p.compile_policy(None if kind == "none" else policy(*statements[kind]), PREFIX)


def identity_side(kind: str) -> list[p.CompiledPolicy]:
    """The caller's identity policies: one that allows Invoke on this API, denies it, or is
    about another API only."""
    statements = {
        "allow": identity_statement("Allow", f"{PREFIX}/*", "IdentityAllow"),
        "deny": identity_statement("Deny", f"{PREFIX}/*/GET/*", "IdentityDeny"),
        "neither": identity_statement("Allow", p.api_arn("us-east-1", API_ACCOUNT, "otherapi00") + "/*", "IdentityElsewhere"),
    }
    return [p.compile_policy(policy(statements[kind]), identity=True)]


def call(caller: Caller = ANONYMOUS) -> p.Request:
    return p.Request(source_ip="203.0.113.7", resource_arn=ARN, caller=caller)


# The tables as the developer guide writes them: (IAM user policy, resource policy, resulting behaviour)
TABLE_A = [
    ("allow", "allow", "Allow"),
    ("allow", "neither", "Allow"),
    ("allow", "deny", "Explicit Deny"),
    ("neither", "allow", "Allow"),
    ("neither", "neither", "Implicit Deny"),
    ("neither", "deny", "Explicit Deny"),
    ("deny", "allow", "Explicit Deny"),
    ("deny", "neither", "Explicit Deny"),
    ("deny", "deny", "Explicit Deny"),
]
TABLE_B = [
    ("allow", "allow", "Allow"),
    ("allow", "neither", "Implicit Deny"),
    ("allow", "deny", "Explicit Deny"),
    ("neither", "allow", "Implicit Deny"),
    ("neither", "neither", "Implicit Deny"),
    ("neither", "deny", "Explicit Deny"),
    ("deny", "allow", "Explicit Deny"),
    ("deny", "neither", "Explicit Deny"),
    ("deny", "deny", "Explicit Deny"),
]
CELLS = [("A", SAME, *row) for row in TABLE_A] + [("B", OTHER, *row) for row in TABLE_B]


def behaviour(outcome: Authorization) -> str:
    return "Allow" if outcome.allowed else "Explicit Deny" if outcome.explicit else "Implicit Deny"


@pytest.mark.parametrize(("table", "caller", "identity", "resource", "expected"), CELLS,
                         ids=[f"table {c[0]}: identity {c[2]}, resource {c[3]}" for c in CELLS])
def test_every_cell_of_tables_a_and_b(table: str, caller: Caller, identity: str, resource: str, expected: str) -> None:
    outcome = authorize(resource_side(resource, caller), call(caller), API_ACCOUNT, identity_side(identity))
    assert (outcome.table, behaviour(outcome)) == (table, expected)
    assert outcome.allowed is (expected == "Allow")


# petgate's reading of each cell: (table, identity, resource, reason, decided_by, deciding statement's Sid)
READINGS = [
    ("A", "allow", "allow", "allowed", "both", "ResourceAllow"),
    ("A", "allow", "neither", "allowed", "identity-policy", "IdentityAllow"),
    ("A", "allow", "deny", "explicit-deny", "resource-policy", "ResourceDeny"),
    ("A", "neither", "allow", "allowed", "resource-policy", "ResourceAllow"),
    ("A", "neither", "neither", "iam-implicit-deny", "both", None),
    ("A", "neither", "deny", "explicit-deny", "resource-policy", "ResourceDeny"),
    ("A", "deny", "allow", "iam-explicit-deny", "identity-policy", "IdentityDeny"),
    ("A", "deny", "neither", "iam-explicit-deny", "identity-policy", "IdentityDeny"),
    ("A", "deny", "deny", "explicit-deny", "both", "ResourceDeny"),
    ("B", "allow", "allow", "allowed", "both", "ResourceAllow"),
    ("B", "allow", "neither", "implicit-deny", "resource-policy", None),
    ("B", "allow", "deny", "explicit-deny", "resource-policy", "ResourceDeny"),
    ("B", "neither", "allow", "iam-implicit-deny", "identity-policy", None),
    ("B", "neither", "neither", "iam-implicit-deny", "both", None),
    ("B", "neither", "deny", "explicit-deny", "resource-policy", "ResourceDeny"),
    ("B", "deny", "allow", "iam-explicit-deny", "identity-policy", "IdentityDeny"),
    ("B", "deny", "neither", "iam-explicit-deny", "identity-policy", "IdentityDeny"),
    ("B", "deny", "deny", "explicit-deny", "both", "ResourceDeny"),
]


@pytest.mark.parametrize(("table", "identity", "resource", "reason", "decided_by", "sid"), READINGS,
                         ids=[f"table {r[0]}: identity {r[1]}, resource {r[2]}" for r in READINGS])
def test_each_cell_says_why_and_who(table: str, identity: str, resource: str, reason: str, decided_by: str,
                                    sid: str | None) -> None:
    caller = SAME if table == "A" else OTHER
    outcome = authorize(resource_side(resource, caller), call(caller), API_ACCOUNT, identity_side(identity))
    assert (outcome.reason, outcome.decided_by, outcome.table) == (reason, decided_by, table)
    assert (outcome.statement or {}).get("Sid") == sid
    assert outcome.explicit is reason.endswith("explicit-deny")
    assert outcome.identity is not None
    assert outcome.identity.reason == {"allow": "allowed", "deny": "explicit-deny", "neither": "implicit-deny"}[identity]
    assert outcome.resource.reason == {"allow": "allowed", "deny": "explicit-deny", "neither": "implicit-deny"}[resource]


def test_the_readings_cover_the_tables() -> None:
    assert [(r[0], r[1], r[2]) for r in READINGS] == [(c[0], c[2], c[3]) for c in CELLS]


# --- no resource policy: "neither allow nor deny" in the tables ------------------------------------

NO_POLICY = [
    # (caller, identity, allowed, reason, decided_by, table)
    (SAME, "allow", True, "allowed", "identity-policy", "A"),
    (SAME, "neither", False, "iam-implicit-deny", "identity-policy", "A"),
    (SAME, "deny", False, "iam-explicit-deny", "identity-policy", "A"),
    (OTHER, "allow", False, "implicit-deny", "resource-policy", "B"),
    (OTHER, "neither", False, "iam-implicit-deny", "identity-policy", "B"),
    (OTHER, "deny", False, "iam-explicit-deny", "identity-policy", "B"),
]


@pytest.mark.parametrize(("caller", "identity", "allowed", "reason", "decided_by", "table"), NO_POLICY,
                         ids=[f"{'same' if r[0] is SAME else 'other'} account, identity {r[1]}" for r in NO_POLICY])
def test_no_resource_policy_on_an_iam_method(caller: Caller, identity: str, allowed: bool, reason: str,
                                             decided_by: str, table: str) -> None:
    outcome = authorize(p.compile_policy(None), call(caller), API_ACCOUNT, identity_side(identity))
    assert (outcome.allowed, outcome.reason, outcome.decided_by, outcome.table) == (allowed, reason, decided_by, table)
    assert outcome.resource.reason == "no-policy"


def test_no_policy_and_no_iam_lets_everyone_in() -> None:
    outcome = authorize(p.compile_policy(None), call(), API_ACCOUNT)
    assert outcome == Authorization(True, "no-policy", "none", None, p.Decision(True, "no-policy"), None, None)


# --- methods without IAM authorization: today's behaviour, the caller unknown ----------------------

WITHOUT_IAM = [
    # (name, resource policy statements, caller, allowed, reason)
    ("Allow * lets the anonymous caller in", [{**resource_statement("Allow", API_ACCOUNT, "All"), "Principal": "*"}], ANONYMOUS, True, "allowed"),
    ("an account's Allow is no allow for the anonymous caller", [resource_statement("Allow", API_ACCOUNT, "Account")], ANONYMOUS, False, "implicit-deny"),
    ("a signature proves nothing without IAM authorization", [resource_statement("Allow", API_ACCOUNT, "Account")], SAME, False, "implicit-deny"),
    ("a Deny of the account misses the unknown caller", [{**resource_statement("Allow", API_ACCOUNT, "All"), "Principal": "*"},
                                                        resource_statement("Deny", API_ACCOUNT, "Account")], SAME, True, "allowed"),
    ("a Deny * reaches the anonymous caller", [{**resource_statement("Deny", API_ACCOUNT, "All"), "Principal": "*"}], SAME, False, "explicit-deny"),
]


@pytest.mark.parametrize(("name", "statements", "caller", "allowed", "reason"), WITHOUT_IAM, ids=[r[0] for r in WITHOUT_IAM])
def test_a_method_without_iam_authorization(name: str, statements: list[p.Statement], caller: Caller, allowed: bool,
                                            reason: str) -> None:
    compiled = p.compile_policy(policy(*statements), PREFIX)
    outcome = authorize(compiled, call(caller), API_ACCOUNT)
    assert (outcome.allowed, outcome.reason, outcome.decided_by, outcome.table, outcome.identity) == (
        allowed, reason, "resource-policy", None, None)
    assert outcome.resource == compiled.evaluate(call(ANONYMOUS)), "the decision is the anonymous caller's"


# --- the anonymous caller on an AWS_IAM method -----------------------------------------------------


@pytest.mark.parametrize("resource", ["allow *", "none", "deny *"])
def test_the_anonymous_caller_on_an_iam_method_is_refused(resource: str) -> None:
    statements = {"allow *": [{**resource_statement("Allow", API_ACCOUNT, "All"), "Principal": "*"}],
                  "deny *": [{**resource_statement("Deny", API_ACCOUNT, "All"), "Principal": "*"}]}
    compiled = p.compile_policy(policy(*statements[resource]) if resource in statements else None, PREFIX)
    outcome = authorize(compiled, call(ANONYMOUS), API_ACCOUNT, identity_side("allow"))
    assert (outcome.allowed, outcome.reason, outcome.decided_by, outcome.table) == (False, "iam-implicit-deny", "identity-policy", None)
    assert outcome.identity == p.Decision(False, "implicit-deny")
    assert outcome.resource == compiled.evaluate(call(ANONYMOUS))


# --- identity policies combined as IAM does --------------------------------------------------------

COMBINED = [
    # (name, identity policies' kinds, allowed, reason, deciding Sid)
    ("no identity policy", [], False, "iam-implicit-deny", None),
    ("one allow", ["allow"], True, "allowed", "IdentityAllow"),
    ("a deny after an allow wins", ["allow", "deny"], False, "iam-explicit-deny", "IdentityDeny"),
    ("a deny before an allow wins", ["deny", "allow"], False, "iam-explicit-deny", "IdentityDeny"),
    ("an allow among silent ones", ["neither", "allow", "neither"], True, "allowed", "IdentityAllow"),
    ("only silent ones", ["neither", "neither"], False, "iam-implicit-deny", None),
]


@pytest.mark.parametrize(("name", "kinds", "allowed", "reason", "sid"), COMBINED, ids=[r[0] for r in COMBINED])
def test_identity_policies_combine(name: str, kinds: list[str], allowed: bool, reason: str, sid: str | None) -> None:
    identities = [compiled for kind in kinds for compiled in identity_side(kind)]
    outcome = authorize(p.compile_policy(None), call(SAME), API_ACCOUNT, identities)
    assert (outcome.allowed, outcome.reason, (outcome.statement or {}).get("Sid")) == (allowed, reason, sid)


def test_an_identity_policy_in_one_document_with_allow_and_deny() -> None:
    both = p.compile_policy(policy(identity_statement("Allow", "*", "All"), identity_statement("Deny", f"{PREFIX}/test/GET/pets", "Pets")), identity=True)
    outcome = authorize(p.compile_policy(None), call(SAME), API_ACCOUNT, [both])
    assert (outcome.reason, (outcome.statement or {}).get("Sid")) == ("iam-explicit-deny", "Pets")
    elsewhere = p.Request("203.0.113.7", p.request_arn("us-east-1", API_ACCOUNT, API_ID, "test", "GET", "/toys"), caller=SAME)
    assert authorize(p.compile_policy(None), elsewhere, API_ACCOUNT, [both]).allowed


# --- principals: sessions, roles, the root user ------------------------------------------------------

SESSION = Caller(arn=f"arn:aws:sts::{OTHER_ACCOUNT}:assumed-role/reader/ci-run", user_id="AROAEXAMPLE:ci-run")
OTHER_ROOT = Caller(arn=f"arn:aws:iam::{OTHER_ACCOUNT}:root")
SAME_ROOT = Caller(arn=f"arn:aws:iam::{API_ACCOUNT}:root")

PRINCIPALS = [
    # (name, resource policy's Principal or None for no policy, caller, identity kind, allowed, reason)
    ("a role ARN lets its session in from another account", {"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:role/reader"}, SESSION, "allow", True, "allowed"),
    ("the session's own ARN lets it in", {"AWS": SESSION.arn}, SESSION, "allow", True, "allowed"),
    ("another role's ARN does not", {"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:role/writer"}, SESSION, "allow", False, "implicit-deny"),
    ("the account lets the session in", {"AWS": OTHER_ACCOUNT}, SESSION, "allow", True, "allowed"),
    ("a role ARN and no identity allow: Table B refuses", {"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:role/reader"}, SESSION, "neither", False, "iam-implicit-deny"),
    ("the root user of the API's account with no policy", None, SAME_ROOT, "neither", True, "allowed"),
    ("another account's root user, its account allowed", {"AWS": OTHER_ACCOUNT}, OTHER_ROOT, "neither", True, "allowed"),
    ("another account's root user, no policy", None, OTHER_ROOT, "neither", False, "implicit-deny"),
    ("a Service principal lets no IAM caller in", {"Service": "lambda.amazonaws.com"}, OTHER, "allow", False, "implicit-deny"),
]


@pytest.mark.parametrize(("name", "principal", "caller", "identity", "allowed", "reason"), PRINCIPALS, ids=[r[0] for r in PRINCIPALS])
def test_principals_through_the_tables(name: str, principal: object, caller: Caller, identity: str, allowed: bool,
                                       reason: str) -> None:
    statement = {**resource_statement("Allow", API_ACCOUNT, "Who"), "Principal": principal}
    compiled = p.compile_policy(None if principal is None else policy(statement), PREFIX)
    identities = [] if caller.arn and caller.arn.endswith(":root") else identity_side(identity)
    outcome = authorize(compiled, call(caller), API_ACCOUNT, identities)
    assert (outcome.allowed, outcome.reason) == (allowed, reason)


def test_the_table_follows_the_callers_account() -> None:
    compiled = resource_side("allow", SAME)
    assert authorize(compiled, call(SAME), API_ACCOUNT, []).table == "A"
    assert authorize(compiled, call(OTHER), API_ACCOUNT, []).table == "B"
    assert authorize(compiled, call(SAME), OTHER_ACCOUNT, []).table == "B", "the API's account decides, not the ARN's"
    assert authorize(compiled, call(SAME), API_ACCOUNT).table is None


def test_caller() -> None:
    assert Caller() == ANONYMOUS and ANONYMOUS.anonymous and not SAME.anonymous
    assert SESSION.account == OTHER_ACCOUNT and SESSION.role_arn == f"arn:aws:iam::{OTHER_ACCOUNT}:role/reader"
    with_path = Caller(arn=SESSION.arn, role_arn=f"arn:aws:iam::{OTHER_ACCOUNT}:role/team/reader")
    assert with_path.role_arn == f"arn:aws:iam::{OTHER_ACCOUNT}:role/team/reader", "a given role ARN (with its path) is kept"
    assert Caller(arn=SAME.arn, account="000000000000").account == "000000000000", "a given account is kept"
    assert SAME.role_arn is None and SAME_ROOT.account == API_ACCOUNT
    china = Caller(arn="arn:aws-cn:sts::123456789012:assumed-role/r/s")
    assert (china.account, china.role_arn) == ("123456789012", "arn:aws-cn:iam::123456789012:role/r")
