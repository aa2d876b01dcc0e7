"""概览 Overview: every service in the viewer's scope — grade (reasons on click), switch state
in colour, version, guard instances enforcing vs live, open warnings by level, open incidents
and the next reporting deadline as a live countdown — filtered by jurisdiction, provider,
sector, state and grade."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from fenghuo.console import reads
from fenghuo.console.web import ConsoleRoute, Viewer, db_of, render, runtime_of, viewer

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
FILTERS = ("jurisdiction", "provider", "sector", "state", "grade")


def rows(request: Request, who: Viewer) -> list[dict[str, Any]]:
    db = db_of(request)
    book = runtime_of(request).instance_book
    open_ws = reads.by_level(reads.warnings(db, who.actor))
    open_incs: dict[str, list[dict[str, Any]]] = {}
    for inc in reads.incident_list(db, who.actor):
        if inc["status"] == "open" or any(c.get("status") == "running" for c in inc.get("clocks", [])):
            open_incs.setdefault(inc["service"], []).append(inc)
    now = reads.now_iso(db)
    out = []
    for svc in reads.services(db, who.actor):
        sid = svc["id"]
        enf = book.enforcement(who.actor, sid)
        incs = open_incs.get(sid, [])
        out.append({
            "svc": svc, "state": (svc.get("state") or {}), "enforcement": enf,
            "warnings": open_ws.get(sid, {}), "incidents": [i for i in incs if i["status"] == "open"],
            "deadline": reads.next_deadline(incs, now),
        })
    return out


def matches(row: dict[str, Any], f: dict[str, str]) -> bool:
    svc = row["svc"]
    have = {"jurisdiction": svc["jurisdiction"], "provider": svc["provider"], "sector": svc["attributes"].get("sector"),
            "state": row["state"].get("state"), "grade": svc["grade"]["grade"]}
    return all(not f.get(k) or have[k] == f[k] for k in FILTERS)


@router.get("/")
def overview(request: Request, who: Viewer = Depends(viewer)) -> Response:
    every = rows(request, who)
    f = {k: request.query_params.get(k, "") for k in FILTERS}
    choices = {
        "jurisdiction": sorted({r["svc"]["jurisdiction"] for r in every}),
        "provider": sorted({r["svc"]["provider"] for r in every}),
        "sector": sorted({str(r["svc"]["attributes"].get("sector")) for r in every if r["svc"]["attributes"].get("sector")}),
        "state": sorted({r["state"].get("state", "") for r in every} - {""}),
        "grade": sorted({r["svc"]["grade"]["grade"] for r in every}),
    }
    shown = [r for r in every if matches(r, f)]
    return render(request, who, "overview.html", rows=shown, total=len(every), filters=f, choices=choices,
                  levels=reads.LEVELS, level_names=reads.LEVEL_NAMES)
