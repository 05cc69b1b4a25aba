"""Private APIs offline: which client addresses stand for which VPC endpoint, and the private
invoke forms of a request.

`petgate local --vpc-endpoint vpce-0abc1234:vpc-0def5678=127.0.0.9` (repeatable) says that a
request whose TCP peer is 127.0.0.9 comes through the interface VPC endpoint vpce-0abc1234 of
VPC vpc-0def5678, as a client inside that VPC would. The data plane (dataplane.py) then fills
the keys a resource policy sees of such a request (aws:SourceVpce, aws:SourceVpc,
aws:VpcSourceIp) and lets only such requests reach a PRIVATE API.

The invoke forms, from API Gateway's Developer Guide, "Invoke a private API"
(apigateway-private-api-test-invoke-url):
- the Route 53 alias of an API associated with the endpoint, Host
  `{api-id}-{vpce-id}.execute-api.{region}.amazonaws.com`, path `/{stage}/...`;
- the endpoint's own (public DNS) host with the API named by the `x-apigw-api-id` header (or by
  Host `{api-id}.execute-api.{region}.amazonaws.com`), path `/{stage}/...`;
- with private DNS on, the API's default name `{api-id}.execute-api.{region}.amazonaws.com`,
  which from inside the VPC resolves to the endpoint.
Locally the gateway's own address stands for the endpoint's host (a client sets Host or the
header), and petgate local's path form `/restapis/{api}/{stage}/_user_request_/...` from a
mapped address goes through the endpoint too when the API is PRIVATE.
"""

from __future__ import annotations

import ipaddress
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from petgate.errors import UsageError

OPTION = "--vpc-endpoint"
EXAMPLE = "vpce-0abc1234:vpc-0def5678=127.0.0.9"
# AWS's resource ids: the prefix, then 8 (older ids) or 17 lowercase hex digits
_VPCE_ID = re.compile(r"^vpce-(?:[0-9a-f]{8}|[0-9a-f]{17})$")
_VPC_ID = re.compile(r"^vpc-(?:[0-9a-f]{8}|[0-9a-f]{17})$")
# the Route 53 alias: {api-id}-{vpce-id}.execute-api.{region}.amazonaws.com
_ALIAS_HOST = re.compile(
    r"^(?P<api>[a-z0-9]+)-(?P<vpce>vpce-[0-9a-f]+)\.execute-api\.(?P<region>[a-z0-9-]+)\.amazonaws\.com$")
# the API's default name: {api-id}.execute-api.{region}.amazonaws.com
_API_HOST = re.compile(r"^(?P<api>[a-z0-9]+)\.execute-api\.(?P<region>[a-z0-9-]+)\.amazonaws\.com$")
# the endpoint's public DNS names: vpce-...-....execute-api.{region}.vpce.amazonaws.com
_ENDPOINT_HOST = re.compile(r"^vpce-[0-9a-z-]+\.execute-api\.(?P<region>[a-z0-9-]+)\.vpce\.amazonaws\.com$")


@dataclass(frozen=True)
class VpcEndpoint:
    vpce_id: str
    vpc_id: str


@dataclass(frozen=True)
class PrivateInvoke:
    """A data-plane request in one of the Host / header forms (not petgate's path form).

    `form`: "alias" (the Route 53 alias: always through the endpoint it names), "header"
    (x-apigw-api-id, or the API's name in Host, sent to the endpoint's own host: always through
    an endpoint), "dns" (the API's default name: through an endpoint only when the request comes
    from one, as private DNS resolves it; else the public endpoint)."""

    api_id: str
    stage: str
    path: str
    form: str
    region: str | None = None  # the one the host names, when it names one
    vpce_id: str | None = None  # the one the alias names


def parse_mapping(text: str) -> tuple[str, VpcEndpoint]:
    """`VPCE_ID:VPC_ID=ADDRESS` -> (the address, normalised; its endpoint), or UsageError."""
    usage = f"expected VPCE_ID:VPC_ID=ADDRESS, as {EXAMPLE}"
    ids, equals, address = text.strip().partition("=")
    vpce_id, colon, vpc_id = ids.partition(":")
    if not equals or not colon:
        raise UsageError(f"{OPTION} {text!r} does not parse: {usage}")
    if not _VPCE_ID.match(vpce_id):
        raise UsageError(f"{OPTION} {text!r} does not parse: {vpce_id!r} is not a VPC endpoint id "
                         "(vpce- and 8 or 17 lowercase hex digits)")
    if not _VPC_ID.match(vpc_id):
        raise UsageError(f"{OPTION} {text!r} does not parse: {vpc_id!r} is not a VPC id "
                         "(vpc- and 8 or 17 lowercase hex digits)")
    try:
        parsed = ipaddress.ip_address(address.strip())
    except ValueError:
        raise UsageError(f"{OPTION} {text!r} does not parse: {address!r} is not an IP address "
                         "(the client's source address, such as 127.0.0.9)") from None
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        parsed = parsed.ipv4_mapped
    return str(parsed), VpcEndpoint(vpce_id, vpc_id)


