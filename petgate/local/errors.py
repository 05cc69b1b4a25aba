"""Control-plane errors, in API Gateway's (rest-json) and wafv2's (JSON 1.1) wire formats, and
the checks AWS makes before any operation runs: the shape of a SigV4 Authorization header, and
a request body that is JSON of the operation's input shape. A malformed request gets AWS's 4xx,
never a 500 (which SDKs retry)."""

from __future__ import annotations

import json
import uuid
from typing import Any
from xml.sax.saxutils import escape

STATUS = {
    "BadRequestException": 400,
    "UnauthorizedException": 401,
    "NotFoundException": 404,
    "ConflictException": 409,
    "LimitExceededException": 429,
    "TooManyRequestsException": 429,
    "ValidationException": 400,
    "SerializationException": 400,
    "UnknownOperationException": 400,
    # API Gateway answers a malformed Authorization header 403 (aws-amplify/amplify-flutter#1539:
    # 403, x-amzn-errortype IncompleteSignatureException); wafv2 passes status=400 (see below)
    "IncompleteSignatureException": 403,
    "InvalidSignatureException": 403,
    # the Query protocol's names for the same faults (IAM API Reference, "Common Errors"):
    # IncompleteSignature 400, SignatureDoesNotMatch 403; MissingAction, InvalidAction,
    # InvalidParameterValue 400; IAM's own Coral ValidationError for a required member missing
    "IncompleteSignature": 400,
    "SignatureDoesNotMatch": 403,
    "MissingAction": 400,
    "InvalidAction": 400,
    "InvalidParameterValue": 400,
    "ValidationError": 400,
    "NotImplemented": 501,  # an operation moto lacks: not the client's fault, and not retried by SDKs
}


