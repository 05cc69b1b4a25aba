"""Resource policies as plain data: CIDRs, validate, decode, encode, expand, describe
(petgate's deny list in it: policy_deny.py; evaluation: policy_eval.py).

Pure functions over dicts; no boto3, no I/O; of petgate only the pure expiry module.
"""

from __future__ import annotations

import copy
import ipaddress
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from petgate import expiry

POLICY_VERSION = "2012-10-17"
MAX_POLICY_CHARS = 8192
INVOKE_ACTION = "execute-api:Invoke"
ALL_RESOURCES = "execute-api:/*"
# petgate's own statements are recognised by these Sids; every other statement is the user's.
DENY_SID = "PetgateDenyIps"
ALLOW_SID = "PetgateAllowInvoke"
ONLY_IPS_SID = "PetgateAllowOnlyIps"
ACCOUNTS_SID = "PetgateAllowAccounts"
VPC_SID = "PetgateAllowOnlyVpcs"
VPCE_SID = "PetgateAllowOnlyVpces"
PETGATE_SIDS = frozenset({DENY_SID, ALLOW_SID, ONLY_IPS_SID, ACCOUNTS_SID, VPC_SID, VPCE_SID})
DENY_UNTIL_PREFIX = "PetgateDenyUntil"  # + the time the block ends (expiry.stamp)

Policy = dict[str, Any]
Statement = dict[str, Any]
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class PolicyError(ValueError):
    """A policy or CIDR that petgate cannot use; the message says why."""


# --- CIDRs -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cidr:
    """A normalised CIDR, and the text the user gave when it had host bits set (or was written
    IPv4-mapped: `mapped`)."""

    network: str
    given: str
    mapped: bool = False

    @property
    def normalised(self) -> bool:
        return self.network != self.given

    @property
    def note(self) -> str | None:
        """Why the network is not what was written, for a warning (None: nothing worth saying)."""
        if self.mapped:
            return "is an IPv4-mapped IPv6 address" + (" with host bits set" if _has_host_bits(self.given) else "")
        return "has host bits set" if self.normalised and _has_host_bits(self.given) else None


class MappedPrefixError(PolicyError):
    """An IPv4-mapped network shorter than /96: it reaches past IPv4 into the rest of IPv6."""


_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")


def unmapped(network: IpNetwork) -> IpNetwork:
    """An IPv4-mapped IPv6 network (inside ::ffff:0:0/96) as the IPv4 network it is: /128 is
    /32, /96+n is /n. Every other network as it is."""
    if isinstance(network, ipaddress.IPv6Network) and network.prefixlen >= 96 and network.subnet_of(_MAPPED):
        mapped = network.network_address.ipv4_mapped
        assert mapped is not None
        return ipaddress.IPv4Network(f"{mapped}/{network.prefixlen - 96}")
    return network


def unmapped_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """An IPv4-mapped IPv6 address (::ffff:192.0.2.1) as its IPv4 address; others as they are."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _has_host_bits(given: str) -> bool:
    try:
        ipaddress.ip_network(given, strict=True)
    except ValueError:
        return True
    return False


def parse_cidr(text: str) -> Cidr:
    """Parse an address or CIDR; an address becomes /32 (IPv4) or /128 (IPv6). An IPv4-mapped
    IPv6 address or network (::ffff:192.0.2.1, ::ffff:192.0.2.0/120) becomes the IPv4 one
    (192.0.2.1/32, 192.0.2.0/24): that is the address AWS sees. A mapped address with a prefix
    shorter than /96 is refused (MappedPrefixError): it is not IPv4, and not what it looks like."""
    given = text.strip()
    try:
        written = ipaddress.ip_network(given, strict=False)
    except ValueError:
        raise PolicyError(
            f"not an IP address or CIDR: {text!r} (use e.g. 203.0.113.7, 203.0.113.0/24 "
            "or 2001:db8::/64)"
        ) from None
    ipv4 = _mapped_ipv4(given)
    if ipv4 is not None and written.prefixlen < 96:
        raise MappedPrefixError(
            f"{given} is an IPv4-mapped address ({ipv4}) with a prefix shorter than /96, which reaches "
            f"past IPv4 into other IPv6 addresses: write the IPv4 address or network itself ({ipv4}/N)"
        )
    canonical = str(unmapped(written))
    shown = given if "/" in given else f"{given}/{written.prefixlen}"
    return Cidr(canonical, shown if shown != canonical else canonical, ipv4 is not None)


def _mapped_ipv4(given: str) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv4-mapped address or CIDR is written with (None: it is not one)."""
    try:
        address = ipaddress.ip_address(given.split("/", 1)[0])
    except ValueError:
        return None
    return address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None


