"""The executor: acts through the switch as system with plan and warning named; approvals by
distinct people of the right role and provider; restart mid-plan repeats and skips nothing;
a regulator's order binds the lifting."""

from __future__ import annotations

import json

import pytest

from fenghuo.control import switch
from fenghuo.ledger import store
from fenghuo.platform.errors import Conflict, Forbidden
from fenghuo.response import approvals, incidents, regulator
from fenghuo.response import executor as ex
from fenghuo.response.executor import Executor
from fenghuo.response.library import PlanLibrary
from fenghuo.response.plans import parse_plan
from tests.foundation.fixtures import OP_A, OP_A2, OP_B, REG_BJ, REG_SH, seed
from tests.response.helpers import fire

PLAN = """\
plan: t
version: "1"
title: {zh: 测试, en: test}
applies_to: {default: true}
owner: oncall
triggers:
  - id: orange
    when: {level: orange}
    actions:
      - {id: pause, do: pause, approval: {role: operator, count: 2}}
  - id: red
    when: {level: red}
    actions:
      - {id: notify, do: notify, channels: [oncall]}
      - {id: pause, do: pause}
      - {id: incident, do: open_incident}
      - {id: stop, do: stop, after: 10m}
"""


def make(db):
    seed(db)
    return Executor(db, PlanLibrary.of(parse_plan(PLAN)))


def kinds(db, subject):
    with db.reader() as s:
        return [(e["kind"], json.loads(e["payload"])) for e in store.iter_entries(s, subject=subject)]


def test_red_warning_pauses_as_system_opens_incident_escalates_later(db, clock):
    e = make(db)
    w = fire(db, "a-chat", "red")
    done = e.tick()
    assert [d.get("step") for d in done if "step" in d] == ["red/notify", "red/pause", "red/incident"]
    st = switch.get_state(db, OP_A, "a-chat")
    assert st["state"] == "paused" and st["changed_by"] == "system:plan-executor" and w["id"] in st["reason"] and "plan t@1" in st["reason"]
    (inc,) = incidents.list_incidents(db, OP_A)
    assert inc["grade"] == "I" and inc["source"] == "plan" and inc["clocks"][0]["report"] == "initial"
    assert {x["kind"] for x in inc["timeline"]} >= {"warning", "command"}
    assert e.tick() == []  # nothing repeated
    clock.advance(600)
    (stop,) = [d for d in e.tick() if "step" in d]
    assert stop["step"] == "red/stop" and switch.get_state(db, OP_A, "a-chat")["state"] == "stopped"


def test_restart_mid_plan_repeats_nothing_and_skips_nothing(db, monkeypatch):
    e = make(db)
    w = fire(db, "a-chat", "red")
    real = ex.Executor.perform
    calls = {"n": 0}

    def crash_after_switch(self, aid, plan, step, warning):
        calls["n"] += 1
        if step.action.id == "pause":
            ex.run_switch(self.db, ex.SYSTEM, warning.service, "pause", ex.command_reason(plan, step, warning), "plan-" + aid[4:], None)
            raise KeyboardInterrupt  # the process dies after the switch moved, before the row
        return real(self, aid, plan, step, warning)

    monkeypatch.setattr(ex.Executor, "perform", crash_after_switch)
    with pytest.raises(KeyboardInterrupt):
        e.tick()
    monkeypatch.setattr(ex.Executor, "perform", real)
    before = [k for k, _ in kinds(db, "a-chat")]
    e2 = Executor(db, PlanLibrary.of(parse_plan(PLAN)))  # a fresh process
    done = [d for d in e2.tick() if "step" in d]
    assert [d["step"] for d in done] == ["red/pause", "red/incident"]  # notify was done; none skipped
    assert "replayed" in [a for a in approvals.actions(db, OP_A, warning=w["id"]) if a["step"] == "red/pause"][0]["detail"]
    after = [k for k, _ in kinds(db, "a-chat")][len(before):]
    assert after.count("switch.changed") == 0  # the pause was not given twice
    assert e2.tick() == [] and switch.get_state(db, OP_A, "a-chat")["version"] == 2


def test_approval_by_distinct_people_of_role_and_provider(db):
    e = make(db)
    fire(db, "a-chat", "orange")
    (req,) = [d for d in e.tick() if "step" in d]
    assert req["status"] == "awaiting_approval"
    (p,) = approvals.pending(db, OP_A)
    assert p["approvals"]["needed"] == 2 and "2 more distinct operator" in p["who_can_approve"] and p["since"]
    assert approvals.pending(db, OP_B) == []
    with pytest.raises(Forbidden):
        approvals.approve(db, OP_B, p["action"])  # another provider's operator
    with pytest.raises(Forbidden) as err:
        approvals.approve(db, REG_BJ, p["action"])  # wrong role
    assert err.value.code == "wrong_role"
    approvals.approve(db, OP_A, p["action"])
    with pytest.raises(Conflict) as err:
        approvals.approve(db, OP_A, p["action"])
    assert err.value.code == "duplicate_approval"
    assert switch.get_state(db, OP_A, "a-chat")["state"] == "running"
    v = approvals.approve(db, OP_A2, p["action"])
    assert v["status"] == "done" and switch.get_state(db, OP_A, "a-chat")["state"] == "paused"
    assert "approved by operator:alice@pa, operator:amir@pa" in switch.get_state(db, OP_A, "a-chat")["reason"]


def test_unapproved_step_is_cancelled_when_its_warning_ends(db):
    from tests.response.helpers import resolve

    e = make(db)
    w = fire(db, "a-chat", "orange")
    e.tick()
    resolve(db, w["id"])
    e.tick()
    assert approvals.pending(db, OP_A) == []
    assert approvals.actions(db, OP_A, warning=w["id"])[0]["status"] == "cancelled"


def test_regulator_order_binds_lifting(db):
    seed(db)
    with pytest.raises(Forbidden):
        regulator.order_pause(db, OP_A, "a-chat", "not a regulator")
    with pytest.raises(Forbidden):
        regulator.order_pause(db, REG_SH, "a-chat", "outside jurisdiction")
    switch.execute(db, OP_A, "a-chat", "pause", "provider paused first")
    o = regulator.order_pause(db, REG_BJ, "a-chat", "unlawful content", order_ref="BJ-2026-1")
    assert o["hold_by"] == "regulator:bj-cac@cn-bj" and o["incident"]
    assert incidents.get(db, REG_BJ, o["incident"])["source"] == "regulator"
    with pytest.raises(Forbidden) as err:
        switch.execute(db, OP_A, "a-chat", "canary", "try", percent=5)
    assert err.value.code == "regulator_hold"


def test_a_regulator_order_with_a_bad_grade_is_refused_before_the_pause(db):
    """Found by the fuzzer (a 500): the grade was checked only when the incident was opened,
    after the pause had been taken."""
    seed(db)
    from fenghuo.platform.errors import Invalid

    for bad in ("\u0003", "V", ""):
        with pytest.raises(Invalid) as err:
            regulator.order_pause(db, REG_BJ, "a-chat", "unlawful content", grade=bad)
        assert err.value.details["field"] == "grade"
    assert switch.get_state(db, REG_BJ, "a-chat")["state"] == "running"  # nothing was done
