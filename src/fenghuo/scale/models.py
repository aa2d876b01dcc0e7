"""Scale-out tables: the leader lease and the counting cursor.

Both are one row per name. They live in PostgreSQL beside the state they protect, so the
leader's fencing check and the write it guards happen in one transaction (docs/scale.md).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from fenghuo.platform.db import Base

_BIG = BigInteger().with_variant(Integer, "sqlite")


class Lease(Base):
    """Who leads ``name`` until ``expires_at`` (UNIX seconds, database time). ``epoch`` grows by
    one each time the lease changes hands: a fencing token a stale leader cannot forge."""

    __tablename__ = "scale_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    epoch: Mapped[int] = mapped_column(_BIG)
    expires_at: Mapped[float] = mapped_column(Float)


class Cursor(Base):
    """The last JetStream stream sequence counted by consumer ``name`` (events up to and
    including ``seq`` are counted; nothing after it is)."""

    __tablename__ = "scale_cursors"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(_BIG)
    epoch: Mapped[int] = mapped_column(_BIG)  # the lease epoch that wrote it
    updated_at: Mapped[float] = mapped_column(Float)
