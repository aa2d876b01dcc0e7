"""辖区 Regulator view (纵向到底，横向到边): the jurisdiction tree beneath the viewer's node —
national → province → city → district — with, per node, its services, the share monitored (a
guard reported within the monitor's live window) and the share switchable (its live guard
instances all acknowledge the current switch version: ``InstanceBook.switchable``), the states,
open red/orange warnings and overdue reports; drill down to any node (``?node=``) and service;
order a pause.

The counts are what ``monitor.coverage.coverage`` (``/api/v1/coverage``) gives, rooted at the
regulator's own node so another province never appears, computed as aggregates per jurisdiction
(``console.tree_reads``) so the page costs the same at 100,000 services; the order is
``response.regulator.order_pause`` (``POST /api/v1/services/{id}/orders``), which only a
regulator may give and only within its scope.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from fenghuo.console import tree_reads
from fenghuo.console.web import ConsoleRoute, Viewer, back, db_of, posted, render, runtime_of, viewer
from fenghuo.platform.roles import Role
from fenghuo.response import regulator

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)


def tree(request: Request, who: Viewer, node: str | None) -> dict[str, Any]:
    monitor = runtime_of(request).monitor
    return tree_reads.tree(db_of(request), monitor.indicators, runtime_of(request).instance_book, who.actor, node, monitor.now())


@router.get("/regulator")
async def regulator_page(request: Request, node: str = "", who: Viewer = Depends(viewer)) -> Response:
    view = await run_in_threadpool(tree, request, who, node.strip()[:64] or None)
    return render(request, who, "regulator.html", **view, can_order=who.actor.role is Role.regulator,
                  node_rows=tree_reads.NODE_ROWS)


@router.post("/services/{service_id}/order")
def order_pause(service_id: str, request: Request, who: Viewer = Depends(viewer), form: dict = Depends(posted)) -> Response:
    done = regulator.order_pause(db_of(request), who.actor, service_id, form.get("reason", ""),
                                 order_ref=form.get("order", "").strip() or None)
    return back(form.get("next") or "/regulator",
                who.t(f"监管暂停令 {done['order']} 已下达：{service_id} 现为 {done['state']}，事件 {done['incident']}",
                      f"suspension order {done['order']} given: {service_id} is now {done['state']}, incident {done['incident']}"))
