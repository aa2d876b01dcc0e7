"""One call, two backends: the response and recovery commands run the domain function on the
local database, or the same operation over HTTP when ``--server`` is given. The CLI root's
backend (``fenghuo.backend``) stays untouched; this reuses its database/actor or its client."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fenghuo.platform.cli_support import backend


def call(local: Callable[[Any, Any], Any], method: str, path: str, **http: Any) -> Any:
    be = backend()
    if hasattr(be, "db"):
        return local(be.db, be.actor)
    return be._call(method, path, **http)  # noqa: SLF001 - the remote backend's one HTTP door
