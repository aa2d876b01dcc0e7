"""The replay upstream's other OpenAI endpoints: ``/v1/completions``, ``/v1/responses``
(streaming and not) and ``/v1/embeddings`` (and Anthropic's ``/v1/messages``), answering from the same recordings and schedule as
``/v1/chat/completions`` (``replay.app``), in the shapes the OpenAI API answers with, so the
gateway's edges are tested against what clients and servers really exchange.

Embeddings are not recorded text: each input gets a deterministic 64-dimension vector of its
hashed character bigrams (normalised), so equal texts embed equally and different ones do not;
``encoding_format: "base64"`` (what the official client asks for by default) is honoured.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import math
import struct
import time
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

DIMENSIONS = 64


def embed(text: str, dims: int = DIMENSIONS) -> list[float]:
    """Hashed character bigrams, L2-normalised: deterministic, and similar texts land near."""
    v = [0.0] * dims
    grams = [text[i:i + 2] for i in range(max(1, len(text) - 1))]
    for g in grams:
        h = int.from_bytes(hashlib.blake2b(g.encode(), digest_size=4).digest(), "little")
        v[h % dims] += 1.0 if h & 0x80000000 else -1.0
    n = math.sqrt(sum(x * x for x in v)) or 1.0
    return [x / n for x in v]


def _input_text(value: Any) -> str:
    """The prompt of a Responses ``input``: a string, or the last user item's text."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        for item in reversed(value):
            if isinstance(item, dict) and item.get("role", "user") == "user":
                content = item.get("content")
                if isinstance(content, list):
                    return "".join(p.get("text", "") for p in content if isinstance(p, dict))
                return str(content or "")
    return ""


