"""Streaming chat completions through the guard.

The upstream's SSE chunks are parsed one by one and passed on with every field and every
choice index they carry (``tool_calls``, ``refusal``, ``role``, n > 1 choices); only each
choice's ``content`` is changed: it goes through that choice's check filter, which holds back a
short tail so a word split across chunks is caught before any of it is sent, and through the
model window (``stream_window``), which scores the text with the classifier before it is
released. ``logprobs`` entries, which spell the tokens out, are held back with their text and
released with it; a choice whose text was masked sends no logprobs from then on, and a
blocked choice none for the text it did not send. Each choice ends with the rest of its text and the explicit label; the last
chunk carries the implicit ``AIGC`` metadata.

Token counts: the upstream is asked for a usage chunk (``stream_options.include_usage``) so the
call's event carries them; the caller sees that chunk only if it asked for it.

The stream is cut — with a final chunk that says why — at the first blocking finding
(``finish_reason: content_filter``), when the upstream fails mid-stream (bad chunk, stall,
broken connection, an error object such as vLLM's ``{"object": "error", ...}``:
``fenghuo.code`` says which), or when a ``stop`` reaches the guard (the gateway cancels the
task; see ``gateway``). The response headers are sent only after the upstream has answered 200,
so an upstream error before that is a plain OpenAI-style error.
"""

from __future__ import annotations

import asyncio
import functools
import time
from typing import Any

import orjson

from fenghuo.checks.base import Verdict
from fenghuo.guard import errors
from fenghuo.guard.checking import Checked, judge_answer, summarise
from fenghuo.guard.stream_filter import StreamFilter
from fenghuo.guard.stream_window import ModelWindow, model_checks
from fenghuo.guard.upstream import READ_ERRORS
from fenghuo.guard.user_measures import notice_text

SSE_HEADERS = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache"), (b"x-accel-buffering", b"no")]
CHOICE_OWN = ("index", "delta", "logprobs", "finish_reason")


def _frame(obj: dict[str, Any]) -> bytes:
    return b"data: " + orjson.dumps(obj) + b"\n\n"


class Choice:
    """One choice index of the answer: its filter, model window, label prefix, held logprobs."""

    def __init__(self, gw, index: int) -> None:
        g = gw.guard
        self.index = index
        self.filt = StreamFilter(g.checks, holdback=gw.holdback)
        self.window = ModelWindow(self.filt.scanner, gw.window)
        self.hold = gw.hold_whole and self.filt.scanner is not None
        self.slow = bool(model_checks(self.filt.scanner)[1])  # an LLM guard answers at close(): off the event loop
        self.prefix = g.labeller.prefix
        self.finish: str | None = None
        self.received = self.released = 0
        self.logprobs: list[tuple[int, Any]] = []  # (end offset of its chunk's text, entry)
        self.held = ""  # hold_whole: everything released by the checks, sent only at the end
        self.blocked = None  # the blocking Finding
        self.parts: list[str] = []  # the answer as received, judged in context at the end

    def feed(self, content: str) -> str:
        """Text this content lets us send now ("" if blocked: then ``blocked`` is set)."""
        self.received += len(content)
        self.parts.append(content)
        out = self.filt.feed(content)
        self.window.feed(content)
        if self.filt.blocking is not None:
            self.blocked = self.filt.blocking
        if out and self.window.active:
            # Also when a lexicon hit in this chunk cut the stream: the text before the hit is
            # released only if the classifier passes it too.
            hit = self.window.check()
            if hit is not None:  # the classifier scored the window as blocking: none of it goes out
                self.blocked = self.blocked or hit
                return ""
        return self._take(out)

    async def aclose(self) -> str:
        return await asyncio.to_thread(self.close) if self.slow else self.close()

    def close(self) -> str:
        """The rest after the scanner's final word (held-back hits, whole-text checks)."""
        rest = self.filt.close()
        if self.filt.blocking is not None:
            self.blocked = self.filt.blocking
        if self.hold:
            if self.blocked is not None:
                return ""
            self.hold = False
            rest, self.held = self.held + rest, ""
        return self._take(rest)

    def _take(self, text: str) -> str:
        if self.hold:
            self.held += text
            return ""
        self.released += len(text)
        if text and self.prefix:
            text, self.prefix = self.prefix + text, ""
        return text

    def take_logprobs(self, everything: bool = False) -> list[Any]:
        if self.logprobs and any(f.action.value == "mask" for f in self.filt.findings):
            # The tokens would spell out what ``content`` shows masked: this choice sends no more.
            self.logprobs.clear()
            return []
        n = len(self.logprobs) if everything else next((i for i, (end, _) in enumerate(self.logprobs) if end > self.released),
                                                       len(self.logprobs))
        out = [e for _, e in self.logprobs[:n]]
        del self.logprobs[:n]
        return out

    def findings(self) -> list:
        return self.filt.findings + self.window.findings


SSE_DONE = object()  # sse_data: the stream's "data: [DONE]"


