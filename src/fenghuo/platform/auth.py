"""Bearer tokens: stored hashed, and turned back into the acting person on every request.
Creating a token (which checks providers and jurisdictions and writes the ledger) is
``registry.tokens.create_token``; the roles themselves are ``platform.roles``.

Valid tokens are remembered in memory for at most ``CACHE_SECONDS`` (issue 19): the row lookup
was a fixed cost of every request, a large share of a small event batch's CPU. What keeps the
cache honest:

- a token's expiry is compared with the clock on every request, cached or not;
- a change to a token row written through the ORM in this process (revoke, rotate) empties
  every cache when it is flushed and again when it is committed, and a lookup that raced with
  the change is not stored (a generation number), so in-process revocation takes effect on the
  very next request;
- a change made by another process (the CLI on the same database, another replica) is seen
  after ``CACHE_SECONDS`` at most (environment ``FENGHUO_TOKEN_CACHE_SECONDS``; 0 turns the
  cache off);
- unknown, revoked and expired tokens are never cached: every failure reads the database.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
import weakref

from sqlalchemy import Boolean, Index, String, event, select
from sqlalchemy.orm import Mapped, Session, mapped_column, object_session

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


CACHE_SECONDS = float(os.environ.get("FENGHUO_TOKEN_CACHE_SECONDS", "1"))
_CACHE_MAX = 10_000  # entries per database; only valid tokens are stored, so this is rarely reached

# token hash -> (actor, expires_at ISO text or None, monotonic time it was read), per Database
_caches: weakref.WeakKeyDictionary[Database, dict[str, tuple[Actor, str | None, float]]] = weakref.WeakKeyDictionary()
_lock = threading.Lock()
_generation = 0  # bumped by every token change; a lookup that overlapped one is not stored


def forget_tokens() -> None:
    """Empty every token cache (a token row changed). Safe to call at any time."""
    global _generation
    with _lock:
        _generation += 1
        for cache in list(_caches.values()):
            cache.clear()


def _changed(_mapper, _connection, target: Token) -> None:
    forget_tokens()
    # Mark the session so that its commit empties the caches once more: a lookup between the
    # flush and the commit still read the old row, and must not outlive the commit. (A mapper
    # event, not a look through every flush's dirty objects: bulk registrations flush often.)
    session = object_session(target)
    if session is not None:
        session.info["fenghuo_tokens_changed"] = True


event.listen(Token, "after_update", _changed)
event.listen(Token, "after_delete", _changed)


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    if session.info.pop("fenghuo_tokens_changed", False):
        forget_tokens()


def _expired(db: Database, expires_at: str | None) -> bool:
    return expires_at is not None and expires_at <= iso(db.clock.now())  # ISO UTC text compares as time


def _cached(db: Database, digest: str) -> Actor | None:
    cache = _caches.get(db)
    hit = cache.get(digest) if cache is not None else None
    if hit is not None and time.monotonic() - hit[2] < CACHE_SECONDS and not _expired(db, hit[1]):
        return hit[0]
    return None


def cached_actor(db: Database, token: str) -> Actor | None:
    """The acting person for ``token`` if the cache holds it as valid now, else None; reads
    nothing (what the tests look at to see what the cache holds; :func:`authenticate` is the
    one callers use)."""
    return _cached(db, token_hash(token)) if token else None


def authenticate(db: Database, token: str | None) -> Actor:
    if not token:
        raise Unauthorized("缺少令牌（Authorization: Bearer …）", "missing bearer token (Authorization: Bearer …)")
    digest = token_hash(token)
    actor = _cached(db, digest)
    if actor is not None:
        return actor
    generation = _generation
    # A Core query on a plain connection: the ORM session around the same one-row lookup
    # measured several times its cost on the ingest path.
    q = select(Token.name, Token.role, Token.provider_id, Token.jurisdiction_id, Token.revoked,
               Token.expires_at).where(Token.token_hash == digest)
    with db.read_engine.connect() as conn:
        row = conn.execute(q).first()
    if row is None or row.revoked:
        raise Unauthorized("令牌无效或已吊销", "invalid or revoked token")
    if _expired(db, row.expires_at):
        raise Unauthorized("令牌已过期", "token expired")
    actor = Actor(name=row.name, role=Role(row.role), provider_id=row.provider_id, jurisdiction_id=row.jurisdiction_id)
    if CACHE_SECONDS > 0:
        with _lock:
            if generation == _generation:
                cache = _caches.setdefault(db, {})
                if len(cache) >= _CACHE_MAX:
                    cache.clear()
                cache[digest] = (actor, row.expires_at, time.monotonic())
    return actor
