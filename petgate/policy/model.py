"""The resource-policy model: policies as plain data (parse, decode and encode with AWS's extra
escaping, validate, size, statements, expand_resources), CIDRs (parse_cidr, network_or_none,
the IPv4-mapped forms), petgate's Sids and the statement vocabulary its templates share.

The bottom of petgate.policy: deny, allow, evaluate and describe build on it; it imports none of
them. Pure functions over dicts; no boto3, no I/O; of petgate nothing.
"""

from __future__ import annotations

import copy
import ipaddress
import json
from dataclasses import dataclass
from typing import Any

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
DENY_UNTIL_PREFIX = "PetgateDenyUntil"  # + the time the block ends (expiry.stamp; deny.py reads it)

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


def network_or_none(text: str) -> IpNetwork | None:
    """A network of a policy or a list, IPv4-mapped ones as IPv4 (None: not a network)."""
    try:
        return unmapped(ipaddress.ip_network(str(text).strip(), strict=False))
    except ValueError:
        return None


def as_list(value: Any) -> list[Any]:
    """A policy element that may be one value or a list of them, as a list (None: empty)."""
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


def size(policy: Policy) -> int:
    """The characters the policy counts against API Gateway's quota (MAX_POLICY_CHARS)."""
    return len(encode(policy))


def statements(policy: Policy | None) -> list[Statement]:
    """The policy's statements as a list (a lone statement object too), non-objects left out."""
    if not policy:
        return []
    raw = policy.get("Statement", [])
    return [s for s in as_list(raw) if isinstance(s, dict)]


_EFFECTS = {"Allow", "Deny"}


# the condition operators petgate reads (validation here, evaluation in evaluate.py)
IP_OPERATORS = frozenset({"IpAddress", "NotIpAddress"})
CONDITION_OPERATORS = IP_OPERATORS | {
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
    "Bool",
    "Null",
}
NEGATED_OPERATORS = frozenset({"NotIpAddress", "StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike"})


def operator_base(operator: str) -> str:
    """The operator without its ForAnyValue:/ForAllValues: qualifier and IfExists suffix."""
    base = operator.split(":", 1)[-1]  # ForAnyValue:/ForAllValues: prefixes
    return base[: -len("IfExists")] if base.endswith("IfExists") else base


def validate(policy: Policy) -> None:
    """Raise PolicyError unless the policy is one API Gateway would accept."""
    if not isinstance(policy, dict):
        raise PolicyError("a policy must be a JSON object")
    raw = policy.get("Statement")
    if raw is None or (isinstance(raw, list) and not raw):
        raise PolicyError("a policy needs at least one Statement")
    for index, statement in enumerate(as_list(raw)):
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
            if operator_base(operator) not in CONDITION_OPERATORS:
                raise PolicyError(f"{where}: unknown condition operator {operator!r}")
            if not isinstance(keys, dict):
                raise PolicyError(f"{where}: condition {operator} must map keys to values")
            if operator_base(operator) in IP_OPERATORS:
                for value in (v for vs in keys.values() for v in as_list(vs)):
                    if network_or_none(value) is None:
                        raise PolicyError(f"{where}: {value!r} is not an IP address or CIDR")
    chars = size(policy)
    if chars > MAX_POLICY_CHARS:
        raise PolicyError(
            f"the policy is {chars} characters; API Gateway allows at most {MAX_POLICY_CHARS}"
        )


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


def allow_statement() -> Statement:
    """The Allow that keeps a Deny template (the deny list, the allow-lists) from refusing everyone."""
    return {
        "Sid": ALLOW_SID,
        "Effect": "Allow",
        "Principal": "*",
        "Action": INVOKE_ACTION,
        "Resource": [ALL_RESOURCES],
    }
