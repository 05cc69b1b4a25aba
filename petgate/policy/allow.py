"""The console's other resource-policy templates, merged like the deny list: pure functions.

- "IP Range Whitelist": only these addresses may invoke (Deny with NotIpAddress + Allow);
- "Account Whitelist": these AWS accounts may invoke (Allow with Principal AWS ...:root); its
  statement also holds IAM users and roles (`allow-principals`), as the developer guide's
  "Allow roles in another AWS account to use an API" example names them: one list of principals;
- "VPC Whitelist": only these VPCs / VPC endpoints may invoke (Deny with StringNotEquals).
Each has its own Sid; the user's statements are kept; petgate adds its `Allow *` statement only
to a policy it creates (where the template itself has one).

Pure functions over model.py's policies; `would_refuse` asks the evaluator (evaluate.py), the
one other module of petgate.policy this one imports.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from petgate.policy import model as p
from petgate.policy.evaluate import Decision, Request, api_arn_in, evaluate

ONLY_IPS_SID = p.ONLY_IPS_SID
ACCOUNTS_SID = p.ACCOUNTS_SID
VPC_SID = p.VPC_SID
VPCE_SID = p.VPCE_SID


@dataclass(frozen=True)
class ListStatement:
    """A petgate statement that carries one list of values, and where that list lives."""

    sid: str
    build: Callable[[list[str]], p.Statement]
    read: Callable[[p.Statement], list[str]]
    write: Callable[[p.Statement, list[str]], None]
    needs_allow: bool  # the template pairs a Deny with an Allow for everyone
    canonical: Callable[[str], str] = str


def _condition_list(operator: str, key: str) -> tuple[Callable[[p.Statement], list[str]], Callable[[p.Statement, list[str]], None]]:
    def read(statement: p.Statement) -> list[str]:
        value = statement.get("Condition", {}).get(operator, {}).get(key, [])
        return [str(v) for v in (value if isinstance(value, list) else [value])]

    def write(statement: p.Statement, values: list[str]) -> None:
        statement.setdefault("Condition", {}).setdefault(operator, {})[key] = values

    return read, write


def _deny_unless(sid: str, operator: str, key: str) -> Callable[[list[str]], p.Statement]:
    def build(values: list[str]) -> p.Statement:
        return {
            "Sid": sid, "Effect": "Deny", "Principal": "*", "Action": p.INVOKE_ACTION,
            "Resource": [p.ALL_RESOURCES], "Condition": {operator: {key: values}},
        }

    return build


# An IAM principal a resource policy's Principal names by ARN (IAM User Guide,
# "reference_policies_elements_principal" and "reference_identifiers", IAM ARNs): the account's
# root, a user or a role (with its path), or an assumed-role session. IAM's names: letters,
# digits and + = , . @ _ - (users and roles up to 64 characters), paths of such segments.
_NAME = r"[\w+=,.@-]{1,64}"
_PATH = r"(?:/[\w+=,.@-]+)*/"
PRINCIPAL_ARN = re.compile(
    rf"^arn:(?:aws|aws-cn|aws-us-gov|aws-iso(?:-[a-z])?):(?:iam::\d{{12}}:(?:root|user{_PATH}{_NAME}|role{_PATH}{_NAME})"
    rf"|sts::\d{{12}}:assumed-role/{_NAME}/[\w+=,.@-]{{2,64}})$",
    re.ASCII,
)
PRINCIPAL_FORMS = ("an account id (12 digits), or arn:aws:iam::ACCOUNT:root, arn:aws:iam::ACCOUNT:user/NAME, "
                   "arn:aws:iam::ACCOUNT:role/NAME or arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION")


def account_arn(account: str) -> str:
    """An account id as its root ARN (`arn:aws:iam::ACCOUNT:root`); an ARN must be a principal's."""
    digits = account.strip()
    if digits.startswith("arn:"):
        return principal_arn(digits)
    if not (digits.isdigit() and len(digits) == 12):
        raise p.PolicyError(f"not an AWS account id: {account!r} (12 digits)")
    return f"arn:aws:iam::{digits}:root"


def principal_arn(principal: str) -> str:
    """An IAM principal as a resource policy names it: an account id becomes its root ARN; an
    ARN must be a root, user, role or assumed-role session ARN (no wildcards: IAM has none in
    a principal's ARN)."""
    text = principal.strip()
    if not text.startswith("arn:"):
        if text.isdigit() and len(text) == 12:
            return f"arn:aws:iam::{text}:root"
        raise p.PolicyError(f"not an IAM principal: {principal!r} (give {PRINCIPAL_FORMS})")
    if not PRINCIPAL_ARN.fullmatch(text):
        raise p.PolicyError(f"not an IAM principal ARN: {principal!r} (give {PRINCIPAL_FORMS})")
    return text


