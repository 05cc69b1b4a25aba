"""The data plane: serves `/restapis/{api_id}/{stage}/_user_request_/{path}` from the stage's
deployment snapshot, enforcing the resource policy against the real TCP peer address and
answering errors with the API's gateway responses.

A method whose deployed authorizationType is AWS_IAM is served only to a caller SigV4 proves
(sigv4_check.py: botocore's signer, the secret moto's IAM or STS holds, identity.py), and then
as policy/authorization.authorize decides from the resource policy and the caller's identity
policies (Tables A and B of API Gateway's "apigateway-authorization-flow" page). Every other
method is what it was: the resource policy alone, the caller anonymous. The gateway's clock is
injectable (`clock`): the time of a call, the signature's skew window and aws:CurrentTime all
read it.

A PRIVATE API (its endpoint type now, as AWS reads it, not at the deployment) is served only
through a VPC endpoint: from a source address `petgate local --vpc-endpoint` maps
(private_endpoints.py), by petgate's path form or one of AWS's private invoke forms (Host
`{api}-{vpce}.execute-api...`, `x-apigw-api-id`, private DNS). Anything else, and any request
through an endpoint to an API that is not PRIVATE, gets the plain 403 Forbidden. Through an
endpoint the resource policy sees aws:SourceVpce, aws:SourceVpc and aws:VpcSourceIp (the
client's address) and no aws:SourceIp.
"""

from __future__ import annotations

import base64
import hmac
import json
import os
import re
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from petgate import policy as policies
from petgate.local import (
    gateway_responses,
    identity,
    petstore,
    routing,
    sigv4_check,
    vtl,
    waf_enforce,
    waf_fixes,
)
from petgate.local.private_endpoints import EndpointMap, PrivateInvoke, VpcEndpoint
from petgate.local.snapshot import Snapshot, SnapshotStore
from petgate.policy.authorization import authorize
from petgate.response_types import masked_arn, pick_template
from petgate.waf import stage_arn

Response = tuple[int, dict[str, str], bytes]
FORBIDDEN_BODY = b'{"message":"Forbidden"}'
# no API there, or a private API from outside its VPC endpoints, or a public API through one:
# API Gateway's plain answer, never a gateway response (knowledge center
# "api-gateway-vpc-connections": "Because VPC endpoints can route traffic only to private APIs,
# the result is an HTTP 403 error"; "You also get a 403 error when you use the default
# execute-api invoke URL to connect to private APIs from on-premises")
FORBIDDEN: Response = (403, {"Content-Type": "application/json", "x-amzn-ErrorType": "ForbiddenException"}, FORBIDDEN_BODY)
DEFAULT_TIMEOUT_MS = 29000
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "host", "content-length", "proxy-authorization", "proxy-connection"}
_ERROR_TYPES = {
    "ACCESS_DENIED": "AccessDeniedException",
    "MISSING_AUTHENTICATION_TOKEN": "MissingAuthenticationTokenException",
}
# the ACCESS_DENIED message's ending for each refusal of an IAM-authorized caller: a resource
# policy's explicit deny as API Gateway words it today (" with an explicit deny", as for the
# anonymous caller); the identity side in IAM's current format ("with an explicit deny in a
# TYPE policy" / "because no TYPE policy allows the ACTION action": IAM User Guide,
# "troubleshoot_access-denied"), which API Gateway sends for an identity that no policy allows
# (AWS knowledge center "api-gateway-iam-sigv4-mismatch": "User: arn:aws:iam::xxxxxxxxxxxx:user/
# username is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:...
# because no identity-based policy allows the execute-api:Invoke action.")
_DENIED_ENDINGS = {
    "explicit-deny": " with an explicit deny",
    "implicit-deny": "",
    "iam-explicit-deny": " with an explicit deny in an identity-based policy",
    "iam-implicit-deny": " because no identity-based policy allows the execute-api:Invoke action",
}


