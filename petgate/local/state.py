"""`petgate local --state FILE`: the local gateway's APIs, deployments and snapshots survive a
restart. The whole state is written after every change that succeeded (a temporary file, then
an atomic rename) and read back at start.

The file is a Python pickle of moto's backends: only ever load one this machine wrote.
"""

from __future__ import annotations

import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

from petgate.errors import UsageError
from petgate.local.snapshot import SnapshotStore

FORMAT = 1


def _moto_version() -> str:
    from importlib.metadata import version

    return version("moto")


def _backends() -> dict[str, Any]:
    """moto's backends whose state the gateway serves, by service name."""
    from moto.apigateway.models import apigateway_backends
    from moto.wafv2.models import wafv2_backends

    return {"apigateway": apigateway_backends, "wafv2": wafv2_backends}


class StateFile:
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def load(self, store: SnapshotStore) -> bool:
        """Restore what the file holds (False when there is no file yet)."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise UsageError(f"cannot read the state file {self.path}: {exc.strerror}") from None
        try:
            saved = pickle.loads(raw)  # noqa: S301 - the user's own file, written by this tool
            if saved.get("format") != FORMAT:
                raise ValueError(f"format {saved.get('format')!r}")
        except Exception as exc:  # any damage: say so, never half-load
            raise UsageError(
                f"the state file {self.path} cannot be read ({type(exc).__name__}: {exc})",
                "move it away to start empty",
            ) from None
        if saved.get("moto") != _moto_version():
            raise UsageError(
                f"the state file {self.path} was written with moto {saved.get('moto')}, this is moto {_moto_version()}",
                "start with another --state file, or reinstall that moto version",
            )
        backends = _backends()
        for service, accounts in saved["backends"].items():
            for (account_id, region), backend in accounts.items():
                backends[service][account_id][region] = backend
        store.restore(saved["snapshots"])
        return True

    def save(self, store: SnapshotStore) -> None:
        """Write the whole state atomically (call with the gateway's lock held)."""
        saved = {
            "format": FORMAT,
            "moto": _moto_version(),
            "backends": {
                service: {
                    (account_id, region): backend
                    for account_id, regions in list(backends.items())
                    for region, backend in list(regions.items())
                }
                for service, backends in _backends().items()
            },
            "snapshots": store.dump(),
        }
        data = pickle.dumps(saved, protocol=pickle.HIGHEST_PROTOCOL)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(prefix=".petgate-state-", dir=self.path.parent)
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
