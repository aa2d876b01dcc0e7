"""A small keep-alive HTTP/1.1 client for the gateway's calls to its upstream model.

Why not aiohttp, which the gateway used before: measured on this project's 2-core machine
against the same local upstream (`bench/bench_guard.py`'s), an aiohttp ``ClientSession`` spent
≈ 55 µs of CPU per non-streaming request at concurrency 16 and ≈ 92 µs at 1; this client
≈ 13 µs and ≈ 35 µs. With the gateway's whole budget near 200 µs a call, aiohttp's request
machinery (payload registry, header multidicts, timer handles, tracing hooks) was the largest
cost the gateway could remove, and at concurrency 16 that cost is queueing latency.

The wire format is parsed by httptools (llhttp, the parser uvicorn already uses for the
gateway's server side); this module pools connections, writes requests and hands the body
over whole or as it arrives. What it leaves out on purpose, since an OpenAI-compatible upstream
needs none of it: redirects, cookies, proxies, HTTP/2. It asks for no compression, yet decodes
gzip/deflate if a server sends it anyway.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import ssl
import zlib
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import httptools

# Reading pauses when this much body is buffered and unread (a slow client behind a fast model).
HIGH_WATER, LOW_WATER = 1 << 20, 1 << 18


class UpstreamConnectionError(ConnectionError):
    """The connection could not be made, broke, or the peer did not answer in HTTP/1.1."""


class _Stale(Exception):
    """A reused keep-alive connection was closed by the server before it answered."""


class Response:
    """One answer: ``status`` and ``headers`` (lower-case names) as soon as the head arrived,
    the body through ``read()``, ``chunks()`` or ``lines()``."""

    __slots__ = ("status", "_headers", "_raw", "conn", "_chunks", "_buffered", "_waiter", "done", "error", "_decoder")

    def __init__(self, conn: _Connection) -> None:
        self.conn = conn
        self.status = 0
        self._headers: dict[str, str] | None = {}
        self._raw: list[tuple[bytes, bytes]] = []
        self._chunks: collections.deque[bytes] = collections.deque()
        self._buffered = 0
        self._waiter: asyncio.Future | None = None
        self.done = False
        self.error: BaseException | None = None
        self._decoder = None

    @property
    def headers(self) -> dict[str, str]:
        """The answer's headers, names in lower case; decoded when first asked for: a gateway
        call that goes well reads none of them (≈ 1–2 µs a call to decode them all, issue 19)."""
        h = self._headers
        if h is None:
            h = self._headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in self._raw}
        return h

    # -- fed by the connection ------------------------------------------------------------------
    def _head(self, status: int, raw: list[tuple[bytes, bytes]]) -> None:
        self.status, self._raw, self._headers = status, raw, None
        for name, value in raw:  # only the content coding is needed now
            if len(name) == 16 and name.lower() == b"content-encoding":
                enc = value.strip().lower()
                if enc in (b"gzip", b"x-gzip"):
                    self._decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
                elif enc == b"deflate":
                    self._decoder = zlib.decompressobj()

    def _feed(self, data: bytes) -> None:
        self._chunks.append(data)
        self._buffered += len(data)
        if self._buffered > HIGH_WATER:
            self.conn.pause()
        self._wake()

    def _finish(self) -> None:
        self.done = True
        self._wake()

    def _fail(self, exc: BaseException) -> None:
        if not self.done:
            self.error = exc
            self._wake()

    def _wake(self) -> None:
        w = self._waiter
        if w is not None and not w.done():
            w.set_result(None)

    async def _more(self) -> None:
        self._waiter = self.conn.loop.create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None

    def _decode(self, data: bytes) -> bytes:
        if self._decoder is None:
            return data
        try:
            return self._decoder.decompress(data)
        except zlib.error as exc:
            raise UpstreamConnectionError(f"body does not decode as {self.headers.get('content-encoding')}: {exc}") from None

    # -- read by the caller ---------------------------------------------------------------------
    async def read(self) -> bytes:
        """The whole body (waits for the end of the message). Reading whole means buffering
        whole, so the connection's back-pressure is lifted for this answer."""
        self._buffered = -(1 << 62)
        self.conn.resume()
        while not self.done:
            if self.error is not None:
                raise self.error
            await self._more()
        body = b"".join(self._chunks)
        self._chunks.clear()
        return self._decode(body)

    async def chunks(self, idle_timeout: float | None = None) -> AsyncIterator[bytes]:
        """Body pieces as they arrive; ``asyncio.TimeoutError`` if none comes for ``idle_timeout`` s."""
        while True:
            if self._chunks:
                data = self._chunks.popleft()
                self._buffered -= len(data)
                if self._buffered < LOW_WATER:
                    self.conn.resume()
                data = self._decode(data)
                if data:
                    yield data
            elif self.done:
                return
            elif self.error is not None:
                raise self.error
            elif idle_timeout is None:
                await self._more()
            else:
                async with asyncio.timeout(idle_timeout):
                    await self._more()

    async def lines(self, idle_timeout: float | None = None) -> AsyncIterator[str]:
        """Body lines without their line end (SSE), decoded as UTF-8 (bad bytes replaced)."""
        rest = b""
        async for data in self.chunks(idle_timeout):
            parts = (rest + data).split(b"\n")
            rest = parts.pop()
            for raw in parts:
                yield raw.decode("utf-8", "replace").rstrip("\r")
        if rest:
            yield rest.decode("utf-8", "replace").rstrip("\r")


