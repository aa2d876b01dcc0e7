"""Warnings as the alerts engine writes them (same store, same ledger kinds, same listener
message), so response tests do not need traffic to make one fire."""

from __future__ import annotations

from fenghuo.alerts import listeners, store
from fenghuo.alerts.levels import Level
from fenghuo.alerts.lifecycle import FIRING, RESOLVED, Transition, WarningState
from fenghuo.alerts.models import WarningRow


def fire(db, service: str, level: str, alert: str = "output-violations", publish: bool = True) -> dict:
    now = db.clock.now().timestamp()
    w = WarningState(id=store.new_id(), fingerprint=store.fingerprint(alert, service), alert=alert, service=service,
                     state=FIRING, level=Level(level), started_at=now, fired_at=now, rule=f"{alert}-{level}", value=0.3)
    t = Transition("firing", w, "pending", FIRING, w.level)
    with db.transaction() as s:
        row = store.save(s, w, {"alert": alert, "service": service, "level": level}, "test warning", now)
        store.record(s, db.clock, t, row)
        view = store.view(row)
    if publish:
        listeners.publish({"kind": "firing", "warning": view, "from": "pending", "to": FIRING, "level": level,
                           "previous_level": None, "at": view["fired_at"]})
    return view


def resolve(db, warning_id: str) -> None:
    now = db.clock.now().timestamp()
    with db.transaction() as s:
        row = s.get(WarningRow, warning_id)
        w = store.state_of(row)
        w.state, w.resolved_at = RESOLVED, now
        store.save(s, w, dict(row.labels), row.description, now)
        store.record(s, db.clock, Transition("resolved", w, FIRING, RESOLVED, w.level), row)
