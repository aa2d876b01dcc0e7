"""An OpenAI-compatible endpoint that answers like a guard model from recorded answers.

``fenghuo.replay`` replays a chat model keyed by the last user turn; a guard request is keyed by
what it is asked to judge, which our rules prompt wraps in instructions and a pair sends as two
turns. So a recording here names the ``model`` it stands for and ``match`` — strings that must
all occur in the request's messages (the question, the answer, or both) — and the answer text
(and optionally the ``logprobs`` a vLLM server would return). The first recording that fits
answers; a request nothing fits gets HTTP 404 naming it, never a made-up verdict.

Used by the LLM-guard tests and ``python -m fenghuo.checks.llm_guard_bench``; a deployment can
use it to try a pipeline configuration before a GPU is available.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from fenghuo.platform.documents import read_document


def load_recordings(path: str | Path) -> list[dict]:
    """A YAML or JSON list of ``{model, match, content[, logprobs]}``; bad entries are refused."""
    raw = read_document(path)  # bounded reader (issue 14)
    if not isinstance(raw, list):
        raise ValueError(f"{path}: expected a list of recordings / 应为录制列表")
    for i, rec in enumerate(raw):
        if not isinstance(rec, dict) or not {"model", "match", "content"} <= set(rec):
            raise ValueError(f"{path}: recording {i} needs model, match and content / 需要 model、match、content")
        if isinstance(rec["match"], str):
            rec["match"] = [rec["match"]]
    return raw


def _text_of(body: dict) -> str:
    parts = []
    for message in body.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, list):
            parts += [str(p.get("text", "")) for p in content if isinstance(p, dict)]
        elif content is not None:
            parts.append(str(content))
    return "\n".join(parts)


def create_app(recordings: list[dict], latency_ms: float = 0.0) -> FastAPI:
    app = FastAPI(title="fenghuo guard replay", docs_url=None, redoc_url=None)
    app.state.requests = []  # every request body, so a test can read what the adapter sent

    @app.post("/v1/chat/completions")
    async def chat(request: Request):
        try:
            body = json.loads(await request.body())
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):  # RecursionError: nested too deeply
            return JSONResponse({"error": {"message": "body is not JSON / 请求体不是 JSON"}}, status_code=400)
        app.state.requests.append(body)
        text, model = _text_of(body), body.get("model")
        rec = next((r for r in recordings if r["model"] == model and all(m in text for m in r["match"])), None)
        if rec is None:
            return JSONResponse({"error": {"message": f"no recording for model {model!r} / 没有录制的回答"}}, status_code=404)
        if latency_ms:
            await asyncio.sleep(latency_ms / 1000)
        choice = {"index": 0, "message": {"role": "assistant", "content": rec["content"]}, "finish_reason": "stop"}
        if body.get("logprobs") and rec.get("logprobs"):
            choice["logprobs"] = {"content": rec["logprobs"]}
        return {"id": "chatcmpl-guard-replay", "object": "chat.completion", "created": 0, "model": model, "choices": [choice]}

    return app
