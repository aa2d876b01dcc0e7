"""Deployment routes: health and tokens."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import ConfigDict, Field

from fenghuo import __version__
from fenghuo.api.views import Health, NewToken, RotatedToken, TokenView
from fenghuo.ledger import store
from fenghuo.platform import pages
from fenghuo.platform.db import Database
from fenghuo.platform.errors import Forbidden
from fenghuo.platform.inputs import Body
from fenghuo.platform.roles import Actor, Role
from fenghuo.platform.views import CONTRACT
from fenghuo.platform.web import current_actor, get_db
from fenghuo.registry import tokens
from fenghuo.registry.tokens import create_token

router = APIRouter(prefix="/api/v1", tags=["deployment"])


@router.get("/health", response_model=Health, **CONTRACT)
def health(db: Database = Depends(get_db)) -> dict[str, Any]:
    with db.reader() as s:
        seq, _ = store.head(s)
    return {"status": "ok", "version": __version__, "database": db.engine.dialect.name, "ledger_head": seq}


class TokenBody(Body):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=100)  # "token:<name>" is the ledger subject (128), the actor label 256
    role: Role
    provider: str | None = None
    jurisdiction: str | None = None
    expires_in: str | None = None  # e.g. "30d"; none: the token does not expire


class RevokeBody(Body):
    model_config = ConfigDict(extra="forbid")
    reason: str = ""


def _admin(actor: Actor) -> None:
    if actor.role is not Role.admin:
        raise Forbidden("只有管理员可以管理令牌", "only an admin may manage tokens")


@router.post("/tokens", response_model=NewToken, **CONTRACT)
def new_token(body: TokenBody, actor: Actor = Depends(current_actor), db: Database = Depends(get_db)) -> dict[str, Any]:
    _admin(actor)
    token = create_token(db, actor, body.name, body.role, body.provider, body.jurisdiction, body.expires_in)
    made = tokens.get(db, tokens.token_id(tokens.token_hash(token)))
    return {"token": token, "name": body.name, "role": body.role.value, "id": made["id"], "expires_at": made["expires_at"]}


@router.get("/tokens", response_model=list[TokenView], **CONTRACT)
def list_tokens(request: Request, response: Response, role: str | None = None, status: str | None = None,
                provider: str | None = None, jurisdiction: str | None = None, name: str | None = None,
                after: str | None = pages.AFTER, limit: int = pages.LIMIT, actor: Actor = Depends(current_actor),
                db: Database = Depends(get_db)) -> list[dict[str, Any]]:
    """A page of tokens, oldest first (``X-Next-Cursor``: the next page's ``after``)."""
    _admin(actor)
    f = tokens.TokenFilter(role=role, status=status, provider=provider, jurisdiction=jurisdiction, name=name)
    page = tokens.token_page(db, f, after=after, limit=limit)
    pages.link_headers(response, request, page)
    return page.items


@router.post("/tokens/{token_id}/revoke", response_model=TokenView, **CONTRACT)
def revoke_token(token_id: str, body: RevokeBody | None = None, actor: Actor = Depends(current_actor),
                 db: Database = Depends(get_db)) -> dict[str, Any]:
    _admin(actor)
    return tokens.revoke(db, actor, token_id, body.reason if body else "")


@router.post("/tokens/{token_id}/rotate", response_model=RotatedToken, **CONTRACT)
def rotate_token(token_id: str, actor: Actor = Depends(current_actor), db: Database = Depends(get_db)) -> dict[str, Any]:
    _admin(actor)
    return tokens.rotate(db, actor, token_id)
