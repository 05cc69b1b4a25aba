"""An offline stand-in for the PetStore demo backend that the Example API's HTTP integrations
call (`petstore-demo-endpoint.execute-api.com` and `petstore.execute-api.REGION.amazonaws.com`).
"""

from __future__ import annotations

import json
import re
import urllib.parse

HOSTS = re.compile(
    r"^(petstore-demo-endpoint\.execute-api\.com|petstore\.execute-api\.[a-z0-9-]+\.amazonaws\.com)$"
)
PAGE_SIZE = 3
_TYPES = ("dog", "cat", "fish", "bird", "gecko")
PETS = [
    {"id": n, "type": _TYPES[(n - 1) % len(_TYPES)], "price": round(9.99 + 17.5 * n, 2)}
    for n in range(1, 16)
]


def serves(url: str) -> bool:
    return bool(HOSTS.match(urllib.parse.urlsplit(url).hostname or ""))


def handle(method: str, url: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
    """Answer one request as the demo backend would."""
    parts = urllib.parse.urlsplit(url)
    query = dict(urllib.parse.parse_qsl(parts.query))
    path = parts.path.rstrip("/")
    if path == "/petstore/pets" and method == "GET":
        pets = [p for p in PETS if not query.get("type") or p["type"] == query["type"]]
        page = int(query["page"]) if query.get("page", "").isdigit() and int(query["page"]) > 0 else 1
        return _json(200, pets[(page - 1) * PAGE_SIZE : page * PAGE_SIZE])
    if path == "/petstore/pets" and method == "POST":
        try:
            pet = json.loads(body or b"{}")
        except json.JSONDecodeError:
            return _json(400, {"message": "the body must be JSON"})
        if not isinstance(pet, dict) or pet.get("type") not in _TYPES:
            return _json(400, {"message": f"type must be one of {', '.join(_TYPES)}"})
        return _json(200, {"pet": pet, "message": "success"})
    match = re.fullmatch(r"/petstore/pets/([^/]+)", path)
    if match and method == "GET":
        pet = next((p for p in PETS if str(p["id"]) == match.group(1)), None)
        if pet is None:
            return _json(404, {"message": f"no pet with id {match.group(1)}"})
        return _json(200, pet)
    return _json(404, {"message": "not found"})


def _json(status: int, data: object) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json"}, json.dumps(data).encode()
