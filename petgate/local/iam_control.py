"""IAM and STS on the local gateway's port: moto's `iam` and `sts` server apps, in AWS's Query
protocol (`Action=...&Version=...`, form-encoded POST or GET).

Which service a request is for: the service its SigV4 credential scope names
(`Credential=KEY/DATE/REGION/iam/aws4_request`, or `X-Amz-Credential` of a presigned URL), as
server.py routes the other planes; an unsigned request to `/` by its `Action`.

Accounts: moto's. A request is served by the account that owns its access key (an unknown key,
`test` for instance, is moto's default account 123456789012); `AssumeRole` of a role ARN in
another account returns keys of that account, so the keys of a second account come from
`aws sts assume-role --role-arn arn:aws:iam::222222222222:role/NAME`; moto's
`x-moto-account-id` header picks an account too. moto does not check a role's trust policy
(the role need not even exist): AssumeRole always succeeds.

Before moto sees a request, what AWS checks first, in the Query protocol's XML errors
(errors.ApiError.query_response): the Authorization header's shape (IncompleteSignature, 400)
and region (SignatureDoesNotMatch, 403), an action (MissingAction / InvalidAction), the action's
required parameters (ValidationError, IAM's Coral wording) and its numbers and booleans
(InvalidParameterValue). The codes are those of the IAM API Reference's "Common Errors". Where
moto still fails, a 400 that says so, never a 500 (which SDKs retry).
"""

from __future__ import annotations

import contextlib
import io
import re
import sys
import threading
import urllib.parse
from typing import Any

from petgate.local.control import Response, _read_body, forward_to
from petgate.local.errors import ApiError, parse_authorization

NAMESPACES = {
    "iam": "https://iam.amazonaws.com/doc/2010-05-08/",
    "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
}
_SCOPE = re.compile(r"^[^/]*/[^/]*/[^/]*/(?P<service>[^/]*)/")
_FORM = "application/x-www-form-urlencoded"
_READS = ("Get", "List", "Simulate", "Decode")


def _scope_service(credential: str) -> str | None:
    match = _SCOPE.match(credential.strip())
    return match["service"] if match else None


class IamControl:
    def __init__(self, lock: threading.RLock) -> None:
        self.lock = lock
        self._apps: dict[str, Any] = {}
        self._load_lock = threading.Lock()

    # --- which requests are ours -----------------------------------------------------------

    @classmethod
    def service_of(cls, environ: dict[str, Any]) -> str | None:
        """"iam" or "sts" when the request is for one of them, else None."""
        header = str(environ.get("HTTP_AUTHORIZATION") or "")
        if header:
            credential = header.partition("Credential=")[2]
            service = _scope_service(credential) if credential else None
            return service if service in NAMESPACES else None
        query = urllib.parse.parse_qs(str(environ.get("QUERY_STRING", "")))
        if "X-Amz-Credential" in query:
            service = _scope_service(query["X-Amz-Credential"][0])
            return service if service in NAMESPACES else None
        if environ.get("PATH_INFO", "") not in ("", "/"):
            return None  # API Gateway's paths all start with a name (/restapis, /apikeys, ...)
        action = cls._params(environ, _peek(environ)).get("Action")
        if action is None:
            return None
        for service in NAMESPACES:
            if action in _model(service).operation_names:
                return service
        return None

    @staticmethod
    def _params(environ: dict[str, Any], body: bytes) -> dict[str, str]:
        """The Query protocol's parameters: the query string, and a form body."""
        pairs = urllib.parse.parse_qsl(str(environ.get("QUERY_STRING", "")), keep_blank_values=True)
        if str(environ.get("CONTENT_TYPE", "")).startswith(_FORM) and body:
            with contextlib.suppress(UnicodeDecodeError):  # not a form: refused in handle
                pairs += urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True)
        return dict(pairs)

    # --- serving ---------------------------------------------------------------------------

    def handle(self, environ: dict[str, Any], service: str) -> tuple[Response, bool]:
        """The answer, and whether the request changed anything (for --state)."""
        body = _read_body(environ)
        namespace = NAMESPACES[service]
        params = self._params(environ, body)
        try:
            environ = _check_signature(environ)
            if str(environ.get("CONTENT_TYPE", "")).startswith(_FORM):
                body.decode("utf-8")  # a form that is not UTF-8 is refused before moto parses it
            operation = self._operation(service, params)
            _check_params(operation, params)
        except UnicodeDecodeError:
            return ApiError("InvalidParameterValue", "The request body is not UTF-8 form data.").query_response(namespace), False
        except ApiError as exc:
            return exc.query_response(namespace), False
        with self.lock:
            try:
                status, headers, payload = forward_to(self._app(service), environ, body)
            except Exception as exc:  # moto, on a request that passed AWS's checks
                return _moto_failure(service, operation.name, exc).query_response(namespace), False
        if status >= 500:
            failure = RuntimeError(payload[:200].decode("utf-8", "replace"))
            return _moto_failure(service, operation.name, failure).query_response(namespace), False
        changed = status < 400 and not operation.name.startswith(_READS)
        return (status, headers, payload), changed

    def _operation(self, service: str, params: dict[str, str]) -> Any:
        action = params.get("Action")
        if not action:
            # IAM API Reference, Common Errors: MissingAction, InvalidAction (their descriptions)
            raise ApiError("MissingAction", "The request is missing an action or a required parameter.")
        model = _model(service)
        if action not in model.operation_names:
            raise ApiError("InvalidAction", f"Could not find operation {action} for version {model.api_version}")
        return model.operation_model(action)

    def _app(self, service: str) -> Any:
        with self._load_lock:
            if service not in self._apps:
                from moto.moto_server.werkzeug_app import create_backend_app

                self._apps[service] = create_backend_app("iam" if service == "iam" else "sts")
            return self._apps[service]


