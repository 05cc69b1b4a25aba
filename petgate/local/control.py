"""The control plane: moto's server app, with a fidelity layer where moto differs from AWS
for what petgate uses (ARCHITECTURE.md, "The local gateway"; tests/fidelity/ cites the recorded AWS answer for each).

Intercepted here: ImportRestApi and PutRestApi (Swagger 2.0 too), policy writes (validated,
`execute-api:/` expanded, stored escaped as AWS returns it), gateway responses (defaults
listed), UpdateMethod (which moto lacks: method_update.py), CreateDeployment (snapshots the
API; a PRIVATE API without a policy is refused as on AWS), GetExport of a stage (from its
snapshot) and DeleteRestApi (drops snapshots). Everything else goes to moto unchanged.

Before any of that, what AWS checks first (errors.py): the Authorization header's shape and
region, and a body that is JSON of the operation's input shape (botocore's model of API
Gateway). Where moto still fails (an operation it lacks, an id it looks up without a check, a
crash), the answer is a 4xx or 501 that says so, never a 500 (which SDKs retry).
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import re
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from petgate.local import (
    export,
    gateway_responses,
    importer,
    method_update,
    paging,
    request_checks,
    rest_objects,
    snapshot,
)
from petgate.local.errors import (
    ApiError,
    BodyError,
    check_shape,
    check_signature,
    load_json_object,
    parse_authorization,
    validation_message,
)
from petgate.local.stored_policy import store_policy
from petgate.local.throttle import Throttle

Response = tuple[int, dict[str, str], bytes]

@contextmanager
def moto_errors() -> Iterator[None]:
    """moto's exceptions, in API Gateway's wire format."""
    from moto.core.exceptions import JsonRESTError

    try:
        yield
    except JsonRESTError as exc:
        error = ApiError(exc.error_type, exc.message)
        error.status = exc.code if exc.code != 400 else error.status  # moto says 400 for any JsonRESTError
        raise error from None


class Caller:
    """Whose backend a signed request addresses: moto's account for the key, and the region."""

    def __init__(self, environ: dict[str, Any]) -> None:
        access_key, self.region = "", "us-east-1"
        if environ.get("HTTP_AUTHORIZATION"):
            with contextlib.suppress(ApiError):  # refused before a Caller is made (check_signature)
                access_key, self.region, _ = parse_authorization(str(environ["HTTP_AUTHORIZATION"]))
        from moto.iam.models import get_account_id_from

        self.account_id = get_account_id_from(access_key)
        self.accept = environ.get("HTTP_ACCEPT", "")

    @property
    def backend(self) -> Any:
        from moto.apigateway.models import apigateway_backends

        return apigateway_backends[self.account_id][self.region]


Handler = Callable[[Caller, dict[str, str], dict[str, list[str]], bytes], Response]
OperationHandler = Callable[[Any, dict[str, str], dict[str, list[str]], bytes], Response | None]  # moto's backend,
# the path's ids, the query, the body; None: moto answers


