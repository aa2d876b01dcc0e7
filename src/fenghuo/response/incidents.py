"""Incidents: opened by a plan, an operator or a regulator; graded 一般/较大/重大/特别重大 with the
inputs that decided the grade; everything linked to them by id; reporting clocks started from
the service's deadline profile.

One open incident per service: a second warning on a service with an open incident is linked to
it (and raises its grade if higher) rather than opening another, because a regulator wants one
report about one event, not one per rule that noticed it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fenghuo.control import row_scope
from fenghuo.ledger import store as ledger
from fenghuo.platform import pages
from fenghuo.platform.clock import Clock, iso
from fenghuo.platform.db import Database
from fenghuo.platform.errors import Conflict, Forbidden, Invalid, NotFound
from fenghuo.platform.roles import Actor, Role
from fenghuo.registry import scope
from fenghuo.registry.models import Jurisdiction, Provider, Service
from fenghuo.response import deadlines, duties
from fenghuo.response import grading_guide as guide
from fenghuo.response import incident_grades as grades
from fenghuo.response import report_clocks as clocks
from fenghuo.response.models import Incident, IncidentDuty, IncidentLink, Report, ReportClock

FLAGS = {"death", "serious_harm_health", "critical_infrastructure", "widespread_infringement", "fundamental_rights",
         "property_environment", "personal_information", "suspected_crime", "vulnerability"}


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


def operator_type(session: Session, service: Service) -> str:
    """The operator's legal designation (CN-IR-03/04/05): the service's ``operator_type`` if it
    states one, else its provider's, else ``other``. Not the AI risk grade."""
    kind = (service.attributes or {}).get("operator_type")
    if not kind:
        prov = session.get(Provider, service.provider_id)
        kind = getattr(prov, "operator_type", None)
    return kind or "other"


def detected_at_text(value: str | None, clock: Clock) -> str | None:
    """``--detected-at`` as canonical text; refused when unreadable or in the future."""
    if value is None or not str(value).strip():
        return None
    try:
        dt = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except ValueError:
        raise Invalid(f"发现时间不是 ISO 8601 时间：{value}", f"detected_at is not an ISO 8601 time: {value}", field="detected_at") from None
    if dt.tzinfo is None:
        raise Invalid(f"发现时间须带时区（如 Z 或 +08:00）：{value}", f"detected_at needs a time zone (e.g. Z or +08:00): {value}",
                      field="detected_at")
    if dt > clock.now():
        raise Invalid(f"发现时间不能晚于现在：{value}", f"detected_at cannot be in the future: {value}", field="detected_at")
    return iso(dt)


def graded(grade: str, impact: dict[str, float] | None) -> tuple[str, dict[str, Any]]:
    """The stated grade raised by whatever the Grading Guide's computable thresholds give for
    the stated impact (CN-IR-02); the reasons go into the incident's grade inputs."""
    grade = grades.normalise(grade)
    if not impact:
        return grade, {}
    try:
        computed, reasons = guide.assess({k: float(v) for k, v in impact.items()})
    except (TypeError, ValueError) as exc:
        raise Invalid(f"影响数值不合法：{exc}", f"invalid impact: {exc}", field="impact") from None
    extra: dict[str, Any] = {"impact": dict(impact), "guide": reasons}
    if computed is not None and grades.rank(computed) > grades.rank(grade):
        extra["stated_grade"] = grade
        grade = computed
    return grade, extra


def _amend(session: Session, clock: Clock, inc: Incident, grade: str, flags: list[str], inputs: dict[str, Any],
           actor_label: str) -> dict[str, Any]:
    """Raise the grade and add flags (never lower or remove); the ledger records what changed."""
    changed: dict[str, Any] = {}
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
    return changed


def snapshot(session: Session, service: Service, at: str) -> dict[str, Any]:
    """The service's registry record and grade as they stand when an incident opens (issue 14):
    a later re-registration cannot change what the incident's reports say it was."""
    prov, jur = session.get(Provider, service.provider_id), session.get(Jurisdiction, service.jurisdiction_id)
    return {"id": service.id, "name": service.name, "provider": service.provider_id, "provider_name": prov.name if prov else None,
            "jurisdiction": service.jurisdiction_id, "jurisdiction_name": jur.name if jur else None,
            "jurisdiction_path": service.jurisdiction_path, "attributes": dict(service.attributes or {}),
            "grade": {"table": service.grading_table, "version": service.grading_version, "grade": service.grade,
                      "reasons": list(service.grade_reasons or []), "defaults": dict(service.grade_defaults or {})},
            "taken_at": at}