@dataclass
class Call:
    """One invocation, as the templates and the policy see it."""

    http_method: str
    path: str  # under the stage, with a leading slash
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes
    source_ip: str
    stage: str
    api_id: str
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    # AWS's x-amz-apigw-id / $context.extendedRequestId: 16 characters of base64
    extended_request_id: str = field(default_factory=lambda: base64.b64encode(os.urandom(10)).decode()[:15] + "=")
    path_parameters: dict[str, str] = field(default_factory=dict)
    resource_path: str = ""
    resource_id: str = ""
    stage_variables: dict[str, str] = field(default_factory=dict)
    account_id: str = ""
    protocol: str = "HTTP/1.1"
    received: float = field(default_factory=time.time)  # the DataPlane passes its clock's time
    raw_target: str = ""  # the request target as it arrived (the signature covers it)
    caller: policies.Caller = policies.ANONYMOUS  # who SigV4 proved the caller is (AWS_IAM methods)
    endpoint: VpcEndpoint | None = None  # the VPC endpoint a request to a private API came through

    def context(self, error: dict[str, str] | None = None) -> dict[str, Any]:
        """`$context` with the variables AWS documents for mapping templates and gateway
        responses (Developer Guide, "api-gateway-mapping-template-reference": for IAM
        authorization identity.accountId, caller and user, the principal's id, userArn and
        accessKey; an anonymous caller: all empty)."""
        caller = self.caller
        host = self.headers.get("host", "")
        context: dict[str, Any] = {
            "accountId": self.account_id,
            "apiId": self.api_id,
            "domainName": host,
            "domainPrefix": host.split(".")[0] if host else "",
            "extendedRequestId": self.extended_request_id,
            "httpMethod": self.http_method,
            "path": f"/{self.stage}{self.path}",
            "protocol": self.protocol,
            "requestId": self.request_id,
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(self.received)),
            "requestTimeEpoch": int(self.received * 1000),
            "resourceId": self.resource_id,
            "resourcePath": self.resource_path,
            "stage": self.stage,
            "identity": {
                "sourceIp": self.source_ip,
                "userAgent": self.headers.get("user-agent", ""),
                "accountId": caller.account or "",
                "accessKey": caller.access_key or "",
                "apiKey": "",
                "apiKeyId": "",
                "caller": caller.user_id or "",
                "user": caller.user_id or "",
                "userArn": caller.arn or "",
            },
        }
        if error is not None:
            context["error"] = error
        return context

    def params(self) -> dict[str, dict[str, str]]:
        return {"path": self.path_parameters, "querystring": self.query, "header": self.headers}


