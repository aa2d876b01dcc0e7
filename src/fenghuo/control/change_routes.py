"""HTTP routes of registration changes awaiting a regulator (``control.regrading``, issue 14)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import ConfigDict

from fenghuo.control import regrading
from fenghuo.control.views import ServiceChangeView
from fenghuo.platform import pages
from fenghuo.platform.db import Database
from fenghuo.platform.inputs import Body
from fenghuo.platform.roles import Actor
from fenghuo.platform.views import CONTRACT
from fenghuo.platform.web import current_actor, get_db

router = APIRouter(prefix="/api/v1", tags=["services"])


class RefuseBody(Body):
    model_config = ConfigDict(extra="forbid")
    reason: str = ""


@router.get("/service-changes", response_model=list[ServiceChangeView], **CONTRACT)
def list_changes(request: Request, response: Response, all: bool = False,  # noqa: A002 - the query parameter is ?all=
                 after: str | None = pages.AFTER, limit: int = pages.LIMIT,
                 actor: Actor = Depends(current_actor), db: Database = Depends(get_db)) -> list[dict[str, Any]]:
    """A page of the re-registrations that lower a grade or move a service, waiting for a regulator,
    oldest first (``?all=true``: decided ones too; ``X-Next-Cursor``: the next page's ``after``)."""
    page = regrading.change_page(db, actor, pending_only=not all, after=after, limit=limit)
    pages.link_headers(response, request, page)
    return page.items


@router.post("/service-changes/{change_id}/approve", response_model=ServiceChangeView, **CONTRACT)
def approve(change_id: str, actor: Actor = Depends(current_actor), db: Database = Depends(get_db)) -> dict[str, Any]:
    return regrading.approve(db, actor, change_id)


@router.post("/service-changes/{change_id}/refuse", response_model=ServiceChangeView, **CONTRACT)
def refuse(change_id: str, body: RefuseBody | None = None, actor: Actor = Depends(current_actor),
           db: Database = Depends(get_db)) -> dict[str, Any]:
    return regrading.refuse(db, actor, change_id, body.reason if body else "")
