"""The wafv2 control plane on the local gateway's port: moto's wafv2 server app (JSON over
`X-Amz-Target: AWSWAF_20190729.*`), with waf_fixes applied and ListResourcesForWebACL, which
moto lacks.

Before moto sees a request, what AWS checks first (errors.py), in the JSON 1.1 protocol's
shape (`{"__type": ..., "message": ...}`): the Authorization header, an operation wafv2 has
(UnknownOperationException), and a body that is a JSON object of the operation's input shape
(SerializationException; ValidationException for a required member missing). Where moto still
fails, the answer says so: 501 for an operation it lacks, else a 400, never a 500.

List* calls page as AWS pages them (paging.py's wafv2 part): moto's own pages and markers, a Limit
outside 1 to 100 refused first, a marker moto cannot read a WAFInvalidParameterException.
"""

from __future__ import annotations

import json
import re
import sys
import threading
from typing import Any

from petgate.local import paging, waf_fixes
from petgate.local.control import Caller, Response, _read_body, forward_to
from petgate.local.errors import (
    ApiError,
    BodyError,
    check_shape,
    check_signature,
    load_json_object,
    validation_message,
)

TARGET_PREFIX = "AWSWAF_20190729."
# A malformed Authorization header: a JSON 1.1 service answers 400 IncompleteSignatureException
# (iann0036/cloud9-sync#10, Cloud9's JSON 1.1 endpoint: statusCode 400, {"__type":
# "IncompleteSignatureException","message":"'...' not a valid key=value pair (missing equal-sign) ..."}),
# where API Gateway's REST control plane answers 403 (errors.STATUS)
INCOMPLETE_SIGNATURE_STATUS = 400


class WafControl:
    def __init__(self, lock: threading.RLock) -> None:
        from moto.moto_server.werkzeug_app import create_backend_app

        waf_fixes.install()
        self.moto_app = create_backend_app("wafv2")
        self.lock = lock
        self._model: Any = None
        self._model_lock = threading.Lock()

    @staticmethod
    def wants(environ: dict[str, Any]) -> bool:
        return str(environ.get("HTTP_X_AMZ_TARGET", "")).startswith(TARGET_PREFIX)

    @staticmethod
    def reads(environ: dict[str, Any]) -> bool:
        """A wafv2 call that changes nothing (every wafv2 call is a POST)."""
        operation = str(environ.get("HTTP_X_AMZ_TARGET", ""))[len(TARGET_PREFIX):]
        return operation.startswith(("Get", "List", "Check", "Describe"))

    def model(self) -> Any:
        """botocore's model of wafv2, loaded at the first call rather than at start-up."""
        with self._model_lock:
            if self._model is None:
                import botocore.session

                self._model = botocore.session.get_session().get_service_model("wafv2")
            return self._model

    def handle(self, environ: dict[str, Any]) -> Response:
        operation = str(environ.get("HTTP_X_AMZ_TARGET", ""))[len(TARGET_PREFIX):]
        body = _read_body(environ)
        from moto.wafv2.models import wafv2_backends

        try:
            environ = check_signature(environ, wafv2_backends, INCOMPLETE_SIGNATURE_STATUS)
            request = self.check(operation, body)
            paged = paging.waf_paged(self.model().operation_model(operation))
            if paged:
                paging.waf_check_limit(request)
        except ApiError as exc:
            return exc.json11_response()
        with self.lock:
            try:
                if operation == "ListResourcesForWebACL":
                    return self._list_resources(Caller(environ), request)
                if operation == "CheckCapacity":  # moto lacks it
                    caller = Caller(environ)
                    used = waf_fixes.capacity(request.get("Rules"), caller.account_id, caller.region)
                    return 200, {"Content-Type": "application/x-amz-json-1.1"}, json.dumps({"Capacity": used}).encode()
                answer = forward_to(self.moto_app, environ, body if body.strip() else b"{}")
                return paging.waf_answer(answer) if paged else answer
            except NotImplementedError:
                return ApiError("NotImplemented", f"petgate local does not implement {operation} (moto lacks it)").json11_response()
            except Exception as exc:  # moto failed on a request that passed AWS's checks
                print(f"petgate local: moto failed on {operation}: {exc!r}", file=sys.stderr)
                return ApiError("WAFInvalidParameterException",
                                f"petgate local could not process this {operation} request ({type(exc).__name__}: {exc}); "
                                "this is the local gateway's limit, not AWS's answer").json11_response()

    def check(self, operation: str, body: bytes) -> dict[str, Any]:
        """The request's JSON, checked as AWS checks it before the operation runs."""
        model = self.model()
        if operation not in model.operation_names:
            raise ApiError("UnknownOperationException", f"Unknown operation {TARGET_PREFIX}{operation}")
        try:
            request = load_json_object(body)
            missing = check_shape(model.operation_model(operation).input_shape, request, "", strict_scalars=True)
        except BodyError as exc:
            raise ApiError("SerializationException", str(exc)) from None
        if missing:
            raise ApiError("ValidationException", validation_message(missing))
        _check_values(request)
        return request

    @staticmethod
    def _list_resources(caller: Caller, request: dict[str, Any]) -> Response:
        backend = waf_fixes.backend(caller.account_id, caller.region)
        try:
            arns = backend.list_resources_for_web_acl(request.get("WebACLArn", ""))
        except Exception as exc:  # moto's WAFNonexistentItemException
            code = getattr(exc, "error_type", "WAFNonexistentItemException")
            message = getattr(exc, "message", str(exc))
            return 400, {"Content-Type": "application/x-amz-json-1.1"}, json.dumps({"__type": code, "message": message}).encode()
        return 200, {"Content-Type": "application/x-amz-json-1.1"}, json.dumps({"ResourceArns": arns}).encode()


_WAF_ARN = re.compile(r"^arn:aws[\w-]*:wafv2:[a-z0-9-]*:\d{12}:(regional|global)/[a-z]+/[^/]+/[^/]+$")
_ANY_ARN = re.compile(r"^arn:aws[\w-]*:[a-z0-9-]+:[a-z0-9-]*:\d{0,12}:.+$")


def _check_values(request: dict[str, Any]) -> None:
    """What AWS WAF checks of the values moto takes on trust (and crashes on): Scope one of
    CLOUDFRONT and REGIONAL; an ARN that is an ARN (a rule group's or IP set's: WAF's own
    form). The wording is the WAFInvalidParameterException AWS's knowledge center quotes
    ("waf-wafinvalidparameterexception-error": "Error reason: The scope is not valid., field:
    SCOPE_VALUE, parameter: ...")."""
    scope = request.get("Scope")
    if scope is not None and scope not in ("CLOUDFRONT", "REGIONAL"):
        raise ApiError("WAFInvalidParameterException",
                       f"Error reason: The scope is not valid., field: SCOPE_VALUE, parameter: {scope}")
    for member, pattern in (("ARN", _WAF_ARN), ("ResourceARN", _ANY_ARN), ("WebACLArn", _WAF_ARN)):
        value = request.get(member)
        if value is not None and not pattern.match(str(value)):
            raise ApiError("WAFInvalidParameterException",
                           f"Error reason: The ARN isn't valid. A valid ARN begins with arn: and includes other "
                           f"information separated by colons or slashes., field: RESOURCE_ARN, parameter: {value}")
