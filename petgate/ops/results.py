"""What operations return: frozen dataclasses whose `to_json()` is the command's JSON object.

A result's fields are its JSON keys. A field left UNSET is a key the JSON leaves out (the
contract leaves out, for example, `journal_id` when nothing was written); a field marked
FLAT puts its own result's keys beside the others (a change and the deployment after it make
one object). tests/golden/json_shapes.json holds every command's keys and their types.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final, TypeVar

FLAT: Final = {"flat": True}


class Unset:
    """The type of UNSET: a key this result does not have."""

    _instance: Unset | None = None

    def __new__(cls) -> Unset:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET: Final = Unset()

R = TypeVar("R", bound="Result")


@dataclass(frozen=True, kw_only=True)
class Result:
    """The base of every result."""

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for item in dataclasses.fields(self):
            value = getattr(self, item.name)
            if value is UNSET:
                continue
            if item.metadata.get("flat"):
                if value is not None:
                    data.update(value.to_json())
                continue
            data[item.name] = as_json(value)
        return data

    def but(self: R, **changes: Any) -> R:
        """A copy with these fields changed (results are frozen)."""
        return dataclasses.replace(self, **changes)


def as_json(value: Any) -> Any:
    """A value as JSON data: results by their `to_json()`, containers item by item."""
    if isinstance(value, Result):
        return value.to_json()
    if isinstance(value, (list, tuple)):
        return [as_json(item) for item in value]
    if isinstance(value, dict):
        return {key: as_json(item) for key, item in value.items()}
    return value


def extend(base: Result, cls: type[R], **fields: Any) -> R:
    """A `cls` (a subclass of base's class) with base's fields and these."""
    return cls(**{item.name: getattr(base, item.name) for item in dataclasses.fields(base)}, **fields)


@dataclass(frozen=True, kw_only=True)
class DeployError(Result):
    """Why the deployment after a written change failed (errors.deploy_failure raises it)."""

    code: str
    message: str
    hint: str | None


@dataclass(frozen=True, kw_only=True)
class Deployment(Result):
    """What happened to the stage: deployed, or not (--no-deploy, or a failed deployment)."""

    deployed: bool
    invoke_url: str
    deployment_id: str | Unset = UNSET
    quota_waits: int | Unset = UNSET
    quota_wait_s: float | Unset = UNSET
    deploy_error: DeployError | Unset = UNSET


@dataclass(frozen=True, kw_only=True)
class StageChange(Result):
    """A change to an API that its stage serves only once deployed (deploys.after_change)."""

    api_id: str
    stage: str
    changed: bool | Unset = UNSET  # unset: a change that is always deployed (an undo, a migration)
    dry_run: bool | Unset = UNSET
    journal_id: str | None | Unset = UNSET
    deployment: Deployment | None = field(default=None, metadata=FLAT)

    subject: ClassVar[str] = "change"  # what the stage serves of it, in words

    def served_by(self, exported: dict[str, Any]) -> bool:
        """Whether a stage whose export (GetExport) is `exported` serves the API as it is now."""
        raise NotImplementedError


__all__ = ["FLAT", "UNSET", "DeployError", "Deployment", "Result", "StageChange", "Unset", "as_json", "extend"]
