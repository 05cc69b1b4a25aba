"""Every exercise command through the CLI, against a real `petgate local`, in text and JSON,
with the stored API state checked through boto3."""

from __future__ import annotations

from typing import Any

import pytest

from petgate import policy as policies


def stored_policy(apigw: Any, api_id: str) -> dict | None:
    return policies.decode_stored(apigw.get_rest_api(restApiId=api_id).get("policy"))


def test_import_example_creates_the_petstore(petgate: Any, apigw: Any) -> None:
    result = petgate("-o", "json", "import-example", "--name", "PetStoreImportTest", "--new")
    assert result.exit_code == 0, result.stderr
    api_id = result.json["api_id"]
    assert result.json["created"] is True
    api = apigw.get_rest_api(restApiId=api_id)
    assert api["name"] == "PetStoreImportTest"
    assert api["description"].startswith("Your first API with Amazon API Gateway.")
    assert api["endpointConfiguration"]["types"] == ["REGIONAL"]
    resources = {r["path"]: r for r in apigw.get_resources(restApiId=api_id, embed=["methods"])["items"]}
    assert set(resources) == {"/", "/pets", "/pets/{petId}"}
    assert set(resources["/"]["resourceMethods"]) == {"GET"}
    assert set(resources["/pets"]["resourceMethods"]) == {"GET", "POST", "OPTIONS"}
    assert set(resources["/pets/{petId}"]["resourceMethods"]) == {"GET", "OPTIONS"}
    root_get = apigw.get_integration(restApiId=api_id, resourceId=resources["/"]["id"], httpMethod="GET")
    assert root_get["type"] == "MOCK"
    pets_get = apigw.get_integration(restApiId=api_id, resourceId=resources["/pets"]["id"], httpMethod="GET")
    assert pets_get["type"] == "HTTP"
    assert pets_get["uri"] == "http://petstore-demo-endpoint.execute-api.com/petstore/pets"
    assert pets_get["requestParameters"] == {
        "integration.request.querystring.page": "method.request.querystring.page",
        "integration.request.querystring.type": "method.request.querystring.type",
    }
    models = {m["name"] for m in apigw.get_models(restApiId=api_id)["items"]}
    assert models == {"Pets", "Pet", "NewPet", "NewPetResponse", "PetType", "Empty"}


def test_import_example_reuses_by_name_in_text_mode(petgate: Any) -> None:
    first = petgate("-o", "json", "import-example", "--name", "PetStoreReuse", "--new")
    again = petgate("import-example", "--name", "PetStoreReuse")
    assert again.exit_code == 0
    assert again.stdout.strip() == first.json["api_id"]  # text mode: the id alone on stdout
    assert "Reusing API" in again.stderr


def test_deploy_prints_the_local_invoke_url(petgate: Any, api_id: str, apigw: Any, local_url: str) -> None:
    text = petgate("deploy", "--api", api_id)
    assert text.exit_code == 0, text.stderr
    assert text.stdout.strip() == f"{local_url}/restapis/{api_id}/test/_user_request_"
    result = petgate("-o", "json", "deploy", "--api", api_id, "--stage", "dev")
    data = result.json
    assert data["api_id"] == api_id and data["stage"] == "dev"
    assert apigw.get_stage(restApiId=api_id, stageName="dev")["deploymentId"] == data["deployment_id"]


def test_block_my_ip_uses_checkip_and_redeploys(petgate: Any, api_id: str, apigw: Any) -> None:
    petgate("deploy", "--api", api_id)
    result = petgate("-o", "json", "block-my-ip", "--api", api_id)
    assert result.exit_code == 0, result.stderr
    data = result.json
    assert data["added"] == ["127.0.0.1/32"]  # what the local checkip saw
    assert data["deployed"] is True
    assert apigw.get_stage(restApiId=api_id, stageName="test")["deploymentId"] == data["deployment_id"]
    policy = stored_policy(apigw, api_id)
    assert policies.blocked_cidrs(policy) == ["127.0.0.1/32"]
    deny = policy["Statement"][0]
    assert deny["Resource"] == f"arn:aws:execute-api:us-east-1:123456789012:{api_id}/*"  # a one-item list, normalised as AWS does


