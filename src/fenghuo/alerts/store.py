"""Warnings, silences and acknowledgements in the database, each change with its ledger entry
in the same transaction (actor ``system:alerts`` for rule-driven transitions).

This is the time boundary of alerting: the lifecycle computes in UNIX seconds (it runs on every
evaluation), rows and views hold ISO 8601 UTC text; ``save`` and ``state_of`` convert."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, Text, cast, select
from sqlalchemy.orm import Session

from fenghuo.alerts.levels import Level
from fenghuo.alerts.lifecycle import FIRING, PENDING, Transition, WarningState
from fenghuo.alerts.models import NotificationRow, WarningRow
from fenghuo.control import row_scope
from fenghuo.ledger import store as ledger
from fenghuo.platform import pages
from fenghuo.platform.clock import iso_seconds, seconds
from fenghuo.platform.db import Database
from fenghuo.platform.errors import Invalid
from fenghuo.platform.roles import Actor, Role

SYSTEM_ACTOR = "system:alerts"


def fingerprint(alert: str, service: str) -> str:
    return hashlib.sha256(f"{alert}\x00{service}".encode()).hexdigest()[:32]


def new_id() -> str:
    return "w-" + uuid.uuid4().hex[:20]


ts = iso_seconds  # seconds -> stored/view text; the alerts modules' short name for it


def state_of(row: WarningRow) -> WarningState:
    return WarningState(id=row.id, fingerprint=row.fingerprint, alert=row.alert, service=row.service_id,
                        state=row.state, level=Level(row.level), started_at=seconds(row.started_at),
                        fired_at=seconds(row.fired_at), resolved_at=seconds(row.resolved_at),
                        clearing_since=seconds(row.clearing_since), rules={k: seconds(v) for k, v in (row.rules or {}).items()},
                        rule=row.rule, value=row.value, flaps=row.flaps, ack_owner=row.ack_owner)


def view(row: WarningRow) -> dict[str, Any]:
    return {"id": row.id, "fingerprint": row.fingerprint, "alert": row.alert, "service": row.service_id,
            "state": row.state, "level": row.level, "rule": row.rule, "value": row.value,
            "description": row.description, "labels": row.labels, "started_at": row.started_at,
            "fired_at": row.fired_at, "resolved_at": row.resolved_at, "clearing_since": row.clearing_since,
            "rules_holding": dict(row.rules or {}), "flaps": row.flaps,
            "ack": {"owner": row.ack_owner, "by": row.ack_by, "at": row.ack_at, "note": row.ack_note} if row.ack_owner else None}


def save(session: Session, w: WarningState, labels: dict[str, Any], description: str, now: float) -> WarningRow:
    """Write the warning's current state (insert or update)."""
    row = session.get(WarningRow, w.id)
    if row is None:
        row = WarningRow(id=w.id, fingerprint=w.fingerprint, alert=w.alert, service_id=w.service, started_at=ts(w.started_at),
                         labels=labels, flaps=0)
        session.add(row)
    row.state, row.level, row.rule, row.value = w.state, w.level.value, w.rule, w.value
    row.active = w.fingerprint if w.state in (PENDING, FIRING) else None
    row.fired_at, row.resolved_at, row.clearing_since = ts(w.fired_at), ts(w.resolved_at), ts(w.clearing_since)
    row.rules = {k: ts(v) for k, v in w.rules.items()}
    row.flaps, row.description, row.updated_at = w.flaps, description, ts(now)
    row.labels = labels
    session.flush()
    return row


def record(session: Session, clock, t: Transition, row: WarningRow) -> None:
    ledger.append(session, clock, f"warning.{t.kind}", f"warning:{row.id}", SYSTEM_ACTOR, {
        "warning": row.id, "fingerprint": row.fingerprint, "alert": row.alert, "service": row.service_id,
        "from": t.from_state, "to": t.to_state, "level": t.level.value,
        "previous_level": t.previous_level.value if t.previous_level else None, "rule": row.rule, "value": row.value})


def open_warnings(db: Database, service: str | None = None) -> list[dict[str, Any]]:
    """Pending and firing warnings (what emergency response reads at start-up)."""
    with db.reader() as s:
        q = select(WarningRow).where(WarningRow.state.in_([PENDING, FIRING]))
        if service:
            q = q.where(WarningRow.service_id == service)
        return [view(r) for r in s.execute(q.order_by(WarningRow.started_at)).scalars()]


def load_open(db: Database) -> list[tuple[WarningState, dict[str, Any]]]:
    with db.reader() as s:
        rows = s.execute(select(WarningRow).where(WarningRow.state.in_([PENDING, FIRING]))).scalars().all()
        return [(state_of(r), dict(r.labels or {})) for r in rows]


