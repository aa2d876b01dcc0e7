"""Fleet-scale reads for the overview (issue 19): counts as SQL aggregates, never by loading
every service, and the per-row extras (open warnings, open incidents, guard instances) for the
one page of services shown, each in one query for the whole page.

Scope is the domain's own: every aggregate carries ``registry.scope.visible_filter`` (the WHERE
clause behind ``control.listing.service_page`` and ``GET /api/v1/services``) and the same
filters as the listing, so a count can never include a service the page could not list. The
per-row reads take the ids of a page ``service_page`` already returned (scope-checked there)
and read the same rows the API's functions read: incidents as ``response.incidents.view``,
instances through ``control.instances.enforcement_view``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import false, func, or_, select
from sqlalchemy.orm import Session

from fenghuo.alerts.lifecycle import FIRING, PENDING
from fenghuo.alerts.models import WarningRow
from fenghuo.control.instance_models import GuardInstance
from fenghuo.control.instances import DEFAULT_STALE_SECONDS, enforcement_view
from fenghuo.control.listing import ServiceFilter
from fenghuo.control.models import SwitchState
from fenghuo.ledger.models import LedgerEntry
from fenghuo.ledger.store import entry_dict
from fenghuo.platform.clock import iso
from fenghuo.platform.db import Database
from fenghuo.platform.roles import Actor
from fenghuo.registry import scope
from fenghuo.registry.models import Service
from fenghuo.response import incidents
from fenghuo.response.models import Incident, ReportClock

OPEN = (PENDING, FIRING)


def where(s: Session, actor: Actor, f: ServiceFilter) -> list[Any]:
    """The listing's WHERE clauses (``control.listing``): scope first, then each filter."""
    conds: list[Any] = [scope.visible_filter(s, actor)]
    if f.sector:
        conds.append(Service.sector == f.sector)
    if f.grade:
        conds.append(Service.grade == f.grade)
    if f.provider:
        conds.append(Service.provider_id == f.provider)
    if f.jurisdiction:
        path = scope.jurisdiction_path(s, f.jurisdiction)
        conds.append(scope.subtree_filter(path) if path else false())
    if f.state:
        conds.append(SwitchState.state == f.state)
    return conds


def _services(s: Session, actor: Actor, f: ServiceFilter) -> Any:
    """The ids of the services in scope and filter, as a subquery for the other aggregates."""
    return (select(Service.id).outerjoin(SwitchState, SwitchState.service_id == Service.id)
            .where(*where(s, actor, f)).scalar_subquery())


def summary(db: Database, actor: Actor, f: ServiceFilter) -> dict[str, Any]:
    """What the overview's header counts: services by state and by grade, open warnings by
    level, open incidents and overdue reporting clocks — five GROUP BY / COUNT queries."""
    now = iso(db.clock.now())
    with db.reader() as s:
        base = (select(SwitchState.state, func.count()).select_from(Service)
                .outerjoin(SwitchState, SwitchState.service_id == Service.id).where(*where(s, actor, f)))
        states = {st or "unknown": n for st, n in s.execute(base.group_by(SwitchState.state)).all()}
        grades = dict(s.execute(select(Service.grade, func.count()).select_from(Service)
                                .outerjoin(SwitchState, SwitchState.service_id == Service.id)
                                .where(*where(s, actor, f)).group_by(Service.grade)).all())
        ids = _services(s, actor, f)
        levels = dict(s.execute(select(WarningRow.level, func.count()).where(
            WarningRow.state.in_(OPEN), WarningRow.service_id.in_(ids)).group_by(WarningRow.level)).all())
        open_incidents = s.execute(select(func.count()).select_from(Incident).where(
            Incident.status == "open", Incident.service_id.in_(ids))).scalar_one()
        overdue = s.execute(select(func.count()).select_from(ReportClock).join(Incident, Incident.id == ReportClock.incident_id)
                            .where(Incident.service_id.in_(ids),
                                   or_(ReportClock.status == "breached",
                                       (ReportClock.status == "running") & (ReportClock.due_at < now)))).scalar_one()
    return {"total": sum(states.values()), "states": dict(sorted(states.items())), "grades": dict(sorted(grades.items())),
            "warnings": levels, "open_incidents": open_incidents, "overdue_clocks": overdue}


