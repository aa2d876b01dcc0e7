"""HTTP routes of model versions (CN-TC-18): what a deployment reads to know which version may
take traffic, and the same propose / verify as the CLI."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import ConfigDict

from fenghuo.platform.db import Database
from fenghuo.platform.inputs import Body
from fenghuo.platform.roles import Actor
from fenghuo.platform.views import CONTRACT
from fenghuo.platform.web import current_actor, get_db
from fenghuo.recovery import model_updates
from fenghuo.recovery.views import ModelStatus, ModelVersionView

router = APIRouter(prefix="/api/v1", tags=["recovery"])


class ProposeBody(Body):
    model_config = ConfigDict(extra="forbid")
    version: str
    important: bool = False
    note: str = ""


class VerifyBody(Body):
    model_config = ConfigDict(extra="forbid")
    run: str


@router.get("/services/{service_id}/model", response_model=ModelStatus, **CONTRACT)
def model_status(service_id: str, actor: Actor = Depends(current_actor), db: Database = Depends(get_db)) -> dict[str, Any]:
    return model_updates.status(db, actor, service_id)


@router.post("/services/{service_id}/model", response_model=ModelVersionView, **CONTRACT)
def propose(service_id: str, body: ProposeBody, actor: Actor = Depends(current_actor), db: Database = Depends(get_db)) -> dict[str, Any]:
    return model_updates.propose(db, actor, service_id, body.version, important=body.important, note=body.note)


@router.post("/services/{service_id}/model/{version}/verify", response_model=ModelVersionView, **CONTRACT)
def verify(service_id: str, version: str, body: VerifyBody, actor: Actor = Depends(current_actor),
           db: Database = Depends(get_db)) -> dict[str, Any]:
    return model_updates.verify(db, actor, service_id, version, body.run)
