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
import contextlib
import email.utils
import signal
import socket
import time
from typing import Any

from fenghuo.guard.server_protocol import ASGI, Connection


class Server:
    def __init__(self, app, host: str = "127.0.0.1", port: int = 8800, *, sock: socket.socket | None = None,
                 keep_alive: float = 5.0, grace: float = 30.0) -> None:
        self.app, self.host, self.port, self.sock = app, host, port, sock
        self.keep_alive, self.grace = keep_alive, grace
        self.conns: set[Connection] = set()
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
                srv = await self.loop.create_server(lambda: Connection(self), sock=self.sock, backlog=2048)
            else:
                srv = await self.loop.create_server(lambda: Connection(self), self.host, self.port, reuse_address=True,
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
