"""The classes that make every boto3 `iam` and `sts` call petgate uses: who a set of
credentials is (STS GetCallerIdentity), and the identity policies IAM holds for a user or a role,
as IAM evaluates them for `execute-api:Invoke` (IAM User Guide, "Policies and permissions":
a user's inline and attached managed policies and those of every group it is in; a role's
inline and attached managed policies, which its sessions carry). Errors are petgate's own
(gateway.aws_errors), IAM's NoSuchEntity and AccessDenied named for what they mean here.

`IamWriter` makes the IAM and STS writes of `walkthrough --accounts` (users, roles, AssumeRole,
deleting them). Also where the credentials that sign `verify --sign` / `--as PROFILE` come from (`signing_session`,
`credentials_of`): botocore's own chain, never a key of petgate's.

On petgate local (`local=True`) every account's IAM is on one port: a read for another account
carries moto's `x-moto-account-id` header, as if made with that account's credentials. On AWS,
IAM shows each account only its own: `readable(account)` says whether these credentials can.
"""

from __future__ import annotations

import json
import os
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from petgate.errors import AwsError, UsageError
from petgate.gateway import aws_errors

if TYPE_CHECKING:
    from petgate.target import Target

# (where the policy comes from, in words; the policy document)
NamedPolicy = tuple[str, dict[str, Any]]

_OR_GIVE_IT = "give the identity side with --identity allow|deny|neither or --identity-policy FILE instead"


class Iam:
    def __init__(self, client: Any, sts: Any, local: bool = False) -> None:
        self.client = client
        self.sts = sts
        self.local = local
        self._account: str | None = None  # the account a local read is for (x-moto-account-id)
        self._identity: dict[str, str] | None = None
        if local:
            client.meta.events.register("before-sign.iam", self._pick_account)

    def register(self, event: str, handler: Callable[..., Any]) -> None:
        """Hook both clients (-v logging)."""
        self.client.meta.events.register(f"{event}.iam", handler)
        self.sts.meta.events.register(f"{event}.sts", handler)

    def _pick_account(self, request: Any, **_: Any) -> None:
        if self._account is not None:
            request.headers["x-moto-account-id"] = self._account

    # --- who the credentials are ---------------------------------------------------------

    def caller_identity(self) -> dict[str, str]:
        """STS GetCallerIdentity (asked once): Account, Arn, UserId."""
        if self._identity is None:
            with aws_errors("asking STS who the credentials are"):
                answer = self.sts.get_caller_identity()
            self._identity = {key: str(answer.get(key, "")) for key in ("Account", "Arn", "UserId")}
        return self._identity

    def account(self) -> str:
        return self.caller_identity()["Account"]

    def readable(self, account: str) -> bool:
        """Whether IAM shows these credentials the users and roles of `account`."""
        return self.local or self.account() == account

    # --- identity policies -------------------------------------------------------------------

    def user_policies(self, user_name: str, account: str) -> list[NamedPolicy]:
        """The user's inline and attached managed policies, then its groups'."""
        with self._reading(f"the policies of IAM user {user_name}", account, f"user {user_name}"):
            found = [(f"inline policy {name}", self._document(self.client.get_user_policy(
                UserName=user_name, PolicyName=name)["PolicyDocument"]))
                for name in self._pages("list_user_policies", "PolicyNames", UserName=user_name)]
            found += self._managed("list_attached_user_policies", UserName=user_name)
            for group in self._pages("list_groups_for_user", "Groups", UserName=user_name):
                group_name = group["GroupName"]
                found += [(f"group {group_name}: inline policy {name}", self._document(self.client.get_group_policy(
                    GroupName=group_name, PolicyName=name)["PolicyDocument"]))
                    for name in self._pages("list_group_policies", "PolicyNames", GroupName=group_name)]
                found += [(f"group {group_name}: {label}", document)
                          for label, document in self._managed("list_attached_group_policies", GroupName=group_name)]
            return found

    def role_policies(self, role_name: str, account: str) -> list[NamedPolicy]:
        """The role's inline and attached managed policies (what its sessions may do)."""
        with self._reading(f"the policies of IAM role {role_name}", account, f"role {role_name}"):
            found = [(f"inline policy {name}", self._document(self.client.get_role_policy(
                RoleName=role_name, PolicyName=name)["PolicyDocument"]))
                for name in self._pages("list_role_policies", "PolicyNames", RoleName=role_name)]
            return found + self._managed("list_attached_role_policies", RoleName=role_name)

    def _managed(self, operation: str, **owner: str) -> list[NamedPolicy]:
        found = []
        for attached in self._pages(operation, "AttachedPolicies", **owner):
            arn = attached["PolicyArn"]
            version = self.client.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
            document = self.client.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
            found.append((f"managed policy {arn}", self._document(document)))
        return found

    def _pages(self, operation: str, key: str, **kwargs: str) -> Iterator[Any]:
        for page in self.client.get_paginator(operation).paginate(**kwargs):
            yield from page.get(key, [])

    @staticmethod
    def _document(document: Any) -> dict[str, Any]:
        """boto3 hands IAM's documents over parsed; one that came as text (URL-encoded JSON, as
        IAM sends it) is parsed here. Not JSON: an empty policy, which allows nothing."""
        if isinstance(document, dict):
            return document
        for text in (str(document), urllib.parse.unquote(str(document))):
            try:
                parsed = json.loads(text)
            except ValueError:
                continue
            if isinstance(parsed, dict):
                return parsed
        return {}

    @contextmanager
    def _reading(self, what: str, account: str, who: str) -> Iterator[None]:
        self._account = account if self.local else None
        try:
            try:
                with aws_errors(f"reading {what}"):
                    yield
            except AwsError as exc:
                if exc.code == "NoSuchEntity":
                    raise AwsError(f"IAM has no {who} in account {account}", f"check --principal, or {_OR_GIVE_IT}",
                                   exc.code) from None
                if exc.code in ("AccessDenied", "AccessDeniedException"):
                    raise AwsError(f"reading {what}: IAM refused (the credentials may not read it)",
                                   f"allow iam:List*/Get* on it, or {_OR_GIVE_IT}", exc.code) from None
                raise
        finally:
            self._account = None


