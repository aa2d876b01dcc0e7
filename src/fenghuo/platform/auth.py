"""Who is acting: roles, bearer tokens (stored hashed) and the actor every change is signed by.

Roles (what each may do is decided by the domains, e.g. ``control.transitions``):
- ``operator``  — acts on its own provider's services only;
- ``regulator`` — acts on services under its jurisdiction node, may order a pause, may not edit
  a provider's registration;
- ``auditor``   — reads what its scope allows, changes nothing;
- ``system``    — automated plans (the actor of plan actions);
- ``admin``     — the deployment's owner: providers, jurisdictions, tokens. The local CLI acts
  as admin, because whoever holds the database file holds everything anyway.
"""

from __future__ import annotations

import getpass
import hashlib
import secrets
from dataclasses import dataclass
from enum import Enum

from sqlalchemy import Boolean, String, select
from sqlalchemy.orm import Mapped, mapped_column

from fenghuo.ledger import store as ledger
from fenghuo.platform.clock import iso
from fenghuo.platform.db import Base, Database
from fenghuo.platform.errors import Invalid, Unauthorized


class Role(str, Enum):
    operator = "operator"
    regulator = "regulator"
    auditor = "auditor"
    system = "system"
    admin = "admin"


@dataclass(frozen=True)
class Actor:
    name: str
    role: Role
    provider_id: str | None = None
    jurisdiction_id: str | None = None

    @property
    def label(self) -> str:
        scope = self.provider_id or self.jurisdiction_id
        return f"{self.role.value}:{self.name}" + (f"@{scope}" if scope else "")


def local_actor() -> Actor:
    try:
        user = getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name in some containers
        user = "local"
    return Actor(name=f"local-{user}", role=Role.admin)


class Token(Base):
    __tablename__ = "tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    provider_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    jurisdiction_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[str] = mapped_column(String(32))
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(db: Database, by: Actor, name: str, role: Role, provider_id: str | None = None,
                 jurisdiction_id: str | None = None) -> str:
    """Create a token and return it; only its hash is stored, so it is shown once."""
    from fenghuo.registry.models import Jurisdiction, Provider

    if not name.strip():
        raise Invalid("令牌名称不能为空", "token name must not be empty", field="name")
    if role is Role.operator and not provider_id:
        raise Invalid("operator 令牌必须指定 --provider", "an operator token needs --provider", field="provider")
    if role is Role.regulator and not jurisdiction_id:
        raise Invalid("regulator 令牌必须指定 --jurisdiction", "a regulator token needs --jurisdiction", field="jurisdiction")
    token = "fh_" + secrets.token_urlsafe(32)
    with db.transaction() as s:
        if provider_id and s.get(Provider, provider_id) is None:
            raise Invalid(f"未知服务提供者 {provider_id}", f"unknown provider {provider_id}", field="provider")
        if jurisdiction_id and s.get(Jurisdiction, jurisdiction_id) is None:
            raise Invalid(f"未知辖区 {jurisdiction_id}", f"unknown jurisdiction {jurisdiction_id}", field="jurisdiction")
        s.add(Token(token_hash=_hash(token), name=name, role=role.value, provider_id=provider_id,
                    jurisdiction_id=jurisdiction_id, created_at=iso(db.clock.now())))
        ledger.append(s, db.clock, "token.created", f"token:{name}", by.label,
                      {"name": name, "role": role.value, "provider": provider_id, "jurisdiction": jurisdiction_id,
                       "token_sha256_prefix": _hash(token)[:12]})
    return token


def authenticate(db: Database, token: str | None) -> Actor:
    if not token:
        raise Unauthorized("缺少令牌（Authorization: Bearer …）", "missing bearer token (Authorization: Bearer …)")
    # A Core query on a plain connection: this runs on every request, and the ORM session
    # around the same one-row lookup measured several times its cost on the ingest path.
    q = select(Token.name, Token.role, Token.provider_id, Token.jurisdiction_id, Token.revoked).where(Token.token_hash == _hash(token))
    with db.read_engine.connect() as conn:
        row = conn.execute(q).first()
    if row is None or row.revoked:
        raise Unauthorized("令牌无效或已吊销", "invalid or revoked token")
    return Actor(name=row.name, role=Role(row.role), provider_id=row.provider_id, jurisdiction_id=row.jurisdiction_id)