class Operations:
    """API Gateway's operations from botocore's model: which one a request is, and what AWS
    checks of its body before it runs."""

    def __init__(self, service: str = "apigateway") -> None:
        import botocore.session

        self.model = botocore.session.get_session().get_service_model(service)
        self.routes: list[tuple[str, re.Pattern[str], dict[str, str], Any]] = []
        for name in self.model.operation_names:
            operation = self.model.operation_model(name)
            path, _, fixed = operation.http["requestUri"].partition("?")
            # an ARN in the path holds `/` once decoded (GetTags' /tags/{resource_arn})
            pattern = re.sub(r"\\\{([A-Za-z0-9_]+)(\\\+)?\\\}",
                             lambda m: f"(?P<{m[1]}>.+)" if m[2] or m[1].endswith("arn") else f"(?P<{m[1]}>[^/]+)",
                             re.escape(path))
            self.routes.append((operation.http["method"], re.compile(pattern + "/?$"),
                                dict(urllib.parse.parse_qsl(fixed)), operation))
        self.routes.sort(key=lambda route: -len(route[2]))  # `?mode=import` before the same path without

    def find(self, method: str, path: str, query: dict[str, list[str]]) -> tuple[Any, dict[str, str]]:
        for route_method, pattern, fixed, operation in self.routes:
            match = pattern.match(path)
            if route_method == method and match and all(query.get(k, [""])[0] == v for k, v in fixed.items()):
                return operation, match.groupdict()
        return None, {}

    @staticmethod
    def check_body(operation: Any, body: bytes) -> None:
        """A body that is not JSON of the operation's input shape: BadRequestException (not
        JSON, or the wrong kind of value), ValidationException (a required member missing)."""
        shape = operation.input_shape
        if shape is None or shape.serialization.get("payload"):
            return  # no input, or a document of its own (ImportRestApi, PutRestApi: importer.py)
        if all(member.serialization.get("location") for member in shape.members.values()):
            return  # everything is in the path, query or headers: a body is not read
        try:
            missing = check_shape(shape, load_json_object(body), f"{operation.name[:1].lower()}{operation.name[1:]}Input",
                                  strict_scalars=False)
        except BodyError as exc:
            raise ApiError("BadRequestException", f"Could not parse request body into json: {exc}") from None
        if missing:
            raise ApiError("ValidationException", validation_message(missing))


def request_json(body: bytes) -> dict[str, Any]:
    """The body of an intercepted operation (already checked against its shape)."""
    try:
        return load_json_object(body)
    except BodyError as exc:
        raise ApiError("BadRequestException", f"Could not parse request body into json: {exc}") from None


def moto_failure(exc: Exception, operation: str, ids: dict[str, str]) -> ApiError:
    """What moto raised for a request that passed AWS's checks, as an answer that is not a 500:
    an operation moto lacks is 501; an id from the path that moto looked up without checking is
    AWS's 404; anything else is a 400 that names petgate local's limit (and is logged)."""
    if isinstance(exc, NotImplementedError):
        return ApiError("NotImplemented", f"petgate local does not implement {operation} (moto lacks it)")
    if type(exc) is Exception and "not implemented" in str(exc):  # moto's "Patch operation ... not implemented"
        return ApiError("NotImplemented", f"petgate local does not implement this {operation} ({exc}: moto lacks it)")
    missing = exc.args[0] if isinstance(exc, KeyError) and exc.args else None
    for label, value in ids.items():
        # moto may see the id as the client encoded it ("x y" as x%20y)
        if missing is not None and missing in (value, urllib.parse.quote(value, safe="")):
            thing = label.removesuffix("_id").replace("_", " ")
            return ApiError("NotFoundException", f"Invalid {thing[:1].upper()}{thing[1:]} identifier specified")
    print(f"petgate local: moto failed on {operation}: {exc!r}", file=sys.stderr)
    return ApiError("BadRequestException",
                    f"petgate local could not process this {operation} request ({type(exc).__name__}: {exc}); "
                    "this is the local gateway's limit, not AWS's answer")


