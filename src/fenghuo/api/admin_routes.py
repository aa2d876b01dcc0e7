"""Deployment routes: health and tokens."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict

from fenghuo import __version__
from fenghuo.api.views import Health, NewToken
from fenghuo.ledger import store
from fenghuo.platform.db import Database
from fenghuo.platform.errors import Forbidden
from fenghuo.platform.roles import Actor, Role
from fenghuo.platform.views import CONTRACT
from fenghuo.platform.web import current_actor, get_db
from fenghuo.registry.tokens import create_token

router = APIRouter(prefix="/api/v1", tags=["deployment"])


@router.get("/health", response_model=Health, **CONTRACT)
def health(db: Database = Depends(get_db)) -> dict[str, Any]:
    with db.reader() as s:
        seq, _ = store.head(s)
    return {"status": "ok", "version": __version__, "database": db.engine.dialect.name, "ledger_head": seq}


class TokenBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    role: Role
    provider: str | None = None
    jurisdiction: str | None = None


@router.post("/tokens", response_model=NewToken, **CONTRACT)
def new_token(body: TokenBody, actor: Actor = Depends(current_actor), db: Database = Depends(get_db)) -> dict[str, Any]:
    if actor.role is not Role.admin:
        raise Forbidden("只有管理员可以创建令牌", "only an admin may create tokens")
    token = create_token(db, actor, body.name, body.role, body.provider, body.jurisdiction)
    return {"token": token, "name": body.name, "role": body.role.value}