def test_block_merges_into_the_users_policy_and_is_idempotent(petgate: Any, api_id: str, apigw: Any) -> None:
    user = {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Colleague", "Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke",
             "Resource": "execute-api:/*"}
        ],
    }
    import json

    apigw.update_rest_api(restApiId=api_id, patchOperations=[{"op": "replace", "path": "/policy", "value": json.dumps(user)}])
    first = petgate("-o", "json", "block-my-ip", "--api", api_id, "--cidr", "192.0.2.0/24", "--no-deploy")
    assert first.exit_code == 0 and first.json["changed"] is True and first.json["deployed"] is False
    second = petgate("-o", "json", "block-my-ip", "--api", api_id, "--cidr", "192.0.2.0/24", "--no-deploy")
    assert second.json["changed"] is False and second.json["added"] == []
    policy = stored_policy(apigw, api_id)
    assert [s["Sid"] for s in policy["Statement"]] == [policies.DENY_SID, "Colleague"]
    unblock = petgate("-o", "json", "unblock", "--api", api_id, "--cidr", "192.0.2.0/24", "--no-deploy")
    assert unblock.json["removed"] == ["192.0.2.0/24"]
    assert [s["Sid"] for s in stored_policy(apigw, api_id)["Statement"]] == ["Colleague"]


def test_block_normalises_host_bits_and_says_so(petgate: Any, api_id: str, apigw: Any) -> None:
    result = petgate("block-my-ip", "--api", api_id, "--cidr", "192.0.2.77/24", "--cidr", "2001:db8::1", "--no-deploy")
    assert result.exit_code == 0
    assert "192.0.2.77/24 has host bits set; using 192.0.2.0/24" in result.stderr
    assert policies.blocked_cidrs(stored_policy(apigw, api_id)) == ["192.0.2.0/24", "2001:db8::1/128"]


def test_dry_run_changes_nothing(petgate: Any, api_id: str, apigw: Any) -> None:
    result = petgate("-o", "json", "block-my-ip", "--api", api_id, "--cidr", "192.0.2.1", "--dry-run")
    assert result.exit_code == 0 and result.json["dry_run"] is True
    assert policies.blocked_cidrs(result.json["policy"]) == ["192.0.2.1/32"]
    assert stored_policy(apigw, api_id) is None
    assert apigw.get_deployments(restApiId=api_id)["items"] == []


def test_unblock_removes_the_callers_ip_and_then_the_policy(petgate: Any, api_id: str, apigw: Any) -> None:
    petgate("block-my-ip", "--api", api_id, "--no-deploy")
    result = petgate("-o", "json", "unblock", "--api", api_id)
    assert result.exit_code == 0, result.stderr
    assert result.json["removed"] == ["127.0.0.1/32"] and result.json["policy"] is None
    assert stored_policy(apigw, api_id) is None
    text = petgate("unblock", "--api", api_id, "--no-deploy")
    assert text.exit_code == 0 and "Not blocked: 127.0.0.1/32" in text.stderr


def test_unblock_all_removes_the_whole_policy(petgate: Any, api_id: str, apigw: Any) -> None:
    petgate("block-my-ip", "--api", api_id, "--cidr", "192.0.2.0/24", "--no-deploy")
    result = petgate("unblock", "--api", api_id, "--all")
    assert result.exit_code == 0
    assert "Removed the whole resource policy." in result.stderr
    assert stored_policy(apigw, api_id) is None


def test_set_403_template_default_and_custom(petgate: Any, api_id: str, apigw: Any, tmp_path: Any) -> None:
    petgate("deploy", "--api", api_id)
    result = petgate("-o", "json", "set-403-template", "--api", api_id)
    assert result.exit_code == 0, result.stderr
    assert result.json["previous"]["defaultResponse"] is True
    stored = apigw.get_gateway_response(restApiId=api_id, responseType="ACCESS_DENIED")
    assert stored["statusCode"] == "403"
    assert stored["responseTemplates"] == {"application/json": '{"message":"Access denied"}'}
    template = tmp_path / "t.vtl"
    template.write_text('{"error":"no","request":"$context.requestId"}', encoding="utf-8")
    custom = petgate("set-403-template", "--api", api_id, "--template-file", str(template), "--content-type", "application/xml")
    assert custom.exit_code == 0
    stored = apigw.get_gateway_response(restApiId=api_id, responseType="ACCESS_DENIED")
    # the JSON template written before is kept beside the new content type
    assert stored["responseTemplates"] == {
        "application/json": '{"message":"Access denied"}',
        "application/xml": '{"error":"no","request":"$context.requestId"}',
    }


