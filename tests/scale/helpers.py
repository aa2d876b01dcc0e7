"""Shared pieces for the scale tests: a seeded database, events, a counting leader in-process."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

from fenghuo.monitor.ingest import Monitor
from fenghuo.monitor.wire import decode_batch
from fenghuo.platform.roles import local_actor
from fenghuo.scale import lease
from fenghuo.scale.cursor import Counter
from fenghuo.scale.replica import admitter
from fenghuo.scale.runtime import make_bus
from tests.monitor.helpers import call, seed  # noqa: F401 - re-exported

ADMIN = local_actor()


def events(n: int, service: str = "a-chat", tag: str | None = None, t: datetime | None = None) -> list[dict]:
    tag = tag or uuid.uuid4().hex[:8]
    t = t or datetime.now(UTC)
    return [call(service, t, id=f"{tag}-{i}") for i in range(n)]


def wire(evs: list[dict]):
    import orjson

    good, bad = decode_batch(orjson.dumps(evs))
    assert not bad
    return good


class Replica:
    """What one control-plane replica does with events, in this process: ingest on the bus and,
    when it holds the lease, count."""

    def __init__(self, db, link, holder: str | None = None) -> None:
        from fenghuo.monitor.directory import Directory

        self.db, self.link = db, link
        d = Directory(db)
        d.reload()
        self.bus = make_bus(link, d)
        self.monitor = Monitor(db, bus=self.bus)
        self.monitor.start()
        self.holder = holder or f"r-{uuid.uuid4().hex[:6]}"
        self.counter = Counter(link, db, self.bus, admit=admitter(self.monitor), batch=500,
                               rebuild=lambda evs: self.monitor.indicators.apply(evs, self.monitor.now()))
        self.epoch = None

    def lead(self, ttl: float = 30.0) -> int:
        deadline = time.monotonic() + ttl + 5
        while (epoch := lease.take(self.db, "leader", self.holder, ttl)) is None:
            assert time.monotonic() < deadline, "lease never free"
            time.sleep(0.1)
        self.epoch = epoch
        self.counter.start(epoch)
        return epoch

    def ingest(self, evs: list[dict]):
        return self.monitor.ingest(wire(evs), ADMIN)

    def calls(self, service: str = "a-chat") -> int:
        snap = self.monitor.indicators.snapshot(service, self.monitor.now())
        return int(snap["windows"]["5m"]["calls"])

    def wait_counted(self, n: int, timeout: float = 30.0) -> None:
        """Until this process's counter has counted ``n`` events (then a moment more, so that a
        count beyond ``n`` would show)."""
        deadline = time.monotonic() + timeout
        while self.counter.counted < n:
            assert time.monotonic() < deadline, f"counted {self.counter.counted}, expected {n}"
            time.sleep(0.02)
        time.sleep(0.3)


def consumer_info(link):
    """The counting consumer as JetStream holds it now."""
    return link.run(link.js.consumer_info(link.settings.stream, link.settings.consumer))

