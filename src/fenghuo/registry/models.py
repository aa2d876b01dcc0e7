"""Registry tables: jurisdictions (a tree), providers and AI services."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, event
from sqlalchemy.orm import Mapped, mapped_column

from fenghuo.platform.db import Base


class Jurisdiction(Base):
    """A node of the supervision tree (national → provincial → city).

    ``path`` is the chain of ids from the root joined by "/" and ending in "/", so "everything
    beneath node X" is one prefix query, however deep the tree.
    """

    __tablename__ = "jurisdictions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(32))
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("jurisdictions.id"), nullable=True)
    path: Mapped[str] = mapped_column(String(1000), index=True)


class Provider(Base):
    __tablename__ = "providers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    jurisdiction_id: Mapped[str] = mapped_column(ForeignKey("jurisdictions.id"))
    # cii | central | other: picks the CN reporting deadline (CN-IR-03/04/05), issue 18
    operator_type: Mapped[str] = mapped_column(String(16), default="other", server_default="other")
    # the complaint-handling time limit it publishes (CN-TC-17), e.g. "15d"; None: none published
    complaint_limit: Mapped[str | None] = mapped_column(String(16), nullable=True)
    filing_number: Mapped[str | None] = mapped_column(String(100), nullable=True)  # 备案号 (CN-PO-12)


class Service(Base):
    __tablename__ = "services"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    provider_id: Mapped[str] = mapped_column(ForeignKey("providers.id"), index=True)
    # indexed by ix_services_jurisdiction_id_id below (its own index dropped in 0023)
    jurisdiction_id: Mapped[str] = mapped_column(ForeignKey("jurisdictions.id"))
    jurisdiction_path: Mapped[str] = mapped_column(String(1000), index=True)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON)
    grading_table: Mapped[str] = mapped_column(String(64))
    grading_version: Mapped[str] = mapped_column(String(32))
    grade: Mapped[str] = mapped_column(String(32))
    grade_reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    grade_defaults: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[str] = mapped_column(String(32))
    # attributes["sector"] as a column, so listings filter and page by it in SQL (issue 19);
    # kept equal to the attribute by the listener below, whoever writes the row
    sector: Mapped[str | None] = mapped_column(String(32), nullable=True)

    # keyset pages (WHERE filter AND id > :after ORDER BY id LIMIT n) walk one of these
    __table_args__ = (Index("ix_services_sector_id", "sector", "id"), Index("ix_services_grade_id", "grade", "id"),
                      Index("ix_services_jurisdiction_id_id", "jurisdiction_id", "id"))  # a regulator's page (0020)


@event.listens_for(Service, "before_insert")
@event.listens_for(Service, "before_update")
def _sector_column(_mapper, _conn, target: Service) -> None:
    target.sector = (target.attributes or {}).get("sector")


class ServiceChange(Base):
    """A re-registration that lowers a service's grade or moves it (issue 14), kept until a
    regulator of the service's current jurisdiction approves or refuses it. ``base_digest`` names
    the registration it was asked against (a hash of the record): a change approved after the
    service changed again is refused rather than applied over the newer record."""

    __tablename__ = "service_changes"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    service_id: Mapped[str] = mapped_column(String(64), index=True)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    base_digest: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # pending | approved | refused
    requested_by: Mapped[str] = mapped_column(String(256))
    requested_at: Mapped[str] = mapped_column(String(32))
    decided_by: Mapped[str | None] = mapped_column(String(256), nullable=True)
    decided_at: Mapped[str | None] = mapped_column(String(32), nullable=True)
