"""HTTP routes of complaint and report tickets (投诉举报, CN-TC-17). Filing one also counts a
``complaint`` event into the service's indicators, so the complaint rules that watch those
indicators see tickets entered here as they see complaints posted as events."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import ConfigDict
from starlette.concurrency import run_in_threadpool

from fenghuo.monitor.ingest import Monitor
from fenghuo.platform import pages
from fenghuo.platform.db import Database
from fenghuo.platform.inputs import Body
from fenghuo.platform.roles import Actor, Role
from fenghuo.platform.views import CONTRACT
from fenghuo.platform.web import current_actor, get_db
from fenghuo.response import complaints
from fenghuo.response.views import ComplaintCounts, ComplaintView

router = APIRouter(prefix="/api/v1", tags=["complaints"])
COUNTER = Actor("complaints", Role.system)


def _monitor(request: Request) -> Monitor:
    return request.app.state.runtime.monitor  # fenghuo.api.runtime


class ComplaintBody(Body):
    model_config = ConfigDict(extra="forbid")
    service: str
    category: str
    content: str
    channel: str = "web"
    contact: str | None = None
    received_at: str | None = None


class HandleBody(Body):
    model_config = ConfigDict(extra="forbid")
    result: str
    feedback: str | None = None


class FeedbackBody(Body):
    model_config = ConfigDict(extra="forbid")
    feedback: str


def event_for(ticket: dict[str, Any]) -> dict[str, Any]:
    """The monitoring event of a filed ticket; its id is the ticket's, so it counts once."""
    return {"id": f"complaint-ticket-{ticket['id']}", "type": "complaint", "service": ticket["service"],
            "time": ticket["received_at"], "detail": ticket["content"][:4000],
            "attributes": {"ticket": ticket["id"], "category": ticket["category"]}}


@router.post("/complaints", response_model=ComplaintView, **CONTRACT)
async def file_complaint(body: ComplaintBody, request: Request, actor: Actor = Depends(current_actor),
                         db: Database = Depends(get_db)) -> dict[str, Any]:
    v = await run_in_threadpool(complaints.file_complaint, db, actor, body.service, body.category, body.content,
                                channel=body.channel, contact=body.contact, received_at=body.received_at)
    counted = await run_in_threadpool(_monitor(request).ingest_body, json.dumps([event_for(v)]).encode(), COUNTER)
    return {**v, "counted": counted.accepted == 1 or counted.duplicates == 1}


@router.get("/complaints", response_model=list[ComplaintView], **CONTRACT)
def list_complaints(request: Request, response: Response, service: str | None = None, status: str | None = None,
                    overdue: bool = False, category: str | None = None, after: str | None = pages.AFTER,
                    limit: int = pages.LIMIT, actor: Actor = Depends(current_actor),
                    db: Database = Depends(get_db)) -> list[dict[str, Any]]:
    """A page of tickets, newest first, filtered in the database (``X-Next-Cursor``: the next page's ``after``)."""
    page = complaints.ticket_page(db, actor, service=service, status=status, overdue=overdue, category=category,
                                  after=after, limit=limit)
    pages.link_headers(response, request, page)
    return page.items


@router.get("/complaint-counts", response_model=ComplaintCounts, **CONTRACT)
def complaint_counts(service: str | None = None, actor: Actor = Depends(current_actor),
                     db: Database = Depends(get_db)) -> dict[str, Any]:
    return complaints.counts(db, actor, service)


@router.get("/complaints/{ticket_id}", response_model=ComplaintView, **CONTRACT)
def show_complaint(ticket_id: str, actor: Actor = Depends(current_actor), db: Database = Depends(get_db)) -> dict[str, Any]:
    return complaints.get(db, actor, ticket_id)


@router.post("/complaints/{ticket_id}/handle", response_model=ComplaintView, **CONTRACT)
def handle_complaint(ticket_id: str, body: HandleBody, actor: Actor = Depends(current_actor),
                     db: Database = Depends(get_db)) -> dict[str, Any]:
    return complaints.handle(db, actor, ticket_id, body.result, body.feedback)


@router.post("/complaints/{ticket_id}/feedback", response_model=ComplaintView, **CONTRACT)
def complaint_feedback(ticket_id: str, body: FeedbackBody, actor: Actor = Depends(current_actor),
                       db: Database = Depends(get_db)) -> dict[str, Any]:
    return complaints.feedback(db, actor, ticket_id, body.feedback)