def parse_mappings(texts: Iterable[str]) -> dict[str, VpcEndpoint]:
    """Every `--vpc-endpoint`, by address; an address mapped twice, or an endpoint given in two
    VPCs (an endpoint lives in one), is a UsageError."""
    mappings: dict[str, VpcEndpoint] = {}
    vpcs: dict[str, str] = {}
    for text in texts:
        address, endpoint = parse_mapping(text)
        if address in mappings:
            raise UsageError(f"{OPTION} maps {address} twice ({mappings[address].vpce_id} and {endpoint.vpce_id}): "
                             "one source address comes through one endpoint")
        if vpcs.setdefault(endpoint.vpce_id, endpoint.vpc_id) != endpoint.vpc_id:
            raise UsageError(f"{OPTION} puts {endpoint.vpce_id} in two VPCs ({vpcs[endpoint.vpce_id]} and "
                             f"{endpoint.vpc_id}): an endpoint belongs to one VPC")
        mappings[address] = endpoint
    return mappings


def describe(mappings: Mapping[str, VpcEndpoint]) -> str:
    """`vpce-0abc1234 (vpc-0def5678) from 127.0.0.9, ...` for the gateway's start-up line."""
    return ", ".join(f"{e.vpce_id} ({e.vpc_id}) from {address}" for address, e in sorted(mappings.items()))


class EndpointMap:
    """Source address -> VPC endpoint, for the gateway's life (read by every private request)."""

    def __init__(self, mappings: Mapping[str, VpcEndpoint] | None = None) -> None:
        self._lock = threading.Lock()
        self._by_address: dict[str, VpcEndpoint] = dict(mappings or {})

    def of(self, address: str) -> VpcEndpoint | None:
        """The endpoint a request from this peer address comes through (a dual-stack socket's
        ::ffff:127.0.0.9 is 127.0.0.9), or None."""
        found = self._by_address.get(address)
        if found is None and address.startswith("::ffff:"):
            found = self._by_address.get(address[7:])
        return found

    def mappings(self) -> dict[str, VpcEndpoint]:
        with self._lock:
            return dict(self._by_address)

    def replace(self, mappings: Mapping[str, VpcEndpoint]) -> None:
        with self._lock:
            self._by_address = dict(mappings)


def invoke_target(environ: Mapping[str, object]) -> PrivateInvoke | None:
    """The request's Host / x-apigw-api-id form, or None (then it is no data-plane request of
    these forms). Cheap for everything else: one header lookup and one substring test."""
    named = environ.get("HTTP_X_APIGW_API_ID")
    host = str(environ.get("HTTP_HOST") or "")
    if named is None and ".execute-api." not in host:
        return None
    host = _without_port(host).lower().rstrip(".")
    stage, _, rest = str(environ.get("PATH_INFO") or "/").lstrip("/").partition("/")
    path = "/" + rest
    if named is not None:
        region = None
        for pattern in (_ENDPOINT_HOST, _API_HOST, _ALIAS_HOST):
            match = pattern.match(host)
            if match:
                region = match["region"]
                break
        return PrivateInvoke(str(named).strip(), stage, path, "header", region)
    alias = _ALIAS_HOST.match(host)
    if alias:
        return PrivateInvoke(alias["api"], stage, path, "alias", alias["region"], alias["vpce"])
    by_name = _API_HOST.match(host)
    if by_name:
        return PrivateInvoke(by_name["api"], stage, path, "dns", by_name["region"])
    endpoint = _ENDPOINT_HOST.match(host)
    if endpoint:  # the endpoint's own host naming no API: no API to find (403 Forbidden)
        return PrivateInvoke("", stage, path, "header", endpoint["region"])
    return None


def _without_port(host: str) -> str:
    if host.startswith("["):  # [::1]:4599
        return host[1:].partition("]")[0]
    name, colon, port = host.rpartition(":")
    return name if colon and port.isdigit() and ":" not in name else host
