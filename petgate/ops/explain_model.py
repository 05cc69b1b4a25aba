"""`explain`'s vocabulary: what a stage serves and the request asked of it (the walker's input),
and each layer's decision and the answer AWS would send (its output). Plain data; the walker is
ops/explain_layers.py."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from petgate import policy as policies
from petgate.ops.results import Result

PASS, REFUSE, UNKNOWN = "pass", "refuse", "unknown"
DECISIONS = (PASS, REFUSE, UNKNOWN)
LAYERS = ("stage", "vpc-endpoint", "waf", "route", "api-key", "policy-precheck", "authentication", "policy")


@dataclass(frozen=True, kw_only=True)
class Layer(Result):
    """One layer's decision ("pass", "refuse", "unknown") and why; `statement` the policy
    statement that decided (None: none did), `rule` the web ACL rule (None: none did)."""

    layer: str
    decision: str
    because: str
    statement: policies.Statement | None = None
    rule: str | None = None


@dataclass(frozen=True, kw_only=True)
class Outcome(Result):
    """The answer AWS would send. `known`: every layer decided (else what petgate could not see
    decides, and `status`/`error_type` are what follows if it lets the request through).
    `reason` is verify's word (probe.REASONS) or "unknown"; `status` None: the integration's
    own (an HTTP backend's) answer; `response_type` the gateway response rendered (None: none)."""

    known: bool
    allowed: bool | None
    reason: str
    status: int | None
    error_type: str | None
    body: str | None
    response_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class WebAcl:
    """The stage's web ACL as wafv2 gives it (GetWebACLForResource), with the addresses of the
    IP sets its rules reference (ARN -> CIDRs; a set missing here could not be read)."""

    name: str
    rules: Sequence[Mapping[str, Any]]
    default_action: Mapping[str, Any]
    custom_bodies: Mapping[str, Any]
    ip_sets: Mapping[str, Sequence[str]]


@dataclass(frozen=True)
class Served:
    """What the stage serves: its deployed definition (GetExport, oas30 with API Gateway's
    extensions), whether the API is PRIVATE now (an endpoint type needs no redeploy), its web ACL
    (None: none; `waf_unknown`: it could not be read, and why), and the API's account."""

    api_id: str
    stage: str
    region: str
    account: str
    export: Mapping[str, Any]
    private: bool
    deployment_id: str | None = None
    web_acl: WebAcl | None = None
    waf_unknown: str | None = None
    stage_variables: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Endpoint:
    """The VPC endpoint a request comes through; `vpc_id` None: not known (petgate reads no EC2)."""

    vpce_id: str
    vpc_id: str | None


@dataclass(frozen=True)
class Identity:
    """A signed caller's identity side: its policies (name, compiled) when readable, else
    `unknown` says why not."""

    policies: Sequence[tuple[str, policies.CompiledPolicy]] = ()
    unknown: str | None = None


@dataclass(frozen=True)
class Asked:
    """The request: method, path under the stage, the source address API Gateway sees, headers
    (lower-case names), the VPC endpoint it comes through, and the caller SigV4 proves (ANONYMOUS:
    unsigned) with its identity side (None: not read, as for a method without AWS_IAM).
    `scps_visible`: no organization policy can deny (petgate local); on AWS they are unknown."""

    method: str
    path: str
    source_ip: str
    headers: Mapping[str, str] = field(default_factory=dict)
    endpoint: Endpoint | None = None
    caller: policies.Caller = policies.ANONYMOUS
    identity: Identity | None = None
    now: float = 0.0
    scps_visible: bool = False
