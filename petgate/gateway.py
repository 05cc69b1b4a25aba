"""The one class that makes every boto3 `apigateway` call petgate uses.

Each method is named for what petgate means and translates botocore's errors into petgate's
own, so commands never see boto3 (after chalice's TypedAWSClient).
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from petgate import policy as policies
from petgate.errors import AwsError, NetworkError, UsageError

if TYPE_CHECKING:
    from mypy_boto3_apigateway import APIGatewayClient
    from mypy_boto3_apigateway.literals import GatewayResponseTypeType

ACCESS_DENIED: Final = "ACCESS_DENIED"
_API_ID_LENGTH = 10
DEPLOY_QUOTA_S = 5.0  # CreateDeployment: 1 request every 5 seconds per account

_CREDENTIAL_CODES = {
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "ExpiredTokenException",
    "ExpiredToken",
    "AccessDeniedException",
    "AccessDenied",
    "SignatureDoesNotMatch",
}


@dataclass(frozen=True)
class ApiRef:
    id: str
    name: str


def looks_like_api_id(text: str) -> bool:
    return len(text) == _API_ID_LENGTH and text.isalnum() and text.islower()


def decode_policy(api_id: str, api: dict[str, Any]) -> policies.Policy | None:
    """The policy of a GetRestApi answer; one petgate cannot read is the user's to fix."""
    try:
        return policies.decode_stored(api.get("policy"))
    except policies.PolicyError as exc:
        raise UsageError(
            f"API {api_id}: {exc}; petgate leaves it as it is",
            "fix it in the console, or remove the whole policy with `petgate unblock --all`",
        ) from None


def exported_policy(exported: dict[str, Any]) -> policies.Policy | None:
    """The policy in a stage's export (GetExport): what the stage serves. A PolicyError if unreadable."""
    found = exported.get("x-amazon-apigateway-policy")
    return policies.decode_stored(found) if isinstance(found, str) else found


def _one_line(message: str, exc: Any) -> str:
    """AWS's message on one short line; an HTML page (a proxy, a wrong endpoint) is named, not shown."""
    text = " ".join(message.split())
    if text.lstrip().startswith("<"):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "?")
        return f"HTTP {status} with an HTML page, not an API Gateway answer (is the endpoint right?)"
    return text if len(text) <= 300 else text[:297] + "..."


def _plain(response: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}


@contextmanager
def aws_errors(what: str) -> Iterator[None]:
    """Translate botocore's exceptions into petgate's, naming what we were doing."""
    import botocore.exceptions as bex

    try:
        yield
    except bex.ClientError as exc:
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        message = _one_line(str(error.get("Message", "")) or code, exc)
        if code in _CREDENTIAL_CODES:
            raise AwsError(
                f"{what}: AWS refused the credentials ({code}: {message})",
                "check AWS_PROFILE / your credentials, or refresh an expired session",
                code,
            ) from None
        if code == "TooManyRequestsException":
            raise AwsError(
                f"{what}: throttled by AWS even after retrying ({message})",
                "wait a minute and run the command again",
                code,
            ) from None
        raise AwsError(f"{what}: {code}: {message}", code=code) from None
    except bex.NoCredentialsError:
        raise AwsError(
            f"{what}: no AWS credentials found",
            "configure a profile (aws configure), set AWS_PROFILE, or use --local",
            "NoCredentials",
        ) from None
    except bex.NoRegionError:
        raise UsageError(f"{what}: no AWS region configured", "pass --region") from None
    except (bex.ConnectionError, bex.HTTPClientError) as exc:
        # refused, reset, closed, timed out: whatever botocore's retry settings left us with,
        # the network failed, not AWS (exit 4)
        raise NetworkError(
            f"{what}: cannot reach the control plane ({exc})",
            "check the endpoint, or start the local gateway with `petgate local`",
        ) from None
    except bex.BotoCoreError as exc:
        raise AwsError(f"{what}: {exc}") from None


# Writes a lease guards get one attempt each, so that one write's time is bounded by its
# timeouts (lease.py); the lease sends them again, after checking that enough of it is left.
GUARDED_WRITES = frozenset({"UpdateRestApi", "PutGatewayResponse", "DeleteGatewayResponse", "DeleteModel", "UpdateMethod"})
DEFAULT_MAX_ATTEMPTS = 6  # AWS's control-plane quotas are tight: wait, don't fail


