"""Resource-policy evaluation with IAM semantics: what a request gets, and which statement
decides. Pure, over model.py's policies (of petgate it imports only model); the local gateway,
`policy check` and `verify` share `compile_policy(...).evaluate(...)`.

IAM's rules as its user guide states them: an explicit Deny wins, then any Allow, else an
implicit deny; action names and condition key names are case-insensitive, resource ARNs and
condition values (but for the IgnoreCase operators) case-sensitive; in a Resource `?` is one
character and `*` any run (`/` included) within a colon-separated ARN segment, a `*` that ends a
segment running on past colons; NotPrincipal applies to every principal it does not name, the
anonymous caller included; a missing condition key fails a condition but for the negated
operators, IfExists and ForAllValues.
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


@dataclass(frozen=True)
class Request:
    """What a resource policy sees of an anonymous call to a deployed stage."""

    source_ip: str
    resource_arn: str
    action: str = INVOKE_ACTION
    keys: Mapping[str, str] = field(default_factory=dict)  # aws:UserAgent, aws:Referer, ...


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
    for name, value in request.keys.items():
        if name.lower() == lowered:
            return value
    return None


@dataclass(frozen=True)
class _CompiledStatement:
    index: int
    source: Statement
    deny: bool
    principal_matches_anonymous: bool
    actions: tuple[re.Pattern[str], ...]
    actions_negated: bool
    resources: tuple[re.Pattern[str], ...]
    resources_negated: bool
    conditions: tuple[_Condition, ...]

    def applies(self, request: Request) -> bool:
        if not self.principal_matches_anonymous:
            return False
        action_hit = any(p.fullmatch(request.action) for p in self.actions)
        if action_hit == self.actions_negated:
            return False
        resource_hit = any(p.fullmatch(request.resource_arn) for p in self.resources)
        if resource_hit == self.resources_negated:
            return False
        return all(c.matches(request) for c in self.conditions)


def _anonymous_matches(statement: Statement) -> bool:
    def is_everyone(principal: Any) -> bool:
        if principal == "*":
            return True
        return isinstance(principal, dict) and "*" in as_list(principal.get("AWS"))

    if "Principal" in statement:
        return is_everyone(statement["Principal"])
    # NotPrincipal: applies to everyone not listed; an anonymous caller is listed only by "*".
    return not is_everyone(statement.get("NotPrincipal"))


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
    """A policy parsed once (patterns, networks) and evaluated many times."""

    def __init__(self, policy: Policy | None, resource_prefix: str | None = None) -> None:
        self.policy = policy
        self._statements: list[_CompiledStatement] = []
        if policy is None:
            return
        for index, statement in enumerate(statements(policy)):
            actions_key = "Action" if "Action" in statement else "NotAction"
            resources_key = "Resource" if "Resource" in statement else "NotResource"
            resources = [
                _expand_short(str(r), resource_prefix)
                for r in as_list(statement.get(resources_key))
            ]
            self._statements.append(
                _CompiledStatement(
                    index=index,
                    source=statement,
                    deny=statement.get("Effect") == "Deny",
                    principal_matches_anonymous=_anonymous_matches(statement),
                    actions=tuple(
                        _wildcard(str(a), True) for a in as_list(statement.get(actions_key))
                    ),
                    actions_negated=actions_key == "NotAction",
                    resources=tuple(_resource_pattern(r) for r in resources),
                    resources_negated=resources_key == "NotResource",
                    conditions=_compile_conditions(statement.get("Condition", {})),
                )
            )

    def evaluate(self, request: Request) -> Decision:
        if self.policy is None:
            return Decision(True, "no-policy")
        allowed_by: _CompiledStatement | None = None
        for statement in self._statements:
            if statement.applies(request):
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


def compile_policy(policy: Policy | None, resource_prefix: str | None = None) -> CompiledPolicy:
    return CompiledPolicy(policy, resource_prefix)


def evaluate(policy: Policy | None, request: Request, resource_prefix: str | None = None) -> Decision:
    return CompiledPolicy(policy, resource_prefix).evaluate(request)


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