class IamWriter:
    """IAM and STS writes, for `walkthrough --accounts` on petgate local: users with an inline
    policy and an access key, roles with a trust and an inline policy, AssumeRole, and deleting
    what was made. Built on an `Iam`'s clients, or on another account's keys (`in_account`)."""

    def __init__(self, client: Any, sts: Any, target: Target) -> None:
        self.client = client
        self.sts = sts
        self.target = target

    @classmethod
    def of(cls, iam: Iam, target: Target) -> IamWriter:
        return cls(iam.client, iam.sts, target)

    def in_account(self, access_key: str, secret_key: str, token: str | None) -> IamWriter:
        """The same calls with another set of keys (on petgate local: another account's)."""
        return IamWriter.of(build(_session(self.target, None, (access_key, secret_key, token)), self.target),
                            self.target)

    def create_user(self, name: str, policy: dict[str, Any] | None) -> tuple[str, str, str]:
        """A user with `policy` inline (None: none) and an access key: (its ARN, key id, secret)."""
        with aws_errors(f"IAM CreateUser {name}"):
            arn = str(self.client.create_user(UserName=name)["User"]["Arn"])
            if policy is not None:
                self.client.put_user_policy(UserName=name, PolicyName="invoke", PolicyDocument=json.dumps(policy))
            key = self.client.create_access_key(UserName=name)["AccessKey"]
        return arn, str(key["AccessKeyId"]), str(key["SecretAccessKey"])

    def create_role(self, name: str, trust: dict[str, Any], policy: dict[str, Any]) -> str:
        """A role with its trust policy and `policy` inline; its ARN."""
        with aws_errors(f"IAM CreateRole {name}"):
            arn = str(self.client.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"])
            self.client.put_role_policy(RoleName=name, PolicyName="invoke", PolicyDocument=json.dumps(policy))
        return arn

    def assume_role(self, role_arn: str, session_name: str) -> dict[str, Any]:
        """STS AssumeRole: {"Arn": the session's ARN, "AccessKeyId", "SecretAccessKey", "SessionToken"}."""
        with aws_errors(f"STS AssumeRole {role_arn}"):
            answer = self.sts.assume_role(RoleArn=role_arn, RoleSessionName=session_name)
        return {"Arn": answer["AssumedRoleUser"]["Arn"], **answer["Credentials"]}

    def delete_user(self, name: str) -> None:
        """The user, after its access keys and inline policies."""
        with aws_errors(f"IAM delete user {name}"):
            for key in self.client.list_access_keys(UserName=name)["AccessKeyMetadata"]:
                self.client.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
            for policy in self.client.list_user_policies(UserName=name)["PolicyNames"]:
                self.client.delete_user_policy(UserName=name, PolicyName=policy)
            self.client.delete_user(UserName=name)

    def delete_role(self, name: str) -> None:
        """The role, after its inline policies."""
        with aws_errors(f"IAM delete role {name}"):
            for policy in self.client.list_role_policies(RoleName=name)["PolicyNames"]:
                self.client.delete_role_policy(RoleName=name, PolicyName=policy)
            self.client.delete_role(RoleName=name)


def for_target(target: Target) -> Iam:
    """IAM and STS with the credentials the target's other clients use (petgate's placeholder
    keys with --local, which moto's IAM serves as its default account)."""
    from petgate.target import LOCAL_CREDENTIALS

    keys = (*LOCAL_CREDENTIALS, None) if target.local else None
    return build(_session(target, None if target.local else target.profile, keys), target)


def build(session: Any, target: Target) -> Iam:
    """The IAM and STS clients of a boto3 session, for the place `target` points at."""
    from botocore.config import Config

    config = Config(retries={"mode": "standard"}, connect_timeout=5,
                    read_timeout=float(os.environ.get("PETGATE_CONTROL_TIMEOUT") or 30))
    endpoint = target.control_url
    return Iam(session.client("iam", endpoint_url=endpoint, config=config),
               session.client("sts", endpoint_url=endpoint, config=config), local=target.local)


def _session(target: Target, profile: str | None, keys: tuple[str, str, str | None] | None = None,
             option: str = "--profile") -> Any:
    """A boto3 session (target.new_session: petgate's model loader) with the credentials of `keys`
    (key, secret, session token or None) or of `profile` (None: botocore's chain: AWS_PROFILE, the
    environment, ...), in the target's region."""
    import botocore.exceptions

    from petgate.target import new_session

    region = target.region_or_none() or "us-east-1"  # IAM is global; STS answers in any region
    try:
        if keys is not None:
            return new_session(aws_access_key_id=keys[0], aws_secret_access_key=keys[1], aws_session_token=keys[2],
                               region_name=region)
        return new_session(profile_name=profile, region_name=region)
    except botocore.exceptions.ProfileNotFound as exc:
        where = "--as" if option == "--as" else "--profile / AWS_PROFILE"
        raise UsageError(f"AWS profile {exc.kwargs.get('profile')!r} not found",
                         f"check {where}; `aws configure list-profiles` lists them") from None


# --- credentials that sign --------------------------------------------------------------------

def signing_session(target: Target, profile: str | None) -> Any:
    """The boto3 session whose credentials sign a request: the named profile (`verify --as`), else
    the active credentials (--profile, AWS_PROFILE, the environment); with --local too, never
    petgate's placeholder keys, which the local IAM does not know."""
    return _session(target, profile or target.profile, option="--as" if profile is not None else "--profile")


def credentials_of(session: Any, option: str) -> Any:
    """The session's credentials, frozen (botocore's ReadOnlyCredentials); none at all is the
    user's to fix (exit 2), before anything is sent."""
    import botocore.exceptions

    try:
        credentials = session.get_credentials()
        frozen = credentials.get_frozen_credentials() if credentials is not None else None
    except botocore.exceptions.BotoCoreError as exc:
        raise UsageError(f"{option}: the credentials cannot be read ({exc})", "check the profile's settings") from None
    if frozen is None or not frozen.access_key or not frozen.secret_key:
        raise UsageError(
            f"{option}: no AWS credentials found to sign with",
            "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or name a profile with --as PROFILE",
        )
    return frozen
