"""`petgate diff` against the session's `petgate local`: a committed policy file in its short form
against what the API stores (and, with --deployed, what the stage serves)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CIDR = "192.0.2.1"
ADDED = "203.0.113.0/24"


def short_form(cidrs: list[str]) -> dict[str, Any]:
    """What block-my-ip --cidr writes, as a person commits it: execute-api:/*, lists, Version."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "PetgateAllowInvoke", "Effect": "Allow", "Principal": {"AWS": ["*"]},
             "Action": ["execute-api:Invoke"], "Resource": ["execute-api:/*"]},
            {"Sid": "PetgateDenyIps", "Effect": "Deny", "Principal": "*", "Action": ["execute-api:Invoke"],
             "Resource": ["execute-api:/*"], "Condition": {"IpAddress": {"aws:SourceIp": cidrs}}},
        ],
    }


def write(path: Path, policy: Any) -> str:
    path.write_text(json.dumps(policy, indent=2) if not isinstance(policy, str) else policy, encoding="utf-8")
    return str(path)


def test_the_short_form_is_the_same_and_an_added_cidr_differs(petgate: Any, api_id: str, tmp_path: Path) -> None:
    assert petgate("block-my-ip", "--api", api_id, "--cidr", CIDR, "--no-deploy").exit_code == 0
    same = write(tmp_path / "policy.json", short_form([f"{CIDR}/32"]))
    result = petgate("-o", "json", "diff", "--api", api_id, "--file", same)
    assert result.exit_code == 0, result.stderr
    assert result.json == {"api_id": api_id, "stage": "test", "source": "stored", "same": True, "only_in_file": [],
                           "only_in_aws": [], "changed": {}, "file": same}
    text = petgate("diff", "--api", api_id, "--file", same)
    assert text.exit_code == 0 and "are the same" in text.stderr

    more = write(tmp_path / "more.json", short_form([f"{CIDR}/32", ADDED]))
    result = petgate("-o", "json", "diff", "--api", api_id, "--file", more)
    assert result.exit_code == 1 and result.json["same"] is False
    assert list(result.json["changed"]) == ["PetgateDenyIps"]
    condition = result.json["changed"]["PetgateDenyIps"]["Condition"]
    assert condition["file"]["IpAddress"]["aws:SourceIp"] == [f"{CIDR}/32", ADDED]
    assert condition["aws"]["IpAddress"]["aws:SourceIp"] == [f"{CIDR}/32"]
    text = petgate("diff", "--api", api_id, "--file", more)
    assert text.exit_code == 1
    assert "changed PetgateDenyIps: Condition" in text.stdout and ADDED in text.stdout
    assert "differ" in text.stderr


def test_deployed_before_and_after_deploy(petgate: Any, api_id: str, tmp_path: Path) -> None:
    assert petgate("deploy", "--api", api_id).exit_code == 0  # serves no policy yet
    assert petgate("block-my-ip", "--api", api_id, "--cidr", CIDR, "--no-deploy").exit_code == 0
    file = write(tmp_path / "policy.json", short_form([f"{CIDR}/32"]))
    assert petgate("diff", "--api", api_id, "--file", file).exit_code == 0, "the stored policy is the file's"
    before = petgate("-o", "json", "diff", "--api", api_id, "--file", file, "--deployed")
    assert before.exit_code == 1 and before.json["source"] == "deployed"
    assert len(before.json["only_in_file"]) == 2 and before.json["only_in_aws"] == []
    assert "only in the file" in petgate("diff", "--api", api_id, "--file", file, "--deployed").stdout
    assert petgate("deploy", "--api", api_id).exit_code == 0
    after = petgate("-o", "json", "diff", "--api", api_id, "--file", file, "--deployed")
    assert after.exit_code == 0 and after.json["same"] is True


def test_a_bad_file_is_exit_2_with_one_line(petgate: Any, api_id: str, tmp_path: Path) -> None:
    for name, content, says in (
        ("broken.json", "{not json", "is not JSON"),
        ("list.json", "[]", "is not a resource policy: a policy must be a JSON object"),
        ("noprincipal.json", json.dumps({"Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke",
                                                        "Resource": "execute-api:/*"}]}), "needs a Principal"),
    ):
        result = petgate("diff", "--api", api_id, "--file", write(tmp_path / name, content))
        assert result.exit_code == 2, (name, result.stderr)
        assert result.stderr.count("\n") == 1 and says in result.stderr, result.stderr
    missing = petgate("-o", "json", "diff", "--api", api_id, "--file", str(tmp_path / "absent.json"))
    assert missing.exit_code == 2 and missing.json["error"]["code"] == "UsageError"


def test_the_file_can_come_on_stdin(petgate: Any, api_id: str, monkeypatch: Any) -> None:
    import io

    assert petgate("block-my-ip", "--api", api_id, "--cidr", CIDR, "--no-deploy").exit_code == 0
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(short_form([f"{CIDR}/32"]))))
    result = petgate("-o", "json", "diff", "--api", api_id, "--file", "-")
    assert result.exit_code == 0 and result.json["same"] is True, result.stderr


def test_statements_that_differ_in_resource_only_say_so_in_text(petgate: Any, api_id: str, tmp_path: Path) -> None:
    assert petgate("block-my-ip", "--api", api_id, "--cidr", CIDR, "--no-deploy").exit_code == 0
    other = short_form([f"{CIDR}/32"])
    del other["Statement"][0]["Sid"]  # no Sid pairs it with the API's statement
    other["Statement"][0]["Resource"] = ["execute-api:/*/GET/*"]
    result = petgate("diff", "--api", api_id, "--file", write(tmp_path / "get.json", other))
    assert result.exit_code == 1
    assert 'only in the file: ' in result.stdout and '/GET/*' in result.stdout, result.stdout
    assert 'only in AWS:' in result.stdout and 'Resource' in result.stdout
