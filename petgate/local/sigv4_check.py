"""SigV4 on the data plane, for a method whose authorizationType is AWS_IAM: the request's
signature recomputed with botocore's own signer (botocore.auth.SigV4Auth: canonical request,
string to sign, signing key) over what arrived, with the secret IAM or STS holds for the key,
and compared with hmac.compare_digest. No cryptography of petgate's own.

What API Gateway answers for each fault (403 each; the gateway response type and the
`x-amzn-ErrorType` header in brackets), and where the wording comes from:
- no Authorization header and no X-Amz-Signature: "Missing Authentication Token"
  [MISSING_AUTHENTICATION_TOKEN, MissingAuthenticationTokenException] (AWS knowledge center,
  "api-gateway-iam-sigv4-mismatch": "If the API request isn't signed, then you receive ...
  Missing Authentication Token");
- a header that is not SigV4's shape: errors.parse_authorization's wording (IncompleteSignature
  answers cited there), and "Authorization header requires existence of either a 'X-Amz-Date' or
  a 'Date' header." as API Gateway lists it (a Lambda-behind-API-Gateway FAQ quoting the body:
  datatalksclub-faq, module-9 "Lambda API Gateway errors") [INVALID_SIGNATURE,
  IncompleteSignatureException];
- the date more than 5 minutes away from the gateway's clock: "Signature expired: 20240522T115159Z
  is now earlier than 20240522T120519Z (20240522T121019Z - 5 min.)" and, ahead, "Signature not yet
  current: 20181120T211543Z is still later than 20181120T211529Z (20181120T211029Z + 5 min.)"
  [INVALID_SIGNATURE, InvalidSignatureException] (recorded bodies: an API Gateway IAM article
  quoting "Signature expired: 20170517T062414Z is now earlier than 20170517T062840Z (20170517T063340Z
  - 5 min.)" with x-amzn-ErrorType InvalidSignatureException; serverless/enterprise#11 for the
  other side; AWS knowledge center "lambda-sdk-signature": "An API request must reach AWS within
  5 minutes of the timestamp in the request"). The window is 5 minutes, not 15: 15 is S3's;
- an access key IAM and STS do not know (or an inactive one, or a session token that is not the
  key's): "The security token included in the request is invalid." [INVALID_SIGNATURE,
  UnrecognizedClientException] (knowledge center "api-gateway-iam-sigv4-mismatch": "If the
  access key is incorrect, then you receive ... The security token included in the request is
  invalid."; kndt84/aws-api-gateway-client#31 for API Gateway's body). Which gateway response
  carries it AWS does not document: petgate reads it as INVALID_SIGNATURE (403, where
  UNAUTHORIZED would default to 401);
- an STS session past its expiration: "The security token included in the request is expired"
  [EXPIRED_TOKEN, ExpiredTokenException] (the gateway response type's own description, "AWS
  authentication token expired error");
- a signature that does not match: "The request signature we calculated does not match the
  signature you provided. Check your AWS Secret Access Key and signing method. Consult the service
  documentation for details.\n\nThe Canonical String for this request should have been\n'...'\n\n
  The String-to-Sign should have been\n'...'\n" [INVALID_SIGNATURE, InvalidSignatureException]
  (API Gateway's body as quoted in mhart/aws4#33, aws/aws-sdk-js#2372, zirkelc/aws-signature-v4#4);
- a scope for another service or region: "Credential should be scoped to correct service:
  'execute-api'. " and "Credential should be scoped to a valid region, not 'REGION'. "
  (errors.py's sources for the region) [INVALID_SIGNATURE, InvalidSignatureException].
Checked in that order: shape, clock, scope, key, token, signature.
"""

from __future__ import annotations

import calendar
import functools
import hmac
import time
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

from petgate.local.errors import SCHEME, ApiError, parse_authorization

SKEW_S = 5 * 60
SERVICE = "execute-api"
_STAMP = "%Y%m%dT%H%M%SZ"

