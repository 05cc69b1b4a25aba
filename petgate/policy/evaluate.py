"""Resource-policy evaluation with IAM semantics: what a request gets, and which statement
decides. Pure, over model.py's policies (of petgate it imports only model); the local gateway,
`policy check` and `verify` share `compile_policy(...).evaluate(...)`.

IAM's rules as its user guide states them: an explicit Deny wins, then any Allow, else an
implicit deny; action names and condition key names are case-insensitive, resource ARNs and
condition values (but for the IgnoreCase operators) case-sensitive; in a Resource `?` is one
character and `*` any run (`/` included) within a colon-separated ARN segment, a `*` that ends a
segment running on past colons; a missing condition key fails a condition but for the negated
operators, IfExists and ForAllValues.

Who calls is `Request.caller`, a `Caller`: anonymous (today's default, and every caller of a
method without IAM authorization) or an IAM identity SigV4 proved. Principals as the IAM user
guide's "Principal" and "NotPrincipal" pages state them:
- `"*"` and `{"AWS": "*"}` name everyone, the anonymous caller included;
- an account (`"111122223333"`, `arn:aws:iam::111122223333:root`) names every IAM principal of
  that account (its root user, users, assumed-role sessions), never the anonymous caller;
- a user ARN names that user; a role ARN names the role's assumed-role sessions
  (`arn:aws:sts::A:assumed-role/ROLE/SESSION`); a session ARN names that session;
- `{"Service": ...}`, `{"Federated": ...}`, `{"CanonicalUser": ...}` name no IAM caller here.
NotPrincipal applies to every caller it does not name. With Deny, IAM checks the caller's chain
one link at a time ("AWS might validate the account first, then the role, and then the
assumed-role user ... we strongly recommend that you explicitly include the ARN for a user's
account, or include both the ARN for a role and the ARN for the account containing that role";
"you cannot use a wildcard (*) to mean 'all sessions'. Principals must always name a specific
session"): petgate reads that strictly, so a Deny NotPrincipal leaves out only a caller whose
every link it names literally: the account, then (a session) the role, then the user or the
session itself (the root user: its account alone). An account alone in a Deny NotPrincipal
still denies the account's users and sessions. With Allow (which AWS no longer supports) the
statement reaches only callers it names by no link (Principal's sense), the reading that grants
least. The anonymous caller is named only by `*`.

Condition keys from the caller (`_request_key`): aws:PrincipalAccount, aws:PrincipalArn (a
session's role ARN, as IAM's condition-keys page says: "For IAM roles, the request context
returns the ARN of the role, not the ARN of the user that assumed the role"), aws:userid,
aws:username (users only), aws:PrincipalType (Account, User, AssumedRole, FederatedUser;
Anonymous for the anonymous caller, who carries none of the others: API Gateway's condition-key
table marks them "Needs AuthN: Yes"). They come from the caller alone: `Request.keys` cannot set
them.

Identity policies (a user's or role's own, with no Principal) compile with `identity=True`:
their statements reach the caller they are attached to, whoever it is.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from petgate.policy.model import (
    INVOKE_ACTION,
    IP_OPERATORS,
    NEGATED_OPERATORS,
    IpNetwork,
    Policy,
    Statement,
    as_list,
    network_or_none,
    operator_base,
    statements,
    unmapped_address,
)

_CALLER_ARN = re.compile(r"^arn:(aws[\w-]*):(?:iam|sts)::(\d{12}):(.+)$")


@dataclass(frozen=True)
class Caller:
    """Who calls: anonymous (arn None), or an IAM identity that SigV4 proved.

    Given only the ARN, the account comes from it, and an assumed-role session's role_arn is
    made from the session ARN (`arn:aws:iam::A:role/R`: without the role's path, which a session
    ARN does not carry; pass role_arn to keep it)."""

    arn: str | None = None        # arn:aws:iam::A:user/x | arn:aws:sts::A:assumed-role/R/S | arn:aws:iam::A:root
    account: str | None = None
    role_arn: str | None = None   # an assumed-role session's role: arn:aws:iam::A:role/R
    user_id: str | None = None    # aws:userid (AIDA..., or AROA...:SESSION)
    access_key: str | None = None

    def __post_init__(self) -> None:
        if self.arn is None:
            return
        match = _CALLER_ARN.match(self.arn)
        if match is None:
            return
        partition, account, rest = match.groups()
        if self.account is None:
            object.__setattr__(self, "account", account)
        if self.role_arn is None and rest.startswith("assumed-role/") and rest.count("/") >= 2:
            role = rest.split("/")[1]
            object.__setattr__(self, "role_arn", f"arn:{partition}:iam::{account}:role/{role}")

    @property
    def anonymous(self) -> bool:
        return self.arn is None


ANONYMOUS = Caller()


def principal_type(caller: Caller) -> str:
    """aws:PrincipalType: Anonymous, Account (the root user), User, AssumedRole, FederatedUser."""
    arn = caller.arn
    if arn is None:
        return "Anonymous"
    if arn.endswith(":root"):
        return "Account"
    if ":assumed-role/" in arn:
        return "AssumedRole"
    if ":federated-user/" in arn:
        return "FederatedUser"
    return "User"


def _user_name(caller: Caller) -> str | None:
    """aws:username: an IAM user's name (the ARN's last segment, after any path); None for others."""
    if caller.arn is None or principal_type(caller) != "User" or ":user/" not in caller.arn:
        return None
    return caller.arn.rsplit("/", 1)[-1]


def _caller_key(caller: Caller, lowered: str) -> str | None:
    if lowered == "aws:principaltype":
        return principal_type(caller)
    if caller.arn is None:
        return None
    if lowered == "aws:principalaccount":
        return caller.account
    if lowered == "aws:principalarn":
        return caller.role_arn if principal_type(caller) == "AssumedRole" and caller.role_arn else caller.arn
    if lowered == "aws:userid":
        return caller.user_id or (caller.account if principal_type(caller) == "Account" else None)
    return _user_name(caller)  # aws:username


_CALLER_KEYS = frozenset({"aws:principalaccount", "aws:principalarn", "aws:userid", "aws:username", "aws:principaltype"})


@dataclass(frozen=True)
class Request:
    """What a resource policy sees of a call to a deployed stage; the caller anonymous unless
    the method uses IAM authorization and SigV4 proved who it is."""

    source_ip: str | None  # None: aws:SourceIp is absent (a call through a VPC endpoint)
    resource_arn: str
    action: str = INVOKE_ACTION
    keys: Mapping[str, str] = field(default_factory=dict)  # aws:UserAgent, aws:Referer, ...
    caller: Caller = ANONYMOUS


@dataclass(frozen=True)
class Decision:
    """The outcome, and the statement that decided it (None for no policy / implicit deny)."""

    allowed: bool
    reason: str  # "no-policy" | "allowed" | "explicit-deny" | "implicit-deny"
    statement: Statement | None = None
    statement_index: int | None = None

    @property
    def explicit(self) -> bool:
        return self.reason == "explicit-deny"


@lru_cache(maxsize=4096)
def _wildcard(pattern: str, ignore_case: bool = False) -> re.Pattern[str]:
    """An Action or StringLike pattern: `*` any run of characters (none too), `?` exactly one."""
    parts = (".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.compile("".join(parts), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


@lru_cache(maxsize=4096)
def _resource_pattern(pattern: str) -> re.Pattern[str]:
    """A Resource ARN pattern, case-sensitive. IAM reads the wildcards within the colon-separated
    segments of an ARN: `?` is one character of a segment, `*` any run of one (`/` included);
    a `*` that ends a segment may run on past its colons (`arn:aws:execute-api:*`, `.../*`)."""
    parts = []
    for index, ch in enumerate(pattern):
        if ch == "*":
            ends_segment = index + 1 == len(pattern) or pattern[index + 1] == ":"
            parts.append(".*" if ends_segment else "[^:]*")
        elif ch == "?":
            parts.append("[^:]")
        else:
            parts.append(re.escape(ch))
    return re.compile("".join(parts), re.DOTALL)


class IpSet:
    """Networks indexed by prefix length: membership costs one lookup per distinct prefix
    length, however many networks a deny list holds."""

    def __init__(self, networks: Iterable[IpNetwork]) -> None:
        index: dict[int, dict[int, set[int]]] = {4: {}, 6: {}}
        for network in networks:
            index[network.version].setdefault(network.prefixlen, set()).add(int(network.network_address))
        self._masks = {
            version: [((1 << bits) - 1) ^ ((1 << (bits - prefix)) - 1) for prefix in sorted(by_prefix)]
            for version, bits, by_prefix in ((4, 32, index[4]), (6, 128, index[6]))
        }
        self._sets = {version: [index[version][p] for p in sorted(index[version])] for version in (4, 6)}

    def __contains__(self, address: str) -> bool:
        """Whether a network holds the address; an IPv4-mapped IPv6 address (::ffff:192.0.2.1,
        what a dual-stack socket reports for an IPv4 caller) is looked up as its IPv4 address too."""
        try:
            parsed = ipaddress.ip_address(address)
        except ValueError:
            return False
        ipv4 = unmapped_address(parsed)
        return self._holds(ipv4) or (ipv4 is not parsed and self._holds(parsed))

    def _holds(self, parsed: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        value = int(parsed)
        return any(value & mask in nets for mask, nets in zip(self._masks[parsed.version], self._sets[parsed.version], strict=True))


@dataclass(frozen=True)
class _Condition:
    operator: str  # without qualifier and IfExists (operator_base)
    key: str
    values: tuple[Any, ...]
    if_exists: bool
    qualifier: str | None = None  # "ForAllValues" | "ForAnyValue"

    def matches(self, request: Request) -> bool:
        actual = _request_key(request, self.key)
        if self.operator == "Null":
            want_absent = str(self.values[0]).lower() == "true" if self.values else True
            return (actual is None) == want_absent
        if actual is None:
            # IAM: ForAllValues holds for an absent key (no value fails it), ForAnyValue does not
            # (no value matches), even negated; otherwise only IfExists and negated operators hold.
            if self.if_exists or self.qualifier == "ForAllValues":
                return True
            return self.qualifier != "ForAnyValue" and self.operator in NEGATED_OPERATORS
        positive = self.operator.replace("Not", "", 1) if self.operator in NEGATED_OPERATORS else None
        base = positive or self.operator
        if base == "IpAddress":
            hit = actual in self.values[0]
        else:
            hit = any(_compare(base, actual, value) for value in self.values)
        return not hit if positive else hit


def _compare(operator: str, actual: str, value: Any) -> bool:
    if operator == "StringEquals":
        return actual == str(value)
    if operator == "StringEqualsIgnoreCase":
        return actual.lower() == str(value).lower()
    if operator == "StringLike":
        return _wildcard(str(value)).fullmatch(actual) is not None
    if operator == "Bool":
        return actual.lower() == str(value).lower()
    return False


def _request_key(request: Request, key: str) -> str | None:
    lowered = key.lower()
    if lowered == "aws:sourceip":
        return request.source_ip
    if lowered in _CALLER_KEYS:
        return _caller_key(request.caller, lowered)
    for name, value in request.keys.items():
        if name.lower() == lowered:
            return value
    return None


_ACCOUNT_ID = re.compile(r"^\d{12}$")
_ROOT_ARN = re.compile(r"^arn:aws[\w-]*:iam::(\d{12}):root$")


@dataclass(frozen=True)
class _Principals:
    """What a Principal or NotPrincipal element names: everyone, accounts (by id or :root), and
    ARNs (users, roles, sessions, each itself)."""

    everyone: bool = False
    accounts: frozenset[str] = frozenset()
    arns: frozenset[str] = frozenset()

    def names(self, caller: Caller) -> bool:
        """Principal's sense: an account names its principals, a role its sessions."""
        if self.everyone:
            return True
        if caller.arn is None:
            return False
        return (caller.account in self.accounts or caller.arn in self.arns
                or (caller.role_arn is not None and caller.role_arn in self.arns))

    def names_every_link(self, caller: Caller) -> bool:
        """A Deny NotPrincipal's sense: the account, the role (a session's), and the user or the
        session itself, each named literally (the root user: its account)."""
        if self.everyone:
            return True
        if caller.arn is None or caller.account not in self.accounts:
            return False
        if principal_type(caller) == "Account":
            return True
        if caller.role_arn is not None and caller.role_arn not in self.arns:
            return False
        return caller.arn in self.arns


