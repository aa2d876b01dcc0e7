"""Incidents: opened by a plan, an operator or a regulator; graded 一般/较大/重大/特别重大 with the
inputs that decided the grade; everything linked to them by id; reporting clocks started from
the service's deadline profile.

One open incident per service: a second warning on a service with an open incident is linked to
it (and raises its grade if higher) rather than opening another, because a regulator wants one
report about one event, not one per rule that noticed it.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fenghuo.ledger import store as ledger
from fenghuo.platform.clock import Clock, iso
from fenghuo.platform.db import Database
from fenghuo.platform.errors import Conflict, Forbidden, Invalid, NotFound
from fenghuo.platform.roles import Actor, Role
from fenghuo.registry import scope
from fenghuo.registry.models import Service
from fenghuo.response import deadlines
from fenghuo.response import incident_grades as grades
from fenghuo.response import report_clocks as clocks
from fenghuo.response.models import Incident, IncidentLink, Report, ReportClock

FLAGS = {"death", "serious_harm_health", "critical_infrastructure", "widespread_infringement", "fundamental_rights",
         "property_environment", "personal_information", "suspected_crime"}


def new_id(clock: Clock) -> str:
    return f"inc-{clock.now().strftime('%Y%m%d')}-{uuid.uuid4().hex[:6]}"


def link(session: Session, inc_id: str, kind: str, ref: str, at: str, note: str = "") -> bool:
    """Link something to an incident once; returns False if it was already linked."""
    exists = session.execute(select(IncidentLink.id).where(IncidentLink.incident_id == inc_id, IncidentLink.kind == kind,
                                                           IncidentLink.ref == ref)).first()
    if exists:
        return False
    session.add(IncidentLink(incident_id=inc_id, kind=kind, ref=ref, at=at, note=note))
    session.flush()
    if kind == "command":  # a state set by this command now refuses calls naming the incident
        from fenghuo.control import switch

        switch.note_incident(session, ref, inc_id)
    return True


def open_for(session: Session, service_id: str) -> Incident | None:
    return session.execute(select(Incident).where(Incident.service_id == service_id, Incident.status == "open")
                           .order_by(Incident.opened_at.desc())).scalars().first()


def _check_flags(flags: list[str]) -> list[str]:
    bad = [f for f in flags if f not in FLAGS]
    if bad:
        raise Invalid(f"未知事件标记：{', '.join(bad)}（可用：{', '.join(sorted(FLAGS))}）",
                      f"unknown incident flag(s): {', '.join(bad)} (known: {', '.join(sorted(FLAGS))})", field="flags")
    return sorted(set(flags))


def open_in(session: Session, clock: Clock, service: Service, grade: str, actor_label: str, source: str,
            inputs: dict[str, Any], title: str, *, detected_at: str | None = None, flags: list[str] | None = None,
            profile: str | None = None, link_kind: str | None = None, link_ref: str | None = None) -> tuple[Incident, bool]:
    """Open an incident (or join the service's open one) inside the caller's transaction.
    Returns (incident, created)."""
    now = iso(clock.now())
    grade = grades.normalise(grade)
    flags = _check_flags(flags or [])
    inc = open_for(session, service.id)
    created = inc is None
    if created:
        prof = deadlines.get(profile or service.grade_defaults.get("reporting_profile", "cn-2025-operator"))
        inc = Incident(id=new_id(clock), service_id=service.id, provider_id=service.provider_id, title=title, grade=grade,
                       grade_inputs=inputs, flags=flags, status="open", opened_by=actor_label, source=source,
                       detected_at=detected_at or now, opened_at=now, profile=prof.profile, profile_version=prof.version)
        session.add(inc)
        session.flush()
        ledger.append(session, clock, "incident.opened", f"incident:{inc.id}", actor_label, {
            "incident": inc.id, "service": service.id, "grade": grade, "grade_label": grades.label(grade), "inputs": inputs,
            "flags": flags, "source": source, "detected_at": inc.detected_at, "profile": f"{prof.profile}@{prof.version}",
            "reportable": prof.reportable(grade), "title": title})
    else:
        changed = {}
        if grades.rank(grade) > grades.rank(inc.grade):
            changed["grade"] = {"from": inc.grade, "to": grade}
            inc.grade = grade
            inc.grade_inputs = {**inc.grade_inputs, "raised_by": inputs}
        if set(flags) - set(inc.flags or []):
            changed["flags"] = {"from": list(inc.flags or []), "to": sorted(set(inc.flags or []) | set(flags))}
            inc.flags = changed["flags"]["to"]
        if changed:
            ledger.append(session, clock, "incident.regraded", f"incident:{inc.id}", actor_label,
                          {"incident": inc.id, **changed, "inputs": inputs})
    if link_kind and link_ref and link(session, inc.id, link_kind, link_ref, now, title) and not created:
        ledger.append(session, clock, "incident.linked", f"incident:{inc.id}", actor_label,
                      {"incident": inc.id, "kind": link_kind, "ref": link_ref})
    clocks.start_clocks(session, clock, inc)
    return inc, created


def _visible(session: Session, actor: Actor, inc: Incident) -> Service:
    svc = session.get(Service, inc.service_id)
    scope.require_visible(session, actor, svc)
    return svc


def _load(session: Session, actor: Actor, incident_id: str) -> tuple[Incident, Service]:
    inc = session.get(Incident, incident_id)
    if inc is None:
        raise NotFound(f"未知事件 {incident_id}", f"unknown incident {incident_id}", code="unknown_incident")
    return inc, _visible(session, actor, inc)


def open_incident(db: Database, actor: Actor, service_id: str, grade: str, title: str, *, flags: list[str] | None = None,
                  profile: str | None = None, detected_at: str | None = None) -> dict[str, Any]:
    """A person (operator or regulator) opens an incident."""
    if actor.role not in (Role.operator, Role.regulator, Role.admin):
        raise Forbidden(f"角色 {actor.role.value} 不能开启事件", f"role {actor.role.value} may not open an incident")
    if not (title or "").strip():
        raise Invalid("事件需要标题（发生了什么）", "an incident needs a title (what happened)", field="title")
    try:
        grades.normalise(grade)
    except ValueError as exc:
        raise Invalid(f"事件分级不合法：{grade}", str(exc), field="grade") from None
    with db.transaction() as s:
        svc = s.get(Service, service_id)
        if svc is None:
            raise NotFound(f"未知服务 {service_id}", f"unknown service {service_id}", code="unknown_service")
        scope.require_can_command(s, actor, svc)
        inc, created = open_in(s, db.clock, svc, grade, actor.label, actor.role.value if actor.role is not Role.admin else "operator",
                               {"by": actor.label, "grade": grade}, title.strip(), flags=flags, profile=profile, detected_at=detected_at)
        if not created:
            raise Conflict(f"服务 {service_id} 已有未结束事件 {inc.id}；请在其中更新", f"service {service_id} already has open incident {inc.id}; update it instead",
                           code="incident_open", incident=inc.id)
        return view(s, inc)


def end_handling(db: Database, actor: Actor, incident_id: str, note: str) -> dict[str, Any]:
    """Handling has ended (处置结束): the summary clock starts (CN-IR-09, 30 days)."""
    with db.transaction() as s:
        inc, svc = _load(s, actor, incident_id)
        scope.require_can_command(s, actor, svc)
        if inc.status != "open":
            raise Conflict(f"事件 {incident_id} 已结束处置", f"incident {incident_id} has already ended", code="incident_ended")
        inc.status, inc.ended_at = "ended", iso(db.clock.now())
        ledger.append(s, db.clock, "incident.handling_ended", f"incident:{inc.id}", actor.label, {"incident": inc.id, "note": note})
        clocks.start_clocks(s, db.clock, inc)
        return view(s, inc)


def view(s: Session, inc: Incident) -> dict[str, Any]:
    now = s.info.get("now")
    links = s.execute(select(IncidentLink).where(IncidentLink.incident_id == inc.id).order_by(IncidentLink.at, IncidentLink.id)).scalars().all()
    cl = s.execute(select(ReportClock).where(ReportClock.incident_id == inc.id).order_by(ReportClock.id)).scalars().all()
    reps = s.execute(select(Report).where(Report.incident_id == inc.id).order_by(Report.created_at)).scalars().all()
    return {
        "id": inc.id, "service": inc.service_id, "provider": inc.provider_id, "title": inc.title, "grade": inc.grade,
        "grade_label": grades.label(inc.grade), "grade_inputs": inc.grade_inputs, "flags": inc.flags, "status": inc.status,
        "source": inc.source, "opened_by": inc.opened_by, "detected_at": inc.detected_at, "opened_at": inc.opened_at,
        "ended_at": inc.ended_at, "profile": f"{inc.profile}@{inc.profile_version}",
        "clocks": [clocks.clock_view(c, now) for c in cl],
        "timeline": [{"at": x.at, "kind": x.kind, "ref": x.ref, "note": x.note} for x in links],
        "reports": [{"id": r.id, "kind": r.kind, "number": r.number, "created_at": r.created_at, "submitted_at": r.submitted_at,
                     "submitted_to": r.submitted_to, "complete": r.complete} for r in reps],
    }


def get(db: Database, actor: Actor, incident_id: str) -> dict[str, Any]:
    with db.reader() as s:
        s.info["now"] = db.clock.now()
        inc, _ = _load(s, actor, incident_id)
        return view(s, inc)


def list_incidents(db: Database, actor: Actor, *, status: str | None = None, service: str | None = None) -> list[dict[str, Any]]:
    with db.reader() as s:
        s.info["now"] = db.clock.now()
        q = select(Incident).join(Service, Service.id == Incident.service_id).where(scope.visible_filter(s, actor))
        if status:
            q = q.where(Incident.status == status)
        if service:
            q = q.where(Incident.service_id == service)
        return [view(s, i) for i in s.execute(q.order_by(Incident.opened_at.desc())).scalars()]
