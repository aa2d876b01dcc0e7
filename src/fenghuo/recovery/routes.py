"""HTTP routes of recovery: start, remediate, verify, status."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import ConfigDict, Field

from fenghuo.platform.db import Database
from fenghuo.platform.inputs import Body
from fenghuo.platform.roles import Actor
from fenghuo.platform.views import CONTRACT
from fenghuo.platform.web import current_actor, get_db
from fenghuo.recovery import procedure
from fenghuo.recovery.views import RecoveryView

router = APIRouter(prefix="/api/v1", tags=["recovery"])


class StartBody(Body):
    model_config = ConfigDict(extra="forbid")
    ramp: list[int] = Field(default_factory=lambda: list(procedure.DEFAULT_RAMP))
    hold_seconds: int = procedure.DEFAULT_HOLD
    rollback_level: str = procedure.DEFAULT_ROLLBACK


class RemediationBody(Body):
    model_config = ConfigDict(extra="forbid")
    kind: str
    description: str
    evidence: dict[str, Any]


class VerificationBody(Body):
    model_config = ConfigDict(extra="forbid")
    run: str | None = None
    checklist: dict[str, Any] | None = None


@router.get("/services/{service_id}/recovery", response_model=RecoveryView, **CONTRACT)
def status(service_id: str, actor: Actor = Depends(current_actor), db: Database = Depends(get_db)) -> dict[str, Any]:
    return procedure.status(db, actor, service_id)


@router.post("/services/{service_id}/recovery", response_model=RecoveryView, **CONTRACT)
def start(service_id: str, body: StartBody, actor: Actor = Depends(current_actor), db: Database = Depends(get_db)) -> dict[str, Any]:
    return procedure.start(db, actor, service_id, ramp=tuple(body.ramp), hold_seconds=body.hold_seconds, rollback_level=body.rollback_level)


@router.post("/services/{service_id}/recovery/remediations", response_model=RecoveryView, **CONTRACT)
def remediate(service_id: str, body: RemediationBody, actor: Actor = Depends(current_actor), db: Database = Depends(get_db)) -> dict[str, Any]:
    return procedure.remediate(db, actor, service_id, body.kind, body.description, body.evidence)


@router.post("/services/{service_id}/recovery/verifications", response_model=RecoveryView, **CONTRACT)
def verify(service_id: str, body: VerificationBody, actor: Actor = Depends(current_actor), db: Database = Depends(get_db)) -> dict[str, Any]:
    return procedure.verify(db, actor, service_id, run_id=body.run, checklist=body.checklist)


@router.post("/services/{service_id}/recovery/verifications/{verification_id}/countersign", response_model=RecoveryView, **CONTRACT)
def countersign(service_id: str, verification_id: str, actor: Actor = Depends(current_actor),
                db: Database = Depends(get_db)) -> dict[str, Any]:
    """A second person countersigns a checklist (a regulator, under a regulator's hold)."""
    return procedure.countersign(db, actor, service_id, verification_id)