_EVERYONE = _Principals(everyone=True)


def _principals(element: Any) -> _Principals:
    if element == "*":
        return _EVERYONE
    if not isinstance(element, dict):
        return _Principals()  # IAM accepts only "*" as a string; anything else names no one
    accounts: set[str] = set()
    arns: set[str] = set()
    for value in (str(v).strip() for v in as_list(element.get("AWS"))):
        if value == "*":
            return _EVERYONE
        root = _ROOT_ARN.match(value)
        if root is not None:
            accounts.add(root.group(1))
        elif _ACCOUNT_ID.match(value):
            accounts.add(value)
        else:
            arns.add(value)
    # Service, Federated and CanonicalUser principals name no caller petgate knows
    return _Principals(False, frozenset(accounts), frozenset(arns))


@dataclass(frozen=True)
class _CompiledStatement:
    index: int
    source: Statement
    deny: bool
    principals: _Principals
    principals_negated: bool  # NotPrincipal
    actions: tuple[re.Pattern[str], ...]
    actions_negated: bool
    resources: tuple[re.Pattern[str], ...]
    resources_negated: bool
    conditions: tuple[_Condition, ...]

    def reaches(self, caller: Caller) -> bool:
        """Whether the statement's Principal or NotPrincipal covers the caller."""
        if not self.principals_negated:
            return self.principals.names(caller)
        if self.deny:
            return not self.principals.names_every_link(caller)
        return not self.principals.names(caller)

    def applies(self, request: Request) -> bool:
        """Action, resource and conditions (the principal is the policy's to check: `reaches`)."""
        action_hit = any(p.fullmatch(request.action) for p in self.actions)
        if action_hit == self.actions_negated:
            return False
        resource_hit = any(p.fullmatch(request.resource_arn) for p in self.resources)
        if resource_hit == self.resources_negated:
            return False
        return all(c.matches(request) for c in self.conditions)


