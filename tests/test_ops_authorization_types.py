"""ops/authorization_types.py offline, on a fake gateway and a real journal: which methods
require-iam chooses, the calls it makes (read first, no lease when nothing changes), what it
journals when a write fails part way, and how a stage's export tells which methods it serves
with IAM. The CLI on the live local gateway is tests/e2e/test_require_iam.py's."""

from __future__ import annotations

import copy
import time
import types
from pathlib import Path
from typing import Any

import pytest

from petgate import lease as leases
from petgate.errors import AwsError, NetworkError, UsageError
from petgate.journal import Journal
from petgate.ops import authorization_types as auth
from petgate.ops import deploys
from petgate.target import Target

API_ID = "a1b2c3d4e5"
RESOURCES = [
    {"id": "r0", "path": "/", "resourceMethods": {"GET": {"authorizationType": "NONE"}}},
    {"id": "r1", "path": "/pets", "resourceMethods": {
        "GET": {"authorizationType": "NONE"}, "POST": {"authorizationType": "NONE"}, "OPTIONS": {"authorizationType": "NONE"}}},
    {"id": "r2", "path": "/pets/{petId}", "resourceMethods": {
        "GET": {"authorizationType": "CUSTOM", "authorizerId": "au1"}, "OPTIONS": {}}},
]


class FakeGateway:
    """The calls require-iam makes, in order; UpdateMethod changes what the next read sees.
    `fail_on` makes the n-th UpdateMethod raise that error."""

    write_bound_s = 1.0

    def __init__(self, resources: list[dict[str, Any]] | None = None) -> None:
        self.resources = copy.deepcopy(resources or RESOURCES)
        self.calls: list[str] = []
        self.fail_on: dict[int, Exception] = {}
        self.updates = 0
        self.on_read: Any = None

    def get_api_or_none(self, api_id: str) -> dict[str, Any] | None:
        self.calls.append("GetRestApi")
        return {"id": API_ID, "name": "PetStore"} if api_id == API_ID else None

    def get_resources(self, api_id: str) -> list[dict[str, Any]]:
        self.calls.append("GetResources")
        if self.on_read is not None:
            self.on_read(self)
        return copy.deepcopy(self.resources)

    def set_authorization_type(self, api_id: str, resource_id: str, http_method: str, kind: str) -> dict[str, Any]:
        self.calls.append(f"UpdateMethod {http_method} {resource_id}")
        self.updates += 1
        if self.updates in self.fail_on:
            raise self.fail_on[self.updates]
        method = next(r for r in self.resources if r["id"] == resource_id)["resourceMethods"][http_method]
        method["authorizationType"] = kind
        return {"httpMethod": http_method, **method}

    def create_model(self, api_id: str, name: str, description: str) -> dict[str, Any]:
        self.calls.append("CreateModel")
        return {}

    def get_model_or_none(self, api_id: str, name: str) -> None:
        return None

    def delete_model(self, api_id: str, name: str) -> None:
        self.calls.append("DeleteModel")

    def get_stage_export(self, api_id: str, stage: str) -> dict[str, Any]:
        self.calls.append("GetExport")
        return {"paths": {}}


def services(tmp_path: Path, gateway: FakeGateway | None = None) -> Any:
    warned: list[str] = []
    return types.SimpleNamespace(
        gateway=gateway or FakeGateway(), journal=Journal(tmp_path / "state"), clock=time.time, sleep=lambda _s: None,
        target=Target(local=True, local_url="http://127.0.0.1:4599"),
        output=types.SimpleNamespace(warn=warned.append, info=lambda _m: None, warned=warned),
    )


