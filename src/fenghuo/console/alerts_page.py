"""预警 Warnings: level, rule, service, first and last seen, state; acknowledge; silences
(create with matchers and an expiry, end).

Every read and write calls the function behind the matching ``/api/v1`` route
(``alerts.routes``: ``list_warnings``, ``acknowledge``, ``list_silences``, ``create_silence``,
``end_silence``), so the roles and scopes that route enforces — an auditor only reads, an
operator's silence must name its own service — hold here unchanged.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from fenghuo.alerts import routes as alert_routes
from fenghuo.alerts import store
from fenghuo.console import reads
from fenghuo.console.web import ConsoleRoute, Viewer, back, db_of, posted, render, viewer

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
STATES = ("open", "firing", "pending", "resolved", "all")


@router.get("/warnings")
def warnings_page(request: Request, state: str = "open", service: str = "", after: str = "",
                  who: Viewer = Depends(viewer)) -> Response:
    db = db_of(request)
    state = state if state in STATES else "open"
    page = store.warning_page(db, who.actor, store.WarningFilter(state=None if state == "all" else state, service=service or None),
                              after=after or None, limit=reads.PAGE)  # what GET /warnings pages with
    ws = page.items
    silences = alert_routes.list_silences(all=False, actor=who.actor, db=db)
    services, complete = reads.service_choices(db, who.actor)
    return render(request, who, "warnings.html", warnings=ws, silences=silences, state=state, states=STATES,
                  service=service, services=services, services_complete=complete, level_names=reads.LEVEL_NAMES,
                  next=page.next, after=after, filter_query=urlencode({k: v for k, v in (("state", state), ("service", service)) if v}))


@router.post("/warnings/{warning_id}/ack")
def acknowledge(warning_id: str, request: Request, who: Viewer = Depends(viewer), form: dict = Depends(posted)) -> Response:
    body = alert_routes.AckBody(owner=form.get("owner", "").strip() or who.actor.name, note=form.get("note", ""))
    view = alert_routes.acknowledge(warning_id=warning_id, body=body, request=request, actor=who.actor, db=db_of(request))
    return back(form.get("next") or "/warnings", who.t(f"已确认预警 {view['alert']}，负责人 {view['ack']['owner']}",
                                                         f"acknowledged {view['alert']}, owner {view['ack']['owner']}"))


def matchers_of(text: str) -> list[str]:
    """One matcher per line or comma: ``service=open-chat``, ``level=~red|orange``."""
    return [m.strip() for m in re.split(r"[\n,]", text) if m.strip()]


@router.post("/silences")
def create_silence(request: Request, who: Viewer = Depends(viewer), form: dict = Depends(posted)) -> Response:
    until_resolved = form.get("until_resolved") == "on"
    body = alert_routes.SilenceBody(matchers=matchers_of(form.get("matchers", "")), reason=form.get("reason", ""),
                                    duration=None if until_resolved else (form.get("duration") or None),
                                    until_resolved=until_resolved)
    view = alert_routes.create_silence(body=body, actor=who.actor, db=db_of(request))
    return back("/warnings", who.t(f"已创建静默 {view['id']}", f"silence {view['id']} created"))


@router.post("/silences/{silence_id}/end")
def end_silence(silence_id: str, request: Request, who: Viewer = Depends(viewer), form: dict = Depends(posted)) -> Response:
    view = alert_routes.end_silence(silence_id=silence_id, actor=who.actor, db=db_of(request))
    return back("/warnings", who.t(f"静默 {view['id']} 已结束", f"silence {view['id']} ended"))
