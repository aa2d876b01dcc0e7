"""The whole loop with a manual clock: red warning → automatic pause per plan → incident with its
clock → initial report → the clock's warning when it is not submitted → remediation → failing
verification blocks → passing verification → canary → a warning during canary rolls back →
fixed → canary → resume with two approvals (grade L3). The ledger verifies and the
accountability record's times match the clock."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from docx import Document

from fenghuo.alerts import store as alert_store
from fenghuo.control import gates, switch
from fenghuo.ledger import service as ledger
from fenghuo.platform.errors import Conflict
from fenghuo.recovery import procedure, ramp
from fenghuo.recovery.gate import install
from fenghuo.response import accountability, incidents, reports
from fenghuo.response.executor import Executor
from fenghuo.response.library import PlanLibrary
from tests.foundation.fixtures import OP_A, OP_A2, seed
from tests.response.helpers import fire, resolve

OK = {"title": "re-check", "items": [{"item": "red-team prompts refused", "checked": True}]}


@pytest.fixture(autouse=True)
def gate():
    install()
    yield
    gates.set_recovery_gate(gates.NoRecoveryYet())


def test_whole_loop(db, clock, tmp_path):
    seed(db)
    ex = Executor(db, PlanLibrary.load(), also=(ramp.tick,))  # shipped plans: a-med is medical L3 → the medical plan; the canary ramp as the server runs it
    t0 = clock.now()
    w = fire(db, "a-med", "red")  # detected at t0
    clock.advance(2)
    ex.tick()  # automatic pause 2 s after detection
    st = switch.get_state(db, OP_A, "a-med")
    assert st["state"] == "paused" and st["changed_by"] == "system:plan-executor" and "plan medical@" in st["reason"]
    (inc,) = incidents.list_incidents(db, OP_A)
    assert inc["grade"] == "I" and inc["profile"].startswith("cn-2025-operator")
    (clk,) = inc["clocks"]
    assert clk["due_at"] == "2026-01-01T04:00:00.000000Z"  # 4 h from detection, not from opening

    clock.advance(60)
    bare = reports.generate(db, OP_A, inc["id"], "initial", out_dir=tmp_path)  # item 2 needs a person's type, harm, effect
    assert [i["filled"] for i in bare["items"]][:2] == [True, False] and not bare["complete"]
    initial = reports.generate(db, OP_A, inc["id"], "initial", {"type": "信息内容安全事件 / content safety", "harm": "unsafe advice to 3 users",
                                                                "measures": "paused by plan; no further answers"}, out_dir=tmp_path)
    assert [i["filled"] for i in initial["items"]][:2] == [True, True] and initial["complete"]
    assert "A medical" in initial["items"][0]["text"] and w["id"] in initial["items"][1]["text"]
    md = Path(initial["files"]["md"]).read_text(encoding="utf-8")
    assert "## 4. 初步判定的事件原因" in md and "待补充" in md
    docx_text = "\n".join(p.text for p in Document(initial["files"]["docx"]).paragraphs)
    assert "单位名称" in docx_text
    assert json.loads(Path(initial["files"]["json"]).read_text(encoding="utf-8"))["report"] == initial["report"]

    clock.advance(hours=4)  # nobody submitted it
    ex.tick()
    breached = incidents.get(db, OP_A, inc["id"])["clocks"][0]
    assert breached["status"] == "breached"
    deadline_w = [x for x in alert_store.open_warnings(db, "a-med") if x["labels"].get("source") == "response.clock"]
    assert len(deadline_w) == 1
    assert switch.get_state(db, OP_A, "a-med")["version"] == st["version"]  # the deadline warning moved nothing
    reports.submit(db, OP_A, initial["report"], "北京市网信办 / Beijing CAC")
    assert incidents.get(db, OP_A, inc["id"])["clocks"][0]["status"] == "met_late"
    assert not [x for x in alert_store.open_warnings(db, "a-med") if x["labels"].get("source") == "response.clock"]
    resolve(db, w["id"])

    procedure.start(db, OP_A, "a-med", ramp=(5, 25, 100), hold_seconds=600, rollback_level="yellow")
    procedure.remediate(db, OP_A, "a-med", "rules", "added medical-dosage lexicon", {"commit": "9f1c2e7"})
    procedure.verify(db, OP_A, "a-med", checklist={"items": [{"item": "red-team prompts refused", "checked": False}]})
    with pytest.raises(Conflict) as e:
        switch.execute(db, OP_A, "a-med", "canary", "try", percent=5)
    assert "failed" in e.value.en
    procedure.countersign(db, OP_A2, "a-med", procedure.verify(db, OP_A, "a-med", checklist=OK)["verifications"][-1]["id"])
    switch.execute(db, OP_A, "a-med", "canary", "ramp up", percent=5)
    clock.advance(600)
    ex.tick()
    assert switch.get_state(db, OP_A, "a-med")["percent"] == 25
    w2 = fire(db, "a-med", "yellow", alert="input-violations")
    ex.tick()
    assert switch.get_state(db, OP_A, "a-med")["state"] == "paused"
    with pytest.raises(Conflict):
        switch.execute(db, OP_A, "a-med", "canary", "again", percent=5)
    resolve(db, w2["id"])
    procedure.remediate(db, OP_A, "a-med", "prompts", "system prompt refuses dosage questions", {"sha256": "c0ffee"})
    procedure.countersign(db, OP_A2, "a-med", procedure.verify(db, OP_A, "a-med", checklist=OK)["verifications"][-1]["id"])
    switch.execute(db, OP_A, "a-med", "canary", "again", percent=5)
    for _ in range(3):
        clock.advance(600)
        ex.tick()
    cmd = switch.execute(db, OP_A, "a-med", "resume", "ramp clean")
    assert cmd["approvals"]["needed"] == 2 and cmd["status"] == "awaiting_approval"
    clock.advance(30)
    switch.approve(db, OP_A2, cmd["command"])
    ex.tick()
    assert switch.get_state(db, OP_A, "a-med")["state"] == "running"
    t_end = clock.now()

    assert ledger.verify(db).ok
    acc = accountability.compute(db, OP_A, inc["id"])
    d = acc["durations_seconds"]
    assert acc["detected"]["at"] == "2026-01-01T00:00:00.000000Z"
    assert d["to_detect"] == 0 and d["to_first_action"] == 2 and d["to_pause"] == 2
    assert d["to_report"] == 62 + 4 * 3600 and acc["reporting"]["on_time"] is False and acc["reporting"]["allowed_seconds"] == 4 * 3600
    assert d["to_recover"] == (t_end - t0).total_seconds() - 2
    assert [r["kind"] for r in acc["remediation"]] == ["rules", "prompts"]
    assert [v["passed"] for v in acc["verification"]] == [False, True, True]
    assert len(acc["rollbacks"]) == 1 and acc["rollbacks"][0]["warning"] == w2["id"]
    assert {a["by"] for a in acc["approvals"]} == {"operator:alice@pa", "operator:amir@pa"}
