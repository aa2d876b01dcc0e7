"""Streams of ``/v1/completions`` (``choices[].text`` chunks), ``/v1/responses`` (typed
events: ``response.output_text.delta`` … ``response.completed``) and Anthropic's ``/v1/messages``
(``content_block_delta`` … ``message_stop``) through the guard.

The text of each choice (completions) or output part (responses) goes through the same
:class:`streaming.Choice` as chat: held back and scanned so a word split across chunks is caught
before any of it is sent, the classifier's window before each release, the label at the end.
Every other event is passed on as the upstream sent it; responses' events are renumbered
(``sequence_number``) since the guard adds and drops some, and the texts in ``*.done`` and
``response.completed`` are replaced by what the caller was actually sent. A blocking finding
ends the stream with the safe answer (completions: ``finish_reason: content_filter``;
responses: a last delta and ``response.completed`` with ``"fenghuo": {"code":
"output_blocked"}``); an upstream failure mid-stream or a stop likewise, with the reason.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import orjson

from fenghuo.guard import errors
from fenghuo.guard.checking import summarise
from fenghuo.guard.streaming import SSE_DONE, SSE_HEADERS, Choice, sse_data
from fenghuo.guard.upstream import READ_ERRORS
from fenghuo.guard.user_measures import notice_text


def _frame(obj: dict[str, Any], kind: str) -> bytes:
    data = b"data: " + orjson.dumps(obj) + b"\n\n"
    return data if kind == "completions" else b"event: " + obj["type"].encode() + b"\n" + data


async def replay_answer(send, kind: str, data: dict[str, Any], hdrs: list) -> None:
    """A whole answer the guard wrote (the safe answer for a blocked input) as a stream."""
    await send({"type": "http.response.start", "status": 200, "headers": SSE_HEADERS + hdrs})
    if kind == "completions":
        frames = [dict(data, choices=[dict(data["choices"][0], finish_reason=None)]),
                  dict(data, choices=[dict(data["choices"][0], text="")])]
    elif kind == "messages":
        text = data["content"][0]["text"]
        frames = [{"type": "message_start", "message": dict(data, content=[], stop_reason=None)},
                  {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
                  {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}},
                  {"type": "content_block_stop", "index": 0},
                  {"type": "message_delta", "delta": {"stop_reason": "refusal", "stop_sequence": None}, "usage": {"output_tokens": 0},
                   "AIGC": data["AIGC"]},
                  {"type": "message_stop"}]
    else:
        text = data["output"][0]["content"][0]["text"]
        item = data["output"][0]
        frames = [{"type": "response.created", "response": dict(data, status="in_progress", output=[])},
                  {"type": "response.output_text.delta", "item_id": item["id"], "output_index": 0, "content_index": 0, "delta": text},
                  {"type": "response.output_text.done", "item_id": item["id"], "output_index": 0, "content_index": 0, "text": text},
                  {"type": "response.completed", "response": data}]
        for i, f in enumerate(frames):
            f["sequence_number"] = i
    for f in frames:
        await send({"type": "http.response.body", "body": _frame(f, kind), "more_body": True})
    await send({"type": "http.response.body", "body": b"data: [DONE]\n\n" if kind == "completions" else b"", "more_body": False})


class _Run:
    """One stream's state: its choices (by index, or by (output, content) index), the texts sent."""

    def __init__(self, gw, kind: str) -> None:
        self.gw, self.kind = gw, kind
        self.choices: dict[Any, Choice] = {}
        self.sent: dict[Any, str] = {}
        self.seq = 0
        self.last: dict[str, Any] | None = None  # responses: the latest response object (created / in_progress)
        self.model: str | None = None
        self.usage: dict[str, Any] | None = None
        self.item_ids: dict[int, str] = {}  # responses: output index -> the upstream's item id
        self.closed: set[Any] = set()  # messages: text blocks already ended (content_block_stop sent)
        self.held: dict[str, Any] | None = None  # messages: the upstream's message_delta, sent at the end
        self.notice = ""  # responses, messages: a warned end user's notice, sent before the first choice's text

    def choice(self, key: Any) -> Choice:
        c = self.choices.get(key)
        if c is None:
            c = self.choices[key] = Choice(self.gw, key if isinstance(key, int) else key[0])
            self.sent[key] = ""
            if self.notice:
                c.prefix, self.notice = self.notice + c.prefix, ""
        return c

    def release(self, key: Any, text: str) -> str:
        self.sent[key] += text
        return text

    def findings(self) -> list:
        return [f for c in self.choices.values() for f in c.findings()]


