"""`petgate diff`: a committed policy file against what the API stores (GetRestApi) or, with
`deployed`, what its stage serves (GetExport), after undoing what AWS rewrites on save
(`policy/normalise.py`). Read-only: no lease, no write."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Any

from petgate import policy as policies
from petgate.errors import AwsError, UsageError
from petgate.gateway import exported_policy
from petgate.ops import apis
from petgate.ops.policy_view import FALLBACK_REGION
from petgate.ops.results import Result
from petgate.ops.services import Services
from petgate.policy import normalise


@dataclass(frozen=True, kw_only=True)
class Diffed(Result):
    """`diff`: the file's policy against AWS's (`source` "stored" or "deployed"), normalised.
    `only_in_file` / `only_in_aws`: the statements (normalised) one side has and the other has
    not; `changed`: by Sid, each field that differs ({"file": ..., "aws": ...}); `same` when all
    three are empty."""

    api_id: str
    stage: str
    source: str
    same: bool
    only_in_file: list[policies.Statement]
    only_in_aws: list[policies.Statement]
    changed: dict[str, dict[str, dict[str, Any]]]
    file: str


def diff(app: Services, api_ref: str, stage: str, file: str, deployed: bool = False) -> Diffed:
    """Compare the policy file with the API's policy: one GetRestApi (and GetExport when
    `deployed`). A file that is not JSON or not a policy is a UsageError before any call."""
    document = read_file(file)
    if deployed:
        api = apis.resolve_api(app.gateway, api_ref)
        try:
            exported = app.gateway.get_stage_export(api.id, stage)
        except AwsError as exc:
            raise UsageError(f"stage {stage!r} of API {api.id} cannot be read ({exc.message})",
                             "run `petgate deploy` first") from None
        theirs = exported_policy(exported)
    else:
        api, doc = apis.read_api(app.gateway, api_ref)
        theirs = app.gateway.get_policy(api.id, doc)
    region = app.target.region_or_none() or FALLBACK_REGION
    api_arn = policies.api_arn(region, policies.account_in(theirs, api.id), api.id)
    found = normalise.compare(document, theirs, api_arn)
    return Diffed(api_id=api.id, stage=stage, source="deployed" if deployed else "stored", same=found.same,
                  only_in_file=found.only_in_file, only_in_aws=found.only_in_aws, changed=found.changed, file=file)


def read_file(file: str) -> policies.Policy:
    """The policy file, parsed and checked; one clear line (UsageError, exit 2) if it is not
    readable, not JSON, or not a resource policy API Gateway would take."""
    try:
        if file == "-":  # stdin, as sync's --file - reads it
            if sys.stdin is None or sys.stdin.closed:
                raise UsageError("--file - reads stdin, and stdin is closed", "pipe the policy in, or give a file")
            text = sys.stdin.read().removeprefix("\ufeff")
        else:
            with open(file, encoding="utf-8-sig") as handle:
                text = handle.read()
    except OSError as exc:
        raise UsageError(f"cannot read policy file {file}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise UsageError(f"policy file {file} is not UTF-8 text") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"policy file {file} is not JSON ({exc.msg}, line {exc.lineno} column {exc.colno})") from None
    try:
        policies.validate(document)
    except policies.PolicyError as exc:
        raise UsageError(f"policy file {file} is not a resource policy: {exc}") from None
    return document  # type: ignore[no-any-return]
