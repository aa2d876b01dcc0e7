"""The gateway's small ASGI and request helpers: a JSON response, the caller's credentials, the
answer's length, and masking the caller's messages before they leave for the model. Apart from
``guard.gateway`` so that the endpoints (``guard.endpoints``, ``guard.streaming``) import them
without importing the gateway."""

from __future__ import annotations

from typing import Any

import orjson

from fenghuo.guard.checking import mask

JSON_HEADERS = [(b"content-type", b"application/json")]
_JSON_TYPE = JSON_HEADERS[0]


async def send_json(send, status: int, obj: Any, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    body = orjson.dumps(obj)
    hdrs = [_JSON_TYPE, (b"content-length", b"%d" % len(body))]  # one list, not three joined
    if headers:
        hdrs += headers
    await send({"type": "http.response.start", "status": status, "headers": hdrs})
    await send({"type": "http.response.body", "body": body})


def header_list(d: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(k.lower().encode(), v.encode("latin-1")) for k, v in d.items()]


def caller_auth(scope) -> str | None:
    for k, v in scope["headers"]:
        if k == b"authorization":
            return v.decode("latin-1")
    return None


def answer_chars(data: dict[str, Any]) -> int:
    n = 0
    for choice in data.get("choices") or ():
        msg = choice.get("message") if isinstance(choice, dict) else None
        if isinstance(msg, dict) and isinstance(msg.get("content"), str):
            n += len(msg["content"])
    return n


def mask_messages(req: dict[str, Any], findings: list) -> dict[str, Any]:
    """Mask findings (e.g. personal information) in each message before it leaves for the model.

    ``findings`` are the input check's, with offsets in ``message_text(messages)``: each text is
    masked where they fall in it, so no check runs again (an LLM guard would be asked once per
    message, on the event loop)."""
    if not any(f.action.value == "mask" for f in findings):
        return req
    pos = 0  # where the next text starts in message_text's join (texts joined by "\n")

    def masked(text: str) -> str:
        nonlocal pos
        out = mask(text, findings, pos)
        pos += len(text) + 1
        return out

    msgs = []
    for m in req["messages"]:
        if isinstance(m, dict):
            content = m.get("content")
            if isinstance(content, str):
                m = dict(m, content=masked(content))
            elif isinstance(content, list):
                m = dict(m, content=[dict(p, text=masked(p["text"])) if isinstance(p, dict) and isinstance(p.get("text"), str) else p
                                     for p in content])
        msgs.append(m)
    return dict(req, messages=msgs)