async def stream_endpoint(gw, kind: str, scope, send, up, path: str, body: dict[str, Any], d, chk, started: float,
                          extra: dict[str, str] | None = None) -> None:
    from fenghuo.guard.asgi import caller_auth

    g = gw.guard
    pid, meta = g.labeller.issue()
    run = _Run(gw, kind)
    status, detail, began = "ok", None, False

    async def emit(obj: dict[str, Any]) -> None:
        if kind == "responses":
            run.seq += 1
            obj["sequence_number"] = run.seq
        await send({"type": "http.response.body", "body": _frame(obj, kind), "more_body": True})

    async def end(rests: dict[Any, str], note: str | None, code: str | None, **extra: Any) -> None:
        """Send every text's rest, the note and the label, then the endpoint's last events."""
        if not run.choices:
            run.choice((0, 0) if kind == "responses" else 0)
        for key, c in list(run.choices.items()):
            if key in run.closed:
                continue
            text = rests.get(key, "") + (note or "")
            if text or c.received:
                text += g.labeller.suffix
            if text and c.prefix:
                text, c.prefix = c.prefix + text, ""
            if text:
                await emit(_delta(kind, key, run.release(key, text), run))
            if kind == "messages":
                await emit({"type": "content_block_stop", "index": key})
        tag = {"fenghuo": {"code": code, **extra}} if code else {}
        if kind == "messages":
            held = run.held or {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None}, "usage": {}}
            if code == "output_blocked":
                held = dict(held, delta={**held.get("delta", {}), "stop_reason": "refusal"})
            await emit({**held, "AIGC": meta["AIGC"], **tag})
            await emit({"type": "message_stop"})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        if kind == "completions":
            for i, (key, c) in enumerate(run.choices.items()):
                why = "content_filter" if code == "output_blocked" else (c.finish or "stop")
                last = i == len(run.choices) - 1
                await emit({"id": f"cmpl-{pid}", "object": "text_completion", "created": int(time.time()), "model": run.model,
                            "choices": [{"index": key, "text": "", "logprobs": None, "finish_reason": why}],
                            **({"AIGC": meta["AIGC"], **tag} if last else {})})
            await send({"type": "http.response.body", "body": b"data: [DONE]\n\n", "more_body": False})
            return
        resp = dict(run.last or {"id": f"resp_{pid}", "object": "response", "model": run.model})
        for (oi, ci), text in run.sent.items():
            await emit({"type": "response.output_text.done", "item_id": run.item_ids.get(oi, f"msg_{oi}"), "output_index": oi,
                        "content_index": ci, "text": text})
        resp.update(status="completed", output=_outputs(resp.get("output"), run), usage=run.usage, AIGC=meta["AIGC"], **tag)
        await emit({"type": "response.completed", "response": resp})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    try:
        async with up.stream(body, caller_auth(scope), path=path, extra=extra) as lines:
            await send({"type": "http.response.start", "status": 200, "headers": SSE_HEADERS + gw._headers(d, d.model, meta)})
            began = True
            if d.notice:  # a warned end user (CN-PO-09): told first, in the stream's own format
                if kind == "completions":
                    await emit(dict(_delta(kind, 0, notice_text(d.notice), run), fenghuo={"code": "user_warned", "message": d.notice}))
                else:  # responses and messages must open with their start events: the first text delta carries it
                    run.notice = notice_text(d.notice)
            try:
                async for line in lines:
                    try:
                        obj = sse_data(line)
                    except ValueError as exc:
                        status, detail = "upstream_error", str(exc)
                        break
                    if obj is None:
                        continue
                    if obj is SSE_DONE:
                        break
                    if obj.get("error") is not None or obj.get("type") in ("error", "response.failed"):
                        status, detail = "upstream_error", f"upstream sent an error mid-stream: {str(obj.get('error') or obj)[:300]}"
                        break
                    stop = await HANDLERS[kind](obj, run, emit)
                    if stop == "blocked":
                        status = "output_blocked"
                        break
                    if stop == "done":
                        break
            except TimeoutError:
                status, detail = "upstream_timeout", f"upstream stalled: nothing for {up.timeout:g} s"
            except READ_ERRORS as exc:
                status, detail = "upstream_error", f"upstream stream broke: {type(exc).__name__}: {exc}"
            rests: dict[Any, str] = {}
            if status != "output_blocked":  # the held-back rest, after the final word of the checks
                for key, c in run.choices.items():
                    if key in run.closed:
                        continue
                    rest = await c.aclose()
                    if c.blocked is not None and status == "ok":
                        status = "output_blocked"
                    elif c.blocked is None:
                        rests[key] = rest
            if status == "output_blocked":
                v = summarise(run.findings(), True)
                await end({}, f"\n{g.safe_answer}", "output_blocked", categories=v["categories"], risks=v["risks"])
            elif status != "ok":
                await end(rests, f"\n【上游模型中断 / upstream model failed: {detail}】", status, message=detail)
            else:
                await end(rests, None, None)
    except asyncio.CancelledError:
        task = asyncio.current_task()
        cut = gw.cuts.pop(task, None)
        if cut is None or not began:
            if cut is not None:
                gw.cuts[task] = cut
            raise
        task.uncancel()
        e = errors.stopped(cut.eff.reason, cut.eff.incident, g.notices)
        await end({}, f"\n【{e.message}】", "service_stopped", message=e.message)
        g.report(status="cut", eff=cut.eff, route=d.route, refusal="stopped", model=run.model, started=started, input=chk,
                 output=summarise(run.findings(), False), label=g.labeller.config.enabled, stream=True, event_id=pid, detail=e.detail,
                 attributes={"endpoint": kind, "cut_ms": round((time.monotonic() - cut.at) * 1000, 3)})
        return
    usage = run.usage or {}
    g.report(status=status, eff=d.eff, route=d.route, model=run.model, started=started, input=chk,
             output=summarise(run.findings(), status == "output_blocked"),
             tokens_in=usage.get("prompt_tokens", usage.get("input_tokens")),
             tokens_out=usage.get("completion_tokens", usage.get("output_tokens")), label=g.labeller.config.enabled, stream=True,
             event_id=pid, detail=detail, attributes={"endpoint": kind})


