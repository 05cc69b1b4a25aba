"""The ACCESS_DENIED gateway response: set it, keeping other content types and headers."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar

from petgate.gateway import ACCESS_DENIED, ApiRef, Gateway, looks_like_api_id
from petgate.ops.apis import read_api
from petgate.ops.results import StageChange
from petgate.ops.services import Services
from petgate.ops.writes import guarded_write, new_lease, taking_the_lease_again, under_lease

DEFAULT_403_TEMPLATE = '{"message":"Access denied"}'  # says nothing of the account, the API or the caller


@dataclass(frozen=True, kw_only=True)
class TemplateChange(StageChange):
    """The ACCESS_DENIED response set to a template; `previous` is the response it replaced."""

    api_name: str
    changed: bool
    dry_run: bool
    response_type: str
    status_code: str
    content_type: str
    template: str
    previous: dict[str, Any] | None

    subject: ClassVar[str] = "403 template"

    def served_by(self, exported: dict[str, Any]) -> bool:
        served = ((exported.get("x-amazon-apigateway-gateway-responses") or {}).get(self.response_type) or {})
        current = self.previous or {}
        return (str(served.get("statusCode")) == str(current.get("statusCode"))
                and (served.get("responseTemplates") or {}) == (current.get("responseTemplates") or {}))


def set_access_denied(
    app: Services, ref: str, stage: str, template: str, content_type: str, status_code: str, dry_run: bool = False
) -> TemplateChange:
    """Put the ACCESS_DENIED response, keeping the templates of other content types and headers.
    Reads first: a response that already says this takes no lease."""
    api, first = _read(app.gateway, ref)

    def planned(previous: dict[str, Any] | None) -> tuple[TemplateChange, dict[str, str], Any, dict[str, Any] | None]:
        """(the result, the templates and headers to put, what a custom response replaces: None
        for AWS's default)"""
        customised = previous is not None and not previous.get("defaultResponse", False)
        templates = dict((previous or {}).get("responseTemplates") or {}) if customised else {}
        templates[content_type] = template
        parameters = (previous or {}).get("responseParameters") if customised else None
        unchanged = customised and previous is not None and str(previous.get("statusCode")) == status_code and \
            (previous.get("responseTemplates") or {}) == templates
        result = TemplateChange(
            api_id=api.id, api_name=api.name, stage=stage, response_type=ACCESS_DENIED, status_code=status_code,
            content_type=content_type, template=template, previous=previous, dry_run=dry_run, changed=not unchanged,
        )
        return result, templates, parameters, previous if customised else None

    result, _, _, _ = planned(first)
    if dry_run or not result.changed:
        return result
    lease = new_lease(app, api.id)

    def attempt() -> TemplateChange:
        with under_lease(app, api.id, lease):
            now, templates, parameters, replaced = planned(app.gateway.get_gateway_response(api.id, ACCESS_DENIED))
            if now.changed:
                _, entry_id = guarded_write(
                    app, lease, {"kind": "gateway_response", "command": "set-403-template", "api_id": api.id,
                                 "stage": stage, "response_type": ACCESS_DENIED, "before": replaced,
                                 "after": {"responseType": ACCESS_DENIED, "statusCode": status_code,
                                           "responseTemplates": templates, "responseParameters": parameters}},
                    partial(app.gateway.put_gateway_response, api.id, ACCESS_DENIED, status_code, templates, parameters),
                    lambda answer: answer)
                now = now.but(journal_id=entry_id)
            return now

    return taking_the_lease_again(app, api.id, attempt)


def _read(gateway: Gateway, ref: str) -> tuple[ApiRef, dict[str, Any] | None]:
    """The API (its id and name, for the result) and its ACCESS_DENIED response. By id, the two
    reads go out together: the response is read for that id while GetRestApi says the API is
    there and what it is called. GetRestApi's error, if any, is the one raised; an id that turns
    out to be a name has its response read again, for the API the name resolves to."""
    if not looks_like_api_id(ref):
        api, _doc = read_api(gateway, ref)
        return api, gateway.get_gateway_response(api.id, ACCESS_DENIED)
    response = _started(lambda: gateway.get_gateway_response(ref, ACCESS_DENIED))
    try:
        api, _doc = read_api(gateway, ref)
    finally:
        answer = response()  # waited for either way: no call of this command outlives it
    if api.id != ref:
        return api, gateway.get_gateway_response(api.id, ACCESS_DENIED)
    return api, answer.result()


class _Answer:
    """What a call started by _started returned, or raised."""

    def __init__(self) -> None:
        self.value: Any = None
        self.error: BaseException | None = None

    def result(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.value


def _started(call: Callable[[], Any]) -> Callable[[], _Answer]:
    """Run `call` in a thread from now; the function returned waits for it. A daemon thread: a
    process interrupted meanwhile does not wait for the call before it exits."""
    answer = _Answer()

    def run() -> None:
        try:
            answer.value = call()
        except BaseException as exc:  # handed to the caller, raised there
            answer.error = exc

    thread = threading.Thread(target=run, name="petgate-read", daemon=True)
    thread.start()

    def wait() -> _Answer:
        thread.join()
        return answer

    return wait