def _compile_conditions(condition: Mapping[str, Any]) -> tuple[_Condition, ...]:
    compiled = []
    for operator, keys in condition.items():
        base = operator_base(operator)
        if_exists = operator.endswith("IfExists")
        qualifier = operator.split(":", 1)[0] if ":" in operator else None
        for key, raw_values in keys.items():
            values: list[Any] = as_list(raw_values)
            if base in IP_OPERATORS:  # parsed once per policy (IPv4-mapped CIDRs as IPv4), not per request
                values = [IpSet(n for n in (network_or_none(v) for v in values) if n is not None)]
            compiled.append(_Condition(base, key, tuple(values), if_exists, qualifier))
    return tuple(compiled)


class CompiledPolicy:
    """A policy parsed once (patterns, networks, principals) and evaluated many times.

    `identity`: an identity policy (a user's or role's own): no principal to check, every
    statement reaches its caller."""

    def __init__(self, policy: Policy | None, resource_prefix: str | None = None, identity: bool = False) -> None:
        self.policy = policy
        self.identity = identity
        self._statements: list[_CompiledStatement] = []
        self._anonymous: list[_CompiledStatement] = []  # those that reach the anonymous caller
        if policy is None:
            return
        for index, statement in enumerate(statements(policy)):
            actions_key = "Action" if "Action" in statement else "NotAction"
            resources_key = "Resource" if "Resource" in statement else "NotResource"
            resources = [
                _expand_short(str(r), resource_prefix)
                for r in as_list(statement.get(resources_key))
            ]
            negated = not identity and "Principal" not in statement and "NotPrincipal" in statement
            if identity or ("Principal" not in statement and not negated):
                principals = _EVERYONE  # no principal element: the statement reaches whoever asks
            else:
                principals = _principals(statement["NotPrincipal" if negated else "Principal"])
            compiled = _CompiledStatement(
                index=index,
                source=statement,
                deny=statement.get("Effect") == "Deny",
                principals=principals,
                principals_negated=negated,
                actions=tuple(
                    _wildcard(str(a), True) for a in as_list(statement.get(actions_key))
                ),
                actions_negated=actions_key == "NotAction",
                resources=tuple(_resource_pattern(r) for r in resources),
                resources_negated=resources_key == "NotResource",
                conditions=_compile_conditions(statement.get("Condition", {})),
            )
            self._statements.append(compiled)
            if compiled.reaches(ANONYMOUS):
                self._anonymous.append(compiled)

    def evaluate(self, request: Request) -> Decision:
        if self.policy is None:
            return Decision(True, "no-policy")
        caller = request.caller
        anonymous = caller.arn is None
        allowed_by: _CompiledStatement | None = None
        for statement in self._anonymous if anonymous else self._statements:
            if (anonymous or statement.reaches(caller)) and statement.applies(request):
                if statement.deny:
                    return Decision(False, "explicit-deny", statement.source, statement.index)
                allowed_by = allowed_by or statement
        if allowed_by is not None:
            return Decision(True, "allowed", allowed_by.source, allowed_by.index)
        return Decision(False, "implicit-deny")