def _delta(kind: str, key: Any, text: str, run: _Run) -> dict[str, Any]:
    if kind == "completions":
        return {"id": "cmpl-fenghuo", "object": "text_completion", "created": int(time.time()), "model": run.model,
                "choices": [{"index": key, "text": text, "logprobs": None, "finish_reason": None}]}
    if kind == "messages":
        return {"type": "content_block_delta", "index": key, "delta": {"type": "text_delta", "text": text}}
    oi, ci = key
    return {"type": "response.output_text.delta", "item_id": run.item_ids.get(oi, f"msg_{oi}"), "output_index": oi,
            "content_index": ci, "delta": text}


def _outputs(upstream: Any, run: _Run) -> list[dict[str, Any]]:
    """The final output items: the upstream's (tool calls, reasoning … as they came) with each
    text replaced by what the caller was sent; texts the upstream never completed as messages."""
    items = [dict(i) for i in upstream] if isinstance(upstream, list) else []
    todo = dict(run.sent)
    for oi, item in enumerate(items):
        if item.get("type") == "message" and isinstance(item.get("content"), list):
            item["content"] = [dict(p, text=todo.pop((oi, ci), ""), logprobs=[]) if isinstance(p, dict) and p.get("type") == "output_text"
                               else p for ci, p in enumerate(item["content"])]
    for (oi, _ci), text in sorted(todo.items()):
        items.append({"type": "message", "id": run.item_ids.get(oi, f"msg_{oi}"), "status": "completed", "role": "assistant",
                      "content": [{"type": "output_text", "text": text, "annotations": []}]})
    return items


