"""Per-user measures (CN-PO-09): an operator or regulator warns, restricts or suspends one end
user of a service. One row per measure applied; a lift (or a newer measure for the same user)
closes it. The user id is the one the guard sees (the OpenAI ``user`` field or the
``x-fenghuo-user`` header), stored as given: it is the provider's own pseudonymous id."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from fenghuo.platform.db import Base


class UserMeasure(Base):
    __tablename__ = "user_measures"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    service_id: Mapped[str] = mapped_column(ForeignKey("services.id"), index=True)
    user_id: Mapped[str] = mapped_column(String(256), index=True)
    measure: Mapped[str] = mapped_column(String(16))  # warn | restrict | suspend
    rate: Mapped[int | None] = mapped_column(Integer, nullable=True)  # restrict: requests per minute
    until: Mapped[str | None] = mapped_column(String(32), nullable=True)  # expiry (ISO, UTC); None: until lifted
    reason: Mapped[str] = mapped_column(Text)
    applied_by: Mapped[str] = mapped_column(String(256))
    applied_role: Mapped[str] = mapped_column(String(16))  # a regulator's measure is lifted only by a regulator
    applied_at: Mapped[str] = mapped_column(String(32))
    lifted_by: Mapped[str | None] = mapped_column(String(256), nullable=True)
    lifted_at: Mapped[str | None] = mapped_column(String(32), nullable=True)
    lift_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
