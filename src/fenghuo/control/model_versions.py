"""Which model version each service may serve (CN-TC-18), as guards read it.

The versions are registered and approved in ``fenghuo.recovery.model_updates`` (an important
update waits for a passing evaluation, the recovery gate's verdict); the table lives here, in the
control layer, because guards follow it the way they follow the switch: the switch stream sends a
``model`` event per named service on connect and whenever the ledger shows a ``model.*`` entry
for it (``control.stream``), and an embedded guard polls :func:`routing` from its database.

A guard sends every call on the primary route to the ``active`` version (the request's ``model``
is rewritten to it); a ``pending`` version takes no traffic at all, and a request naming one while
no version is active is refused (``guard.model_versions``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from fenghuo.platform.db import Base

SUBJECT = "service:"  # model.* ledger entries name their service as service:<id>
CHUNK = 500


class ModelVersion(Base):
    """A model version of a service (CN-TC-18, issue 18). An ordinary update is active at once;
    an important one stays ``pending`` — the previous version stays the one to serve — until a
    passing evaluation under the current profile is attached, as the recovery gate asks."""

    __tablename__ = "recovery_model_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    service_id: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[str] = mapped_column(String(128))
    important: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), index=True)  # pending | active | superseded
    note: Mapped[str] = mapped_column(Text, default="")
    proposed_by: Mapped[str] = mapped_column(String(256))
    proposed_at: Mapped[str] = mapped_column(String(32))
    run_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    evaluation: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    activated_at: Mapped[str | None] = mapped_column(String(32), nullable=True)


def service_of(subject: str) -> str | None:
    """The service a ``model.*`` ledger entry's subject names."""
    return subject[len(SUBJECT):] if subject.startswith(SUBJECT) else None


def routing(s: Session, services: list[str]) -> dict[str, dict[str, Any]]:
    """``{service: {"service", "active", "pending"}}`` for each service named (a service with no
    registered version gets ``active`` None and no pending: its guards pass calls on unchanged)."""
    out = {sid: {"service": sid, "active": None, "pending": []} for sid in services}
    for i in range(0, len(services), CHUNK):
        rows = s.execute(select(ModelVersion.service_id, ModelVersion.version, ModelVersion.status)
                         .where(ModelVersion.service_id.in_(services[i:i + CHUNK]), ModelVersion.status.in_(("active", "pending")))
                         .order_by(ModelVersion.id)).all()
        for sid, version, status in rows:
            if status == "active":
                out[sid]["active"] = version  # the newest active one (there is one; ordered by id anyway)
            else:
                out[sid]["pending"].append(version)
    return out