@pytest.mark.parametrize("output", ["text", "json"])
def test_status_lists_the_api(petgate: Any, api_id: str, output: str) -> None:
    petgate("deploy", "--api", api_id)
    petgate("block-my-ip", "--api", api_id, "--cidr", "192.0.2.0/24", "--no-deploy")
    result = petgate("-o", output, "status", "--api", api_id)
    assert result.exit_code == 0, result.stderr
    if output == "json":
        data = result.json
        assert data["api_id"] == api_id
        assert data["policy_changed_since_deploy"] is True
        assert data["stages"][0]["stage"] == "test"
        assert data["policy_in_words"][0].startswith("denies everyone from 192.0.2.0/24")
    else:
        assert "not deployed yet" in result.stderr


# --- IPv4-mapped IPv6 input (issue 16) -------------------------------------------------------


def test_an_ipv4_mapped_address_is_blocked_as_its_ipv4_address(petgate: Any, api_id: str, apigw: Any,
                                                               local_url: str) -> None:
    from tests.e2e.test_dataplane import client_from, invoke

    assert petgate("deploy", "--api", api_id).exit_code == 0
    url = invoke(local_url, api_id)
    assert client_from("127.0.0.61").get(url).status_code == 200
    blocked = petgate("-o", "json", "block-my-ip", "--api", api_id, "--cidr", "::ffff:127.0.0.61")
    assert blocked.exit_code == 0, blocked.stderr
    assert blocked.json["added"] == ["127.0.0.61/32"] and blocked.json["blocked"] == ["127.0.0.61/32"]
    assert policies.blocked_cidrs(stored_policy(apigw, api_id)) == ["127.0.0.61/32"]
    assert client_from("127.0.0.61").get(url).status_code == 403, "the data plane denies the IPv4 caller"
    assert client_from("127.0.0.62").get(url).status_code == 200
    for ip in ("127.0.0.61", "::ffff:127.0.0.61", "::ffff:7f00:3d"):
        checked = petgate("-o", "json", "policy", "check", "--api", api_id, "--ip", ip)
        assert checked.exit_code == 0 and checked.json["allowed"] is False, (ip, checked.stdout)
        assert checked.json["statement_sid"] == policies.DENY_SID
    again = petgate("-o", "json", "block-my-ip", "--api", api_id, "--cidr", "127.0.0.61", "--no-deploy")
    assert again.json["added"] == [] and again.json["changed"] is False, "the same address, however written"
    lifted = petgate("-o", "json", "unblock", "--api", api_id, "--cidr", "::ffff:127.0.0.61")
    assert lifted.exit_code == 0, lifted.stderr
    assert lifted.json["removed"] == ["127.0.0.61/32"] and stored_policy(apigw, api_id) is None
    assert client_from("127.0.0.61").get(url).status_code == 200
    assert petgate("-o", "json", "policy", "check", "--api", api_id, "--ip", "::ffff:127.0.0.61").json["allowed"] is True


def test_a_mapped_network_and_a_mapped_line_of_a_file(petgate: Any, api_id: str, apigw: Any, tmp_path: Any) -> None:
    listed = tmp_path / "mapped.txt"
    listed.write_text("::ffff:198.51.100.7\n::ffff:192.0.2.0/120\n")
    result = petgate("-o", "json", "block-my-ip", "--api", api_id, "--file", str(listed), "--cidr", "::ffff:203.0.113.0/120",
                     "--no-deploy")
    assert result.exit_code == 0, result.stderr
    assert sorted(result.json["added"]) == ["192.0.2.0/24", "198.51.100.7/32", "203.0.113.0/24"]
    assert policies.blocked_cidrs(stored_policy(apigw, api_id)) == ["192.0.2.0/24", "198.51.100.7/32", "203.0.113.0/24"]


def test_a_mapped_prefix_shorter_than_96_is_refused(petgate: Any, api_id: str, apigw: Any, tmp_path: Any) -> None:
    from tests.test_errors import assert_one_clear_line

    refused = petgate("block-my-ip", "--api", api_id, "--cidr", "::ffff:127.0.0.0/80")
    assert_one_clear_line(refused, 2, "::ffff:127.0.0.0/80 is an IPv4-mapped address (127.0.0.0) with a prefix shorter than /96")
    listed = tmp_path / "short.txt"
    listed.write_text("192.0.2.1\n::ffff:127.0.0.0/80\n")
    assert_one_clear_line(petgate("block-my-ip", "--api", api_id, "--file", str(listed)), 2,
                          f"{listed}, line 2: ::ffff:127.0.0.0/80 is an IPv4-mapped address")
    assert stored_policy(apigw, api_id) is None
