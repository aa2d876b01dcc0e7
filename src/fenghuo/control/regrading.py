"""Re-registrations that lower a service's grade or move it (issue 14).

An operator re-registered its own service with another jurisdiction, sector or reach while a
regulator's pause and an incident were open: the service left the pausing regulator's sight,
dropped from L3 to L1, its fail-safe turned open and resuming needed one approval instead of
two. Now such a change — a new jurisdiction (out of some regulator's sight), another grading
table, a lower grade, or weaker grade defaults (fail-safe, approvals, checklist recovery),
whichever attribute (sector, reach, function, …) brings it about — is

- refused outright (409) while a regulator's hold or an open incident stands on the service;
- otherwise kept as a pending change (``service_changes``) that only a regulator whose node
  covers the service's *current* jurisdiction may approve (then applied) or refuse.

Every step is in the ledger. Changes that raise the grade or touch nothing that matters apply
at once, as before.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fenghuo.control import gates
from fenghuo.control.models import SwitchState
from fenghuo.ledger import store as ledger
from fenghuo.platform import pages
from fenghuo.platform.clock import iso
from fenghuo.platform.db import Database
from fenghuo.platform.errors import Conflict, Forbidden, NotFound
from fenghuo.platform.roles import Actor, Role
from fenghuo.registry import scope
from fenghuo.registry.models import Jurisdiction, Service, ServiceChange


def _rank(table: str, grade: str) -> int | None:
    from fenghuo.registry.grading import get_table

    try:
        return [g.id for g in get_table(table).grades].index(grade)
    except Exception:  # noqa: BLE001 - an unknown table or grade cannot be shown not to lower
        return None


def lowering_reasons(existing: Service, jurisdiction: Jurisdiction, grading: Any, attrs: dict[str, Any]) -> list[str]:
    """What in this re-registration lowers the service's grade or moves it (empty: nothing)."""
    out: list[str] = []
    old = existing.attributes or {}
    if existing.jurisdiction_id != jurisdiction.id:
        out.append(f"jurisdiction {existing.jurisdiction_id} → {jurisdiction.id}")
    if grading.table != existing.grading_table:
        out.append(f"grading table {existing.grading_table} → {grading.table}")
    else:
        before, after = _rank(existing.grading_table, existing.grade), _rank(grading.table, grading.grade)
        if before is None or after is None or after < before:
            out.append(f"grade {existing.grade} → {grading.grade}")
    d0, d1 = existing.grade_defaults or {}, grading.defaults or {}
    if (d0.get("failsafe") or {}).get("mode") == "closed" and (d1.get("failsafe") or {}).get("mode") != "closed":
        out.append("fail-safe closed → open")
    if int(d1.get("resume_approvals", 1)) < int(d0.get("resume_approvals", 1)):
        out.append(f"resume approvals {d0.get('resume_approvals')} → {d1.get('resume_approvals')}")
    if d0.get("checklist_recovery") is False and d1.get("checklist_recovery", True):
        out.append("checklist recovery not allowed → allowed")
    if out:  # name the attributes that brought it about, too
        out += [f"{k} {old.get(k)} → {attrs.get(k)}" for k in sorted(attrs) if old.get(k) != attrs.get(k)]
    return out


def digest(svc: Service) -> str:
    """A hash of the registration as it stands (what a pending change was asked against)."""
    record = [svc.name, svc.provider_id, svc.jurisdiction_id, svc.attributes, svc.grading_table, svc.grading_version, svc.grade]
    return hashlib.sha256(json.dumps(record, sort_keys=True, default=str).encode()).hexdigest()


def refuse_if_held(session: Session, service_id: str, reasons: list[str]) -> None:
    st = session.get(SwitchState, service_id)
    if st is not None and st.hold_by:
        raise Conflict(f"服务 {service_id} 处于监管暂停（{st.hold_by}），不能降低分级或迁移：{'；'.join(reasons)}",
                       f"service {service_id} is under a regulator's hold ({st.hold_by}): it may not be re-graded down or moved "
                       f"({'; '.join(reasons)})", code="registration_held", hold_by=st.hold_by, changes=reasons)
    incident = gates.incident_probe().open_incident(session, service_id)
    if incident:
        raise Conflict(f"服务 {service_id} 有未结束的事件 {incident}，不能降低分级或迁移：{'；'.join(reasons)}",
                       f"service {service_id} has an open incident {incident}: it may not be re-graded down or moved "
                       f"({'; '.join(reasons)})", code="registration_held", incident=incident, changes=reasons)


