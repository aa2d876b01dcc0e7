"""Last lifespan hook of a scaled-out control plane: what every replica does, and what only the
leader does.

Every replica: accepts commands and events (the database serialises commands; JetStream stores
events), writes committed switch states to the KV bucket (``kvswitch``), books acknowledgements
from the acks queue group (``acks``), and publishes the control-plane heartbeat.

Only the leader (``lease.LeaseKeeper`` on the ``leader`` row, PostgreSQL): counts events
(``cursor.Counter``), evaluates warnings and sends notifications (the alert engine's
``active`` gate), runs the plan executor (``app.state.response.active``), and reconciles the
KV bucket. When the lease
moves, the new leader reloads open warnings from the database and counts from the cursor.

Settings (environment): FENGHUO_LEASE_SECONDS (5), FENGHUO_RECONCILE_SECONDS (30).
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from contextlib import asynccontextmanager

from fastapi import FastAPI

from fenghuo.control.instances import InstanceBook
from fenghuo.monitor.wire import WireEvent
from fenghuo.scale.acks import AckListener, Heartbeat
from fenghuo.scale.connection import NatsLink, token
from fenghuo.scale.cursor import Counter
from fenghuo.scale.kvswitch import KvPublisher
from fenghuo.scale import lease
from fenghuo.scale.lease import LeaseKeeper
from fenghuo.scale.reconcile import reconcile

log = logging.getLogger(__name__)


def _env(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


def admitter(monitor):  # noqa: ANN001, ANN201
    """Events published straight to JetStream by guards count only for a known service, and only
    under the subject of that service's provider."""

    def admit(pairs: list[tuple[str, WireEvent]]) -> list[WireEvent]:
        known = monitor.directory.lookup({e.service for _, e in pairs})
        out = []
        for subject, e in pairs:
            info = known.get(e.service)
            if info is not None and subject.rsplit(".", 2)[-2] == token(info.provider):
                out.append(e)
        return out

    return admit


class LeaderDuties:
    """The leader's periodic KV reconciliation, in one thread (plans run in the response
    package's executor thread, gated by the same lease)."""

    def __init__(self, app: FastAPI, link: NatsLink, publisher: KvPublisher) -> None:
        self.db, self.link, self.publisher = app.state.db, link, publisher
        self.reconcile_every = _env("FENGHUO_RECONCILE_SECONDS", 30.0)
        self.reconciled = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.stop()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(self._stop,), daemon=True, name="fenghuo-leader")
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)

    def _run(self, stop: threading.Event) -> None:
        last, generation = 0.0, -1
        while not stop.wait(0.2):
            now = time.monotonic()
            if self.publisher.dirty.is_set() or generation != self.link.generation or now - last >= self.reconcile_every:
                try:
                    self.publisher.dirty.clear()
                    self.reconciled += len(reconcile(self.db, self.link, self.publisher.kv))
                    last, generation = now, self.link.generation
                except Exception as exc:  # noqa: BLE001 - try again next round
                    self.publisher.dirty.set()
                    log.warning("reconciliation failed: %s", exc)


@asynccontextmanager
async def lifespan(app: FastAPI):
    link: NatsLink | None = getattr(app.state, "nats", None)
    if link is None:
        yield
        return
    db, monitor, bus = app.state.db, app.state.monitor, app.state.bus
    settings = app.state.settings
    publisher = await asyncio.to_thread(lambda: KvPublisher(link, db=db).attach())
    book = getattr(app.state, "instance_book", None)
    if book is None:
        book = app.state.instance_book = InstanceBook(db)
    acks = await asyncio.to_thread(lambda: AckListener(link, book).start())
    heartbeat = await asyncio.to_thread(lambda: Heartbeat(link, settings.heartbeat_seconds).start())
    counter = Counter(link, db, bus, admit=admitter(monitor), horizon=max(monitor.indicators.window_lengths.values()),
                      rebuild=lambda events: monitor.indicators.apply(events, monitor.now()))
    duties = LeaderDuties(app, link, publisher)
    engine = getattr(app.state, "alerts", None)

    def gain(epoch: int) -> None:
        if engine is not None:
            engine.load()  # warnings the previous leader changed
        counter.start(epoch)
        duties.start()

    def lose() -> None:
        counter.stop()
        duties.stop()

    keeper = LeaseKeeper(db, "leader", ttl=_env("FENGHUO_LEASE_SECONDS", 5.0), on_gain=gain, on_lose=lose)
    # Lead only once the windows are rebuilt: a tick on empty windows could resolve live warnings.
    leading = lambda: keeper.leading and counter.ready.is_set()  # noqa: E731
    def fence(session) -> None:  # noqa: ANN001 - inside a leader-only write's own transaction
        lease.require(session, "leader", keeper.epoch if keeper.epoch is not None else -1)

    if engine is not None:
        engine.active = engine.notifier.active = leading
        engine.fence = fence
    response = getattr(app.state, "response", None)  # the plan executor's thread (fenghuo.response.runtime)
    if response is not None:
        response.active = leading
        response.executor.fence = fence
    app.state.replica = keeper
    app.state.counter = counter
    app.state.kv_publisher = publisher
    keeper.start()
    try:
        yield
    finally:
        await asyncio.to_thread(keeper.stop)
        await asyncio.to_thread(counter.stop)
        await asyncio.to_thread(duties.stop)
        heartbeat.stop()
        await asyncio.to_thread(acks.stop)
        publisher.detach()
