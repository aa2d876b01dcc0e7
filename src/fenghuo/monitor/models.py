"""Monitoring tables: the event ids already counted, so counting stays exactly-once across a
restart within the dedup window (indicators themselves live in memory)."""

from __future__ import annotations

from sqlalchemy import Float, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from fenghuo.platform.db import Base


class SeenBatch(Base):
    """The ids of one accepted batch, one row per batch (one insert per 1,000 events instead of
    1,000 inserts), dropped once ``expires_at`` (UNIX seconds) has passed."""

    __tablename__ = "monitor_seen"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    expires_at: Mapped[float] = mapped_column(Float, index=True)
    ids: Mapped[str] = mapped_column(Text)  # JSON array of event ids