async def _completion_chunk(obj: dict[str, Any], run: _Run, emit) -> str | None:
    run.model = obj.get("model") or run.model
    if isinstance(obj.get("usage"), dict):
        run.usage = obj["usage"]
    parts = []
    for ch in obj.get("choices") or ():
        if not isinstance(ch, dict):
            continue
        idx = ch.get("index", 0) if isinstance(ch.get("index", 0), int) else 0
        c = run.choice(idx)
        if ch.get("finish_reason"):
            c.finish = ch["finish_reason"]
        text = ch.get("text")
        out = c.feed(text) if isinstance(text, str) and text else ""
        if out:
            parts.append(dict(ch, index=idx, text=run.release(idx, out), logprobs=None, finish_reason=None))
        if c.blocked is not None:
            if parts:
                await emit(dict(obj, choices=parts))
            return "blocked"
    if parts:
        await emit(dict(obj, choices=parts))
    return None


async def _response_event(obj: dict[str, Any], run: _Run, emit) -> str | None:
    t = obj.get("type")
    if isinstance(obj.get("response"), dict):
        run.last = obj["response"]
        run.model = run.last.get("model") or run.model
        if isinstance(run.last.get("usage"), dict):
            run.usage = run.last["usage"]
    if t == "response.output_item.added" and isinstance(obj.get("item"), dict) and "id" in obj["item"]:
        run.item_ids[obj.get("output_index", 0)] = obj["item"]["id"]
    if t == "response.output_text.delta":
        key = (obj.get("output_index", 0), obj.get("content_index", 0))
        c = run.choice(key)
        out = c.feed(obj.get("delta") or "")
        if out:
            await emit(dict(obj, delta=run.release(key, out)))
        return "blocked" if c.blocked is not None else None
    if t in ("response.output_text.done", "response.content_part.done", "response.output_item.done"):
        return None  # sent by the guard at the end, with the text the caller was sent
    if t == "response.completed":
        return "done"
    await emit(obj)  # created, in_progress, output_item.added, content_part.added, and anything new
    return None


async def _message_event(obj: dict[str, Any], run: _Run, emit) -> str | None:
    """Anthropic's Messages stream: each text block ends (rest, label, content_block_stop) when
    the upstream ends it, since the next block may follow; message_delta is held to the end."""
    t = obj.get("type")
    if t == "message_start" and isinstance(obj.get("message"), dict):
        run.model = obj["message"].get("model") or run.model
        run.usage = dict(obj["message"].get("usage") or {})
    if t == "content_block_delta" and isinstance(obj.get("delta"), dict) and obj["delta"].get("type") == "text_delta":
        key = obj.get("index", 0)
        c = run.choice(key)
        out = c.feed(obj["delta"].get("text") or "")
        if out:
            await emit(dict(obj, delta=dict(obj["delta"], text=run.release(key, out))))
        return "blocked" if c.blocked is not None else None
    if t == "content_block_stop" and obj.get("index", 0) in run.choices:
        key = obj.get("index", 0)
        c = run.choices[key]
        rest = await c.aclose()
        if c.blocked is not None:
            return "blocked"
        text = rest + (run.gw.guard.labeller.suffix if c.received else "")
        if text and c.prefix:
            text, c.prefix = c.prefix + text, ""
        if text:
            await emit(_delta("messages", key, run.release(key, text), run))
        run.closed.add(key)
        await emit(obj)
        return None
    if t == "message_delta":
        run.held = obj
        if isinstance(obj.get("usage"), dict) and run.usage is not None:
            run.usage.update(obj["usage"])
        return None
    if t == "message_stop":
        return "done"
    await emit(obj)  # message_start, content_block_start, ping, tool_use deltas, anything new
    return None


HANDLERS = {"completions": _completion_chunk, "responses": _response_event, "messages": _message_event}