INVALID_TOKEN = "The security token included in the request is invalid."
EXPIRED_TOKEN = "The security token included in the request is expired"
MISMATCH = ("The request signature we calculated does not match the signature you provided. Check your AWS Secret "
            "Access Key and signing method. Consult the service documentation for details.")


class SignatureError(Exception):
    """A request the signature check turns away: the gateway response type, AWS's error type
    (x-amzn-ErrorType) and message."""

    def __init__(self, response_type: str, error_type: str, message: str) -> None:
        super().__init__(message)
        self.response_type = response_type
        self.error_type = error_type
        self.message = message


def invalid(message: str) -> SignatureError:
    return SignatureError("INVALID_SIGNATURE", "InvalidSignatureException", message)


def unrecognized() -> SignatureError:
    return SignatureError("INVALID_SIGNATURE", "UnrecognizedClientException", INVALID_TOKEN)


def expired_token() -> SignatureError:
    return SignatureError("EXPIRED_TOKEN", "ExpiredTokenException", EXPIRED_TOKEN)


@dataclass(frozen=True)
class Signed:
    """What a signed request claims: the key, its scope, the headers it signed, its signature."""

    access_key: str
    scope_date: str
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str
    timestamp: str  # YYYYMMDDTHHMMSSZ
    token: str | None
    presigned: bool = False
    expires_s: int | None = None


@dataclass(frozen=True)
class Incoming:
    """The request as it arrived: method, raw target path and query, lower-case headers, body."""

    method: str
    raw_path: str
    raw_query: str
    headers: Mapping[str, str]
    body: bytes


def signature_of(incoming: Incoming) -> Signed | None:
    """The request's SigV4 claim (header or presigned query); None when it is unsigned."""
    header = incoming.headers.get("authorization")
    if header is not None:
        return _from_header(header, incoming)
    query = dict(_query_pairs(incoming.raw_query))
    if "X-Amz-Signature" not in query:
        return None
    return _from_query(query)


def _from_header(header: str, incoming: Incoming) -> Signed:
    date = incoming.headers.get("x-amz-date")
    if date is None and "date" in incoming.headers:
        date = _from_http_date(incoming.headers["date"])
    try:
        access_key, region, _ = parse_authorization(header)
    except ApiError as exc:
        missing_date = "" if date else " Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
        message = exc.message
        if missing_date and " Authorization=" in message:
            head, _, tail = message.rpartition(" Authorization=")
            message = f"{head}{missing_date} Authorization={tail}"
        raise SignatureError("INVALID_SIGNATURE", "IncompleteSignatureException", message) from None
    if not date:
        raise SignatureError("INVALID_SIGNATURE", "IncompleteSignatureException",
                      f"Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
                      f"Authorization={header}")
    parts = dict(item.strip().partition("=")[::2] for item in header.strip()[len(SCHEME):].split(","))
    scope = parts["Credential"].split("/")
    return Signed(
        access_key=access_key, scope_date=scope[1], region=region, service=scope[3],
        signed_headers=tuple(h for h in parts["SignedHeaders"].lower().split(";") if h),
        signature=parts["Signature"], timestamp=date, token=incoming.headers.get("x-amz-security-token"),
    )


def _from_query(query: dict[str, str]) -> Signed:
    credential = query.get("X-Amz-Credential", "")
    scope = credential.split("/")
    missing = [name for name in ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders")
               if not query.get(name)]
    if missing or len(scope) != 5 or query.get("X-Amz-Algorithm") != SCHEME:
        listed = " ".join(f"AWS query-string parameters must include '{name}'." for name in missing)
        raise SignatureError("INVALID_SIGNATURE", "IncompleteSignatureException",
                      listed or f"Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{credential}'")
    expires = query.get("X-Amz-Expires", "")
    return Signed(
        access_key=scope[0], scope_date=scope[1], region=scope[2], service=scope[3],
        signed_headers=tuple(h for h in query["X-Amz-SignedHeaders"].lower().split(";") if h),
        signature=query["X-Amz-Signature"], timestamp=query["X-Amz-Date"], token=query.get("X-Amz-Security-Token"),
        presigned=True, expires_s=int(expires) if expires.isdigit() else None,
    )


