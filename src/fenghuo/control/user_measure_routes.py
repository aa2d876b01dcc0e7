"""HTTP routes of per-user measures (``control.user_measures``, issue 18 item 9, CN-PO-09)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import ConfigDict

from fenghuo.control import user_measures
from fenghuo.control.views import UserMeasureList, UserMeasureView
from fenghuo.platform.db import Database
from fenghuo.platform.inputs import Body
from fenghuo.platform.roles import Actor
from fenghuo.platform.views import CONTRACT
from fenghuo.platform.web import current_actor, get_db

router = APIRouter(prefix="/api/v1", tags=["switch"])


class ApplyBody(Body):
    model_config = ConfigDict(extra="forbid")
    user: str
    measure: str
    reason: str = ""
    rate: int | None = None  # restrict: requests per minute
    until: str | None = None  # a duration from now ("2h") or an ISO time


class LiftBody(Body):
    model_config = ConfigDict(extra="forbid")
    user: str
    reason: str = ""


@router.get("/services/{service_id}/user-measures", response_model=UserMeasureList, **CONTRACT)
def list_measures(service_id: str, all: bool = False,  # noqa: A002 - the query parameter is ?all=
                  actor: Actor = Depends(current_actor), db: Database = Depends(get_db)) -> dict[str, Any]:
    """Measures in force on the service's end users (``?all=true``: lifted and expired ones too)."""
    return user_measures.listing(db, actor, service_id, include_ended=all)


@router.post("/services/{service_id}/user-measures", response_model=UserMeasureView, **CONTRACT)
def apply_measure(service_id: str, body: ApplyBody, actor: Actor = Depends(current_actor),
                  db: Database = Depends(get_db)) -> dict[str, Any]:
    """Warn, restrict or suspend one end user (an operator of the provider, a regulator of the jurisdiction)."""
    return user_measures.apply(db, actor, service_id, body.user, body.measure, body.reason, rate=body.rate, until=body.until)


@router.post("/services/{service_id}/user-measures/lift", response_model=UserMeasureView, **CONTRACT)
def lift_measure(service_id: str, body: LiftBody, actor: Actor = Depends(current_actor),
                 db: Database = Depends(get_db)) -> dict[str, Any]:
    """Lift the measure in force on one end user."""
    return user_measures.lift(db, actor, service_id, body.user, body.reason)
