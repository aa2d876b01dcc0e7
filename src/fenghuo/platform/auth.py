"""Bearer tokens: stored hashed, and turned back into the acting person on every request.
Creating a token (which checks providers and jurisdictions and writes the ledger) is
``registry.tokens.create_token``; the roles themselves are ``platform.roles``."""

from __future__ import annotations

import hashlib

from sqlalchemy import Boolean, Index, String, select
from sqlalchemy.orm import Mapped, mapped_column

from fenghuo.platform.clock import iso
from fenghuo.platform.db import Base, Database
from fenghuo.platform.errors import Unauthorized
from fenghuo.platform.roles import Actor, Role


class Token(Base):
    __tablename__ = "tokens"
    # keyset pages in the listing's order (issue 19, 0018_fleet_lists)
    __table_args__ = (Index("ix_tokens_created_hash", "created_at", "token_hash"),)

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    provider_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    jurisdiction_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[str] = mapped_column(String(32))
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    expires_at: Mapped[str | None] = mapped_column(String(32), nullable=True)  # ISO UTC; None: never
    revoked_at: Mapped[str | None] = mapped_column(String(32), nullable=True)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def authenticate(db: Database, token: str | None) -> Actor:
    if not token:
        raise Unauthorized("缺少令牌（Authorization: Bearer …）", "missing bearer token (Authorization: Bearer …)")
    # A Core query on a plain connection: this runs on every request, and the ORM session
    # around the same one-row lookup measured several times its cost on the ingest path.
    q = select(Token.name, Token.role, Token.provider_id, Token.jurisdiction_id, Token.revoked,
               Token.expires_at).where(Token.token_hash == token_hash(token))
    with db.read_engine.connect() as conn:
        row = conn.execute(q).first()
    if row is None or row.revoked:
        raise Unauthorized("令牌无效或已吊销", "invalid or revoked token")
    if row.expires_at is not None and row.expires_at <= iso(db.clock.now()):  # ISO UTC text compares as time
        raise Unauthorized("令牌已过期", "token expired")
    return Actor(name=row.name, role=Role(row.role), provider_id=row.provider_id, jurisdiction_id=row.jurisdiction_id)
