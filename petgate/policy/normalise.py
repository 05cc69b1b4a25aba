"""Two policies compared as API Gateway means them, not as they are spelled (`petgate diff`).

AWS rewrites a policy when it saves it, so a committed file and what GetRestApi (or the stage's
GetExport) returns differ in text while saying the same. `normalise_statement` undoes each
rewrite, and `compare` compares the statements that remain:

- `execute-api:/...` (`execute-api:/*`, `execute-api:/STAGE/METHOD/path`) is the API's full
  ARN (`arn:aws:execute-api:REGION:ACCOUNT:API_ID/...`), as API Gateway expands it on save;
- a one-item list is its item, and a list is a set: Action, NotAction, Resource, NotResource,
  each Principal / NotPrincipal kind's values and each Condition key's values are compared as
  sorted lists without repeats, whether written as one string or a list in any order;
- `{"AWS": "*"}` is `Principal: "*"`: the IAM User Guide ("AWS JSON policy elements:
  Principal", all principals) gives the two as the same wildcard, anonymous callers included,
  and petgate's evaluator (evaluate.py) reads them so; AWS does not rewrite one into the other,
  so a file and AWS that differ only there name the same callers;
- an empty Condition is no Condition; the policy's `Version` (and any other top-level key) is
  not compared, only its statements;
- the extra escaping of the stored form (`\\"`, `\\/`) is `model.decode_stored`'s to undo
  before a policy reaches here;
- statements are compared as sets, whatever their order. A statement's Sid is part of it when
  present; two statements with the same Sid (once on each side) that differ are one statement
  "changed", field by field; every other statement is only in one policy or in both.

What is not rewritten by AWS stays significant: Effect, a CIDR written differently
(`192.0.2.1` and `192.0.2.1/32`), letter case, a different account or API in a full ARN.

Pure: of petgate only model; no I/O.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from petgate.policy.model import Policy, Statement, as_list, statements

_LISTED = ("Action", "NotAction", "Resource", "NotResource")
_RESOURCES = ("Resource", "NotResource")
_PRINCIPALS = ("Principal", "NotPrincipal")
SHORT_PREFIX = "execute-api:"


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _as_set(values: Any) -> list[Any]:
    """One value or a list of them, as a sorted list without repeats (sorted by their JSON)."""
    unique = {_key(v): v for v in as_list(values)}
    return [unique[k] for k in sorted(unique)]


def expand_resource(value: Any, api_arn: str) -> Any:
    """`execute-api:/stage/METHOD/path` as the full ARN under `api_arn`; anything else as it is."""
    if isinstance(value, str) and value.startswith(SHORT_PREFIX + "/"):
        return api_arn + value[len(SHORT_PREFIX):]
    return value


def _principal(value: Any) -> Any:
    """`{"AWS": "*"}` (or `["*"]`) as `"*"`; each kind's values as a set."""
    if isinstance(value, dict):
        kinds = {kind: _as_set(names) for kind, names in sorted(value.items())}
        return "*" if kinds == {"AWS": ["*"]} else kinds
    return value


def normalise_statement(statement: Statement, api_arn: str) -> Statement:
    """The statement with AWS's rewrites undone (see the module); `api_arn` is the API's ARN
    prefix (`arn:aws:execute-api:REGION:ACCOUNT:API_ID`) that `execute-api:/...` stands for."""
    result: Statement = {}
    for name, value in statement.items():
        if name in _RESOURCES:
            result[name] = _as_set([expand_resource(v, api_arn) for v in as_list(value)])
        elif name in _LISTED:
            result[name] = _as_set(value)
        elif name in _PRINCIPALS:
            result[name] = _principal(value)
        elif name == "Condition" and isinstance(value, dict):
            condition = {
                operator: {key: _as_set(values) for key, values in sorted(keys.items())}
                if isinstance(keys, dict) else keys
                for operator, keys in sorted(value.items())
            }
            if condition:
                result[name] = condition
        else:
            result[name] = value
    return result


def normalise(policy: Policy | None, api_arn: str) -> list[Statement]:
    """The policy's statements, normalised, without repeats, in a stable order (None: none)."""
    unique = {_key(s): s for s in (normalise_statement(s, api_arn) for s in statements(policy))}
    return [unique[k] for k in sorted(unique)]


@dataclass(frozen=True)
class Difference:
    """What one policy (the file's) has that the other (AWS's) has not, and back; `changed`:
    by Sid, each field that differs, as {"file": ..., "aws": ...} (None: the field is absent)."""

    only_in_file: list[Statement] = field(default_factory=list)
    only_in_aws: list[Statement] = field(default_factory=list)
    changed: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)

    @property
    def same(self) -> bool:
        return not (self.only_in_file or self.only_in_aws or self.changed)


def compare(file_policy: Policy | None, aws_policy: Policy | None, api_arn: str) -> Difference:
    """The file's policy against AWS's, both normalised under `api_arn` (see the module)."""
    mine, theirs = normalise(file_policy, api_arn), normalise(aws_policy, api_arn)
    their_keys, my_keys = {_key(s) for s in theirs}, {_key(s) for s in mine}
    only_mine = [s for s in mine if _key(s) not in their_keys]
    only_theirs = [s for s in theirs if _key(s) not in my_keys]
    changed: dict[str, dict[str, dict[str, Any]]] = {}
    for sid in sorted(_single_sids(only_mine) & _single_sids(only_theirs)):
        old = next(s for s in only_mine if s.get("Sid") == sid)
        new = next(s for s in only_theirs if s.get("Sid") == sid)
        changed[sid] = {
            name: {"file": old.get(name), "aws": new.get(name)}
            for name in sorted(set(old) | set(new), key=_field_order)
            if _key(old.get(name)) != _key(new.get(name))
        }
        only_mine.remove(old)
        only_theirs.remove(new)
    return Difference(only_mine, only_theirs, changed)


def _single_sids(found: list[Statement]) -> set[str]:
    """The Sids that name exactly one of these statements."""
    sids = [s["Sid"] for s in found if isinstance(s.get("Sid"), str)]
    return {sid for sid in sids if sids.count(sid) == 1}


_ORDER = ("Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition")


def _field_order(name: str) -> tuple[int, str]:
    return (_ORDER.index(name) if name in _ORDER else len(_ORDER), name)
