"""HTTP routes of per-user measures (``control.user_measures``, issue 18 item 9, CN-PO-09)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import ConfigDict

from fenghuo.control import user_measures
from fenghuo.control.views import UserMeasureList, UserMeasureView
from fenghuo.platform import pages
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
def list_measures(service_id: str, request: Request, response: Response,
                  all: bool = False,  # noqa: A002 - the query parameter is ?all=
                  after: str | None = pages.AFTER, limit: int = pages.LIMIT,
                  actor: Actor = Depends(current_actor), db: Database = Depends(get_db)) -> dict[str, Any]:
    """A page of the measures in force on the service's end users, oldest first (``?all=true``:
    lifted and expired ones too). When there are more, ``X-Next-Cursor`` (and ``Link: <…>;
    rel="next"``) names the next page's ``after``; a guard reads every page."""
    out = user_measures.listing(db, actor, service_id, include_ended=all, after=after, limit=limit)
    pages.link_headers(response, request, pages.Page(out["measures"], out["next"]))
    return out


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
