"""The HTTP/1.1 side of ``guard.server``: one :class:`Connection` per client connection (an
asyncio protocol feeding httptools' parser) and one :class:`Request` per request on it, whose
``receive`` and ``send`` are what the ASGI app is given. Why it exists and what it keeps of
uvicorn's behaviour: ``guard.server``."""

from __future__ import annotations

import asyncio
import collections
import logging
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import httptools

if TYPE_CHECKING:
    from fenghuo.guard.server import Server

log = logging.getLogger(__name__)
ASGI = {"version": "3.0", "spec_version": "2.3"}
HIGH_WATER = 1 << 20  # request body bytes buffered and not yet received by the app: reading pauses
STATUS = {s.value: f"HTTP/1.1 {s.value} {s.phrase}\r\n".encode() for s in HTTPStatus}
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
METHODS = {m.encode(): m for m in ("GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH")}
_FRAMING = frozenset((b"content-length", b"transfer-encoding", b"connection"))  # response headers the server reads


def _status_line(code: int) -> bytes:
    return STATUS.get(code) or f"HTTP/1.1 {code} \r\n".encode()


def _plain(code: int, text: str) -> bytes:
    body = text.encode()
    return _status_line(code) + b"content-type: text/plain; charset=utf-8\r\nconnection: close\r\ncontent-length: %d\r\n\r\n%s" % (
        len(body), body)


DISCONNECT = {"type": "http.disconnect"}


class Request:
    """One request on a connection: the app's ``receive`` and ``send``."""

    __slots__ = ("conn", "scope", "body", "buffered", "complete", "delivered", "waiter", "head", "chunked", "left", "done",
                 "keep_alive", "expect_100", "head_only", "task")

    def __init__(self, conn: Connection, scope: dict[str, Any], keep_alive: bool, expect_100: bool) -> None:
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
        self.task: asyncio.Task | None = None  # the task running the app for it (Connection._start)

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
        length = chunked = close = False
        for name, value in headers:
            name = name.lower()
            if name in _FRAMING:  # one set lookup for the ordinary headers instead of three comparisons
                if name == b"content-length":
                    length, self.left = True, int(value)
                elif name == b"transfer-encoding":
                    chunked = chunked or value.lower() == b"chunked"
                elif b"close" in value.lower():
                    close = True
            parts += (name, b": ", value, b"\r\n")
        # A line break inside a name or value would let a value start a header of its own
        # (uvicorn refuses those by regular expression). The names and values alone (every
        # other part after the status line) joined and searched with ``in`` (memchr): counting
        # the line ends of the whole head instead scanned it byte by byte, twice.
        fields = b"".join(parts[1::2])
        if b"\n" in fields or b"\r" in fields:
            raise RuntimeError("invalid HTTP response header (a line break in a name or value)")
        if not length and not chunked and not self.head_only and status not in (204, 304) and status >= 200:
            if self.scope["http_version"] == "1.0":  # no chunked coding in HTTP/1.0: the body ends with the connection
                self.keep_alive = False
            else:
                chunked = True
                parts.append(b"transfer-encoding: chunked\r\n")
        self.chunked = chunked
        if close:
            self.keep_alive = False
        elif not self.keep_alive:
            parts.append(b"connection: close\r\n")
        parts.append(self.conn.server.date)  # "date: ...\r\n\r\n": the last header and the blank line
        return b"".join(parts)


class Connection(asyncio.Protocol):
    def __init__(self, server: Server) -> None:
        self.server, self.loop, self.app = server, server.loop, server.app
        self.parser = httptools.HttpRequestParser(self)
        self.transport: Any = None
        self.closed = False
        self.paused = False  # writing paused by the transport (the client reads slowly)
        self.read_paused = False
        self._drain: asyncio.Future | None = None
        self.current: Request | None = None  # the request being answered
        self.reading: Request | None = None  # the request whose body is arriving
        self.waiting: collections.deque[Request] = collections.deque()  # pipelined, not started yet
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
    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        name = name.lower()
        self.headers.append((name, value))
        if name == b"expect" and value.lower() == b"100-continue":
            self.expect = True

    def on_headers_complete(self) -> None:
        # The next message's url, headers and expect start afresh here rather than in an
        # on_message_begin callback: one call from the parser into Python fewer per request.
        url, headers, expect = self.url, self.headers, self.expect
        self.url, self.headers, self.expect = b"", [], False
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
                 "path": unquote(path) if "%" in path else path, "raw_path": raw, "query_string": query, "headers": headers}
        req = Request(self, scope, p.should_keep_alive(), expect and version == "1.1")
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
    def _start(self, req: Request) -> None:
        self.current = req
        tasks = self.server.tasks
        # The task leaves the server's set at the end of _run, not by a done callback: each
        # callback was one more handle through the event loop per request (issue 19).
        req.task = task = self.loop.create_task(self._run(req, tasks))
        tasks.add(task)

    async def _run(self, req: Request, tasks: set) -> None:
        try:
            await self.app(req.scope, req.receive, req.send)
        except asyncio.CancelledError:  # a stop of the server that outlasted its grace
            self._abort(req)
            raise
        except Exception:
            log.exception("ASGI app failed on %s %s", req.scope["method"], req.scope["path"])
            self._abort(req)
            return
        finally:
            tasks.discard(req.task)
        if not req.done and not self.closed:  # the app returned without ending its response
            if req.head is None:
                self.transport.write(_plain(500, "Internal Server Error"))
            self.transport.close()

    def _abort(self, req: Request) -> None:
        if not self.closed and not req.done:
            if req.head is None:
                self.transport.write(_plain(500, "Internal Server Error"))
            self.transport.close()

    def finished(self, req: Request) -> None:
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