class ControlPlane:
    def __init__(self, store: snapshot.SnapshotStore, lock: threading.RLock, throttle: Throttle | None = None) -> None:
        from moto.moto_server.werkzeug_app import create_backend_app

        from petgate.local import moto_fixes

        moto_fixes.install()
        self.moto_app = create_backend_app("apigateway")
        self._operations: Operations | None = None
        self._operations_lock = threading.Lock()
        self.store = store
        self.lock = lock
        self.throttle = throttle
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = [
            ("POST", re.compile(r"/restapis/?$"), self.create_or_import),
            ("PUT", re.compile(r"/restapis/(?P<api>[^/]+)/?$"), self.put_rest_api),
            ("PATCH", re.compile(r"/restapis/(?P<api>[^/]+)/?$"), self.update_rest_api),
            ("DELETE", re.compile(r"/restapis/(?P<api>[^/]+)/?$"), self.delete_rest_api),
            ("GET", re.compile(r"/restapis/(?P<api>[^/]+)/gatewayresponses/?$"), self.list_responses),
            ("GET", re.compile(r"/restapis/(?P<api>[^/]+)/gatewayresponses/(?P<type>[^/]+)/?$"), self.get_response),
            ("PUT", re.compile(r"/restapis/(?P<api>[^/]+)/gatewayresponses/(?P<type>[^/]+)/?$"), self.put_response),
            ("DELETE", re.compile(r"/restapis/(?P<api>[^/]+)/gatewayresponses/(?P<type>[^/]+)/?$"), self.delete_response),
            ("PATCH", re.compile(r"/restapis/(?P<api>[^/]+)/gatewayresponses/(?P<type>[^/]+)/?$"), self.update_response),
            ("PATCH", re.compile(r"/restapis/(?P<api>[^/]+)/resources/(?P<resource>[^/]+)/methods/(?P<method>[^/]+)/?$"),
             self.update_method),
            ("POST", re.compile(r"/restapis/(?P<api>[^/]+)/deployments/?$"), self.create_deployment),
            ("DELETE", re.compile(r"/restapis/(?P<api>[^/]+)/models/(?P<model>[^/]+)/?$"), self.delete_model),
            ("GET", re.compile(r"/restapis/(?P<api>[^/]+)/stages/(?P<stage>[^/]+)/exports/(?P<kind>[^/]+)/?$"), self.get_export),
        ]
        # by operation (botocore's name, its path parameters): answered here (moto lacks them or
        # answers otherwise), or checked here and then answered by moto
        self.answered: dict[str, OperationHandler] = {
            "UpdateResource": lambda b, ids, _, body: rest_objects.update_resource(b, ids["restapi_id"], ids["resource_id"], body),
            "DeleteResource": lambda b, ids, _, __: rest_objects.delete_resource(b, ids["restapi_id"], ids["resource_id"]),
            "UpdateModel": lambda b, ids, _, body: rest_objects.update_model(b, ids["restapi_id"], ids["model_name"], body),
            "UpdateRequestValidator": lambda b, ids, _, body: rest_objects.update_request_validator(
                b, ids["restapi_id"], ids["requestvalidator_id"], body),
            "DeleteRequestValidator": lambda b, ids, _, __: rest_objects.delete_request_validator(
                b, ids["restapi_id"], ids["requestvalidator_id"]),
            **{tags: functools.partial(request_checks.rest_api_tags, operation=tags)
               for tags in ("GetTags", "TagResource", "UntagResource")},
        }
        self.checked: dict[str, Callable[[Any, dict[str, str], dict[str, list[str]], bytes], None]] = {
            "CreateResource": lambda b, ids, _, body: rest_objects.create_resource(b, ids["restapi_id"], ids["parent_id"], body),
            "PutIntegration": lambda _, __, ___, body: _check_integration_type(body),
            "PutMethod": lambda b, ids, _, body: request_checks.check_put_method(b, ids, body),
            "CreateStage": lambda b, ids, _, body: request_checks.check_stage_deployment(b, ids, body),
            "UpdateStage": lambda b, ids, _, body: request_checks.check_stage_deployment(b, ids, body),
            "GetMethodResponse": lambda b, ids, _, __: request_checks.check_method_response(b, ids, integration=False),
            "DeleteMethodResponse": lambda b, ids, _, __: request_checks.check_method_response(b, ids, integration=False),
            "GetIntegrationResponse": lambda b, ids, _, __: request_checks.check_method_response(b, ids, integration=True),
            "DeleteIntegrationResponse": lambda b, ids, _, __: request_checks.check_method_response(b, ids, integration=True),
        }

    @property
    def operations(self) -> Operations:
        """botocore's model, loaded at the first call (0.2 s) rather than at start-up."""
        with self._operations_lock:
            if self._operations is None:
                self._operations = Operations()
            return self._operations

    def handle(self, environ: dict[str, Any]) -> Response:
        method = environ["REQUEST_METHOD"]
        path = str(environ.get("PATH_INFO", ""))  # decoded once already (http.py), as WSGI's is
        query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        body = _read_body(environ)
        from moto.apigateway.models import apigateway_backends

        try:
            operation, ids = self.operations.find(method, path, query)
            paged = operation is not None and method == "GET" and paging.paged(operation)
            offset, limit = paging.window(query) if paged else (0, 0)  # a bad limit: refused before the signature
            environ = check_signature(environ, apigateway_backends)
            if operation is not None:
                request_checks.check_path_ids(ids)
                self.operations.check_body(operation, body)
                body = request_checks.sdk_body(operation, body)
        except ApiError as exc:
            return exc.response()
        # a list call is paged here (paging.py), whichever handler answered it
        answer = self._answer(environ, method, path, query, body, operation, ids)
        return paging.cut(answer, offset, limit) if paged else answer

    def _answer(self, environ: dict[str, Any], method: str, path: str, query: dict[str, list[str]], body: bytes,
                operation: Any, ids: dict[str, str]) -> Response:
        """The answer to a request checked already: petgate's handler for it, or moto's."""
        name = operation.name if operation is not None else f"{method} {path}"
        if self.throttle is not None:
            try:
                self.throttle.check(Caller(environ).account_id, _operation(method, path, query))
            except ApiError as exc:
                return exc.response()
        for route_method, pattern, handler in self.routes:
            match = pattern.match(path)
            if route_method == method and match:
                with self.lock:
                    try:
                        with moto_errors():
                            return handler(Caller(environ), match.groupdict(), query, body)
                    except ApiError as exc:
                        return exc.response()
                    except Exception as exc:  # moto, called by a handler
                        return moto_failure(exc, name, ids).response()
        with self.lock:
            try:
                with moto_errors():
                    backend = Caller(environ).backend
                    answer = self.answered[name](backend, ids, query, body) if name in self.answered else None
                    if answer is not None:
                        return answer
                    if name in self.checked:
                        self.checked[name](backend, ids, query, body)
            except ApiError as exc:
                return exc.response()
            except Exception as exc:
                return moto_failure(exc, name, ids).response()
            try:
                answer = self.forward(environ, body)
            except Exception as exc:
                return moto_failure(exc, name, ids).response()
        if answer[0] == 404 and answer[2].lstrip().lower().startswith(b"<!doctype html"):  # moto's Flask 404 page
            if name in request_checks.UNROUTED:
                return ApiError("NotImplemented", f"petgate local does not implement {name} (moto lacks it)").response()
            return ApiError("NotFoundException", f"Invalid request path {path}").response()
        return answer

    def forward(self, environ: dict[str, Any], body: bytes) -> Response:
        return forward_to(self.moto_app, environ, body)

    # --- REST APIs -----------------------------------------------------------------------

    def create_or_import(self, caller: Caller, _: dict[str, str], query: dict[str, list[str]], body: bytes) -> Response:
        backend = caller.backend
        if query.get("mode", [""])[0] == "import":
            document = importer.parse_document(body, _fail_on_warnings(query))
            endpoint = _param(query, "endpointConfigurationTypes", "EDGE").upper()
            if endpoint not in ("EDGE", "REGIONAL", "PRIVATE"):
                raise ApiError("BadRequestException", f"Invalid endpoint configuration type {endpoint!r}.")
            api = importer.import_document(backend, document, endpoint)
            return _json(201, _created(api))
        request = request_json(body)
        if not request.get("name"):
            raise ApiError("BadRequestException", "name is required.")
        _check_endpoint_configuration(request.get("endpointConfiguration"))  # before the description: create-with-multiple-errors-1
        if request.get("description") == "":  # test_create_rest_api_with_optional_params / create-empty-desc
            raise ApiError("BadRequestException", "Description cannot be an empty string")
        _check_api_key_source(request.get("apiKeySource"))
        size = request.get("minimumCompressionSize")
        if size is not None and not 0 <= int(size) <= _MAX_COMPRESSION:  # as UpdateRestApi's (recorded) check
            raise ApiError("BadRequestException", f"Invalid minimum compression size, must be between 0 and {_MAX_COMPRESSION}")
        api = backend.create_rest_api(
            request["name"],
            request.get("description", ""),
            api_key_source=request.get("apiKeySource"),
            endpoint_configuration=request.get("endpointConfiguration"),
            tags=request.get("tags"),
            minimum_compression_size=int(size) if size is not None else None,
            disable_execute_api_endpoint=request.get("disableExecuteApiEndpoint"),
        )
        api.version = request.get("version")  # moto drops both, and makes up "V1"
        api.binaryMediaTypes = list(request.get("binaryMediaTypes") or [])
        try:
            store_policy(api, request.get("policy"))
        except ApiError:
            backend.delete_rest_api(api.id)
            raise
        rest_objects.add_default_models(backend, api)
        return _json(201, _created(api))

    def put_rest_api(self, caller: Caller, match: dict[str, str], query: dict[str, list[str]], body: bytes) -> Response:
        backend = caller.backend
        document = importer.parse_document(body, _fail_on_warnings(query))
        mode = query.get("mode", ["merge"])[0]
        api = importer.apply_document(backend, match["api"], document, mode)
        # test_apigateway_import, test_put_rest_api_mode_binary_media_types / put-api: the
        # document's title and version replace the API's; its binary media types are added
        # (merge) or replace the API's (overwrite)
        info = document.get("info") or {}
        api.name = info.get("title") or api.name
        api.version = info.get("version") or api.version
        given = list(document.get("x-amazon-apigateway-binary-media-types") or [])
        kept = list(api.binaryMediaTypes or []) if mode == "merge" else []
        api.binaryMediaTypes = kept + [t for t in given if t not in kept]
        return _json(200, api.to_dict())

    def update_rest_api(self, caller: Caller, match: dict[str, str], _: dict[str, list[str]], body: bytes) -> Response:
        backend = caller.backend
        api = backend.get_rest_api(match["api"])
        operations = request_json(body).get("patchOperations") or []
        if any(op.get("path") is None for op in operations):
            raise ApiError("BadRequestException", "Invalid patch path null")  # as UpdateGatewayResponse answers
        policy_ops = [op for op in operations if op.get("path") == "/policy"]
        for op in policy_ops:
            store_policy(api, op.get("value") if op.get("op") != "remove" else None)
        others = [op for op in operations if op.get("path") != "/policy" and not _patch_rest_api_field(api, op)]
        if others:
            backend.update_rest_api(api.id, others)
        return _json(200, api.to_dict())

    def delete_model(self, caller: Caller, match: dict[str, str], _: dict[str, list[str]], __: bytes) -> Response:
        # API, TestApiGatewayApiModels::test_model_lifecycle / del-model: 202 (moto's answer
        # reaches the client as 200 `{}`)
        caller.backend.delete_model(match["api"], match["model"])
        return 202, {"Content-Type": "application/json"}, b""

    def delete_rest_api(self, caller: Caller, match: dict[str, str], _: dict[str, list[str]], __: bytes) -> Response:
        caller.backend.get_rest_api(match["api"])
        caller.backend.delete_rest_api(match["api"])
        self.store.drop_api(match["api"])
        return 202, {"Content-Type": "application/json"}, b"{}"

    # --- gateway responses ---------------------------------------------------------------

    def list_responses(self, caller: Caller, match: dict[str, str], _: dict[str, list[str]], __: bytes) -> Response:
        customised = _customised(caller.backend.get_rest_api(match["api"]))
        items = [gateway_responses.view(kind, customised) for kind in gateway_responses.RESPONSE_TYPES]
        return _json(200, {"item": items})

    def get_response(self, caller: Caller, match: dict[str, str], _: dict[str, list[str]], __: bytes) -> Response:
        api = caller.backend.get_rest_api(match["api"])
        kind = gateway_responses.check_type(match["type"])
        return _json(200, gateway_responses.view(kind, _customised(api)))

    def put_response(self, caller: Caller, match: dict[str, str], _: dict[str, list[str]], body: bytes) -> Response:
        api = caller.backend.get_rest_api(match["api"])
        kind = gateway_responses.check_type(match["type"])
        request = request_json(body)
        stored = gateway_responses.put(kind, request.get("statusCode"), request.get("responseParameters"),
                                       request.get("responseTemplates"))
        _store_response(api, stored)
        return _json(201, stored)

    def update_response(self, caller: Caller, match: dict[str, str], _: dict[str, list[str]], body: bytes) -> Response:
        api = caller.backend.get_rest_api(match["api"])
        kind = gateway_responses.check_type(match["type"])
        operations = request_json(body).get("patchOperations") or []
        updated = gateway_responses.patch(gateway_responses.view(kind, _customised(api)), operations)
        _store_response(api, updated)
        return _json(200, updated)

    def delete_response(self, caller: Caller, match: dict[str, str], _: dict[str, list[str]], __: bytes) -> Response:
        api = caller.backend.get_rest_api(match["api"])
        kind = gateway_responses.check_type(match["type"])
        if kind not in api.gateway_responses:
            raise ApiError("NotFoundException", "Gateway response type not defined on api")
        del api.gateway_responses[kind]
        return 202, {"Content-Type": "application/json"}, b"{}"

    # --- methods -------------------------------------------------------------------------

    def update_method(self, caller: Caller, match: dict[str, str], _: dict[str, list[str]], body: bytes) -> Response:
        """moto lacks UpdateMethod (method_update.py follows AWS's recorded answers)."""
        operations = request_json(body).get("patchOperations") or []
        method_update.check_ops(operations)
        api, method = method_update.find_method(caller.backend, match["api"], match["resource"], match["method"])
        return _json(200, method_update.update(api, method, operations))

    # --- deployments ---------------------------------------------------------------------

    def create_deployment(self, caller: Caller, match: dict[str, str], _: dict[str, list[str]], body: bytes) -> Response:
        backend = caller.backend
        request = request_json(body)
        stage_name = request.get("stageName")
        api = backend.get_rest_api(match["api"])
        if "PRIVATE" in ((api.endpoint_configuration or {}).get("types") or ()) and not api.policy:
            # AWS's 400, as Terraform and CloudFormation users meet it (terraform-provider-aws
            # #14290, "Error creating API Gateway Deployment: BadRequestException: Private REST
            # API doesn't have a resource policy attached to it."; adamwshero/terraform-aws-api-gateway
            # #16: "StatusCode: 400, ... BadRequestException: Private REST API doesn't have a
            # resource policy attached to it")
            raise ApiError("BadRequestException", "Private REST API doesn't have a resource policy attached to it")
        existing = api.stages.get(stage_name) if stage_name else None
        variables = request.get("variables") or (existing.variables if existing else None)
        deployment = backend.create_deployment(
            match["api"], stage_name, request.get("description", ""), stage_variables=variables
        )
        self.store.put(snapshot.take(api, deployment.id))
        return _json(201, deployment.to_json())

    def get_export(self, caller: Caller, match: dict[str, str], query: dict[str, list[str]], __: bytes) -> Response:
        api = caller.backend.get_rest_api(match["api"])
        if match["kind"] not in export.KINDS:
            raise ApiError("BadRequestException", f"No API exporter for type {match['kind']!r}")
        stage = api.stages.get(match["stage"])
        if stage is None:
            raise ApiError("NotFoundException", "Invalid stage identifier specified")
        taken = self.store.get(api.id, stage.deployment_id)
        if taken is None:
            raise ApiError("NotFoundException", "Invalid deployment identifier specified")
        extensions = _param(query, "extensions", "") in ("apigateway", "integrations", "authorizers")
        document = export.export(taken, match["stage"], match["kind"], extensions)
        # test_export_*_openapi / get-export: an attachment, application/octet-stream
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(taken.deployed_at))
        wants_yaml = "yaml" in caller.accept
        if wants_yaml:
            import yaml

            body = yaml.safe_dump(document, sort_keys=False).encode()
        else:
            body = json.dumps(document, indent=2).encode()
        filename = f"{match['kind']}_{stamp}.{'yaml' if wants_yaml else 'json'}"
        headers = {"Content-Type": "application/octet-stream", "Content-Disposition": f'attachment; filename="{filename}"'}
        return 200, headers, body


