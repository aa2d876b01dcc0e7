"""Instance acknowledgements and control-plane heartbeats over core NATS.

Guards publish each acknowledgement (the same body as ``POST /api/v1/instances/ack``) on
``<prefix>.instances.ack.<service>``, or a JSON array of them when several instances in one
process acknowledge a change of that service together (``AckBatcher``); control-plane replicas
take them in one queue group, so each acknowledgement is booked once by whichever replica gets
it, into the shared database through the same ``InstanceBook`` the HTTP route uses. The book
writes a change's acknowledgements ``burst_seconds`` after the first arrives (the listener's
worker keeps that time even when no further message comes), so any replica's enforcement
answer shows them within tens of milliseconds. Who may publish there is NATS's business
(per-provider subject permissions, docs/deploy.md), so the book is told the sender is the system.

Every replica publishes a heartbeat on ``<prefix>.switch.heartbeat`` every ``heartbeat_seconds``:
for a guard it is the sign of life that keeps its lease (a live NATS with a dead control plane
must still let fail-closed services close). Both are fire-and-forget: a lost acknowledgement is
sent again with the next heartbeat, a lost heartbeat is covered by the lease.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from queue import Empty, SimpleQueue
from typing import Any

import orjson

from fenghuo.control.instances import InstanceBook
from fenghuo.platform.roles import Actor, Role
from fenghuo.scale.connection import NatsLink, token

log = logging.getLogger(__name__)
NATS_ACTOR = Actor("nats-guard", Role.system)


def ack_subject(link: NatsLink, service: str) -> str:
    return f"{link.settings.acks_subject}.{token(service)}"


def send_ack(link: NatsLink, body: dict[str, Any] | list[dict[str, Any]]) -> None:
    """One acknowledgement, or a list of them for one service (one message)."""
    service = (body[0] if isinstance(body, list) else body)["service"]
    link.submit(link.nc.publish(ack_subject(link, service), orjson.dumps(body)))


class AckBatcher:
    """The acknowledgements of one process's guards on one link, coalesced per service: a change
    reaches all of a process's KV watchers within a few milliseconds, and their acknowledgements
    leave as one message (a list) ``gather`` seconds after the first, instead of one message
    each. Runs on the link's event loop; the enforcement time in each body is its own."""

    MAX = 500

    def __init__(self, link: NatsLink, gather: float = 0.003) -> None:
        self.link, self.gather = link, gather
        self.sent = 0  # messages published
        self._pending: dict[str, list[dict[str, Any]]] = {}

    def add(self, body: dict[str, Any]) -> None:
        """Thread-safe: hands the body to the link's loop."""
        self.link.loop.call_soon_threadsafe(self._add, body)

    def _add(self, body: dict[str, Any]) -> None:
        todo = self._pending.setdefault(body["service"], [])
        todo.append(body)
        if len(todo) == 1:
            self.link.loop.call_later(self.gather, self._flush, body["service"])
        elif len(todo) >= self.MAX:
            self._flush(body["service"])

    def _flush(self, service: str) -> None:
        todo = self._pending.pop(service, None)
        if not todo:
            return
        self.sent += 1
        send_ack(self.link, todo[0] if len(todo) == 1 else todo)


class AckListener:
    """Books acknowledgements in the order they arrive, in one worker thread: booking them
    concurrently could let an instance's older acknowledgement land after its newer one and
    leave the book holding the old version."""

    def __init__(self, link: NatsLink, book: InstanceBook, queue: str = "fenghuo-acks") -> None:
        self.link, self.book, self.queue = link, book, queue
        self.booked = 0
        self.refused = 0
        self._sub = None
        self._q: SimpleQueue = SimpleQueue()
        self._worker = threading.Thread(target=self._work, daemon=True, name="fenghuo-acks")

    async def _on(self, msg) -> None:
        self._q.put(msg.data)

    def _work(self) -> None:
        while True:
            wait = self.book.flush_in()
            try:
                data = self._q.get(timeout=None if wait is None else max(wait, 0.0))
            except Empty:  # a flush is due and no message came meanwhile
                data = b""
            if data is None:
                return
            if data:
                self._book(data)
            if self.book.flush_due():
                try:
                    self.book.flush()
                except Exception as exc:  # noqa: BLE001 - database away: the rows stay unwritten, tried again
                    log.warning("acknowledgements not written yet: %s", exc)
                    time.sleep(min(self.book.flush_seconds, 1.0))

    def _book(self, data: bytes) -> None:
        try:
            body = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            self.refused += 1
            log.debug("acknowledgement refused: %s", exc)
            return
        for one in body if isinstance(body, list) else [body]:
            try:
                self.book.ack(NATS_ACTOR, one, flush=False)
                self.booked += 1
            except Exception as exc:  # noqa: BLE001 - a bad acknowledgement must not stop the others
                self.refused += 1
                log.debug("acknowledgement refused: %s", exc)

    def start(self) -> AckListener:
        self._worker.start()
        self._sub = self.link.run(self.link.nc.subscribe(f"{self.link.settings.acks_subject}.>", queue=self.queue, cb=self._on,
                                                         pending_msgs_limit=100_000))
        return self

    def stop(self) -> None:
        if self._sub is not None:
            try:
                self.link.run(self._sub.unsubscribe(), timeout=3)
            except Exception:  # noqa: BLE001
                pass
        self._q.put(None)
        self._worker.join(timeout=5)


class Heartbeat:
    def __init__(self, link: NatsLink, every: float = 1.0, replica: str | None = None) -> None:
        self.link, self.every = link, every
        self.replica = replica or uuid.uuid4().hex[:10]
        self._task = None

    async def _loop(self) -> None:
        subject = self.link.settings.heartbeat_subject
        while True:
            try:
                await self.link.nc.publish(subject, orjson.dumps({"replica": self.replica, "at": time.time()}))
            except Exception as exc:  # noqa: BLE001 - NATS away: the guards' leases decide
                log.debug("heartbeat not sent: %s", exc)
            await asyncio.sleep(self.every)

    def start(self) -> Heartbeat:
        async def go():
            return asyncio.get_running_loop().create_task(self._loop())

        self._task = self.link.run(go())
        return self

    def stop(self) -> None:
        if self._task is not None:
            self.link.loop.call_soon_threadsafe(self._task.cancel)