def hold_back(s: Session, db: Database, actor: Actor, existing: Service, spec: Any, reasons: list[str]) -> dict[str, Any]:
    """Refuse under a hold or incident; otherwise keep the change for a regulator to decide."""
    refuse_if_held(s, existing.id, reasons)
    now = iso(db.clock.now())
    for old in s.execute(select(ServiceChange).where(ServiceChange.service_id == existing.id,
                                                     ServiceChange.status == "pending")).scalars():
        old.status, old.decided_by, old.decided_at = "superseded", actor.label, now
    change = ServiceChange(id=f"chg-{uuid.uuid4().hex[:12]}", service_id=existing.id, spec=spec.model_dump(mode="json"),
                           reasons=[{"change": r} for r in reasons], base_digest=digest(existing), status="pending",
                           requested_by=actor.label, requested_at=now)
    s.add(change)
    ledger.append(s, db.clock, "service.change_requested", existing.id, actor.label,
                  {"change": change.id, "changes": reasons, "service": change.spec, "grade": existing.grade})
    return {"service": existing.id, "result": "awaiting_approval", "grade": existing.grade, "change": change.id,
            "changes": reasons}


def _change(s: Session, actor: Actor, change_id: str) -> tuple[ServiceChange, Service]:
    ch = s.get(ServiceChange, change_id)
    svc = s.get(Service, ch.service_id) if ch else None
    if ch is None or svc is None or not scope.can_see(s, actor, svc):
        raise NotFound(f"未知登记变更 {change_id}", f"unknown registration change {change_id}")
    return ch, svc


def _decider(s: Session, actor: Actor, ch: ServiceChange, svc: Service) -> None:
    if actor.role is not Role.regulator:
        raise Forbidden("只有服务当前辖区的监管方可以批准或驳回此变更",
                        "only a regulator of the service's current jurisdiction may approve or refuse this change")
    scope.require_can_command(s, actor, svc)
    if ch.status != "pending":
        raise Conflict(f"变更 {ch.id} 已是 {ch.status}", f"change {ch.id} is already {ch.status}", code="change_decided")


def approve(db: Database, actor: Actor, change_id: str) -> dict[str, Any]:
    from fenghuo.control import services
    from fenghuo.registry.spec import ServiceSpec

    with db.transaction() as s:
        ch, svc = _change(s, actor, change_id)
        _decider(s, actor, ch, svc)
        if digest(svc) != ch.base_digest:
            raise Conflict(f"服务 {svc.id} 在请求变更后已再次修改，请重新登记",
                           f"service {svc.id} changed after this change was asked for: register again", code="change_stale")
        refuse_if_held(s, svc.id, [r["change"] for r in ch.reasons])
        now = iso(db.clock.now())
        ch.status, ch.decided_by, ch.decided_at = "approved", actor.label, now
        ledger.append(s, db.clock, "service.change_approved", svc.id, actor.label,
                      {"change": ch.id, "requested_by": ch.requested_by, "changes": [r["change"] for r in ch.reasons]})
        result = services.apply_approved(s, db, actor, ServiceSpec.model_validate(ch.spec), ch.id)
        return {**change_view(ch), "result": result}


def refuse(db: Database, actor: Actor, change_id: str, reason: str = "") -> dict[str, Any]:
    with db.transaction() as s:
        ch, svc = _change(s, actor, change_id)
        _decider(s, actor, ch, svc)
        ch.status, ch.decided_by, ch.decided_at = "refused", actor.label, iso(db.clock.now())
        ledger.append(s, db.clock, "service.change_refused", svc.id, actor.label,
                      {"change": ch.id, "requested_by": ch.requested_by, "reason": reason})
        return change_view(ch)


def _changes(s: Session, actor: Actor, pending_only: bool):
    q = select(ServiceChange).join(Service, Service.id == ServiceChange.service_id).where(scope.visible_filter(s, actor))
    return q.where(ServiceChange.status == "pending") if pending_only else q


def list_changes(db: Database, actor: Actor, *, pending_only: bool = True) -> list[dict[str, Any]]:
    """Every change ``actor`` may see, oldest first (listings page with ``change_page``)."""
    with db.reader() as s:
        q = _changes(s, actor, pending_only).order_by(ServiceChange.requested_at, ServiceChange.id)
        return [change_view(c) for c in s.execute(q).scalars()]


def change_page(db: Database, actor: Actor, *, pending_only: bool = True, after: str | None = None,
                limit: int = pages.DEFAULT_LIMIT) -> pages.Page:
    """A keyset page of the changes ``actor`` may see, oldest first (requested_at, then id)."""
    with db.reader() as s:
        rows, nxt = pages.keyset(s, _changes(s, actor, pending_only), [ServiceChange.requested_at, ServiceChange.id],
                                 after=after, limit=limit)
        return pages.Page([change_view(c) for c in rows], nxt)


def change_view(ch: ServiceChange) -> dict[str, Any]:
    return {"id": ch.id, "service": ch.service_id, "status": ch.status, "changes": [r["change"] for r in ch.reasons],
            "requested_by": ch.requested_by, "requested_at": ch.requested_at, "decided_by": ch.decided_by,
            "decided_at": ch.decided_at, "spec": ch.spec}