def forward_to(app: Any, environ: dict[str, Any], body: bytes) -> Response:
    """Run a request through one of moto's server apps."""
    from werkzeug.test import run_wsgi_app

    environ = dict(environ)
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    app_iter, status, headers = run_wsgi_app(app, environ, buffered=True)
    payload = b"".join(app_iter)
    return int(status.split()[0]), {k: v for k, v in headers.items() if k.lower() not in ("content-length", "transfer-encoding")}, payload


def _operation(method: str, path: str, query: dict[str, list[str]]) -> str | None:
    """The quota-bearing operation a request is, if any."""
    if method == "POST" and re.match(r"/restapis/?$", path) and query.get("mode", [""])[0] == "import":
        return f"ImportRestApi:{_param(query, 'endpointConfigurationTypes', 'EDGE').upper()}"
    if method == "POST" and re.match(r"/restapis/[^/]+/deployments/?$", path):
        return "CreateDeployment"
    if method == "PUT" and re.match(r"/restapis/[^/]+/?$", path):
        return "PutRestApi"
    return None


def _read_body(environ: dict[str, Any]) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    return environ["wsgi.input"].read(length) if length > 0 else b""


def _param(query: dict[str, list[str]], name: str, default: str) -> str:
    for key in (name, f"parameters[{name}]", f"parameters.{name}"):
        if key in query:
            return query[key][0]
    return default


