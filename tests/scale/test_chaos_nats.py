"""NATS killed (SIGKILL) and restarted mid-run: 100,000 events from guards' telemetry, none lost
(the guards spool and resend, JetStream keeps what it acknowledged) and none counted twice
(Nats-Msg-Id drops the resent ones that were in fact stored; the cursor skips redeliveries)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

from fenghuo.guard.telemetry import Telemetry
from fenghuo.scale.connection import NatsLink, NatsSettings
from fenghuo.scale.sink import NatsSink
from tests.scale.conftest import drop
from tests.scale.helpers import Replica, seed

TOTAL = 100_000
GUARDS = 4


def test_nats_restart_loses_nothing_counts_nothing_twice(pg, own_nats, prefix, tmp_path):
    db = pg.make()
    db.upgrade()
    seed(db)
    settings = NatsSettings(servers=[own_nats.url]).with_prefix(prefix)
    control = NatsLink(settings, name="control").connect()
    control.ensure_stream()
    guards_link = NatsLink(NatsSettings(servers=[own_nats.url]).with_prefix(prefix), name="guards").connect()
    r = Replica(db, control, "replica-a")
    r.lead(ttl=600)  # held for the whole run (no keeper thread here)
    t0 = time.monotonic()
    sinks = [NatsSink(guards_link, "pa", timeout=3.0) for _ in range(GUARDS)]
    tele = [Telemetry(s, tmp_path / f"spool-{i}", retry_seconds=0.3) for i, s in enumerate(sinks)]
    per = TOTAL // GUARDS
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")

    def run_guard(i: int) -> None:
        base = {"type": "call", "service": "a-chat", "time": now, "instance": f"g{i}", "state": "running",
                "state_version": 1, "route": "primary", "status": "ok", "latency_ms": 10.0}
        for k in range(per):
            while len(tele[i]._q) > 20_000:  # the guard's queue is bounded; a real guard would drop, we wait
                time.sleep(0.01)
            tele[i].emit({**base, "id": f"g{i}-{k}"})

    threads = [threading.Thread(target=run_guard, args=(i,)) for i in range(GUARDS)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 60
    while sum(s.stored for s in sinks) < TOTAL * 0.4 and time.monotonic() < deadline:
        time.sleep(0.02)
    own_nats.kill()  # mid-run
    time.sleep(4.0)  # longer than the sinks' 3 s timeout: the guards spool meanwhile
    own_nats.start()
    for t in threads:
        t.join(60)
    for t in tele:
        t.close(90)
    assert sum(t.stats["dropped"] + t.stats["invalid"] for t in tele) == 0
    spooled = sum(t.stats["spooled"] for t in tele)

    r.wait_counted(TOTAL, timeout=90)
    time.sleep(0.5)  # anything more would be a duplicate: give it time to show
    assert r.counter.counted == TOTAL  # counted once each
    assert r.calls() == TOTAL
    info = control.run(control.js.stream_info(settings.stream))
    assert r.counter.cursor == info.state.last_seq  # every stored message was read
    assert spooled > 0, "the outage was not felt"
    print(f"{TOTAL} events in {time.monotonic() - t0:.1f} s; spooled {spooled}, resent and dropped by JetStream "
          f"{sum(s.duplicates for s in sinks)}, resent in new batches and dropped by the leader {r.counter.duplicates}, "
          f"messages redelivered and skipped {r.counter.skipped}, consumer rebinds {r.counter.resets}")
    r.counter.stop()
    guards_link.close()
    drop(control)
