"""The HTTP/1.1 server of ``fenghuo gateway``: an asyncio protocol on httptools that runs an ASGI
app (the :class:`~fenghuo.guard.gateway.Gateway`), one task per request.

Why not uvicorn, which served the gateway before (and still serves it in the tests and wherever
the app is embedded): measured on this project's 2-core machine with the benchmark's minimal
ASGI upstream app, uvicorn (httptools, uvloop, no access log) spent ≈ 35 µs of CPU per
keep-alive request at concurrency 16, this server ≈ 17 µs (issue 19). At concurrency 16 on one
core the gateway's CPU per call is its queueing latency, and after the content checks the
server was the largest cost the gateway could still remove. Most of it is work the gateway does
not need per request: header validation by regular expression, a ``date``/``server`` header
list copied per response, a response head and its body written by two system calls (here one),
flow-control and timer objects per request. The wire format is parsed by httptools (llhttp,
the parser uvicorn uses too).

What it keeps of uvicorn's behaviour: keep-alive (closed after ``keep_alive`` idle seconds),
pipelined requests answered in order, ``Expect: 100-continue``, request bodies streamed to
``receive()`` with reading paused past 1 MiB unread, responses with ``content-length`` or
chunked, back-pressure when the client reads slowly, ``http.disconnect`` once the client has
gone (later sends are dropped, as uvicorn drops them), a 500 when the app fails before it
answered (the connection closed when it fails after), a 400 for a request that does not parse,
response headers refused if they carry a line break, the ASGI lifespan, and a graceful stop on
SIGTERM/SIGINT (no new connections; calls in flight get ``grace`` seconds to finish).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import email.utils
import logging
import signal
import socket
import time
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote

import httptools

log = logging.getLogger(__name__)
ASGI = {"version": "3.0", "spec_version": "2.3"}
HIGH_WATER = 1 << 20  # request body bytes buffered and not yet received by the app: reading pauses
STATUS = {s.value: f"HTTP/1.1 {s.value} {s.phrase}\r\n".encode() for s in HTTPStatus}
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
METHODS = {m.encode(): m for m in ("GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH")}


def _status_line(code: int) -> bytes:
    return STATUS.get(code) or f"HTTP/1.1 {code} \r\n".encode()


def _plain(code: int, text: str) -> bytes:
    body = text.encode()
    return _status_line(code) + b"content-type: text/plain; charset=utf-8\r\nconnection: close\r\ncontent-length: %d\r\n\r\n%s" % (
        len(body), body)


DISCONNECT = {"type": "http.disconnect"}


class _Request:
    """One request on a connection: the app's ``receive`` and ``send``."""

    __slots__ = ("conn", "scope", "body", "buffered", "complete", "delivered", "waiter", "head", "chunked", "left", "done",
                 "keep_alive", "expect_100", "head_only")

    def __init__(self, conn: _Connection, scope: dict[str, Any], keep_alive: bool, expect_100: bool) -> None:
        self.conn, self.scope, self.keep_alive, self.expect_100 = conn, scope, keep_alive, expect_100
        self.body: list[bytes] = []
        self.buffered = 0
        self.complete = False  # the whole body has arrived
        self.delivered = False  # ... and has been handed to the app
        self.waiter: asyncio.Future | None = None
        self.head: bytes | None = None  # the response head, written with the first body
        self.chunked = False
        self.left = -1  # content-length still to send; -1: none given
        self.done = False  # the response is complete
        self.head_only = scope["method"] == "HEAD"

    def _wake(self) -> None:
        w = self.waiter
        if w is not None and not w.done():
            w.set_result(None)

    async def _wait(self) -> None:
        self.waiter = self.conn.loop.create_future()
        try:
            await self.waiter
        finally:
            self.waiter = None

    async def receive(self) -> dict[str, Any]:
        conn = self.conn
        if self.delivered:  # the body was read whole: what is left to learn is that the client went
            while not conn.closed and not self.done:
                await self._wait()
            return DISCONNECT
        while not self.body and not self.complete:
            if conn.closed or self.done:
                return DISCONNECT
            if self.expect_100:
                self.expect_100 = False
                conn.transport.write(CONTINUE)
            conn.resume_reading()
            await self._wait()
        body = self.body
        data = body[0] if len(body) == 1 else b"".join(body)
        body.clear()
        self.buffered = 0
        if conn.read_paused and conn.current is self and not conn.waiting:
            conn.resume_reading()
        self.delivered = self.complete
        return {"type": "http.request", "body": data, "more_body": not self.complete}

    async def send(self, message: dict[str, Any]) -> None:
        conn = self.conn
        kind = message["type"]
        if kind == "http.response.start":
            if self.head is not None or self.done:
                raise RuntimeError("response already started / 响应已开始")
            self.head = self._head(message["status"], message.get("headers") or ())
            return
        if kind != "http.response.body":
            raise RuntimeError(f"unexpected ASGI message {kind!r}")
        if self.head is None or self.done:
            raise RuntimeError("http.response.body before http.response.start, or after the response ended")
        if conn.closed:  # the client has gone: the rest is dropped, as uvicorn drops it
            return
        body = message.get("body", b"")
        more = message.get("more_body", False)
        if self.head_only:
            body = b""
        elif self.chunked:
            body = (b"%x\r\n%s\r\n" % (len(body), body) if body else b"") + (b"" if more else b"0\r\n\r\n")
        elif self.left >= 0:
            self.left -= len(body)
            if self.left < 0 or (not more and self.left):
                conn.transport.close()
                raise RuntimeError("response body does not match its content-length")
        head, self.head = self.head, b""
        if head or body:
            conn.transport.write(head + body if head else body)  # head and first body in one system call
        if not more:
            self.done = True
            self._wake()
            conn.finished(self)
        elif conn.paused:
            await conn.drain()

    def _head(self, status: int, headers) -> bytes:
        parts = [_status_line(status)]
        lines = 3  # the status line, the date and the blank line
        length = chunked = close = False
        for name, value in headers:
            name = name.lower()
            if name == b"content-length":
                length, self.left = True, int(value)
            elif name == b"transfer-encoding" and value.lower() == b"chunked":
                chunked = True
            elif name == b"connection" and b"close" in value.lower():
                close = True
            parts += (name, b": ", value, b"\r\n")
            lines += 1
        if not length and not chunked and not self.head_only and status not in (204, 304) and status >= 200:
            if self.scope["http_version"] == "1.0":  # no chunked coding in HTTP/1.0: the body ends with the connection
                self.keep_alive = False
            else:
                chunked = True
                parts.append(b"transfer-encoding: chunked\r\n")
                lines += 1
        self.chunked = chunked
        if close:
            self.keep_alive = False
        elif not self.keep_alive:
            parts.append(b"connection: close\r\n")
            lines += 1
        parts.append(self.conn.server.date)  # "date: ...\r\n\r\n": the last header and the blank line
        head = b"".join(parts)
        # A line break inside a name or value would let a value start a header of its own
        # (uvicorn refuses those by regular expression; counting the line ends is enough here).
        if head.count(b"\n") != lines or head.count(b"\r") != lines:
            raise RuntimeError("invalid HTTP response header (a line break in a name or value)")
        return head


