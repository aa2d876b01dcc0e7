"""恢复 The road back from a pause, from the service page: record a remediation (what was
changed, with evidence), attach a verification (an evaluation run, or a checklist signed by the
person posting it), countersign someone else's checklist, and approve plan steps that wait for a person. Each form runs the function
its ``/api/v1`` route runs (``recovery.procedure.remediate`` / ``verify`` / ``countersign``,
``response.approvals.approve``), which check scope, grade and order again."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from fenghuo.console.web import ConsoleRoute, Viewer, back, db_of, posted, viewer
from fenghuo.platform.errors import Invalid
from fenghuo.recovery import procedure
from fenghuo.response import approvals

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
KINDS = procedure.KINDS


def evidence_of(text: str) -> dict[str, str]:
    """``key=value`` per line (``version=2.1``, ``commit=ab12…``); a line without ``=`` is a ``note``."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]{0,40}", key.strip()):
            out[key.strip()] = value.strip()
        elif line.strip():
            out["note"] = (out.get("note", "") + "\n" + line.strip()).strip()
    return out


def checklist_of(title: str, text: str) -> dict[str, Any]:
    """One item per line: ``[x] item`` is checked, ``[ ] item`` (or no box) is not."""
    items = []
    for line in text.splitlines():
        m = re.match(r"^\s*\[( |x|X|✓)\]\s*(.+)$", line)
        if m:
            items.append({"item": m.group(2).strip(), "checked": m.group(1) != " "})
        elif line.strip():
            items.append({"item": line.strip(), "checked": False})
    return {"title": title, "items": items}


@router.post("/services/{service_id}/recovery")
def start(service_id: str, request: Request, who: Viewer = Depends(viewer), form: dict = Depends(posted)) -> Response:
    """Open the procedure with its own canary ramp and hold (otherwise the first remediation
    opens it with the defaults)."""
    try:
        ramp = tuple(int(p) for p in re.split(r"[\s,→>]+", form.get("ramp", "").strip()) if p) or procedure.DEFAULT_RAMP
        hold = int(form.get("hold_seconds") or procedure.DEFAULT_HOLD)
    except ValueError:
        raise Invalid("灰度比例和观察时长须为整数", "ramp steps and hold seconds must be whole numbers", field="ramp") from None
    procedure.start(db_of(request), who.actor, service_id, ramp=ramp, hold_seconds=hold,
                    rollback_level=form.get("rollback_level") or procedure.DEFAULT_ROLLBACK)
    return back(f"/services/{service_id}#h-rec", who.t("恢复程序已开始", "recovery procedure started"))


@router.post("/services/{service_id}/remediation")
def remediate(service_id: str, request: Request, who: Viewer = Depends(viewer), form: dict = Depends(posted)) -> Response:
    procedure.remediate(db_of(request), who.actor, service_id, form.get("kind", ""), form.get("description", ""),
                        evidence_of(form.get("evidence", "")))
    return back(f"/services/{service_id}#h-rec", who.t("已记录整改", "remediation recorded"))


@router.post("/services/{service_id}/verification")
def verify(service_id: str, request: Request, who: Viewer = Depends(viewer), form: dict = Depends(posted)) -> Response:
    run = form.get("run", "").strip()
    items = form.get("checklist", "").strip()
    if bool(run) == bool(items):
        raise Invalid("填写评估运行 id 或检查单，二者选一", "give an evaluation run id or a checklist, not both", field="verification")
    view = procedure.verify(db_of(request), who.actor, service_id, run_id=run or None,
                            checklist=None if run else checklist_of(form.get("title", ""), items))
    last = (view.get("verifications") or [{}])[-1]
    return back(f"/services/{service_id}#h-rec", who.t(f"验证{'通过' if last.get('passed') else '未通过'}",
                                                       f"verification {'passed' if last.get('passed') else 'failed'}"))


@router.post("/services/{service_id}/verifications/{verification_id}/countersign")
def countersign(service_id: str, verification_id: str, request: Request, who: Viewer = Depends(viewer),
                form: dict = Depends(posted)) -> Response:
    procedure.countersign(db_of(request), who.actor, service_id, verification_id)
    return back(f"/services/{service_id}#h-rec", who.t(f"已会签检查单 {verification_id}", f"checklist {verification_id} countersigned"))


@router.post("/plan-actions/{action_id}/approve")
def approve_step(action_id: str, request: Request, who: Viewer = Depends(viewer), form: dict = Depends(posted)) -> Response:
    view = approvals.approve(db_of(request), who.actor, action_id)
    return back(f"/services/{view['service']}", who.t(f"已审批预案步骤 {view['step']}（{view['status']}）",
                                                     f"approved plan step {view['step']} ({view['status']})"))
