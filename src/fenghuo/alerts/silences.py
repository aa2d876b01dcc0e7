"""Silences in the database: creating, listing and ending them (each with its ledger entry), the
ones in force now, and their view. Matching a silence against labels is ``silence_match``."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from fenghuo.alerts import store
from fenghuo.alerts.models import SilenceRow
from fenghuo.alerts.silence_match import active, parse_matchers
from fenghuo.ledger import store as ledger
from fenghuo.platform.clock import iso
from fenghuo.platform.db import Database
from fenghuo.platform.durations import parse_duration
from fenghuo.platform.errors import Conflict, Invalid, NotFound


def create(db: Database, actor_label: str, matchers: list[Any], reason: str, *, duration: str | None = None,
           until_resolved: bool = False, starts_in: str | None = None) -> dict[str, Any]:
    if not reason or not reason.strip():
        raise Invalid("静默必须写明理由", "a silence needs a reason", field="reason")
    if bool(duration) == bool(until_resolved):
        raise Invalid("静默需要时长（如 2h）或 until_resolved，二者选一", "a silence needs either a duration (e.g. 2h) or until_resolved",
                      field="duration")
    parsed = parse_matchers(matchers)
    now = db.clock.now().timestamp()  # arithmetic in seconds; the row keeps ISO text
    try:
        start = now + (parse_duration(starts_in) if starts_in else 0.0)
        ends = start + parse_duration(duration) if duration else None
    except ValueError as exc:
        raise Invalid(f"时长无效：{exc}", f"invalid duration: {exc}", field="duration") from None
    if ends is not None and ends <= start:
        raise Invalid("静默时长必须大于 0", "a silence must last longer than 0", field="duration")
    row = SilenceRow(id="s-" + uuid.uuid4().hex[:16], matchers=parsed, starts_at=store.ts(start), ends_at=store.ts(ends),
                     until_resolved=until_resolved, reason=reason.strip(), author=actor_label, created_at=store.ts(now))
    with db.transaction() as s:
        s.add(row)
        s.flush()
        ledger.append(s, db.clock, "silence.created", f"silence:{row.id}", actor_label,
                      {"silence": row.id, "matchers": parsed, "starts_at": row.starts_at, "ends_at": row.ends_at,
                       "until_resolved": until_resolved, "reason": row.reason})
        return silence_view(row, row.created_at)


def expire(db: Database, actor_label: str, silence_id: str, reason: str = "") -> dict[str, Any]:
    now = iso(db.clock.now())
    with db.transaction() as s:
        row = s.get(SilenceRow, silence_id)
        if row is None:
            raise NotFound(f"未知静默 {silence_id}", f"unknown silence {silence_id}")
        if row.ended_at is not None:
            raise Conflict(f"静默 {silence_id} 已结束", f"silence {silence_id} has already ended")
        row.ended_at, row.ended_reason = now, reason or f"ended by {actor_label}"
        ledger.append(s, db.clock, "silence.ended", f"silence:{row.id}", actor_label, {"silence": row.id, "reason": row.ended_reason})
        return silence_view(row, now)


def list_silences(db: Database, include_ended: bool = False) -> list[dict[str, Any]]:
    now = iso(db.clock.now())
    with db.reader() as s:
        q = select(SilenceRow).order_by(SilenceRow.created_at.desc())
        if not include_ended:
            q = q.where(SilenceRow.ended_at.is_(None))
        return [silence_view(r, now) for r in s.execute(q).scalars()]


def active_silences(session: Session, now: float) -> list[SilenceRow]:
    """In force at ``now`` (seconds, the engine's time); compared as ISO text in SQL."""
    now = store.ts(now)
    return list(session.execute(select(SilenceRow).where(SilenceRow.ended_at.is_(None), SilenceRow.starts_at <= now,
                                                         or_(SilenceRow.until_resolved.is_(True), SilenceRow.ends_at > now))).scalars())


def silence_view(s: SilenceRow, now: str) -> dict[str, Any]:
    return {"id": s.id, "matchers": s.matchers, "starts_at": s.starts_at, "ends_at": s.ends_at,
            "until_resolved": s.until_resolved, "reason": s.reason, "author": s.author, "created_at": s.created_at,
            "ended_at": s.ended_at, "ended_reason": s.ended_reason, "active": active(s, now)}
