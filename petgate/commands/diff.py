"""petgate diff: a committed policy file against what the API stores or the stage serves."""

from __future__ import annotations

import json
from typing import Any

import click

from petgate import policy as policies
from petgate.app import App
from petgate.commands.common import api_options, pass_app
from petgate.errors import ExpectationNotMetError
from petgate.ops import policy_diff
from petgate.output import Output

_WHAT = {"stored": "the API's stored policy", "deployed": "the policy the stage serves"}


@click.command()
@api_options
@click.option("--file", "file", required=True, metavar="PATH", help="The policy JSON file (committed, say); - reads stdin.")
@click.option("--deployed", is_flag=True, help="Compare with what the stage serves (its export), not the stored policy.")
@pass_app
def diff(app: App, api_ref: str, stage: str, file: str, deployed: bool) -> None:
    """Compare a policy file with the API's policy, ignoring what AWS rewrites on save.

    `execute-api:/...` expanded to the API's ARN, one-item lists, the stored form's escaping,
    statement and value order, Version, and `Principal: "*"` against `{"AWS": "*"}` are not
    differences. Exit 0: the same; 1: they differ (each statement only in the file, only in
    AWS, or changed by Sid and field); 2: the file is not JSON or not a policy. Read-only.

    \b
    Examples:
      petgate diff --file policy.json
      petgate diff --file policy.json --deployed -o json
    """
    data = policy_diff.diff(app, api_ref, stage, file, deployed)
    app.output.result(data, _render)
    if not data.same:
        raise ExpectationNotMetError(f"{file} and {_WHAT[data.source]} of API {data.api_id} differ")


def _render(out: Output, data: policy_diff.Diffed) -> None:
    what = _WHAT[data.source]
    if data.same:
        out.success(f"{data.file} and {what} of API {data.api_id} are the same (after AWS's rewrites)")
        return
    out.data(f"{data.file} against {what} of API {data.api_id}:")
    # statements on both sides that no Sid pairs: the words leave out Action and Resource, so
    # those are shown too, or two lines could read the same while the statements differ
    scoped = bool(data.only_in_file) and bool(data.only_in_aws)
    for statement in data.only_in_file:
        out.data(f"  only in the file: {_label(statement)}{_scope(statement) if scoped else ''}")
    for statement in data.only_in_aws:
        out.data(f"  only in AWS:      {_label(statement)}{_scope(statement) if scoped else ''}")
    for sid, fields in data.changed.items():
        out.data(f"  changed {sid}: {', '.join(fields)}")
        for name, sides in fields.items():
            out.data(f"    {name}: file {_shown(sides['file'])}, AWS {_shown(sides['aws'])}")


def _label(statement: policies.Statement) -> str:
    words = policies.describe({"Statement": [statement]})  # a Sid is named in brackets
    return words[0] if words else json.dumps(statement)


def _scope(statement: policies.Statement) -> str:
    fields = ("Action", "NotAction", "Resource", "NotResource")
    return "; " + ", ".join(f"{name} {json.dumps(statement[name])}" for name in fields if name in statement)


def _shown(value: Any) -> str:
    return "(none)" if value is None else json.dumps(value)
