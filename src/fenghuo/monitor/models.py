"""Monitoring tables: the event ids already counted, so counting stays exactly-once across a
restart within the dedup window (indicators themselves live in memory)."""

from __future__ import annotations

from sqlalchemy import Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from fenghuo.platform.db import Base


class SeenBatch(Base):
    """The ids of one accepted batch, one row per batch (one insert per 1,000 events instead of
    1,000 inserts), dropped once ``expires_at`` (UNIX seconds) has passed."""

    __tablename__ = "monitor_seen"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    expires_at: Mapped[float] = mapped_column(Float, index=True)
    ids: Mapped[str] = mapped_column(Text)  # JSON array of event ids, or on SQLite packed UUIDs (seenrows)


class TelemetrySummary(Base):
    """One service's counts for one hour, kept ≥ the retention period (issue 18 item 8; CN-PO-20,
    CN-LB-18, EU-06): the durable record of what the in-memory windows counted. ``counts`` holds
    the window counters (calls, refusals, in/out violations, out_blocked, complaints, …) as JSON;
    ``latency`` the mergeable log histogram (offset, zeros, counts) the quantiles come from."""

    __tablename__ = "telemetry_summaries"

    service: Mapped[str] = mapped_column(String(64), primary_key=True)
    period_start: Mapped[float] = mapped_column(Float, primary_key=True, index=True)  # UNIX seconds, start of the hour
    period_seconds: Mapped[int] = mapped_column(Integer, default=3600)
    counts: Mapped[str] = mapped_column(Text)
    in_categories: Mapped[str] = mapped_column(Text, default="{}")
    out_categories: Mapped[str] = mapped_column(Text, default="{}")
    latency: Mapped[str] = mapped_column(Text, default="{}")
    latency_count: Mapped[int] = mapped_column(Integer, default=0)
    latency_p50: Mapped[float | None] = mapped_column(Float, nullable=True)
    latency_p95: Mapped[float | None] = mapped_column(Float, nullable=True)
    latency_p99: Mapped[float | None] = mapped_column(Float, nullable=True)
    latency_max: Mapped[float | None] = mapped_column(Float, nullable=True)
    updated_at: Mapped[float] = mapped_column(Float)