class _Connection(asyncio.Protocol):
    def __init__(self, server: Server) -> None:
        self.server, self.loop, self.app = server, server.loop, server.app
        self.parser = httptools.HttpRequestParser(self)
        self.transport: Any = None
        self.closed = False
        self.paused = False  # writing paused by the transport (the client reads slowly)
        self.read_paused = False
        self._drain: asyncio.Future | None = None
        self.current: _Request | None = None  # the request being answered
        self.reading: _Request | None = None  # the request whose body is arriving
        self.waiting: collections.deque[_Request] = collections.deque()  # pipelined, not started yet
        self.url = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.expect = False
        self.idle_since = 0.0
        self.client: tuple[str, int] | None = None
        self.local: tuple[str, int] | None = None

    # -- transport ------------------------------------------------------------------------------
    def connection_made(self, transport) -> None:
        self.transport = transport
        peer, local = transport.get_extra_info("peername"), transport.get_extra_info("sockname")
        self.client = tuple(peer[:2]) if isinstance(peer, tuple) else None
        self.local = tuple(local[:2]) if isinstance(local, tuple) else None
        self.idle_since = self.loop.time()
        self.server.conns.add(self)

    def connection_lost(self, exc) -> None:
        self.closed = True
        self.server.conns.discard(self)
        for req in (self.current, self.reading, *self.waiting):
            if req is not None:
                req._wake()
        if self._drain is not None and not self._drain.done():
            self._drain.set_result(None)

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._reject(400, "upgrade not supported / 不支持协议升级")
        except httptools.HttpParserError as exc:
            self._reject(400, f"invalid HTTP request / 请求无法解析: {exc}")

    def _reject(self, code: int, text: str) -> None:
        if self.current is None or self.current.head is None:
            self.transport.write(_plain(code, text))
        self.transport.close()
        self.closed = True

    def pause_writing(self) -> None:
        self.paused = True

    def resume_writing(self) -> None:
        self.paused = False
        if self._drain is not None and not self._drain.done():
            self._drain.set_result(None)

    async def drain(self) -> None:
        if self.paused and not self.closed:
            self._drain = self.loop.create_future()
            await self._drain

    def resume_reading(self) -> None:
        if self.read_paused and not self.closed:
            self.read_paused = False
            self.transport.resume_reading()

    def _pause_reading(self) -> None:
        if not self.read_paused and not self.closed:
            self.read_paused = True
            self.transport.pause_reading()

    # -- parser callbacks -----------------------------------------------------------------------
    def on_message_begin(self) -> None:
        self.url = b""
        self.headers = []
        self.expect = False

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        name = name.lower()
        self.headers.append((name, value))
        if name == b"expect" and value.lower() == b"100-continue":
            self.expect = True

    def on_headers_complete(self) -> None:
        url = self.url
        if url[:1] == b"/":
            raw, _, query = url.partition(b"?")
        else:  # absolute form (http://host/path) or '*'
            parsed = httptools.parse_url(url)
            raw, query = parsed.path or b"/", parsed.query or b""
        path = raw.decode("ascii", "replace")
        p = self.parser
        method = p.get_method()
        version = p.get_http_version()
        scope = {"type": "http", "asgi": ASGI, "http_version": version, "server": self.local, "client": self.client,
                 "scheme": "http", "method": METHODS.get(method) or method.decode("ascii"), "root_path": "",
                 "path": unquote(path) if "%" in path else path, "raw_path": raw, "query_string": query, "headers": self.headers}
        req = _Request(self, scope, p.should_keep_alive(), self.expect and version == "1.1")
        self.reading = req
        if self.current is None:
            self._start(req)
        else:  # pipelined behind the one being answered: it starts when that one ends
            self.waiting.append(req)
            self._pause_reading()

    def on_body(self, body: bytes) -> None:
        req = self.reading
        if req.done:  # answered before its body was read (a refusal): the rest is dropped
            return
        req.body.append(body)
        req.buffered += len(body)
        if req.buffered > HIGH_WATER:
            self._pause_reading()
        req._wake()

    def on_message_complete(self) -> None:
        req = self.reading
        req.complete = True
        req._wake()
        self.reading = None

    # -- requests -------------------------------------------------------------------------------
    def _start(self, req: _Request) -> None:
        self.current = req
        task = self.loop.create_task(self._run(req))
        self.server.tasks.add(task)
        task.add_done_callback(self.server.tasks.discard)

    async def _run(self, req: _Request) -> None:
        try:
            await self.app(req.scope, req.receive, req.send)
        except asyncio.CancelledError:  # a stop of the server that outlasted its grace
            self._abort(req)
            raise
        except Exception:
            log.exception("ASGI app failed on %s %s", req.scope["method"], req.scope["path"])
            self._abort(req)
            return
        if not req.done and not self.closed:  # the app returned without ending its response
            if req.head is None:
                self.transport.write(_plain(500, "Internal Server Error"))
            self.transport.close()

    def _abort(self, req: _Request) -> None:
        if not self.closed and not req.done:
            if req.head is None:
                self.transport.write(_plain(500, "Internal Server Error"))
            self.transport.close()

    def finished(self, req: _Request) -> None:
        """The response to ``req`` ended: the next pipelined request, or wait for one."""
        self.current = None
        if not req.keep_alive or self.server.stopping:
            self.transport.close()
            return
        if self.waiting:
            self._start(self.waiting.popleft())
            if not self.waiting:
                self.resume_reading()
        else:
            self.idle_since = self.loop.time()


