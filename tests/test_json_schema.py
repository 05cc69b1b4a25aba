"""The JSON keys each command documents (README, "JSON keys") stay present: scripts rely on them."""

from __future__ import annotations

from typing import Any

CHANGE = {"api_id", "api_name", "stage", "changed", "dry_run", "policy", "previous_policy", "journal_id",
          "deployed", "deployment_id", "invoke_url", "quota_waits", "quota_wait_s"}
SCHEMA: dict[str, set[str]] = {
    "import-example": {"api_id", "api_name", "created"},
    "deploy": {"api_id", "stage", "deployed", "deployment_id", "invoke_url", "quota_waits", "quota_wait_s"},
    "block-my-ip": CHANGE | {"cidrs", "added", "blocked", "until", "expiring"},
    "unblock": CHANGE | {"cidrs", "removed", "all"},
    "set-403-template": {"api_id", "api_name", "stage", "response_type", "status_code", "content_type", "template",
                         "previous", "dry_run", "journal_id", "deployed", "deployment_id", "invoke_url"},
    "verify": {"api_id", "stage", "url", "status", "outcome", "reason", "error_type", "expected", "ok", "attempts",
               "elapsed_s", "body", "leaks", "error", "signed", "signed_as"},
    "status": {"api_id", "api_name", "stage", "deployed", "invoke_url", "stages", "policy", "policy_in_words", "blocked",
               "expiring", "access_denied", "web_acl", "policy_changed_since_deploy", "access_denied_changed_since_deploy",
               "endpoint_types", "private", "methods"},
    "allow-only": CHANGE | {"values", "added", "list", "kind"},
    "require-iam": {"api_id", "api_name", "stage", "changed", "dry_run", "journal_id", "authorization_type", "changes",
                    "skipped", "methods", "deployed", "deployment_id", "invoke_url", "quota_waits", "quota_wait_s"},
    "allow-principals": CHANGE | {"values", "added", "list", "kind"},
    "history": {"journal", "entries"},
    "undo": {"api_id", "stage", "undoes", "kind", "dry_run", "previous", "restored", "journal_id", "deployed", "deployment_id", "invoke_url"},
    "policy show": {"api_id", "stage", "source", "policy", "policy_in_words", "expiring"},
    "policy check": {"api_id", "stage", "source", "ip", "method", "path", "resource_arn", "allowed", "reason",
                     "decision", "statement_index", "statement", "statement_sid", "principal", "auth", "table",
                     "decided_by", "identity_decision", "identity_source", "identity_policies", "statement_source",
                     "statement_policy"},
    "waf show": {"list", "web_acl_arn", "ip_sets", "addresses", "attached", "expiring"},
    "waf block": {"list", "added", "removed", "changed", "until", "ip_sets", "lock_retries"},
    "prune": CHANGE - {"journal_id", "deployed", "deployment_id", "invoke_url", "quota_waits", "quota_wait_s"}
    | {"now", "pruned", "expiring"},
    "waf prune": {"list", "now", "pruned", "changed", "dry_run", "ip_sets_deleted"},
    "several apis": {"apis", "ok"},
    "diff": {"api_id", "stage", "source", "same", "only_in_file", "only_in_aws", "changed", "file"},
    "audit": {"region", "regions", "fail_on", "failed", "apis", "findings", "counts", "http_apis"},
    "explain": {"api_id", "stage", "method", "path", "source_ip", "vpce", "principal", "signed", "layers", "outcome",
                "unknowns"},
}


def test_every_command_keeps_its_documented_keys(petgate: Any, api_id: str, tmp_path: Any) -> None:
    policy_file = tmp_path / "policy.json"
    policy_file.write_text('{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", '
                           '"Resource": "execute-api:/other/*"}]}', encoding="utf-8")
    runs = {
        "import-example": ["import-example", "--name", "SchemaTest", "--new"],
        "deploy": ["deploy", "--api", api_id],
        "block-my-ip": ["block-my-ip", "--api", api_id, "--cidr", "192.0.2.1"],
        "unblock": ["unblock", "--api", api_id, "--cidr", "192.0.2.1"],
        "set-403-template": ["set-403-template", "--api", api_id],
        "verify": ["verify", "--api", api_id, "--timeout", "5"],
        "status": ["status", "--api", api_id],
        "allow-only": ["allow-only", "--api", api_id, "--cidr", "198.51.100.0/24", "--my-ip"],
        "require-iam": ["require-iam", "--api", api_id],
        "allow-principals": ["allow-principals", "--api", api_id, "arn:aws:iam::111122223333:role/ci"],
        "history": ["history"],
        "undo": ["undo"],
        "policy show": ["policy", "show", "--api", api_id],
        "policy check": ["policy", "check", "--api", api_id, "--ip", "198.51.100.7"],
        "waf block": ["waf", "block", "--cidr", "192.0.2.77", "--list", "schema"],
        "waf show": ["waf", "show", "--list", "schema"],
        "prune": ["prune", "--api", api_id],
        "waf prune": ["waf", "prune", "--list", "schema"],
        "several apis": ["deploy", "--api", api_id, "--api", api_id + "-other"],
        "diff": ["diff", "--api", api_id, "--file", str(policy_file)],
        "audit": ["audit"],
        "explain": ["explain", "--api", api_id, "--path", "/pets"],
    }
    assert set(runs) == set(SCHEMA)
    for name, args in runs.items():
        result = petgate("-o", "json", *args)
        assert result.exit_code == {"several apis": 3, "diff": 1, "audit": 1}.get(name, 0), (name, result.stderr)
        missing = SCHEMA[name] - set(result.json)
        assert not missing, f"{name} lost documented keys {sorted(missing)}"
