"""辖区 Regulator view (纵向到底，横向到边): the jurisdiction tree beneath the viewer's node —
national → province → city — with, per node, its services, the share monitored (a guard
reported within the monitor's live window) and the share switchable (its live guard instances
all acknowledge the current switch version: ``InstanceBook.switchable``), the states, open
red/orange warnings and overdue reports; drill down to any service; order a pause.

The tree and its counts are ``monitor.coverage.coverage`` (``/api/v1/coverage``) rooted at the
regulator's own node, so another province never appears; the order is
``response.regulator.order_pause`` (``POST /api/v1/services/{id}/orders``), which only a
regulator may give and only within its scope.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from fenghuo.console import reads
from fenghuo.console.web import ConsoleRoute, Viewer, back, db_of, posted, render, runtime_of, viewer
from fenghuo.monitor.coverage import coverage
from fenghuo.platform.roles import Role
from fenghuo.response import regulator

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
NODE_ROWS = 30  # services listed under one node; the rest through the overview filtered by it


def tree(request: Request, who: Viewer) -> list[dict[str, Any]]:
    db = db_of(request)
    monitor = runtime_of(request).monitor
    root = who.actor.jurisdiction_id if who.actor.role in (Role.regulator, Role.auditor) else None
    nodes = coverage(db, monitor.indicators, who.actor, root, monitor.now())
    services = reads.services(db, who.actor)
    paths = {n["jurisdiction"]: n["path"] for n in nodes}
    ws = reads.warnings(db, who.actor)
    severe: dict[str, int] = {}
    for w in ws:
        if w["level"] in ("red", "orange"):
            severe[w["service"]] = severe.get(w["service"], 0) + 1
    acking = runtime_of(request).instance_book.switchable(who.actor)  # service → every live instance acks its state
    now = reads.now_iso(db)
    overdue: dict[str, int] = {}
    for inc in reads.incident_list(db, who.actor):
        late = sum(1 for c in inc.get("clocks", []) if c["status"] == "breached" or (c["status"] == "running" and c["due_at"] < now))
        if late:
            overdue[inc["service"]] = overdue.get(inc["service"], 0) + late
    out = []
    for n in nodes:
        mine = [s for s in services if paths.get(s["jurisdiction"], "\0").startswith(n["path"])]
        direct = [s for s in mine if s["jurisdiction"] == n["jurisdiction"]]
        states: dict[str, int] = {}
        for s in mine:
            st = (s.get("state") or {}).get("state", "unknown")
            states[st] = states.get(st, 0) + 1
        registered = n["registered"]
        switchable = sum(1 for s in mine if acking.get(s["id"]))
        out.append({
            **n, "depth": n["path"].count("/") - 1 - (nodes[0]["path"].count("/") - 1 if nodes else 0),
            "services": direct[:NODE_ROWS], "more": max(0, len(direct) - NODE_ROWS), "states": states,
            "switchable": switchable, "switchable_share": round(switchable / registered, 4) if registered else None,
            "severe": sum(severe.get(s["id"], 0) for s in mine), "overdue": sum(overdue.get(s["id"], 0) for s in mine),
        })
    return out


@router.get("/regulator")
async def regulator_page(request: Request, who: Viewer = Depends(viewer)) -> Response:
    nodes = await run_in_threadpool(tree, request, who)
    return render(request, who, "regulator.html", nodes=nodes, can_order=who.actor.role is Role.regulator)


@router.post("/services/{service_id}/order")
def order_pause(service_id: str, request: Request, who: Viewer = Depends(viewer), form: dict = Depends(posted)) -> Response:
    done = regulator.order_pause(db_of(request), who.actor, service_id, form.get("reason", ""),
                                 order_ref=form.get("order", "").strip() or None)
    return back(form.get("next") or "/regulator",
                who.t(f"监管暂停令 {done['order']} 已下达：{service_id} 现为 {done['state']}，事件 {done['incident']}",
                      f"suspension order {done['order']} given: {service_id} is now {done['state']}, incident {done['incident']}"))
