"""概览 Overview: the services in the viewer's scope — grade (reasons on click), switch state
in colour, version, guard instances enforcing vs live, open warnings by level, open incidents
and the next reporting deadline as a live countdown — filtered by jurisdiction (the node and
everything beneath it), provider, sector, state and grade, with the scope's counts on top.

A page at a time (100 services, in id order) from ``control.listing.service_page`` — the query
behind ``GET /api/v1/services`` — with every filter a WHERE clause there; the previous page is
the same keyset walked backwards. The counts (by state, grade, open warnings by level, open
incidents, overdue clocks) are SQL aggregates under the same scope and filters
(``console.fleet_reads``), and the extras of the 100 rows shown are one query each for the
page, so the overview costs the same at 100 services as at 100,000."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from fenghuo.console import fleet_reads, reads
from fenghuo.console.web import ConsoleRoute, Viewer, db_of, render, runtime_of, viewer
from fenghuo.control import listing
from fenghuo.control.transitions import State
from fenghuo.platform.errors import Invalid

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
FILTERS = ("jurisdiction", "provider", "sector", "state", "grade")
PAGE = 100
MAX_FILTER = 200


def rows(request: Request, services: list[dict[str, Any]]) -> list[dict[str, Any]]:
    db = db_of(request)
    ids = [s["id"] for s in services]
    open_ws = fleet_reads.open_warnings(db, ids)
    live = fleet_reads.live_incidents(db, ids)
    enforcing = fleet_reads.enforcement(db, runtime_of(request).instance_book, services)
    now = reads.now_iso(db)
    out = []
    for svc in services:
        sid = svc["id"]
        incs = live.get(sid, [])
        out.append({
            "svc": svc, "state": (svc.get("state") or {}), "enforcement": enforcing[sid],
            "warnings": open_ws.get(sid, {}), "incidents": [i for i in incs if i["status"] == "open"],
            "deadline": reads.next_deadline(incs, now),
        })
    return out


def filters_of(request: Request) -> dict[str, str]:
    f = {k: request.query_params.get(k, "").strip() for k in FILTERS}
    for k, v in f.items():
        if len(v) > MAX_FILTER:
            raise Invalid(f"筛选条件 {k} 过长（至多 {MAX_FILTER} 个字符）", f"the {k} filter is too long (at most {MAX_FILTER} characters)",
                          field=k)
    if f["state"] and f["state"] not in {s.value for s in State}:
        raise Invalid(f"未知状态 {f['state']}（可选：{'、'.join(s.value for s in State)}）",
                      f"unknown state {f['state']} (one of {', '.join(s.value for s in State)})", field="state")
    return f


def build(request: Request, who: Viewer, after: str | None) -> dict[str, Any]:
    db = db_of(request)
    f = filters_of(request)
    sf = listing.ServiceFilter(**{k: v or None for k, v in f.items()})
    page = listing.service_page(db, who.actor, sf, after=after or None, limit=PAGE)
    shown = rows(request, page.items)
    has_prev, prev_after = (fleet_reads.previous_after(db, who.actor, sf, page.items[0]["id"], PAGE) if page.items and after
                            else (bool(after), None))
    seen = {k: sorted({str(v) for v in vals if v}) for k, vals in {
        "jurisdiction": [r["svc"]["jurisdiction"] for r in shown], "provider": [r["svc"]["provider"] for r in shown],
        "sector": [r["svc"]["attributes"].get("sector") for r in shown], "grade": [r["svc"]["grade"]["grade"] for r in shown],
    }.items()}
    seen["state"] = [s.value for s in State]
    query = urlencode({k: v for k, v in f.items() if v})
    return dict(rows=shown, filters=f, choices=seen, next=page.next, after=after, has_prev=has_prev, prev_after=prev_after,
                filter_query=query, summary=fleet_reads.summary(db, who.actor, sf), levels=reads.LEVELS,
                level_names=reads.LEVEL_NAMES)


@router.get("/")
async def overview(request: Request, after: str | None = None, who: Viewer = Depends(viewer)) -> Response:
    ctx = await run_in_threadpool(build, request, who, after)
    return render(request, who, "overview.html", **ctx)
