"""Per-user measures (CN-PO-09): warn, restrict or suspend one end user of a service, and lift.

Who may: the same scope as a switch command (``registry.scope.require_can_command``: an
operator of the service's provider, a regulator of its jurisdiction or above, an admin); an
auditor reads only. A regulator's measure is lifted only by a regulator (as a regulator's
pause). Each apply and lift is written to the ledger (``user.measure.applied`` /
``user.measure.lifted``, subject the service) in the same transaction. A user has at most one
measure in force per service: a new one closes the previous (``lift_reason: replaced``).

Guards read :func:`active` (``GET /api/v1/services/{id}/user-measures``) and enforce it
(``guard.user_measures``).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from fenghuo.control.user_measure_models import UserMeasure
from fenghuo.ledger import store as ledger
from fenghuo.platform import pages
from fenghuo.platform.clock import iso
from fenghuo.platform.db import Database
from fenghuo.platform.durations import parse_duration
from fenghuo.platform.errors import Forbidden, Invalid, NotFound
from fenghuo.platform.roles import Actor, Role
from fenghuo.registry import scope
from fenghuo.registry.models import Service

MEASURES = ("warn", "restrict", "suspend")
COMMANDERS = (Role.operator, Role.regulator, Role.admin)
MAX_USER_ID = 256
MAX_RATE = 100_000  # requests per minute


def view(m: UserMeasure) -> dict[str, Any]:
    return {"id": m.id, "service": m.service_id, "user": m.user_id, "measure": m.measure, "rate": m.rate, "until": m.until,
            "reason": m.reason, "applied_by": m.applied_by, "applied_at": m.applied_at, "lifted_by": m.lifted_by,
            "lifted_at": m.lifted_at, "lift_reason": m.lift_reason}


def parse_until(text: str | None, now: datetime) -> str | None:
    """``--until``: a duration from now ("2h", "7d") or an ISO time (no offset: UTC)."""
    if text is None or str(text).strip() == "":
        return None
    try:
        return iso(now + timedelta(seconds=parse_duration(text)))
    except ValueError:
        pass
    try:
        at = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        raise Invalid(f"无法识别的截止时间 {text!r}（时长如 2h 或 ISO 时间）",
                      f"cannot read until {text!r} (a duration such as 2h, or an ISO time)", field="until") from None
    if iso(at) <= iso(now):
        raise Invalid("截止时间已过", f"until {text} is already past", field="until")
    return iso(at)


def _service(session: Session, service_id: str) -> Service:
    service = session.get(Service, service_id)
    if service is None:
        raise NotFound(f"未知服务 {service_id}", f"unknown service {service_id}", code="unknown_service")
    return service


def _authorise(session: Session, actor: Actor, service: Service) -> None:
    scope.require_can_command(session, actor, service)
    if actor.role not in COMMANDERS:
        raise Forbidden(f"角色 {actor.role.value} 不能对用户采取措施（允许：operator, regulator, admin）",
                        f"role {actor.role.value} may not take measures on a user (allowed: operator, regulator, admin)")


def _user(user: str) -> str:
    user = (user or "").strip()
    if not user or len(user) > MAX_USER_ID:
        raise Invalid(f"用户标识须为 1–{MAX_USER_ID} 个字符", f"the user id must be 1–{MAX_USER_ID} characters", field="user")
    return user


def _current(session: Session, service_id: str, user: str, now: str) -> UserMeasure | None:
    rows = session.execute(select(UserMeasure).where(UserMeasure.service_id == service_id, UserMeasure.user_id == user,
                                                     UserMeasure.lifted_at.is_(None))).scalars().all()
    live = [m for m in rows if m.until is None or m.until > now]
    return max(live, key=lambda m: m.applied_at) if live else None


def apply(db: Database, actor: Actor, service_id: str, user: str, measure: str, reason: str, *,
          rate: int | None = None, until: str | None = None) -> dict[str, Any]:
    user = _user(user)
    if measure not in MEASURES:
        raise Invalid(f"措施须为 {'、'.join(MEASURES)} 之一", f"measure must be one of {', '.join(MEASURES)}", field="measure")
    if measure == "restrict":
        if rate is None or isinstance(rate, bool) or not 1 <= int(rate) <= MAX_RATE:
            raise Invalid(f"限制需要每分钟请求数 rate（1–{MAX_RATE}）", f"restrict needs a rate in requests per minute (1–{MAX_RATE})",
                          field="rate")
    elif rate is not None:
        raise Invalid(f"{measure} 不接受 rate 参数", f"{measure} takes no rate", field="rate")
    if not (reason or "").strip():
        raise Invalid("须说明理由", "a reason is required", field="reason")
    with db.transaction() as s:
        service = _service(s, service_id)
        _authorise(s, actor, service)
        now_dt = db.clock.now()
        now = iso(now_dt)
        expires = parse_until(until, now_dt)
        prev = _current(s, service_id, user, now)
        if prev is not None:
            _require_may_lift(actor, prev)
            prev.lifted_by, prev.lifted_at, prev.lift_reason = actor.label, now, "replaced"
        m = UserMeasure(id=uuid.uuid4().hex, service_id=service_id, user_id=user, measure=measure,
                        rate=int(rate) if rate is not None else None, until=expires, reason=reason, applied_by=actor.label,
                        applied_role=actor.role.value, applied_at=now)
        s.add(m)
        ledger.append(s, db.clock, "user.measure.applied", service_id, actor.label,
                      {"id": m.id, "user": user, "measure": measure, "rate": m.rate, "until": expires, "reason": reason,
                       "replaced": prev.id if prev else None})
        s.flush()
        return view(m)


def _require_may_lift(actor: Actor, m: UserMeasure) -> None:
    if m.applied_role == Role.regulator.value and actor.role is not Role.regulator:
        raise Forbidden(f"该措施由监管方（{m.applied_by}）采取，只有监管方可以解除或更改",
                        f"this measure was taken by a regulator ({m.applied_by}); only a regulator may lift or change it",
                        code="regulator_hold")


def lift(db: Database, actor: Actor, service_id: str, user: str, reason: str) -> dict[str, Any]:
    user = _user(user)
    with db.transaction() as s:
        service = _service(s, service_id)
        _authorise(s, actor, service)
        now = iso(db.clock.now())
        m = _current(s, service_id, user, now)
        if m is None:
            raise NotFound(f"用户 {user} 在服务 {service_id} 上没有生效的措施",
                           f"user {user} has no measure in force on service {service_id}", code="no_measure")
        _require_may_lift(actor, m)
        m.lifted_by, m.lifted_at, m.lift_reason = actor.label, now, reason or ""
        ledger.append(s, db.clock, "user.measure.lifted", service_id, actor.label,
                      {"id": m.id, "user": user, "measure": m.measure, "reason": reason or ""})
        s.flush()
        return view(m)


def in_force(session: Session, services: list[str], now: str) -> dict[str, list[dict[str, Any]]]:
    """The measures in force on each of ``services`` (only those with any), for the switch stream."""
    out: dict[str, list[dict[str, Any]]] = {}
    for i in range(0, len(services), 500):
        q = (select(UserMeasure).where(UserMeasure.service_id.in_(services[i:i + 500]), UserMeasure.lifted_at.is_(None))
             .order_by(UserMeasure.applied_at))
        for m in session.execute(q).scalars():
            if m.until is None or m.until > now:
                out.setdefault(m.service_id, []).append(view(m))
    return out


def listing(db: Database, actor: Actor, service_id: str, *, include_ended: bool = False, after: str | None = None,
            limit: int | None = pages.DEFAULT_LIMIT) -> dict[str, Any]:
    """A keyset page of the measures in force on a service (what guards enforce), or with
    ``include_ended`` of its whole history, oldest first (applied_at, then id); ``next`` is the
    following page's ``after`` (None: the last page), ``limit=None`` every row (in-process
    readers that need the whole set). Anyone who may see the service may read them (auditors,
    the guard's token). Expiry is a WHERE clause, so a page is never short of rows in force."""
    if limit is not None:
        pages.check_limit(limit)
    with db.reader() as s:
        service = _service(s, service_id)
        scope.require_visible(s, actor, service)
        now = iso(db.clock.now())
        q = select(UserMeasure).where(UserMeasure.service_id == service_id)
        if not include_ended:
            q = q.where(UserMeasure.lifted_at.is_(None), or_(UserMeasure.until.is_(None), UserMeasure.until > now))
        cols = [UserMeasure.applied_at, UserMeasure.id]
        if limit is None:
            rows, nxt = list(s.execute(q.order_by(*cols)).scalars()), None
        else:
            rows, nxt = pages.keyset(s, q, cols, after=after, limit=limit)
        return {"service": service_id, "at": now, "measures": [view(m) for m in rows], "next": nxt}