@pytest.fixture()
def no_deploys(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """after_change stood in: what it was given."""
    seen: list[Any] = []

    def after_change(app: Any, result: Any, no_deploy: bool, description: str) -> Any:
        seen.append((result, no_deploy, description))
        return result

    monkeypatch.setattr(deploys, "after_change", after_change)
    return seen


def chosen(data: auth.AuthorizationChange) -> list[tuple[str, str]]:
    return [(c.path, c.method) for c in data.changes]


# --- what is asked once ------------------------------------------------------------------------


def test_wanted_normalises_paths_and_methods() -> None:
    want = auth.wanted(["pets/", "/pets", "/", " /pets/{petId} "], ["get", "Post", "GET"], off=False, stage="prod")
    assert want.paths == ("/pets", "/", "/pets/{petId}") and want.methods == ("GET", "POST")
    assert want.authorization_type == "AWS_IAM" and want.command == "require-iam" and want.stage == "prod"
    off = auth.wanted([], [], off=True, stage="test")
    assert off.authorization_type == "NONE" and off.command == "require-iam --off"


@pytest.mark.parametrize(("paths", "methods", "message"), [
    ([""], [], "--path cannot be empty"),
    ([], ["FETCH"], "not an HTTP method API Gateway knows: 'FETCH'"),
    ([], ["get pets"], "not an HTTP method"),
])
def test_wanted_refuses_what_names_nothing(paths: list[str], methods: list[str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        auth.wanted(paths, methods, off=False, stage="test")


# --- choosing ----------------------------------------------------------------------------------


def test_every_method_but_options_and_other_authorizers(tmp_path: Path, no_deploys: list[Any]) -> None:
    app = services(tmp_path)
    data = auth.require_iam(app, API_ID, auth.wanted([], [], False, "test", dry_run=True))
    assert chosen(data) == [("/", "GET"), ("/pets", "GET"), ("/pets", "POST")]
    assert [(s.path, s.method, s.authorization_type, s.reason) for s in data.skipped] == [
        ("/pets", "OPTIONS", "NONE", "cors-preflight"), ("/pets/{petId}", "GET", "CUSTOM", "other-authorizer"),
        ("/pets/{petId}", "OPTIONS", "NONE", "cors-preflight")]
    assert [(m.path, m.method, m.authorization_type) for m in data.methods] == [
        ("/", "GET", "AWS_IAM"), ("/pets", "GET", "AWS_IAM"), ("/pets", "OPTIONS", "NONE"), ("/pets", "POST", "AWS_IAM"),
        ("/pets/{petId}", "GET", "CUSTOM"), ("/pets/{petId}", "OPTIONS", "NONE")], "as they would be after"
    assert data.dry_run is True and data.changed is True
    assert app.gateway.calls == ["GetRestApi", "GetResources"], "a dry run only reads"


def test_options_when_named_and_off_spares_other_authorizers(tmp_path: Path, no_deploys: list[Any]) -> None:
    app = services(tmp_path)
    named = auth.require_iam(app, API_ID, auth.wanted([], ["OPTIONS"], False, "test"))
    assert chosen(named) == [("/pets", "OPTIONS"), ("/pets/{petId}", "OPTIONS")] and named.skipped == []
    off = auth.require_iam(app, API_ID, auth.wanted([], [], True, "test"))
    assert [(c.path, c.method, c.before, c.after) for c in off.changes] == [
        ("/pets", "OPTIONS", "AWS_IAM", "NONE"), ("/pets/{petId}", "OPTIONS", "AWS_IAM", "NONE")]
    assert [(s.method, s.reason) for s in off.skipped] == [("GET", "other-authorizer")]


@pytest.mark.parametrize(("paths", "methods", "message"), [
    (["/nope", "/pets"], [], r"API a1b2c3d4e5 has no resource /nope \(its paths: /, /pets, /pets/\{petId\}\)"),
    (["/"], ["POST"], "API a1b2c3d4e5 has no POST method on /"),
    ([], ["DELETE"], "API a1b2c3d4e5 has no DELETE method$"),
])
def test_a_choice_the_api_does_not_have_is_refused(tmp_path: Path, paths: list[str], methods: list[str],
                                                    message: str) -> None:
    app = services(tmp_path)
    with pytest.raises(UsageError, match=message) as refused:
        auth.require_iam(app, API_ID, auth.wanted(paths, methods, False, "test"))
    assert refused.value.hint == "nothing was written" and app.journal.entries() == []


# --- the calls and the journal -----------------------------------------------------------------


def test_a_change_reads_again_under_the_lease_and_journals_each_method(tmp_path: Path, no_deploys: list[Any]) -> None:
    app = services(tmp_path)
    data = auth.require_iam(app, API_ID, auth.wanted(["/pets"], [], False, "prod", no_deploy=True))
    assert app.gateway.calls == ["GetRestApi", "GetResources", "CreateModel", "GetResources", "UpdateMethod GET r1",
                                 "UpdateMethod POST r1", "DeleteModel"]
    [entry] = app.journal.entries()
    assert entry["id"] == data.journal_id and entry["state"] == "done" and entry["kind"] == "authorization"
    assert (entry["api_id"], entry["stage"], entry["command"]) == (API_ID, "prod", "require-iam")
    assert entry["methods"] == [
        {"path": "/pets", "method": "GET", "resource_id": "r1", "before": "NONE", "after": "AWS_IAM"},
        {"path": "/pets", "method": "POST", "resource_id": "r1", "before": "NONE", "after": "AWS_IAM"}]
    [(deployed, no_deploy, description)] = no_deploys
    assert deployed is data and no_deploy is True and description == "petgate require-iam"


def test_nothing_to_change_takes_no_lease(tmp_path: Path, no_deploys: list[Any]) -> None:
    app = services(tmp_path)
    auth.require_iam(app, API_ID, auth.wanted([], [], False, "test"))
    app.gateway.calls.clear()
    data = auth.require_iam(app, API_ID, auth.wanted([], [], False, "test"))
    assert data.changed is False and data.changes == [] and app.gateway.calls == ["GetRestApi", "GetResources"]
    assert len(app.journal.entries()) == 1


def test_another_writer_making_the_same_change_meanwhile_writes_nothing(tmp_path: Path, no_deploys: list[Any]) -> None:
    gateway = FakeGateway()

    def meanwhile(fake: FakeGateway) -> None:
        if fake.calls.count("GetResources") == 2:  # the read under the lease
            for resource in fake.resources:
                for name, method in resource["resourceMethods"].items():
                    if name != "OPTIONS" and method.get("authorizationType") == "NONE":
                        method["authorizationType"] = "AWS_IAM"

    gateway.on_read = meanwhile
    app = services(tmp_path, gateway)
    data = auth.require_iam(app, API_ID, auth.wanted([], [], False, "test"))
    assert data.changed is False and app.journal.entries() == []
    assert gateway.calls == ["GetRestApi", "GetResources", "CreateModel", "GetResources", "DeleteModel"]


def test_aws_refusing_part_way_journals_what_was_written(tmp_path: Path) -> None:
    gateway = FakeGateway()
    gateway.fail_on[2] = AwsError("setting the authorization: BadRequestException: no", code="BadRequestException")
    app = services(tmp_path, gateway)
    with pytest.raises(AwsError) as failed:
        auth.require_iam(app, API_ID, auth.wanted([], [], False, "test"))
    [entry] = app.journal.entries()
    assert entry["state"] == "done" and [m["method"] + " " + m["path"] for m in entry["methods"]] == ["GET /"]
    assert "1 of 3 methods were changed before it; the stage was not redeployed" in failed.value.message
    assert failed.value.hint == f"`petgate undo {entry['id']}` puts those back" and failed.value.code == "BadRequestException"


def test_aws_refusing_the_first_write_is_failed(tmp_path: Path) -> None:
    gateway = FakeGateway()
    gateway.fail_on[1] = AwsError("no", code="BadRequestException")
    app = services(tmp_path, gateway)
    with pytest.raises(AwsError, match="^no$"):
        auth.require_iam(app, API_ID, auth.wanted([], [], False, "test"))
    assert app.journal.entries()[0]["state"] == "failed"


def test_a_broken_connection_leaves_the_intent_for_undo_to_check(tmp_path: Path) -> None:
    gateway = FakeGateway()
    gateway.fail_on[2] = NetworkError("setting the authorization: cannot reach the control plane")
    app = services(tmp_path, gateway)
    with pytest.raises(NetworkError) as failed:
        auth.require_iam(app, API_ID, auth.wanted([], [], False, "test"))
    [entry] = app.journal.entries()
    assert entry["state"] == "intended" and len(entry["methods"]) == 3, "every planned method: undo checks each"
    assert "may have reached AWS" in failed.value.message
    assert failed.value.hint is not None and f"petgate undo {entry['id']}" in failed.value.hint


def test_a_lease_that_runs_short_part_way_keeps_what_was_written_and_plans_the_rest_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_deploys: list[Any]
) -> None:
    original = leases.Lease.write
    writes: list[int] = []

    def write(self: leases.Lease, call: Any) -> Any:
        writes.append(1)
        if len(writes) == 2:
            raise leases.LeaseTooShortError()
        return original(self, call)

    monkeypatch.setattr(leases.Lease, "write", write)
    app = services(tmp_path)
    data = auth.require_iam(app, API_ID, auth.wanted([], [], False, "test"))
    first, second = app.journal.entries()
    assert first["state"] == "done" and [m["path"] for m in first["methods"]] == ["/"]
    assert second["state"] == "done" and [(m["path"], m["method"]) for m in second["methods"]] == [
        ("/pets", "GET"), ("/pets", "POST")], "planned again on a fresh read"
    assert data.journal_id == second["id"] and chosen(data) == [("/pets", "GET"), ("/pets", "POST")]
    assert "taking it again" in app.output.warned[0]


# --- what the stage serves ---------------------------------------------------------------------

SCHEME = {"type": "apiKey", "name": "Authorization", "in": "header", "x-amazon-apigateway-authtype": "awsSigv4"}


def test_served_iam_methods_reads_oas30_and_swagger_exports() -> None:
    oas30 = {"paths": {"/pets": {"get": {"security": [{"sigv4": []}]}, "post": {}, "parameters": []},
                       "/": {"x-amazon-apigateway-any-method": {"security": [{"sigv4": []}]}}},
             "components": {"securitySchemes": {"sigv4": SCHEME}}}
    assert auth.served_iam_methods(oas30) == {("/pets", "GET"), ("/", "ANY")}
    swagger = {"paths": {"/pets": {"get": {"security": [{"other": []}, {"iam": []}]}}}, "securityDefinitions": {"iam": SCHEME}}
    assert auth.served_iam_methods(swagger) == {("/pets", "GET")}, "the scheme's authtype counts, not its name"
    custom = {"paths": {"/pets": {"get": {"security": [{"sigv4": []}]}}},
              "securityDefinitions": {"sigv4": {**SCHEME, "x-amazon-apigateway-authtype": "custom"}}}
    assert auth.served_iam_methods(custom) == set()
    top = {"security": [{"sigv4": []}], "paths": {"/": {"get": {}, "post": {"security": []}}},
           "securityDefinitions": {"sigv4": SCHEME}}
    assert auth.served_iam_methods(top) == {("/", "GET")}, "an operation's own security overrides the document's"
    assert auth.served_iam_methods({}) == set()


def test_served_by_compares_the_iam_methods() -> None:
    result = auth.AuthorizationChange(
        api_id=API_ID, api_name="PetStore", stage="test", changed=False, dry_run=False, authorization_type="AWS_IAM",
        changes=[], skipped=[], methods=[
            auth.MethodAuthorization(path="/pets", method="GET", authorization_type="AWS_IAM"),
            auth.MethodAuthorization(path="/pets", method="OPTIONS", authorization_type="NONE")])
    served = {"paths": {"/pets": {"get": {"security": [{"sigv4": []}]}, "options": {}}},
              "components": {"securitySchemes": {"sigv4": SCHEME}}}
    assert result.served_by(served)
    assert not result.served_by({"paths": {"/pets": {"get": {}, "options": {}}}}), "deployed before require-iam"
