"""Terraform as a client: the hashicorp/aws provider applies tests/terraform/main.tf (the
PetStore, a resource policy denying one loopback address, a custom ACCESS_DENIED response, a
deployment and stage, a WAF web ACL blocking another address, attached to the stage) against a
`petgate local` of its own, the data plane enforces it, a second plan changes nothing, and
destroy leaves nothing behind.

Nothing is downloaded: the provider comes from a filesystem mirror (/opt/tf-plugins, or
PETGATE_TEST_TERRAFORM_MIRROR), and the CLI configuration allows no other source. Without the
`terraform` CLI or the mirror the test skips and says which is missing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from petgate.target import Target
from tests.conftest import petgate_local

ROOT = Path(__file__).resolve().parents[2]
CONFIGURATION = ROOT / "tests" / "terraform" / "main.tf"
PETSTORE = ROOT / "petgate" / "example" / "petstore.json"
MIRROR = Path(os.environ.get("PETGATE_TEST_TERRAFORM_MIRROR") or "/opt/tf-plugins")
PROVIDER = MIRROR / "registry.terraform.io" / "hashicorp" / "aws"
ACCOUNT = "123456789012"
DENIED = "127.0.0.61"    # the resource policy denies it
BLOCKED = "127.0.0.62"   # the WAF IP set blocks it
ALLOWED = "127.0.0.63"   # neither
CLI_CONFIG = f"""
provider_installation {{
  filesystem_mirror {{
    path    = "{MIRROR}"
    include = ["registry.terraform.io/hashicorp/aws"]
  }}
  direct {{
    exclude = ["registry.terraform.io/*/*"]
  }}
}}
"""


def terraform_or_skip() -> str:
    terraform = shutil.which("terraform")
    if terraform is None:
        pytest.skip("terraform is not installed (no `terraform` on PATH): this test never downloads it")
    if not list(PROVIDER.glob("*/*/terraform-provider-aws_*")):
        pytest.skip(f"the hashicorp/aws provider is not in the filesystem mirror {MIRROR} "
                    f"(no {PROVIDER}/VERSION/OS_ARCH/terraform-provider-aws_*): this test never downloads it")
    return terraform


class Terraform:
    """`terraform` in a working directory of its own, with a CLI configuration that installs
    only from the mirror, and no AWS_* or TF_* variable of the machine's."""

    def __init__(self, executable: str, directory: Path, url: str) -> None:
        self.executable = executable
        self.directory = directory
        (directory / "cli.tfrc").write_text(CLI_CONFIG, encoding="utf-8")
        self.variables = {"endpoint": url, "denied_address": DENIED, "blocked_address": BLOCKED,
                          "petstore": str(PETSTORE)}
        self.env = {name: value for name, value in os.environ.items() if not name.startswith(("AWS_", "TF_"))}
        self.env.update({
            "HOME": str(directory),  # no ~/.aws, ~/.terraform.d of the machine's
            "TF_CLI_CONFIG_FILE": str(directory / "cli.tfrc"),
            "TF_DATA_DIR": str(directory / ".terraform"),
            "TF_IN_AUTOMATION": "1",
            "CHECKPOINT_DISABLE": "1",
        })

    def __call__(self, *args: str, timeout: float = 300, check: bool = True,
                 variables: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        command, *rest = args
        settings = {**self.variables, **(variables or {})}
        planning = command in ("apply", "plan", "destroy")
        completed = subprocess.run(
            [self.executable, command, "-no-color", *(["-input=false"] if planning or command == "init" else []),
             *(f"-var={name}={value}" for name, value in settings.items() if planning), *rest],
            cwd=self.directory, env=self.env, capture_output=True, text=True, timeout=timeout,
        )
        if check:
            assert completed.returncode == 0, f"terraform {' '.join(args)}:\n{completed.stderr[-4000:]}\n{completed.stdout[-4000:]}"
        return completed

    def outputs(self) -> dict[str, str]:
        shown = json.loads(self("output", "-json", timeout=60).stdout)
        return {name: value["value"] for name, value in shown.items()}


def stored_policy(apigateway: Any, api: str) -> Any:
    """The policy GetRestApi returns, escaped once more as AWS does (\\" and \\/), decoded."""
    return json.loads(apigateway.get_rest_api(restApiId=api)["policy"].replace('\\"', '"').replace("\\/", "/"))


def client_from(address: str) -> requests.Session:
    return Target(local=True, source_address=address).http_session()


def test_terraform_applies_the_petstore_with_a_policy_and_waf_plans_nothing_and_destroys(tmp_path: Path) -> None:
    executable = terraform_or_skip()
    (tmp_path / "config").mkdir()
    shutil.copy(CONFIGURATION, tmp_path / "config" / "main.tf")
    with petgate_local() as url:
        def client(service: str) -> Any:
            return boto3.client(service, endpoint_url=url, region_name="us-east-1",  # type: ignore[call-overload]
                                aws_access_key_id="test", aws_secret_access_key="test")

        apigateway, wafv2 = client("apigateway"), client("wafv2")
        terraform = Terraform(executable, tmp_path / "config", url)
        terraform("init", timeout=120)
        terraform("apply", "-auto-approve")
        out = terraform.outputs()
        api = out["rest_api_id"]
        # the provider asked STS for the account (petgate local answers GetCallerIdentity)
        assert out["execution_arn"] == f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{api}"
        assert out["stage_arn"] == f"arn:aws:apigateway:us-east-1::/restapis/{api}/stages/test"

        # what the control planes hold
        stored = apigateway.get_rest_api(restApiId=api)
        assert stored["name"] == "petstore-terraform" and stored["endpointConfiguration"]["types"] == ["REGIONAL"]
        assert {r["path"] for r in apigateway.get_resources(restApiId=api)["items"]} == {"/", "/pets", "/pets/{petId}"}
        assert '\\"' in stored["policy"]  # escaped once more, as AWS stores it
        assert [s["Resource"] for s in stored_policy(apigateway, api)["Statement"]] == [f"{out['execution_arn']}/*"] * 2
        response = apigateway.get_gateway_response(restApiId=api, responseType="ACCESS_DENIED")
        assert response["statusCode"] == "403" and response["defaultResponse"] is False
        stage = apigateway.get_stage(restApiId=api, stageName="test")
        assert stage["webAclArn"] == out["web_acl_arn"]
        attached = wafv2.get_web_acl_for_resource(ResourceArn=out["stage_arn"])["WebACL"]
        assert attached["ARN"] == out["web_acl_arn"] and attached["Rules"][0]["Action"] == {"Block": {}}

        # the data plane enforces it: the policy's deny with the custom body, WAF's 403, and a 200
        pets = f"{url}/restapis/{api}/test/_user_request_/pets"
        denied = client_from(DENIED).get(pets, timeout=30)
        assert denied.status_code == 403 and denied.json() == {"message": f"terraform says no to {DENIED}"}
        assert denied.headers["x-amzn-ErrorType"] == "AccessDeniedException"
        blocked = client_from(BLOCKED).get(pets, timeout=30)
        assert blocked.status_code == 403 and blocked.json() == {"message": "Forbidden"}
        assert blocked.headers["x-amzn-ErrorType"] == "ForbiddenException"
        allowed = client_from(ALLOWED).get(pets, timeout=30)
        assert allowed.status_code == 200 and [pet["type"] for pet in allowed.json()] == ["dog", "cat", "fish"]

        # planned again: nothing to change (the policy reads back escaped, \" and \/, and the
        # provider decodes it to the same document)
        again = terraform("plan", "-detailed-exitcode", check=False)
        assert again.returncode == 0, again.stderr[-4000:] + again.stdout[-4000:]
        assert "No changes." in again.stdout

        # the known rewrite: a policy written with execute-api:/* is stored expanded (as AWS
        # does), so every plan proposes writing the shorthand back, and nothing else
        shorthand = {"shorthand_policy": "true"}
        terraform("apply", "-auto-approve", variables=shorthand)
        assert [s["Resource"] for s in stored_policy(apigateway, api)["Statement"]] == [f"{out['execution_arn']}/*"] * 2
        assert client_from(ALLOWED).get(pets, timeout=30).status_code == 200
        planned = terraform("plan", "-detailed-exitcode", "-out=rewrite.plan", variables=shorthand, check=False)
        assert planned.returncode == 2, planned.stderr[-4000:] + planned.stdout[-4000:]
        changes = [c for c in json.loads(terraform("show", "-json", "rewrite.plan", timeout=120).stdout)["resource_changes"]
                   if c["change"]["actions"] != ["no-op"]]
        assert [(c["address"], c["change"]["actions"]) for c in changes] == [("aws_api_gateway_rest_api_policy.deny", ["update"])]
        before, after = (json.loads(changes[0]["change"][side]["policy"]) for side in ("before", "after"))
        assert [s["Resource"] for s in before["Statement"]] == [f"{out['execution_arn']}/*"] * 2
        assert [s["Resource"] for s in after["Statement"]] == ["execute-api:/*"] * 2
        for statement in (*before["Statement"], *after["Statement"]):
            statement.pop("Resource")
        assert before == after, "the Resource is the one difference"

        terraform("destroy", "-auto-approve", variables=shorthand)
        assert apigateway.get_rest_apis()["items"] == []
        assert wafv2.list_web_acls(Scope="REGIONAL")["WebACLs"] == []
        assert wafv2.list_ip_sets(Scope="REGIONAL")["IPSets"] == []
        assert json.loads((tmp_path / "config" / "terraform.tfstate").read_text())["resources"] == []