_models: dict[str, Any] = {}
_models_lock = threading.Lock()


def _model(service: str) -> Any:
    """botocore's model of the service, loaded at the first call rather than at start-up."""
    with _models_lock:
        if service not in _models:
            import botocore.session

            _models[service] = botocore.session.get_session().get_service_model(service)
        return _models[service]


def _peek(environ: dict[str, Any]) -> bytes:
    """The body of an unsigned POST to `/`, left in place for whoever reads it next."""
    if environ.get("REQUEST_METHOD") != "POST" or not str(environ.get("CONTENT_TYPE", "")).startswith(_FORM):
        return b""
    body = _read_body(environ)
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def _check_signature(environ: dict[str, Any]) -> dict[str, Any]:
    """The Authorization header's shape and region, in the Query protocol's codes; the request
    as moto reads it (the header in the order moto parses)."""
    header = environ.get("HTTP_AUTHORIZATION")
    if header is None:
        return environ
    try:
        access_key, region, canonical = parse_authorization(str(header))
    except ApiError as exc:
        raise ApiError("IncompleteSignature", exc.message) from None
    from moto.apigateway.models import apigateway_backends
    from moto.iam.models import get_account_id_from
    from moto.settings import allow_unknown_region

    if region not in apigateway_backends[get_account_id_from(access_key)] and not allow_unknown_region():
        raise ApiError("SignatureDoesNotMatch", f"Credential should be scoped to a valid region, not '{region}'.")
    return {**environ, "HTTP_AUTHORIZATION": canonical}


def _check_params(operation: Any, params: dict[str, str]) -> None:
    """Required parameters present; numbers and booleans that parse (moto would crash on them)."""
    shape = operation.input_shape
    if shape is None:
        return
    missing = [
        name for name in shape.required_members
        if name not in params and not any(key.startswith(name + ".") for key in params)
    ]
    if missing:
        listed = "; ".join(
            f"Value null at '{name[:1].lower()}{name[1:]}' failed to satisfy constraint: Member must not be null"
            for name in missing
        )
        count = len(missing)
        raise ApiError("ValidationError", f"{count} validation error{'s' if count > 1 else ''} detected: {listed}")
    for name, member in shape.members.items():
        value = params.get(name)
        if value is None:
            continue
        if member.type_name in ("integer", "long") and not re.fullmatch(r"-?\d{1,18}", value):
            raise ApiError("InvalidParameterValue", f"Value '{value}' for parameter {name} is not a valid integer.")
        if member.type_name == "boolean" and value.lower() not in ("true", "false"):
            raise ApiError("InvalidParameterValue", f"Value '{value}' for parameter {name} is not a valid boolean.")


def _moto_failure(service: str, action: str, exc: Exception) -> ApiError:
    print(f"petgate local: moto failed on {service} {action}: {exc!r}", file=sys.stderr)
    return ApiError("InvalidParameterValue",
                    f"petgate local could not process this {action} request ({type(exc).__name__}: {exc}); "
                    "this is the local gateway's limit, not AWS's answer")