class Server:
    def __init__(self, app, host: str = "127.0.0.1", port: int = 8800, *, sock: socket.socket | None = None,
                 keep_alive: float = 5.0, grace: float = 30.0) -> None:
        self.app, self.host, self.port, self.sock = app, host, port, sock
        self.keep_alive, self.grace = keep_alive, grace
        self.conns: set[_Connection] = set()
        self.tasks: set[asyncio.Task] = set()
        self.stopping = False
        self.date = b""
        self.addr: tuple[str, int] | None = None
        self.loop: Any = None
        self.started = asyncio.Event()
        self._stop: asyncio.Event | None = None

    def _tick(self) -> None:
        """Once a second: the ``date`` header, and idle keep-alive connections closed."""
        self.date = b"date: " + email.utils.formatdate(usegmt=True).encode() + b"\r\n\r\n"
        cutoff = self.loop.time() - self.keep_alive
        for c in list(self.conns):
            if c.current is None and not c.waiting and c.reading is None and c.idle_since < cutoff:
                c.transport.close()
        self._ticker = self.loop.call_later(1.0, self._tick)

    def should_exit(self) -> None:
        if self._stop is not None:
            self._stop.set()

    async def serve(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        lifespan = _Lifespan(self.app)
        await lifespan.startup()
        self._tick()
        try:
            if self.sock is not None:
                srv = await self.loop.create_server(lambda: _Connection(self), sock=self.sock, backlog=2048)
            else:
                srv = await self.loop.create_server(lambda: _Connection(self), self.host, self.port, reuse_address=True,
                                                    backlog=2048)
        except BaseException:
            self._ticker.cancel()
            await lifespan.shutdown()
            raise
        name = srv.sockets[0].getsockname()
        self.addr = (name[0], name[1])  # the port really bound (port 0: one the system chose)
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):  # not the main thread, or no signals here
                self.loop.add_signal_handler(sig, self.should_exit)
        self.started.set()
        try:
            await self._stop.wait()
        finally:
            self.stopping = True
            srv.close()
            for c in list(self.conns):  # idle connections go now, busy ones after their response
                if c.current is None and not c.waiting:
                    c.transport.close()
            if self.tasks:
                _, late = await asyncio.wait(list(self.tasks), timeout=self.grace)
                for t in late:
                    t.cancel()
            self._ticker.cancel()
            await lifespan.shutdown()


