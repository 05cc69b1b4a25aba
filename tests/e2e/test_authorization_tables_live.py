"""Issue 18's tests: every cell of Table A (caller and API in one account) and Table B (caller in
another account) of API Gateway's "How API Gateway resource policies affect authorization
workflow" (apigateway-authorization-flow), through a live `petgate local` with requests signed
by botocore's SigV4Auth, and four cells and an STS session signed by a second real client, the
AWS SDK for JavaScript v3's signer (@smithy/signature-v4, tests/js/sign_and_get.mjs), whose
answers must be botocore's.

Each cell is asserted three ways: the behaviour AWS's table writes (Allow / Explicit Deny /
Implicit Deny), the decision of the pure `petgate.policy.authorization.authorize` for the same
resource policy, identity policies and caller, and the live answer (200, or 403 ACCESS_DENIED
whose message names the caller and the side that refused, local/dataplane.py) agreeing with it.

One API (GET /pets, AWS_IAM, a MOCK integration answering the caller's ARN) serves every cell;
the cells are grouped by resource policy, so the stage is redeployed once per policy variant.
Six users hold the identity side (allow, deny, neither, in the API's account and in a second
one reached by AssumeRole), made once for the module. The resource policy names accounts by
their `:root` ARN, so every cell also shows an account principal matching a user of it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from requests.structures import CaseInsensitiveDict

from petgate import policy as p
from petgate.policy.authorization import Authorization, Caller, authorize
from tests.conftest import petgate_local
from tests.e2e.test_iam_methods import Keys, aws_client, signed

ACCOUNT = "123456789012"     # petgate local's default account: the API's (account A)
OTHER = "444455556666"       # account B: its keys come from AssumeRole of a role in it
STRANGER = "999988887777"    # an account no caller is in: a resource policy "silent" about ours
REGION = "us-east-1"
STAGE = "test"
JS_DIR = Path(__file__).resolve().parent.parent / "js"
JS_SIGNER = JS_DIR / "sign_and_get.mjs"

# AWS's tables as the developer guide writes them: (IAM policy, resource policy) -> behaviour
TABLE = {
    "A": {("allow", "allow"): "Allow", ("allow", "neither"): "Allow", ("allow", "deny"): "Explicit Deny",
          ("neither", "allow"): "Allow", ("neither", "neither"): "Implicit Deny", ("neither", "deny"): "Explicit Deny",
          ("deny", "allow"): "Explicit Deny", ("deny", "neither"): "Explicit Deny", ("deny", "deny"): "Explicit Deny"},
    "B": {("allow", "allow"): "Allow", ("allow", "neither"): "Implicit Deny", ("allow", "deny"): "Explicit Deny",
          ("neither", "allow"): "Implicit Deny", ("neither", "neither"): "Implicit Deny", ("neither", "deny"): "Explicit Deny",
          ("deny", "allow"): "Explicit Deny", ("deny", "neither"): "Explicit Deny", ("deny", "deny"): "Explicit Deny"},
}
# the ACCESS_DENIED message's ending for each refusal (petgate/local/dataplane.py, its sources cited there)
ENDINGS = {
    "explicit-deny": " with an explicit deny",
    "implicit-deny": "",
    "iam-explicit-deny": " with an explicit deny in an identity-based policy",
    "iam-implicit-deny": " because no identity-based policy allows the execute-api:Invoke action",
}
KINDS = ("allow", "deny", "neither")
# resource policy outermost: consecutive cells share a deployment
CELLS = [(resource, table, identity) for resource in KINDS for table in "AB" for identity in KINDS]
# no resource policy at all: "neither allow nor deny" as petgate reads it (policy/authorization.py)
NO_POLICY_CELLS = [("none", table, identity) for table in "AB" for identity in KINDS]


def statement(effect: str, principals: list[str], sid: str) -> p.Statement:
    return {"Sid": sid, "Effect": effect, "Principal": {"AWS": principals}, "Action": "execute-api:Invoke",
            "Resource": "execute-api:/*"}


def document(*statements: p.Statement) -> p.Policy:
    return {"Version": p.POLICY_VERSION, "Statement": list(statements)}


def root(account: str) -> str:
    return f"arn:aws:iam::{account}:root"


# the resource policy of each variant, about both callers' accounts at once (as in
# tests/test_policy_authorization.py: "neither" allows a stranger's account only)
RESOURCE_POLICIES: dict[str, p.Policy | None] = {
    "allow": document(statement("Allow", [root(ACCOUNT), root(OTHER)], "AllowOurAccounts")),
    "deny": document(statement("Allow", [root(STRANGER)], "AllowStranger"),
                     statement("Deny", [root(ACCOUNT), root(OTHER)], "DenyOurAccounts")),
    "neither": document(statement("Allow", [root(STRANGER)], "AllowStranger")),
    "none": None,
}


def identity_policies(kind: str, api_id: str) -> list[p.Policy]:
    """The caller's identity policies: allow Invoke on this API; allow everything but deny GET
    on it (the deny wins); or allow another API only (silent about this one)."""
    this_api = p.api_arn(REGION, ACCOUNT, api_id)
    invoke = {"Effect": "Allow", "Action": "execute-api:Invoke"}
    return {
        "allow": [document({"Sid": "IdentityAllow", **invoke, "Resource": f"{this_api}/*"})],
        "deny": [document({"Sid": "IdentityAll", **invoke, "Resource": "*"}),
                 document({"Sid": "IdentityDeny", "Effect": "Deny", "Action": "execute-api:Invoke",
                           "Resource": f"{this_api}/*/GET/*"})],
        "neither": [document({"Sid": "IdentityElsewhere", **invoke,
                              "Resource": p.api_arn(REGION, ACCOUNT, "otherapi00") + "/*"})],
    }[kind]


@dataclass
class Live:
    """The module's gateway, its API and callers, and the resource policy its stage serves."""

    url: str
    apigw: Any
    api_id: str
    users: dict[tuple[str, str], Keys]        # (table, identity kind) -> keys
    admin_b: Keys                             # account B's administrator (AssumeRole)
    serving: str | None = None
    deployments: list[str] = field(default_factory=list)

    @property
    def invoke_url(self) -> str:
        return f"{self.url}/restapis/{self.api_id}/{STAGE}/_user_request_/pets"

    @property
    def masked_arn(self) -> str:
        """The method's ARN as ACCESS_DENIED names it (the account masked)."""
        return f"arn:aws:execute-api:{REGION}:********{ACCOUNT[-4:]}:{self.api_id}/{STAGE}/GET/pets"

    def serve(self, variant: str, policy: p.Policy | None = None) -> p.Policy | None:
        """Set the resource policy of `variant` and redeploy, unless the stage serves it already."""
        chosen = RESOURCE_POLICIES[variant] if policy is None else policy
        if self.serving != variant:
            value = json.dumps(chosen) if chosen is not None else ""
            self.apigw.update_rest_api(restApiId=self.api_id,
                                       patchOperations=[{"op": "replace", "path": "/policy", "value": value}])
            self.apigw.create_deployment(restApiId=self.api_id, stageName=STAGE)
            self.serving = variant
            self.deployments.append(variant)
        return chosen

    def expected(self, policy: p.Policy | None, caller_arn: str, identities: list[p.Policy]) -> Authorization:
        """The pure module's decision for the same inputs as the gateway's."""
        request = p.Request(source_ip="127.0.0.1",
                            resource_arn=p.request_arn(REGION, ACCOUNT, self.api_id, STAGE, "GET", "/pets"),
                            caller=Caller(arn=caller_arn))
        return authorize(p.compile_policy(policy, p.api_arn(REGION, ACCOUNT, self.api_id)), request, ACCOUNT,
                         [p.compile_policy(one, identity=True) for one in identities])