class ApiError(Exception):
    def __init__(self, code: str, message: str, headers: dict[str, str] | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status or STATUS.get(code, 400)
        self.headers = headers or {}

    def response(self) -> tuple[int, dict[str, str], bytes]:
        """API Gateway's shape: the code in x-amzn-ErrorType (and `__type`), the `message`."""
        headers = {
            "Content-Type": "application/json",
            "x-amzn-ErrorType": self.code,
            **self.headers,
        }
        body = json.dumps({"__type": self.code, "message": self.message}).encode()
        return self.status, headers, body

    def query_response(self, namespace: str) -> tuple[int, dict[str, str], bytes]:
        """The Query protocol's shape (IAM, STS): an XML ErrorResponse with the code, the message
        and a request id, as the IAM API Reference shows its errors (Type Sender for a 4xx)."""
        kind = "Sender" if self.status < 500 else "Receiver"
        body = (
            f'<ErrorResponse xmlns="{namespace}"><Error><Type>{kind}</Type><Code>{escape(self.code)}</Code>'
            f"<Message>{escape(self.message)}</Message></Error><RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
        )
        return self.status, {"Content-Type": "text/xml", **self.headers}, body.encode()

    def json11_response(self) -> tuple[int, dict[str, str], bytes]:
        """The JSON 1.1 protocol's shape (wafv2): {"__type": code, "message": ...}."""
        body = json.dumps({"__type": self.code, "message": self.message}).encode()
        return self.status, {"Content-Type": "application/x-amz-json-1.1", **self.headers}, body


# --- the Authorization header ------------------------------------------------------------------
#
# Only its shape is checked (no signature is verified, as before), with AWS's wording for each
# fault: dacut/scratchstack-aws-signature's tests of AWS's SigV4 errors (error_ordering_auth_header:
# "'FooBar' not a valid key=value pair (missing equal-sign) in Authorization header: '...'",
# "Authorization header requires 'Credential' parameter. ... Authorization=AWS4-HMAC-SHA256",
# "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term,
# got '...'", "Credential should be scoped to a valid region, not '...'."), the same answers from
# API Gateway in RhinoSecurityLabs/IPRotate_Burp_Extension#25 (CreateRestApi:
# IncompleteSignatureException, "... not a valid key=value pair (missing equal-sign) ...") and
# aws/chalice#828 (403 "Authorization header requires 'Credential' parameter. ..."), and
# aws/aws-sdk-js-v3#5576 (403 InvalidSignatureException for a region that is not one).
# The date requirement ("requires existence of either a 'X-Amz-Date' or a 'Date' header") is not
# enforced: bench/run.py and other hand-made clients sign without one.

SCHEME = "AWS4-HMAC-SHA256"


def parse_authorization(header: str, status: int | None = None) -> tuple[str, str, str]:
    """(access key, region, the header in the order moto reads it) of a SigV4 Authorization
    header of AWS's shape; else IncompleteSignatureException."""
    scheme, _, rest = header.strip().partition(" ")
    if scheme != SCHEME:
        if scheme.upper().startswith("AWS"):
            raise ApiError("IncompleteSignatureException", f"Unsupported AWS 'algorithm': '{scheme}'.", status=status)
        raise ApiError("IncompleteSignatureException", _requires(["Credential", "Signature", "SignedHeaders"], scheme),
                       status=status)
    parts: dict[str, str] = {}
    for item in rest.split(","):
        key, equals, value = item.strip().partition("=")
        if not equals:
            raise ApiError(
                "IncompleteSignatureException",
                f"'{item.strip()}' not a valid key=value pair (missing equal-sign) in Authorization header: '{header}'.",
                status=status,
            )
        parts[key.strip()] = value.strip()
    missing = [name for name in ("Credential", "Signature", "SignedHeaders") if not parts.get(name)]
    if missing:
        raise ApiError("IncompleteSignatureException", _requires(missing, scheme), status=status)
    credential = parts["Credential"]
    scope = credential.split("/")
    if len(scope) != 5:
        raise ApiError(
            "IncompleteSignatureException",
            f"Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{credential}'",
            status=status,
        )
    canonical = f"{SCHEME} Credential={credential}, SignedHeaders={parts['SignedHeaders']}, Signature={parts['Signature']}"
    return scope[0], scope[2], canonical


def _requires(missing: list[str], scheme: str) -> str:
    return " ".join(f"Authorization header requires '{name}' parameter." for name in missing) + f" Authorization={scheme}"


def check_signature(environ: dict[str, Any], backends: Any, incomplete_status: int | None = None) -> dict[str, Any]:
    """The request as moto should see it (Authorization in the order moto parses); raises
    ApiError for a malformed header or a scope naming a region moto has no backend for."""
    header = environ.get("HTTP_AUTHORIZATION")
    if header is None:
        return environ  # unsigned requests are served, as before
    access_key, region, canonical = parse_authorization(str(header), incomplete_status)
    from moto.iam.models import get_account_id_from
    from moto.settings import allow_unknown_region

    if region not in backends[get_account_id_from(access_key)] and not allow_unknown_region():
        raise ApiError("InvalidSignatureException", f"Credential should be scoped to a valid region, not '{region}'.")
    return {**environ, "HTTP_AUTHORIZATION": canonical}


# --- the request body ---------------------------------------------------------------------------
#
# A body that is not JSON (or not UTF-8, or not an object): API Gateway answers 400
# BadRequestException "Could not parse request body into json: ..." (the wording API Gateway
# uses for a body it cannot parse, recorded for a mapping template's input in
# serverless/serverless#2270; no recording of the control plane's own answer was found); a JSON
# 1.1 service 400 SerializationException (smithy-lang/smithy,
# smithy-aws-protocol-tests malformed-request-body.smithy: "When the request body is not valid
# JSON, the response should be a 400 SerializationException", also for `[...]`, `10`, `null`).
# A required member missing: 400 ValidationException in Coral's wording ("1 validation error
# detected: Value null at '...' failed to satisfy constraint: Member must not be null"), the form
# petgate already answers for API Gateway (control._check_endpoint_configuration, gateway_responses).

MAX_DEPTH = 64  # JSON nesting checked; deeper is refused like a body that does not parse


class BodyError(Exception):
    """The body is not JSON of the operation's shape (BadRequestException / SerializationException)."""


def load_json_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object (an empty body is `{}`); BodyError otherwise."""
    if not body.strip():
        return {}
    try:
        value = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise BodyError(f"Invalid UTF-8 start byte 0x{body[exc.start]:02x}") from None
    except json.JSONDecodeError as exc:
        raise BodyError(f"{exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    except RecursionError:
        raise BodyError("the body is nested too deeply") from None
    if not isinstance(value, dict):
        raise BodyError(f"the body must be a JSON object, not {_kind(value)}")
    return value


def check_shape(shape: Any, value: Any, path: str, strict_scalars: bool) -> list[str]:
    """Check a decoded body against a botocore input shape: BodyError for a value of the wrong
    kind (containers always; scalars only when `strict_scalars`, as JSON 1.1 is, while API
    Gateway's parser converts between them); the paths of required members that are missing."""
    missing: list[str] = []
    _check(shape, value, path, strict_scalars, missing, 0)
    return missing


def validation_message(missing: list[str]) -> str:
    count = len(missing)
    listed = "; ".join(f"Value null at '{path}' failed to satisfy constraint: Member must not be null" for path in missing)
    return f"{count} validation error{'s' if count > 1 else ''} detected: {listed}"


def _member_path(path: str, name: str) -> str:
    name = name[:1].lower() + name[1:]
    return f"{path}.{name}" if path else name


def _check(shape: Any, value: Any, path: str, strict: bool, missing: list[str], depth: int) -> None:
    if depth > MAX_DEPTH:
        raise BodyError("the body is nested too deeply")
    kind = shape.type_name
    where = path or "the body"
    if kind == "structure":
        if not isinstance(value, dict):
            raise BodyError(f"{where} must be an object, not {_kind(value)}")
        def wire(name: str) -> str:  # the member's name in the body (apigatewayv2: `name` for Name)
            return str(shape.members[name].serialization.get("name", name))

        for name in shape.required_members:
            if value.get(wire(name)) is None and shape.members[name].serialization.get("location") is None:
                missing.append(_member_path(path, name))
        for name, member in shape.members.items():
            if value.get(wire(name)) is not None and member.serialization.get("location") is None:
                _check(member, value[wire(name)], _member_path(path, name), strict, missing, depth + 1)
    elif kind == "list":
        if not isinstance(value, list):
            raise BodyError(f"{where} must be a list, not {_kind(value)}")
        for index, item in enumerate(value, start=1):
            if item is None:
                raise BodyError(f"{where} holds a null")
            _check(shape.member, item, f"{path}.{index}.member", strict, missing, depth + 1)
    elif kind == "map":
        if not isinstance(value, dict):
            raise BodyError(f"{where} must be an object, not {_kind(value)}")
        for key, item in value.items():
            if item is None and not strict:
                continue  # API Gateway takes a null value in a map (test_put_integration_response_templates)
            if item is None:
                raise BodyError(f"{where} holds a null")
            _check(shape.value, item, f"{path}.{key}", strict, missing, depth + 1)
    elif isinstance(value, dict | list) or not (_SCALAR_CHECKS if strict else _CONVERTIBLE).get(kind, lambda _: True)(value):
        raise BodyError(f"{where} must be a {_SCALARS.get(kind, kind)}, not {_kind(value)}")


def _integer_like(value: object) -> bool:
    return not isinstance(value, bool) and (isinstance(value, int) or (isinstance(value, str) and value.strip().lstrip("-").isdigit()))


def _number_like(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    try:
        float(str(value))
    except ValueError:
        return False
    return isinstance(value, str)


# what API Gateway's parser converts (a number for a string member, "12" for a number, "true"
# for a boolean); a word where a number goes is refused: moto would store "abc" as a number and
# every SDK then fails to read the API back
_CONVERTIBLE = {
    "integer": _integer_like, "long": _integer_like, "float": _number_like, "double": _number_like,
    "boolean": lambda v: isinstance(v, bool) or (isinstance(v, str) and v.lower() in ("true", "false")),
}
_SCALARS = {"string": "string", "integer": "number", "long": "number", "float": "number", "double": "number",
            "boolean": "boolean", "timestamp": "timestamp", "blob": "base64 string"}
_SCALAR_CHECKS = {
    "string": lambda v: isinstance(v, str),
    "blob": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "long": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "float": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "double": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "timestamp": lambda v: isinstance(v, int | float | str) and not isinstance(v, bool),
}


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "a list" if isinstance(value, list) else "an object"
