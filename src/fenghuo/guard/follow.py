"""Keeping the switch cache current: follow the control plane's push stream, acknowledge.

:class:`StreamFollower` reads ``GET /api/v1/switch/stream`` (server-sent events) in a daemon
thread, applies each ``state`` event to the cache (and each ``users`` event, the per-user
measures in force, to the guard's ``UserTable``), counts every event (heartbeats included) as
contact, reconnects with a short backoff when the stream ends, and acknowledges to the control
plane the version it enforces (on a change, then with every ``ack_seconds`` of heartbeats) so
the control plane can answer "who enforces what". The acknowledgements of a process's
followers leave together (``_AckSender``: one ``POST /api/v1/instances/acks`` for the many
instances that acknowledge one change). Stream and acknowledgements
go over plain sockets parsed in C (``guard.sse``): every change reaches every guard at once.

:class:`EmbeddedFollower` does the same without a server: it hears changes committed in this
process at once and polls the local database for changes made elsewhere (the CLI).

A NATS KV watch (the scale-out issue) will be a third class with the same three duties.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from fenghuo.guard.sse import Poster, StreamError, events
from fenghuo.guard.state import Effective, SwitchCache, save_state_file
from fenghuo.platform.clock import SYSTEM_CLOCK, iso

log = logging.getLogger(__name__)
BATCH_PATH, SINGLE_PATH = "/api/v1/instances/acks", "/api/v1/instances/ack"
MAX_BATCH = 500  # below the control plane's 1,000 per request


class _AckSender:
    """The acknowledgements of every follower in this process that talks to one control plane
    with one token, coalesced: a change reaches all of a process's followers within a few
    milliseconds, and instead of one POST each (100 POSTs per change for 100 instances, ≈ 0.3 ms
    of control-plane CPU apiece) they leave together in one ``POST /instances/acks``.

    The first acknowledgement waits ``gather`` seconds plus a random share of ``jitter`` (once
    per batch, not per instance: separate processes then do not all answer at the same instant
    while the control plane is still pushing the change); whatever is queued meanwhile, or while
    a request is in flight, goes in the next one. Each acknowledgement carries the time
    enforcement began, so the wait hides nothing. Against a control plane without the batch
    route (404/405) it posts them one by one."""

    def __init__(self, control: str, token: str, gather: float, jitter: float) -> None:
        self.gather, self.jitter = gather, jitter
        self.poster = Poster(control, token)
        self.batch = True
        self.users = 0  # followers using it; the connection is closed when the last stops
        self.requests = 0
        self._queue: list[tuple[dict[str, Any], StreamFollower]] = []
        self._cv = threading.Condition()
        self._thread = threading.Thread(target=self._run, daemon=True, name="fenghuo-ack-sender")
        self._thread.start()

    def submit(self, body: dict[str, Any], follower: StreamFollower) -> None:
        with self._cv:
            self._queue.append((body, follower))
            self._cv.notify()

    def _run(self) -> None:
        while True:
            with self._cv:
                while not self._queue:
                    self._cv.wait()
            time.sleep(self.gather + random.uniform(0, self.jitter))
            while True:  # what queued up while the previous request was in flight goes at once
                with self._cv:
                    if not self._queue:
                        break
                    todo = [(b, f) for b, f in self._queue[:MAX_BATCH] if not f._stop.is_set()]
                    del self._queue[:MAX_BATCH]
                if todo:
                    self._send(todo)

    def _send(self, todo: list[tuple[dict[str, Any], StreamFollower]]) -> None:
        with self.poster.lock:
            try:
                if self.batch and len(todo) > 1:
                    status, answer = self.poster.exchange(BATCH_PATH, {"acks": [b for b, _ in todo]})
                    self.requests += 1
                    if status in (404, 405):  # an older control plane: one by one from now on
                        self.batch = False
                    elif status < 300:
                        for (_, f), r in zip(todo, answer.get("results", []), strict=False):
                            if r.get("error"):
                                f._ack_failed(f"acknowledgement refused: {r['error']}")
                        return
                    else:
                        raise StreamError(f"acknowledgements answered {status}")
                for body, f in todo:
                    status = self.poster.post(SINGLE_PATH, body)
                    self.requests += 1
                    if status >= 300:
                        f._ack_failed(f"acknowledgement answered {status}")
            except (ConnectionError, httpx.HTTPError, RuntimeError, ValueError) as exc:  # RuntimeError: closed by stop()
                for _, f in todo:
                    f._ack_failed(exc)

    def release(self) -> None:
        with self._cv:
            self.users -= 1
            last = self.users <= 0
        if last and self.poster.lock.acquire(timeout=1.0):  # a request in flight may finish first
            try:
                self.poster.close()
            finally:
                self.poster.lock.release()


_SENDERS: dict[tuple[str, str, float, float], _AckSender] = {}
_SENDERS_LOCK = threading.Lock()


def _sender(control: str, token: str, gather: float, jitter: float) -> _AckSender:
    with _SENDERS_LOCK:
        key = (control, token, gather, jitter)
        sender = _SENDERS.get(key)
        if sender is None:
            sender = _SENDERS[key] = _AckSender(control, token, gather, jitter)
        with sender._cv:
            sender.users += 1
        return sender


class _Acker:
    """Builds and remembers acknowledgements; the transport is given by the follower."""

    def __init__(self, cache: SwitchCache, instance: str, kind: str, ack_seconds: float) -> None:
        self.cache, self.instance, self.ack_seconds = cache, instance, ack_seconds
        self.started_at = iso(SYSTEM_CLOCK.now())
        self.meta = {"host": socket.gethostname(), "pid": os.getpid(), "kind": kind}
        self.last_sent = 0.0
        self.enforced_at: dict[int, str] = {}

    def body(self, eff: Effective) -> dict[str, Any]:
        at = self.enforced_at.setdefault(eff.version, iso(SYSTEM_CLOCK.now()))
        return {"instance": self.instance, "service": self.cache.info.service, "version": eff.version, "state": eff.state,
                "enforced_at": at, "failsafe": eff.failsafe, "started_at": self.started_at, "meta": self.meta}

    def due(self) -> bool:
        return time.monotonic() - self.last_sent >= self.ack_seconds


class StreamFollower:
    def __init__(self, cache: SwitchCache, control: str, token: str, instance: str, *, kind: str = "sdk",
                 ack_seconds: float = 5.0, state_file: Path | None = None, read_timeout: float | None = None,
                 on_event: Callable[[str, dict], None] | None = None, ack_jitter: float = 0.01, ack_gather: float = 0.004,
                 users=None) -> None:
        self.cache, self.control, self.token = cache, control.rstrip("/"), token
        self.users = users  # guard.user_measures.UserTable, or None
        self.state_file = state_file
        self.acker = _Acker(cache, instance, kind, ack_seconds)
        self.read_timeout = read_timeout or max(2.0, min(cache.lease, 10.0))
        self.on_event = on_event
        self.connected = threading.Event()
        self._stop = threading.Event()
        # acknowledgements: shared with this process's other followers of the same control plane
        self._sender = _sender(self.control, token, ack_gather, ack_jitter)
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"fenghuo-follow-{instance}")
        self.acks_failed = 0

    def start(self) -> StreamFollower:
        self._thread.start()
        return self

    def stop(self) -> None:
        if not self._stop.is_set():
            self._stop.set()
            self._sender.release()
        self._thread.join(timeout=2)

    def _run(self) -> None:
        delay = 0.05
        while not self._stop.is_set():
            try:
                for ev, data in events(self.control, self.token, [self.cache.info.service], timeout=self.read_timeout):
                    if self._stop.is_set():
                        return
                    delay = 0.05
                    self._handle(ev, data)
            except Exception as exc:  # noqa: BLE001 - the control plane may be gone; the lease decides
                log.debug("switch stream: %s", exc)
            self.connected.clear()
            self._stop.wait(delay)
            delay = min(delay * 2, 1.0)

    def _handle(self, ev: str, data: dict[str, Any]) -> None:
        if ev == "state":
            changed = self.cache.apply(data)
            self.connected.set()
            if changed:
                self.ack()
                if self.state_file:
                    save_state_file(self.state_file, self.cache.info, data)
            elif self.acker.due():
                self.ack()
        elif ev == "users":
            if self.users is not None and data.get("service") == self.cache.info.service:
                self.users.replace(data.get("measures") or [])
        elif ev in ("heartbeat", "hello"):
            self.cache.touch()
            if ev == "hello" and data.get("services") == 0:
                log.warning("control plane knows no service %s / 控制面不认识该服务", self.cache.info.service)
            if self.acker.due():
                self.ack()
        if self.on_event:
            self.on_event(ev, data)

    def ack(self) -> None:
        """Queue an acknowledgement of what is enforced now (its time is taken now, too)."""
        body = self.acker.body(self.cache.lookup())
        self.acker.last_sent = time.monotonic()
        self._sender.submit(body, self)

    def _ack_failed(self, why: object) -> None:
        self.acks_failed += 1
        self.acker.last_sent = 0.0  # try again with the next heartbeat
        log.debug("ack failed: %s", why)


class EmbeddedFollower:
    """No server: follow the local database (``fenghuo.control.propagation`` + polling)."""

    def __init__(self, cache: SwitchCache, db, instance: str, *, poll_seconds: float = 0.25,
                 ack_seconds: float = 5.0, kind: str = "sdk", watch=None) -> None:
        self.cache, self.db, self.poll_seconds = cache, db, poll_seconds
        # The database's data version (guard.dbwatch): a poll that would read the same row again
        # only renews the lease (the database answered) and acknowledges when due.
        self._gate = watch.gate() if watch is not None else None
        self._row = False  # the last read found the service's state
        self._book = None  # control.instances.InstanceBook, made on the first acknowledgement
        self.acker = _Acker(cache, instance, kind, ack_seconds)
        self._stop = threading.Event()
        self._unsubscribe = None
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"fenghuo-embedded-{instance}")
        self.connected = threading.Event()

    def start(self) -> EmbeddedFollower:
        from fenghuo.control import propagation

        self._unsubscribe = propagation.subscribe(self._on_change)
        self._poll_once()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._unsubscribe:
            self._unsubscribe()
        self._thread.join(timeout=2)

    def _on_change(self, change: dict[str, Any]) -> None:
        if self.cache.apply(change):
            self.ack()

    def _poll_once(self) -> None:
        from fenghuo.control.models import SwitchState
        from fenghuo.control.switch import state_view

        due, version = self._gate.due() if self._gate is not None else (True, None)
        if not due:  # nothing committed since the last read: the same row
            if self._row:
                self.cache.touch()
                if self.acker.due():
                    self.ack()
            return
        with self.db.reader() as s:
            row = s.get(SwitchState, self.cache.info.service)
            data = state_view(row) if row is not None else None
        if self._gate is not None:
            self._gate.done(version)
        self._row = data is not None
        if data is None:
            return
        if self.cache.apply(data) or self.acker.due():
            self.ack()
        self.connected.set()

    def _run(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            try:
                self._poll_once()
            except Exception as exc:  # noqa: BLE001 - database briefly unavailable: the lease decides
                log.debug("embedded poll: %s", exc)

    def ack(self) -> None:
        from fenghuo.control.instances import InstanceBook
        from fenghuo.platform.roles import local_actor

        try:
            # One book for the follower's life: it keeps the authorisation and this instance's row,
            # so an acknowledgement is one write, not two reads and a write (every ack_seconds, with
            # the interpreter lock held on the gateway's time).
            book = self._book = self._book or InstanceBook(self.db, flush_seconds=0)
            book.ack(local_actor(), self.acker.body(self.cache.lookup()))
            self.acker.last_sent = time.monotonic()
        except Exception as exc:  # noqa: BLE001
            log.debug("embedded ack failed: %s", exc)
