"""The wafv2 control plane on the local gateway's port: moto's wafv2 server app (JSON over
`X-Amz-Target: AWSWAF_20190729.*`), with waf_fixes applied and ListResourcesForWebACL, which
moto lacks."""

from __future__ import annotations

import json
import threading
from typing import Any

from petgate.local import waf_fixes
from petgate.local.control import Caller, Response, _read_body, forward_to

TARGET_PREFIX = "AWSWAF_20190729."


class WafControl:
    def __init__(self, lock: threading.RLock) -> None:
        from moto.moto_server.werkzeug_app import create_backend_app

        waf_fixes.install()
        self.moto_app = create_backend_app("wafv2")
        self.lock = lock

    @staticmethod
    def wants(environ: dict[str, Any]) -> bool:
        return str(environ.get("HTTP_X_AMZ_TARGET", "")).startswith(TARGET_PREFIX)

    @staticmethod
    def reads(environ: dict[str, Any]) -> bool:
        """A wafv2 call that changes nothing (every wafv2 call is a POST)."""
        operation = str(environ.get("HTTP_X_AMZ_TARGET", ""))[len(TARGET_PREFIX):]
        return operation.startswith(("Get", "List", "Check", "Describe"))

    def handle(self, environ: dict[str, Any]) -> Response:
        operation = str(environ.get("HTTP_X_AMZ_TARGET", ""))[len(TARGET_PREFIX):]
        body = _read_body(environ)
        with self.lock:
            if operation == "ListResourcesForWebACL":
                return self._list_resources(Caller(environ), json.loads(body or b"{}"))
            return forward_to(self.moto_app, environ, body)

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
