"""Switch tables: the current state of each service, every command, every approval."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fenghuo.control.row_scope import jurisdiction_column
from fenghuo.platform.db import Base
from fenghuo.registry.models import Service


class SwitchState(Base):
    __tablename__ = "switch_states"

    service_id: Mapped[str] = mapped_column(ForeignKey("services.id"), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), index=True)  # listings filter by state (0011_fleet)
    version: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    rate: Mapped[int | None] = mapped_column(Integer, nullable=True)  # throttled: requests/second
    percent: Mapped[int | None] = mapped_column(Integer, nullable=True)  # canary: % to the primary
    reason: Mapped[str] = mapped_column(Text)
    changed_by: Mapped[str] = mapped_column(String(256))
    changed_at: Mapped[str] = mapped_column(String(32))
    command_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # A regulator's pause (监管暂停) names the regulator; only a regulator may lift it.
    hold_by: Mapped[str | None] = mapped_column(String(256), nullable=True)
    # The incident the command that set this state is linked to (a response plan's pause, say),
    # so a refusal can name it; set when the link is made, cleared by the next command.
    incident_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # For the flush order only (issue 19): a bulk registration flushes its services and their
    # first states together, and without a relationship the unit of work orders unrelated
    # tables by module name (switch_states first). Never loaded (lazy="raise").
    service: Mapped[Service] = relationship(lazy="raise")


class Command(Base):
    """Every command, applied or waiting for approval. The id comes from the caller, so a
    retried command is recognised and answered with its first result."""

    __tablename__ = "commands"
    # keyset pages in the listing's order (issue 19, 0018_fleet_lists)
    # a regulator's pending commands: its subtree's nodes, each in time order (0020_listing_paths)
    __table_args__ = (Index("ix_commands_status_created", "status", "created_at", "id"),
                      Index("ix_commands_status_jurisdiction_created", "status", "jurisdiction_id", "created_at", "id"))

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    service_id: Mapped[str] = mapped_column(ForeignKey("services.id"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(256))
    status: Mapped[str] = mapped_column(String(24))  # applied | awaiting_approval
    from_state: Mapped[str] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    version: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), nullable=True)
    approvals_needed: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[str] = mapped_column(String(32))
    applied_at: Mapped[str | None] = mapped_column(String(32), nullable=True)
    jurisdiction_id: Mapped[str | None] = jurisdiction_column()  # the service's (control.row_scope)


class Approval(Base):
    __tablename__ = "approvals"
    __table_args__ = (UniqueConstraint("command_id", "approver"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    command_id: Mapped[str] = mapped_column(ForeignKey("commands.id"))
    approver: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    at: Mapped[str] = mapped_column(String(32))