_MAX_COMPRESSION = 10485760


def _patch_rest_api_field(api: Any, op: dict[str, Any]) -> bool:
    """UpdateRestApi's binaryMediaTypes and minimumCompressionSize operations as AWS applies them;
    False for any other operation (moto applies it)."""
    path, kind, value = str(op.get("path")), op.get("op"), op.get("value")
    if path.startswith("/binaryMediaTypes/"):
        # API, test_update_rest_api_operation_add_remove / update-rest-api-add, -replace, -remove:
        # the path names the type (`~1` is `/`), kept in order (moto appends the empty value)
        named = path[len("/binaryMediaTypes/"):].replace("~1", "/").replace("~0", "~")
        types = [t for t in (api.binaryMediaTypes or []) if t != named or kind == "add"]
        if kind == "add" and named not in types:
            types.append(named)
        elif kind == "replace" and value and value not in types:
            types.append(value)
        api.binaryMediaTypes = types
        return True
    if path == "/minimumCompressionSize":
        # API, test_update_rest_api_compression / enable-compression, disable-compression,
        # set-compression-zero, set-negative-compression, set-string-compression, unsupported-operation
        if kind != "replace":
            raise ApiError("BadRequestException", "Invalid patch operation specified. Must be one of: [replace]")
        if value in (None, ""):
            api.minimum_compression_size = None
            return True
        try:
            size = int(value)
        except (TypeError, ValueError):
            size = -1
        if not 0 <= size <= _MAX_COMPRESSION:
            raise ApiError("BadRequestException",
                           f"Invalid minimum compression size, must be between 0 and {_MAX_COMPRESSION}")
        api.minimum_compression_size = size
        return True
    return False