class _Lifespan:
    """The ASGI lifespan protocol: startup before the first connection, shutdown after the last."""

    def __init__(self, app) -> None:
        self.app = app
        self.inbox: asyncio.Queue = asyncio.Queue()
        self.started = asyncio.get_running_loop().create_future()
        self.ended = asyncio.get_running_loop().create_future()
        self.task: asyncio.Task | None = None

    async def _send(self, msg: dict[str, Any]) -> None:
        kind = msg["type"]
        if kind.startswith("lifespan.startup") and not self.started.done():
            self.started.set_result(msg)
        elif kind.startswith("lifespan.shutdown") and not self.ended.done():
            self.ended.set_result(msg)

    async def _run(self) -> None:
        try:
            await self.app({"type": "lifespan", "asgi": ASGI, "state": {}}, self.inbox.get, self._send)
        finally:
            for f in (self.started, self.ended):
                if not f.done():
                    f.set_result(None)  # an app without lifespan support: carry on

    async def startup(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self._run())
        await self.inbox.put({"type": "lifespan.startup"})
        msg = await self.started
        if msg is not None and msg["type"] == "lifespan.startup.failed":
            raise RuntimeError(f"startup failed: {msg.get('message', '')}")

    async def shutdown(self) -> None:
        await self.inbox.put({"type": "lifespan.shutdown"})
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(self.ended), 10)


def run(app, host: str = "127.0.0.1", port: int = 8800, *, sock: socket.socket | None = None, keep_alive: float = 5.0) -> None:
    """Serve ``app`` until SIGTERM or SIGINT, on uvloop when it is installed."""
    server = Server(app, host, port, sock=sock, keep_alive=keep_alive)
    try:
        import uvloop
    except ImportError:
        asyncio.run(server.serve())
        return
    uvloop.run(server.serve())


def wait_started(server: Server, timeout: float = 10.0) -> None:
    """For a server run in another thread: wait until it accepts connections."""
    deadline = time.monotonic() + timeout
    while not server.started.is_set():
        if time.monotonic() > deadline:
            raise RuntimeError("server did not start")
        time.sleep(0.01)
