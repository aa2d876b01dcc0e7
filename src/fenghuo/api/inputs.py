"""Refuse a request whose path or query holds a NUL character (``%00``) with a 422 naming the
parameter, before a route compares it with a column: PostgreSQL refuses NUL in any text it is
given (a 500 there), SQLite would just find nothing (``platform.inputs`` says why; bodies are
checked by ``platform.inputs.Body``).

Pure ASGI: it reads only the path and the query string, never the body.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

from fenghuo.platform.inputs import NUL, NUL_PROBLEM


def nul_parameter(path: str, query: bytes) -> str | None:
    """The name of the first parameter holding NUL ("path" for the path), or None."""
    if NUL in path:
        return "path"
    if b"%00" not in query.lower() and b"\x00" not in query:
        return None
    for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True, encoding="utf-8", errors="replace"):
        if NUL in name or NUL in value:
            return name.replace(NUL, "\\0")
    return None


class RefuseNul:
    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            name = nul_parameter(scope.get("path", ""), scope.get("query_string", b""))
            if name is not None:
                return await self._refuse(send, name)
        return await self.app(scope, receive, send)

    async def _refuse(self, send, name: str) -> None:
        zh, en = NUL_PROBLEM
        body = json.dumps({"error": {"code": "invalid", "field": name,
                                     "message": f"请求无效：参数 {name} {zh} / invalid request: parameter {name} {en}"}},
                          ensure_ascii=False).encode()
        await send({"type": "http.response.start", "status": 422,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