def _expand_short(resource: str, prefix: str | None) -> str:
    if prefix and resource.startswith("execute-api:/"):
        return prefix + resource[len("execute-api:") :]
    return resource


def compile_policy(policy: Policy | None, resource_prefix: str | None = None, identity: bool = False) -> CompiledPolicy:
    """A resource policy (identity False) or an identity policy (True: no principal check)."""
    return CompiledPolicy(policy, resource_prefix, identity)


def evaluate(policy: Policy | None, request: Request, resource_prefix: str | None = None,
             identity: bool = False) -> Decision:
    return CompiledPolicy(policy, resource_prefix, identity).evaluate(request)


PLACEHOLDER_ACCOUNT = "123456789012"
_EXECUTE_API_ARN = re.compile(r"^arn:aws[\w-]*:execute-api:([^:]*):(\d{12}):([^/]+)")


def account_in(policy: Policy | None, api_id: str | None = None) -> str:
    """The account id the policy's own ARNs name (for this API, if given); a placeholder if none.

    API Gateway expands `execute-api:/...` to full ARNs when it saves a policy, so a stored or
    deployed policy names its account; nothing else petgate reads does.
    """
    fallback = None
    for statement in statements(policy):
        for key in ("Resource", "NotResource"):
            for resource in as_list(statement.get(key)):
                match = _EXECUTE_API_ARN.match(str(resource))
                if match and (api_id is None or match.group(3) == api_id):
                    return match.group(2)
                if match and fallback is None:
                    fallback = match.group(2)
    return fallback or PLACEHOLDER_ACCOUNT


def api_arn_in(policy: Policy | None) -> str | None:
    """The API ARN (`arn:aws:execute-api:REGION:ACCOUNT:API_ID`) the policy's own full ARNs name."""
    for statement in statements(policy):
        for key in ("Resource", "NotResource"):
            for resource in as_list(statement.get(key)):
                match = _EXECUTE_API_ARN.match(str(resource))
                if match and "*" not in match.group(3):
                    return match.group(0)
    return None


def api_arn(region: str, account_id: str, api_id: str) -> str:
    """The ARN prefix of every call to the API, which `execute-api:/...` expands to."""
    return f"arn:aws:execute-api:{region}:{account_id}:{api_id}"


def request_arn(region: str, account_id: str, api_id: str, stage: str, method: str, path: str) -> str:
    """The execute-api ARN of one call: `.../API_ID/STAGE/METHOD/path-without-leading-slash`."""
    return f"arn:aws:execute-api:{region}:{account_id}:{api_id}/{stage}/{method}/{path.lstrip('/')}"
