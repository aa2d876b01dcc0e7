"""概览 Overview: every service in the viewer's scope — grade (reasons on click), switch state
in colour, version, guard instances enforcing vs live, open warnings by level, open incidents
and the next reporting deadline as a live countdown — filtered by jurisdiction (the node and
everything beneath it), provider, sector, state and grade.

A page at a time (100 services, in id order) from ``control.listing.service_page`` — the query
behind ``GET /api/v1/services`` — with every filter a WHERE clause there, so the overview of a
fleet of thousands costs one indexed query plus one enforcement read per shown service."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from fenghuo.console import reads
from fenghuo.console.web import ConsoleRoute, Viewer, db_of, render, runtime_of, viewer
from fenghuo.control import listing
from fenghuo.control.transitions import State

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
FILTERS = ("jurisdiction", "provider", "sector", "state", "grade")
PAGE = 100


def rows(request: Request, who: Viewer, services: list[dict[str, Any]]) -> list[dict[str, Any]]:
    db = db_of(request)
    book = runtime_of(request).instance_book
    shown = {s["id"] for s in services}
    open_ws = reads.by_level([w for w in reads.warnings(db, who.actor, limit=1000) if w["service"] in shown])
    open_incs: dict[str, list[dict[str, Any]]] = {}
    for inc in reads.incident_list(db, who.actor):
        if inc["service"] in shown and (inc["status"] == "open" or any(c.get("status") == "running" for c in inc.get("clocks", []))):
            open_incs.setdefault(inc["service"], []).append(inc)
    now = reads.now_iso(db)
    out = []
    for svc in services:
        sid = svc["id"]
        incs = open_incs.get(sid, [])
        out.append({
            "svc": svc, "state": (svc.get("state") or {}), "enforcement": book.enforcement(who.actor, sid),
            "warnings": open_ws.get(sid, {}), "incidents": [i for i in incs if i["status"] == "open"],
            "deadline": reads.next_deadline(incs, now),
        })
    return out


@router.get("/")
def overview(request: Request, after: str | None = None, who: Viewer = Depends(viewer)) -> Response:
    f = {k: request.query_params.get(k, "").strip() for k in FILTERS}
    page = listing.service_page(db_of(request), who.actor, listing.ServiceFilter(**{k: v or None for k, v in f.items()}),
                                after=after or None, limit=PAGE)
    shown = rows(request, who, page.items)
    seen = {k: sorted({str(v) for v in vals if v}) for k, vals in {
        "jurisdiction": [r["svc"]["jurisdiction"] for r in shown], "provider": [r["svc"]["provider"] for r in shown],
        "sector": [r["svc"]["attributes"].get("sector") for r in shown], "grade": [r["svc"]["grade"]["grade"] for r in shown],
    }.items()}
    seen["state"] = [s.value for s in State]
    query = urlencode({k: v for k, v in f.items() if v})
    return render(request, who, "overview.html", rows=shown, filters=f, choices=seen, next=page.next, after=after,
                  filter_query=query, levels=reads.LEVELS, level_names=reads.LEVEL_NAMES)