class DataPlane:
    def __init__(self, store: SnapshotStore, lock: threading.RLock, clock: Callable[[], float] = time.time,
                 endpoints: EndpointMap | None = None) -> None:
        self.store = store
        self.lock = lock
        self.clock = clock
        self.endpoints = endpoints if endpoints is not None else EndpointMap()

    def handle(self, environ: dict[str, Any], api_id: str, stage: str, path: str,
               via: PrivateInvoke | None = None) -> Response:
        """`via`: the request came in one of the Host / x-apigw-api-id forms (None: petgate's
        path form)."""
        call = _call_from(environ, api_id, stage, path, self.clock())
        status, headers, body = self._answer(call, via)
        # every answer, error or not, carries both ids, as AWS's do
        headers["x-amzn-RequestId"] = call.request_id
        headers["x-amz-apigw-id"] = call.extended_request_id
        return status, headers, body

    def _answer(self, call: Call, via: PrivateInvoke | None) -> Response:
        found = self._snapshot(call.api_id, call.stage)
        if found is None:  # no such API or stage: AWS's plain Forbidden, no gateway response
            return FORBIDDEN[0], dict(FORBIDDEN[1]), FORBIDDEN[2]
        snap, call.stage_variables, private = found
        if (private or via is not None) and not self._admitted(snap, call, private, via):
            return FORBIDDEN[0], dict(FORBIDDEN[1]), FORBIDDEN[2]
        call.account_id = snap.account_id
        blocked = self._waf(snap, call)
        if blocked is not None:
            return blocked
        route = routing.find(snap.resources, call.path, call.http_method)
        if route is None:
            return self.gateway_response(snap, call, "MISSING_AUTHENTICATION_TOKEN", "Missing Authentication Token")
        call.path_parameters = route.path_parameters
        call.resource_path = route.resource.path
        call.resource_id = route.resource.id
        if route.method.get("apiKeyRequired") and not self._valid_api_key(snap, call):
            # Developer Guide, "api-gateway-api-usage-plans": a method that requires a key answers
            # 403 without a key that is enabled and in a usage plan of the stage (INVALID_API_KEY)
            return self.gateway_response(snap, call, "INVALID_API_KEY", "Forbidden", error_type="ForbiddenException")
        if call.endpoint is not None and snap.policy is None:
            # a private API deployed before it became PRIVATE, with no policy: Developer Guide,
            # "apigateway-resource-policies-create-attach": "For private APIs, note that until
            # you attach the resource policy to the private API, all calls to the API will
            # fail" (petgate's reading: the implicit deny of a policy that allows no one)
            return self.gateway_response(snap, call, "ACCESS_DENIED", "User: anonymous is not authorized to perform: "
                                         "execute-api:Invoke on resource: " + _masked_arn(snap, call))
        if route.method.get("authorizationType") == "AWS_IAM":
            refused = self._iam(snap, call)
            if refused is not None:
                return refused
            return self.integrate(snap, call, route.method)
        decision = snap.compiled_policy.evaluate(self._policy_request(snap, call))
        if not decision.allowed:
            message = (
                "User: anonymous is not authorized to perform: execute-api:Invoke on resource: "
                + _masked_arn(snap, call)
                + (" with an explicit deny" if decision.explicit else "")
            )
            return self.gateway_response(snap, call, "ACCESS_DENIED", message)
        return self.integrate(snap, call, route.method)

    def _iam(self, snap: Snapshot, call: Call) -> Response | None:
        """AWS_IAM: the signature, then authorize() over the resource policy and the caller's
        identity policies; the refusal to answer, or None to go on to the integration."""
        target = call.raw_target
        if target[:8].lower().startswith(("http://", "https://")):  # an absolute-form target
            parts = urllib.parse.urlsplit(target)
            target = parts.path + ("?" + parts.query if parts.query else "")
        headers = {**call.headers, "content-length": str(len(call.body))}  # what a client that signs it sent
        incoming = sigv4_check.Incoming(call.http_method, target.partition("?")[0], target.partition("?")[2],
                                        headers, call.body)
        try:
            signed = sigv4_check.signature_of(incoming)
            if signed is None:
                return self.gateway_response(snap, call, "MISSING_AUTHENTICATION_TOKEN", "Missing Authentication Token")
            sigv4_check.check_clock(signed, call.received)
            sigv4_check.check_scope(signed, snap.region)
            with self.lock:
                found = identity.find(signed.access_key)
            if found is None:
                raise sigv4_check.unrecognized()
            if found.session_token is not None:
                if signed.token is None or not hmac.compare_digest(signed.token.encode(), found.session_token.encode()):
                    raise sigv4_check.unrecognized()
                if found.expires is not None and call.received >= found.expires:
                    raise sigv4_check.expired_token()
            sigv4_check.verify(signed, incoming, found.secret)
        except sigv4_check.SignatureError as refused:
            return self.gateway_response(snap, call, refused.response_type, refused.message, refused.error_type)
        call.caller = found.caller
        request = replace(self._policy_request(snap, call), caller=found.caller)
        outcome = authorize(snap.compiled_policy, request, snap.account_id, found.compiled_policies())
        if outcome.allowed:
            return None
        message = (
            f"User: {found.caller.arn} is not authorized to perform: execute-api:Invoke on resource: "
            + _masked_arn(snap, call) + _DENIED_ENDINGS.get(outcome.reason, "")
        )
        return self.gateway_response(snap, call, "ACCESS_DENIED", message)

    def _admitted(self, snap: Snapshot, call: Call, private: bool, via: PrivateInvoke | None) -> bool:
        """Whether a request to a PRIVATE API, or in a private invoke form, may go on (else 403
        Forbidden); a request through a VPC endpoint gets `call.endpoint`."""
        if via is not None and via.region is not None and via.region != snap.region:
            return False  # the host names another region: no such API there
        endpoint = self.endpoints.of(call.source_ip)
        if via is None:  # petgate's path form: through an endpoint only to a private API
            through = private
        elif via.form == "dns":  # the API's default name: the endpoint's when private DNS resolves it
            through = endpoint is not None
        else:  # the endpoint's own names: always through it
            through = True
        if not through:
            return not private  # a public request: only a public API takes one
        if endpoint is None or not private:
            return False  # not from a VPC endpoint; or an endpoint, which reaches private APIs only
        if via is not None and via.vpce_id is not None and via.vpce_id != endpoint.vpce_id:
            return False  # the alias of another endpoint: this request did not come through it
        call.endpoint = endpoint
        return True

    def _snapshot(self, api_id: str, stage_name: str) -> tuple[Snapshot, dict[str, str], bool] | None:
        """The stage's snapshot, its variables, and whether the API is PRIVATE now (an
        endpoint type is the API's, not a deployment's: a change needs no redeploy)."""
        home = self.store.home(api_id)
        if home is None:
            return None
        from moto.apigateway.models import apigateway_backends

        with self.lock:
            api = apigateway_backends[home[0]][home[1]].apis.get(api_id)
            stage = api.stages.get(stage_name) if api is not None else None
            if api is None or stage is None:
                return None
            deployment_id, variables = stage.deployment_id, dict(stage.variables or {})
            private = "PRIVATE" in ((api.endpoint_configuration or {}).get("types") or ())
        snap = self.store.get(api_id, deployment_id) if deployment_id else None
        return (snap, variables, private) if snap is not None else None

    def _valid_api_key(self, snap: Snapshot, call: Call) -> bool:
        """An x-api-key that is an enabled key of the account, in a usage plan naming this stage."""
        given = call.headers.get("x-api-key")
        if not given:
            return False
        from moto.apigateway.models import apigateway_backends

        with self.lock:
            backend = apigateway_backends[snap.account_id][snap.region]
            keys = [key.id for key in backend.keys.values() if key.value == given and key.enabled]
            for plan_id, plan in backend.usage_plans.items():
                stages = {(str(s.get("apiId")), str(s.get("stage"))) for s in plan.api_stages if isinstance(s, dict)}
                if (snap.api_id, call.stage) in stages and any(k in backend.usage_plan_keys.get(plan_id, {}) for k in keys):
                    return True
        return False

    def _waf(self, snap: Snapshot, call: Call) -> Response | None:
        """The stage's web ACL, before anything else API Gateway does (no redeploy needed)."""
        with self.lock:
            verdict = waf_enforce.evaluate(
                waf_fixes.backend(snap.account_id, snap.region),
                stage_arn(snap.region, snap.api_id, call.stage),
                call.source_ip,
            )
        if not verdict.blocked:
            return None
        if verdict.body == FORBIDDEN_BODY:
            # no custom response in the web ACL: API Gateway answers its WAF_FILTERED gateway
            # response (Developer Guide, "supported-gateway-response-types": "blocked by AWS
            # WAF", DEFAULT_4XX when not set), which the stage may have customised
            return self.gateway_response(snap, call, "WAF_FILTERED", "Forbidden", error_type="ForbiddenException")
        return verdict.status, {"Content-Type": verdict.content_type, **dict(verdict.headers)}, verdict.body

    @staticmethod
    def _policy_request(snap: Snapshot, call: Call) -> policies.Request:
        keys = {
            # execute-api endpoints are HTTPS-only on AWS, so policies always see true
            "aws:SecureTransport": "true",
            "aws:CurrentTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(call.received)),
        }
        if "user-agent" in call.headers:
            keys["aws:UserAgent"] = call.headers["user-agent"]
        if "referer" in call.headers:
            keys["aws:Referer"] = call.headers["referer"]
        arn = policies.request_arn(snap.region, snap.account_id, snap.api_id, call.stage, call.http_method, call.path)
        source_ip: str | None = call.source_ip
        if call.endpoint is not None:
            # through a VPC endpoint (Developer Guide, "apigateway-resource-policies-aws-condition-keys":
            # aws:SourceVpc, aws:SourceVpce and aws:VpcSourceIp are for private APIs), the client's
            # own address is aws:VpcSourceIp; aws:SourceIp is "not available" for a request
            # through a VPC endpoint (IAM User Guide, "reference_policies_condition-keys"; API
            # Gateway's "apigateway-resource-policies-examples": "the VPC endpoint for execute-api
            # re-writes the original source IP address"): the key is absent, for IfExists and Null too
            keys["aws:SourceVpce"] = call.endpoint.vpce_id
            keys["aws:SourceVpc"] = call.endpoint.vpc_id
            keys["aws:VpcSourceIp"] = call.source_ip
            source_ip = None
        return policies.Request(source_ip=source_ip, resource_arn=arn, keys=keys)

    # --- gateway responses ---------------------------------------------------------------

    def gateway_response(self, snap: Snapshot, call: Call, response_type: str, message: str,
                         error_type: str | None = None) -> Response:
        """The stage's gateway response for the type; `error_type` the x-amzn-ErrorType when it
        is not the type's usual one (the signature faults share INVALID_SIGNATURE)."""
        selected = gateway_responses.select(response_type, snap.gateway_responses)
        error = {"message": message, "messageString": json.dumps(message), "responseType": response_type, "validationErrorString": ""}
        content_type, template = pick_template(selected.templates, call.headers.get("accept", ""))
        body = ""
        if template:
            body = vtl.render(template, call.context(error), stage_variables=call.stage_variables)
        headers = {"Content-Type": content_type or "application/json"}
        headers.update(_mapped_headers(selected.parameters, "gatewayresponse.header.", call, {}))
        if error_type is not None or response_type in _ERROR_TYPES:
            headers["x-amzn-ErrorType"] = error_type or _ERROR_TYPES[response_type]
        return selected.status, headers, body.encode()

    # --- integrations --------------------------------------------------------------------

    def integrate(self, snap: Snapshot, call: Call, method: dict[str, Any]) -> Response:
        integration = method.get("methodIntegration")
        if not integration:
            return self.gateway_response(snap, call, "API_CONFIGURATION_ERROR", "Internal server error")
        kind = str(integration.get("type", "")).upper()
        if kind == "MOCK":
            return self._integration_response(snap, call, integration, _mock_status(integration, call), {}, b"")
        if kind in ("HTTP", "HTTP_PROXY"):
            proxy = kind == "HTTP_PROXY"
            url, headers, body = _backend_request(integration, call, proxy)
            try:
                method_name = str(integration.get("httpMethod") or "ANY").upper()
                status, backend_headers, backend_body = _call_backend(
                    call.http_method if method_name == "ANY" else method_name, url, headers, body,
                    int(integration.get("timeoutInMillis") or DEFAULT_TIMEOUT_MS) / 1000,
                )
            except TimeoutError:
                return self.gateway_response(snap, call, "INTEGRATION_TIMEOUT", "Endpoint request timed out")
            except OSError:
                return self.gateway_response(snap, call, "INTEGRATION_FAILURE", "Internal server error")
            if proxy:
                passed = {k: v for k, v in backend_headers.items() if k.lower() not in _HOP_BY_HOP}
                return status, passed, backend_body
            return self._integration_response(snap, call, integration, status, backend_headers, backend_body)
        return self.gateway_response(snap, call, "API_CONFIGURATION_ERROR", "Internal server error")

    def _integration_response(
        self,
        snap: Snapshot,
        call: Call,
        integration: dict[str, Any],
        status: int,
        backend_headers: dict[str, str],
        backend_body: bytes,
    ) -> Response:
        chosen = _select_integration_response(integration.get("integrationResponses") or {}, status)
        if chosen is None:
            return self.gateway_response(snap, call, "API_CONFIGURATION_ERROR", "Internal server error")
        code, response = chosen
        content_type, template = pick_template(response.get("responseTemplates") or {}, call.headers.get("accept", ""))
        text = backend_body.decode("utf-8", errors="replace")
        if template:
            body = vtl.render(template, call.context(), body=text, params=call.params(), stage_variables=call.stage_variables).encode()
        else:
            body = backend_body
            content_type = _header(backend_headers, "content-type") or content_type or "application/json"
        headers = {"Content-Type": content_type or "application/json"}
        headers.update(_mapped_headers(response.get("responseParameters") or {}, "method.response.header.", call, backend_headers, text))
        return int(code), headers, body


