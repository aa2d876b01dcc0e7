"""Real local servers for the guard tests: a control plane, an OpenAI-compatible upstream with
failure modes, and an event receiver that records ids. None of them mocks a fenghuo component:
the control plane is the real one, and the other two are small real HTTP servers."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import Counter

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from fenghuo.checks.base import Action, Finding, Verdict

# A real model answer (JADE v3, safe answer) used when the shared recording is absent.
RECORDED = "我不能提供任何关于赌博技巧的建议。参与赌博可能导致严重的经济损失和家庭问题，请远离赌博，如有困扰可寻求专业帮助。"

REGISTRY = """
jurisdictions:
  - {id: cn, name: China, level: national}
  - {id: cn-bj, name: Beijing, level: provincial, parent: cn}
providers:
  - {id: pa, name: Provider A, jurisdiction: cn-bj}
services:
  - {id: open-chat, name: open chat, provider: pa, sector: general, function: content_generation,
     modalities: [text], reach: 1000, no_human_in_loop: false, backup_model: small-model}
  - {id: closed-med, name: medical, provider: pa, sector: medical, function: decision_support,
     modalities: [text], reach: 2000000, no_human_in_loop: false, backup_model: med-small}
"""


class WordCheck:
    """A tiny real check (Check protocol): blocks listed words, masks 11-digit phone numbers."""

    name = "words"

    def __init__(self, block=("网络赌场", "冰毒"), mask_digits: int = 11) -> None:
        self.block, self.mask_digits = block, mask_digits

    def scan(self, text: str) -> Verdict:
        found = []
        for w in self.block:
            i = text.find(w)
            while i >= 0:
                found.append(Finding("gambling" if "赌" in w else "drugs", i, i + len(w), w, Action.BLOCK, "A1h"))
                i = text.find(w, i + 1)
        run = 0
        for i, c in enumerate(text + " "):
            if c.isdigit():
                run += 1
                continue
            if run == self.mask_digits:
                found.append(Finding("pii.phone", i - run, i, "phone", Action.MASK, "A4f"))
            run = 0
        return Verdict(sorted(found, key=lambda f: f.start))


def upstream_app(text: str = RECORDED, chunk_chars: int = 8) -> FastAPI:
    """OpenAI-compatible upstream; ``app.state.mode`` picks ok | 500 | invalid | slow | slowstream."""
    app = FastAPI()
    app.state.mode = "ok"
    app.state.text = text
    app.state.chunk_delay = 0.0
    app.state.seen = []

    @app.get("/v1/models")
    async def models():
        return {"object": "list", "data": [{"id": "primary-model", "object": "model", "created": 0, "owned_by": "test"}]}

    @app.post("/v1/chat/completions")
    async def chat(request: Request):
        body = json.loads(await request.body())
        app.state.seen.append(body)
        mode = app.state.mode
        if mode == "500":
            return JSONResponse({"error": {"message": "boom"}}, status_code=500)
        if mode == "invalid":
            return Response(b"<html>not json", media_type="application/json")
        if mode == "slow":
            await asyncio.sleep(2)
        txt = app.state.text
        model = body.get("model") or "primary-model"
        if body.get("stream"):
            async def gen():
                def c(delta, fin=None):
                    return "data: " + json.dumps({"id": "x", "object": "chat.completion.chunk", "created": 0, "model": model,
                                                  "choices": [{"index": 0, "delta": delta, "finish_reason": fin}]},
                                                 ensure_ascii=False) + "\n\n"
                yield c({"role": "assistant", "content": ""})
                for i in range(0, len(txt), chunk_chars):
                    if app.state.chunk_delay:
                        await asyncio.sleep(app.state.chunk_delay)
                    yield c({"content": txt[i:i + chunk_chars]})
                yield c({}, "stop")
                yield "data: [DONE]\n\n"
            return StreamingResponse(gen(), media_type="text/event-stream")
        return {"id": "x", "object": "chat.completion", "created": 0, "model": model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": txt}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 5, "completion_tokens": len(txt), "total_tokens": 5 + len(txt)}}

    return app


def receiver_app() -> FastAPI:
    """Records every event id it is sent (deliveries, not unique ids: duplicates show up)."""
    app = FastAPI()
    app.state.ids = Counter()
    app.state.events = []
    app.state.lock = threading.Lock()

    @app.post("/api/v1/events")
    async def events(request: Request):
        batch = json.loads(await request.body())
        with app.state.lock:
            for ev in batch:
                app.state.ids[ev["id"]] += 1
                app.state.events.append(ev)
        return {"accepted": len(batch)}

    return app


def wait_for(pred, timeout: float = 5.0, every: float = 0.005) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(every)
    return pred()


class HangingSink:
    """A real TCP server that accepts event posts and never answers: a sink that hangs.
    ``url`` is its event endpoint, ``held`` the connections it holds; ``close()`` lets go."""

    def __init__(self) -> None:
        import socket

        self.srv = socket.socket()
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(16)
        self.held: list = []
        self.url = f"http://127.0.0.1:{self.srv.getsockname()[1]}/api/v1/events"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.srv.accept()
            except OSError:
                return
            self.held.append(conn)  # read nothing, answer nothing

    def close(self) -> None:
        self.srv.close()
        for c in self.held:
            c.close()  # a request stuck on it fails now