def _network(text: str) -> IpNetwork | None:
    """A network of a policy or a list, IPv4-mapped ones as IPv4 (None: not a network)."""
    try:
        return unmapped(ipaddress.ip_network(str(text).strip(), strict=False))
    except ValueError:
        return None


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


# --- reading and writing ---------------------------------------------------------------------


def decode_stored(text: str | None) -> Policy | None:
    """Parse the policy string GetRestApi returns.

    AWS returns it minified and escaped once more inside the string (`\\"` for quotes, `\\/`
    for slashes); undo that before parsing. Plain JSON is accepted too.
    """
    if text is None or not text.strip():
        return None
    candidates = [text]
    if text.lstrip().startswith('{\\"') or '\\"' in text[:20]:
        candidates.insert(0, _unescape_once(text))
    for candidate in candidates:
        try:
            value = json.loads(candidate)
        except (json.JSONDecodeError, ValueError):
            continue
        if isinstance(value, str):  # escaped once more than expected: peel another layer
            return decode_stored(value)
        if isinstance(value, dict):
            return value
    raise PolicyError("the API's stored policy is not valid JSON")


def _unescape_once(text: str) -> str:
    try:
        value = json.loads(f'"{text}"')
    except json.JSONDecodeError:
        return text.replace('\\"', '"').replace("\\/", "/")
    return str(value)


def encode(policy: Policy) -> str:
    """The minified form AWS stores and counts against the 8,192-character quota."""
    return json.dumps(policy, separators=(",", ":"))


def escape_for_storage(policy: Policy) -> str:
    """The form GetRestApi returns: minified JSON escaped once more, `/` as `\\/`."""
    return json.dumps(encode(policy))[1:-1].replace("/", "\\/")


def statements(policy: Policy | None) -> list[Statement]:
    if not policy:
        return []
    raw = policy.get("Statement", [])
    return [s for s in _as_list(raw) if isinstance(s, dict)]


_EFFECTS = {"Allow", "Deny"}


# the condition operators petgate reads (validation here, evaluation in policy_eval.py)
_IP_OPERATORS = {"IpAddress", "NotIpAddress"}
_OPERATORS = _IP_OPERATORS | {
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
    "Bool",
    "Null",
}
_NEGATED = {"NotIpAddress", "StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike"}


def _operator_base(operator: str) -> str:
    base = operator.split(":", 1)[-1]  # ForAnyValue:/ForAllValues: prefixes
    return base[: -len("IfExists")] if base.endswith("IfExists") else base


def validate(policy: Policy) -> None:
    """Raise PolicyError unless the policy is one API Gateway would accept."""
    if not isinstance(policy, dict):
        raise PolicyError("a policy must be a JSON object")
    raw = policy.get("Statement")
    if raw is None or (isinstance(raw, list) and not raw):
        raise PolicyError("a policy needs at least one Statement")
    for index, statement in enumerate(_as_list(raw)):
        where = f"statement {index + 1}"
        if not isinstance(statement, dict):
            raise PolicyError(f"{where} is not a JSON object")
        if statement.get("Effect") not in _EFFECTS:
            raise PolicyError(f"{where}: Effect must be Allow or Deny")
        if "Principal" not in statement and "NotPrincipal" not in statement:
            raise PolicyError(f"{where}: a resource policy statement needs a Principal")
        if "Action" not in statement and "NotAction" not in statement:
            raise PolicyError(f"{where}: Action is missing")
        if "Resource" not in statement and "NotResource" not in statement:
            raise PolicyError(f"{where}: Resource is missing")
        condition = statement.get("Condition", {})
        if not isinstance(condition, dict):
            raise PolicyError(f"{where}: Condition must be a JSON object")
        for operator, keys in condition.items():
            if _operator_base(operator) not in _OPERATORS:
                raise PolicyError(f"{where}: unknown condition operator {operator!r}")
            if not isinstance(keys, dict):
                raise PolicyError(f"{where}: condition {operator} must map keys to values")
            if _operator_base(operator) in _IP_OPERATORS:
                for value in (v for vs in keys.values() for v in _as_list(vs)):
                    if _network(value) is None:
                        raise PolicyError(f"{where}: {value!r} is not an IP address or CIDR")
    size = len(encode(policy))
    if size > MAX_POLICY_CHARS:
        raise PolicyError(
            f"the policy is {size} characters; API Gateway allows at most {MAX_POLICY_CHARS}"
        )


