"""require-iam: the API's methods set to IAM authorization (authorizationType AWS_IAM), or back
to none (NONE) with --off, one UpdateMethod (`replace /authorizationType`) a method.

Read first with no lease (GetResources with its methods): a run with nothing to change stops
there (and deploys only if the stage does not serve the methods' types yet). A change reads the
methods again under the lease, journals the intent (each method with its `before` and `after`),
sends each UpdateMethod while the lease surely lasts, and journals `done` with what AWS stored;
`petgate undo` puts each method's earlier type back (ops/undo.py, kind `authorization`).

Which methods: all of them, or those `--path` and `--method` choose. An OPTIONS method is left
open unless `--method OPTIONS` names it: a browser's CORS preflight is never signed, so an
OPTIONS method with AWS_IAM refuses every preflight. A method with another authorizer (CUSTOM,
COGNITO_USER_POOLS) is left as it is: require-iam does not replace an authorizer, and --off
turns only IAM off.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar, Final

from petgate import lease as leases
from petgate.errors import AwsError, NetworkError, UsageError
from petgate.gateway import ApiRef, Gateway
from petgate.ops import deploys
from petgate.ops.apis import read_api
from petgate.ops.results import Result, StageChange
from petgate.ops.services import Services
from petgate.ops.writes import new_lease, taking_the_lease_again, under_lease

IAM: Final = "AWS_IAM"
NONE: Final = "NONE"
HTTP_METHODS: Final = ("ANY", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
PREFLIGHT: Final = "OPTIONS"
ANY_METHOD: Final = "x-amazon-apigateway-any-method"  # how an export names ANY
SIGV4_AUTHTYPE: Final = "awsSigv4"  # x-amazon-apigateway-authtype of IAM authorization


@dataclass(frozen=True)
class Method:
    """One method as GetResources gives it (with its resource's id, which UpdateMethod needs)."""

    resource_id: str
    path: str
    method: str
    authorization_type: str

    def shown(self, authorization_type: str | None = None) -> MethodAuthorization:
        return MethodAuthorization(path=self.path, method=self.method,
                                   authorization_type=authorization_type or self.authorization_type)


@dataclass(frozen=True, kw_only=True)
class MethodAuthorization(Result):
    path: str
    method: str
    authorization_type: str


@dataclass(frozen=True, kw_only=True)
class MethodChange(Result):
    path: str
    method: str
    before: str
    after: str


@dataclass(frozen=True, kw_only=True)
class SkippedMethod(Result):
    """A method require-iam chose not to change: `reason` is `cors-preflight` (an OPTIONS method
    not named) or `other-authorizer` (CUSTOM, COGNITO_USER_POOLS)."""

    path: str
    method: str
    authorization_type: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class AuthorizationChange(StageChange):
    """require-iam on one API: `changes` are the methods changed (or to change, in a dry run),
    `methods` every method of the API as it is after."""

    api_name: str
    changed: bool
    dry_run: bool
    authorization_type: str  # what was asked: AWS_IAM, or NONE (--off)
    changes: list[MethodChange]
    skipped: list[SkippedMethod]
    methods: list[MethodAuthorization]

    subject: ClassVar[str] = "methods' authorization"

    def served_by(self, exported: dict[str, Any]) -> bool:
        return served_iam_methods(exported) == {(m.path, m.method) for m in self.methods if m.authorization_type == IAM}


@dataclass(frozen=True)
class Wanted:
    """What one require-iam asks of every API it is run on (checked once, before any call)."""

    authorization_type: str
    paths: tuple[str, ...]
    methods: tuple[str, ...]
    stage: str
    no_deploy: bool = False
    dry_run: bool = False

    @property
    def command(self) -> str:
        return "require-iam --off" if self.authorization_type == NONE else "require-iam"


def wanted(paths: Iterable[str], methods: Iterable[str], off: bool, stage: str, no_deploy: bool = False,
           dry_run: bool = False) -> Wanted:
    """The --path and --method values checked (an unknown HTTP method or an empty path is one
    clear line, exit 2) and normalised: a path starts with `/` and has no trailing `/`, a method
    is upper case."""
    chosen_paths = []
    for given in paths:
        text = given.strip()
        if not text:
            raise UsageError("--path cannot be empty (the root resource is /)")
        text = "/" + text.strip("/") if text != "/" else text
        chosen_paths.append(text)
    chosen_methods = []
    for given in methods:
        name = given.strip().upper()
        if name not in HTTP_METHODS:
            raise UsageError(f"not an HTTP method API Gateway knows: {given!r} ({', '.join(HTTP_METHODS)})")
        chosen_methods.append(name)
    return Wanted(NONE if off else IAM, tuple(dict.fromkeys(chosen_paths)), tuple(dict.fromkeys(chosen_methods)),
                  stage, no_deploy, dry_run)


def read_methods(gateway: Gateway, api_id: str) -> list[Method]:
    """Every method of the API, by path then method (one GetResources, methods embedded)."""
    found = [
        Method(str(resource.get("id", "")), str(resource.get("path", "")), name,
               str(method.get("authorizationType") or NONE))
        for resource in gateway.get_resources(api_id)
        for name, method in (resource.get("resourceMethods") or {}).items()
    ]
    return sorted(found, key=lambda m: (m.path, m.method))


def served_iam_methods(exported: dict[str, Any]) -> set[tuple[str, str]]:
    """The (path, method) pairs a stage's export (GetExport) serves with IAM authorization: an
    operation whose `security` names a scheme of x-amazon-apigateway-authtype awsSigv4."""
    schemes = {**(exported.get("securityDefinitions") or {}),
               **((exported.get("components") or {}).get("securitySchemes") or {})}
    sigv4 = {name for name, scheme in schemes.items()
             if isinstance(scheme, dict) and scheme.get("x-amazon-apigateway-authtype") == SIGV4_AUTHTYPE}
    served = set()
    for path, operations in (exported.get("paths") or {}).items():
        for name, operation in (operations or {}).items():
            method = "ANY" if name == ANY_METHOD else str(name).upper()
            if method not in HTTP_METHODS or not isinstance(operation, dict):
                continue
            security = operation.get("security", exported.get("security")) or []
            if any(isinstance(need, dict) and sigv4 & set(need) for need in security):
                served.add((path, method))
    return served


def _chosen(methods: list[Method], want: Wanted, api_id: str) -> list[Method]:
    """The methods --path and --method name (all without them); either naming nothing of the
    API is an error (a typo must not change nothing and say it succeeded)."""
    paths = {m.path for m in methods}
    unknown = [p for p in want.paths if p not in paths]
    if unknown:
        known = ", ".join(sorted(paths)[:12]) + (", ..." if len(paths) > 12 else "")
        raise UsageError(f"API {api_id} has no resource {', '.join(unknown)} (its paths: {known or 'none'})",
                         "nothing was written")
    on_paths = [m for m in methods if not want.paths or m.path in want.paths]
    names = {m.method for m in on_paths}
    missing = [name for name in want.methods if name not in names]
    if missing:
        where = f" on {', '.join(want.paths)}" if want.paths else ""
        raise UsageError(f"API {api_id} has no {', '.join(missing)} method{where}", "nothing was written")
    return [m for m in on_paths if not want.methods or m.method in want.methods]


def _planned(api: ApiRef, methods: list[Method], want: Wanted) -> tuple[AuthorizationChange, list[tuple[Method, str]]]:
    """The result if the change were made now, and the writes it takes (method, new type)."""
    writes: list[tuple[Method, str]] = []
    skipped: list[SkippedMethod] = []
    for method in _chosen(methods, want, api.id):
        current = method.authorization_type
        if current not in (IAM, NONE):
            skipped.append(SkippedMethod(path=method.path, method=method.method, authorization_type=current,
                                         reason="other-authorizer"))
        elif want.authorization_type == IAM and method.method == PREFLIGHT and PREFLIGHT not in want.methods:
            if current != IAM:
                skipped.append(SkippedMethod(path=method.path, method=method.method, authorization_type=current,
                                             reason="cors-preflight"))
        elif current != want.authorization_type:
            writes.append((method, want.authorization_type))
    after = {(m.path, m.method): new for m, new in writes}
    result = AuthorizationChange(
        api_id=api.id, api_name=api.name, stage=want.stage, changed=bool(writes), dry_run=want.dry_run,
        authorization_type=want.authorization_type,
        changes=[MethodChange(path=m.path, method=m.method, before=m.authorization_type, after=new) for m, new in writes],
        skipped=skipped,
        methods=[m.shown(after.get((m.path, m.method))) for m in methods],
    )
    return result, writes


def require_iam(app: Services, ref: str, want: Wanted) -> AuthorizationChange:
    """Set the chosen methods' authorizationType, then redeploy (deploys.after_change). Reads
    first with no lease; a change is planned again on a read made under the lease."""
    api, _doc = read_api(app.gateway, ref)
    result, writes = _planned(api, read_methods(app.gateway, api.id), want)
    if want.dry_run or not writes:
        return deploys.after_change(app, result, want.no_deploy, f"petgate {want.command}")
    lease = new_lease(app, api.id)

    def attempt() -> AuthorizationChange:
        with under_lease(app, api.id, lease):
            now, writes = _planned(api, read_methods(app.gateway, api.id), want)
            if not writes:
                return now  # another writer made the same change meanwhile
            stored, entry_id = write_methods(
                app, lease, {"kind": "authorization", "command": want.command, "api_id": api.id, "stage": want.stage},
                writes)
            by_key = {(item["path"], item["method"]): item["after"] for item in stored}
            return now.but(journal_id=entry_id, methods=[
                m if (m.path, m.method) not in by_key else m.but(authorization_type=by_key[(m.path, m.method)])
                for m in now.methods])

    return deploys.after_change(app, taking_the_lease_again(app, api.id, attempt), want.no_deploy,
                                f"petgate {want.command}")


def write_methods(
    app: Services, lease: leases.Lease, entry_fields: dict[str, Any], writes: list[tuple[Method, str]]
) -> tuple[list[dict[str, Any]], str | None]:
    """Journal the intent (`methods`: each one's path, method, resource, before and after), send
    each UpdateMethod while the lease surely lasts, journal `done` with the types AWS stored.

    A failure part way is journaled as what it is: nothing sent is `not-written` (the lease ran
    short) or `failed` (AWS refused); some sent is `done` with those methods alone, so undo puts
    back exactly them (the lease running short then takes it again, and the rest is planned on
    a fresh read); a broken connection leaves the entry `intended`, every planned method in it,
    and undo checks each. Returns (the methods as written, the entry id)."""
    api_id = entry_fields["api_id"]
    lease.ready_to_write()  # before the intent is journaled: a lease that ran short wrote nothing
    planned = [{"path": m.path, "method": m.method, "resource_id": m.resource_id, "before": m.authorization_type,
                "after": new} for m, new in writes]
    entry = app.journal.record(target=app.target.describe(), state="intended", **entry_fields, methods=planned)
    entry_id = entry["id"] if entry else None
    done: list[dict[str, Any]] = []
    try:
        for (method, new), item in zip(writes, planned, strict=True):
            answer = lease.write(partial(app.gateway.set_authorization_type, api_id, method.resource_id, method.method, new))
            done.append({**item, "after": str(answer.get("authorizationType") or new)})
    except leases.LeaseTooShortError:
        if entry_id:
            app.journal.update(entry_id, **({"state": "done", "methods": done} if done else {"state": "not-written"}))
        raise
    except NetworkError as exc:
        raise NetworkError(
            f"{exc.message}; the change may have reached AWS before the connection failed",
            f"`petgate status --api {api_id}` shows each method's authorization now"
            + (f"; `petgate undo {entry_id}` puts back the methods that hold it" if entry_id else ""),
        ) from None
    except AwsError as exc:
        if entry_id:
            app.journal.update(entry_id, **({"state": "done", "methods": done} if done else {"state": "failed"}))
        if not done:
            raise
        raise AwsError(
            f"{exc.message} ({len(done)} of {len(writes)} methods were changed before it; the stage was not redeployed)",
            f"`petgate undo {entry_id}` puts those back" if entry_id else exc.hint,
            exc.code,
        ) from None
    if entry_id:
        app.journal.update(entry_id, state="done", methods=done)
    return done, entry_id