def sse_data(line: str):
    """One line of an upstream's server-sent events: None for a line that is not data (skip it),
    ``SSE_DONE`` for ``data: [DONE]``, else its JSON object; ValueError naming a chunk that is
    not a JSON object. Shared by the chat completions stream and the other endpoints' streams."""
    if not line.startswith("data:"):
        return None
    payload = line[5:].strip()
    if payload == "[DONE]":
        return SSE_DONE
    try:
        obj = orjson.loads(payload)
    except ValueError:  # orjson.JSONDecodeError is a ValueError
        obj = None
    if not isinstance(obj, dict):
        raise ValueError(f"upstream sent a chunk that is not a JSON object: {payload[:80]!r}")
    return obj


def _error_message(obj: dict[str, Any]) -> str:
    err = obj.get("error")
    src = err if isinstance(err, dict) else obj
    msg = src.get("message") if isinstance(src.get("message"), str) else (err if isinstance(err, str) else None)
    return (msg or orjson.dumps(obj).decode())[:300]


def _caller_usage(body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """(body to send upstream, whether the caller itself asked for the usage chunk)."""
    so = body.get("stream_options")
    asked = isinstance(so, dict) and bool(so.get("include_usage"))
    if asked or (so is not None and not isinstance(so, dict)):
        return body, asked
    return dict(body, stream_options={**(so or {}), "include_usage": True}), False


async def stream_chat(gw, scope, send, up, body: dict[str, Any], d, chk, started: float) -> None:
    from fenghuo.guard.asgi import caller_auth

    g = gw.guard
    pid, meta = g.labeller.issue()
    if gw.stream_usage:
        body, wants_usage = _caller_usage(body)
    else:
        wants_usage = True
    base: dict[str, Any] = {"id": f"chatcmpl-{pid}", "object": "chat.completion.chunk", "created": int(time.time()),
                            "model": body.get("model")}
    choices: dict[int, Choice] = {}
    state: dict[str, Any] = {"started": False, "model": None, "tokens_in": None, "tokens_out": None, "usage": None, "extra": {},
                             "judged": [], "judgements": []}
    status, detail = "ok", None

    def choice(i: int) -> Choice:
        c = choices.get(i)
        if c is None:
            c = choices[i] = Choice(gw, i)
        return c

    async def emit(obj: dict[str, Any], more: bool = True) -> None:
        await send({"type": "http.response.body", "body": _frame(obj), "more_body": more})

    def chunk(parts: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
        return {**state["extra"], **base, "choices": parts, **extra}

    async def finish(reason: str | None, note: str | None = None, only: Choice | None = None, **extra: Any) -> None:
        """End every choice (``reason`` None: each its own upstream finish_reason), then [DONE]."""
        ends = list(choices.values()) or [choice(0)]
        for k, c in enumerate(ends):
            text = (note if only is None or c is only else "") or ""
            if text or c.received:  # labels go on text; a choice that only called tools has none (as unstreamed)
                text += g.labeller.suffix
            if text and c.prefix:
                text, c.prefix = c.prefix + text, ""
            if text:
                await emit(chunk([{"index": c.index, "delta": {"content": text}, "finish_reason": None}]))
            why = reason or c.finish or "stop"
            if only is not None and c is not only and reason == "content_filter":
                why = "content_filter"  # cut together with the blocked choice
            last = k == len(ends) - 1
            await emit(chunk([{"index": c.index, "delta": {}, "finish_reason": why}], **({"AIGC": meta["AIGC"], **extra} if last else {})))
        if state["usage"] is not None and wants_usage:
            await emit(chunk([], usage=state["usage"], AIGC=meta["AIGC"]))
        await send({"type": "http.response.body", "body": b"data: [DONE]\n\n", "more_body": False})

    def verdict() -> dict[str, Any]:
        fs = [f for c in choices.values() for f in c.findings()] + state["judged"]
        return summarise(fs, status == "output_blocked", state["judgements"])

    async def judge_all() -> None:
        """Judge each choice's whole answer as a reply to the request (issue 12 item 5). At the
        end of a stream the text has been sent: the judgement is recorded, it cannot block."""
        if g.judge is None or not chk.text:
            return
        for c in choices.values():
            text = "".join(c.parts)
            if not text:
                continue
            fn = functools.partial(judge_answer, g.judge, chk.text, text, Checked(Verdict(), text, False), g.compliance_action)
            out = await asyncio.to_thread(fn) if gw.slow_checks else fn()
            state["judgements"].append(out.judgement)
            state["judged"] += out.verdict.findings

    blocked: Choice | None = None
    try:
        async with up.stream(body, caller_auth(scope)) as lines:
            await send({"type": "http.response.start", "status": 200, "headers": SSE_HEADERS + gw._headers(d, d.model, meta)})
            state["started"] = True
            if d.notice:  # a warned end user (CN-PO-09): the first chunk tells them, before the answer
                await emit(chunk([{"index": 0, "delta": {"role": "assistant", "content": notice_text(d.notice)}, "finish_reason": None}],
                                 fenghuo={"code": "user_warned", "message": d.notice}))
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
                    if obj.get("object") == "error" or obj.get("error") is not None:  # vLLM and OpenAI mid-stream errors
                        status, detail = "upstream_error", f"upstream sent an error mid-stream: {_error_message(obj)}"
                        break
                    blocked = await _pass_on(obj, base, state, choice, emit, chunk)
                    if blocked is not None:
                        status = "output_blocked"
                        break
            except TimeoutError:
                status, detail = "upstream_timeout", f"upstream stalled: nothing for {up.timeout:g} s"
            except READ_ERRORS as exc:
                status, detail = "upstream_error", f"upstream stream broke: {type(exc).__name__}: {exc}"
            if status == "ok":
                for c in list(choices.values()):
                    rest = await c.aclose()
                    if c.blocked is not None:
                        status, blocked = "output_blocked", c
                    if rest or (c.blocked is None and c.logprobs):
                        part: dict[str, Any] = {"index": c.index, "delta": {"content": rest} if rest else {}, "finish_reason": None}
                        lp = c.take_logprobs(everything=c.blocked is None)
                        if lp:
                            part["logprobs"] = {"content": lp}
                        await emit(chunk([part]))
                    if blocked is not None:
                        break
            if status == "output_blocked":
                v = verdict()
                await finish("content_filter", f"\n{g.safe_answer}", only=blocked,
                             fenghuo={"code": "output_blocked", "categories": v["categories"], "risks": v["risks"]})
            elif status in ("upstream_timeout", "upstream_error"):
                # What arrived before the failure was checked like the rest; the note says why it ends here.
                for c in list(choices.values()):
                    rest = await c.aclose()
                    if rest and c.blocked is None:
                        await emit(chunk([{"index": c.index, "delta": {"content": rest}, "finish_reason": None}]))
                await finish("stop", f"\n【上游模型中断 / upstream model failed: {detail}】", fenghuo={"code": status, "message": detail})
            else:
                await finish(None)
    except asyncio.CancelledError:
        task = asyncio.current_task()
        cut = gw.cuts.pop(task, None)
        if cut is None or not state["started"]:
            if cut is not None:
                gw.cuts[task] = cut  # not started yet: the gateway answers with a plain 503
            raise
        task.uncancel()
        e = errors.stopped(cut.eff.reason, cut.eff.incident, g.notices)
        await finish("stop", f"\n【{e.message}】", fenghuo={"code": "service_stopped", "message": e.message, "incident": e.incident})
        g.report(status="cut", eff=cut.eff, route=d.route, refusal="stopped", model=state["model"], started=started, input=chk,
                 output={**verdict(), "blocked": False}, label=g.labeller.config.enabled, stream=True, event_id=pid, detail=e.detail,
                 tokens_in=state["tokens_in"], tokens_out=state["tokens_out"],
                 attributes={"cut_ms": round((time.monotonic() - cut.at) * 1000, 3)})
        return
    except errors.GuardError:
        raise  # headers not sent yet: the gateway answers with an error body
    if status in ("ok", "output_blocked"):
        await judge_all()
    g.report(status=status, eff=d.eff, route=d.route, model=state["model"], started=started, input=chk, output=verdict(),
             tokens_in=state["tokens_in"], tokens_out=state["tokens_out"], label=g.labeller.config.enabled, stream=True,
             event_id=pid, detail=detail)


async def _pass_on(obj: dict[str, Any], base, state, choice, emit, chunk) -> Choice | None:
    """Re-send one upstream chunk with its choices' text checked; the blocked choice, if any."""
    base["model"] = state["model"] = obj.get("model") or base["model"]
    if not state["extra"]:  # system_fingerprint, service_tier, …: passed on as the upstream sent them
        state["extra"] = {k: v for k, v in obj.items() if k not in ("id", "object", "created", "model", "choices", "usage")}
    usage = obj.get("usage")
    if isinstance(usage, dict):
        state["usage"] = usage
        state["tokens_in"], state["tokens_out"] = usage.get("prompt_tokens"), usage.get("completion_tokens")
    parts = []
    for ch in obj.get("choices") or ():
        if not isinstance(ch, dict):
            continue
        idx = ch.get("index", 0)
        c = choice(idx if isinstance(idx, int) else 0)
        delta = ch.get("delta")
        delta = dict(delta) if isinstance(delta, dict) else {}
        content = delta.pop("content", None)
        lp = ch.get("logprobs")
        if isinstance(content, str) and content:
            if isinstance(lp, dict) and isinstance(lp.get("content"), list):
                c.logprobs += [(c.received + len(content), e) for e in lp["content"]]
            text = c.feed(content)
            if text:
                delta["content"] = text
        if ch.get("finish_reason"):
            c.finish = ch["finish_reason"]  # sent at the end, after the rest of the text and the label
        part = {k: v for k, v in ch.items() if k not in CHOICE_OWN}
        part.update(index=c.index, delta=delta, finish_reason=None)
        held = c.take_logprobs()
        if held:
            part["logprobs"] = {**(lp if isinstance(lp, dict) else {}), "content": held}
        if delta or held:
            parts.append(part)
        if c.blocked is not None:
            if parts:
                await emit(chunk(parts))
            return c
    if parts:
        await emit(chunk(parts))
    return None
