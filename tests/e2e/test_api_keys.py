"""A method that requires an API key, on petgate local and in `explain`: no key or an unknown
one is 403 INVALID_API_KEY (ForbiddenException), a key that is enabled and in a usage plan of
the stage passes (Developer Guide, "api-gateway-api-usage-plans"); the stage's export carries
the `api_key` scheme ("api-key-usage-plan-oas"), so explain sees the requirement too."""

from __future__ import annotations

from typing import Any

import requests


def test_a_key_method_wants_a_key_of_a_usage_plan_of_the_stage(petgate: Any, api_id: str, apigw: Any,
                                                               local_url: str) -> None:
    root = next(r["id"] for r in apigw.get_resources(restApiId=api_id)["items"] if r["path"] == "/")
    apigw.update_method(restApiId=api_id, resourceId=root, httpMethod="GET",
                        patchOperations=[{"op": "replace", "path": "/apiKeyRequired", "value": "true"}])
    assert petgate("deploy", "--api", api_id).exit_code == 0
    url = f"{local_url}/restapis/{api_id}/test/_user_request_/"
    key = apigw.create_api_key(name=f"key-{api_id}", enabled=True)
    other = apigw.create_api_key(name=f"other-{api_id}", enabled=True)
    plan = apigw.create_usage_plan(name=f"plan-{api_id}", apiStages=[{"apiId": api_id, "stage": "test"}])
    apigw.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")

    for headers in ({}, {"x-api-key": "nosuch"}, {"x-api-key": other["value"]}):
        refused = requests.get(url, headers=headers, timeout=10)
        assert refused.status_code == 403 and refused.headers["x-amzn-ErrorType"] == "ForbiddenException", headers
        assert refused.json() == {"message": "Forbidden"}
    assert requests.get(url, headers={"x-api-key": key["value"]}, timeout=10).status_code == 200

    export = apigw.get_export(restApiId=api_id, stageName="test", exportType="oas30")["body"].read().decode()
    assert '"api_key"' in export and '"x-api-key"' in export
    unkeyed = petgate("-o", "json", "explain", "--api", api_id, "--path", "/", "--ip", "127.0.0.1", "--live")
    assert unkeyed.exit_code == 0, unkeyed.stderr
    assert unkeyed.json["outcome"]["status"] == 403 and unkeyed.json["live"]["agrees"] is True
    keyed = petgate("-o", "json", "explain", "--api", api_id, "--path", "/", "--ip", "127.0.0.1",
                    "--header", f"x-api-key={key['value']}", "--live")
    assert keyed.exit_code == 0, keyed.stderr
    assert any(layer["layer"] == "api-key" and layer["decision"] == "unknown" for layer in keyed.json["layers"])
    assert keyed.json["live"]["status"] == 200
