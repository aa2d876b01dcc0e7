"""Keeping the switch cache current: follow the control plane's push stream, acknowledge.

:class:`StreamFollower` reads ``GET /api/v1/switch/stream`` (server-sent events) in a daemon
thread, applies each ``state`` event to the cache (and each ``users`` event, the per-user
measures in force, to the guard's ``UserTable``), counts every event (heartbeats included) as
contact, reconnects with a short backoff when the stream ends, and acknowledges to the control
plane the version it enforces (at once on a change, then with every ``ack_seconds`` of
heartbeats) so the control plane can answer "who enforces what". Stream and acknowledgements
go over plain sockets parsed in C (``guard.sse``): every change reaches every guard at once.

:class:`EmbeddedFollower` does the same without a server: it hears changes committed in this
process at once and polls the local database for changes made elsewhere (the CLI).

A NATS KV watch (the scale-out issue) will be a third class with the same three duties.
"""

from __future__ import annotations

import heapq
import logging
import os
import random
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from fenghuo.guard.sse import Poster, StreamError, events
from fenghuo.guard.state import Effective, SwitchCache, save_state_file
from fenghuo.platform.clock import SYSTEM_CLOCK, iso

log = logging.getLogger(__name__)
# Acknowledgements leave from a small shared pool, not from the follower's thread: the follower
# goes straight back to reading the stream, and several guards in one process (tests, the
# propagation benchmark) do not make each other wait behind their acknowledgement round trips.
_ACKS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="fenghuo-ack")


class _Later:
    """Runs each job on the pool at its due time. The jitter used to be slept inside a pool
    worker: with 25 guards in a process, 4 workers each sleeping up to 50 ms per
    acknowledgement sent the last one ≈ 150–300 ms after the change instead of ≤ 50 ms."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._cv = threading.Condition()
        self._seq = 0
        self._thread: threading.Thread | None = None

    def at(self, due: float, job: Callable[[], None]) -> None:
        with self._cv:
            self._seq += 1
            heapq.heappush(self._heap, (due, self._seq, job))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, daemon=True, name="fenghuo-ack-timer")
                self._thread.start()
            self._cv.notify()

    def _run(self) -> None:
        while True:
            with self._cv:
                while not self._heap or self._heap[0][0] > time.monotonic():
                    self._cv.wait(self._heap[0][0] - time.monotonic() if self._heap else None)
                _, _, job = heapq.heappop(self._heap)
            _ACKS.submit(job)


_LATER = _Later()


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
                 on_event: Callable[[str, dict], None] | None = None, ack_jitter: float = 0.02, users=None) -> None:
        self.cache, self.control, self.token = cache, control.rstrip("/"), token
        self.users = users  # guard.user_measures.UserTable, or None
        self.state_file = state_file
        self.acker = _Acker(cache, instance, kind, ack_seconds)
        self.read_timeout = read_timeout or max(2.0, min(cache.lease, 10.0))
        self.on_event = on_event
        self.ack_jitter = ack_jitter
        self.connected = threading.Event()
        self._stop = threading.Event()
        self._poster = Poster(self.control, token)  # acknowledgements, on one keep-alive connection (guard.sse)
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"fenghuo-follow-{instance}")
        self.acks_failed = 0

    def start(self) -> StreamFollower:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        if self._poster.lock.acquire(timeout=1.0):  # an acknowledgement in flight may finish first
            try:
                self._poster.close()
            finally:
                self._poster.lock.release()

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
        # A change reaches every instance at once; without a little jitter all of them would
        # answer at once too, while the control plane is still pushing the change to the rest.
        # The acknowledgement carries the time enforcement began, so the delay does not hide
        # anything.
        _LATER.at(self.acker.last_sent + random.uniform(0, self.ack_jitter), lambda: self._send_ack(body))

    def _send_ack(self, body: dict[str, Any]) -> None:
        if self._stop.is_set():
            return
        try:
            with self._poster.lock:
                status = self._poster.post("/api/v1/instances/ack", body)
            if status >= 300:
                raise StreamError(f"acknowledgement answered {status}")
        except (ConnectionError, httpx.HTTPError, RuntimeError) as exc:  # RuntimeError: httpx client closed by stop()
            self.acks_failed += 1
            self.acker.last_sent = 0.0  # try again with the next heartbeat
            log.debug("ack failed: %s", exc)


class EmbeddedFollower:
    """No server: follow the local database (``fenghuo.control.propagation`` + polling)."""

    def __init__(self, cache: SwitchCache, db, instance: str, *, poll_seconds: float = 0.25,
                 ack_seconds: float = 5.0, kind: str = "sdk") -> None:
        self.cache, self.db, self.poll_seconds = cache, db, poll_seconds
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

        with self.db.reader() as s:
            row = s.get(SwitchState, self.cache.info.service)
            data = state_view(row) if row is not None else None
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
            book = InstanceBook(self.db, flush_seconds=0)
            book.ack(local_actor(), self.acker.body(self.cache.lookup()))
            self.acker.last_sent = time.monotonic()
        except Exception as exc:  # noqa: BLE001
            log.debug("embedded ack failed: %s", exc)
