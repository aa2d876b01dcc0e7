"""Streaming chat completions through the guard.

The upstream's SSE chunks are parsed one by one; their text goes through the check filter
(which holds back a short tail so a word split across chunks is caught before any of it is
sent), and the chunk is re-sent carrying only released text. The stream ends with the rest of
the text, the explicit label and a last chunk carrying the implicit ``AIGC`` metadata.

It is cut — with a final chunk that says why — at the first blocking finding
(``finish_reason: content_filter``) or when a ``stop`` reaches the guard (the gateway cancels
the task; see ``gateway``). The response headers are sent only after the upstream has answered
200, so an upstream error still becomes a plain OpenAI-style error.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import orjson

from fenghuo.guard import errors
from fenghuo.guard.checking import StreamFilter
from fenghuo.guard.ids import uuid7
from fenghuo.guard.upstream import READ_ERRORS

SSE_HEADERS = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache"), (b"x-accel-buffering", b"no")]


def _frame(obj: dict[str, Any]) -> bytes:
    return b"data: " + orjson.dumps(obj) + b"\n\n"


async def stream_chat(gw, scope, send, up, body: dict[str, Any], d, chk, started: float) -> None:  # noqa: ANN001, C901
    from fenghuo.guard.gateway import _auth

    g = gw.guard
    pid = uuid7()
    meta = g.labeller.implicit(pid)
    filt = StreamFilter(g.checks, holdback=gw.holdback)
    base: dict[str, Any] = {"id": f"chatcmpl-{pid}", "object": "chat.completion.chunk", "created": int(time.time()),
                            "model": body.get("model")}
    state = {"started": False, "prefix": g.labeller.prefix, "model": None, "tokens_in": None, "tokens_out": None}
    status = "ok"
    detail = None

    async def emit(obj: dict[str, Any], more: bool = True) -> None:
        await send({"type": "http.response.body", "body": _frame(obj), "more_body": more})

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> dict[str, Any]:
        return {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}

    async def text_out(text: str) -> None:
        if state["prefix"]:
            text, state["prefix"] = state["prefix"] + text, ""
        if text:
            delta = {"content": text} if state.get("role_sent") else {"role": "assistant", "content": text}
            state["role_sent"] = True
            await emit(chunk(delta))

    async def finish(reason: str, note: str | None = None, **extra: Any) -> None:
        tail = (note or "") + g.labeller.suffix
        if tail:
            await text_out(tail)
        await emit(chunk({}, reason, AIGC=meta["AIGC"], **extra))
        await send({"type": "http.response.body", "body": b"data: [DONE]\n\n", "more_body": False})

    try:
        async with up.stream(body, _auth(scope)) as lines:
            await send({"type": "http.response.start", "status": 200, "headers": SSE_HEADERS + gw._headers(d, d.model, meta)})
            state["started"] = True
            finish_reason = None
            try:
                async for line in lines:
                    if not line.startswith("data:"):
                        continue
                    payload = line[5:].strip()
                    if payload == "[DONE]":
                        break
                    try:
                        obj = orjson.loads(payload)
                    except orjson.JSONDecodeError:
                        status, detail = "upstream_error", "upstream sent a chunk that is not JSON"
                        break
                    base["model"] = obj.get("model") or base["model"]
                    state["model"] = base["model"]
                    usage = obj.get("usage")
                    if isinstance(usage, dict):
                        state["tokens_in"], state["tokens_out"] = usage.get("prompt_tokens"), usage.get("completion_tokens")
                    choices = obj.get("choices") or []
                    if not choices:
                        continue
                    ch = choices[0]
                    content = (ch.get("delta") or {}).get("content")
                    if content:
                        released = filt.feed(content)
                        if filt.blocking is not None:
                            await text_out(released)
                            status = "output_blocked"
                            break
                        await text_out(released)
                    if ch.get("finish_reason"):
                        finish_reason = ch["finish_reason"]
            except asyncio.TimeoutError:
                status, detail = "upstream_timeout", f"upstream stalled for {up.timeout:g} s"
            except READ_ERRORS as exc:
                status, detail = "upstream_error", f"upstream stream broke: {type(exc).__name__}: {exc}"
            if status == "output_blocked":
                v = filt.verdict
                await finish("content_filter", f"\n{g.safe_answer}",
                             fenghuo={"code": "output_blocked", "categories": v.categories, "risks": v.risks})
            elif status in ("upstream_timeout", "upstream_error"):
                await text_out(filt.close())
                await finish("stop", f"\n【上游模型中断 / upstream model failed: {detail}】", fenghuo={"code": status, "message": detail})
            else:
                rest = filt.close()
                if filt.blocking is not None:
                    status = "output_blocked"
                    await text_out(rest)
                    v = filt.verdict
                    await finish("content_filter", f"\n{g.safe_answer}", fenghuo={"code": "output_blocked", "categories": v.categories})
                else:
                    await text_out(rest)
                    await finish(finish_reason or "stop")
    except asyncio.CancelledError:
        task = asyncio.current_task()
        cut = gw.cuts.pop(task, None)
        if cut is None or not state["started"]:
            if cut is not None:
                gw.cuts[task] = cut  # not started yet: the gateway answers with a plain 503
            raise
        task.uncancel()
        e = errors.stopped(cut.eff.reason, cut.eff.incident)
        await finish("stop", f"\n【{e.message}】", fenghuo={"code": "service_stopped", "message": e.message, "incident": e.incident})
        g.report(status="cut", eff=cut.eff, route=d.route, refusal="stopped", model=state["model"], started=started, input=chk,
                 output=filt.verdict and {"blocked": False, "categories": filt.verdict.categories, "risks": filt.verdict.risks},
                 label=g.labeller.config.enabled, stream=True, event_id=pid, detail=e.en,
                 attributes={"cut_ms": round((time.monotonic() - cut.at) * 1000, 3)})
        return
    except errors.GuardError:
        raise  # headers not sent yet: the gateway answers with an error body
    v = filt.verdict
    g.report(status=status, eff=d.eff, route=d.route, model=state["model"], started=started, input=chk,
             output={"blocked": status == "output_blocked", "categories": v.categories, "risks": v.risks},
             tokens_in=state["tokens_in"], tokens_out=state["tokens_out"], label=g.labeller.config.enabled, stream=True,
             event_id=pid, detail=detail)