def _created(api: Any) -> dict[str, Any]:
    """CreateRestApi and ImportRestApi leave out `tags` when there are none (create-only-name)."""
    shown = dict(api.to_dict())
    if not shown.get("tags"):
        shown.pop("tags", None)
    return shown


def _fail_on_warnings(query: dict[str, list[str]]) -> bool:
    return query.get("failonwarnings", query.get("failOnWarnings", ["false"]))[0].lower() == "true"


def _check_api_key_source(source: Any) -> None:
    """AWS's enum check of CreateRestApi's apiKeySource (Coral's wording, as moto's own
    responses.py writes it; moto's server checks it, petgate's CreateRestApi replaces moto's)."""
    if source is not None and source not in ("AUTHORIZER", "HEADER"):
        raise ApiError("ValidationException", (
            f"1 validation error detected: Value '{source}' at 'createRestApiInput.apiKeySource' failed to "
            "satisfy constraint: Member must satisfy enum value set: [AUTHORIZER, HEADER]"))


def _enum_error(path: str, value: str, allowed: str) -> str:
    return f"Value {value} at '{path}' failed to satisfy constraint: Member must satisfy {allowed}"


def _validation_errors(errors: list[str]) -> ApiError:
    """Coral's input validation: every error of the request in one message."""
    count = len(errors)
    return ApiError("ValidationException", f"{count} validation error{'s' if count > 1 else ''} detected: {'; '.join(errors)}")


