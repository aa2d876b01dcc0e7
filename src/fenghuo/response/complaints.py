"""Complaint and report tickets (投诉举报, CN-TC-17; GENAI Art.15, DS Art.12): a provider must
offer channels, publish its handling rules and time limit, handle every complaint within it and
tell the person the result.

A ticket is due the provider's published limit (``complaint_limit`` in its registration, e.g.
``15d``) after it was received; a provider that published none gets tickets without a due time,
and every view says so, because that is itself the gap CN-TC-17 names. An open ticket past its
due time raises a yellow warning through the alerts store (``source: response.clock``: no plan
pauses a service over paperwork) and is marked overdue; handling it resolves the warning.
Filing a ticket over the API also counts a ``complaint`` event into the service's indicators
(the route does that; the monitor is the server's).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fenghuo.alerts import listeners
from fenghuo.alerts.levels import Level
from fenghuo.control import row_scope
from fenghuo.ledger import store as ledger
from fenghuo.platform import pages
from fenghuo.platform.clock import iso
from fenghuo.platform.db import Database
from fenghuo.platform.durations import parse_duration
from fenghuo.platform.errors import Conflict, Forbidden, Invalid, NotFound
from fenghuo.platform.roles import Actor, Role
from fenghuo.registry import scope
from fenghuo.registry.models import Provider, Service
from fenghuo.response import report_clocks as clocks
from fenghuo.response.models import ComplaintTicket

CATEGORIES = ("complaint", "report", "ip", "misinformation", "personal_information")
STATUSES = ("open", "handled", "closed")
CHANNELS = ("phone", "email", "in_app", "sms", "web", "letter", "regulator")
ACTOR = "system:complaints"
NO_LIMIT = "提供者未公布处理时限（CN-TC-17）/ the provider has published no handling time limit (CN-TC-17)"


def _parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def view(t: ComplaintTicket, now: datetime | None = None) -> dict[str, Any]:
    out = {"id": t.id, "service": t.service_id, "provider": t.provider_id, "category": t.category, "channel": t.channel,
           "content": t.content, "contact": t.contact, "received_at": t.received_at, "due_at": t.due_at, "limit": t.handling_limit,
           "status": t.status, "overdue": t.overdue, "created_by": t.created_by, "handled_at": t.handled_at,
           "handled_by": t.handled_by, "result": t.result, "feedback_sent": t.feedback_at is not None, "feedback_at": t.feedback_at,
           "feedback": t.feedback, "warning": t.warning_id, "note": None if t.due_at else NO_LIMIT}
    if now is not None and t.due_at and t.status == "open":
        out["remaining_seconds"] = round((_parse(t.due_at) - now).total_seconds(), 3)
    return out


def file_complaint(db: Database, actor: Actor, service_id: str, category: str, content: str, *, channel: str = "web",
         contact: str | None = None, received_at: str | None = None) -> dict[str, Any]:
    """Record a complaint or report received from a user (by the provider's staff, or forwarded
    by a regulator). ``received_at`` defaults to now; the due time runs from it."""
    if actor.role not in (Role.operator, Role.regulator, Role.admin):
        raise Forbidden(f"角色 {actor.role.value} 不能登记投诉", f"role {actor.role.value} may not file a complaint")
    if category not in CATEGORIES:
        raise Invalid(f"类别须为 {'/'.join(CATEGORIES)}", f"category must be one of {', '.join(CATEGORIES)}", field="category")
    if channel not in CHANNELS:
        raise Invalid(f"渠道须为 {'/'.join(CHANNELS)}", f"channel must be one of {', '.join(CHANNELS)}", field="channel")
    if not (content or "").strip():
        raise Invalid("投诉内容不能为空", "a complaint needs its content", field="content")
    now = db.clock.now()
    received = now
    if received_at:
        try:
            received = datetime.fromisoformat(received_at.replace("Z", "+00:00"))
        except ValueError:
            raise Invalid(f"接收时间不是 ISO 8601 时间：{received_at}", f"received_at is not an ISO 8601 time: {received_at}",
                          field="received_at") from None
        if received.tzinfo is None or received > now:
            raise Invalid("接收时间须带时区且不晚于现在", "received_at needs a time zone and cannot be in the future", field="received_at")
    with db.transaction() as s:
        svc = s.get(Service, service_id)
        if svc is None:
            raise NotFound(f"未知服务 {service_id}", f"unknown service {service_id}", code="unknown_service")
        scope.require_visible(s, actor, svc)
        if actor.role is Role.operator and actor.provider_id != svc.provider_id:
            raise Forbidden(f"{actor.label} 只能登记本提供者服务的投诉", f"{actor.label} may only file complaints about its own provider's services")
        prov = s.get(Provider, svc.provider_id)
        limit = getattr(prov, "complaint_limit", None)
        due = iso(received + timedelta(seconds=parse_duration(limit))) if limit else None
        t = ComplaintTicket(id=f"cpl-{now.strftime('%Y%m%d')}-{uuid.uuid4().hex[:6]}", service_id=svc.id, provider_id=svc.provider_id,
                            category=category, channel=channel, content=content.strip(), contact=(contact or None),
                            received_at=iso(received), due_at=due, handling_limit=limit, status="open", overdue=False,
                            created_by=actor.label)
        s.add(t)
        s.flush()
        ledger.append(s, db.clock, "complaint.filed", f"complaint:{t.id}", actor.label, {
            "complaint": t.id, "service": svc.id, "category": category, "channel": channel, "received_at": t.received_at,
            "due_at": due, "limit": limit})
        return view(t, now)


def _load(s: Session, actor: Actor, ticket_id: str) -> tuple[ComplaintTicket, Service]:
    t = s.get(ComplaintTicket, ticket_id)
    if t is None:
        raise NotFound(f"未知投诉 {ticket_id}", f"unknown complaint {ticket_id}", code="unknown_complaint")
    svc = s.get(Service, t.service_id)
    scope.require_visible(s, actor, svc)
    return t, svc


def handle(db: Database, actor: Actor, ticket_id: str, result: str, feedback: str | None = None) -> dict[str, Any]:
    """The provider handled it (处理结果); with ``feedback`` the person was also told (反馈)."""
    if not (result or "").strip():
        raise Invalid("写明处理结果", "say how it was handled", field="result")
    published = None
    with db.transaction() as s:
        t, svc = _load(s, actor, ticket_id)
        scope.require_can_command(s, actor, svc)
        if actor.role not in (Role.operator, Role.admin):
            raise Forbidden("投诉由服务提供者处理", "complaints are handled by the provider (operator or admin)")
        if t.status != "open":
            raise Conflict(f"投诉 {ticket_id} 已于 {t.handled_at} 处理", f"complaint {ticket_id} was already handled at {t.handled_at}",
                           code="complaint_handled")
        now = iso(db.clock.now())
        t.status, t.handled_at, t.handled_by, t.result = "handled", now, actor.label, result.strip()
        t.overdue = t.overdue or bool(t.due_at and now > t.due_at)
        published = clocks.resolve_warning(s, db.clock, t.warning_id, now)
        ledger.append(s, db.clock, "complaint.handled", f"complaint:{t.id}", actor.label,
                      {"complaint": t.id, "result": t.result, "late": t.overdue})
        if feedback:
            _feedback(s, db, actor, t, feedback, now)
        out = view(t)
    if published:
        clocks.publish_resolved([published], now)
    return out


def _feedback(s: Session, db: Database, actor: Actor, t: ComplaintTicket, text: str, now: str) -> None:
    t.feedback_at, t.feedback, t.status = now, text.strip(), "closed"
    ledger.append(s, db.clock, "complaint.feedback", f"complaint:{t.id}", actor.label, {"complaint": t.id, "feedback": t.feedback})


def feedback(db: Database, actor: Actor, ticket_id: str, text: str) -> dict[str, Any]:
    """The person who complained was told the result (反馈); closes a handled ticket."""
    if not (text or "").strip():
        raise Invalid("写明反馈内容", "say what the person was told", field="feedback")
    with db.transaction() as s:
        t, svc = _load(s, actor, ticket_id)
        scope.require_can_command(s, actor, svc)
        if t.status != "handled":
            raise Conflict("先处理，再反馈", "handle the complaint before recording the feedback" if t.status == "open"
                           else f"complaint {ticket_id} is already closed", code="complaint_state")
        _feedback(s, db, actor, t, text, iso(db.clock.now()))
        return view(t)


def get(db: Database, actor: Actor, ticket_id: str) -> dict[str, Any]:
    with db.reader() as s:
        t, _ = _load(s, actor, ticket_id)
        return view(t, db.clock.now())


def _tickets(s: Session, actor: Actor, *, service: str | None = None, status: str | None = None, overdue: bool = False,
             category: str | None = None):
    """The tickets ``actor`` may see, filtered in the database (issue 19)."""
    q = select(ComplaintTicket)
    if actor.role not in (Role.admin, Role.system):
        q = q.where(row_scope.visible(s, actor, ComplaintTicket))  # the row's own jurisdiction, no join
    if service:
        q = q.where(ComplaintTicket.service_id == service)
    if status:
        if status not in STATUSES:
            raise Invalid(f"状态须为 {'/'.join(STATUSES)}", f"status must be one of {', '.join(STATUSES)}", field="status")
        q = q.where(ComplaintTicket.status == status)
    if overdue:
        q = q.where(ComplaintTicket.overdue.is_(True))
    if category:
        q = q.where(ComplaintTicket.category == category)
    return q


def ticket_page(db: Database, actor: Actor, *, service: str | None = None, status: str | None = None, overdue: bool = False,
                category: str | None = None, after: str | None = None, limit: int = pages.DEFAULT_LIMIT) -> pages.Page:
    """A page of tickets, newest first (received_at, then id, descending)."""
    with db.reader() as s:
        q = _tickets(s, actor, service=service, status=status, overdue=overdue, category=category)
        rows, nxt = pages.keyset(s, q, [ComplaintTicket.received_at, ComplaintTicket.id], after=after, limit=limit, desc=True)
        now = db.clock.now()
        return pages.Page([view(t, now) for t in rows], nxt)


def list_tickets(db: Database, actor: Actor, *, service: str | None = None, status: str | None = None,
                 overdue: bool = False) -> list[dict[str, Any]]:
    """Every ticket ``actor`` may see, newest first (listings page with ``ticket_page``)."""
    with db.reader() as s:
        q = _tickets(s, actor, service=service, status=status, overdue=overdue)
        now = db.clock.now()
        return [view(t, now) for t in s.execute(q.order_by(ComplaintTicket.received_at.desc(), ComplaintTicket.id.desc())).scalars()]


def counts(db: Database, actor: Actor, service: str | None = None) -> dict[str, int]:
    """Tickets by status, and how many are overdue: what the console and reports show. Counted
    in the database (one GROUP BY), not by reading every ticket."""
    out = {"total": 0, "open": 0, "handled": 0, "closed": 0, "overdue": 0, "no_limit": 0}
    with db.reader() as s:
        sub = _tickets(s, actor, service=service).subquery()
        q = select(sub.c.status, sub.c.overdue, sub.c.due_at.is_(None), func.count()).group_by(
            sub.c.status, sub.c.overdue, sub.c.due_at.is_(None))
        for status, overdue, no_limit, n in s.execute(q):
            out["total"] += n
            out[status] = out.get(status, 0) + n
            out["overdue"] += n if overdue else 0
            out["no_limit"] += n if no_limit else 0
    return out


def check_overdue(db: Database) -> list[dict[str, Any]]:
    """Every open ticket past its due time is marked overdue and raises a warning (once)."""
    now_dt = db.clock.now()
    now_iso, now = iso(now_dt), now_dt.timestamp()
    published, done = [], []
    with db.transaction() as s:
        late = s.execute(select(ComplaintTicket).where(ComplaintTicket.status == "open", ComplaintTicket.overdue.is_(False),
                                                       ComplaintTicket.due_at.is_not(None), ComplaintTicket.due_at < now_iso)
                         .order_by(ComplaintTicket.due_at)).scalars().all()
        for t in late:
            desc = (f"投诉 {t.id} 已超过处理时限 {t.due_at}（{t.handling_limit}）/ complaint {t.id} was due at {t.due_at} "
                    f"(the provider's {t.handling_limit} limit, CN-TC-17) and is not handled")
            row, tr = clocks.raise_warning(s, db.clock, t.service_id, f"complaint-overdue-{t.id}", "complaint-overdue",
                                           Level.yellow, desc, now, {"complaint": t.id})
            t.overdue, t.warning_id = True, row.id
            ledger.append(s, db.clock, "complaint.overdue", f"complaint:{t.id}", ACTOR,
                          {"complaint": t.id, "due_at": t.due_at, "warning": row.id})
            published.append((tr, row))
            done.append({"complaint": t.id, "service": t.service_id, "due_at": t.due_at, "warning": row.id})
    for tr, row in published:
        listeners.publish({"kind": "firing", "warning": {**tr.warning.view(), "labels": dict(row.labels)}, "from": None,
                           "to": "firing", "level": tr.level.value, "previous_level": None, "at": now_iso})
    return done
