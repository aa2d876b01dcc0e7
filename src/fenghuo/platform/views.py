"""The base of every response model (the route contracts, issue 13).

Each route declares ``response_model=`` a :class:`View` subclass beside its routes
(``<domain>/views.py``), so ``app.openapi()`` documents every response. The domain functions
still build their answers (the same dicts the local CLI prints); the model names and types the
fields. Two choices keep adding a model from changing any answer:

- ``extra="allow"``: a key the model does not (yet) name passes through unchanged;
- routes use ``response_model_exclude_unset=True`` (see :data:`CONTRACT`): a field the dict does
  not hold is not added as ``null``.

``tests/foundation/test_contracts.py`` walks ``app.openapi()`` and fails on any route without a
non-empty 2xx schema."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class View(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


# Keyword arguments for a route decorator with a response model: answer exactly what was built.
CONTRACT: dict[str, Any] = {"response_model_exclude_unset": True}


def raw_body(**content: dict[str, Any]) -> dict[str, Any]:
    """``openapi_extra=`` for a route that reads its body itself (through
    ``platform.documents``, after the role check): the media types it takes, so the schema
    documents them and a fuzzer sends them. ``raw_body(**{"application/yaml": {"type": "string"}})``."""
    return {"requestBody": {"required": True, "content": {k: {"schema": v} for k, v in content.items()}}}


def text(media_type: str, description: str) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route that answers a stream or text rather than JSON."""
    return {200: {"description": description, "content": {media_type: {"schema": {"type": "string"}}}}}
