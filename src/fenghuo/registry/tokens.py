"""Creating bearer tokens. It lives in the registry because a token is scoped to a registered
provider or jurisdiction (checked here), and its creation is written to the ledger."""

from __future__ import annotations

import secrets

from fenghuo.ledger import store as ledger
from fenghuo.platform.auth import Token, token_hash
from fenghuo.platform.clock import iso
from fenghuo.platform.db import Database
from fenghuo.platform.errors import Invalid
from fenghuo.platform.roles import Actor, Role
from fenghuo.registry.models import Jurisdiction, Provider


def create_token(db: Database, by: Actor, name: str, role: Role, provider_id: str | None = None,
                 jurisdiction_id: str | None = None) -> str:
    """Create a token and return it; only its hash is stored, so it is shown once."""
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
        s.add(Token(token_hash=token_hash(token), name=name, role=role.value, provider_id=provider_id,
                    jurisdiction_id=jurisdiction_id, created_at=iso(db.clock.now())))
        ledger.append(s, db.clock, "token.created", f"token:{name}", by.label,
                      {"name": name, "role": role.value, "provider": provider_id, "jurisdiction": jurisdiction_id,
                       "token_sha256_prefix": token_hash(token)[:12]})
    return token