def make_user(iam: Any, name: str, documents: list[p.Policy]) -> Keys:
    arn = iam.create_user(UserName=name)["User"]["Arn"]
    for index, one in enumerate(documents):
        iam.put_user_policy(UserName=name, PolicyName=f"p{index}", PolicyDocument=json.dumps(one))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return Keys(key["AccessKeyId"], key["SecretAccessKey"], None, arn)


def session_keys(sts: Any, role_arn: str, name: str) -> Keys:
    answer = sts.assume_role(RoleArn=role_arn, RoleSessionName=name)
    credentials = answer["Credentials"]
    return Keys(credentials["AccessKeyId"], credentials["SecretAccessKey"], credentials["SessionToken"],
                answer["AssumedRoleUser"]["Arn"])


def make_api(apigw: Any) -> str:
    """GET /pets with AWS_IAM, a MOCK integration that answers the caller's ARN."""
    api = apigw.create_rest_api(name="tables")
    pets = apigw.create_resource(restApiId=api["id"], parentId=api["rootResourceId"], pathPart="pets")
    apigw.put_method(restApiId=api["id"], resourceId=pets["id"], httpMethod="GET", authorizationType="AWS_IAM")
    apigw.put_integration(restApiId=api["id"], resourceId=pets["id"], httpMethod="GET", type="MOCK",
                          requestTemplates={"application/json": '{"statusCode": 200}'})
    apigw.put_method_response(restApiId=api["id"], resourceId=pets["id"], httpMethod="GET", statusCode="200")
    apigw.put_integration_response(restApiId=api["id"], resourceId=pets["id"], httpMethod="GET", statusCode="200",
                                   responseTemplates={"application/json": '{"who":"$context.identity.userArn"}'})
    return str(api["id"])