STATES = ("open", "pending", "firing", "resolved")
LEVELS = ("blue", "yellow", "orange", "red")


@dataclass(frozen=True)
class WarningFilter:
    """What a warnings listing selects on; each is a WHERE clause (issue 19)."""

    state: str | None = None  # open (pending + firing), pending, firing or resolved
    service: str | None = None
    level: str | None = None
    alert: str | None = None

    def check(self) -> WarningFilter:
        if self.state not in (None, *STATES):
            raise Invalid("state 必须是 open、pending、firing 或 resolved", "state must be open, pending, firing or resolved", field="state")
        if self.level not in (None, *LEVELS):
            raise Invalid("level 必须是 blue、yellow、orange 或 red", "level must be blue, yellow, orange or red", field="level")
        return self


def _warning_query(session: Session, f: WarningFilter, actor: Actor | None) -> Select:
    q = select(WarningRow)
    if actor is not None and actor.role not in (Role.admin, Role.system):
        # visibility on the row's own jurisdiction (a regulator's page reads its subtree's rows only)
        q = q.where(row_scope.visible(session, actor, WarningRow))
    if f.state == "open":
        q = q.where(WarningRow.state.in_([PENDING, FIRING]))
    elif f.state:
        q = q.where(WarningRow.state == f.state)
    if f.service:
        q = q.where(WarningRow.service_id == f.service)
    if f.level:
        q = q.where(WarningRow.level == f.level)
    if f.alert:
        q = q.where(WarningRow.alert == f.alert)
    return q


def warning_page(db: Database, actor: Actor | None, f: WarningFilter = WarningFilter(), *, after: str | None = None,
                 limit: int = pages.DEFAULT_LIMIT) -> pages.Page:
    """A page of warnings newest first (started_at, then id, descending); ``actor`` None: all."""
    f.check()
    with db.reader() as s:
        rows, nxt = pages.keyset(s, _warning_query(s, f, actor), [WarningRow.started_at, WarningRow.id], after=after,
                                 limit=limit, desc=True)
        return pages.Page([view(r) for r in rows], nxt)


def list_warnings(session: Session, *, state: str | None = None, service: str | None = None, limit: int = 200) -> list[WarningRow]:
    """The newest ``limit`` warnings, every scope (the engine's and tests' reader)."""
    q = _warning_query(session, WarningFilter(state=state, service=service).check(), None)
    return list(session.execute(q.order_by(WarningRow.started_at.desc(), WarningRow.id.desc()).limit(limit)).scalars())


@dataclass(frozen=True)
class NotificationFilter:
    status: str | None = None  # pending | sent | failed | silenced | inhibited
    channel: str | None = None
    kind: str | None = None
    warning: str | None = None  # only messages announcing this warning


def notification_page(db: Database, f: NotificationFilter = NotificationFilter(), *, after: str | None = None,
                      limit: int = pages.DEFAULT_LIMIT) -> pages.Page:
    """A page of the delivery log, newest first (created_at, then id, descending)."""
    with db.reader() as s:
        q = select(NotificationRow)
        if f.status:
            q = q.where(NotificationRow.status == f.status)
        if f.channel:
            q = q.where(NotificationRow.channel == f.channel)
        if f.kind:
            q = q.where(NotificationRow.kind == f.kind)
        if f.warning:
            q = q.where(mentions(f.warning))
        rows, nxt = pages.keyset(s, q, [NotificationRow.created_at, NotificationRow.id], after=after, limit=limit, desc=True)
        return pages.Page([notification_view(n) for n in rows if not f.warning or f.warning in (n.warning_ids or [])], nxt)


def mentions(warning_id: str) -> Any:
    """Notifications whose ``warning_ids`` (a JSON list) may name ``warning_id``: a text match in
    the database (the JSON's text on both SQLite and PostgreSQL), confirmed on the few rows it
    returns, instead of reading the whole delivery log."""
    return cast(NotificationRow.warning_ids, Text).contains(f'"{warning_id}"', autoescape=True)


def notifications_of(session: Session, warning_id: str) -> list[dict[str, Any]]:
    q = select(NotificationRow).where(mentions(warning_id)).order_by(NotificationRow.created_at, NotificationRow.id)
    return [notification_view(n) for n in session.execute(q).scalars() if warning_id in (n.warning_ids or [])]


def notification_view(n: NotificationRow) -> dict[str, Any]:
    return {"id": n.id, "group": n.group_key, "warnings": n.warning_ids, "channel": n.channel, "kind": n.kind,
            "level": n.level, "status": n.status, "attempts": n.attempts, "last_error": n.last_error,
            "reason": n.reason, "created_at": n.created_at, "sent_at": n.sent_at}
