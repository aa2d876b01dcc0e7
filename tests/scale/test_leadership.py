"""Leadership lost and regained, on real PostgreSQL and NATS: a counter that loses its lease
stops (and so does evaluation, which waits for it) and resumes when the lease is its again; a
leader that stalled past its lease cannot commit a warning transition."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text

from fenghuo.alerts.config import AlertsConfig
from fenghuo.alerts.engine import AlertEngine
from fenghuo.alerts.models import WarningRow
from fenghuo.alerts.rules import parse_rules
from fenghuo.ledger.models import LedgerEntry
from fenghuo.monitor.ingest import Monitor
from fenghuo.scale import lease
from tests.monitor.helpers import call
from tests.scale.helpers import ADMIN, Replica, events, seed
from tests.scale.servers import RULES


def _wait(pred, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, f"timed out: {what}"
        time.sleep(0.05)


def _expire(db) -> None:  # the lease runs out in the database (a stall, a slow renewal)
    with db.transaction() as s:
        s.execute(text("UPDATE scale_leases SET expires_at = 0 WHERE name = 'leader'"))


def test_counter_stops_with_its_lease_and_resumes_when_it_holds_it_again(pg, shared_link):
    db = pg.make()
    db.upgrade()
    seed(db)
    r = Replica(db, shared_link)
    try:
        epoch = r.lead()
        r.ingest(events(10))
        r.wait_counted(10)
        assert r.counter.ready.is_set()

        _expire(db)  # the counter's next write fails its lease check
        r.ingest(events(5))
        _wait(lambda: not r.counter.ready.is_set(), 15, "the counter to stop evaluating")
        time.sleep(0.5)
        assert r.counter.counted == 10  # nothing counted without the lease
        assert r.counter.running  # waiting for the lease, not gone (the keeper still thinks it leads)

        assert lease.take(db, "leader", r.holder, 30) == epoch  # renewed by the same holder: same epoch
        _wait(lambda: r.counter.ready.is_set(), 15, "the counter to resume")
        r.wait_counted(15)
        assert r.counter.counted == 15  # the 5 held back, once

        _expire(db)
        other = lease.take(db, "leader", "someone-else", 30)  # the lease changes hands
        assert other == epoch + 1
        r.ingest(events(3))
        _wait(lambda: not r.counter.ready.is_set(), 15, "the counter to stop")
        time.sleep(1.0)
        assert not r.counter.ready.is_set() and r.counter.counted == 15  # never resumes on someone else's epoch
    finally:
        r.counter.stop()


class Epoch:
    """A leadership that believes it holds ``epoch`` of the lease (the engine's fence checks it)."""

    epoch = -1

    def active(self) -> bool:
        return True

    def fence(self, session) -> None:
        lease.require(session, "leader", self.epoch)


def test_a_stalled_leader_cannot_commit_a_warning_transition(pg):
    db = pg.make()
    db.upgrade()
    seed(db)
    monitor = Monitor(db)
    monitor.start()
    held = Epoch()
    engine = AlertEngine(monitor, AlertsConfig(rules=parse_rules(RULES)), held)
    engine.load()
    stale = held.epoch = lease.take(db, "leader", "stalled", 30)
    now = datetime.now(UTC)
    monitor.ingest_body(json.dumps([call("a-chat", now, unsafe=True) for _ in range(20)]).encode(), ADMIN)

    _expire(db)  # the stalled leader's lease ran out; a successor took over
    successor = lease.take(db, "leader", "successor", 30)
    assert successor == stale + 1
    with pytest.raises(lease.NotLeader):
        engine.evaluate({"a-chat"})

    def written() -> tuple[int, int]:
        with db.reader() as s:
            return (len(s.execute(select(WarningRow)).scalars().all()),
                    len(s.execute(select(LedgerEntry).where(LedgerEntry.kind.like("warning.%"))).scalars().all()))

    assert written() == (0, 0)  # neither the warning nor its ledger entry
    held.epoch = successor  # the same evaluation under the live epoch commits
    assert [t.kind for t in engine.evaluate({"a-chat"})]
    assert written()[0] == 1 and written()[1] >= 1


def test_a_stalled_leaders_plan_step_gives_no_switch_command(pg):
    """A plan step's switch command is fenced inside its own transaction: a leader that stalled
    past its lease (a successor holds it now) cannot pause the service, the successor can."""
    from fenghuo.control import switch
    from fenghuo.response.executor import SYSTEM, run_switch

    db = pg.make()
    db.upgrade()
    seed(db)
    stale = lease.take(db, "leader", "stalled", 30)
    _expire(db)
    assert lease.take(db, "leader", "successor", 30) == stale + 1

    with pytest.raises(lease.NotLeader):
        run_switch(db, SYSTEM, "a-chat", "pause", "plan step of a stalled leader", "plan-stale", None,
                   fence=lambda s: lease.require(s, "leader", stale))
    before = switch.get_state(db, ADMIN, "a-chat")
    assert (before["state"], before["version"]) == ("running", 1)  # nothing was applied or recorded

    status, _ = run_switch(db, SYSTEM, "a-chat", "pause", "plan step of the leader", "plan-ok", None,
                           fence=lambda s: lease.require(s, "leader", stale + 1))
    after = switch.get_state(db, ADMIN, "a-chat")
    assert status == "done" and (after["state"], after["version"]) == ("paused", 2)
