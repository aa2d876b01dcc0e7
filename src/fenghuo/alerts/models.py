"""Alerting tables: warnings, silences and the notification outbox (which is also the delivery
log). Warning state lives here so that a restarted process fires nothing twice and forgets
nothing. Times are canonical ISO 8601 UTC text (``platform.clock.iso``), as in every other
domain: fixed width, so comparing the text compares the times, in SQL too."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from fenghuo.control.row_scope import jurisdiction_column
from fenghuo.platform.db import Base


class WarningRow(Base):
    __tablename__ = "alert_warnings"
    # keyset pages in the listing's order (issue 19, 0018_fleet_lists)
    __table_args__ = (Index("ix_alert_warnings_started_id", "started_at", "id"),
                      Index("ix_alert_warnings_service_started", "service_id", "started_at", "id"),
                      Index("ix_alert_warnings_state_started", "state", "started_at", "id"),
                      # a regulator's page: its subtree's nodes, each in time order (0020_listing_paths)
                      Index("ix_alert_warnings_jurisdiction_started", "jurisdiction_id", "started_at", "id"))

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(32), index=True)
    # equals fingerprint while pending or firing, NULL once resolved: the unique index makes
    # "one open warning per fingerprint" a fact of the database, not of our code
    active: Mapped[str | None] = mapped_column(String(32), unique=True, nullable=True)
    alert: Mapped[str] = mapped_column(String(64))
    service_id: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    level: Mapped[str] = mapped_column(String(8))
    rule: Mapped[str] = mapped_column(String(64))
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    description: Mapped[str] = mapped_column(Text, default="")
    started_at: Mapped[str] = mapped_column(String(32))
    fired_at: Mapped[str | None] = mapped_column(String(32), nullable=True)
    resolved_at: Mapped[str | None] = mapped_column(String(32), nullable=True)
    clearing_since: Mapped[str | None] = mapped_column(String(32), nullable=True)
    rules: Mapped[dict[str, Any]] = mapped_column(JSON)  # rule name -> holding since (ISO text)
    flaps: Mapped[int] = mapped_column(Integer, default=0)
    labels: Mapped[dict[str, Any]] = mapped_column(JSON)
    ack_owner: Mapped[str | None] = mapped_column(String(256), nullable=True)
    ack_by: Mapped[str | None] = mapped_column(String(256), nullable=True)
    ack_at: Mapped[str | None] = mapped_column(String(32), nullable=True)
    ack_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    updated_at: Mapped[str] = mapped_column(String(32))
    jurisdiction_id: Mapped[str | None] = jurisdiction_column()  # the service's (control.row_scope)


class SilenceRow(Base):
    __tablename__ = "alert_silences"
    # keyset pages in the listing's order (issue 19, 0018_fleet_lists)
    __table_args__ = (Index("ix_alert_silences_created_id", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    matchers: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    starts_at: Mapped[str] = mapped_column(String(32))
    ends_at: Mapped[str | None] = mapped_column(String(32), nullable=True)  # None with until_resolved
    until_resolved: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[str] = mapped_column(String(32))
    ended_at: Mapped[str | None] = mapped_column(String(32), nullable=True)
    ended_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The scope a silence belongs to (issue 14): an operator's provider, or a regulator's
    # jurisdiction path; it matches only services inside it. Both None: the deployment's.
    scope_provider: Mapped[str | None] = mapped_column(String(64), nullable=True)
    scope_path: Mapped[str | None] = mapped_column(String(1000), nullable=True)


class NotificationRow(Base):
    """One message to one channel. The id is derived from what it announces, so the same
    announcement can never be queued twice (across restarts too)."""

    __tablename__ = "alert_notifications"
    # keyset pages in the listing's order (issue 19, 0018_fleet_lists)
    __table_args__ = (Index("ix_alert_notifications_created_id", "created_at", "id"),
                      Index("ix_alert_notifications_status_created", "status", "created_at", "id"))

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    group_key: Mapped[str] = mapped_column(String(200), index=True)
    warning_ids: Mapped[list[str]] = mapped_column(JSON)
    channel: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    level: Mapped[str] = mapped_column(String(8))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))  # pending | sent | failed | silenced | inhibited
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[str] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[str] = mapped_column(String(32))
    sent_at: Mapped[str | None] = mapped_column(String(32), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)  # why suppressed
