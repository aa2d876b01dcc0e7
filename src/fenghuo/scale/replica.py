"""One replica of a scaled-out control plane: what every replica does, and what only the leader
does.

Every replica: accepts commands and events (the database serialises commands; JetStream stores
events), writes committed switch states to the KV bucket (``kvswitch``), books acknowledgements
from the acks queue group (``acks``), and publishes the control-plane heartbeat.

Only the leader (``lease.LeaseKeeper`` on the ``leader`` row, PostgreSQL): counts events
(``cursor.Counter``), evaluates warnings and sends notifications (the alert engine's
leadership), runs the plan executor (same leadership), and reconciles the KV bucket. When the
lease moves, the new leader reloads open warnings from the database and counts from the cursor.
Built once by ``fenghuo.api.runtime``; the engine and executor receive :attr:`Replica.leadership`
when they are constructed.

Settings (environment): FENGHUO_LEASE_SECONDS (5), FENGHUO_RECONCILE_SECONDS (30).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable

from fenghuo.control.instances import InstanceBook
from fenghuo.monitor.bus import Bus
from fenghuo.monitor.ingest import Monitor
from fenghuo.monitor.wire import WireEvent
from fenghuo.platform.db import Database
from fenghuo.scale import lease
from fenghuo.scale.acks import AckListener, Heartbeat
from fenghuo.scale.connection import NatsLink, token
from fenghuo.scale.cursor import Counter
from fenghuo.scale.kvswitch import KvPublisher
from fenghuo.scale.lease import LeaseKeeper
from fenghuo.scale.reconcile import reconcile

log = logging.getLogger(__name__)


def _env(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


def admitter(monitor):
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

    def __init__(self, db: Database, link: NatsLink, publisher: KvPublisher) -> None:
        self.db, self.link, self.publisher = db, link, publisher
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


class LeaseLeadership:
    """The lease-backed :class:`~fenghuo.platform.leadership.Leadership`: this replica leads
    while it holds the ``leader`` lease *and* its counter has rebuilt the windows (a tick on
    empty windows could resolve live warnings); its writes are fenced by the lease's epoch."""

    def __init__(self, keeper: LeaseKeeper, counter: Counter) -> None:
        self.keeper, self.counter = keeper, counter

    def active(self) -> bool:
        return self.keeper.leading and self.counter.ready.is_set()

    def fence(self, session) -> None:  # inside a leader-only write's own transaction
        lease.require(session, "leader", self.keeper.epoch if self.keeper.epoch is not None else -1)


class Replica:
    """Everything one replica of a scaled-out control plane runs beside the API. Built before
    the alert engine and the plan executor (they take :attr:`leadership` as a constructor
    input); :meth:`start` is given what to reload when this replica gains the lease."""

    def __init__(self, db: Database, link: NatsLink, monitor: Monitor, bus: Bus, book: InstanceBook,
                 heartbeat_seconds: float) -> None:
        self.db, self.link = db, link
        self.publisher = KvPublisher(link, db=db).attach()
        self.acks = AckListener(link, book).start()
        self.heartbeat = Heartbeat(link, heartbeat_seconds).start()
        self.counter = Counter(link, db, bus, admit=admitter(monitor), horizon=max(monitor.indicators.window_lengths.values()),
                               rebuild=lambda events: monitor.indicators.apply(events, monitor.now()))
        self.duties = LeaderDuties(db, link, self.publisher)
        self._reload: Callable[[], None] = lambda: None
        self.keeper = LeaseKeeper(db, "leader", ttl=_env("FENGHUO_LEASE_SECONDS", 5.0), on_gain=self._gain, on_lose=self._lose)
        self.leadership = LeaseLeadership(self.keeper, self.counter)

    def _gain(self, epoch: int) -> None:
        self._reload()  # warnings the previous leader changed
        self.counter.start(epoch)
        self.duties.start()

    def _lose(self) -> None:
        self.counter.stop()
        self.duties.stop()

    def start(self, reload: Callable[[], None]) -> None:
        """Campaign for the lease; ``reload`` runs each time it is gained, before counting."""
        self._reload = reload
        self.keeper.start()

    def stop(self) -> None:
        self.keeper.stop()
        self.counter.stop()
        self.duties.stop()
        self.heartbeat.stop()
        self.acks.stop()
        self.publisher.detach()
