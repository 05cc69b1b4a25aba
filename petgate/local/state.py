"""`petgate local --state FILE`: the local gateway's APIs (REST and HTTP: moto's apigateway and
apigatewayv2 backends), deployments and snapshots, its WAF lists, its IAM and STS state (users, keys, roles, policies, assumed-role sessions) and its
`--vpc-endpoint` mappings survive a restart. The whole state is written after every change that succeeded (a temporary file, then
an atomic rename) and read back at start.

One gateway per file: a gateway holds an exclusive lock (flock) on FILE.lock beside it for as
long as it runs (the state file itself is replaced at every save, so it cannot carry the lock);
a second gateway on the same file refuses to start. The lock file stays behind, empty of meaning
once its holder is gone (the kernel drops the lock when the process ends, however it ends).

The file is a Python pickle of moto's backends: only ever load one this machine wrote.
"""

from __future__ import annotations

import os
import pickle
import tempfile
from pathlib import Path
from typing import IO, Any

from petgate.errors import UsageError
from petgate.local.private_endpoints import EndpointMap
from petgate.local.snapshot import SnapshotStore

FORMAT = 1


def _moto_version() -> str:
    from importlib.metadata import version

    return version("moto")


def moto_backends() -> dict[str, Any]:
    """moto's backends whose state the gateway serves, by service name (IAM's and STS's are
    keyed by partition, "aws", where the others are keyed by region: saved the same way)."""
    from moto.apigateway.models import apigateway_backends
    from moto.apigatewayv2.models import apigatewayv2_backends
    from moto.iam.models import iam_backends
    from moto.sts.models import sts_backends
    from moto.wafv2.models import wafv2_backends

    return {"apigateway": apigateway_backends, "apigatewayv2": apigatewayv2_backends, "wafv2": wafv2_backends,
            "iam": iam_backends, "sts": sts_backends}


class StateFile:
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self._lock: IO[str] | None = None

    def lock(self) -> None:
        """Take FILE.lock for this process (until unlock() or the process ends), or refuse:
        another gateway serves this file, and whichever saved last would erase the other's APIs."""
        import fcntl

        if self._lock is not None:
            return
        try:
            self.lock_path.parent.mkdir(parents=True, exist_ok=True)
            handle = open(self.lock_path, "a+")  # noqa: SIM115 - held for the life of the gateway
        except OSError as exc:
            raise UsageError(f"cannot lock the state file {self.path}: {exc.strerror}") from None
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip()
            handle.close()
            raise UsageError(
                f"the state file {self.path} is in use by another petgate local" + (f" (pid {holder})" if holder.isdigit() else ""),
                "stop that one first, or choose another --state file",
            ) from None
        handle.truncate(0)
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._lock = handle

    def unlock(self) -> None:
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def load(self, store: SnapshotStore, endpoints: EndpointMap | None = None) -> bool:
        """Restore what the file holds (False when there is no file yet); `endpoints` gets the
        kept `--vpc-endpoint` mappings (none in a file written before they were kept)."""
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
        backends = moto_backends()
        for service, accounts in saved["backends"].items():
            if service not in backends:
                continue
            for (account_id, region), backend in accounts.items():
                backends[service][account_id][region] = backend
        store.restore(saved["snapshots"])
        if endpoints is not None:
            endpoints.replace(saved.get("vpc_endpoints") or {})
        return True

    def save(self, store: SnapshotStore, endpoints: EndpointMap | None = None) -> None:
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
                for service, backends in moto_backends().items()
            },
            "snapshots": store.dump(),
            "vpc_endpoints": endpoints.mappings() if endpoints is not None else {},
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
