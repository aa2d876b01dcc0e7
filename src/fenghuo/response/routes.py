"""HTTP routes of emergency response: incidents, reports, accountability, plan-step approvals
and regulators' suspension orders. Same functions as the CLI, same refusals."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import ConfigDict, Field

from fenghuo.platform import pages
from fenghuo.platform.db import Database
from fenghuo.platform.inputs import Body
from fenghuo.platform.roles import Actor
from fenghuo.platform.views import CONTRACT
from fenghuo.platform.web import current_actor, get_db
from fenghuo.response import accountability, action_pages, approvals, incidents, regulator, reports
from fenghuo.response.views import Accountability, DutyView, IncidentView, OrderView, PlanActionView, ReportMade, ReportSubmitted

router = APIRouter(prefix="/api/v1", tags=["response"])


class IncidentBody(Body):
    model_config = ConfigDict(extra="forbid")
    service: str
    grade: str
    title: str
    flags: list[str] = Field(default_factory=list)
    profile: str | None = None
    detected_at: str | None = None  # when it was discovered / the provider became aware (CN-IR-05, EU-13)
    impact: dict[str, float] = Field(default_factory=dict)  # Grading Guide indicators (CN-IR-02)


class UpdateBody(Body):
    model_config = ConfigDict(extra="forbid")
    flags: list[str] = Field(default_factory=list)
    impact: dict[str, float] = Field(default_factory=dict)
    grade: str | None = None
    note: str = ""


class DutyBody(Body):
    model_config = ConfigDict(extra="forbid")
    content: dict[str, str] = Field(default_factory=dict)


class NoteBody(Body):
    model_config = ConfigDict(extra="forbid")
    note: str = ""


class ReportBody(Body):
    model_config = ConfigDict(extra="forbid")
    kind: str
    narrative: dict[str, str] = Field(default_factory=dict)


class SubmitBody(Body):
    model_config = ConfigDict(extra="forbid")
    to: str


class OrderBody(Body):
    model_config = ConfigDict(extra="forbid")
    reason: str
    order: str | None = None
    basis: str = "CN-EP-07"
    grade: str = "III"


@router.get("/incidents", response_model=list[IncidentView], **CONTRACT)
def list_incidents(request: Request, response: Response, status: str | None = None, service: str | None = None,
                   grade: str | None = None, provider: str | None = None, source: str | None = None,
                   after: str | None = pages.AFTER, limit: int = pages.LIMIT, actor: Actor = Depends(current_actor),
                   db: Database = Depends(get_db)) -> list[dict[str, Any]]:
    """A page of incidents, newest first, filtered in the database (``X-Next-Cursor``: the next
    page's ``after``). ``grade``: IV, III, II or I (or 一般/较大/重大/特别重大)."""
    f = incidents.IncidentFilter(status=status, service=service, grade=grade, provider=provider, source=source)
    page = incidents.incident_page(db, actor, f, after=after, limit=limit)
    pages.link_headers(response, request, page)
    return page.items


@router.post("/incidents", response_model=IncidentView, **CONTRACT)
def open_incident(body: IncidentBody, actor: Actor = Depends(current_actor), db: Database = Depends(get_db)) -> dict[str, Any]:
    return incidents.open_incident(db, actor, body.service, body.grade, body.title, flags=body.flags, profile=body.profile,
                                   detected_at=body.detected_at, impact=body.impact or None)


@router.post("/incidents/{incident_id}/update", response_model=IncidentView, **CONTRACT)
def update_incident(incident_id: str, body: UpdateBody, actor: Actor = Depends(current_actor),
                    db: Database = Depends(get_db)) -> dict[str, Any]:
    return incidents.update_incident(db, actor, incident_id, flags=body.flags, impact=body.impact or None, grade=body.grade,
                                     note=body.note)


@router.post("/incidents/{incident_id}/duties/{kind}", response_model=DutyView, **CONTRACT)
def complete_duty(incident_id: str, kind: str, body: DutyBody, actor: Actor = Depends(current_actor),
                  db: Database = Depends(get_db)) -> dict[str, Any]:
    return incidents.complete_duty(db, actor, incident_id, kind, body.content)


@router.get("/incidents/{incident_id}", response_model=IncidentView, **CONTRACT)
def show_incident(incident_id: str, actor: Actor = Depends(current_actor), db: Database = Depends(get_db)) -> dict[str, Any]:
    return incidents.get(db, actor, incident_id)


@router.post("/incidents/{incident_id}/end", response_model=IncidentView, **CONTRACT)
def end_incident(incident_id: str, body: NoteBody, actor: Actor = Depends(current_actor), db: Database = Depends(get_db)) -> dict[str, Any]:
    return incidents.end_handling(db, actor, incident_id, body.note)


@router.post("/incidents/{incident_id}/reports", response_model=ReportMade, **CONTRACT)
def make_report(incident_id: str, body: ReportBody, actor: Actor = Depends(current_actor), db: Database = Depends(get_db)) -> dict[str, Any]:
    return reports.generate(db, actor, incident_id, body.kind, body.narrative)


@router.post("/reports/{report_id}/submit", response_model=ReportSubmitted, **CONTRACT)
def submit_report(report_id: str, body: SubmitBody, actor: Actor = Depends(current_actor), db: Database = Depends(get_db)) -> dict[str, Any]:
    return reports.submit(db, actor, report_id, body.to)


@router.get("/incidents/{incident_id}/accountability", response_model=Accountability, **CONTRACT)
def incident_accountability(incident_id: str, actor: Actor = Depends(current_actor), db: Database = Depends(get_db)) -> dict[str, Any]:
    return accountability.compute(db, actor, incident_id)


@router.get("/plan-actions", response_model=list[PlanActionView], **CONTRACT)
def plan_actions(request: Request, response: Response, service: str | None = None, pending: bool = False,
                 warning: str | None = None, status: str | None = None, incident: str | None = None,
                 after: str | None = pages.AFTER, limit: int = pages.LIMIT, actor: Actor = Depends(current_actor),
                 db: Database = Depends(get_db)) -> list[dict[str, Any]]:
    """A page of plan steps, oldest first (``pending=true``: those awaiting approval)."""
    f = action_pages.ActionFilter(service=service, warning=warning, incident=incident,
                                  status="awaiting_approval" if pending else status)
    page = action_pages.action_page(db, actor, f, after=after, limit=limit)
    pages.link_headers(response, request, page)
    return page.items


@router.post("/plan-actions/{action_id}/approve", response_model=PlanActionView, **CONTRACT)
def approve_action(action_id: str, actor: Actor = Depends(current_actor), db: Database = Depends(get_db)) -> dict[str, Any]:
    return approvals.approve(db, actor, action_id)


@router.post("/services/{service_id}/orders", response_model=OrderView, **CONTRACT)
def order_pause(service_id: str, body: OrderBody, actor: Actor = Depends(current_actor), db: Database = Depends(get_db)) -> dict[str, Any]:
    return regulator.order_pause(db, actor, service_id, body.reason, order_ref=body.order, basis=body.basis, grade=body.grade)
