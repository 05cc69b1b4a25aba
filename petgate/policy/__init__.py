"""Resource policies as plain data, in modules that depend one way:

    model  <-  deny, evaluate  <-  allow (model, evaluate), authorization (model, evaluate),
                                   describe (model, deny)

- model: parse, decode/encode (AWS's extra escaping), validate, size, statements, CIDRs,
  expand_resources, petgate's Sids;
- deny: petgate's deny list (block, unblock, prune, subtract, collapse, covered, ...);
- evaluate: the evaluator with IAM semantics (Request, Caller, Decision, compile_policy, evaluate, ...);
- authorization: the resource policy and a caller's identity policies combined as API Gateway
  does (Tables A and B: authorize, Authorization);
- allow: the console's allow-list templates (`from petgate.policy import allow`);
- describe: the policy in words.

No module imports click, boto3 or anything with I/O; of petgate they import only each other and
expiry. The names importers use stay here: `policies.block`, `from petgate.policy import
collapse`. The functions `evaluate` and `describe` are re-exported under their modules' names,
so reach those modules with `from petgate.policy.evaluate import ...`, not as attributes.
"""

from __future__ import annotations

from petgate.policy import allow
from petgate.policy.authorization import Authorization, authorize, identity_decision
from petgate.policy.deny import (
    DenyGroup,
    block,
    blocked_cidrs,
    build_deny,
    check_known_shape,
    check_own_statements_unique,
    collapse,
    covered,
    deny_groups,
    deny_sid,
    deny_statement,
    expiring,
    group_end,
    how_many_fit,
    is_deny_sid,
    is_petgate_sid,
    permanent_cidrs,
    prune,
    still_blocking,
    subtract,
    unblock,
    user_statements,
)
from petgate.policy.describe import describe
from petgate.policy.evaluate import (
    ANONYMOUS,
    PLACEHOLDER_ACCOUNT,
    Caller,
    CompiledPolicy,
    Decision,
    IpSet,
    Request,
    account_in,
    api_arn,
    api_arn_in,
    compile_policy,
    evaluate,
    principal_type,
    request_arn,
)
from petgate.policy.model import (
    ACCOUNTS_SID,
    ALL_RESOURCES,
    ALLOW_SID,
    DENY_SID,
    DENY_UNTIL_PREFIX,
    INVOKE_ACTION,
    MAX_POLICY_CHARS,
    ONLY_IPS_SID,
    PETGATE_SIDS,
    POLICY_VERSION,
    VPC_SID,
    VPCE_SID,
    Cidr,
    IpNetwork,
    MappedPrefixError,
    Policy,
    PolicyError,
    Statement,
    allow_statement,
    decode_stored,
    encode,
    escape_for_storage,
    expand_resources,
    network_or_none,
    parse_cidr,
    size,
    statements,
    unmapped,
    unmapped_address,
    validate,
)

__all__ = [
    # model
    "ACCOUNTS_SID", "ALL_RESOURCES", "ALLOW_SID", "DENY_SID", "DENY_UNTIL_PREFIX", "INVOKE_ACTION",
    "MAX_POLICY_CHARS", "ONLY_IPS_SID", "PETGATE_SIDS", "POLICY_VERSION", "VPC_SID", "VPCE_SID",
    "Cidr", "IpNetwork", "MappedPrefixError", "Policy", "PolicyError", "Statement", "allow_statement",
    "decode_stored", "encode", "escape_for_storage", "expand_resources", "network_or_none", "parse_cidr",
    "size", "statements", "unmapped", "unmapped_address", "validate",
    # deny
    "DenyGroup", "block", "blocked_cidrs", "build_deny", "check_known_shape", "check_own_statements_unique",
    "collapse", "covered", "deny_groups", "deny_sid", "deny_statement", "expiring", "group_end",
    "how_many_fit", "is_deny_sid", "is_petgate_sid", "permanent_cidrs", "prune", "still_blocking",
    "subtract", "unblock", "user_statements",
    # evaluate
    "ANONYMOUS", "PLACEHOLDER_ACCOUNT", "Caller", "CompiledPolicy", "Decision", "IpSet", "Request", "account_in",
    "api_arn", "api_arn_in", "compile_policy", "evaluate", "principal_type", "request_arn",
    # authorization
    "Authorization", "authorize", "identity_decision",
    # allow (the module), describe
    "allow", "describe",
]
