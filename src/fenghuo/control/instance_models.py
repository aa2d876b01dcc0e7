"""The guard instances table: which instance enforces which switch version of its service.

One row per guard instance (its id is chosen by the guard and stays the same across
reconnects). Rows are written behind (see ``control.instances``) because every guard sends a
heartbeat every few seconds and an acknowledgement on every change; the database only needs
the latest word from each instance.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from fenghuo.control.row_scope import jurisdiction_column
from fenghuo.platform.db import Base


class GuardInstance(Base):
    __tablename__ = "guard_instances"
    # keyset pages in the listing's order (issue 19, 0018_fleet_lists)
    # a regulator's page: its subtree's nodes, each in id order (0020_listing_paths)
    __table_args__ = (Index("ix_guard_instances_service_id_id", "service_id", "id"),
                      Index("ix_guard_instances_jurisdiction_id_id", "jurisdiction_id", "id"))

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    service_id: Mapped[str] = mapped_column(ForeignKey("services.id"))
    state: Mapped[str] = mapped_column(String(16))  # the state the instance enforces
    version: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    enforced_since: Mapped[str] = mapped_column(String(32))  # when the instance began enforcing this version
    last_seen: Mapped[str] = mapped_column(String(32))  # last acknowledgement or heartbeat (server time)
    failsafe: Mapped[bool] = mapped_column(Boolean, default=False)  # acting on its fail-safe, not a live state
    started_at: Mapped[str | None] = mapped_column(String(32), nullable=True)
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # host, pid, kind (sdk|gateway), version
    jurisdiction_id: Mapped[str | None] = jurisdiction_column()  # the service's (control.row_scope)
