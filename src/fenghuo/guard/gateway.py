"""The OpenAI-compatible gateway: ``/v1/chat/completions`` (streaming and not) and ``/v1/models``
in front of any OpenAI-compatible upstream, obeying the switch, checking, labelling, reporting;
``/v1/completions``, ``/v1/responses`` and ``/v1/embeddings`` are in ``guard.endpoints``, and
``/metrics`` (``guard.metrics``), ``/healthz`` and ``/readyz`` here.

A bare ASGI callable rather than FastAPI/Starlette routing: the gateway has a few routes and a
per-call budget of well under a millisecond, and the framework layers (request objects,
dependency resolution, response classes) are a measurable share of that. The caller's body is
passed on unchanged except for ``model`` when the backup answers or a model version is approved.

A ``stop`` cuts calls in flight: every call's task is registered while it runs, and when the
switch cache reports the change to ``stopped`` the tasks are cancelled from the event loop; the
handler catches the cancellation it was told about and ends the call (or stream) saying why.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import orjson

from fenghuo.checks.base import Verdict
from fenghuo.guard import errors, runtime
from fenghuo.guard.asgi import answer_chars, caller_auth, header_list, mask_messages, send_json
from fenghuo.guard.checking import Checked, judge_prompt, message_parts, summarise
from fenghuo.guard.core import Decision, Guard
from fenghuo.guard.endpoints import READERS, handle
from fenghuo.guard.labels import HEADER
from fenghuo.guard.metrics import CONTENT_TYPE, GatewayMetrics
from fenghuo.guard.state import Effective
from fenghuo.guard.streaming import stream_chat
from fenghuo.guard.upstream import Upstream, Versions
from fenghuo.guard.user_measures import user_of

log = logging.getLogger(__name__)
MAX_BODY = 8 * 1024 * 1024
AIGC_HEADER = HEADER.lower().encode()
# A text this long is checked in a worker thread: ≈ 1 ms of checks per 8,000 characters would
# otherwise stop every other call on the loop meanwhile (the hand-over costs ≈ 50 µs).
OFFLOAD_CHARS = 8192


class Cut(Exception):
    """The call was cut by a stop that reached the guard while it ran."""

    def __init__(self, eff: Effective, at: float) -> None:
        self.eff, self.at = eff, at


class Gateway:
    def __init__(self, guard: Guard, upstream: str, backup: str | None = None, *, timeout: float = 60.0,
                 api_key: str | None = None, backup_key: str | None = None, holdback: int = 32, window: int = 128,
                 hold_whole: bool = False, stream_usage: bool = True, model_upstreams: dict[str, str] | None = None,
                 settle: bool = False) -> None:
        self.guard = guard
        # Settle the process at startup (guard.runtime: GC freeze, thresholds, switch interval):
        # process-wide changes, so only where the process is the gateway's own (``fenghuo
        # gateway``), never in a test, an embedding application or the SDK.
        self.settle = settle
        self.watch: runtime.LoopWatch | None = None  # the loop's lateness and GC pauses, on /healthz
        self.primary = Upstream(upstream, timeout=timeout, api_key=api_key)
        self.versions = Versions(model_upstreams, timeout=timeout, api_key=api_key)  # CN-TC-18: the approved version's upstream
        self.backup = Upstream(backup, timeout=timeout, api_key=backup_key or api_key) if backup else None
        if self.backup and not guard.has_backup:
            guard.has_backup = True
        self.holdback = holdback
        self.window = window  # characters the classifier scores before each streamed release (stream_window)
        self.hold_whole = hold_whole  # streams: send nothing until every check, an LLM guard too, saw the whole answer
        self.stream_usage = stream_usage  # ask the upstream for the usage chunk so stream events carry token counts
        if window < 16:
            raise ValueError(f"stream window must be at least 16 characters, got {window} / 流式检查窗口至少 16 字")
        self._hdr_base: tuple | None = None  # (state, route, the headers they give): see _headers
        self.inflight: dict[asyncio.Task, None] = {}
        self.cuts: dict[asyncio.Task, Cut] = {}
        self.loop: asyncio.AbstractEventLoop | None = None
        guard.cache.subscribe(self._on_change)
        self.metrics = guard.metrics = GatewayMetrics(guard.service, guard.instance)  # GET /metrics, fed by Guard.report
        # A check that asks a remote model (LLM guard) blocks for its round trip: run the checks
        # off the event loop then, so other calls go on meanwhile. Worked out once, not per call.
        from fenghuo.guard.stream_window import per_chunk

        self.slow_checks = any(not per_chunk(c) for c in getattr(guard.checks, "checks", ()) or ())
        self._long_checks: ThreadPoolExecutor | None = None  # off_loop's thread, made on first use

    def offload(self, chars: int) -> bool:
        """Check off the event loop: always for a remote check, else for a long text."""
        return self.slow_checks or chars > OFFLOAD_CHARS

    async def off_loop(self, fn, *args):
        """``fn(*args)`` off the event loop, as ``offload`` decided. A remote check waits on the
        network, so calls may wait together (asyncio's pool). Local checks of long texts run one
        at a time on a thread of their own: most of their work holds the interpreter lock (Python,
        and kernels that keep it), and several of them at once took it from the event loop in
        turn, so its 10 ms timer fired up to 21 ms late with four 64 KB prompts at once (issue
        19); one thread leaves the loop a turn at least every switch interval."""
        if self.slow_checks:
            return await asyncio.to_thread(fn, *args)
        if self._long_checks is None:
            self._long_checks = ThreadPoolExecutor(1, thread_name_prefix="fenghuo-long-check")
        ctx = contextvars.copy_context()  # as asyncio.to_thread does
        return await asyncio.get_running_loop().run_in_executor(self._long_checks, ctx.run, fn, *args)

    # -- the stop cut -------------------------------------------------------------------------
    def _on_change(self, before: Effective, after: Effective) -> None:
        if after.state == "stopped" and before.state != "stopped" and self.loop is not None:
            at = time.monotonic()
            self.loop.call_soon_threadsafe(self._cut_all, after, at)

    def _cut_all(self, eff: Effective, at: float) -> None:
        for task in list(self.inflight):
            self.cuts[task] = Cut(eff, at)
            task.cancel()

    def current_task(self) -> asyncio.Task | None:
        """This call's task, asked of the loop the gateway runs in: ``asyncio.current_task()``
        without a loop asks ``get_running_loop()`` first, a ``getpid()`` system call on Python
        3.11 (issue 19: two per call). Under a loop that has stopped (the app served again in a
        new one) it finds none, and the loop is asked for as before."""
        return asyncio.current_task(self.loop) or asyncio.current_task()

    # -- ASGI ---------------------------------------------------------------------------------
    async def __call__(self, scope, receive, send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            return await self._lifespan(receive, send)
        if kind != "http":
            return
        self.loop = self.loop or asyncio.get_running_loop()
        path, method = scope["path"], scope["method"]
        if path == "/v1/chat/completions":
            if method != "POST":
                return await send_json(send, 405, {"error": {"code": "method_not_allowed", "type": "invalid_request_error",
                                                             "message": "只支持 POST / only POST is allowed", "param": None}})
            return await self.chat(scope, receive, send)
        if path in READERS:  # /v1/completions, /v1/responses, /v1/embeddings (guard.endpoints)
            return await handle(self, scope, receive, send, path)
        if path == "/v1/models" and method == "GET":
            return await self.models(scope, send)
        if path in ("/healthz", "/fenghuo/state"):
            eff = self.guard.state()
            return await send_json(send, 200, {"service": self.guard.service, "instance": self.guard.instance, "pid": os.getpid(),
                                               "state": eff.state, "version": eff.version, "failsafe": eff.failsafe,
                                               "source": eff.source, "telemetry": self.guard.telemetry.stats,
                                               "input_checks": self.guard.input_verdicts.stats,
                                               "labels_ahead": getattr(self.guard.labeller.ahead, "stats", None),
                                               "loop": self.watch.stats if self.watch is not None else None})
        if path == "/metrics":
            body = self.metrics.render(self.guard.state(), self.guard.telemetry.stats)
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", CONTENT_TYPE), (b"content-length", str(len(body)).encode())]})
            return await send({"type": "http.response.body", "body": body})
        if path == "/readyz":
            return await self._ready(send)
        await send_json(send, 404, {"error": {"code": "not_found", "type": "invalid_request_error", "param": None,
                                              "message": f"未知路径 {path} / unknown path {path}"}})

    async def _ready(self, send) -> None:
        """Ready to take traffic: started, and following the switch live (not on a bootstrap
        state or the fail-safe, when every call would be refused or decided blind)."""
        eff = self.guard.state()
        ready = self.loop is not None and not eff.failsafe
        why = None if ready else ("未启动 / not started" if self.loop is None else
                                  "未与控制面保持联系（失效安全或引导状态）/ no live contact with the control plane "
                                  f"(running on its {eff.source} state)")
        await send_json(send, 200 if ready else 503, {"ready": ready, "state": eff.state, "version": eff.version,
                                                      "source": eff.source, "failsafe": eff.failsafe, "why": why})

    async def _lifespan(self, receive, send) -> None:
        while True:
            msg = await receive()
            if msg["type"] == "lifespan.startup":
                self.loop = asyncio.get_running_loop()
                if self.settle:  # the gateway's own process: everything is loaded now (guard.runtime)
                    runtime.settle()
                    self.guard.labeller.sign_ahead()  # labels signed in idle time (guard.label_ahead)
                self.watch = runtime.LoopWatch().start()
                await send({"type": "lifespan.startup.complete"})
            elif msg["type"] == "lifespan.shutdown":
                if self.watch is not None:
                    self.watch.stop()
                if self.guard.labeller.ahead is not None:
                    self.guard.labeller.ahead.stop()
                await self.primary.aclose()
                if self.backup:
                    await self.backup.aclose()
                await self.versions.aclose()
                if self._long_checks is not None:
                    self._long_checks.shutdown(wait=False)
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def models(self, scope, send) -> None:
        # An empty list would read as "this upstream serves no model": say the upstream failed.
        started = time.perf_counter()
        try:
            data = await self.primary.models(caller_auth(scope))
        except errors.UpstreamError as e:
            eff = self.guard.state()
            self.guard.report(status="upstream_timeout" if e.code == "upstream_timeout" else "upstream_error", eff=eff,
                              route="primary", started=started, detail=f"/v1/models: {e.detail}")
            return await send_json(send, e.status, e.body(), header_list(e.headers()))
        await send_json(send, 200, data)

    # -- chat ---------------------------------------------------------------------------------
    async def chat(self, scope, receive, send) -> None:
        started = time.perf_counter()
        g = self.guard
        task = self.current_task()
        self.inflight[task] = None
        stream = False
        decision = None
        try:
            req = await self._read_request(receive)
            stream = bool(req.get("stream"))
            decision = g.admit(user_of(scope["headers"], req) if g.users.users else None)  # nothing to look up without measures
            job = g.input_job(message_parts(req["messages"]))  # what earlier turns' calls checked is not scanned again
            chk = await self.off_loop(job.run) if self.offload(job.scan_chars) else job.run()
            if chk.blocked:
                return await self._input_blocked(send, req, decision, chk, started, stream)
            if chk.verdict.findings:
                req = mask_messages(req, chk.verdict.findings)
            up, body = self._target(decision, req)
            if stream:
                return await stream_chat(self, scope, send, up, body, decision, chk, started)
            data = await up.complete(body, caller_auth(scope))
            await self._answer(send, data, decision, chk, started)
        except errors.GuardError as e:
            await self._refuse(send, e, started, stream, decision)
        except asyncio.CancelledError:
            cut = self.cuts.pop(task, None)
            if cut is None:
                raise
            task.uncancel()
            e = errors.stopped(cut.eff.reason, cut.eff.incident, g.notices)
            g.report(status="cut", eff=cut.eff, route="refused", refusal="stopped", started=started, stream=stream, detail=e.detail)
            await send_json(send, 503, e.body())
        except Exception as exc:
            log.exception("gateway call failed")
            g.report(status="upstream_error", started=started, stream=stream, detail=f"internal: {type(exc).__name__}: {exc}")
            with contextlib.suppress(Exception):
                await send_json(send, 500, errors.internal(exc).body())
        finally:
            self.inflight.pop(task, None)
            self.cuts.pop(task, None)

    async def _read_request(self, receive) -> dict[str, Any]:
        req = await self._read_json(receive)
        msgs = req.get("messages")
        if not isinstance(msgs, list) or not msgs:
            raise errors.bad_request("缺少 messages（非空列表）", "'messages' is required and must be a non-empty list",
                                     "missing_messages", param="messages")
        return req

    async def _read_json(self, receive) -> dict[str, Any]:
        chunks, size = [], 0
        while True:
            msg = await receive()
            chunk = msg.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY:
                raise errors.bad_request("请求体过大", f"request body larger than {MAX_BODY} bytes", "body_too_large")
            chunks.append(chunk)
            if not msg.get("more_body"):
                break
        try:
            req = orjson.loads(b"".join(chunks))
        except orjson.JSONDecodeError as exc:
            raise errors.bad_request(f"请求体不是合法 JSON：{exc}", f"request body is not valid JSON: {exc}", "invalid_json") from None
        if not isinstance(req, dict):
            raise errors.bad_request("请求体应为 JSON 对象", "request body must be a JSON object", "invalid_json")
        return req

    def _target(self, d: Decision, req: dict[str, Any]) -> tuple[Upstream, dict[str, Any]]:
        if d.route == "primary":  # to the approved model version, if one is registered (guard.model_versions)
            return self.versions.target(self.primary, d.model, self.guard.models, req)
        body = dict(req, model=d.model) if d.model else req
        return (self.backup or self.primary), body

    async def _answer(self, send, data: dict[str, Any], d: Decision, chk, started: float) -> None:
        g = self.guard
        # The answer's checks read the answer (the judge only the prompt's last 2,000 characters):
        # a long answer goes to a thread, a long prompt alone does not.
        if self.offload(answer_chars(data)):
            blocked, findings, judged, texts = await self.off_loop(self._check_answer, data, chk)
        else:
            blocked, findings, judged, texts = self._check_answer(data, chk)
        pid, meta = g.labeller.issue()
        data["AIGC"] = meta["AIGC"]
        if d.notice:  # a warned end user (CN-PO-09)
            data["fenghuo"] = {"code": "user_warned", "message": d.notice}
        model = data.get("model") or d.model
        usage = data.get("usage")
        usage = usage if isinstance(usage, dict) else {}  # a malformed usage must not turn an answer into a 500
        summary = summarise(findings, blocked, judged)
        if texts is not None:  # capture_text: the checked output text goes on the event (Guard._captured)
            summary = Checked(Verdict(findings), "\n".join(t for t, _ in texts), blocked, judged[0] if judged else None)
        g.report(status="output_blocked" if blocked else "ok", eff=d.eff, route=d.route, model=model, started=started,
                 tokens_in=usage.get("prompt_tokens"), tokens_out=usage.get("completion_tokens"), input=chk, output=summary,
                 label=g.labeller.config.enabled, stream=False, event_id=pid)
        await send_json(send, 200, data, self._headers(d, model, meta))

    def _check_answer(self, data: dict[str, Any], chk: Checked) -> tuple[bool, list, list, list | None]:
        """Check (and judge as a reply to the prompt, ``chk.text``), then block or mask, and label
        each choice's text in place. Returns (blocked, findings, judgements, texts): with
        capture_text on, texts is each choice's (checked text, verdict)."""
        g = self.guard
        prompt, pn = chk.text, judge_prompt(chk, g.judge)  # the input check's normalisation, if it can serve
        blocked, findings, judged = False, [], []
        texts: list | None = [] if g.capture_chars else None
        for choice in data["choices"]:
            msg = choice.get("message") if isinstance(choice, dict) else None
            if not isinstance(msg, dict) or not isinstance(msg.get("content"), str):
                continue
            out = g.check_output(msg["content"], prompt, pn)
            findings += out.verdict.findings
            if out.judgement is not None:
                judged.append(out.judgement)
            if texts is not None:
                texts.append((out.text, out.verdict))
            if out.blocked:
                blocked = True
                msg["content"], choice["finish_reason"] = g.safe_answer, "content_filter"
                if choice.get("logprobs") is not None:
                    choice["logprobs"] = None  # its tokens spell out the blocked text
            else:
                if out.text is not msg["content"] and choice.get("logprobs") is not None:
                    choice["logprobs"] = None  # masked: its tokens would spell out the masked text
                msg["content"] = out.text
            msg["content"] = g.labeller.explicit(msg["content"])
        return blocked, findings, judged, texts

    def _headers(self, d: Decision, model: str | None, meta: dict | None) -> list[tuple[bytes, bytes]]:
        eff = d.eff
        base = self._hdr_base
        if base is None or base[0] is not eff or base[1] != d.route:  # encoded once per state and route
            base = self._hdr_base = (eff, d.route, ((b"x-fenghuo-route", d.route.encode()),
                                                    (b"x-fenghuo-state", f"{eff.state};v={eff.version}".encode()),
                                                    (b"x-fenghuo-instance", self.guard.instance.encode())))
        h = list(base[2])
        if model:
            h.append((b"x-fenghuo-model", str(model).encode("ascii", "replace")))
        if eff.failsafe:
            h.append((b"x-fenghuo-failsafe", b"1"))
        if d.notice:
            h.append((b"x-fenghuo-user-notice", b"user_warned"))
        if meta:
            h.append((AIGC_HEADER, orjson.dumps(meta)))  # the label's values are ASCII (labels._allowed)
        return h

    async def _input_blocked(self, send, req: dict[str, Any], d: Decision, chk, started: float, stream: bool) -> None:
        g = self.guard
        pid, meta = g.labeller.issue()
        text = g.labeller.explicit(g.safe_answer)
        g.report(status="refused", eff=d.eff, route="refused", refusal="input_blocked", started=started, input=chk,
                 label=g.labeller.config.enabled, stream=stream, event_id=pid)
        model = str(req.get("model") or "fenghuo-guard")
        base = {"id": f"chatcmpl-{pid}", "created": int(time.time()), "model": model}
        hdrs = self._headers(Decision(d.eff, "refused", None), None, meta)
        if not stream:
            return await send_json(send, 200, {**base, "object": "chat.completion", "AIGC": meta["AIGC"],
                                               "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                                            "finish_reason": "content_filter"}]}, hdrs)
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/event-stream")] + hdrs})
        for delta, fin, extra in (({"role": "assistant", "content": text}, None, {}), ({}, "content_filter", {"AIGC": meta["AIGC"]})):
            chunk = {**base, "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": delta, "finish_reason": fin}], **extra}
            await send({"type": "http.response.body", "body": b"data: " + orjson.dumps(chunk) + b"\n\n", "more_body": True})
        await send({"type": "http.response.body", "body": b"data: [DONE]\n\n"})

    async def _refuse(self, send, e: errors.GuardError, started: float, stream: bool, d: Decision | None = None,
                      attributes: dict[str, Any] | None = None) -> None:
        g = self.guard
        eff = d.eff if d is not None else None  # the state the call was admitted under, not a later one
        if isinstance(e, errors.ServiceRefused):
            status, route, refusal = "refused", "refused", e.refusal
        elif isinstance(e, errors.UpstreamError):
            # The upstream the decision chose (primary or backup) is the one that failed.
            status = "upstream_timeout" if e.code == "upstream_timeout" else "upstream_error"
            if isinstance(e, errors.UpstreamRejected) and e.status != 429:
                status = "bad_request"  # the model server refused this request (unknown model, bad parameter), not a failure
            route, refusal = (d.route if d is not None else None), None
        else:
            status, route, refusal = "bad_request", None, None
        g.report(status=status, eff=eff, route=route, refusal=refusal, started=started, stream=stream, detail=e.detail,
                 attributes=attributes)
        await send_json(send, e.status, e.body(), header_list(e.headers()))
