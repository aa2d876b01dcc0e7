"""The gateway's other OpenAI endpoints: ``/v1/completions`` and ``/v1/responses`` (streaming
and not: checked and labelled like chat) and ``/v1/embeddings`` (input checked, nothing to label);
and Anthropic's ``/v1/messages`` (like responses; its errors in Anthropic's shape).

Each obeys the switch (the same ``Guard.admit`` as chat, the same refusals), checks the text the
caller sent — a blocking finding answers with the safe answer without calling the model
(embeddings: a 400 ``input_blocked``, there is no answer to replace), a masking one is masked
before the text leaves — and reports one event per call with ``attributes.endpoint``. Answers:
completions' ``choices[].text`` and responses' ``output_text`` parts are checked (judged in
context with the caller's text), blocked or masked, and labelled; the ``AIGC`` member and header
are added. Streams are in ``endpoint_streams``. Text the guard cannot read (token-id prompts)
is refused rather than passed unchecked.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from fenghuo.guard import errors
from fenghuo.guard.checking import mask, summarise
from fenghuo.guard.core import Decision
from fenghuo.guard.user_measures import user_of

log = logging.getLogger(__name__)


class Texts:
    """The caller's text fields in order, to check them as one text and write masked text back."""

    def __init__(self) -> None:
        self.slots: list[tuple[Any, Any]] = []  # (container, key)

    def add(self, container: Any, key: Any) -> None:
        if isinstance(container[key], str):
            self.slots.append((container, key))

    @property
    def parts(self) -> list[str]:
        return [c[k] for c, k in self.slots]

    @property
    def text(self) -> str:
        return "\n".join(self.parts)

    def mask(self, findings: list) -> None:
        if not any(f.action.value == "mask" for f in findings):
            return
        pos = 0
        for c, k in self.slots:
            t = c[k]
            c[k] = mask(t, findings, pos)
            pos += len(t) + 1


def _unreadable(param: str) -> errors.GuardError:
    return errors.bad_request(f"{param} 须为文本（守卫无法检查词元编号）", f"'{param}' must be text: the guard cannot check token ids",
                              "unsupported_input", param=param)


def completion_texts(body: dict[str, Any]) -> Texts:
    t = Texts()
    prompt = body.get("prompt")
    if isinstance(prompt, str):
        t.add(body, "prompt")
    elif isinstance(prompt, list) and all(isinstance(p, str) for p in prompt):
        body["prompt"] = prompt = list(prompt)
        for i in range(len(prompt)):
            t.add(prompt, i)
    else:
        raise _unreadable("prompt")
    if isinstance(body.get("suffix"), str):
        t.add(body, "suffix")
    return t


def response_texts(body: dict[str, Any]) -> Texts:
    t = Texts()
    if isinstance(body.get("instructions"), str):
        t.add(body, "instructions")
    inp = body.get("input")
    if isinstance(inp, str):
        t.add(body, "input")
        return t
    if not isinstance(inp, list):
        raise errors.bad_request("缺少 input", "'input' is required (a string or a list of items)", "missing_input", param="input")
    body["input"] = inp = [dict(i) if isinstance(i, dict) else i for i in inp]
    for item in inp:
        if not isinstance(item, dict):
            continue
        content = item.get("content")
        if isinstance(content, str):
            t.add(item, "content")
        elif isinstance(content, list):
            item["content"] = parts = [dict(p) if isinstance(p, dict) else p for p in content]
            for p in parts:
                if isinstance(p, dict) and isinstance(p.get("text"), str):
                    t.add(p, "text")
        if isinstance(item.get("output"), str):  # function_call_output: what a tool returned goes to the model too
            t.add(item, "output")
    return t


def message_texts(body: dict[str, Any]) -> Texts:
    """Anthropic's Messages: ``system`` and every text block of ``messages`` (tool results too)."""
    t = Texts()

    def blocks(owner: dict[str, Any], key: str) -> None:
        v = owner.get(key)
        if isinstance(v, str):
            t.add(owner, key)
        elif isinstance(v, list):
            owner[key] = parts = [dict(p) if isinstance(p, dict) else p for p in v]
            for p in parts:
                if isinstance(p, dict) and isinstance(p.get("text"), str):
                    t.add(p, "text")
                elif isinstance(p, dict) and p.get("type") == "tool_result":
                    blocks(p, "content")

    blocks(body, "system")
    msgs = body.get("messages")
    if not isinstance(msgs, list) or not msgs:
        raise errors.bad_request("缺少 messages（非空列表）", "'messages' is required and must be a non-empty list",
                                 "missing_messages", param="messages")
    body["messages"] = msgs = [dict(m) if isinstance(m, dict) else m for m in msgs]
    for m in msgs:
        if isinstance(m, dict):
            blocks(m, "content")
    return t


def embedding_texts(body: dict[str, Any]) -> Texts:
    t = Texts()
    inp = body.get("input")
    if isinstance(inp, str):
        t.add(body, "input")
    elif isinstance(inp, list) and inp and all(isinstance(p, str) for p in inp):
        body["input"] = inp = list(inp)
        for i in range(len(inp)):
            t.add(inp, i)
    else:
        raise _unreadable("input")
    return t


