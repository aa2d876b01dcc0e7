"""An OpenAI-compatible endpoint that answers with recorded real model text.

Given question / unsafe answer / safe answer recordings, it answers each known question with
the recorded answer of the current *mode*; a schedule flips the mode from safe to unsafe after
N calls (or when told on ``POST /admin/mode``), which is how the demo and the tests make a
"model" go bad at a known moment. It is a recorded-traffic replayer, not a mock: the words are
what a real model said. Unknown prompts get one fixed, clearly-marked fallback answer.

``/v1/completions``, ``/v1/responses`` and ``/v1/embeddings`` answer from the same recordings
(``replay.endpoints``). Given ``models``, the server knows only those and answers any other
with OpenAI's own 404 ``model_not_found``; ``app.state.requests`` counts requests per path, so a
test can tell how often a client (and its retries) reached the model.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

from fenghuo.replay.endpoints import mount
from fenghuo.replay.loader import Answers, normalise

MODES = ("safe", "unsafe")
FALLBACK = "（回放上游）没有为这个问题录制的回答。/ (replay upstream) No recorded answer for this prompt."


@dataclass
class Schedule:
    """Which answer the n-th call gets: ``mode`` for calls 1…switch_at, the other one after."""

    mode: str = "safe"
    switch_at: int | None = None
    calls: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def next_mode(self) -> tuple[int, str]:
        with self._lock:
            self.calls += 1
            n = self.calls
        if self.switch_at is not None and n > self.switch_at:
            return n, "unsafe" if self.mode == "safe" else "safe"
        return n, self.mode

    def set_mode(self, mode: str) -> None:
        with self._lock:
            self.mode, self.switch_at = mode, None


def _error(status: int, message: str, code: str) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": "invalid_request_error", "code": code}}, status_code=status)


def _prompt_of(messages: list) -> str:
    """The last user turn's text (string content or OpenAI content parts)."""
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, list):
                return "".join(p.get("text", "") for p in content if isinstance(p, dict))
            return str(content or "")
    return ""


def create_app(
    answers: Answers,
    schedule: Schedule | None = None,
    latency_ms: float = 0.0,
    chunk_chars: int = 16,
    model_name: str = "replay",
    models: list[str] | None = None,
    chunk_delay_ms: float = 0.0,
) -> FastAPI:
    """The replay app; ``schedule`` decides safe/unsafe, ``latency_ms`` imitates model time;
    ``models``: the only model ids it serves (None: any name is answered)."""
    schedule = schedule or Schedule()
    index = answers.index()
    asked: Counter[str] = Counter()
    stats = {"hits": 0, "misses": 0}
    app = FastAPI(title="fenghuo replay upstream", docs_url=None, redoc_url=None)
    app.state.schedule = schedule
    app.state.asked = asked
    app.state.requests = Counter()

    @app.get("/v1/models")
    async def list_models() -> dict:
        app.state.requests["/v1/models"] += 1
        return {"object": "list", "data": [{"id": m, "object": "model", "created": 0, "owned_by": "fenghuo-replay"}
                                           for m in (models or [model_name])]}

    def check(request: Request, body: dict) -> JSONResponse | None:
        """Count the request; OpenAI's answer to a model this server does not have."""
        app.state.requests[request.url.path] += 1
        model = body.get("model")
        if models is not None and model not in models:
            return JSONResponse({"error": {"message": f"The model `{model}` does not exist or you do not have access to it.",
                                           "type": "invalid_request_error", "param": None, "code": "model_not_found"}},
                                status_code=404, headers={"x-request-id": f"req_replay_{sum(app.state.requests.values())}"})
        return None

    def answer(prompt: str, request: Request) -> tuple[int, str, dict[str, str]]:
        n, mode = schedule.next_mode()
        override = request.headers.get("x-replay-mode")
        if override in MODES:
            mode = override
        record = index.get(normalise(prompt))
        asked[record.id if record else "miss:" + normalise(prompt)[:200]] += 1
        stats["hits" if record else "misses"] += 1
        text = (record.unsafe if mode == "unsafe" else record.safe) if record else FALLBACK
        headers = {"x-replay-mode": mode, "x-replay-match": "hit" if record else "miss", "x-replay-call": str(n)}
        if record:
            headers["x-replay-record"] = record.id
        return n, text, headers

    mount(app, answer, check, chunk_chars, model_name, chunk_delay_ms)

    @app.post("/v1/chat/completions")
    async def chat(request: Request):
        try:
            body = json.loads(await request.body())
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):  # RecursionError: nested too deeply
            return _error(400, "请求体不是合法 JSON / body is not valid JSON", "invalid_json")
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list) or not body["messages"]:
            return _error(400, "缺少 messages / 'messages' is required", "missing_messages")
        refused = check(request, body)
        if refused is not None:
            return refused
        prompt = _prompt_of(body["messages"])
        n, text, headers = answer(prompt, request)
        if latency_ms:
            await asyncio.sleep(latency_ms / 1000)
        model = str(body.get("model") or model_name)
        cid, created = f"chatcmpl-replay-{n}", int(time.time())
        if body.get("stream"):
            return StreamingResponse(_stream(cid, created, model, text, chunk_chars), media_type="text/event-stream", headers=headers)
        usage = {"prompt_tokens": len(prompt), "completion_tokens": len(text), "total_tokens": len(prompt) + len(text)}
        return JSONResponse(
            {
                "id": cid,
                "object": "chat.completion",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                "usage": usage,
            },
            headers=headers,
        )

    @app.get("/admin/state")
    async def state() -> dict:
        return {
            "mode": schedule.mode,
            "switch_at": schedule.switch_at,
            "calls": schedule.calls,
            "recordings": len(index),
            **stats,
        }

    @app.get("/admin/asked")
    async def asked_counts() -> dict:
        """How often each recording was asked: lets a test prove no question was asked twice."""
        return dict(asked)

    @app.post("/admin/mode")
    async def set_mode(request: Request):
        try:
            mode = (json.loads(await request.body()) or {}).get("mode")
        except (json.JSONDecodeError, UnicodeDecodeError, AttributeError, RecursionError):
            mode = None
        if mode not in MODES:
            return _error(400, f"mode 必须是 / must be one of {MODES}", "invalid_mode")
        schedule.set_mode(mode)
        return {"mode": mode, "calls": schedule.calls}

    @app.post("/admin/reset")
    async def reset() -> dict:
        asked.clear()
        stats.update(hits=0, misses=0)
        schedule.calls = 0
        return {"reset": True}

    return app


async def _stream(cid: str, created: int, model: str, text: str, size: int):
    def chunk(delta: dict, finish: str | None = None) -> str:
        payload = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
                   "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        return "data: " + json.dumps(payload, ensure_ascii=False) + "\n\n"

    yield chunk({"role": "assistant", "content": ""})
    for start in range(0, len(text), max(1, size)):
        yield chunk({"content": text[start : start + size]})
    yield chunk({}, "stop")
    yield "data: [DONE]\n\n"