class _Connection(asyncio.Protocol):
    """One TCP (or TLS) connection; carries one request at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        # The loop, kept: on Python 3.11 every asyncio.get_running_loop() is a getpid() system call.
        self.loop = asyncio.get_running_loop()
        self.parser = httptools.HttpResponseParser(self)
        self.response: Response | None = None
        self.head: asyncio.Future | None = None
        self.closed = False
        self.keep_alive = False
        self.requests = 0
        self.answered = False  # a byte of the current answer arrived
        self._raw_headers: list[tuple[bytes, bytes]] = []
        self._paused = False

    # -- asyncio.Protocol -----------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.answered = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._abort(UpstreamConnectionError(f"the upstream did not answer in HTTP/1.1: {exc}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        r = self.response
        if self.head is not None and not self.head.done():
            self.head.set_exception(_Stale() if not self.answered and self.requests > 1 else
                                    UpstreamConnectionError(f"the upstream closed the connection before answering{f': {exc}' if exc else ''}"))
        elif r is not None and not r.done:
            te = r.headers.get("transfer-encoding", "").lower()
            if exc is None and "content-length" not in r.headers and "chunked" not in te:
                r._finish()  # a body delimited by the connection's end (HTTP/1.0 style) is complete
            else:
                r._fail(UpstreamConnectionError(f"the upstream connection broke mid-answer{f': {exc}' if exc else ''}"))

    # -- httptools callbacks --------------------------------------------------------------------
    def on_header(self, name: bytes, value: bytes) -> None:
        self._raw_headers.append((name, value))

    def on_headers_complete(self) -> None:
        # The next message's headers start afresh here, not in an on_message_begin callback
        # (one call from the parser into Python fewer per answer).
        raw, self._raw_headers = self._raw_headers, []
        status = self.parser.get_status_code()
        if status < 200 or self.response is None:  # 1xx interim answers: wait for the real one
            return
        self.response._head(status, raw)
        if self.head is not None and not self.head.done():
            self.head.set_result(self.response)

    def on_body(self, body: bytes) -> None:
        if self.response is not None:
            self.response._feed(body)

    def on_message_complete(self) -> None:
        if self.parser.get_status_code() < 200 or self.response is None:
            return
        self.keep_alive = self.parser.should_keep_alive()
        self.response._finish()

    # -- used by the pool -----------------------------------------------------------------------
    async def send(self, request: bytes) -> Response:
        self.requests += 1
        self.answered = False
        self.response = Response(self)
        self.head = self.loop.create_future()
        self.transport.write(request)
        try:
            return await self.head
        finally:
            self.head = None

    def _abort(self, exc: BaseException) -> None:
        if self.head is not None and not self.head.done():
            self.head.set_exception(exc)
        elif self.response is not None:
            self.response._fail(exc)
        self.close()

    def pause(self) -> None:
        if not self._paused and self.transport is not None:
            self._paused = True
            self.transport.pause_reading()

    def resume(self) -> None:
        if self._paused and self.transport is not None and not self.closed:
            self._paused = False
            self.transport.resume_reading()

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


def header_bytes(headers: dict[str, str]) -> bytes:
    """``Name: value\\r\\n`` lines; a caller sending the same headers each time encodes them once."""
    out = []
    for k, v in headers.items():
        line = f"{k}: {v}"
        # Three ``in`` on the line (each a memchr) rather than a generator over the characters:
        # a caller's own Authorization is encoded on every gateway call that carries one.
        if "\r" in line or "\n" in line or "\0" in line:
            raise ValueError(f"header {k!r} holds a line break or NUL")
        out.append((line + "\r\n").encode("latin-1"))
    return b"".join(out)


class ConnectionPool:
    """Keep-alive connections to one origin (``http://`` or ``https://``), at most
    ``max_connections`` at once. Bound to the event loop it is first used in."""

    def __init__(self, url: str, *, max_connections: int = 256, connect_timeout: float = 5.0) -> None:
        u = urlsplit(url)
        if u.scheme not in ("http", "https") or not u.hostname:
            raise ValueError(f"upstream URL must be http:// or https:// with a host, got {url!r}")
        self.tls = u.scheme == "https"
        self.host = u.hostname
        self.port = u.port or (443 if self.tls else 80)
        self.path = u.path.rstrip("/")
        default = (443 if self.tls else 80) == self.port
        self.host_header = (f"[{self.host}]" if ":" in self.host else self.host) + ("" if default else f":{self.port}")
        self.connect_timeout = connect_timeout
        self._ssl = ssl.create_default_context() if self.tls else None
        self._idle: list[_Connection] = []
        # Connection slots: a count and a queue of waiters instead of asyncio.Semaphore, whose
        # acquire() is a coroutine that asks locked() (a generator over its waiters) every time:
        # ≈ 1–2 µs of a gateway call for a slot that is almost always free (issue 19).
        self._free = max_connections
        self._waiting: collections.deque[asyncio.Future] = collections.deque()
        self._heads: dict[tuple[str, str], bytes] = {}  # (method, path) -> request line and Host, encoded once

    def _encode(self, method: str, path: str, headers: dict[str, str] | bytes, body: bytes) -> bytes:
        head = self._heads.get((method, path))
        if head is None:
            head = (f"{method} {self.path}{path} HTTP/1.1\r\nHost: {self.host_header}\r\n").encode("latin-1")
            if len(self._heads) < 64:
                self._heads[(method, path)] = head
        length = b"Content-Length: %d\r\n" % len(body) if body or method in ("POST", "PUT", "PATCH") else b""
        lines = headers if isinstance(headers, bytes) else header_bytes(headers)
        return b"".join((head, length, lines, b"\r\n", body))

    def request(self, method: str, path: str, headers: dict[str, str] | bytes, body: bytes = b"") -> _Call:
        """``async with pool.request(...) as response:`` — the connection goes back to the pool
        only if the body was read to its end and nothing went wrong. ``headers``: a dict, or
        lines already encoded by :func:`header_bytes`."""
        return _Call(self, self._encode(method, path, headers, body))

    async def fetch(self, method: str, path: str, headers: dict[str, str] | bytes, body: bytes = b"") -> tuple[Response, bytes]:
        """(response, whole body) of one request: ``request`` and ``read`` in one coroutine,
        without the context manager's two more (a non-streaming gateway call)."""
        r = await self._open(self._encode(method, path, headers, body))
        ok = False
        try:
            content = await r.read()
            ok = True
        finally:
            self._release(r, reuse=ok)
        return r, content

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.connect_timeout):
                _, conn = await loop.create_connection(_Connection, self.host, self.port, ssl=self._ssl,
                                                       server_hostname=self.host if self.tls else None)
        except TimeoutError:
            raise UpstreamConnectionError(f"connecting to {self.host}:{self.port} took longer than {self.connect_timeout:g} s") from None
        except OSError as exc:
            raise UpstreamConnectionError(f"cannot connect to {self.host}:{self.port}: {exc}") from None
        return conn

    def _take_idle(self) -> _Connection | None:
        while self._idle:
            conn = self._idle.pop()
            if not conn.closed:
                return conn
        return None

    async def _slot(self) -> None:
        """Wait for a connection slot (all ``max_connections`` in use); first come, first served."""
        fut = asyncio.get_running_loop().create_future()
        self._waiting.append(fut)
        try:
            await fut
        except BaseException:
            if fut.done() and not fut.cancelled():  # handed a slot, then cancelled: pass it on
                self._free_slot()
            else:
                with contextlib.suppress(ValueError):
                    self._waiting.remove(fut)
            raise

    def _free_slot(self) -> None:
        waiting = self._waiting
        while waiting:
            fut = waiting.popleft()
            if not fut.done():
                fut.set_result(None)  # the slot goes straight to the longest waiter
                return
        self._free += 1

    async def _open(self, request: bytes) -> Response:
        if self._free > 0 and not self._waiting:
            self._free -= 1
        else:
            await self._slot()
        try:
            conn = self._take_idle()
            for _attempt in range(2):
                conn = conn or await self._connect()
                try:
                    return await conn.send(request)
                except _Stale:
                    conn.close()
                    conn = None  # the server dropped an idle connection: once more on a new one
                except BaseException:
                    conn.close()  # cancelled or failed mid-request: never reuse a half-used connection
                    raise
            raise UpstreamConnectionError("the upstream closed two connections in a row before answering")
        except BaseException:
            self._free_slot()
            raise

    def _release(self, r: Response, reuse: bool) -> None:
        conn = r.conn
        conn.response = None
        if reuse and r.done and r.error is None and conn.keep_alive and not conn.closed:
            conn.resume()
            self._idle.append(conn)
        else:
            conn.close()
        self._free_slot()

    async def aclose(self) -> None:
        while self._idle:
            self._idle.pop().close()


class _Call:
    __slots__ = ("pool", "request", "response")

    def __init__(self, pool: ConnectionPool, request: bytes) -> None:
        self.pool, self.request, self.response = pool, request, None

    async def __aenter__(self) -> Response:
        self.response = await self.pool._open(self.request)
        return self.response

    async def __aexit__(self, exc_type, exc, tb) -> None:
        self.pool._release(self.response, reuse=exc_type is None)