def _from_http_date(value: str) -> str | None:
    try:
        return parsedate_to_datetime(value).strftime(_STAMP)
    except (TypeError, ValueError):
        return None


def _query_pairs(raw_query: str) -> list[tuple[str, str]]:
    """The query's pairs, decoded (not `+` as space: SigV4 encodes a space %20)."""
    pairs = []
    for item in raw_query.split("&") if raw_query else []:
        key, _, value = item.partition("=")
        pairs.append((urllib.parse.unquote(key), urllib.parse.unquote(value)))
    return pairs


def check_clock(signed: Signed, now: float) -> None:
    """Within 5 minutes of the gateway's clock (a presigned URL: until it expires)."""
    try:
        stamp = calendar.timegm(time.strptime(signed.timestamp, _STAMP))
    except ValueError:
        raise SignatureError("INVALID_SIGNATURE", "IncompleteSignatureException",
                      f"Date must be in ISO-8601 'basic format'. Got '{signed.timestamp}'. "
                      "See http://en.wikipedia.org/wiki/ISO_8601") from None
    late = SKEW_S if not signed.presigned or signed.expires_s is None else max(signed.expires_s, 0)
    shown_now = time.strftime(_STAMP, time.gmtime(now))
    if stamp < now - late:
        earliest = time.strftime(_STAMP, time.gmtime(now - late))
        raise invalid(f"Signature expired: {signed.timestamp} is now earlier than {earliest} ({shown_now} - {late // 60} min.)")
    if stamp > now + SKEW_S:
        latest = time.strftime(_STAMP, time.gmtime(now + SKEW_S))
        raise invalid(f"Signature not yet current: {signed.timestamp} is still later than {latest} ({shown_now} + 5 min.)")


def check_scope(signed: Signed, region: str) -> None:
    if signed.service != SERVICE:
        raise invalid(f"Credential should be scoped to correct service: '{SERVICE}'. ")
    if signed.region != region:
        raise invalid(f"Credential should be scoped to a valid region, not '{signed.region}'. ")


def verify(signed: Signed, incoming: Incoming, secret: str) -> None:
    """Recompute the signature with botocore's signer over the request as it arrived."""
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    signer = _recompute_class()(Credentials(signed.access_key, secret, signed.token), signed.service, signed.region,
                        signed.signed_headers)
    params = [(k, v) for k, v in _query_pairs(incoming.raw_query) if not (signed.presigned and k == "X-Amz-Signature")]
    headers = {name: incoming.headers.get(name, "") for name in signed.signed_headers}
    request: Any = AWSRequest(method=incoming.method, url="http://" + (incoming.headers.get("host") or "localhost")
                              + incoming.raw_path, headers=headers, data=incoming.body)
    request.params = params  # a list: a repeated key keeps all its values
    request.context["timestamp"] = signed.timestamp
    canonical = signer.canonical_request(request)
    string_to_sign = signer.string_to_sign(request, canonical)
    expected = signer.signature(string_to_sign, request)
    if not hmac.compare_digest(expected.encode(), signed.signature.encode()):
        raise invalid(f"{MISMATCH}\n\nThe Canonical String for this request should have been\n'{canonical}'\n\n"
                      f"The String-to-Sign should have been\n'{string_to_sign}'\n")


@functools.cache
def _recompute_class() -> Any:
    """botocore's SigV4Auth, reading exactly the headers the client says it signed (botocore's
    own selection would drop a few, user-agent among them, that other clients may sign).
    Defined at the first signed request: botocore is not imported at start-up."""
    from botocore.auth import SigV4Auth
    from botocore.compat import HTTPHeaders

    class Recompute(SigV4Auth):
        def __init__(self, credentials: Any, service: str, region: str, names: tuple[str, ...]) -> None:
            super().__init__(credentials, service, region)
            self._names = names

        def headers_to_sign(self, request: Any) -> Any:
            chosen = HTTPHeaders()
            for name in self._names:
                chosen[name] = request.headers.get(name, "")
            return chosen

    return Recompute
