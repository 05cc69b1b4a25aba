"""Deployment snapshots: what a stage serves, frozen at CreateDeployment as in AWS.

moto's deployments copy nothing; the local gateway copies the API's resources, methods,
integrations, policy and gateway responses here, and the data plane serves only these.
"""

from __future__ import annotations

import copy
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from petgate import policy as policies
from petgate.lease import MODEL_NAME as LEASE_MODEL  # petgate's lock, not part of the API


@dataclass(frozen=True)
class ResourceSpec:
    path: str
    segments: tuple[str, ...]
    methods: dict[str, dict[str, Any]]  # moto's Method.to_json(), deep-copied
    id: str = ""


@dataclass(frozen=True)
class Snapshot:
    api_id: str
    api_name: str
    deployment_id: str
    account_id: str
    region: str
    resources: tuple[ResourceSpec, ...]
    policy: policies.Policy | None
    gateway_responses: dict[str, dict[str, Any]]  # customised ones only
    compiled_policy: policies.CompiledPolicy = field(compare=False, repr=False)
    # for GetExport of the stage (export.py)
    description: str = ""
    models: dict[str, str] = field(default_factory=dict)  # name -> schema (JSON text)
    binary_media_types: tuple[str, ...] = ()
    deployed_at: float = 0.0
    version: str = ""  # the API's (its document's info.version), if it has one

    @property
    def arn_prefix(self) -> str:
        return f"arn:aws:execute-api:{self.region}:{self.account_id}:{self.api_id}"


def take(api: Any, deployment_id: str) -> Snapshot:
    """Copy what the API is now; the caller holds the control-plane lock."""
    resources = []
    for resource in api.resources.values():
        path = resource.get_path()
        methods = {name: copy.deepcopy(m.to_json()) for name, m in resource.resource_methods.items()}
        segments = tuple(p for p in path.split("/") if p)
        resources.append(ResourceSpec(path, segments, methods, resource.id))
    stored = api.policy
    policy = policies.decode_stored(stored) if stored else None
    responses = {
        kind: copy.deepcopy(response.to_json()) for kind, response in api.gateway_responses.items()
    }
    return Snapshot(
        api_id=api.id,
        api_name=api.name,
        deployment_id=deployment_id,
        account_id=api.account_id,
        region=api.region_name,
        resources=tuple(resources),
        policy=policy,
        gateway_responses=responses,
        compiled_policy=policies.compile_policy(
            policy, f"arn:aws:execute-api:{api.region_name}:{api.account_id}:{api.id}"
        ),
        description=api.description or "",
        models={name: model.schema for name, model in api.models.items() if model.schema and name != LEASE_MODEL},
        binary_media_types=tuple(api.binaryMediaTypes or ()),
        deployed_at=time.time(),
        version=str(getattr(api, "version", None) or ""),
    )


class SnapshotStore:
    """Snapshots by (api id, deployment id), and where each API lives."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._snapshots: dict[tuple[str, str], Snapshot] = {}
        self._homes: dict[str, tuple[str, str]] = {}

    def put(self, snapshot: Snapshot) -> None:
        with self._lock:
            self._snapshots[(snapshot.api_id, snapshot.deployment_id)] = snapshot
            self._homes[snapshot.api_id] = (snapshot.account_id, snapshot.region)

    def get(self, api_id: str, deployment_id: str) -> Snapshot | None:
        with self._lock:
            return self._snapshots.get((api_id, deployment_id))

    def home(self, api_id: str) -> tuple[str, str] | None:
        with self._lock:
            return self._homes.get(api_id)

    def dump(self) -> dict[str, Any]:
        """What `restore` takes back (for `petgate local --state`)."""
        with self._lock:
            return {"snapshots": dict(self._snapshots), "homes": dict(self._homes)}

    def restore(self, saved: dict[str, Any]) -> None:
        with self._lock:
            self._snapshots = dict(saved["snapshots"])
            self._homes = dict(saved["homes"])

    def clear(self) -> None:
        """Forget every snapshot (the gateway's reset)."""
        with self._lock:
            self._snapshots = {}
            self._homes = {}

    def drop_api(self, api_id: str) -> None:
        with self._lock:
            self._homes.pop(api_id, None)
            for key in [k for k in self._snapshots if k[0] == api_id]:
                del self._snapshots[key]