def mount(app: FastAPI, answer: Callable[[str, Request], tuple[int, str, dict[str, str]]],
          error: Callable[[Request, dict], JSONResponse | None], chunk_chars: int, model_name: str,
          chunk_delay_ms: float = 0.0) -> None:
    """Add the endpoints. ``answer(prompt, request)`` gives (call number, text, headers) from
    the recordings and schedule; ``error(request, body)`` the OpenAI error a request earns
    (an unknown model), or None; ``chunk_delay_ms`` paces streamed text like a model's tokens."""

    async def pace() -> None:
        if chunk_delay_ms:
            await asyncio.sleep(chunk_delay_ms / 1000)

    async def body_of(request: Request) -> dict | JSONResponse:
        try:
            body = json.loads(await request.body())
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):  # RecursionError: nested too deeply
            body = None
        if not isinstance(body, dict):
            return JSONResponse({"error": {"message": "请求体不是合法 JSON 对象 / body is not a JSON object",
                                           "type": "invalid_request_error", "param": None, "code": "invalid_json"}}, status_code=400)
        return error(request, body) or body

    @app.post("/v1/completions")
    async def completions(request: Request):
        body = await body_of(request)
        if not isinstance(body, dict):
            return body
        prompt = body.get("prompt")
        prompt = prompt[0] if isinstance(prompt, list) and prompt and isinstance(prompt[0], str) else prompt
        n, text, headers = answer(str(prompt or ""), request)
        model, cid, created = str(body.get("model") or model_name), f"cmpl-replay-{n}", int(time.time())
        if body.get("stream"):
            async def gen():
                for i in range(0, len(text), max(1, chunk_chars)):
                    await pace()
                    yield _sse({"id": cid, "object": "text_completion", "created": created, "model": model,
                                "choices": [{"index": 0, "text": text[i:i + chunk_chars], "logprobs": None, "finish_reason": None}]})
                yield _sse({"id": cid, "object": "text_completion", "created": created, "model": model,
                            "choices": [{"index": 0, "text": "", "logprobs": None, "finish_reason": "stop"}]})
                yield "data: [DONE]\n\n"
            return StreamingResponse(gen(), media_type="text/event-stream", headers=headers)
        return JSONResponse({"id": cid, "object": "text_completion", "created": created, "model": model,
                             "choices": [{"index": 0, "text": text, "logprobs": None, "finish_reason": "stop"}],
                             "usage": _usage(str(prompt or ""), text)}, headers=headers)

    @app.post("/v1/responses")
    async def responses(request: Request):
        body = await body_of(request)
        if not isinstance(body, dict):
            return body
        prompt = _input_text(body.get("input"))
        n, text, headers = answer(prompt, request)
        model = str(body.get("model") or model_name)
        rid, mid = f"resp_replay{n}", f"msg_replay{n}"
        u = _usage(prompt, text)
        usage = {"input_tokens": u["prompt_tokens"], "output_tokens": u["completion_tokens"], "total_tokens": u["total_tokens"]}

        def response(status: str, out: str | None) -> dict[str, Any]:
            items = [] if out is None else [{"type": "message", "id": mid, "status": "completed", "role": "assistant",
                                             "content": [{"type": "output_text", "text": out, "annotations": []}]}]
            return {"id": rid, "object": "response", "created_at": int(time.time()), "status": status, "model": model,
                    "output": items, "usage": usage if status == "completed" else None, "error": None,
                    "incomplete_details": None, "instructions": body.get("instructions"), "metadata": {}, "parallel_tool_calls": True,
                    "temperature": body.get("temperature"), "tool_choice": "auto", "tools": [], "top_p": body.get("top_p")}

        if not body.get("stream"):
            return JSONResponse(response("completed", text), headers=headers)

        async def gen():
            seq = 0

            def ev(kind: str, **data: Any) -> str:
                nonlocal seq
                seq += 1
                return f"event: {kind}\n" + _sse({"type": kind, "sequence_number": seq, **data})

            yield ev("response.created", response=response("in_progress", None))
            item = {"type": "message", "id": mid, "status": "in_progress", "role": "assistant", "content": []}
            yield ev("response.output_item.added", output_index=0, item=item)
            part = {"type": "output_text", "text": "", "annotations": []}
            yield ev("response.content_part.added", item_id=mid, output_index=0, content_index=0, part=part)
            for i in range(0, len(text), max(1, chunk_chars)):
                await pace()
                yield ev("response.output_text.delta", item_id=mid, output_index=0, content_index=0, delta=text[i:i + chunk_chars])
            yield ev("response.output_text.done", item_id=mid, output_index=0, content_index=0, text=text)
            yield ev("response.content_part.done", item_id=mid, output_index=0, content_index=0, part={**part, "text": text})
            done = response("completed", text)
            yield ev("response.output_item.done", output_index=0, item=done["output"][0])
            yield ev("response.completed", response=done)
        return StreamingResponse(gen(), media_type="text/event-stream", headers=headers)

    @app.post("/v1/messages")
    async def messages(request: Request):
        """Anthropic's Messages API: its shapes, its event stream, its error object."""
        body = await body_of(request)
        if not isinstance(body, dict):
            err = body.body and json.loads(body.body)["error"]
            kinds = {400: "invalid_request_error", 404: "not_found_error"}
            return JSONResponse({"type": "error", "error": {"type": kinds.get(body.status_code, "api_error"),
                                                            "message": err["message"]}}, status_code=body.status_code)
        prompt = _input_text(body.get("messages"))
        n, text, headers = answer(prompt, request)
        u = _usage(prompt, text)
        msg = {"id": f"msg_replay{n}", "type": "message", "role": "assistant", "model": str(body.get("model") or model_name),
               "content": [{"type": "text", "text": text}], "stop_reason": "end_turn", "stop_sequence": None,
               "usage": {"input_tokens": u["prompt_tokens"], "output_tokens": u["completion_tokens"]}}
        if not body.get("stream"):
            return JSONResponse(msg, headers=headers)

        async def gen():
            def ev(kind: str, **data: Any) -> str:
                return f"event: {kind}\n" + _sse({"type": kind, **data})

            yield ev("message_start", message=dict(msg, content=[], stop_reason=None, usage=dict(msg["usage"], output_tokens=1)))
            yield ev("content_block_start", index=0, content_block={"type": "text", "text": ""})
            yield ev("ping")
            for i in range(0, len(text), max(1, chunk_chars)):
                await pace()
                yield ev("content_block_delta", index=0, delta={"type": "text_delta", "text": text[i:i + chunk_chars]})
            yield ev("content_block_stop", index=0)
            yield ev("message_delta", delta={"stop_reason": "end_turn", "stop_sequence": None},
                     usage={"output_tokens": msg["usage"]["output_tokens"]})
            yield ev("message_stop")
        return StreamingResponse(gen(), media_type="text/event-stream", headers=headers)

    @app.post("/v1/embeddings")
    async def embeddings(request: Request):
        body = await body_of(request)
        if not isinstance(body, dict):
            return body
        inputs = body.get("input")
        inputs = [inputs] if isinstance(inputs, str) else inputs
        if not isinstance(inputs, list) or not inputs or not all(isinstance(x, str) for x in inputs):
            return JSONResponse({"error": {"message": "input 应为字符串或字符串列表 / 'input' must be a string or a list of strings",
                                           "type": "invalid_request_error", "param": "input", "code": None}}, status_code=400)
        b64 = body.get("encoding_format") == "base64"
        data = []
        for i, text in enumerate(inputs):
            vec = embed(text)
            data.append({"object": "embedding", "index": i,
                         "embedding": base64.b64encode(struct.pack(f"<{len(vec)}f", *vec)).decode() if b64 else vec})
        n = sum(len(x) for x in inputs)
        return {"object": "list", "data": data, "model": str(body.get("model") or model_name),
                "usage": {"prompt_tokens": n, "total_tokens": n}}


def _sse(obj: dict[str, Any]) -> str:
    return "data: " + json.dumps(obj, ensure_ascii=False) + "\n\n"


def _usage(prompt: str, text: str) -> dict[str, int]:
    return {"prompt_tokens": len(prompt), "completion_tokens": len(text), "total_tokens": len(prompt) + len(text)}
