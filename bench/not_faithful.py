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
    api = apigw.create_rest_api(name="faithful")["id"]
    root = apigw.get_resources(restApiId=api)["items"][0]["id"]
    child = apigw.create_resource(restApiId=api, parentId=root, pathPart="a")["id"]
    patch = [{"op": "replace", "path": "/pathPart", "value": "b"}]
    show("UpdateResource", lambda: apigw.update_resource(restApiId=api, resourceId=child, patchOperations=patch)["path"])
    apigw.create_model(restApiId=api, name="M", contentType="application/json",
                       schema='{"type":"object","properties":{"a":{"type":"string"}}}')
    show("UpdateModel", lambda: apigw.update_model(
        restApiId=api, modelName="M", patchOperations=[{"op": "replace", "path": "/description", "value": "d"}]))
    show("GetModels of a new API (AWS: Empty and Error too)",
         lambda: sorted(m["name"] for m in apigw.get_models(restApiId=api)["items"]))
    validator = apigw.create_request_validator(restApiId=api, name="v")["id"]
    show("UpdateRequestValidator without a value", lambda: apigw.update_request_validator(
        restApiId=api, requestValidatorId=validator, patchOperations=[{"op": "replace", "path": "/validateRequestBody"}]))
    show("CreateRestApi with no endpoint type", lambda: apigw.create_rest_api(
        name="e", endpointConfiguration={"types": []})["id"])
    show("CreateRestApi with two endpoint types", lambda: apigw.create_rest_api(
        name="e", endpointConfiguration={"types": ["EDGE", "REGIONAL"]})["id"])
    apigw.create_resource(restApiId=api, parentId=root, pathPart="{proxy+}")
    show("{x} beside {proxy+}", lambda: apigw.create_resource(restApiId=api, parentId=root, pathPart="{x}")["path"])
    apigw.put_method(restApiId=api, resourceId=child, httpMethod="GET", authorizationType="NONE")
    show("PutIntegration of type BOGUS", lambda: apigw.put_integration(
        restApiId=api, resourceId=child, httpMethod="GET", type="BOGUS")["type"])
    apigw.put_method(restApiId=api, resourceId=root, httpMethod="GET", authorizationType="NONE")
    apigw.put_integration(restApiId=api, resourceId=root, httpMethod="GET", type="MOCK",
                          requestTemplates={"application/json": '{"statusCode":200}'})
    apigw.create_deployment(restApiId=api, stageName="s1")
    show("GetExport oas30 info.version (AWS: the document's)", lambda: json.loads(
        apigw.get_export(restApiId=api, stageName="s1", exportType="oas30")["body"].read())["info"].get("version"))
    ip_set = waf.create_ip_set(Name="s", Scope="REGIONAL", IPAddressVersion="IPV4", Addresses=["192.0.2.0/24"])
    rule = {"Name": "r", "Priority": 0, "Statement": {"IPSetReferenceStatement": {"ARN": ip_set["Summary"]["ARN"]}},
            "Action": {"Block": {}},
            "VisibilityConfig": {"SampledRequestsEnabled": False, "CloudWatchMetricsEnabled": False, "MetricName": "r"}}
    show("wafv2 CheckCapacity", lambda: waf.check_capacity(Scope="REGIONAL", Rules=[rule])["Capacity"])
    acl = waf.create_web_acl(Name="a", Scope="REGIONAL", DefaultAction={"Allow": {}}, Rules=[rule], VisibilityConfig={
        "SampledRequestsEnabled": False, "CloudWatchMetricsEnabled": False, "MetricName": "a"})["Summary"]
    show("wafv2 Capacity of one IP-set rule (AWS: 1 WCU)",
         lambda: waf.get_web_acl(Name="a", Scope="REGIONAL", Id=acl["Id"])["WebACL"].get("Capacity"))


if __name__ == "__main__":
    main()