def open_in(session: Session, clock: Clock, service: Service, grade: str, actor_label: str, source: str,
            inputs: dict[str, Any], title: str, *, detected_at: str | None = None, flags: list[str] | None = None,
            profile: str | None = None, link_kind: str | None = None, link_ref: str | None = None,
            impact: dict[str, float] | None = None) -> tuple[Incident, bool]:
    """Open an incident (or join the service's open one) inside the caller's transaction.
    Returns (incident, created)."""
    now = iso(clock.now())
    grade, guided = graded(grade, impact)
    inputs = {**inputs, **guided}
    flags = _check_flags(flags or [])
    inc = open_for(session, service.id)
    created = inc is None
    if created:
        op_type = operator_type(session, service)
        prof = deadlines.get(profile) if profile else deadlines.for_operator(
            service.grade_defaults.get("reporting_profile", "cn-2025-operator"), op_type)
        inc = Incident(id=new_id(clock), service_id=service.id, provider_id=service.provider_id, title=title, grade=grade,
                       grade_inputs=inputs, flags=flags, status="open", opened_by=actor_label, source=source,
                       detected_at=detected_at or now, opened_at=now, profile=prof.profile, profile_version=prof.version,
                       service_snapshot=snapshot(session, service, now))
        session.add(inc)
        session.flush()
        ledger.append(session, clock, "incident.opened", f"incident:{inc.id}", actor_label, {
            "incident": inc.id, "service": service.id, "grade": grade, "grade_label": grades.label(grade), "inputs": inputs,
            "flags": flags, "source": source, "detected_at": inc.detected_at, "profile": f"{prof.profile}@{prof.version}",
            "operator_type": op_type, "reportable": prof.reportable(grade, flags), "title": title})
    else:
        _amend(session, clock, inc, grade, flags, inputs, actor_label)
    if link_kind and link_ref and link(session, inc.id, link_kind, link_ref, now, title) and not created:
        ledger.append(session, clock, "incident.linked", f"incident:{inc.id}", actor_label,
                      {"incident": inc.id, "kind": link_kind, "ref": link_ref})
    clocks.start_clocks(session, clock, inc)
    duties.start(session, clock, inc)
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


def check_grade(grade: str) -> None:
    """An incident grade a caller gave (I-IV): ``Invalid`` naming it, before anything is done."""
    try:
        grades.normalise(grade)
    except ValueError as exc:
        raise Invalid(f"事件分级不合法：{grade!r}", str(exc), field="grade") from None


def open_incident(db: Database, actor: Actor, service_id: str, grade: str, title: str, *, flags: list[str] | None = None,
                  profile: str | None = None, detected_at: str | None = None,
                  impact: dict[str, float] | None = None) -> dict[str, Any]:
    """A person (operator or regulator) opens an incident. ``detected_at`` is when it was
    discovered (CN-IR-05) or the provider became aware of it (EU-13): the clocks run from it.
    ``impact`` numbers grade it by the Grading Guide's thresholds (CN-IR-02)."""
    if actor.role not in (Role.operator, Role.regulator, Role.admin):
        raise Forbidden(f"角色 {actor.role.value} 不能开启事件", f"role {actor.role.value} may not open an incident")
    if not (title or "").strip():
        raise Invalid("事件需要标题（发生了什么）", "an incident needs a title (what happened)", field="title")
    check_grade(grade)
    detected_at = detected_at_text(detected_at, db.clock)
    with db.transaction() as s:
        svc = s.get(Service, service_id)
        if svc is None:
            raise NotFound(f"未知服务 {service_id}", f"unknown service {service_id}", code="unknown_service")
        scope.require_can_command(s, actor, svc)
        inc, created = open_in(s, db.clock, svc, grade, actor.label, actor.role.value if actor.role is not Role.admin else "operator",
                               {"by": actor.label, "grade": grade}, title.strip(), flags=flags, profile=profile, detected_at=detected_at,
                               impact=impact)
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


def update_incident(db: Database, actor: Actor, incident_id: str, *, flags: list[str] | None = None,
                    impact: dict[str, float] | None = None, grade: str | None = None, note: str = "") -> dict[str, Any]:
    """New facts about an incident: flags (EU serious-incident types, suspected crime, personal
    information, vulnerability), impact numbers or a higher grade. Clocks that the new facts
    shorten move earlier (ledger ``clock.moved``); new duties start. Never lowers anything."""
    if not (flags or impact or grade):
        raise Invalid("没有新的情况：给出 --flag、--impact 或 --grade", "nothing new: give --flag, --impact or --grade", field="flags")
    flags = _check_flags(flags or [])
    with db.transaction() as s:
        inc, svc = _load(s, actor, incident_id)
        scope.require_can_command(s, actor, svc)
        try:
            new_grade, guided = graded(grade or inc.grade, impact)
        except Invalid:
            raise
        except ValueError as exc:
            raise Invalid(f"事件分级不合法：{grade}", str(exc), field="grade") from None
        inputs = {"by": actor.label, "note": note, **({"grade": grade} if grade else {}), **guided}
        changed = _amend(s, db.clock, inc, new_grade, flags, inputs, actor.label)
        if impact and not changed.get("grade"):
            inc.grade_inputs = {**inc.grade_inputs, "impact": {**inc.grade_inputs.get("impact", {}), **impact}}
            ledger.append(s, db.clock, "incident.impact", f"incident:{inc.id}", actor.label,
                          {"incident": inc.id, "impact": impact, "guide": guided.get("guide", [])})
        clocks.start_clocks(s, db.clock, inc)
        duties.start(s, db.clock, inc)
        return view(s, inc)


