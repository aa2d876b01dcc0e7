"""Bearer tokens: creating, listing, revoking and rotating them. It lives in the registry because
a token is scoped to a registered provider or jurisdiction (checked here); every change is
written to the ledger.

A token's id is the first 12 hex digits of its SHA-256 (what the ledger has always recorded as
``token_sha256_prefix``): listing shows ids, never secrets. An expired token fails on its next
request; a revoked or rotated one at once in this process and within the token cache's lifetime
(``FENGHUO_TOKEN_CACHE_SECONDS``, 1 s by default) in another (``platform.auth.authenticate``).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from fenghuo.ledger import store as ledger
from fenghuo.platform import pages
from fenghuo.platform.auth import Token, token_hash
from fenghuo.platform.clock import iso
from fenghuo.platform.db import Database
from fenghuo.platform.durations import parse_duration
from fenghuo.platform.errors import Conflict, Invalid, NotFound
from fenghuo.platform.roles import Actor, Role
from fenghuo.registry.models import Jurisdiction, Provider

ID_LENGTH = 12
_ID = re.compile(r"^[0-9a-f]{12}$")


def token_id(secret_hash: str) -> str:
    return secret_hash[:ID_LENGTH]


def _expiry(db: Database, expires_in: str | None) -> str | None:
    if not expires_in:
        return None
    try:
        seconds = parse_duration(expires_in)
    except ValueError as exc:
        raise Invalid(f"有效期无效：{exc}", f"invalid expiry: {exc}", field="expires_in") from None
    if seconds <= 0:
        raise Invalid("有效期必须大于 0", "expiry must be longer than 0", field="expires_in")
    return iso(db.clock.now() + timedelta(seconds=seconds))


def create_token(db: Database, by: Actor, name: str, role: Role, provider_id: str | None = None,
                 jurisdiction_id: str | None = None, expires_in: str | None = None) -> str:
    """Create a token and return it; only its hash is stored, so it is shown once."""
    if not name.strip():
        raise Invalid("令牌名称不能为空", "token name must not be empty", field="name")
    if role is Role.operator and not provider_id:
        raise Invalid("operator 令牌必须指定 --provider", "an operator token needs --provider", field="provider")
    if role is Role.regulator and not jurisdiction_id:
        raise Invalid("regulator 令牌必须指定 --jurisdiction", "a regulator token needs --jurisdiction", field="jurisdiction")
    expires_at = _expiry(db, expires_in)
    with db.transaction() as s:
        if provider_id and s.get(Provider, provider_id) is None:
            raise Invalid(f"未知服务提供者 {provider_id}", f"unknown provider {provider_id}", field="provider")
        if jurisdiction_id and s.get(Jurisdiction, jurisdiction_id) is None:
            raise Invalid(f"未知辖区 {jurisdiction_id}", f"unknown jurisdiction {jurisdiction_id}", field="jurisdiction")
        return _add(s, db, by, name, role.value, provider_id, jurisdiction_id, expires_at, "token.created")


def _add(s: Session, db: Database, by: Actor, name: str, role: str, provider_id: str | None, jurisdiction_id: str | None,
         expires_at: str | None, kind: str, extra: dict[str, Any] | None = None) -> str:
    token = "fh_" + secrets.token_urlsafe(32)
    h = token_hash(token)
    s.add(Token(token_hash=h, name=name, role=role, provider_id=provider_id, jurisdiction_id=jurisdiction_id,
                created_at=iso(db.clock.now()), expires_at=expires_at))
    ledger.append(s, db.clock, kind, f"token:{name}", by.label,
                  {"name": name, "role": role, "provider": provider_id, "jurisdiction": jurisdiction_id,
                   "token_sha256_prefix": token_id(h), "expires_at": expires_at, **(extra or {})})
    return token


def view(t: Token, now: str) -> dict[str, Any]:
    status = "revoked" if t.revoked else "expired" if t.expires_at is not None and t.expires_at <= now else "active"
    return {"id": token_id(t.token_hash), "name": t.name, "role": t.role, "provider": t.provider_id,
            "jurisdiction": t.jurisdiction_id, "created_at": t.created_at, "expires_at": t.expires_at,
            "revoked_at": t.revoked_at, "status": status}


STATUSES = ("active", "expired", "revoked")


@dataclass(frozen=True)
class TokenFilter:
    """What a token listing selects on; each is a WHERE clause (issue 19)."""

    role: str | None = None
    status: str | None = None  # active | expired | revoked
    provider: str | None = None
    jurisdiction: str | None = None
    name: str | None = None


def _query(f: TokenFilter, now: str):
    q = select(Token)
    if f.role:
        if f.role not in {r.value for r in Role}:
            raise Invalid(f"未知角色 {f.role}", f"unknown role {f.role}", field="role")
        q = q.where(Token.role == f.role)
    if f.status == "revoked":
        q = q.where(Token.revoked.is_(True))
    elif f.status == "expired":
        q = q.where(Token.revoked.is_(False), Token.expires_at.is_not(None), Token.expires_at <= now)
    elif f.status == "active":
        q = q.where(Token.revoked.is_(False), or_(Token.expires_at.is_(None), Token.expires_at > now))
    elif f.status:
        raise Invalid(f"状态须为 {'/'.join(STATUSES)}", f"status must be one of {', '.join(STATUSES)}", field="status")
    if f.provider:
        q = q.where(Token.provider_id == f.provider)
    if f.jurisdiction:
        q = q.where(Token.jurisdiction_id == f.jurisdiction)
    if f.name:
        q = q.where(Token.name == f.name)
    return q


def token_page(db: Database, f: TokenFilter = TokenFilter(), *, after: str | None = None,
               limit: int = pages.DEFAULT_LIMIT) -> pages.Page:
    """A page of tokens, oldest first (created_at, then hash), filtered in the database."""
    now = iso(db.clock.now())
    with db.reader() as s:
        rows, nxt = pages.keyset(s, _query(f, now), [Token.created_at, Token.token_hash], after=after, limit=limit)
        return pages.Page([view(t, now) for t in rows], nxt)


def list_tokens(db: Database, *, include_revoked: bool = True) -> list[dict[str, Any]]:
    now = iso(db.clock.now())
    with db.reader() as s:
        q = select(Token).order_by(Token.created_at, Token.token_hash)
        if not include_revoked:
            q = q.where(Token.revoked.is_(False))
        return [view(t, now) for t in s.execute(q).scalars()]


def get(db: Database, tid: str) -> dict[str, Any]:
    with db.reader() as s:
        return view(_find(s, tid, lock=False), iso(db.clock.now()))


def _find(s: Session, tid: str, *, lock: bool = True) -> Token:
    tid = (tid or "").strip().lower()
    if not _ID.match(tid):
        raise Invalid(f"令牌 id 是 {ID_LENGTH} 位十六进制（见 fenghuo token list）",
                      f"a token id is {ID_LENGTH} hex digits (see fenghuo token list)", field="id")
    q = select(Token).where(Token.token_hash.startswith(tid))
    rows = s.execute(q.with_for_update() if lock else q).scalars().all()
    if not rows:
        raise NotFound(f"未知令牌 {tid}", f"unknown token {tid}")
    if len(rows) > 1:  # 48 bits: not expected, but never act on the wrong one
        raise Conflict(f"令牌 id {tid} 不唯一", f"token id {tid} is ambiguous", code="ambiguous_token")
    return rows[0]


def revoke(db: Database, by: Actor, tid: str, reason: str = "") -> dict[str, Any]:
    with db.transaction() as s:
        t = _find(s, tid)
        if t.revoked:
            raise Conflict(f"令牌 {tid} 已吊销", f"token {tid} is already revoked", code="already_revoked")
        now = iso(db.clock.now())
        t.revoked, t.revoked_at = True, now
        ledger.append(s, db.clock, "token.revoked", f"token:{t.name}", by.label,
                      {"name": t.name, "token_sha256_prefix": token_id(t.token_hash), "reason": reason})
        return view(t, now)


def rotate(db: Database, by: Actor, tid: str) -> dict[str, Any]:
    """Revoke a token and issue its successor with the same name, role and scope (and, if it
    had one, the same lifetime from now); the new secret is returned once."""
    with db.transaction() as s:
        t = _find(s, tid)
        if t.revoked:
            raise Conflict(f"令牌 {tid} 已吊销，不能轮换", f"token {tid} is revoked and cannot be rotated", code="already_revoked")
        now = db.clock.now()
        expires_at = None
        if t.expires_at is not None:
            lifetime = datetime.fromisoformat(t.expires_at) - datetime.fromisoformat(t.created_at)
            expires_at = iso(now + lifetime)
        t.revoked, t.revoked_at = True, iso(now)
        old = token_id(t.token_hash)
        ledger.append(s, db.clock, "token.revoked", f"token:{t.name}", by.label,
                      {"name": t.name, "token_sha256_prefix": old, "reason": "rotated"})
        secret = _add(s, db, by, t.name, t.role, t.provider_id, t.jurisdiction_id, expires_at, "token.rotated", {"replaces": old})
        return {"token": secret, "id": token_id(token_hash(secret)), "replaces": old, "name": t.name, "role": t.role,
                "expires_at": expires_at}
