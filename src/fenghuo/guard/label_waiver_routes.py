"""HTTP routes of label waivers (``guard.label_waivers``, CN-LB-18): record one (refused without
the user, the request, the agreement and the recipient), read one, list them a page at a time."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Response
from pydantic import ConfigDict

from fenghuo.guard import label_waivers
from fenghuo.platform.db import Database
from fenghuo.platform.inputs import Body
from fenghuo.platform.roles import Actor
from fenghuo.platform.views import CONTRACT, View
from fenghuo.platform.web import current_actor, get_db

router = APIRouter(prefix="/api/v1", tags=["labels"])


class WaiverBody(Body):
    """Every field is checked by ``label_waivers.validate`` (a missing one: 422 naming it, in 中文 and English)."""

    model_config = ConfigDict(extra="forbid")
    user: str = ""
    request: str = ""
    agreement: str = ""
    recipient: str = ""
    note: str = ""


class WaiverView(View):
    """One unlabelled-content log entry (CN-LB-18): who asked, under which agreement, who received it."""

    id: str
    service: str
    user: str
    request: str
    agreement: str
    recipient: str
    note: str = ""
    recorded_by: str
    recorded_at: str


def _paged(response: Response, path: str, items: list[dict[str, Any]], nxt: str | None, limit: int) -> list[dict[str, Any]]:
    if nxt:
        response.headers["X-Next-Cursor"] = nxt
        response.headers["Link"] = f'<{path}?{urlencode({"limit": limit, "after": nxt})}>; rel="next"'
    return items


@router.post("/services/{service_id}/label-waivers", response_model=WaiverView, **CONTRACT)
def record(service_id: str, body: WaiverBody, actor: Actor = Depends(current_actor), db: Database = Depends(get_db)) -> dict[str, Any]:
    return label_waivers.record(db, actor, service_id, **body.model_dump())


@router.get("/services/{service_id}/label-waivers", response_model=list[WaiverView], **CONTRACT)
def service_waivers(service_id: str, response: Response,
                    after: str | None = Query(None, description="the last id of the previous page (its X-Next-Cursor)"),
                    limit: int = Query(label_waivers.DEFAULT_LIMIT, ge=1, le=label_waivers.MAX_LIMIT),
                    actor: Actor = Depends(current_actor), db: Database = Depends(get_db)) -> list[dict[str, Any]]:
    items, nxt = label_waivers.page(db, actor, service_id, after=after, limit=limit)
    return _paged(response, f"/api/v1/services/{service_id}/label-waivers", items, nxt, limit)


@router.get("/label-waivers", response_model=list[WaiverView], **CONTRACT)
def all_waivers(response: Response, after: str | None = Query(None, description="the last id of the previous page (its X-Next-Cursor)"),
                limit: int = Query(label_waivers.DEFAULT_LIMIT, ge=1, le=label_waivers.MAX_LIMIT),
                actor: Actor = Depends(current_actor), db: Database = Depends(get_db)) -> list[dict[str, Any]]:
    """Every waiver of the services the caller may see, in the order recorded, a page at a time."""
    items, nxt = label_waivers.page(db, actor, after=after, limit=limit)
    return _paged(response, "/api/v1/label-waivers", items, nxt, limit)


@router.get("/label-waivers/{waiver_id}", response_model=WaiverView, **CONTRACT)
def one(waiver_id: str, actor: Actor = Depends(current_actor), db: Database = Depends(get_db)) -> dict[str, Any]:
    return label_waivers.get(db, actor, waiver_id)
