"""The recorded-AWS suite: each expected value comes from a response recorded from real AWS.

Recordings: LocalStack's snapshot files, repository localstack/localstack, folder
tests/aws/services/apigateway/ (`*.snapshot.json`, keyed by test id and snapshot key). Each
test names the file (`RECORDING`), the test id and the key it follows. Values that AWS makes
up per account (ids, dates) are compared by shape, as LocalStack's own transformers do.
"""

from __future__ import annotations

from typing import Any

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config


@pytest.fixture()
def raw(local_url: str) -> Any:
    """A client that sends what it is given (no client-side validation), as the recordings did."""
    return boto3.client(
        "apigateway", endpoint_url=local_url, region_name="us-east-1", aws_access_key_id="test",
        aws_secret_access_key="test", config=Config(parameter_validation=False),
    )


@pytest.fixture()
def rest_api(raw: Any) -> str:
    return str(raw.create_rest_api(name="fidelity", description="APIGW test GatewayResponse")["id"])


def error_of(call: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """The error AWS-style: code, message, HTTP status."""
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        call(*args, **kwargs)
    response = raised.value.response
    return {"Code": response["Error"]["Code"], "Message": response["Error"]["Message"],
            "Status": response["ResponseMetadata"]["HTTPStatusCode"]}


def plain(response: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}