def _check_endpoint_configuration(configuration: Any) -> None:
    """API, TestApiGatewayApiRestApi::test_create_rest_api_with_endpoint_configuration (every key;
    the enum errors together, types first, in AWS's set order) and ::test_create_rest_api_private_type
    / create-with-private-type-and-ipv4-ip-address-type."""
    if not isinstance(configuration, dict):
        return
    types, address_type = configuration.get("types"), configuration.get("ipAddressType")
    errors = []
    if isinstance(types, list) and any(t not in ("PRIVATE", "EDGE", "REGIONAL") for t in types):
        errors.append(_enum_error("createRestApiInput.endpointConfiguration.types", f"'[{', '.join(str(t) for t in types)}]'",
                                  "constraint: [Member must satisfy enum value set: [PRIVATE, EDGE, REGIONAL]]"))
    if address_type is not None and address_type not in ("ipv4", "dualstack"):
        errors.append(_enum_error("createRestApiInput.endpointConfiguration.ipAddressType", f"'{address_type}'",
                                  "enum value set: [ipv4, dualstack]"))
    if errors:
        raise _validation_errors(errors)
    if isinstance(types, list) and not types:
        raise ApiError("BadRequestException", "REGIONAL Configuration and EDGE Configuration cannot be both DISABLED.")
    if isinstance(types, list) and len(types) > 1:
        raise ApiError("BadRequestException", "Cannot create an api with multiple Endpoint Types.")
    if isinstance(types, list) and types == ["PRIVATE"] and address_type == "ipv4":
        raise ApiError("BadRequestException", "Only dualstack ipAddressType is supported for Private APIs.")


def _check_integration_type(body: bytes) -> None:
    """API, TestApigatewayIntegration::test_put_integration_wrong_type (AWS's set order)."""
    kind = request_json(body).get("type")
    if kind is not None and kind not in ("HTTP", "MOCK", "AWS_PROXY", "HTTP_PROXY", "AWS"):
        raise _validation_errors([_enum_error("putIntegrationInput.type", f"'{kind}'",
                                              "enum value set: [HTTP, MOCK, AWS_PROXY, HTTP_PROXY, AWS]")])


def _customised(api: Any) -> dict[str, dict[str, Any]]:
    return {kind: response.to_json() for kind, response in api.gateway_responses.items()}


def _store_response(api: Any, response: dict[str, Any]) -> None:
    """Kept in moto's own model, so its exports and our snapshots see it."""
    api.put_gateway_response(
        response["responseType"], response.get("statusCode"),
        response.get("responseParameters"), response.get("responseTemplates"),
    )


def _json(status: int, data: Any) -> Response:
    return status, {"Content-Type": "application/json"}, json.dumps(data).encode()
