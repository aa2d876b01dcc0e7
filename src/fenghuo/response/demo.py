"""The response part of ``fenghuo demo`` (the lead's demo calls this; it owns demo/__init__.py).

    from fenghuo.response.demo import demo_steps
    demo_steps(db, "service-id", OPERATOR_A, OPERATOR_B, out_dir=workdir, say=console.print)

Preconditions: the service is registered and a warning at a level its plan pauses on is firing
(from real traffic through the gateway, or ``fire_warning`` below). Runs in real time with a
1-second canary hold: plan → pause → incident and clock → initial report → remediation →
verification → canary ramp → resume with the grade's approvals → accountability.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fenghuo.control import switch
from fenghuo.platform.auth import Actor
from fenghuo.platform.db import Database
from fenghuo.recovery import procedure
from fenghuo.recovery.gate import install
from fenghuo.response import accountability, incidents, reports
from fenghuo.response.executor import Executor


def fire_warning(db: Database, service: str, level: str = "red", alert: str = "output-violations") -> dict[str, Any]:
    """A firing warning written as the alerts engine writes one (for a demo without traffic)."""
    from fenghuo.alerts import store
    from fenghuo.alerts.levels import Level
    from fenghuo.alerts.lifecycle import FIRING, Transition, WarningState

    now = db.clock.now().timestamp()
    w = WarningState(id=store.new_id(), fingerprint=store.fingerprint(alert, service), alert=alert, service=service,
                     state=FIRING, level=Level(level), started_at=now, fired_at=now, rule=f"demo-{level}")
    with db.transaction() as s:
        row = store.save(s, w, {"alert": alert, "service": service, "level": level}, "demo warning", now)
        store.record(s, db.clock, Transition("firing", w, "pending", FIRING, w.level), row)
        return store.view(row)


def demo_steps(db: Database, service: str, operator: Actor, second: Actor, *, out_dir: Path,
               say: Callable[[str], None] = print) -> dict[str, Any]:
    install()
    ex = Executor(db)
    for d in ex.tick():
        if "step" in d:
            say(f"预案动作 / plan step {d['step']}: {d['do']} → {d['status']}")
    st = switch.get_state(db, operator, service)
    say(f"{service}: {st['state']} by {st['changed_by']} — {st['reason']}")
    inc = incidents.list_incidents(db, operator, service=service, status="open")[0]
    clk = inc["clocks"][0] if inc["clocks"] else None
    say(f"事件 / incident {inc['id']} {inc['grade_label']}; " + (f"报告时限 / report due {clk['due_at']} ({clk['rule']})" if clk else "not reportable"))
    rep = reports.generate(db, operator, inc["id"], "initial", {"trend": "已暂停，影响停止扩大 / paused; no further spread"}, out_dir=out_dir)
    say(f"初始报告 / initial report: {rep['files']['docx']}")
    reports.submit(db, operator, rep["report"], "属地省级网信部门 / provincial CAC")
    resolve_warnings(db, service)  # with the service paused its rules clear; the alerts engine resolves them
    procedure.start(db, operator, service, ramp=(5, 25, 100), hold_seconds=1, rollback_level="yellow")
    procedure.remediate(db, operator, service, "rules", "收紧输出检查词库 / tightened the output lexicon", {"commit": "demo-1"})
    procedure.verify(db, operator, service, checklist={"title": "demo", "items": [{"item": "红队提示被拒绝 / red-team prompts refused", "checked": True}]})
    switch.execute(db, operator, service, "canary", "整改并验证通过 / remediated and verified", percent=5)
    for _ in range(20):
        time.sleep(1.05)
        for d in ex.tick():
            if "ramp" in d:
                say(f"灰度 / canary: {d['ramp']}")
        if procedure.status(db, operator, service).get("ramp_completed"):
            break
    cmd = switch.execute(db, operator, service, "resume", "灰度无预警 / canary clean")
    if cmd["status"] == "awaiting_approval":
        say(f"恢复待审批 / resume awaits approval {len(cmd['approvals']['given'])}/{cmd['approvals']['needed']}")
        cmd = switch.approve(db, second, cmd["command"])
    ex.tick()
    say(f"{service}: {switch.get_state(db, operator, service)['state']}")
    acc = accountability.compute(db, operator, inc["id"])
    say(f"履责记录 / accountability (from the ledger): {acc['durations_seconds']}")
    return acc


def resolve_warnings(db: Database, service: str) -> None:
    from fenghuo.alerts import store
    from fenghuo.alerts.lifecycle import FIRING, RESOLVED, Transition
    from fenghuo.alerts.models import WarningRow

    now = db.clock.now().timestamp()
    with db.transaction() as s:
        for row in s.query(WarningRow).filter(WarningRow.service_id == service, WarningRow.state == FIRING).all():
            if (row.labels or {}).get("source") == "response.clock":
                continue
            w = store.state_of(row)
            w.state, w.resolved_at = RESOLVED, now
            store.save(s, w, dict(row.labels), row.description, now)
            store.record(s, db.clock, Transition("resolved", w, FIRING, RESOLVED, w.level), row)
