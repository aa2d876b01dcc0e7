"""Rule semantics with the ManualClock: for, min samples, resolution, escalation, flapping,
state in the database, ledger entries."""

from __future__ import annotations

from sqlalchemy import select

from fenghuo.alerts.models import WarningRow
from fenghuo.ledger import store as ledger
from fenghuo.ledger.models import LedgerEntry
from tests.monitor.helpers import call

LEVELS = """
rules:
  - {name: viol-yellow, alert: viol, services: {ids: [a-chat]}, indicator: output_violation_rate, window: 1m,
     threshold: {op: ">", value: 0.1}, for: 30s, min_samples: 10, keep_firing_for: 20s, level: yellow, description: y}
  - {name: viol-red, alert: viol, services: {ids: [a-chat]}, indicator: output_violation_rate, window: 1m,
     threshold: {op: ">", value: 0.5}, for: 0s, min_samples: 10, keep_firing_for: 20s, level: red, description: r}
"""


def batch(clock, n, unsafe_share, service="a-chat"):
    k = round(n * unsafe_share)
    t = clock.now()
    return [call(service, t, unsafe=i < k) for i in range(n)]


def rows(db):
    with db.reader() as s:
        return s.execute(select(WarningRow).order_by(WarningRow.started_at)).scalars().all()


def kinds(db):
    with db.reader() as s:
        return [e.kind for e in s.execute(select(LedgerEntry).where(LedgerEntry.kind.like("warning.%"))
                                          .order_by(LedgerEntry.seq)).scalars()]


def test_for_duration_pending_then_firing(rig, db, clock):
    r = rig(LEVELS)
    r.post(batch(clock, 20, 0.2))
    [w] = rows(db)
    assert (w.state, w.level) == ("pending", "yellow")
    r.advance(29)
    assert rows(db)[0].state == "pending"
    r.advance(2)
    [w] = rows(db)
    assert (w.state, w.level, w.rule) == ("firing", "yellow", "viol-yellow")
    assert kinds(db) == ["warning.pending", "warning.firing"]


def test_min_samples_neither_starts_nor_clears(rig, db, clock):
    r = rig(LEVELS)
    r.post(batch(clock, 9, 0.9))  # 9 < min_samples 10: cannot say
    assert rows(db) == []
    r.post(batch(clock, 1, 1.0))  # now 10 samples, 90 %: red at once
    [w] = rows(db)
    assert (w.state, w.level) == ("firing", "red")
    r.advance(61)  # the window empties: no samples, so the warning holds
    r.advance(60)
    assert rows(db)[0].state == "firing"


def test_resolution_after_keep_firing_for(rig, db, clock):
    r = rig(LEVELS)
    r.post(batch(clock, 20, 0.6))
    assert rows(db)[0].state == "firing"
    r.advance(61)
    r.post(batch(clock, 20, 0.0))  # healthy traffic: condition false
    assert rows(db)[0].state == "firing"  # flap guard holds it for 20 s
    r.advance(10)
    r.post(batch(clock, 20, 0.0))
    assert rows(db)[0].state == "firing"
    r.advance(11)
    [w] = rows(db)
    assert w.state == "resolved" and w.active is None
    assert kinds(db)[-1] == "warning.resolved"


def test_escalation_yellow_to_red_while_firing(rig, db, clock):
    r = rig(LEVELS)
    r.post(batch(clock, 20, 0.2))
    r.advance(31)
    assert rows(db)[0].level == "yellow"
    r.post(batch(clock, 100, 0.9))
    [w] = rows(db)
    assert (w.state, w.level, w.rule) == ("firing", "red", "viol-red")
    assert kinds(db) == ["warning.pending", "warning.firing", "warning.escalated"]
    with db.reader() as s:
        e = s.execute(select(LedgerEntry).where(LedgerEntry.kind == "warning.escalated")).scalar_one()
        assert '"previous_level":"yellow"' in e.payload and '"level":"red"' in e.payload


