"""Plan steps (carried out or awaiting approval) a page at a time, filtered and scoped in the
database (issue 19), oldest first (created_at, then id): what has waited longest comes first."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from fenghuo.platform import pages
from fenghuo.platform.db import Database
from fenghuo.platform.roles import Actor, Role
from fenghuo.registry import scope
from fenghuo.registry.models import Service
from fenghuo.response.approvals import view
from fenghuo.response.models import PlanActionRow


@dataclass(frozen=True)
class ActionFilter:
    service: str | None = None
    warning: str | None = None
    status: str | None = None  # e.g. awaiting_approval, applied, failed
    incident: str | None = None


def action_page(db: Database, actor: Actor, f: ActionFilter = ActionFilter(), *, after: str | None = None,
                limit: int = pages.DEFAULT_LIMIT) -> pages.Page:
    with db.reader() as s:
        q = select(PlanActionRow)
        if actor.role not in (Role.admin, Role.system):
            q = q.join(Service, Service.id == PlanActionRow.service_id).where(scope.visible_filter(s, actor))
        if f.service:
            q = q.where(PlanActionRow.service_id == f.service)
        if f.warning:
            q = q.where(PlanActionRow.warning_id == f.warning)
        if f.status:
            q = q.where(PlanActionRow.status == f.status)
        if f.incident:
            q = q.where(PlanActionRow.incident_id == f.incident)
        rows, nxt = pages.keyset(s, q, [PlanActionRow.created_at, PlanActionRow.id], after=after, limit=limit)
        return pages.Page([view(s, r) for r in rows], nxt)