def user_statements(policy: Policy | None) -> list[Statement]:
    return [s for s in statements(policy) if not is_petgate_sid(s.get("Sid"))]


def expand_resources(policy: Policy, region: str, account_id: str, api_id: str) -> Policy:
    """Expand `execute-api:/stage/METHOD/path` to the full ARN, as API Gateway does on save;
    a one-item Resource list is stored as that one string, as AWS normalises it (readers here
    take both forms)."""
    prefix = f"arn:aws:execute-api:{region}:{account_id}:{api_id}"
    result = copy.deepcopy(policy)

    def expand(value: Any) -> Any:
        if isinstance(value, str) and value.startswith("execute-api:/"):
            return prefix + value[len("execute-api:") :]
        return value

    for statement in statements(result):
        for key in ("Resource", "NotResource"):
            if key in statement:
                value = statement[key]
                if isinstance(value, list) and len(value) == 1:
                    value = value[0]
                statement[key] = (
                    [expand(v) for v in value] if isinstance(value, list) else expand(value)
                )
    return result


# --- in words --------------------------------------------------------------------------------


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
    principal = statement.get("Principal", statement.get("NotPrincipal"))
    if principal == "*" or principal == {"AWS": "*"}:
        return "everyone"
    if isinstance(principal, dict) and "AWS" in principal:
        return "AWS principals " + ", ".join(str(p) for p in _as_list(principal["AWS"]))
    return f"principal {json.dumps(principal)}"


def _describe_conditions(condition: Mapping[str, Any]) -> str:
    parts = []
    for operator, keys in condition.items():
        for key, values in keys.items():
            joined = ", ".join(str(v) for v in _as_list(values))
            if _operator_base(operator) == "IpAddress":
                parts.append(f"from {joined}")
            elif _operator_base(operator) == "NotIpAddress":
                parts.append(f"not from {joined}")
            else:
                parts.append(f"when {key} {operator} {joined}")
    return (" " + " and ".join(parts)) if parts else ""


# petgate's deny list lives in policy_deny.py, evaluation in policy_eval.py; their names stay
# reachable as `policy.block`, `policy.evaluate` and so on.
from petgate.policy_deny import (  # noqa: E402
    DenyGroup,
    allow_statement,
    block,
    blocked_cidrs,
    build_deny,
    check_known_shape,
    check_own_statements_unique,
    collapse,
    covered,
    deny_groups,
    deny_sid,
    deny_statement,
    expiring,
    group_end,
    how_many_fit,
    is_deny_sid,
    is_petgate_sid,
    permanent_cidrs,
    prune,
    still_blocking,
    subtract,
    unblock,
)
from petgate.policy_eval import (  # noqa: E402
    PLACEHOLDER_ACCOUNT,
    CompiledPolicy,
    Decision,
    IpSet,
    Request,
    account_in,
    api_arn,
    api_arn_in,
    compile_policy,
    evaluate,
    request_arn,
)

__all__ = [
    "DenyGroup", "allow_statement", "block", "blocked_cidrs", "build_deny", "check_known_shape", "check_own_statements_unique", "collapse",
    "covered", "deny_groups", "deny_sid", "deny_statement", "expiring", "group_end", "how_many_fit", "is_deny_sid",
    "is_petgate_sid", "permanent_cidrs", "prune", "still_blocking", "subtract", "unblock",
    "PLACEHOLDER_ACCOUNT", "CompiledPolicy", "Decision", "IpSet", "Request", "account_in", "api_arn", "api_arn_in",
    "compile_policy", "evaluate", "request_arn",
]

