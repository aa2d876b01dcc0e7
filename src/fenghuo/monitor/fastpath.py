"""``POST /api/v1/events`` without the framework in the common case (issue 19).

A request carrying one event cost the server ~3 ms of CPU, about as much as ``json.loads`` of a
whole 1,000-event batch: FastAPI's route matching over every included router, dependency
injection, two hops through anyio's thread pool (the sync ``current_actor`` dependency and the
ingest), the token's row lookup. This pure ASGI middleware answers the request itself when
nothing about it needs the framework:

- the path is exactly ``/api/v1/events``, the method POST, there is no query string and the
  body announces its length within the server's body limit;
- the client address is not over its failed-authentication limit, and the bearer token is
  valid (``platform.auth``, usually from its cache) with a role that may post events.

Everything else — no token, a refused token, a chunked body, an auditor — is handed on to the
FastAPI route in ``monitor.routes`` (with the body replayed if it was read), which stays the
contract (OpenAPI schema, error bodies, status codes) and counts failed authentications. Errors raised by the
ingest itself are answered with the same JSON body the app's error handlers write
(``api.errors``). The batch is counted on one dedicated worker thread (``_Worker``): ``Monitor``
serialises batches anyway. The hop is a queue put and one ``call_soon_threadsafe`` back to an
asyncio future, without an executor's concurrent future chained to it (``run_in_executor``: its
work item, condition, done callbacks and state copy were ~30 µs of the two threads' CPU per
request, which every request pays whatever it carries).
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading

import msgspec
from sqlalchemy import exc as sa_exc

from fenghuo.platform.auth import authenticate
from fenghuo.platform.errors import FenghuoError, Unauthorized, Unavailable
from fenghuo.platform.roles import Role

PATH = "/api/v1/events"
_POSTERS = frozenset({Role.admin, Role.system, Role.operator})  # as monitor.ingest; others take the full path
_json = msgspec.json.Encoder()
_DATABASE_DOWN = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError)  # as api.errors
log = logging.getLogger(__name__)
served = 0  # batches answered here (tests read it to know the fast path was taken)


class _HandOver(Exception):
    """The request needs the full route (a refused token, a role that may not post)."""


class EventsFastPath:
    def __init__(self, app, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self._worker: _Worker | None = None

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST" or scope.get("query_string"):
            return await self.app(scope, receive, send)
        token, length = None, None
        for name, value in scope["headers"]:
            if name == b"authorization":
                token = value
            elif name == b"content-length":
                length = int(value) if value.isdigit() else None
        if token is None or length is None or length > self.max_bytes or token[:7].lower() != b"bearer ":
            return await self.app(scope, receive, send)
        token = token[7:].strip().decode("latin-1")
        runtime = scope["app"].state.runtime
        failures = getattr(runtime, "auth_failures", None)
        if failures is not None:
            try:
                failures.check(scope["client"][0] if scope.get("client") else "-")
            except FenghuoError:
                return await self.app(scope, receive, send)  # the route answers the 429
        chunks = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        if self._worker is None:
            self._worker = _Worker()
        try:
            result = await self._worker.run(runtime, token, body)
        except _HandOver:
            return await self.app(scope, _replay(body, receive), send)
        except FenghuoError as exc:
            return await _answer(send, exc.status, {"error": exc.to_dict()}, getattr(exc, "retry_after", None))
        except _DATABASE_DOWN as exc:
            log.warning("database unavailable: %s", exc)
            down = Unavailable("数据库暂不可用，请稍后重试", "database unavailable, try again later", code="database_unavailable")
            return await _answer(send, 503, {"error": down.to_dict()}, down.retry_after)
        global served
        served += 1
        await _answer(send, 200, result)


class _Worker:
    """One thread that counts the batches handed to it, in order, each answered on the asking
    loop's future. Like the executor's thread it replaces, it is not a daemon: at interpreter
    exit it finishes the batch in hand (and those queued) before the process ends, so a batch
    whose ids were made durable is counted too (concurrent.futures' own exit hook)."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._serve, name="fenghuo-ingest", daemon=False)
        self._thread.start()
        register = getattr(threading, "_register_atexit", None)  # runs before non-daemon threads are joined
        if register is not None:
            register(self._queue.put, None)
        else:  # pragma: no cover - CPython has had it since 3.9
            self._thread.daemon = True

    def run(self, runtime, token: str, body: bytes) -> asyncio.Future:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._queue.put((loop, future, runtime, token, body))
        return future

    def _serve(self) -> None:
        get = self._queue.get
        while (item := get()) is not None:
            loop, future, runtime, token, body = item
            try:
                result, error = _ingest(runtime, token, body), None
            except BaseException as exc:  # noqa: BLE001 - handed to the request, raised there
                result, error = None, exc
            try:
                loop.call_soon_threadsafe(_settle, future, result, error)
            except RuntimeError:
                pass  # the loop closed meanwhile: nobody is waiting for the answer
            del item, future, runtime, body, result, error  # not held while waiting for the next batch


def _settle(future: asyncio.Future, result, error) -> None:
    if future.cancelled():
        return  # the request went away (its batch was counted all the same)
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


def _ingest(runtime, token: str, body: bytes) -> dict:
    """On the ingest thread: the token (cached, or one row read), then the batch."""
    try:
        actor = authenticate(runtime.db, token)
    except Unauthorized:
        raise _HandOver from None  # the route refuses it and counts the failure for the address
    if actor.role not in _POSTERS:
        raise _HandOver
    return runtime.monitor.ingest_body(body, actor).to_dict()


def _replay(body: bytes, receive):
    sent = False

    async def replay():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _answer(send, status: int, doc: dict, retry_after: float | None = None) -> None:
    body = _json.encode(doc)
    headers = [(b"content-length", str(len(body)).encode()), (b"content-type", b"application/json")]
    if retry_after:
        headers.append((b"retry-after", str(max(1, round(retry_after))).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
