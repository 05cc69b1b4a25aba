"""What petgate local still answers differently from AWS, measured: each line is one call and
what petgate local answered to it. README's "Not faithful yet" lists what this printed; run it
again to see which still hold: `.venv/bin/python bench/not_faithful.py`."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import boto3
from botocore.exceptions import ClientError

REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(port: int) -> None:
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.1)  # a script, not a test: it polls petgate local's start-up
    raise SystemExit("petgate local did not start")


def show(name: str, call: Callable[[], Any]) -> None:
    try:
        print("answered", name, json.dumps(call(), default=str)[:160])
    except ClientError as exc:
        error = exc.response["Error"]
        print("refused ", name, exc.response["ResponseMetadata"]["HTTPStatusCode"], error.get("Code"),
              str(error.get("Message", ""))[:120])


def main() -> None:
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "petgate", "local", "--port", str(port)], cwd=REPOSITORY,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(port)
        probe(f"http://127.0.0.1:{port}")
    finally:
        server.terminate()
        server.wait(timeout=30)


def probe(url: str) -> None:
    keys = {"region_name": "us-east-1", "aws_access_key_id": "test", "aws_secret_access_key": "test"}
    apigw = boto3.client("apigateway", endpoint_url=url, **keys)
    waf = boto3.client("wafv2", endpoint_url=url, **keys)
    visibility = {"SampledRequestsEnabled": False, "CloudWatchMetricsEnabled": False, "MetricName": "r"}
    managed = {"Name": "m", "Priority": 0, "OverrideAction": {"None": {}}, "VisibilityConfig": visibility,
               "Statement": {"ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": "AWSManagedRulesCommonRuleSet"}}}
    show("wafv2 CheckCapacity of AWSManagedRulesCommonRuleSet (AWS: its published 700 WCU)",
         lambda: waf.check_capacity(Scope="REGIONAL", Rules=[managed])["Capacity"])
    api = apigw.create_rest_api(name="faithful")["id"]
    root = apigw.get_resources(restApiId=api)["items"][0]["id"]
    authorizer = apigw.create_authorizer(
        restApiId=api, name="a", type="TOKEN", identitySource="method.request.header.Authorization",
        authorizerUri="arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
                      "arn:aws:lambda:us-east-1:123456789012:function:f/invocations")["id"]
    apigw.put_method(restApiId=api, resourceId=root, httpMethod="GET", authorizationType="CUSTOM", authorizerId=authorizer)
    apigw.put_integration(restApiId=api, resourceId=root, httpMethod="GET", type="MOCK",
                          requestTemplates={"application/json": '{"statusCode":200}'})
    apigw.put_method_response(restApiId=api, resourceId=root, httpMethod="GET", statusCode="200")
    apigw.put_integration_response(restApiId=api, resourceId=root, httpMethod="GET", statusCode="200")
    apigw.create_deployment(restApiId=api, stageName="s1")
    show("a Lambda (CUSTOM) authorizer on the data plane, no token (AWS: 401 Unauthorized)",
         lambda: _invoke(f"{url}/restapis/{api}/s1/_user_request_/"))
    show("apigatewayv2's data plane (HTTP APIs): not served", lambda: _invoke(f"{url}/v2-data-plane-is-not-served"))


def _invoke(url: str) -> dict[str, Any]:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=10) as answer:  # loopback only: the local gateway
            return {"status": answer.status}
    except urllib.error.HTTPError as exc:
        return {"status": exc.code, "x-amzn-ErrorType": exc.headers.get("x-amzn-ErrorType")}


if __name__ == "__main__":
    main()
