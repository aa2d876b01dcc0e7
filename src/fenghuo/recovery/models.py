"""Recovery tables: one procedure per road back from a pause, its remediation items and its
verifications. ``round`` counts attempts: a canary rolled back to paused starts a new round,
and the gate then asks for new remediation and a new passing verification."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from fenghuo.control.model_versions import ModelVersion  # noqa: F401 - defined in control: guards read it
from fenghuo.platform.db import Base


class Procedure(Base):
    __tablename__ = "recovery_procedures"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    service_id: Mapped[str] = mapped_column(String(64), index=True)
    incident_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    status: Mapped[str] = mapped_column(String(16), index=True)  # open | completed
    round: Mapped[int] = mapped_column(Integer, default=1)
    ramp: Mapped[list[int]] = mapped_column(JSON)  # canary percents, e.g. [5, 25, 100]
    hold_seconds: Mapped[int] = mapped_column(Integer)
    rollback_level: Mapped[str] = mapped_column(String(8))  # a warning at or above this rolls back
    opened_by: Mapped[str] = mapped_column(String(256))
    opened_at: Mapped[str] = mapped_column(String(32))
    ramp_completed_round: Mapped[int | None] = mapped_column(Integer, nullable=True)
    ramp_completed_at: Mapped[str | None] = mapped_column(String(32), nullable=True)
    completed_at: Mapped[str | None] = mapped_column(String(32), nullable=True)


class Remediation(Base):
    __tablename__ = "recovery_remediations"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    procedure_id: Mapped[str] = mapped_column(ForeignKey("recovery_procedures.id"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # model | rules | data | prompts | config | other
    description: Mapped[str] = mapped_column(Text)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)
    by: Mapped[str] = mapped_column(String(256))
    at: Mapped[str] = mapped_column(String(32))


class Verification(Base):
    __tablename__ = "recovery_verifications"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    procedure_id: Mapped[str] = mapped_column(ForeignKey("recovery_procedures.id"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(String(16))  # evaluation | checklist
    ref: Mapped[str] = mapped_column(String(200))  # evaluation run id, or the checklist's sha256
    passed: Mapped[bool] = mapped_column(Boolean)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
    by: Mapped[str] = mapped_column(String(256))
    at: Mapped[str] = mapped_column(String(32))
    # A checklist counts only once a second person has countersigned it (issue 14).
    countersigned_by: Mapped[str | None] = mapped_column(String(256), nullable=True)
    countersigned_at: Mapped[str | None] = mapped_column(String(32), nullable=True)
