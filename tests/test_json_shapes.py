"""Every command's JSON, key by key and type by type, is what scripts were promised.

The shapes (keys, and each value's JSON type, recursively) of a scenario that runs every
command through its main paths are kept in tests/golden/json_shapes.json. A key that appears,
disappears or changes type fails this test. After a deliberate change to the contract, and
only then: PETGATE_UPDATE_GOLDEN=1 pytest tests/test_json_shapes.py (and say so in the README).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

STAMP = re.compile(r"\d{8}T\d{6}Z")
GOLDEN = Path(__file__).parent / "golden" / "json_shapes.json"


def shape(value: Any, names: dict[str, str]) -> Any:
    """The JSON type of a value; for objects, each key's; for arrays, the shapes their items take.
    Keys that hold a name of this run (a WAF list's IP sets) have it replaced by `names`."""
    if isinstance(value, dict):
        return {_named(key, names): shape(item, names) for key, item in sorted(value.items())}
    if isinstance(value, list):
        shapes: list[Any] = []
        for item in value:
            if shape(item, names) not in shapes:
                shapes.append(shape(item, names))
        return {"[]": shapes}
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return "string"


def _named(key: str, names: dict[str, str]) -> str:
    for name, placeholder in names.items():
        key = key.replace(name, placeholder)
    return STAMP.sub("STAMP", key)  # an IP set of blocks that end is named by its end time


def scenario(petgate: Any, api_id: str, waf_list: str, tmp_path: Path) -> dict[str, tuple[int, Any]]:
    """(exit code, JSON) of each named step, in an order that reaches each path."""
    steps: dict[str, tuple[int, Any]] = {}

    def run(name: str, *args: str) -> None:
        result = petgate("-o", "json", *args)
        assert name not in steps
        assert result.stdout.strip(), (name, result.exit_code, result.stderr)
        steps[name] = (result.exit_code, json.loads(result.stdout))

    api = ("--api", api_id)
    listed = tmp_path / "list.txt"
    listed.write_text("192.0.2.10\n192.0.2.11\n198.51.100.0/24\n")
    run("import-example reused", "import-example", "--name", petgate("-o", "json", "status", *api).json["api_name"])
    run("history empty", "history", "--api", "nonexistent")
    run("undo nothing", "undo")
    run("status undeployed", "status", *api)
    run("verify no stage", "verify", *api, "--timeout", "1")
    run("deploy", "deploy", *api)
    run("deploy several", "deploy", *api, "--api", api_id + "-other")
    run("block dry run", "block-my-ip", *api, "--cidr", "192.0.2.1", "--dry-run")
    run("block", "block-my-ip", *api, "--cidr", "192.0.2.1")
    run("block again", "block-my-ip", *api, "--cidr", "192.0.2.1")
    run("block for", "block-my-ip", *api, "--cidr", "203.0.113.5", "--for", "1h", "--no-deploy")
    run("block several", "block-my-ip", *api, "--api", api_id, "--cidr", "192.0.2.2")
    run("policy show", "policy", "show", *api)
    run("policy check denied", "policy", "check", *api, "--ip", "192.0.2.1")
    run("policy check allowed", "policy", "check", *api, "--ip", "198.51.100.7")
    run("verify allowed", "verify", *api, "--timeout", "5")
    run("status blocked", "status", *api)
    run("prune dry run", "prune", *api, "--now", "2099-01-01T00:00:00Z", "--dry-run")
    run("prune", "prune", *api, "--now", "2099-01-01T00:00:00Z")
    run("prune nothing", "prune", *api)
    run("sync dry run", "sync", *api, "--file", str(listed), "--dry-run", "--force")
    run("sync", "sync", *api, "--file", str(listed), "--force")
    run("sync unchanged", "sync", *api, "--file", str(listed))
    other = tmp_path / "other.txt"
    other.write_text("203.0.113.0/24\n")
    run("sync gate", "sync", *api, "--file", str(other))
    run("unblock", "unblock", *api, "--cidr", "192.0.2.10")
    run("unblock not blocked", "unblock", *api, "--cidr", "192.0.2.1")
    run("set-403-template dry run", "set-403-template", *api, "--dry-run")
    run("set-403-template", "set-403-template", *api)
    run("set-403-template again", "set-403-template", *api)
    run("unblock all", "unblock", *api, "--all")
    run("unblock all again", "unblock", *api, "--all", "--no-deploy")
    run("allow-only", "allow-only", *api, "--cidr", "198.51.100.0/24", "--my-ip")
    run("allow-only remove", "allow-only", *api, "--cidr", "198.51.100.0/24", "--remove", "--dry-run")
    run("allow-accounts refused", "allow-accounts", *api, "123456789012")
    run("require-iam dry run", "require-iam", *api, "--dry-run")
    run("require-iam", "require-iam", *api)
    run("require-iam again", "require-iam", *api)
    run("allow-accounts", "allow-accounts", *api, "123456789012")
    run("allow-principals", "allow-principals", *api, "arn:aws:iam::123456789012:user/alice", "--no-deploy")
    run("allow-vpc", "allow-vpc", *api, "--vpce", "vpce-0123456789abcdef0", "--force", "--no-deploy")
    run("history", "history", "-n", "3")
    run("undo dry run", "undo", "--dry-run")
    run("undo", "undo")
    run("waf block", "waf", "block", "--list", waf_list, "--cidr", "192.0.2.77")
    run("waf block for", "waf", "block", "--list", waf_list, "--cidr", "192.0.2.78", "--for", "1h")
    run("waf block again", "waf", "block", "--list", waf_list, "--cidr", "192.0.2.77")
    run("waf unblock", "waf", "unblock", "--list", waf_list, "--cidr", "192.0.2.77")
    run("waf sync dry run", "waf", "sync", "--list", waf_list, "--file", str(listed), "--force", "--dry-run")
    run("waf sync", "waf", "sync", "--list", waf_list, "--file", str(listed), "--force")
    run("waf attach", "waf", "attach", "--list", waf_list, *api)
    run("waf show", "waf", "show", "--list", waf_list)
    run("waf prune", "waf", "prune", "--list", waf_list, "--now", "2099-01-01T00:00:00Z")
    run("block for migrate", "block-my-ip", *api, "--cidr", "192.0.2.99")
    run("waf migrate", "waf", "migrate", "--list", waf_list, *api)
    run("waf detach", "waf", "detach", "--list", waf_list, *api)
    run("undo waf detach", "undo")
    run("waf delete", "waf", "delete", "--list", waf_list)
    run("require-iam off", "require-iam", *api, "--off")
    run("undo require-iam off", "undo")
    run("import-example private", "import-example", "--name", f"Private-{api_id}", "--endpoint-type", "PRIVATE",
        "--vpce", "vpce-0123456789abcdef0")
    run("status at the end", "status", *api)
    committed = tmp_path / "policy.json"
    committed.write_text(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*"}]}))
    run("diff", "diff", *api, "--file", str(committed))
    run("diff deployed", "diff", *api, "--file", str(committed), "--deployed")
    run("explain", "explain", *api, "--path", "/pets")
    run("explain live", "explain", *api, "--path", "/pets", "--ip", "127.0.0.1", "--live")
    run("explain no stage", "explain", *api, "--stage", "nosuch", "--path", "/pets")
    run("walkthrough", "walkthrough", "--name", f"Walk-{api_id}", "--new", "--cleanup")
    run("walkthrough accounts", "walkthrough", "--accounts", "--name", f"Accounts-{api_id}", "--new", "--cleanup")
    return steps


def test_every_command_answers_in_the_json_shape_on_record(
    petgate: Any, api_id: str, waf_list: str, tmp_path: Path
) -> None:
    names = {waf_list: "LIST", api_id: "API"}
    shapes = {name: {"exit_code": code, "json": shape(data, names)}
              for name, (code, data) in scenario(petgate, api_id, waf_list, tmp_path).items()}
    if os.environ.get("PETGATE_UPDATE_GOLDEN") == "1":
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(shapes, indent=1, sort_keys=True) + "\n")
    recorded = json.loads(GOLDEN.read_text())
    assert sorted(shapes) == sorted(recorded)
    for name in recorded:
        assert shapes[name] == recorded[name], f"{name}: the JSON shape changed"
