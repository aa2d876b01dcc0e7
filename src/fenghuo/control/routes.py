"""HTTP routes of the switch: commands, approvals, states and the SSE stream."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import ConfigDict

from fenghuo.control import command_pages, listing, switch
from fenghuo.control.stream import SwitchHub
from fenghuo.control.views import CommandView, SwitchStateView
from fenghuo.platform import pages
from fenghuo.platform.db import Database
from fenghuo.platform.inputs import Body
from fenghuo.platform.roles import Actor, Role
from fenghuo.platform.views import CONTRACT, text
from fenghuo.platform.web import current_actor, get_db

router = APIRouter(prefix="/api/v1", tags=["switch"])


class CommandBody(Body):
    model_config = ConfigDict(extra="forbid")
    action: str
    reason: str = ""
    id: str | None = None
    rate: int | None = None
    percent: int | None = None


@router.post("/services/{service_id}/commands", response_model=CommandView, **CONTRACT,
             responses={202: {"model": CommandView, "description": "awaiting approval / 等待审批"}})
def send_command(service_id: str, body: CommandBody, actor: Actor = Depends(current_actor), db: Database = Depends(get_db)):
    view = switch.execute(db, actor, service_id, body.action, body.reason, command_id=body.id, rate=body.rate, percent=body.percent)
    return JSONResponse(view, status_code=202 if view["status"] == "awaiting_approval" else 200)


@router.post("/commands/{command_id}/approve", response_model=CommandView, **CONTRACT)
def approve(command_id: str, actor: Actor = Depends(current_actor), db: Database = Depends(get_db)) -> dict[str, Any]:
    return switch.approve(db, actor, command_id)


@router.get("/commands/pending", response_model=list[CommandView], **CONTRACT)
def pending(request: Request, response: Response,
            all_: bool = Query(False, alias="all", description="also commands the current state no longer allows"),
            service: str | None = None, action: str | None = None, after: str | None = pages.AFTER, limit: int = pages.LIMIT,
            actor: Actor = Depends(current_actor), db: Database = Depends(get_db)) -> list[dict[str, Any]]:
    """A page of commands awaiting approval, oldest first (``X-Next-Cursor``: the next page's ``after``)."""
    page = command_pages.pending_page(db, actor, include_stale=all_, service=service, action=action, after=after, limit=limit)
    pages.link_headers(response, request, page)
    return page.items


@router.get("/services/{service_id}/state", response_model=SwitchStateView, **CONTRACT)
def state(service_id: str, actor: Actor = Depends(current_actor), db: Database = Depends(get_db)) -> dict[str, Any]:
    return switch.get_state(db, actor, service_id)


@router.get("/states", response_model=list[SwitchStateView], **CONTRACT)
def states(response: Response, state: str | None = None, after: str | None = None,
           limit: int = Query(listing.DEFAULT_LIMIT, ge=1, le=listing.MAX_LIMIT),
           actor: Actor = Depends(current_actor), db: Database = Depends(get_db)) -> list[dict[str, Any]]:
    """A page of visible states in service order (``X-Next-Cursor``: the next page's ``after``)."""
    rows = switch.all_states(db, actor, state=state, after=after, limit=limit + 1)
    if len(rows) > limit:
        rows = rows[:limit]
        response.headers["X-Next-Cursor"] = rows[-1]["service"]
    return rows


@router.get("/switch/stream", responses=text("text/event-stream", "hello, state and heartbeat events"))
async def stream(request: Request, service: list[str] = Query(default=[]), actor: Actor = Depends(current_actor)):
    """Server-sent events: ``hello``, a ``state`` per service (snapshot), then ``state`` on
    every change and ``heartbeat`` every few seconds."""
    db: Database = request.app.state.runtime.db
    visible = None
    if actor.role not in (Role.admin, Role.system):
        visible = listing.visible_ids(db, actor)
    hub: SwitchHub = request.app.state.runtime.hub
    return StreamingResponse(hub.follow(visible, set(service)), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