# --- helpers -----------------------------------------------------------------------------


def _call_from(environ: dict[str, Any], api_id: str, stage: str, path: str, received: float) -> Call:
    headers = {
        key[5:].replace("_", "-").lower(): str(value)
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    if environ.get("CONTENT_TYPE"):
        headers["content-type"] = environ["CONTENT_TYPE"]
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    query = dict(urllib.parse.parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
    return Call(
        http_method=environ["REQUEST_METHOD"].upper(),
        path="/" + path.lstrip("/"),
        query=query,
        headers=headers,
        body=body,
        # the TCP peer, never X-Forwarded-For: a client cannot choose its aws:SourceIp
        source_ip=environ.get("REMOTE_ADDR", ""),
        protocol=environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
        stage=stage,
        api_id=api_id,
        received=received,
        raw_target=str(environ.get("RAW_URI") or urllib.parse.quote(environ.get("PATH_INFO", ""))
                       + ("?" + environ["QUERY_STRING"] if environ.get("QUERY_STRING") else "")),
    )


def _masked_arn(snap: Snapshot, call: Call) -> str:
    return masked_arn(snap.region, snap.account_id, snap.api_id, call.stage, call.http_method, call.path)


def _mock_status(integration: dict[str, Any], call: Call) -> int:
    """A MOCK integration answers the statusCode its request template renders."""
    templates = integration.get("requestTemplates") or {}
    _, template = pick_template(templates, call.headers.get("content-type", ""))
    if not template:
        return 200
    rendered = vtl.render(template, call.context(), body=call.body.decode("utf-8", "replace"), params=call.params(), stage_variables=call.stage_variables)
    try:
        return int(json.loads(rendered).get("statusCode", 200))
    except (ValueError, AttributeError, TypeError):
        return 200


def _select_integration_response(responses: dict[str, Any], status: int) -> tuple[str, dict[str, Any]] | None:
    default = None
    for code, response in responses.items():
        pattern = response.get("selectionPattern") or ""
        if not pattern:
            default = default or (code, response)
        elif re.fullmatch(pattern, str(status)):
            return code, response
    return default


def _source_value(expression: str, call: Call, backend_headers: dict[str, str] | None = None, backend_body: str = "") -> str | None:
    """Resolve a mapping expression: 'static', method.request.*, stageVariables.*, context.*."""
    if expression.startswith("'") and expression.endswith("'") and len(expression) >= 2:
        return expression[1:-1]
    prefixes = {
        "method.request.path.": call.path_parameters,
        "method.request.querystring.": call.query,
        "method.request.header.": call.headers,
        "stageVariables.": call.stage_variables,
    }
    for prefix, source in prefixes.items():
        if expression.startswith(prefix):
            name = expression[len(prefix):]
            return source.get(name.lower() if "header" in prefix else name)
    if expression.startswith("integration.response.header.") and backend_headers is not None:
        return _header(backend_headers, expression[len("integration.response.header."):])
    if expression == "integration.response.body":
        return backend_body
    if expression.startswith("context."):
        value: Any = call.context()
        for part in expression[len("context."):].split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return None if value is None else str(value)
    return None


def _mapped_headers(parameters: dict[str, str], prefix: str, call: Call, backend_headers: dict[str, str], backend_body: str = "") -> dict[str, str]:
    headers = {}
    for target, expression in parameters.items():
        if target.startswith(prefix):
            value = _source_value(str(expression), call, backend_headers, backend_body)
            if value is not None:
                headers[target[len(prefix):]] = value
    return headers


def _header(headers: dict[str, str], name: str) -> str | None:
    return next((v for k, v in headers.items() if k.lower() == name.lower()), None)


def _backend_request(integration: dict[str, Any], call: Call, proxy: bool) -> tuple[str, dict[str, str], bytes]:
    """The URL, headers and body to send to an HTTP / HTTP_PROXY integration."""
    mapped = integration.get("requestParameters") or {}
    path_values = dict(call.path_parameters) if proxy else {}
    query: dict[str, str] = dict(call.query) if proxy else {}
    headers = {k: v for k, v in call.headers.items() if k not in _HOP_BY_HOP} if proxy else {}
    for target, expression in mapped.items():
        value = _source_value(str(expression), call)
        if value is None:
            continue
        for prefix, sink in (("integration.request.path.", path_values), ("integration.request.querystring.", query), ("integration.request.header.", headers)):
            if target.startswith(prefix):
                sink[target[len(prefix):]] = value
    uri = str(integration.get("uri", ""))
    for name, value in path_values.items():
        quoted = urllib.parse.quote(value, safe="/" if name.endswith("+") or name == "proxy" else "")
        uri = uri.replace("{" + name + "+}", quoted).replace("{" + name + "}", quoted)
    if query:
        uri += ("&" if "?" in uri else "?") + urllib.parse.urlencode(query)
    body = call.body
    templates = integration.get("requestTemplates") or {}
    if not proxy and templates:
        content_type, template = pick_template(templates, call.headers.get("content-type", ""))
        if template:
            body = vtl.render(template, call.context(), body=call.body.decode("utf-8", "replace"), params=call.params(), stage_variables=call.stage_variables).encode()
            headers.setdefault("content-type", content_type)
    elif call.headers.get("content-type") and body:
        headers.setdefault("content-type", call.headers["content-type"])
    return uri, headers, body


def _call_backend(method: str, url: str, headers: dict[str, str], body: bytes, timeout: float) -> tuple[int, dict[str, str], bytes]:
    if petstore.serves(url):
        return petstore.handle(method.upper(), url, body)
    import requests

    try:
        response = requests.request(method, url, headers=headers, data=body, timeout=timeout, allow_redirects=False)
    except requests.Timeout as exc:
        raise TimeoutError(str(exc)) from None
    except requests.RequestException as exc:
        raise OSError(str(exc)) from None
    return response.status_code, dict(response.headers), response.content