class Gateway:
    """The client's own retries are off (one attempt per call); `_needs_retry`, botocore's
    needs-retry hook, decides instead: throttling and conflicts wait as long as AWS's quota
    says (visibly), a 5xx or a broken connection backs off, up to `max_attempts` in all (else
    AWS_MAX_ATTEMPTS, else 6), and a guarded write is never sent twice by botocore."""

    def __init__(self, client: APIGatewayClient, max_attempts: int | None = None) -> None:
        self.client = client  # botocore sleeps the waits _needs_retry names; nothing here sleeps
        self.max_attempts = max_attempts or int(os.environ.get("AWS_MAX_ATTEMPTS") or DEFAULT_MAX_ATTEMPTS)
        self.quota_waits: list[float] = []  # seconds waited for AWS's quotas, for JSON output
        self.on_quota_wait: Callable[[str, float], None] = lambda _operation, _seconds: None
        client.meta.events.register_first("needs-retry.api-gateway", self._needs_retry)  # type: ignore[arg-type]

    @property
    def write_bound_s(self) -> float:
        """How long one guarded write can take: one attempt's connect and read timeouts."""
        config = self.client.meta.config
        return float(getattr(config, "connect_timeout", 60) or 60) + float(getattr(config, "read_timeout", 60) or 60)

    def register(self, event: str, handler: Callable[..., Any]) -> None:
        """Hook the client (-v logging, call counting)."""
        self.client.meta.events.register(event, handler)

    def _needs_retry(
        self, response: Any = None, attempts: int = 0, operation: Any = None, caught_exception: Any = None, **_: Any
    ) -> float | None:
        """Seconds to wait before sending the call again, or None: let its answer through."""
        import botocore.exceptions as bex

        name = str(getattr(operation, "name", "the call"))
        if name in GUARDED_WRITES or attempts >= self.max_attempts:
            return None
        backoff = min(0.5 * 2.0 ** (attempts - 1), 20.0) * random.uniform(0.5, 1.0)
        if caught_exception is not None:  # refused, reset, timed out: the network, not AWS
            return backoff if isinstance(caught_exception, (bex.ConnectionError, bex.HTTPClientError)) else None
        if not response or not isinstance(response, tuple) or response[1] is None:
            return None
        parsed = response[1]
        code = parsed.get("Error", {}).get("Code")
        status = int(parsed.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        if code == "ConflictException" and name == "CreateModel":
            return None  # the lease is taken: that is an answer, not a hiccup (see lease.py)
        if code not in ("TooManyRequestsException", "ConflictException"):
            return backoff if status >= 500 else None
        retry_after = parsed.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("retry-after")
        try:
            seconds = float(retry_after) if retry_after else 0.0
        except ValueError:
            seconds = 0.0
        if name == "CreateDeployment":
            seconds = max(seconds, DEPLOY_QUOTA_S)
        seconds = max(seconds, min(2.0**attempts * 0.5, 20.0))
        self.quota_waits.append(seconds)
        self.on_quota_wait(name, seconds)
        return seconds

    # --- APIs -----------------------------------------------------------------------------

    def list_apis(self) -> list[dict[str, Any]]:
        with aws_errors("listing REST APIs"):
            pages = self.client.get_paginator("get_rest_apis").paginate(PaginationConfig={"PageSize": 500})
            return [dict(item) for page in pages for item in page.get("items", [])]

    def find_apis_named(self, name: str) -> list[ApiRef]:
        return [ApiRef(a["id"], a.get("name", "")) for a in self.list_apis() if a.get("name") == name]

    @staticmethod
    def _or_none(what: str, call: Callable[[], Any]) -> dict[str, Any] | None:
        """The call's answer, or None when AWS says the thing does not exist."""
        try:
            with aws_errors(what):
                return _plain(call())
        except AwsError as exc:
            if exc.code == "NotFoundException":
                return None
            raise

    def get_api_or_none(self, api_id: str) -> dict[str, Any] | None:
        return self._or_none(f"reading API {api_id}", lambda: self.client.get_rest_api(restApiId=api_id))

    def get_api(self, api_id: str) -> dict[str, Any]:
        with aws_errors(f"reading API {api_id}"):
            return dict(self.client.get_rest_api(restApiId=api_id))

    def import_api(self, definition: bytes, endpoint_type: str) -> dict[str, Any]:
        with aws_errors("importing the API"):
            return dict(
                self.client.import_rest_api(
                    body=definition,
                    failOnWarnings=False,
                    parameters={"endpointConfigurationTypes": endpoint_type},
                )
            )

    def delete_api(self, api_id: str) -> None:
        with aws_errors(f"deleting API {api_id}"):
            self.client.delete_rest_api(restApiId=api_id)

    # --- policy ---------------------------------------------------------------------------

    def get_policy(self, api_id: str, api: dict[str, Any] | None = None) -> policies.Policy | None:
        """The API's stored policy, AWS's extra escaping undone."""
        return decode_policy(api_id, api if api is not None else self.get_api(api_id))

    def set_policy(self, api_id: str, policy: policies.Policy | None) -> dict[str, Any]:
        """Write the policy (None removes it)."""
        value = policies.encode(policy) if policy else ""
        with aws_errors(f"writing the policy of API {api_id}"):
            return dict(
                self.client.update_rest_api(
                    restApiId=api_id,
                    patchOperations=[{"op": "replace", "path": "/policy", "value": value}],
                )
            )

    # --- gateway responses ----------------------------------------------------------------

    def get_gateway_response(self, api_id: str, response_type: GatewayResponseTypeType) -> dict[str, Any] | None:
        return self._or_none(
            f"reading the {response_type} gateway response",
            lambda: self.client.get_gateway_response(restApiId=api_id, responseType=response_type),
        )

    def put_gateway_response(
        self,
        api_id: str,
        response_type: GatewayResponseTypeType,
        status_code: str | None,
        templates: dict[str, str],
        parameters: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "restApiId": api_id,
            "responseType": response_type,
            "responseTemplates": templates,
        }
        if status_code:
            kwargs["statusCode"] = status_code
        if parameters:
            kwargs["responseParameters"] = parameters
        with aws_errors(f"writing the {response_type} gateway response"):
            return _plain(self.client.put_gateway_response(**kwargs))

    # --- stages and deployments -----------------------------------------------------------

    def deploy(self, api_id: str, stage: str, description: str = "") -> dict[str, Any]:
        with aws_errors(f"deploying API {api_id} to stage {stage!r}"):
            return _plain(self.client.create_deployment(restApiId=api_id, stageName=stage, description=description))

    def delete_gateway_response(self, api_id: str, response_type: GatewayResponseTypeType) -> None:
        """Back to AWS's default (already the default is fine)."""
        self._or_none(
            f"resetting the {response_type} gateway response",
            lambda: self.client.delete_gateway_response(restApiId=api_id, responseType=response_type),
        )

    def get_stage(self, api_id: str, stage: str) -> dict[str, Any] | None:
        return self._or_none(f"reading stage {stage!r}", lambda: self.client.get_stage(restApiId=api_id, stageName=stage))

    def get_stages(self, api_id: str) -> list[dict[str, Any]]:
        with aws_errors(f"listing the stages of API {api_id}"):
            return [dict(stage) for stage in self.client.get_stages(restApiId=api_id).get("item", [])]

    def get_deployments(self, api_id: str) -> list[dict[str, Any]]:
        with aws_errors(f"listing the deployments of API {api_id}"):
            pages = self.client.get_paginator("get_deployments").paginate(restApiId=api_id, PaginationConfig={"PageSize": 500})
            return [dict(item) for page in pages for item in page.get("items", [])]

    def get_stage_export(self, api_id: str, stage: str) -> dict[str, Any]:
        """The definition the stage really serves (with policy and gateway responses)."""
        import json

        with aws_errors(f"exporting stage {stage!r}"):
            response = self.client.get_export(
                restApiId=api_id,
                stageName=stage,
                exportType="oas30",
                parameters={"extensions": "apigateway"},
                accepts="application/json",
            )
        return dict(json.loads(response["body"].read()))

    # --- models (petgate's lease; see lease.py) -------------------------------------------

    def create_model(self, api_id: str, name: str, description: str) -> dict[str, Any]:
        schema = '{"type": "object", "properties": {"lease": {"type": "string"}}}'
        with aws_errors(f"taking the lease on API {api_id}"):
            return _plain(
                self.client.create_model(
                    restApiId=api_id, name=name, description=description, schema=schema, contentType="application/json"
                )
            )

    def get_model_or_none(self, api_id: str, name: str) -> dict[str, Any] | None:
        return self._or_none(f"reading model {name}", lambda: self.client.get_model(restApiId=api_id, modelName=name))

    def delete_model_if(self, api_id: str, name: str, description: str | None) -> None:
        """Delete the model if its description is still the given one (already gone is fine).

        Not atomic (API Gateway has no conditional delete): the read narrows the window in
        which a lease someone else just took could be deleted.
        """
        current = self.get_model_or_none(api_id, name)
        if current is not None and current.get("description") == description:
            self.delete_model(api_id, name)

    def delete_model(self, api_id: str, name: str) -> None:
        self._or_none(f"deleting model {name}", lambda: self.client.delete_model(restApiId=api_id, modelName=name))

    # --- resources and their methods (require-iam, status, the allow-lists' AWS_IAM check) --

    def get_resources(self, api_id: str) -> list[dict[str, Any]]:
        """Every resource of the API with its methods (embed=methods), 500 to a page."""
        with aws_errors(f"listing the resources of API {api_id}"):
            pages = self.client.get_paginator("get_resources").paginate(
                restApiId=api_id, embed=["methods"], PaginationConfig={"PageSize": 500}
            )
            return [dict(item) for page in pages for item in page.get("items", [])]

    def set_authorization_type(self, api_id: str, resource_id: str, http_method: str, authorization_type: str) -> dict[str, Any]:
        """UpdateMethod: replace the method's authorizationType (AWS_IAM, NONE); AWS's answer is the method."""
        with aws_errors(f"setting the authorization of {http_method} on resource {resource_id} of API {api_id}"):
            return _plain(self.client.update_method(
                restApiId=api_id, resourceId=resource_id, httpMethod=http_method,
                patchOperations=[{"op": "replace", "path": "/authorizationType", "value": authorization_type}],
            ))