def complete_duty(db: Database, actor: Actor, incident_id: str, kind: str, content: dict[str, str]) -> dict[str, Any]:
    """Record that a duty was carried out (police report, notice to individuals, vulnerability
    report), by the provider's side, with what its basis asks to be said."""
    with db.transaction() as s:
        inc, svc = _load(s, actor, incident_id)
        scope.require_can_command(s, actor, svc)
        if actor.role not in (Role.operator, Role.admin):
            raise Forbidden("职责由服务提供者履行", "duties are carried out by the provider (operator or admin)")
        return duties.complete(s, db.clock, inc, kind, content, actor.label)


def view(s: Session, inc: Incident) -> dict[str, Any]:
    return views(s, [inc])[0]


def views(s: Session, incs: list[Incident]) -> list[dict[str, Any]]:
    """The views of several incidents with one query per linked table (a page of 100 reads 5
    queries, not 400)."""
    now = s.info.get("now")
    ids = [i.id for i in incs]
    by: dict[str, dict[str, list[Any]]] = {i: {"links": [], "clocks": [], "reports": [], "duties": []} for i in ids}
    for key, model, order in (("links", IncidentLink, (IncidentLink.at, IncidentLink.id)), ("clocks", ReportClock, (ReportClock.id,)),
                              ("reports", Report, (Report.created_at, Report.id)), ("duties", IncidentDuty, (IncidentDuty.id,))):
        for row in s.execute(select(model).where(model.incident_id.in_(ids)).order_by(*order)).scalars() if ids else ():
            by[row.incident_id][key].append(row)
    return [{
        "id": inc.id, "service": inc.service_id, "provider": inc.provider_id, "title": inc.title, "grade": inc.grade,
        "grade_label": grades.label(inc.grade), "grade_inputs": inc.grade_inputs, "flags": inc.flags, "status": inc.status,
        "source": inc.source, "opened_by": inc.opened_by, "detected_at": inc.detected_at, "opened_at": inc.opened_at,
        "ended_at": inc.ended_at, "profile": f"{inc.profile}@{inc.profile_version}",
        "clocks": [clocks.clock_view(c, now) for c in by[inc.id]["clocks"]],
        "duties": [duties.view(d, now) for d in by[inc.id]["duties"]],
        "timeline": [{"at": x.at, "kind": x.kind, "ref": x.ref, "note": x.note} for x in by[inc.id]["links"]],
        "reports": [{"id": r.id, "kind": r.kind, "number": r.number, "created_at": r.created_at, "submitted_at": r.submitted_at,
                     "submitted_to": r.submitted_to, "complete": r.complete} for r in by[inc.id]["reports"]],
    } for inc in incs]


def get(db: Database, actor: Actor, incident_id: str) -> dict[str, Any]:
    with db.reader() as s:
        s.info["now"] = db.clock.now()
        inc, _ = _load(s, actor, incident_id)
        return view(s, inc)


@dataclass(frozen=True)
class IncidentFilter:
    """What an incidents listing selects on; each is a WHERE clause (issue 19)."""

    status: str | None = None  # open | ended
    service: str | None = None
    grade: str | None = None  # IV | III | II | I (or 一般/较大/重大/特别重大)
    provider: str | None = None
    source: str | None = None  # plan | operator | regulator


def _query(s: Session, actor: Actor, f: IncidentFilter):
    q = select(Incident)
    if actor.role not in (Role.admin, Role.system):
        q = q.where(row_scope.visible(s, actor, Incident))  # the row's own jurisdiction, no join
    if f.status:
        q = q.where(Incident.status == f.status)
    if f.service:
        q = q.where(Incident.service_id == f.service)
    if f.grade:
        check_grade(f.grade)
        q = q.where(Incident.grade == grades.normalise(f.grade))
    if f.provider:
        q = q.where(Incident.provider_id == f.provider)
    if f.source:
        q = q.where(Incident.source == f.source)
    return q


def incident_page(db: Database, actor: Actor, f: IncidentFilter = IncidentFilter(), *, after: str | None = None,
                  limit: int = pages.DEFAULT_LIMIT) -> pages.Page:
    """A page of the incidents ``actor`` may see, newest first (opened_at, then id, descending)."""
    with db.reader() as s:
        s.info["now"] = db.clock.now()
        rows, nxt = pages.keyset(s, _query(s, actor, f), [Incident.opened_at, Incident.id], after=after, limit=limit, desc=True)
        return pages.Page(views(s, rows), nxt)


def list_incidents(db: Database, actor: Actor, *, status: str | None = None, service: str | None = None) -> list[dict[str, Any]]:
    """Every incident ``actor`` may see, newest first (callers that need them all; listings page)."""
    with db.reader() as s:
        s.info["now"] = db.clock.now()
        q = _query(s, actor, IncidentFilter(status=status, service=service))
        return views(s, list(s.execute(q.order_by(Incident.opened_at.desc(), Incident.id.desc())).scalars()))