def previous_after(db: Database, actor: Actor, f: ServiceFilter, first_id: str, page: int) -> tuple[bool, str | None]:
    """The keyset page before the one starting at ``first_id``: (is there one, its ``after``
    cursor — None for the first page). One indexed query walking the id order backwards."""
    with db.reader() as s:
        q = (select(Service.id).outerjoin(SwitchState, SwitchState.service_id == Service.id)
             .where(*where(s, actor, f), Service.id < first_id).order_by(Service.id.desc()).limit(page + 1))
        before = list(s.execute(q).scalars())
    if not before:
        return False, None
    return True, (before[page] if len(before) > page else None)


def open_warnings(db: Database, ids: list[str]) -> dict[str, dict[str, int]]:
    """service → level → open warnings, for the services of one page."""
    if not ids:
        return {}
    with db.reader() as s:
        rows = s.execute(select(WarningRow.service_id, WarningRow.level, func.count())
                         .where(WarningRow.state.in_(OPEN), WarningRow.service_id.in_(ids))
                         .group_by(WarningRow.service_id, WarningRow.level)).all()
    out: dict[str, dict[str, int]] = {}
    for sid, level, n in rows:
        out.setdefault(sid, {})[level] = n
    return out


def live_incidents(db: Database, ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """service → its incidents that are open or still have a running clock (as the API's
    incident view), for the services of one page."""
    if not ids:
        return {}
    out: dict[str, list[dict[str, Any]]] = {}
    with db.reader() as s:
        s.info["now"] = db.clock.now()
        running = select(ReportClock.incident_id).where(ReportClock.status == "running")
        q = (select(Incident).where(Incident.service_id.in_(ids), or_(Incident.status == "open", Incident.id.in_(running)))
             .order_by(Incident.opened_at.desc()))
        for inc in s.execute(q).scalars():
            out.setdefault(inc.service_id, []).append(incidents.view(s, inc))
    return out


def enforcement(db: Database, book: Any, page: list[dict[str, Any]],
                stale_seconds: float = DEFAULT_STALE_SECONDS) -> dict[str, dict[str, Any]]:
    """service → enforcement (``InstanceBook.enforcement``'s answer) for one page of services,
    from one query over their guard instances instead of one per service."""
    if not page:
        return {}
    book.flush()  # the book writes behind: what it holds reaches the database first, as enforcement() does
    ids = [svc["id"] for svc in page]
    rows: dict[str, list[dict[str, Any]]] = {}
    with db.reader() as s:
        for r in s.execute(select(GuardInstance).where(GuardInstance.service_id.in_(ids)).order_by(GuardInstance.id)).scalars():
            rows.setdefault(r.service_id, []).append({c: getattr(r, c) for c in (
                "id", "service_id", "state", "version", "enforced_since", "last_seen", "failsafe", "started_at", "meta")})
    now = db.clock.now()
    out = {}
    for svc in page:
        st = svc.get("state") or {}
        out[svc["id"]] = enforcement_view(svc["id"], st.get("state", ""), st.get("version", 0), st.get("changed_at", ""),
                                          rows.get(svc["id"], []), now, stale_seconds)
    return out


def recent_entries(db: Database, ids: set[str], n: int) -> list[dict[str, Any]]:
    """The last ``n`` ledger entries whose subject is one of ``ids`` (an operator's services),
    newest first: one indexed query per 500 ids instead of reading each service's history."""
    out: list[dict[str, Any]] = []
    chunk = sorted(ids)
    with db.reader() as s:
        for i in range(0, len(chunk), 500):
            q = (select(LedgerEntry).where(LedgerEntry.subject.in_(chunk[i:i + 500]))
                 .order_by(LedgerEntry.seq.desc()).limit(n))
            out += [entry_dict(r) for r in s.execute(q).scalars()]
    return sorted(out, key=lambda e: e["seq"], reverse=True)[:n]