def _read_accounts(statement: p.Statement) -> list[str]:
    value = statement.get("Principal", {}).get("AWS", [])
    return [str(v) for v in (value if isinstance(value, list) else [value])]


def _write_accounts(statement: p.Statement, values: list[str]) -> None:
    statement["Principal"] = {"AWS": values}


ONLY_IPS = ListStatement(
    ONLY_IPS_SID, _deny_unless(ONLY_IPS_SID, "NotIpAddress", "aws:SourceIp"),
    *_condition_list("NotIpAddress", "aws:SourceIp"), needs_allow=True,
    canonical=lambda c: p.parse_cidr(c).network,
)
ACCOUNTS = ListStatement(
    ACCOUNTS_SID,
    lambda values: {"Sid": ACCOUNTS_SID, "Effect": "Allow", "Principal": {"AWS": values},
                    "Action": p.INVOKE_ACTION, "Resource": [p.ALL_RESOURCES]},
    _read_accounts, _write_accounts, needs_allow=False, canonical=account_arn,
)
# allow-principals: the same statement as allow-accounts (one Principal list), any IAM principal
PRINCIPALS = ListStatement(
    ACCOUNTS_SID, ACCOUNTS.build, _read_accounts, _write_accounts, needs_allow=False, canonical=principal_arn,
)
ONLY_VPCS = ListStatement(
    VPC_SID, _deny_unless(VPC_SID, "StringNotEquals", "aws:SourceVpc"),
    *_condition_list("StringNotEquals", "aws:SourceVpc"), needs_allow=True,
)
ONLY_VPCES = ListStatement(
    VPCE_SID, _deny_unless(VPCE_SID, "StringNotEquals", "aws:SourceVpce"),
    *_condition_list("StringNotEquals", "aws:SourceVpce"), needs_allow=True,
)


def _find(policy: p.Policy, sid: str) -> p.Statement | None:
    return next((s for s in p.statements(policy) if s.get("Sid") == sid), None)


def values(policy: p.Policy | None, kind: ListStatement) -> list[str]:
    statement = _find(policy or {}, kind.sid)
    return kind.read(statement) if statement else []


def add(policy: p.Policy | None, kind: ListStatement, new: Iterable[str]) -> tuple[p.Policy, list[str]]:
    """Merge values into the statement; return the policy and what was added."""
    wanted = list(dict.fromkeys(kind.canonical(v) for v in new))
    if not policy or not p.statements(policy):
        statements = [kind.build(wanted)] + ([p.allow_statement()] if kind.needs_allow else [])
        return {"Version": p.POLICY_VERSION, "Statement": statements}, wanted
    result = copy.deepcopy(policy)
    result["Statement"] = p.statements(result)
    statement = _find(result, kind.sid)
    current = kind.read(statement) if statement else []
    added = [v for v in wanted if v not in current]
    if statement is None:
        result["Statement"].insert(0, kind.build(added))
    elif added:
        kind.write(statement, current + added)
    return result, added


def remove(policy: p.Policy | None, kind: ListStatement, gone: Iterable[str]) -> tuple[p.Policy | None, list[str]]:
    """Remove values; the statement goes when empty, the policy when only petgate's Allow is left."""
    if not policy:
        return None, []
    dropping = {kind.canonical(v) for v in gone}
    result = copy.deepcopy(policy)
    result["Statement"] = p.statements(result)
    statement = _find(result, kind.sid)
    if statement is None:
        return result, []
    current = kind.read(statement)
    removed = [v for v in current if v in dropping]
    remaining = [v for v in current if v not in dropping]
    if remaining:
        kind.write(statement, remaining)
    else:
        result["Statement"].remove(statement)
    if all(s.get("Sid") == p.ALLOW_SID for s in result["Statement"]):
        return None, removed
    return result, removed


def would_refuse(policy: p.Policy | None, source_ip: str, keys: dict[str, str] | None = None) -> Decision:
    """How a GET of the stage's root from this address would fare under the policy.

    The request is made in the API's own ARN context when the policy names it (a stored
    policy does: AWS expanded it), so statements AWS already saved apply as they will.
    """
    prefix = api_arn_in(policy) or "arn:aws:execute-api:region:111122223333:api"
    request = Request(source_ip=source_ip, resource_arn=f"{prefix}/stage/GET/", keys=keys or {})
    return evaluate(policy, request, resource_prefix=prefix)


def describe_kind(kind: ListStatement) -> str:
    if kind is PRINCIPALS:
        return "allowed principals"
    return {ONLY_IPS_SID: "allowed addresses", ACCOUNTS_SID: "allowed accounts",
            VPC_SID: "allowed VPCs", VPCE_SID: "allowed VPC endpoints"}[kind.sid]