@pytest.fixture(scope="module")
def live() -> Iterator[Live]:
    with petgate_local() as url:
        apigw = aws_client(url, "apigateway")
        api_id = make_api(apigw)
        iam_a = aws_client(url, "iam")
        admin_b = session_keys(aws_client(url, "sts"), f"arn:aws:iam::{OTHER}:role/admin", "setup")
        iam_b = aws_client(url, "iam", admin_b)
        users = {}
        for kind in KINDS:
            users["A", kind] = make_user(iam_a, f"a-{kind}", identity_policies(kind, api_id))
            users["B", kind] = make_user(iam_b, f"b-{kind}", identity_policies(kind, api_id))
        assert users["A", "allow"].arn == f"arn:aws:iam::{ACCOUNT}:user/a-allow"
        assert users["B", "allow"].arn == f"arn:aws:iam::{OTHER}:user/b-allow"
        yield Live(url, apigw, api_id, users, admin_b)


def behaviour(outcome: Authorization) -> str:
    return "Allow" if outcome.allowed else "Explicit Deny" if outcome.explicit else "Implicit Deny"


def assert_answer(live: Live, status: int, body: Any, headers: Any, caller_arn: str, outcome: Authorization) -> None:
    """The live answer is the pure decision's: 200 naming the caller, or ACCESS_DENIED's wording."""
    if outcome.allowed:
        assert status == 200, body
        assert body == {"who": caller_arn}
        return
    assert status == 403, body
    assert headers["x-amzn-ErrorType"] == "AccessDeniedException"
    assert body == {"Message": f"User: {caller_arn} is not authorized to perform: execute-api:Invoke on resource: "
                               f"{live.masked_arn}{ENDINGS[outcome.reason]}"}


def cell_id(cell: tuple[str, str, str]) -> str:
    resource, table, identity = cell
    return f"table {table}: identity {identity}, resource {resource}"


@pytest.mark.parametrize(("resource", "table", "identity"), CELLS + NO_POLICY_CELLS,
                         ids=[cell_id(c) for c in CELLS + NO_POLICY_CELLS])
