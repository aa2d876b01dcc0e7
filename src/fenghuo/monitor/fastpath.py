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

In ``fenghuo serve`` (and every server of ``api.app.create_app``) it stands *ahead* of the
framework (``home``: the app whose state holds the runtime), past FastAPI's ``__call__`` and
Starlette's middleware stack: a few µs of the event loop per request (in-process, ingest stubbed:
29 -> 26.5 µs; ~1 % of a served request's loop time, within the noise over HTTP). Ahead it keeps
what they give this route: OpenTelemetry (while FastAPI's telemetry is enabled it steps aside
and the copy mounted inside the app answers, within the request's span), and the plain 500 of
Starlette's ``ServerErrorMiddleware`` for an unexpected error (re-raised for the server's log);
it steps aside for good if the app is built otherwise (a root path, a 500 handler, debug, a
framework body limit). The app's other middleware (``BodyLimit``, ``RefuseNul``) have nothing
to do on a request it answers: it takes only a declared length within the limit and the bare
path.
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
ahead = 0  # of those, answered ahead of the framework (tests read it too)
_DECLINED = "fenghuo.fastpath.declined"  # scope key: the copy ahead handed this request on
_PLAIN_500 = b"Internal Server Error"  # starlette.middleware.errors' default answer


class _HandOver(Exception):
    """The request needs the full route (a refused token, a role that may not post)."""


class EventsFastPath:
    def __init__(self, app, max_bytes: int, *, home=None) -> None:
        """``home``: set when this stands ahead of the framework (``app`` is then the framework's
        own entry), the FastAPI app whose ``state.runtime`` the scope does not name yet."""
        self.app = app
        self.max_bytes = max_bytes
        self.home = home
        self._telemetry = None  # home's "is FastAPI telemetry on" check, once home is known plain
        self._worker: _Worker | None = None

    async def __call__(self, scope, receive, send) -> None:
        if (scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST" or scope.get("query_string")
                or _DECLINED in scope):
            return await self.app(scope, receive, send)
        home = self.home
        if home is not None:
            telemetry = self._telemetry or self._plain(home)
            if telemetry():  # FastAPI asks the same on every request (its providers may be set late)
                return await self.app(scope, receive, send)  # the copy inside answers, traced
            scope[_DECLINED] = True  # whatever follows, the copy inside need not try again
        else:
            home = scope["app"]
        token, length = None, None
        for name, value in scope["headers"]:
            if name == b"authorization":
                token = value
            elif name == b"content-length":
                length = int(value) if value.isdigit() else None
        if token is None or length is None or length > self.max_bytes or token[:7].lower() != b"bearer ":
            return await self.app(scope, receive, send)
        token = token[7:].strip().decode("latin-1")
        runtime = home.state.runtime
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
        except Exception:
            if self.home is not None:  # ServerErrorMiddleware's answer; inside the app it answers itself
                await _answer(send, 500, None, body=_PLAIN_500)
            raise  # logged by the server, as the framework re-raises it
        global served, ahead
        served += 1
        ahead += self.home is not None
        await _answer(send, 200, result)

    def _plain(self, home):
        """Once (as Starlette builds its stack once): the telemetry check when the framework ahead
        of the route adds nothing else to it, or a check that always says "step aside"."""
        handlers = getattr(home, "exception_handlers", {})
        check = getattr(getattr(home, "_native_telemetry", None), "enabled", None)  # FastAPI's own test
        plain = (check is not None and not getattr(home, "root_path", "") and not getattr(home, "debug", False)
                 and 500 not in handlers and Exception not in handlers and getattr(home, "max_body_size", None) is None)
        self._telemetry = check if plain else _always
        return self._telemetry


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


def _always() -> bool:
    return True


async def _answer(send, status: int, doc: dict | None, retry_after: float | None = None, *, body: bytes = b"") -> None:
    """JSON of ``doc``; or, without one, ``body`` as plain text (the framework's 500)."""
    if doc is not None:
        body, kind = _json.encode(doc), b"application/json"
    else:
        kind = b"text/plain; charset=utf-8"
    headers = [(b"content-length", str(len(body)).encode()), (b"content-type", kind)]
    if retry_after:
        headers.append((b"retry-after", str(max(1, round(retry_after))).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
