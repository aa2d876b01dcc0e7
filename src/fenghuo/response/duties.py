"""Duties an incident's flags add beside the report to the regulator (issue 18):

- ``suspected_crime`` → report to the police (公安机关), CN-IR-06: "promptly", no hours set;
- ``personal_information`` → notify the individuals concerned, CN-EP-05 (PIPL Art.57):
  "immediately", and the notice must say which information, the cause and possible harm, the
  remedial measures and what individuals can do, and how to reach the provider;
- ``vulnerability`` → report the vulnerability, CN-EP-06 (网络数据安全管理条例): within 24 hours
  of discovery.

A duty with a deadline that runs out raises a warning through the alerts store, like a report
clock (label ``source: response.clock``, so no plan pauses a service for it). Done duties record
who, when and what was said.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fenghuo.alerts import listeners
from fenghuo.alerts.levels import Level
from fenghuo.ledger import store as ledger
from fenghuo.platform.clock import Clock, iso
from fenghuo.platform.db import Database
from fenghuo.platform.errors import Conflict, Invalid, NotFound
from fenghuo.response import report_clocks as clocks
from fenghuo.response.models import Incident, IncidentDuty, IncidentLink

ACTOR = "system:response-duties"
HOUR = 3600.0
# flag → (duty, seconds from detection or None for "promptly", basis, contents the record must hold)
DUTIES: dict[str, tuple[str, float | None, str, tuple[str, ...]]] = {
    "suspected_crime": ("police_report", None,
                        "CN-IR-06: 涉嫌犯罪的，及时向公安机关报告 / suspected crime: report to the police promptly",
                        ("to",)),
    "personal_information": ("notify_individuals", None,
                             "CN-EP-05 (个人信息保护法第57条): 立即通知个人 / PIPL Art.57: notify the individuals immediately",
                             ("info_types", "cause_and_harm", "remedies", "contact")),
    "vulnerability": ("vulnerability_report", 24 * HOUR,
                      "CN-EP-06 (网络数据安全管理条例): 24 小时内报告漏洞 / report the vulnerability within 24 hours",
                      ("to",)),
}
KINDS = {kind: (flag, within, basis, needs) for flag, (kind, within, basis, needs) in DUTIES.items()}
CONTENT = {"to": "报送对象 recipient", "info_types": "个人信息种类 information types",
           "cause_and_harm": "原因和可能造成的危害 cause and possible harm",
           "remedies": "补救措施和个人可采取的措施 remedial measures and what individuals can do",
           "contact": "联系方式 contact"}


def _parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def start(session: Session, clock: Clock, inc: Incident) -> list[IncidentDuty]:
    """Add the duties the incident's flags call for (idempotent). Deadlines run from detection."""
    have = set(session.execute(select(IncidentDuty.kind).where(IncidentDuty.incident_id == inc.id)).scalars())
    made = []
    for flag in sorted(inc.flags or []):
        if flag not in DUTIES or DUTIES[flag][0] in have:
            continue
        kind, within, basis, _ = DUTIES[flag]
        due = iso(_parse(inc.detected_at) + timedelta(seconds=within)) if within else None
        row = IncidentDuty(incident_id=inc.id, kind=kind, basis=basis, created_at=iso(clock.now()), due_at=due, status="open")
        session.add(row)
        session.flush()
        ledger.append(session, clock, "duty.started", f"incident:{inc.id}", ACTOR,
                      {"incident": inc.id, "duty": kind, "flag": flag, "due_at": due, "basis": basis})
        made.append(row)
    return made


def view(d: IncidentDuty, now: datetime | None = None) -> dict[str, Any]:
    out = {"duty": d.kind, "basis": d.basis, "created_at": d.created_at, "due_at": d.due_at, "status": d.status,
           "done_at": d.done_at, "done_by": d.done_by, "content": d.content, "warning": d.warning_id,
           "needs": list(KINDS[d.kind][3]) if d.kind in KINDS else []}
    if now is not None and d.due_at and d.status == "open":
        out["remaining_seconds"] = round((_parse(d.due_at) - now).total_seconds(), 3)
    return out