def test_every_cell_live_signed_by_botocore(live: Live, resource: str, table: str, identity: str) -> None:
    policy = live.serve(resource)
    keys = live.users[table, identity]
    outcome = live.expected(policy, keys.arn, identity_policies(identity, live.api_id))
    assert outcome.table == table
    if resource != "none":
        assert behaviour(outcome) == TABLE[table][identity, resource], "the pure module reads AWS's table"
    answer = signed("GET", live.invoke_url, keys)
    assert_answer(live, answer.status_code, answer.json(), answer.headers, keys.arn, outcome)


def test_the_cells_deploy_once_per_resource_policy(live: Live) -> None:
    """Grouped by resource policy, the cells above needed one deployment each (if they ran in order)."""
    if live.deployments[:4] != ["allow", "deny", "neither", "none"]:
        pytest.skip(f"the cells ran selected or reordered: deployments {live.deployments}")
    assert len(live.deployments) == 4


def test_an_account_root_principal_matches_every_user_of_the_account(live: Live) -> None:
    """`arn:aws:iam::A:root` in the resource policy names no user, yet matches each of A's: a
    user with no identity policy gets in through it alone (Table A), and its Deny reaches a
    user whose identity policy allows (both tables)."""
    policy = live.serve("allow")
    silent = live.users["A", "neither"]
    assert silent.arn not in json.dumps(policy)
    outcome = live.expected(policy, silent.arn, identity_policies("neither", live.api_id))
    assert (outcome.allowed, outcome.decided_by) == (True, "resource-policy")
    assert outcome.statement is not None and root(ACCOUNT) in outcome.statement["Principal"]["AWS"]
    assert signed("GET", live.invoke_url, silent).status_code == 200

    policy = live.serve("deny")
    for table in "AB":
        allowed = live.users[table, "allow"]
        outcome = live.expected(policy, allowed.arn, identity_policies("allow", live.api_id))
        assert (outcome.reason, outcome.decided_by) == ("explicit-deny", "resource-policy")
        answer = signed("GET", live.invoke_url, allowed)
        assert_answer(live, answer.status_code, answer.json(), answer.headers, allowed.arn, outcome)


def test_an_assumed_role_session_is_matched_by_its_role_arn(live: Live) -> None:
    """A resource policy naming a role ARN reaches that role's sessions (IAM User Guide,
    "reference_policies_elements_principal": a role principal covers its assumed-role
    sessions): B's `reader` is let in (Table B: both allow), B's `writer`, unnamed, is not; A's
    `auditor`, denied by its role ARN, is refused whatever its identity policy says."""
    this_api = p.api_arn(REGION, ACCOUNT, live.api_id)
    invoke = [document({"Sid": "RoleAllow", "Effect": "Allow", "Action": "execute-api:Invoke", "Resource": f"{this_api}/*"})]
    trust = json.dumps(document({"Effect": "Allow", "Principal": {"AWS": root(ACCOUNT)}, "Action": "sts:AssumeRole"}))
    iams = {"A": aws_client(live.url, "iam"), "B": aws_client(live.url, "iam", live.admin_b)}
    roles = {}
    for table, name in (("B", "reader"), ("B", "writer"), ("A", "auditor")):
        arn = iams[table].create_role(RoleName=name, AssumeRolePolicyDocument=trust)["Role"]["Arn"]
        iams[table].put_role_policy(RoleName=name, PolicyName="invoke", PolicyDocument=json.dumps(invoke[0]))
        roles[name] = arn
    assert roles["reader"] == f"arn:aws:iam::{OTHER}:role/reader"
    policy = live.serve("roles", document(
        statement("Allow", [roles["reader"], roles["auditor"]], "AllowRoles"),
        statement("Deny", [roles["auditor"]], "DenyAuditor")))

    sts = aws_client(live.url, "sts")
    answers = {}
    for name in ("reader", "writer", "auditor"):
        keys = session_keys(sts, roles[name], f"{name}-session")
        assert keys.arn == roles[name].replace(":iam::", ":sts::").replace(":role/", ":assumed-role/") + f"/{name}-session"
        outcome = live.expected(policy, keys.arn, invoke)
        answer = signed("GET", live.invoke_url, keys)
        assert_answer(live, answer.status_code, answer.json(), answer.headers, keys.arn, outcome)
        answers[name] = (outcome.table, outcome.reason, answer.status_code)
    assert answers == {"reader": ("B", "allowed", 200), "writer": ("B", "implicit-deny", 403),
                       "auditor": ("A", "explicit-deny", 403)}


