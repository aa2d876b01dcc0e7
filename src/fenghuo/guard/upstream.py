"""Talking to an OpenAI-compatible model server (vLLM, Ollama, a hosted API, the replay
upstream): one pool of keep-alive connections per upstream, errors turned into guard errors.

The pool is ``fenghuo.guard.http1`` (see there why not aiohttp or httpx: on the gateway's hot
path their per-request CPU decided the latency at concurrency 16).
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

import orjson

from fenghuo.guard import errors
from fenghuo.guard.http1 import ConnectionPool, UpstreamConnectionError, header_bytes
from fenghuo.guard.metrics import waited

READ_ERRORS = (UpstreamConnectionError, OSError, asyncio.TimeoutError)
STREAM_END_WAIT = 0.05  # s after a stream's [DONE] to wait for the end of the response (connection reuse)


def base_url(url: str) -> str:
    """The API base: ``/v1`` is added only to a bare host (``http://host:8000``); a URL with a
    path is used as given, since hosted OpenAI-compatible APIs use other version prefixes
    (``https://open.bigmodel.cn/api/paas/v4``)."""
    base = url.rstrip("/")
    return base if urlsplit(base).path else base + "/v1"


class Upstream:
    def __init__(self, url: str, *, timeout: float = 60.0, api_key: str | None = None, max_connections: int = 256) -> None:
        self.base = base_url(url)
        self.timeout = timeout
        self.api_key = api_key
        self.max_connections = max_connections
        self._pool: ConnectionPool | None = None
        self._pool_loop: asyncio.AbstractEventLoop | None = None
        self._deadlines: _Deadlines | None = None  # the calls' timeouts in the pool's loop
        ConnectionPool(self.base)  # a bad URL is refused here, at start, not on the first call
        # A JSON call's headers but Authorization, encoded once (≈ 3 µs a call to build and check).
        self._json_lines = header_bytes({"Content-Type": "application/json", "Accept": "application/json",
                                         "User-Agent": "fenghuo-gateway"})
        self._own_auth = header_bytes({"Authorization": f"Bearer {api_key}"}) if api_key else None

    @property
    def pool(self) -> ConnectionPool:
        return self.pool_in(asyncio.get_running_loop())

    def pool_in(self, loop: asyncio.AbstractEventLoop) -> ConnectionPool:
        """Created on first use inside the running event loop; its connections and semaphore belong
        to that loop, so a gateway app served again in a new loop (tests, an embedding host that
        restarts its server) gets a fresh pool instead of "bound to a different event loop"."""
        if self._pool is None or self._pool_loop is not loop:
            self._pool = ConnectionPool(self.base, max_connections=self.max_connections, connect_timeout=min(self.timeout, 5.0))
            self._pool_loop = loop
            self._deadlines = _Deadlines(loop)
        return self._pool

    def _headers(self, caller_auth: str | None, accept: str = "application/json",
                 extra: dict[str, str] | None = None) -> dict[str, str]:
        h = {"Content-Type": "application/json", "Accept": accept, "User-Agent": "fenghuo-gateway"}
        auth = f"Bearer {self.api_key}" if self.api_key else caller_auth
        if auth:
            h["Authorization"] = auth
        if extra:  # Anthropic-style calls: x-api-key, anthropic-version (guard.endpoints)
            h.update(extra)
            if self.api_key and "x-api-key" in extra:
                h["x-api-key"] = self.api_key
        return h

    async def complete(self, body: dict[str, Any], caller_auth: str | None) -> dict[str, Any]:
        """A non-streaming chat completion; raises a guard error for anything but a valid answer."""
        return await self.post("/chat/completions", body, caller_auth)

    def _json_headers(self, caller_auth: str | None, extra: dict[str, str] | None) -> dict[str, str] | bytes:
        if extra:
            return self._headers(caller_auth, extra=extra)
        if self._own_auth is not None:
            return self._json_lines + self._own_auth
        return self._json_lines + header_bytes({"Authorization": caller_auth}) if caller_auth else self._json_lines

    async def post(self, path: str, body: dict[str, Any], caller_auth: str | None, expect: str = "choices",
                   extra: dict[str, str] | None = None) -> dict[str, Any]:
        """A non-streaming call to ``path``; the answer must hold the list ``expect`` (chat and
        completions: choices, responses: output, embeddings: data)."""
        t0 = time.perf_counter()
        loop = self._pool_loop  # the loop of the last call: no get_running_loop(), a getpid() system call on 3.11
        task = asyncio.current_task(loop) if loop is not None else None
        if task is None:  # the first call, or a new loop (pool_in)
            loop = asyncio.get_running_loop()
            task = asyncio.current_task(loop)
        # asyncio.timeout's job done by _Deadlines (no timer handle of its own per call): on
        # expiry the task is cancelled, and that cancellation, not another (a stop's), becomes
        # the timeout, as asyncio.timeout tells them apart.
        pool = self.pool_in(loop)
        deadlines = self._deadlines
        expired = deadlines.add(task, self.timeout)
        try:
            r, content = await pool.fetch("POST", path, self._json_headers(caller_auth, extra), orjson.dumps(body))
        except asyncio.CancelledError:
            if expired.fired and task.uncancel() <= expired.cancelling:
                raise errors.upstream_timeout(self.timeout) from None
            raise
        except (UpstreamConnectionError, OSError) as exc:
            raise errors.upstream_failed(f"无法连接上游模型：{exc}", f"cannot reach the upstream model: {exc}", "upstream_unreachable") from None
        finally:
            deadlines.done(expired)
            waited(time.perf_counter() - t0)
        return self._parse(r.status, content, r.headers if r.status >= 400 else None, expect)  # headers: read on errors only

    @staticmethod
    def _parse(status: int, content: bytes, headers: dict[str, str] | None = None, expect: str = "choices") -> dict[str, Any]:
        try:
            data = orjson.loads(content)
        except orjson.JSONDecodeError:
            data = None
        if 400 <= status < 500:  # the upstream's own refusal: passed through as it came (errors.UpstreamRejected)
            err = data.get("error") if isinstance(data, dict) else None
            if not isinstance(err, dict):  # not an OpenAI error object (a proxy's HTML page, a bare string)
                err = {"message": (err if isinstance(err, str) else content[:300].decode("utf-8", "replace")) or f"HTTP {status}",
                       "type": "invalid_request_error", "param": None, "code": None}
            raise errors.UpstreamRejected(status, err, headers or {})
        if status >= 400:
            msg = (data or {}).get("error", {}).get("message") if isinstance(data, dict) and isinstance(data.get("error"), dict) else None
            msg = msg or content[:300].decode("utf-8", "replace")
            raise errors.upstream_failed(f"上游模型返回错误 {status}：{msg}", f"the upstream model answered {status}: {msg}",
                                         "upstream_error", upstream_status=status)
        if not isinstance(data, dict) or not isinstance(data.get(expect), list):
            raise errors.upstream_failed("上游模型返回的不是有效的 JSON 补全", "the upstream model returned invalid JSON (no completion)",
                                         "upstream_invalid")
        return data

    @asynccontextmanager
    async def stream(self, body: dict[str, Any], caller_auth: str | None,
                     path: str = "/chat/completions", extra: dict[str, str] | None = None) -> AsyncIterator[AsyncIterator[str]]:
        """Open a streaming completion; yields an iterator of SSE lines once the upstream said 200.
        Reading raises ``asyncio.TimeoutError`` when the upstream stays silent for ``timeout`` s."""
        call = self.pool.request("POST", path, self._headers(caller_auth, "text/event-stream", extra), orjson.dumps(body))
        t0 = time.perf_counter()
        try:
            async with asyncio.timeout(self.timeout):
                r = await call.__aenter__()
        except TimeoutError:
            raise errors.upstream_timeout(self.timeout) from None
        except (UpstreamConnectionError, OSError) as exc:
            raise errors.upstream_failed(f"无法连接上游模型：{exc}", f"cannot reach the upstream model: {exc}", "upstream_unreachable") from None
        # The connection is reused only if the stream was read to its end; a cut or broken one is closed.
        ok = False
        ended = False  # the caller read the SSE end ([DONE])

        waited(time.perf_counter() - t0)

        async def lines() -> AsyncIterator[str]:
            # Time spent waiting for each line counts as the model's (metrics.waited), not the gateway's.
            nonlocal ended
            it = r.lines(self.timeout).__aiter__()
            while True:
                t = time.perf_counter()
                try:
                    line = await it.__anext__()
                except StopAsyncIteration:
                    return
                finally:
                    waited(time.perf_counter() - t)
                if line.endswith("[DONE]") and line.startswith("data:") and line[5:].strip() == "[DONE]":
                    ended = True
                yield line

        try:
            if r.status >= 400:
                async with asyncio.timeout(self.timeout):
                    self._parse(r.status, await r.read(), r.headers)
            yield lines()
            ok = r.done
            if not ok and ended and r.error is None:
                # [DONE] came, the end of the HTTP message (the chunked terminator) may come a moment
                # later: wait for it briefly so the connection can be reused rather than closed.
                try:
                    async with asyncio.timeout(STREAM_END_WAIT):
                        await r.read()
                    ok = r.done
                except READ_ERRORS:
                    ok = False
        finally:
            await call.__aexit__(None if ok else Exception, None, None)

    async def models(self, caller_auth: str | None) -> dict[str, Any]:
        """The upstream's model list; a guard error when it cannot give one."""
        try:
            async with asyncio.timeout(self.timeout):
                async with self.pool.request("GET", "/models", self._headers(caller_auth)) as r:
                    status, content, headers = r.status, await r.read(), r.headers
        except TimeoutError:
            raise errors.upstream_timeout(self.timeout) from None
        except (UpstreamConnectionError, OSError) as exc:
            raise errors.upstream_failed(f"无法连接上游模型：{exc}", f"cannot reach the upstream model: {exc}", "upstream_unreachable") from None
        try:
            data = orjson.loads(content)
        except orjson.JSONDecodeError:
            data = None
        if status >= 400:
            self._parse(status, content, headers)
        if not isinstance(data, dict) or not isinstance(data.get("data"), list):
            raise errors.upstream_failed("上游模型返回的不是有效的模型列表", "the upstream model returned no valid model list",
                                         "upstream_invalid")
        return data

    async def aclose(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()


class _Expiry:
    """The timeout of one upstream call: cancels its task at ``deadline``. ``cancelling`` is how
    many cancellations the task had when the call began: if another came meanwhile (a stop),
    that one wins, as with asyncio.timeout. ``task`` is None once the call has ended."""

    __slots__ = ("task", "cancelling", "fired", "deadline", "handle")

    def __init__(self, task: asyncio.Task | None, cancelling: int, deadline: float) -> None:
        self.task, self.cancelling, self.fired, self.deadline, self.handle = task, cancelling, False, deadline, None

    def __call__(self) -> None:
        if self.task is not None and not self.task.done():
            self.fired = True
            self.task.cancel()


class _Deadlines:
    """The timeouts of one upstream's calls in one event loop, on one timer handle.

    Every call of an upstream has the same timeout, so they expire in the order they began: a
    queue in that order, and one timer armed for the oldest call still running, replace a timer
    handle per call (``loop.call_at`` and its ``cancel``: ≈ 1.8 % of the gateway's event loop at
    c=16 in a py-spy profile, issue 19). A call that ends leaves the queue when it reaches the
    front (calls end roughly in order, so the queue holds about the calls in flight); the timer
    firing for a call that has ended re-arms for the next. A call whose deadline comes before
    the last one queued (the timeout was shortened meanwhile) gets a timer of its own, as before.
    A call that hangs at the front keeps the ended ones behind it queued (without their tasks)
    until it ends or times out; past ``compact_at`` of them the queue keeps only running calls.
    """

    __slots__ = ("loop", "queue", "timer", "compact_at")
    COMPACT_AT = 4096

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.queue: collections.deque[_Expiry] = collections.deque()
        self.timer: asyncio.TimerHandle | None = None
        self.compact_at = self.COMPACT_AT

    def add(self, task: asyncio.Task | None, timeout: float) -> _Expiry:
        e = _Expiry(task, task.cancelling() if task is not None else 0, self.loop.time() + timeout)
        q = self.queue
        if q and e.deadline < q[-1].deadline:  # out of order: its own timer
            e.handle = self.loop.call_at(e.deadline, e)
            return e
        q.append(e)
        if self.timer is None:
            self.timer = self.loop.call_at(e.deadline, self._fire)
        return e

    def done(self, e: _Expiry) -> None:
        e.task = None  # ended: never cancelled now, and no reference kept to the task
        if e.handle is not None:
            e.handle.cancel()
            return
        q = self.queue
        while q and q[0].task is None:
            q.popleft()
        if len(q) >= self.compact_at:  # a call hangs at the front: drop the ended ones behind it
            q = self.queue = collections.deque(x for x in q if x.task is not None)
            self.compact_at = max(self.COMPACT_AT, 2 * len(q))

    def _fire(self) -> None:
        self.timer = None
        q, now = self.queue, self.loop.time()
        while q:
            e = q[0]
            if e.task is not None and e.deadline > now:
                self.timer = self.loop.call_at(e.deadline, self._fire)
                return
            q.popleft()
            e()  # cancels a call still running (an ended one's task is None: nothing happens)


class Versions:
    """The primary route by model version (CN-TC-18, ``guard.model_versions``): the approved
    version is the model asked for, and, when the operator gave one (``--model-upstream
    VERSION=URL``), the upstream that serves it; any other version, a pending one too, gets no call."""

    def __init__(self, urls: dict[str, str] | None = None, **upstream: Any) -> None:
        self.upstreams = {v: Upstream(url, **upstream) for v, url in (urls or {}).items()}

    def target(self, primary: Upstream, approved: str | None, route, req: dict[str, Any]) -> tuple[Upstream, dict[str, Any]]:
        """(upstream, body) for a call on the primary route; ``route`` is the guard's ModelRoute."""
        if approved is None:
            if route.pending:
                route.check(req.get("model"))
            return primary, req
        body = req if req.get("model") == approved else dict(req, model=approved)
        return self.upstreams.get(approved, primary), body

    async def aclose(self) -> None:
        for up in self.upstreams.values():
            await up.aclose()

