"""Silences in the database: creating, listing and ending them (each with its ledger entry), the
ones in force now, and their view. Matching a silence against labels is ``silence_match``.

A silence belongs to the scope of whoever made it (issue 14): an operator's provider, or a
regulator's jurisdiction node; the admin's and the system's are the deployment's. It mutes only
warnings of services inside that scope, whatever its matchers say (a Shanghai regulator's
``service=~.*`` mutes Shanghai only), can be ended only from that scope, and is listed only to
those who see that scope, as services are."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import false, or_, select, true
from sqlalchemy.orm import Session

from fenghuo.alerts import store
from fenghuo.alerts.models import SilenceRow
from fenghuo.alerts.silence_match import active, parse_matchers
from fenghuo.ledger import store as ledger
from fenghuo.platform import pages
from fenghuo.platform.clock import iso
from fenghuo.platform.db import Database
from fenghuo.platform.durations import parse_duration
from fenghuo.platform.errors import Conflict, Forbidden, Invalid, NotFound
from fenghuo.platform.roles import Actor, Role
from fenghuo.registry import scope
from fenghuo.registry.models import Service

DEPLOYMENT: tuple[str | None, str | None] = (None, None)


def scope_of(session: Session, actor: Actor) -> tuple[str | None, str | None]:
    """(provider, jurisdiction path) a silence made by ``actor`` belongs to."""
    if actor.role is Role.operator:
        return actor.provider_id or "", None
    if actor.role is Role.regulator:
        path = scope.jurisdiction_path(session, actor.jurisdiction_id)
        if path is None:
            raise Forbidden("监管方令牌没有有效辖区", "the regulator's token names no known jurisdiction")
        return None, path
    if actor.role in (Role.admin, Role.system):
        return DEPLOYMENT
    raise Forbidden(f"角色 {actor.role.value} 不能静默", f"role {actor.role.value} may not silence")


def _visible(session: Session, actor: Actor):
    """A WHERE clause: the silences ``actor`` may see — those of its own scope and, for a
    regulator or a scoped auditor, of the scopes inside its own."""
    if actor.role in (Role.admin, Role.system):
        return true()
    if actor.role is Role.auditor and not actor.provider_id and not actor.jurisdiction_id:
        return true()  # a deployment-wide auditor
    if actor.role is Role.operator or (actor.role is Role.auditor and actor.provider_id):
        return SilenceRow.scope_provider == (actor.provider_id or "")
    path = scope.jurisdiction_path(session, actor.jurisdiction_id)
    if path is None:
        return false()
    providers = select(Service.provider_id).where(scope.visible_filter(session, actor)).distinct()
    return or_(SilenceRow.scope_path.startswith(path), SilenceRow.scope_provider.in_(providers))


def _may_end(session: Session, actor: Actor, row: SilenceRow) -> bool:
    if actor.role in (Role.admin, Role.system):
        return True
    if actor.role is Role.operator:
        return row.scope_provider is not None and row.scope_provider == actor.provider_id
    if actor.role is Role.regulator and row.scope_path is not None:
        path = scope.jurisdiction_path(session, actor.jurisdiction_id)
        return path is not None and row.scope_path.startswith(path)
    return False


def create(db: Database, actor: Actor | str, matchers: list[Any], reason: str, *, duration: str | None = None,
           until_resolved: bool = False, starts_in: str | None = None) -> dict[str, Any]:
    """``actor``: the person (its scope is the silence's), or a bare label for the deployment's
    own silences (tests, embedders)."""
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
    actor_label = actor if isinstance(actor, str) else actor.label
    with db.transaction() as s:
        provider, path = DEPLOYMENT if isinstance(actor, str) else scope_of(s, actor)
        row = SilenceRow(id="s-" + uuid.uuid4().hex[:16], matchers=parsed, starts_at=store.ts(start), ends_at=store.ts(ends),
                         until_resolved=until_resolved, reason=reason.strip(), author=actor_label, created_at=store.ts(now),
                         scope_provider=provider, scope_path=path)
        s.add(row)
        s.flush()
        ledger.append(s, db.clock, "silence.created", f"silence:{row.id}", actor_label,
                      {"silence": row.id, "matchers": parsed, "starts_at": row.starts_at, "ends_at": row.ends_at,
                       "until_resolved": until_resolved, "reason": row.reason,
                       "scope": {"provider": provider, "jurisdiction_path": path}})
        return silence_view(row, row.created_at)


def expire(db: Database, actor: Actor | str, silence_id: str, reason: str = "") -> dict[str, Any]:
    """End a silence; a person may end only one of its own scope (an unknown id and one out of
    sight read alike: 404)."""
    now = iso(db.clock.now())
    actor_label = actor if isinstance(actor, str) else actor.label
    with db.transaction() as s:
        row = s.get(SilenceRow, silence_id)
        if row is not None and not isinstance(actor, str):
            if not s.execute(select(SilenceRow.id).where(SilenceRow.id == silence_id, _visible(s, actor))).first():
                row = None
            elif not _may_end(s, actor, row):
                raise Forbidden(f"{actor.label} 不能结束静默 {silence_id}（不属于其范围）",
                                f"{actor.label} may not end silence {silence_id} (outside its scope)")
        if row is None:
            raise NotFound(f"未知静默 {silence_id}", f"unknown silence {silence_id}")
        if row.ended_at is not None:
            raise Conflict(f"静默 {silence_id} 已结束", f"silence {silence_id} has already ended")
        row.ended_at, row.ended_reason = now, reason or f"ended by {actor_label}"
        ledger.append(s, db.clock, "silence.ended", f"silence:{row.id}", actor_label, {"silence": row.id, "reason": row.ended_reason})
        return silence_view(row, now)


def list_silences(db: Database, include_ended: bool = False, actor: Actor | None = None) -> list[dict[str, Any]]:
    """Newest first, every one; with ``actor``, only the silences it may see (``silence_page``
    reads them a page at a time)."""
    now = iso(db.clock.now())
    with db.reader() as s:
        q = _query(s, include_ended, actor).order_by(SilenceRow.created_at.desc(), SilenceRow.id.desc())
        return [silence_view(r, now) for r in s.execute(q).scalars()]


def _query(s: Session, include_ended: bool, actor: Actor | None):
    q = select(SilenceRow)
    if actor is not None:
        q = q.where(_visible(s, actor))
    if not include_ended:
        q = q.where(SilenceRow.ended_at.is_(None))
    return q


def silence_page(db: Database, actor: Actor | None, include_ended: bool = False, *, after: str | None = None,
                 limit: int = pages.DEFAULT_LIMIT) -> pages.Page:
    """A page of silences newest first (created_at, then id, descending), filtered in SQL."""
    now = iso(db.clock.now())
    with db.reader() as s:
        rows, nxt = pages.keyset(s, _query(s, include_ended, actor), [SilenceRow.created_at, SilenceRow.id], after=after,
                                 limit=limit, desc=True)
        return pages.Page([silence_view(r, now) for r in rows], nxt)


def active_silences(session: Session, now: float) -> list[SilenceRow]:
    """In force at ``now`` (seconds, the engine's time); compared as ISO text in SQL."""
    now = store.ts(now)
    return list(session.execute(select(SilenceRow).where(SilenceRow.ended_at.is_(None), SilenceRow.starts_at <= now,
                                                         or_(SilenceRow.until_resolved.is_(True), SilenceRow.ends_at > now))).scalars())


def silence_view(s: SilenceRow, now: str) -> dict[str, Any]:
    return {"id": s.id, "matchers": s.matchers, "starts_at": s.starts_at, "ends_at": s.ends_at,
            "until_resolved": s.until_resolved, "reason": s.reason, "author": s.author, "created_at": s.created_at,
            "ended_at": s.ended_at, "ended_reason": s.ended_reason, "active": active(s, now),
            "scope": {"provider": s.scope_provider, "jurisdiction_path": s.scope_path}}
