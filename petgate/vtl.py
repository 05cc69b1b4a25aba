"""Mapping templates (Velocity) rendered with airspeed, with API Gateway's variables.

Pure (no I/O): the local gateway renders mapping templates and gateway responses with it, and
`explain` the gateway response AWS would send (petgate/local/vtl.py re-exports it)."""

from __future__ import annotations

import base64
import json
import threading
import urllib.parse
from typing import Any

_cache: dict[str, Any] = {}
_cache_lock = threading.Lock()


class InputVariable:
    """`$input`: the request body and parameters."""

    def __init__(self, body: str, params: dict[str, dict[str, str]]) -> None:
        self.body = body
        self._params = params

    def json(self, path: str = "$") -> str:
        return self.body if path == "$" else json.dumps(self._select(path))

    def path(self, path: str = "$") -> Any:
        """The value at the JSONPath; nothing there renders empty, as in API Gateway (not the
        reference's own text, as plain Velocity would)."""
        value = self._select(path)
        return "" if value is None else value

    def params(self, name: str | None = None) -> Any:
        if name is None:
            return self._params
        for where in ("path", "querystring", "header"):
            if name in self._params.get(where, {}):
                return self._params[where][name]
        return ""

    def _select(self, path: str) -> Any:
        try:
            value: Any = json.loads(self.body) if self.body else {}
        except json.JSONDecodeError:
            return None
        for part in [p for p in path.lstrip("$").split(".") if p]:
            value = value.get(part) if isinstance(value, dict) else None
        return value


class UtilVariable:
    """`$util`: the helpers API Gateway templates use most."""

    def escapeJavaScript(self, text: Any) -> str:  # noqa: N802 - API Gateway's name
        return json.dumps(str(text))[1:-1].replace("'", "\\'")

    def urlEncode(self, text: Any) -> str:  # noqa: N802
        return urllib.parse.quote(str(text), safe="")

    def urlDecode(self, text: Any) -> str:  # noqa: N802
        return urllib.parse.unquote(str(text))

    def base64Encode(self, text: Any) -> str:  # noqa: N802
        return base64.b64encode(str(text).encode()).decode()

    def base64Decode(self, text: Any) -> str:  # noqa: N802
        return base64.b64decode(str(text)).decode(errors="replace")

    def parseJson(self, text: Any) -> Any:  # noqa: N802
        return json.loads(str(text))


def render(template: str, context: dict[str, Any], body: str = "", params: dict[str, Any] | None = None, stage_variables: dict[str, str] | None = None) -> str:
    """Render a mapping template; templates are parsed once and cached."""
    import airspeed

    with _cache_lock:
        compiled = _cache.get(template)
        if compiled is None:
            compiled = airspeed.Template(template)
            _cache[template] = compiled
    namespace = {
        "context": context,
        "input": InputVariable(body, params or {}),
        "util": UtilVariable(),
        "stageVariables": stage_variables or {},
    }
    return str(compiled.merge(namespace))
