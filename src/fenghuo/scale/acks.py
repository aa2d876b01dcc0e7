"""Instance acknowledgements and control-plane heartbeats over core NATS.

Guards publish each acknowledgement (the same body as ``POST /api/v1/instances/ack``) on
``<prefix>.instances.ack.<service>``; control-plane replicas take them in one queue group, so each
acknowledgement is booked once by whichever replica gets it, into the shared database through
the same ``InstanceBook`` the HTTP route uses. Who may publish there is NATS's business
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
from queue import SimpleQueue
from typing import Any

import orjson

from fenghuo.control.instances import InstanceBook
from fenghuo.platform.roles import Actor, Role
from fenghuo.scale.connection import NatsLink, token

log = logging.getLogger(__name__)
NATS_ACTOR = Actor("nats-guard", Role.system)


def ack_subject(link: NatsLink, service: str) -> str:
    return f"{link.settings.acks_subject}.{token(service)}"


def send_ack(link: NatsLink, body: dict[str, Any]) -> None:
    link.submit(link.nc.publish(ack_subject(link, body["service"]), orjson.dumps(body)))


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
            data = self._q.get()
            if data is None:
                return
            try:
                self.book.ack(NATS_ACTOR, orjson.loads(data))
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