def test_flapping_stays_one_warning(rig, db, clock):
    r = rig(LEVELS)
    r.post(batch(clock, 20, 0.6))
    for _ in range(3):
        r.advance(61)
        r.post(batch(clock, 20, 0.0))  # clears...
        r.advance(5)
        r.post(batch(clock, 30, 1.0))  # ...and comes back inside keep_firing_for (30 of 50 unsafe)
    ws = rows(db)
    assert len(ws) == 1 and ws[0].state == "firing" and ws[0].flaps == 3
    assert kinds(db) == ["warning.pending", "warning.firing"]


def test_pending_that_clears_is_cancelled_without_firing(rig, db, clock):
    r = rig(LEVELS)
    r.post(batch(clock, 20, 0.2))
    r.advance(61)
    r.post(batch(clock, 20, 0.0))
    [w] = rows(db)
    assert w.state == "resolved" and w.fired_at is None
    assert kinds(db) == ["warning.pending", "warning.cancelled"]


def test_after_resolution_a_new_warning_gets_a_new_id(rig, db, clock):
    r = rig(LEVELS)
    r.post(batch(clock, 20, 0.6))
    r.advance(61)
    r.post(batch(clock, 20, 0.0))
    r.advance(21)
    r.advance(61)
    r.post(batch(clock, 20, 0.6))
    ws = rows(db)
    assert [w.state for w in ws] == ["resolved", "firing"]
    assert ws[0].fingerprint == ws[1].fingerprint and ws[0].id != ws[1].id


def test_restart_keeps_pending_and_firing_and_does_not_refire(rig, db, clock):
    rules = LEVELS + """
  - {name: err, services: {ids: [b-chat]}, indicator: error_rate, window: 1m,
     threshold: {op: ">", value: 0.1}, for: 2m, min_samples: 5, level: orange, description: e}
"""
    r = rig(rules)
    r.post(batch(clock, 20, 0.6))
    r.post([call("b-chat", clock.now(), status="upstream_error") for _ in range(10)])
    before = {(w.alert, w.state, w.level, w.id) for w in rows(db)}
    assert {(a, s) for a, s, _, _ in before} == {("viol", "firing"), ("err", "pending")}
    n = len(kinds(db))
    r2 = r.restart()  # a new engine over the same database, empty windows
    r2.advance(1)
    assert {(w.alert, w.state, w.level, w.id) for w in rows(db)} == before
    r2.post(batch(clock, 20, 0.6))  # the red condition again: still one firing warning
    r2.advance(121)
    r2.post([call("b-chat", clock.now(), status="upstream_error") for _ in range(10)])
    # err has now held for 2 minutes, counted from before the restart
    states = {w.alert: w.state for w in rows(db)}
    assert states == {"viol": "firing", "err": "firing"}
    assert kinds(db)[n:] == ["warning.firing"]
    with db.reader() as s:
        assert ledger.verify(s).ok


def test_count_rule_and_change_rule(rig, db, clock):
    r = rig("""
rules:
  - {name: complaints, services: {sectors: [general]}, indicator: complaints, window: 1h,
     threshold: {op: ">=", value: 3}, for: 0, min_samples: 0, level: yellow, description: c}
  - {name: surge, services: {ids: [a-med]}, indicator: output_violation_rate, window: 1m,
     change: {zscore: 3, alpha: 0.3, warmup: 5}, for: 0, min_samples: 10, level: orange, description: s}
""")
    from tests.monitor.helpers import other

    r.post([other("complaint", "b-chat", clock.now()) for _ in range(2)])
    assert rows(db) == []
    r.post([other("complaint", "b-chat", clock.now())])
    assert [(w.alert, w.state) for w in rows(db)] == [("complaints", "firing")]
    for _ in range(8):  # a steady 5 % baseline
        r.advance(2)
        r.post(batch(clock, 20, 0.05, "a-med"))
    assert [w.alert for w in rows(db)] == ["complaints"]
    r.post(batch(clock, 200, 0.9, "a-med"))  # a surge far above its own past
    assert {w.alert: (w.state, w.level) for w in rows(db)}["surge"] == ("firing", "orange")