def views(session: Session, incident_id: str, now: datetime | None = None) -> list[dict[str, Any]]:
    rows = session.execute(select(IncidentDuty).where(IncidentDuty.incident_id == incident_id).order_by(IncidentDuty.id)).scalars()
    return [view(d, now) for d in rows]


def complete(session: Session, clock: Clock, inc: Incident, kind: str, content: dict[str, str], actor_label: str) -> dict[str, Any]:
    """Record that a duty was carried out, with what its basis asks to be said."""
    d = session.execute(select(IncidentDuty).where(IncidentDuty.incident_id == inc.id, IncidentDuty.kind == kind)).scalars().first()
    if d is None:
        raise NotFound(f"事件 {inc.id} 没有职责 {kind}", f"incident {inc.id} has no duty {kind}", code="unknown_duty")
    if d.status in ("done", "done_late"):
        raise Conflict(f"职责 {kind} 已于 {d.done_at} 完成", f"duty {kind} was already done at {d.done_at}", code="duty_done")
    content = {k: str(v).strip() for k, v in content.items() if str(v or "").strip()}
    needs = KINDS[kind][3]
    missing = [CONTENT[k] for k in needs if k not in content]
    if missing:
        raise Invalid(f"缺少：{', '.join(missing)}（{d.basis}）", f"missing: {', '.join(missing)} ({d.basis})", field="content", missing=missing)
    unknown = sorted(set(content) - set(needs) - {"note"})
    if unknown:
        raise Invalid(f"未知字段：{', '.join(unknown)}", f"unknown field(s): {', '.join(unknown)} (known: {', '.join(needs)}, note)",
                      field="content")
    now = iso(clock.now())
    d.status = "done" if d.status == "open" and (d.due_at is None or now <= d.due_at) else "done_late"
    d.done_at, d.done_by, d.content = now, actor_label, content
    session.add(IncidentLink(incident_id=inc.id, kind="duty", ref=kind, at=now, note=f"{kind} done / 已完成"))
    ledger.append(session, clock, "duty.done", f"incident:{inc.id}", actor_label,
                  {"incident": inc.id, "duty": kind, "content": content, "late": d.status == "done_late"})
    return view(d)


def check_overdue(db: Database) -> list[dict[str, Any]]:
    """Every open duty past its deadline becomes breached and raises a warning (once)."""
    now_dt = db.clock.now()
    now_iso, now = iso(now_dt), now_dt.timestamp()
    published, done = [], []
    with db.transaction() as s:
        due = s.execute(select(IncidentDuty).where(IncidentDuty.status == "open", IncidentDuty.due_at.is_not(None),
                                                   IncidentDuty.due_at < now_iso).order_by(IncidentDuty.due_at)).scalars().all()
        for d in due:
            inc = s.get(Incident, d.incident_id)
            desc = (f"事件 {inc.id} 的职责 {d.kind} 已超过时限 {d.due_at} / incident {inc.id}: duty {d.kind} was due at {d.due_at} "
                    f"({d.basis})")
            row, t = clocks.deadline_warning(s, db.clock, inc, d.kind, Level.orange, desc, now)
            d.status, d.warning_id = "breached", row.id
            s.add(IncidentLink(incident_id=inc.id, kind="warning", ref=row.id, at=now_iso, note=f"{d.kind} overdue / 逾期"))
            ledger.append(s, db.clock, "duty.breached", f"incident:{inc.id}", ACTOR,
                          {"incident": inc.id, "duty": d.kind, "due_at": d.due_at, "warning": row.id})
            published.append((t, row))
            done.append({"incident": inc.id, "duty": d.kind, "due_at": d.due_at, "warning": row.id})
    for t, row in published:
        listeners.publish({"kind": "firing", "warning": {**t.warning.view(), "labels": dict(row.labels)}, "from": None,
                           "to": "firing", "level": t.level.value, "previous_level": None, "at": now_iso})
    return done
