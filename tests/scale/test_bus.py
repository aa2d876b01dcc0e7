"""The monitor's bus on JetStream: ingest stores each event once (Nats-Msg-Id), the counting
leader counts each once, and a new leader after a restart counts only what the old one had not
recorded — with PostgreSQL for state and the machine's NATS."""

from __future__ import annotations

import time

from fenghuo.scale import lease
from fenghuo.scale.cursor import read_cursor
from tests.scale.helpers import Replica, events, seed


def test_ingest_counts_once_and_a_new_leader_continues(pg, shared_link):
    db = pg.make()
    db.upgrade()
    seed(db)
    a = Replica(db, shared_link, "replica-a")
    batch = events(3000)
    r = a.ingest(batch)
    assert (r.accepted, r.duplicates) == (3000, 0)
    r = a.ingest(batch)  # the same request retried: JetStream already holds that message
    assert (r.accepted, r.duplicates) == (0, 3000)
    a.ingest(batch[:500] + events(100))  # a guard's spool resending 500 inside a new batch
    b = Replica(db, shared_link, "replica-b")  # another replica: its memory has seen nothing
    b.ingest(batch[1000:1200])

    a.lead()
    a.wait_counted(3100)
    assert a.calls() == 3100 and a.counter.counted == 3100 and a.counter.duplicates == 700
    assert read_cursor(db, "fenghuo-count") == 3  # three messages stored, the retried one was not

    # replica a stops leading (as if it died); b takes the lease and counts only what is new
    a.counter.stop()
    lease.release(db, "leader", "replica-a")
    more = events(700)
    b.ingest(more + batch[:10])
    epoch = b.lead()
    assert epoch == 2
    b.wait_counted(700)
    assert b.counter.counted == 700 and b.counter.duplicates == 10  # the ids a recorded are known to b
    assert b.counter.rebuilt == 3100  # a's windows replayed into b's indicators, each event once
    assert b.calls() == 3800
    b.counter.stop()


def test_a_stale_leader_cannot_advance_the_cursor(pg, shared_link):
    db = pg.make()
    db.upgrade()
    seed(db)
    a = Replica(db, shared_link, "replica-a")
    a.lead(ttl=1.0)
    a.ingest(events(10))
    a.wait_counted(10)
    a.counter.stop()
    time.sleep(1.2)  # a's lease runs out while it is "paused"
    b = Replica(db, shared_link, "replica-b")
    b.lead(ttl=30.0)
    b.ingest(events(5))
    b.wait_counted(5)
    try:
        a.counter._advance(99)
    except lease.NotLeader:
        pass
    else:
        raise AssertionError("a stale leader advanced the cursor")
    assert read_cursor(db, "fenghuo-count") == 2
    b.counter.stop()


def test_a_recreated_stream_does_not_hide_new_events(pg, shared_link):
    db = pg.make()
    db.upgrade()
    seed(db)
    a = Replica(db, shared_link, "replica-a")
    for _ in range(3):
        a.ingest(events(10))
    a.lead()
    a.wait_counted(30)
    a.counter.stop()
    shared_link.run(shared_link.js.delete_stream(shared_link.settings.stream))  # an operator drops and recreates it
    shared_link.ensure_stream()
    a.ingest(events(5))  # sequence 1 again, below the old cursor (3)
    a.counter.start(a.epoch)
    a.wait_counted(35, timeout=10)
    assert a.counter.counted == 35
    a.counter.stop()