def output_texts(kind: str, data: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(part holding ``text``, the choice or output item it belongs to) for each answer text."""
    out = []
    if kind == "completions":
        for ch in data.get("choices") or ():
            if isinstance(ch, dict) and isinstance(ch.get("text"), str):
                out.append((ch, ch))
    elif kind == "messages":
        for block in data.get("content") or ():
            if isinstance(block, dict) and block.get("type") == "text" and isinstance(block.get("text"), str):
                out.append((block, data))
    else:
        for item in data.get("output") or ():
            if isinstance(item, dict) and item.get("type") == "message" and isinstance(item.get("content"), list):
                for p in item["content"]:
                    if isinstance(p, dict) and p.get("type") == "output_text" and isinstance(p.get("text"), str):
                        out.append((p, item))
    return out


READERS = {"/v1/completions": ("completions", completion_texts, "/completions", "choices"),
           "/v1/responses": ("responses", response_texts, "/responses", "output"),
           "/v1/embeddings": ("embeddings", embedding_texts, "/embeddings", "data"),
           "/v1/messages": ("messages", message_texts, "/messages", "content")}
ANTHROPIC_HEADERS = (b"x-api-key", b"anthropic-version", b"anthropic-beta")
ANTHROPIC_ERRORS = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error", 404: "not_found_error",
                    413: "request_too_large", 429: "rate_limit_error", 529: "overloaded_error"}


def anthropic_error(e: errors.GuardError) -> errors.GuardError:
    """The same refusal in Anthropic's error shape (``{"type": "error", "error": {"type", "message"}}``)."""
    inner = e.body()["error"]
    shaped = {"type": "error", "error": {**inner, "type": ANTHROPIC_ERRORS.get(e.status, "api_error"),
                                         "message": inner.get("message") or e.message}}
    e.body = lambda: shaped  # type: ignore[method-assign]
    return e


async def handle(gw, scope, receive, send, path: str) -> None:
    """One call to an endpoint of :data:`READERS` (the gateway routes here), with the same
    switch, refusals and stop cut as chat."""
    from fenghuo.guard.asgi import caller_auth, send_json

    kind, reader, up_path, expect = READERS[path]
    attrs = {"endpoint": kind}
    if scope["method"] != "POST":
        return await send_json(send, 405, {"error": {"code": "method_not_allowed", "type": "invalid_request_error",
                                                     "message": "只支持 POST / only POST is allowed", "param": None}})
    started = time.perf_counter()
    g = gw.guard
    task = gw.current_task()
    gw.inflight[task] = None
    stream, decision = False, None
    try:
        body = await gw._read_json(receive)
        stream = bool(body.get("stream")) and kind != "embeddings"
        texts = reader(body)
        decision = g.admit(user_of(scope["headers"], body) if g.users.users else None)
        job = g.input_job(texts.parts)  # a conversation's earlier turns, checked by an earlier call, are not scanned again
        chk = await gw.off_loop(job.run) if gw.offload(job.scan_chars) else job.run()
        if chk.blocked:
            return await _input_blocked(gw, send, kind, body, decision, chk, started, stream)
        texts.mask(chk.verdict.findings)
        # an embedding model is not the chat model whose versions the control plane approves
        up, body = (gw.primary, body) if kind == "embeddings" and decision.route == "primary" else gw._target(decision, body)
        if stream:
            from fenghuo.guard.endpoint_streams import stream_endpoint

            return await stream_endpoint(gw, kind, scope, send, up, up_path, body, decision, chk, started, _anthropic(scope, kind))
        data = await up.post(up_path, body, caller_auth(scope), expect, _anthropic(scope, kind))
        if kind == "embeddings":
            usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
            g.report(status="ok", eff=decision.eff, route=decision.route, model=data.get("model") or decision.model, started=started,
                     tokens_in=usage.get("prompt_tokens"), input=chk, label=False, stream=False, attributes=attrs)
            return await send_json(send, 200, data, gw._headers(decision, data.get("model") or decision.model, None))
        await _answer(gw, send, kind, data, decision, chk, started)
    except errors.GuardError as e:
        await gw._refuse(send, anthropic_error(e) if kind == "messages" else e, started, stream, decision, attributes=attrs)
    except asyncio.CancelledError:
        cut = gw.cuts.pop(task, None)
        if cut is None:
            raise
        task.uncancel()
        e = errors.stopped(cut.eff.reason, cut.eff.incident, g.notices)
        g.report(status="cut", eff=cut.eff, route="refused", refusal="stopped", started=started, stream=stream, detail=e.detail,
                 attributes=attrs)
        await send_json(send, 503, e.body(), [(k.lower().encode(), v.encode()) for k, v in e.headers().items()])
    except Exception as exc:
        log.exception("gateway call failed (%s)", path)
        g.report(status="upstream_error", started=started, stream=stream, detail=f"internal: {type(exc).__name__}: {exc}",
                 attributes=attrs)
        with contextlib.suppress(Exception):
            await send_json(send, 500, errors.internal(exc).body())
    finally:
        gw.inflight.pop(task, None)
        gw.cuts.pop(task, None)


def _anthropic(scope, kind: str) -> dict[str, str] | None:
    """The caller's Anthropic headers, passed on to the upstream (Messages only)."""
    if kind != "messages":
        return None
    return {k.decode(): v.decode("latin-1") for k, v in scope["headers"] if k in ANTHROPIC_HEADERS}


def check_answer(gw, kind: str, data: dict[str, Any], prompt: str) -> tuple[bool, list, list]:
    """Check, judge, block or mask, and label each answer text in place."""
    g = gw.guard
    blocked, findings, judged = False, [], []
    for part, owner in output_texts(kind, data):
        out = g.check_output(part["text"], prompt)
        findings += out.verdict.findings
        if out.judgement is not None:
            judged.append(out.judgement)
        if part.get("logprobs") and (out.blocked or out.text is not part["text"]):
            part["logprobs"] = None if kind == "completions" else []  # its tokens would spell out the blocked or masked text
        if out.blocked:
            blocked = True
            part["text"] = g.safe_answer
            if kind == "completions":
                owner["finish_reason"] = "content_filter"
            elif kind == "messages":
                owner["stop_reason"] = "refusal"
        else:
            part["text"] = out.text
        part["text"] = g.labeller.explicit(part["text"])
    return blocked, findings, judged


async def _answer(gw, send, kind: str, data: dict[str, Any], d: Decision, chk, started: float) -> None:
    from fenghuo.guard.asgi import send_json

    g = gw.guard
    if gw.offload(sum(len(p["text"]) for p, _ in output_texts(kind, data))):  # a remote check, or a long answer
        blocked, findings, judged = await gw.off_loop(check_answer, gw, kind, data, chk.text)
    else:
        blocked, findings, judged = check_answer(gw, kind, data, chk.text)
    pid, meta = g.labeller.issue()
    data["AIGC"] = meta["AIGC"]
    model = data.get("model") or d.model
    usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
    tin, tout = (usage.get("prompt_tokens"), usage.get("completion_tokens")) if kind == "completions" else \
        (usage.get("input_tokens"), usage.get("output_tokens"))
    g.report(status="output_blocked" if blocked else "ok", eff=d.eff, route=d.route, model=model, started=started,
             tokens_in=tin, tokens_out=tout, input=chk, output=summarise(findings, blocked, judged),
             label=g.labeller.config.enabled, stream=False, event_id=pid, attributes={"endpoint": kind})
    await send_json(send, 200, data, gw._headers(d, model, meta))


def blocked_answer(kind: str, pid: str, model: str, text: str, status: str = "completed") -> dict[str, Any]:
    """The safe answer in the endpoint's own shape."""
    if kind == "completions":
        return {"id": f"cmpl-{pid}", "object": "text_completion", "created": int(time.time()), "model": model,
                "choices": [{"index": 0, "text": text, "logprobs": None, "finish_reason": "content_filter"}]}
    if kind == "messages":
        return {"id": f"msg_{pid.replace('-', '')}", "type": "message", "role": "assistant", "model": model,
                "content": [{"type": "text", "text": text}], "stop_reason": "refusal", "stop_sequence": None,
                "usage": {"input_tokens": 0, "output_tokens": 0}}
    return {"id": f"resp_{pid.replace('-', '')}", "object": "response", "created_at": int(time.time()), "status": status,
            "model": model, "error": None, "incomplete_details": None,
            "output": [{"type": "message", "id": f"msg_{pid.replace('-', '')}", "status": "completed", "role": "assistant",
                        "content": [{"type": "output_text", "text": text, "annotations": []}]}]}


async def _input_blocked(gw, send, kind: str, body: dict[str, Any], d: Decision, chk, started: float, stream: bool) -> None:
    from fenghuo.guard.asgi import send_json

    g = gw.guard
    attrs = {"endpoint": kind}
    if kind == "embeddings":
        g.report(status="refused", eff=d.eff, route="refused", refusal="input_blocked", started=started, input=chk, label=False,
                 stream=False, attributes=attrs)
        cats = chk.summary["categories"]
        e = errors.bad_request("输入未通过内容检查", f"the input did not pass the content checks ({', '.join(cats)})", "input_blocked",
                               param="input")
        e.should_retry = False
        return await send_json(send, 400, {"error": {**e.body()["error"], "categories": cats}},
                               [(b"x-should-retry", b"false")])
    pid, meta = g.labeller.issue()
    g.report(status="refused", eff=d.eff, route="refused", refusal="input_blocked", started=started, input=chk,
             label=g.labeller.config.enabled, stream=stream, event_id=pid, attributes=attrs)
    data = blocked_answer(kind, pid, str(body.get("model") or "fenghuo-guard"), g.labeller.explicit(g.safe_answer))
    data["AIGC"] = meta["AIGC"]
    hdrs = gw._headers(Decision(d.eff, "refused", None), None, meta)
    if not stream:
        return await send_json(send, 200, data, hdrs)
    from fenghuo.guard.endpoint_streams import replay_answer

    await replay_answer(send, kind, data, hdrs)

