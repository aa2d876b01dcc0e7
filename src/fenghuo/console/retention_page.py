"""留存 Retention status (issue 18 item 8; CN-PO-20, CN-LB-18, EU-06): what each store keeps,
since when, and whether that meets the retention period — what ``fenghuo retention status``
prints, from the same function (``retention.status.status``).

The answer covers the whole deployment (every store's record count and oldest record), so only
an admin or a deployment-wide auditor reads it; an operator, a regulator or an auditor scoped to
a provider or jurisdiction is refused (403), as no ``/api/v1`` route gives them those counts.
Pruning stays on the command line (``fenghuo retention prune``), where it refuses anything
younger than the period.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from fenghuo.console.web import ConsoleRoute, Viewer, db_of, render, viewer
from fenghuo.platform.errors import Forbidden
from fenghuo.platform.roles import Actor, Role
from fenghuo.retention import policy
from fenghuo.retention import status as retention

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
STORE_NAMES = {
    "ledger": ("账本", "ledger"), "warnings": ("预警", "warnings"), "incidents": ("事件", "incidents"),
    "complaints": ("投诉工单", "complaint tickets"),
    "telemetry summaries (hourly, per service)": ("每小时遥测汇总（按服务）", "telemetry summaries (hourly, per service)"),
    "evaluation runs": ("评估运行", "evaluation runs"), "incident report files": ("事件报告文件", "incident report files"),
    "telemetry events (NATS stream, with --bus)": ("遥测原始事件（NATS 流，--bus 时）", "telemetry events (NATS stream, with --bus)"),
}


def may_read(actor: Actor) -> bool:
    return actor.role is Role.admin or (actor.role is Role.auditor and not actor.provider_id and not actor.jurisdiction_id)


@router.get("/retention")
async def retention_page(request: Request, who: Viewer = Depends(viewer)) -> Response:
    if not may_read(who.actor):
        raise Forbidden("只有管理员和全局审计员可以查看留存状态（它涵盖整个部署）",
                        "only an admin or a deployment-wide auditor may read the retention status (it covers the whole deployment)")
    try:
        report = await run_in_threadpool(retention.status, db_of(request))
    except policy.RetentionError as exc:  # FENGHUO_RETENTION_DAYS below six months: the server's setting is wrong
        return render(request, who, "retention.html", report=None, problem=str(exc), names=STORE_NAMES)
    return render(request, who, "retention.html", report=report, problem=None, names=STORE_NAMES)
