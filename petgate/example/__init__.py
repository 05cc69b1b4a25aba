"""The console's Example API (PetStore), a Swagger 2.0 document shipped as package data."""

from __future__ import annotations

import json
from typing import Any

NAME = "PetStore"


def definition_bytes(name: str = NAME) -> bytes:
    """The definition, with its title set to the API name wanted."""
    document = definition()
    document["info"]["title"] = name
    return json.dumps(document).encode()


def definition() -> dict[str, Any]:
    from importlib import resources  # only when the definition is needed: start-up stays quick

    text = resources.files(__package__).joinpath("petstore.json").read_text(encoding="utf-8")
    return dict(json.loads(text))
