"""服务 Service page: the switch and everything about one service.

The forms offer only the commands the transition table allows from the current state for
the viewer's role (``control.transitions``), each saying what it still needs; the command is
then given with ``control.switch.execute`` — the function ``POST /api/v1/services/{id}/commands``
runs — which checks role, scope, parameters and the recovery gate again. Each form carries a
command id made when the page was drawn, so posting it twice gives the command once.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from fenghuo.console import reads
from fenghuo.console.charts import fmt, sparkline
from fenghuo.console.web import ConsoleRoute, Viewer, back, db_of, posted, render, runtime_of, viewer
from fenghuo.control import services as registry
from fenghuo.control import switch, user_measures
from fenghuo.control.transitions import TABLE, Action, State
from fenghuo.guard import label_waivers
from fenghuo.ledger import store as ledger_store
from fenghuo.monitor import summaries
from fenghuo.monitor.catalogue import CATALOGUE
from fenghuo.platform.errors import Invalid
from fenghuo.platform.roles import Role
from fenghuo.recovery import model_updates, procedure
from fenghuo.response import approvals

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
CHARTS = [  # (indicator, 中文, English)
    ("calls", "调用次数", "calls"),
    ("refusal_rate", "拦截率", "block rate"),
    ("output_violation_rate", "输出违规率", "violation rate"),
    ("complaints", "投诉", "complaints"),
    ("latency_p95", "延迟 p95", "latency p95"),
]
ACTION_NAMES = {
    "pause": ("暂停运行", "pause"), "stop": ("停止（阻断）", "stop"), "degrade": ("降级到备份模型", "degrade to backup"),
    "throttle": ("限流", "throttle"), "canary": ("灰度恢复", "canary"), "restore": ("恢复正常", "restore"),
    "resume": ("恢复运行", "resume"),
}
LEDGER_ROWS = 50
WAIVER_ROWS, OLDER_VERSIONS = 20, 10  # label waivers a page; superseded model versions shown
HOURS, MAX_HOURS = 24, 24 * 31  # hourly telemetry summaries shown: the last day by default, a month at most
HOUR_COLUMNS = [  # (counter, 中文, English)
    ("calls", "调用", "calls"), ("refusals", "拦截", "blocked"), ("in_violations", "输入违规", "input violations"),
    ("out_violations", "输出违规", "output violations"), ("out_blocked", "输出阻断", "outputs blocked"),
    ("errors", "错误", "errors"), ("complaints", "投诉", "complaints"),
]


def switch_forms(svc: dict[str, Any], state: str, role: Role) -> list[dict[str, Any]]:
    """The commands the table allows from ``state`` for ``role``, with what each still needs."""
    if role is Role.auditor:
        return []
    out = []
    for action in Action:
        t = TABLE[action]
        if State(state) not in t.sources or role not in t.roles:
            continue
        needs = []
        if t.needs_backup:
            needs.append(("备份模型：" + str(svc["attributes"].get("backup_model") or "未登记"),
                          "backup model: " + str(svc["attributes"].get("backup_model") or "none registered")))
        if t.needs_recovery:
            needs.append(("恢复程序：整改、验证（见下方恢复进度）", "the recovery procedure: remediation, verification (see recovery below)"))
        if t.grade_approvals:
            n = int(svc["grade"]["defaults"].get("resume_approvals", 1))
            needs.append((f"需 {n} 人审批", f"{n} approver(s)"))
        out.append({"action": action.value, "name": ACTION_NAMES[action.value], "rate": t.needs_rate,
                    "percent": t.needs_percent, "needs": needs, "id": f"console-{uuid.uuid4().hex[:16]}",
                    "danger": t.target in (State.paused, State.stopped)})
    return out


def charts(request: Request, sid: str) -> list[dict[str, Any]]:
    monitor = runtime_of(request).monitor
    now = monitor.now()
    totals = monitor.indicators.snapshot(sid, now)["windows"]
    out = []
    for window, span in monitor.indicators.window_lengths.items():
        row = {"window": window, "charts": []}
        for name, zh, en in CHARTS:
            kind = CATALOGUE[name].kind
            svg, _ = sparkline(monitor.indicators.series(sid, name, window, now), kind, span, now, en)
            whole = totals.get(window, {}).get(name)  # the whole window's value, beside its per-bucket line
            row["charts"].append({"name": name, "zh": zh, "en": en, "svg": svg, "last": fmt(whole, kind) if whole is not None else "—"})
        out.append(row)
    return out


def hourly(request: Request, who: Viewer, sid: str, text: str) -> dict[str, Any]:
    """The service's stored hourly telemetry summaries of the last ``hours`` hours
    (``monitor.summaries.for_service``, what ``GET /api/v1/services/{id}/telemetry-summary`` and
    ``fenghuo monitor summaries`` read), newest first, with a line of calls per hour."""
    try:
        hours = int(text) if text.strip() else HOURS
    except ValueError:
        hours = 0
    if not 1 <= hours <= MAX_HOURS:
        raise Invalid(f"hours 应在 1 到 {MAX_HOURS} 之间", f"hours must be between 1 and {MAX_HOURS}", field="hours")
    now = db_of(request).clock.now().timestamp()
    start = now - hours * summaries.PERIOD_SECONDS
    data = summaries.for_service(db_of(request), who.actor, sid, start=str(start - start % summaries.PERIOD_SECONDS))
    rows = []
    for h in data["hours"]:
        c = h["counts"]
        calls = int(c.get("calls", 0))
        at = datetime.fromtimestamp(h["period_start"], UTC)
        rows.append({"start": h["period_start"], "counts": c, "p95": h["latency_p95"], "iso": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                     "label": at.strftime("%Y-%m-%d %H:00"),
                     "block_rate": (int(c.get("refusals", 0)) / calls) if calls else None})
    svg, _ = sparkline([(r["start"], float(r["counts"].get("calls", 0))) for r in rows], "count", hours * summaries.PERIOD_SECONDS,
                       now, "calls per hour")
    return {"hours": hours, "rows": rows[::-1], "svg": svg, "columns": HOUR_COLUMNS,
            "totals": {k: sum(int(r["counts"].get(k, 0)) for r in rows) for k, _, _ in HOUR_COLUMNS}}


def models_and_waivers(request: Request, who: Viewer, sid: str, after: str) -> dict[str, Any]:
    """Read only: the service's model versions (CN-TC-18; ``model_updates.status``, what
    ``fenghuo model status`` shows) — active and pending, and the newest older ones — and its
    label waivers (CN-LB-18; ``label_waivers.page``), a page at a time from ``after``."""
    db = db_of(request)
    st = model_updates.status(db, who.actor, sid)
    current = [m for m in st["history"] if m["status"] in ("active", "pending")]
    older = [m for m in st["history"] if m["status"] not in ("active", "pending")][::-1]
    if len(after) > 40:  # a waiver id is a uuid7: anything longer cannot be a cursor
        raise Invalid("waivers_after 不是免标识记录编号", "waivers_after is not a label waiver id", field="waivers_after")
    waivers, nxt = label_waivers.page(db, who.actor, sid, after=after or None, limit=WAIVER_ROWS)
    return {"versions": current[::-1] + older[:OLDER_VERSIONS], "older_hidden": max(0, len(older) - OLDER_VERSIONS),
            "active": st["active"], "waivers": waivers, "next": nxt, "after": after}


def ledger_entries(request: Request, sid: str) -> list[dict[str, Any]]:
    with db_of(request).reader() as s:
        entries = list(ledger_store.iter_entries(s, subject=sid))
    return [reads.readable(e) for e in entries[-LEDGER_ROWS:][::-1]]


@router.get("/services/{service_id}")
def service_page(service_id: str, request: Request, hours: str = "", waivers_after: str = "",
                 who: Viewer = Depends(viewer)) -> Response:
    db = db_of(request)
    svc = registry.get(db, who.actor, service_id)  # 404 unknown, 403 out of scope
    state = switch.get_state(db, who.actor, service_id)
    pending = [c for c in switch.pending(db, who.actor) if c["service"] == service_id]
    for c in pending:
        c["mine"] = who.actor.label in c["approvals"]["given"]
    incs = reads.incident_list(db, who.actor, service=service_id)
    return render(request, who, "service.html", svc=svc, state=state, forms=switch_forms(svc, state["state"], who.actor.role),
                  pending=pending, charts=charts(request, service_id),
                  enforcement=runtime_of(request).instance_book.enforcement(who.actor, service_id),
                  warnings=reads.warnings(db, who.actor, state=None, service=service_id, limit=50),
                  incidents=incs, deadline=reads.next_deadline(incs, reads.now_iso(db)),
                  recovery=procedure.status(db, who.actor, service_id), ledger=ledger_entries(request, service_id),
                  plan_steps=[a for a in approvals.pending(db, who.actor) if a["service"] == service_id],
                  remediation_kinds=procedure.KINDS, hourly=hourly(request, who, service_id, hours),
                  measures_in_force=len(user_measures.listing(db, who.actor, service_id, limit=None)["measures"]),
                  compliance=models_and_waivers(request, who, service_id, waivers_after.strip()),
                  level_names=reads.LEVEL_NAMES, action_names=ACTION_NAMES)


def _int(form: dict[str, str], key: str) -> int | None:
    v = form.get(key, "").strip()
    if not v:
        return None
    try:
        return int(v)
    except ValueError:
        raise Invalid(f"{key} 必须是整数", f"{key} must be a whole number", field=key) from None


@router.post("/services/{service_id}/command")
def command(service_id: str, request: Request, who: Viewer = Depends(viewer), form: dict = Depends(posted)) -> Response:
    view = switch.execute(db_of(request), who.actor, service_id, form.get("action", ""), form.get("reason", ""),
                          command_id=form.get("id") or None, rate=_int(form, "rate"), percent=_int(form, "percent"))
    if view["status"] == "awaiting_approval":
        note = who.t(f"指令 {view['action']} 等待审批（{len(view['approvals']['given'])}/{view['approvals']['needed']}）",
                     f"{view['action']} awaits approval ({len(view['approvals']['given'])}/{view['approvals']['needed']})")
    else:
        note = who.t(f"已执行 {view['action']}：{view['from']} → {view['to']}（v{view['version']}）",
                     f"{view['action']} applied: {view['from']} → {view['to']} (v{view['version']})")
    return back(f"/services/{service_id}", note)


@router.post("/commands/{command_id}/approve")
def approve(command_id: str, request: Request, who: Viewer = Depends(viewer), form: dict = Depends(posted)) -> Response:
    view = switch.approve(db_of(request), who.actor, command_id)
    return back(f"/services/{view['service']}", who.t(f"已审批 {view['action']}（{view['status']}）",
                                                      f"approved {view['action']} ({view['status']})"))