# --- a second real client: the AWS SDK for JavaScript v3's signer ------------------------------------


def js_signer_missing() -> str | None:
    """Why the JS client cannot run here, or None."""
    if shutil.which("node") is None:
        return "node is not installed (the JS SDK signer needs node 18 or later)"
    if not (JS_DIR / "node_modules" / "@smithy" / "signature-v4").is_dir():
        return f"the JS SDK signer is not installed in {JS_DIR / 'node_modules'} (make test installs it: npm ci in tests/js)"
    return None


def js_signed_get(url: str, keys: Keys) -> tuple[int, CaseInsensitiveDict[str], Any]:
    """GET `url` signed by @smithy/signature-v4 (tests/js/sign_and_get.mjs): status, headers, body."""
    environment = {**os.environ, "AWS_ACCESS_KEY_ID": keys.key, "AWS_SECRET_ACCESS_KEY": keys.secret,
                   "AWS_REGION": REGION}
    environment.pop("AWS_SESSION_TOKEN", None)
    if keys.token:
        environment["AWS_SESSION_TOKEN"] = keys.token
    completed = subprocess.run(["node", str(JS_SIGNER), url], capture_output=True, text=True, env=environment,
                               timeout=30, check=False)
    assert completed.returncode == 0, completed.stderr
    printed = json.loads(completed.stdout)
    return printed["status"], CaseInsensitiveDict(printed["headers"]), json.loads(printed["body"])


JS_CELLS = [("allow", "A", "neither"), ("allow", "B", "allow"), ("allow", "B", "neither"), ("deny", "A", "allow")]


@pytest.mark.parametrize(("resource", "table", "identity"), JS_CELLS, ids=[cell_id(c) for c in JS_CELLS])
def test_cells_signed_by_the_js_sdk_answer_as_botocore_s(live: Live, resource: str, table: str, identity: str) -> None:
    missing = js_signer_missing()
    if missing:
        pytest.skip(missing)
    policy = live.serve(resource)
    keys = live.users[table, identity]
    outcome = live.expected(policy, keys.arn, identity_policies(identity, live.api_id))
    status, headers, body = js_signed_get(live.invoke_url, keys)
    assert_answer(live, status, body, headers, keys.arn, outcome)
    botocore = signed("GET", live.invoke_url, keys)
    assert (status, body) == (botocore.status_code, botocore.json())


def test_a_session_signed_by_the_js_sdk_carries_its_token(live: Live) -> None:
    """An STS session's token goes with the JS SDK's signature too (X-Amz-Security-Token)."""
    missing = js_signer_missing()
    if missing:
        pytest.skip(missing)
    policy = live.serve("allow")
    session = live.admin_b  # a session of account B's admin role: no identity policy
    outcome = live.expected(policy, session.arn, [])
    assert (outcome.table, outcome.reason) == ("B", "iam-implicit-deny")
    status, headers, body = js_signed_get(live.invoke_url, session)
    assert_answer(live, status, body, headers, session.arn, outcome)
    without_token = js_signed_get(live.invoke_url, Keys(session.key, session.secret))
    assert without_token[0] == 403 and without_token[2] == {"message": "The security token included in the request is invalid."}
