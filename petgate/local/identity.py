"""Who an access key is, from moto's IAM and STS backends (the ones petgate local serves on its
port, iam_control.py): an IAM user's key, or an assumed-role session's temporary key with its
session token and expiration; the secret to check the signature with; and the identity
policies IAM would evaluate, as petgate policy documents:
- a user: its inline policies, its attached managed policies (their default version), and
  those of every group it belongs to (IAM User Guide, "Policies and permissions": identity-based
  policies attached to a user or to a group the user is in);
- an assumed-role session: the role's inline and attached managed policies. A session policy
  passed to AssumeRole, a permissions boundary and SCPs are not modelled (petgate local has no
  Organizations), so a session may do what its role may.
Call `find` with the gateway's lock held (moto's backends are not thread-safe); it copies out
what the check needs, and nothing it returns refers to moto's objects.
"""

from __future__ import annotations

import calendar
import functools
import json
import urllib.parse
from dataclasses import dataclass
from typing import Any

from petgate import policy as policies

PARTITION = "aws"


@dataclass(frozen=True)
class Identity:
    caller: policies.Caller
    secret: str
    session_token: str | None  # an STS session's: the request must carry exactly this
    expires: float | None      # an STS session's end (epoch seconds)
    documents: tuple[str, ...]  # identity policies, as IAM stores them (JSON text)

    def compiled_policies(self) -> list[policies.CompiledPolicy]:
        return [compiled for compiled in (_compiled(text) for text in self.documents) if compiled is not None]


def find(access_key: str) -> Identity | None:
    """The identity behind an active access key, or None (unknown, inactive, or its user or
    session gone)."""
    from moto.iam.models import iam_backends

    for account_id, account in list(iam_backends.items()):
        if PARTITION not in account:
            continue
        backend = account[PARTITION]
        key = backend.access_keys.get(access_key)
        if key is None:
            continue
        if key.status != "Active":
            return None
        if key.user_name is not None:
            return _user(backend, account_id, key)
        if key.role_arn is not None:
            return _session(backend, account_id, key)
        return None
    return None


def _user(backend: Any, account_id: str, key: Any) -> Identity | None:
    user = backend.users.get(key.user_name)
    if user is None:
        return None
    documents = [*user.policies.values(), *(_default_version(p) for p in user.managed_policies.values())]
    for group in backend.groups.values():
        if user in group.users:
            documents += [*group.policies.values(), *(_default_version(p) for p in group.managed_policies.values())]
    caller = policies.Caller(arn=user.arn, account=account_id, user_id=user.id, access_key=key.access_key_id)
    return Identity(caller, key.secret_access_key, None, None, tuple(d for d in documents if d))


def _session(backend: Any, account_id: str, key: Any) -> Identity | None:
    from moto.sts.models import sts_backends

    sts = sts_backends[account_id][PARTITION]
    session = sts.get_assumed_role_from_access_key(key.access_key_id)
    if session is None:
        return None
    documents: list[str] = []
    role_arn = session.role_arn
    for role in backend.roles.values():
        if role.arn == role_arn:
            documents = [*role.policies.values(), *(_default_version(p) for p in role.managed_policies.values())]
            break
    caller = policies.Caller(arn=session.arn, account=account_id, role_arn=role_arn, user_id=session.user_id,
                             access_key=key.access_key_id)
    expires = float(calendar.timegm(session.expiration.timetuple()))
    return Identity(caller, key.secret_access_key, session.session_token, expires, tuple(d for d in documents if d))


def _default_version(policy: Any) -> str:
    for version in getattr(policy, "versions", []):
        if version.is_default:
            return str(version.document or "")
    return ""


@functools.lru_cache(maxsize=1024)
def _compiled(text: str) -> policies.CompiledPolicy | None:
    """An identity policy compiled once per document text (IAM keeps the JSON as given; AWS
    managed policy documents may come URL-encoded)."""
    for candidate in (text, urllib.parse.unquote(text)):
        try:
            document = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(document, dict):
            return policies.compile_policy(document, identity=True)
    return None
