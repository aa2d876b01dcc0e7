"""Reporting clocks: started when an incident becomes reportable (and when its handling ends,
for the summary), met by a submitted report, and — when one runs out — turned into a warning
of its own, so a missed deadline is as loud as a violation spike (CN-IR-10: late reports count
against the provider).

The deadline warning is written through the alerts store (same table, same ledger kinds, same
listeners) with alert ``report-deadline-<incident>-<report>`` and label ``source:
response.clock``; plans and canary rollbacks ignore warnings with that label, so a paperwork
deadline never pauses a service by itself.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fenghuo.alerts import listeners
from fenghuo.alerts import store as alert_store
from fenghuo.alerts.levels import Level
from fenghuo.alerts.lifecycle import FIRING, RESOLVED, Transition, WarningState
from fenghuo.alerts.models import WarningRow
from fenghuo.ledger import store as ledger
from fenghuo.platform.clock import Clock, iso
from fenghuo.platform.db import Database
from fenghuo.response import deadlines
from fenghuo.response.models import Incident, IncidentLink, ReportClock

SOURCE = "response.clock"
ACTOR = "system:response-clocks"
LEVEL = {"initial": Level.orange, "summary": Level.yellow}


def parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def start_clocks(session: Session, clock: Clock, inc: Incident, actor: str = ACTOR) -> list[ReportClock]:
    """Start every clock the incident's profile sets for what is known now (idempotent).

    Both CN discovery and EU awareness run from ``detected_at`` (``--detected-at``), not from
    when the incident was typed into fenghuo (CN-IR-05, EU-13). A running clock whose deadline
    the incident's new facts make shorter (a flag or grade added later, EU-14/15) moves earlier,
    and the ledger says from when to when and why; a clock never moves later."""
    profile = deadlines.get(inc.profile)
    starts = {"detected": parse(inc.detected_at), "aware": parse(inc.detected_at),
              "handling_ended": parse(inc.ended_at) if inc.ended_at else None}
    made = []
    have = {c.report_kind: c for c in session.execute(select(ReportClock).where(ReportClock.incident_id == inc.id)).scalars()}
    for d in deadlines.deadlines(profile, inc.grade, list(inc.flags or []), starts):
        old = have.get(d.report)
        if old is not None:
            if old.status == "running" and iso(d.due_at) < old.due_at:
                before = {"started_at": old.started_at, "due_at": old.due_at, "rule": old.rule}
                old.started_at, old.due_at, old.rule = iso(d.started_at), iso(d.due_at), d.rule
                ledger.append(session, clock, "clock.moved", f"incident:{inc.id}", actor, {
                    "incident": inc.id, "report": d.report, "from": before,
                    "to": {"started_at": old.started_at, "due_at": old.due_at, "rule": d.rule},
                    "grade": inc.grade, "flags": list(inc.flags or [])})
            continue
        row = ReportClock(incident_id=inc.id, report_kind=d.report, started_at=iso(d.started_at), due_at=iso(d.due_at),
                          rule=d.rule, profile=profile.profile, profile_version=profile.version, status="running")
        session.add(row)
        session.flush()
        ledger.append(session, clock, "clock.started", f"incident:{inc.id}", actor, {
            "incident": inc.id, "report": d.report, "started_at": row.started_at, "due_at": row.due_at, "rule": d.rule,
            "profile": profile.profile, "profile_version": profile.version})
        made.append(row)
    return made


def clock_view(c: ReportClock, now: datetime | None = None) -> dict[str, Any]:
    out = {"report": c.report_kind, "started_at": c.started_at, "due_at": c.due_at, "status": c.status, "rule": c.rule,
           "profile": f"{c.profile}@{c.profile_version}", "met_at": c.met_at, "breached_at": c.breached_at, "warning": c.warning_id}
    if now is not None and c.status == "running":
        out["remaining_seconds"] = round((parse(c.due_at) - now).total_seconds(), 3)
    return out


def raise_warning(session: Session, clock: Clock, service: str, alert: str, rule: str, level: Level, desc: str, now: float,
                  labels: dict[str, str]) -> tuple[WarningRow, Transition]:
    """A firing warning for a missed deadline (report clock, duty, complaint ticket), written
    through the alerts store with ``source: response.clock`` so no plan acts on it."""
    alert = alert[:64]
    w = WarningState(id=alert_store.new_id(), fingerprint=alert_store.fingerprint(alert, service), alert=alert,
                     service=service, state=FIRING, level=level, started_at=now, fired_at=now, rule=rule)
    row = alert_store.save(session, w, {"alert": alert, "service": service, "level": w.level.value, "rule": rule,
                                        "source": SOURCE, **labels}, desc, now)
    t = Transition("firing", w, None, FIRING, w.level)
    alert_store.record(session, clock, t, row)
    return row, t


def deadline_warning(session: Session, clock: Clock, inc: Incident, what: str, level: Level, desc: str,
                     now: float) -> tuple[WarningRow, Transition]:
    """A warning for a missed deadline of an incident (a report clock or a duty)."""
    return raise_warning(session, clock, inc.service_id, f"report-deadline-{inc.id}-{what}", "report-deadline", level, desc,
                         now, {"incident": inc.id, "report": what})


def resolve_warning(session: Session, clock: Clock, warning_id: str | None, at: str) -> Transition | None:
    """Resolve a deadline warning once its duty is done; the transition is published after commit."""
    row = session.get(WarningRow, warning_id) if warning_id else None
    if row is None or row.state != FIRING:
        return None
    w = alert_store.state_of(row)
    now = parse(at).timestamp()
    w.state, w.resolved_at = RESOLVED, now
    alert_store.save(session, w, dict(row.labels), row.description, now)
    t = Transition("resolved", w, FIRING, RESOLVED, w.level)
    alert_store.record(session, clock, t, row)
    return t


def _deadline_warning(session: Session, clock: Clock, inc: Incident, c: ReportClock, now: float) -> tuple[WarningRow, Transition]:
    desc = (f"事件 {inc.id} 的{'初始' if c.report_kind == 'initial' else '总结'}报告已超过时限 {c.due_at} 未报送 / "
            f"incident {inc.id}: the {c.report_kind} report was due at {c.due_at} and has not been submitted")
    return deadline_warning(session, clock, inc, c.report_kind, LEVEL[c.report_kind], desc, now)


def check_breaches(db: Database) -> list[dict[str, Any]]:
    """Turn every running clock that has run out into a breach and a warning. Returns what it did."""
    now_dt = db.clock.now()
    now_iso, now = iso(now_dt), now_dt.timestamp()
    published, done = [], []
    with db.transaction() as s:
        due = s.execute(select(ReportClock).where(ReportClock.status == "running", ReportClock.due_at < now_iso)
                        .order_by(ReportClock.due_at).with_for_update()).scalars().all()
        for c in due:
            inc = s.get(Incident, c.incident_id)
            row, t = _deadline_warning(s, db.clock, inc, c, now)
            c.status, c.breached_at, c.warning_id = "breached", now_iso, row.id
            s.add(IncidentLink(incident_id=inc.id, kind="warning", ref=row.id, at=now_iso,
                               note=f"{c.report_kind} report overdue / {c.report_kind} 报告逾期"))
            ledger.append(s, db.clock, "clock.breached", f"incident:{inc.id}", ACTOR, {
                "incident": inc.id, "report": c.report_kind, "due_at": c.due_at, "warning": row.id, "rule": c.rule})
            published.append((t, row))
            done.append({"incident": inc.id, "report": c.report_kind, "due_at": c.due_at, "warning": row.id})
    for t, row in published:
        listeners.publish({"kind": "firing", "warning": {**t.warning.view(), "labels": dict(row.labels)}, "from": None,
                           "to": FIRING, "level": t.level.value, "previous_level": None, "at": now_iso})
    return done


def meet(session: Session, clock: Clock, inc: Incident, kinds: tuple[str, ...], at: str) -> list[Transition]:
    """A report was submitted: the clocks it answers are met (late if already breached), and
    their deadline warnings resolved. Returns resolved transitions to publish after commit."""
    out = []
    for c in session.execute(select(ReportClock).where(ReportClock.incident_id == inc.id,
                                                       ReportClock.report_kind.in_(kinds))).scalars():
        if c.status in ("met", "met_late"):
            continue
        c.status = "met" if c.status == "running" and at <= c.due_at else "met_late"
        c.met_at = at
        ledger.append(session, clock, "clock.met", f"incident:{inc.id}", ACTOR, {
            "incident": inc.id, "report": c.report_kind, "due_at": c.due_at, "met_at": at, "late": c.status == "met_late"})
        if c.warning_id:
            row = session.get(WarningRow, c.warning_id)
            if row is not None and row.state == FIRING:
                w = alert_store.state_of(row)
                now = parse(at).timestamp()
                w.state, w.resolved_at = RESOLVED, now
                alert_store.save(session, w, dict(row.labels), row.description, now)
                t = Transition("resolved", w, FIRING, RESOLVED, w.level)
                alert_store.record(session, clock, t, row)
                out.append(t)
    return out


def publish_resolved(transitions: list[Transition], at: str) -> None:
    for t in transitions:
        listeners.publish({"kind": "resolved", "warning": t.warning.view(), "from": FIRING, "to": RESOLVED,
                           "level": t.level.value, "previous_level": None, "at": at})
