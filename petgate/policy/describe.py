"""A resource policy in words: one plain sentence per statement, for `status` and humans.

Pure; of petgate only model (the policy), deny (when one of petgate's deny groups ends) and
expiry (how a time is written). Principals in words: accounts, users, roles (their sessions),
sessions, services; NotPrincipal as "everyone but ...".
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from petgate import expiry
from petgate.policy.deny import group_end
from petgate.policy.model import Policy, Statement, as_list, operator_base, statements


def describe(policy: Policy | None) -> list[str]:
    """One plain sentence per statement, for `status` and humans."""
    if not policy:
        return ["no resource policy: everyone may invoke the API"]
    lines = []
    for statement in statements(policy):
        sid = statement.get("Sid")
        label = f" [{sid}]" if sid else ""
        until = group_end(sid)
        ends = f" until {expiry.iso(until)}" if until is not None else ""
        verb = "denies" if statement.get("Effect") == "Deny" else "allows"
        who = _describe_principal(statement)
        conditions = _describe_conditions(statement.get("Condition", {}))
        lines.append(f"{verb} {who}{conditions}{ends}{label}")
    if not any(s.get("Effect") == "Allow" for s in statements(policy)):
        lines.append("no statement allows anything: every request is refused")
    return lines


def _describe_principal(statement: Statement) -> str:
    if "Principal" not in statement and "NotPrincipal" in statement:
        if statement.get("Effect") == "Deny":
            return _denied_but(statement["NotPrincipal"])
        named = describe_principal(statement["NotPrincipal"])
        return "no one" if named == "everyone" else f"everyone but {named}"
    return describe_principal(statement.get("Principal"))


def _denied_but(not_principal: Any) -> str:
    """A Deny NotPrincipal spares only a caller whose every link it names (the evaluator's
    reading of IAM's NotPrincipal page): the account's root user by the account, a user with
    its account, a session with its role and account; a role alone spares none of its sessions."""
    if describe_principal(not_principal) == "everyone":
        return "no one"
    aws = [str(v) for v in as_list(not_principal.get("AWS"))] if isinstance(not_principal, dict) else []
    parsed = [(value, _IAM_ARN.match(value)) for value in aws]
    accounts = {v for v in aws if _ACCOUNT.match(v)}
    accounts |= {m.group(2) for _, m in parsed if m and m.group(1) == "iam" and m.group(3) == "root"}
    roles = {(m.group(2), m.group(3).rsplit("/", 1)[-1]): value for value, m in parsed
             if m and m.group(1) == "iam" and m.group(3).startswith("role/")}
    spared = [f"the root user of account {a}" for a in sorted(accounts)]
    still: list[str] = []  # named, yet denied: a link of theirs is not named
    roles_used: set[tuple[str, str]] = set()
    for value, match in parsed:
        if match is None or match.group(3) == "root" or match.group(3).startswith("role/"):
            continue
        service, account, rest = match.groups()
        parts = rest.split("/")
        role = (account, parts[1]) if service == "sts" and parts[0] == "assumed-role" and len(parts) > 2 else None
        if account in accounts and (role is None or role in roles):
            spared.append(_describe_aws(value))
            if role is not None:
                roles_used.add(role)
        else:
            still.append(_describe_aws(value))
    still += [_describe_aws(v).replace(" (its sessions)", "") for k, v in roles.items() if k not in roles_used]
    said = f"everyone but {_joined(spared)}" if spared else "everyone"
    if still:
        said += (f" (naming {_joined(still)} spares no one by itself: a user is spared with its account, "
                 "a session with its role and account)")
    return said


_ACCOUNT = re.compile(r"^\d{12}$")
_IAM_ARN = re.compile(r"^arn:aws[\w-]*:(iam|sts)::(\d{12}):(.+)$")
_KINDS = {"Service": "service", "Federated": "federated principal", "CanonicalUser": "canonical user"}


def describe_principal(principal: Any) -> str:
    """A Principal element in words: "everyone", "account 111122223333", "user alice of account
    ...", "role reader of account ... (its sessions)", "session s1 of role reader in account ...",
    "service lambda.amazonaws.com"."""
    if principal == "*":
        return "everyone"
    if not isinstance(principal, dict) or not principal:
        return f"principal {json.dumps(principal)}"
    aws = [str(v) for v in as_list(principal.get("AWS"))]
    if "*" in aws:
        return "everyone"
    parts = [_describe_aws(value) for value in aws]
    for key, values in principal.items():
        if key != "AWS":
            kind = _KINDS.get(key, f"{key} principal")
            parts += [f"{kind} {value}" for value in as_list(values)]
    return _joined(parts)


def _describe_aws(value: str) -> str:
    if _ACCOUNT.match(value):
        return f"account {value}"
    match = _IAM_ARN.match(value)
    if match is None:
        return f"AWS principal {value}"
    service, account, rest = match.groups()
    kind, _, path = rest.partition("/")
    name = path.rsplit("/", 1)[-1]
    if service == "iam" and rest == "root":
        return f"account {account}"
    if service == "iam" and kind == "user" and name:
        return f"user {name} of account {account}"
    if service == "iam" and kind == "role" and name:
        return f"role {name} of account {account} (its sessions)"
    if service == "sts" and kind == "assumed-role" and "/" in path:
        role, session = path.split("/", 1)
        return f"session {session} of role {role} in account {account}"
    if service == "sts" and kind == "federated-user" and name:
        return f"federated user {name} of account {account}"
    return f"AWS principal {value}"


def _joined(parts: list[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts) or "no one"
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _describe_conditions(condition: Mapping[str, Any]) -> str:
    parts = []
    for operator, keys in condition.items():
        for key, values in keys.items():
            joined = ", ".join(str(v) for v in as_list(values))
            if operator_base(operator) == "IpAddress":
                parts.append(f"from {joined}")
            elif operator_base(operator) == "NotIpAddress":
                parts.append(f"not from {joined}")
            else:
                parts.append(f"when {key} {operator} {joined}")
    return (" " + " and ".join(parts)) if parts else ""
