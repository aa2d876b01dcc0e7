"""The switch: transitions, roles, idempotence, approvals, regulator holds, races."""

from __future__ import annotations

import json
import threading

import pytest

from fenghuo.control import gates, switch
from fenghuo.control.gates import GateResult
from fenghuo.ledger import store
from fenghuo.platform.errors import Conflict, Forbidden, Invalid, NotFound
from tests.foundation.fixtures import AUDITOR, OP_A, OP_A2, OP_B, REG_BJ, REG_SH, SYSTEM, seed


class PassingGate:
    """Stands in for the recovery procedure (a later issue) by recording what it was asked."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, str, str]] = []

    def check(self, session, service_id, from_state, action):
        self.asked.append((service_id, from_state.value, action.value))
        return GateResult(True, evidence={"verification": "test-run-1"})


@pytest.fixture
def passing_gate():
    gate = PassingGate()
    gates.set_recovery_gate(gate)
    yield gate
    gates.set_recovery_gate(gates.NoRecoveryYet())


def entries(db, subject=None):
    with db.reader() as s:
        return list(store.iter_entries(s, subject=subject))


def test_pause_changes_state_version_and_writes_one_entry(db):
    seed(db)
    before = len(entries(db, "a-chat"))
    v = switch.execute(db, OP_A, "a-chat", "pause", "violations rising")
    assert (v["from"], v["to"], v["version"], v["status"]) == ("running", "paused", 2, "applied")
    new = entries(db, "a-chat")[before:]
    assert [e["kind"] for e in new] == ["switch.changed"]
    assert json.loads(new[0]["payload"])["to"] == "paused"


def test_same_command_id_twice_changes_nothing(db):
    seed(db)
    first = switch.execute(db, OP_A, "a-chat", "throttle", "load", command_id="cmd-1", rate=5)
    n = len(entries(db))
    again = switch.execute(db, OP_A, "a-chat", "throttle", "load", command_id="cmd-1", rate=5)
    assert again["replayed"] and again["version"] == first["version"] == 2
    assert len(entries(db)) == n
    assert switch.get_state(db, OP_A, "a-chat")["version"] == 2


def test_reusing_a_command_id_for_something_else_is_refused(db):
    seed(db)
    switch.execute(db, OP_A, "a-chat", "pause", "x", command_id="cmd-1")
    with pytest.raises(Conflict) as e:
        switch.execute(db, OP_A, "a-chat", "stop", "x", command_id="cmd-1")
    assert e.value.code == "id_reused"


def test_illegal_transition_names_current_state_and_what_is_allowed(db):
    seed(db)
    with pytest.raises(Conflict) as e:
        switch.execute(db, OP_A, "a-chat", "restore", "nothing to restore")
    assert e.value.details["current_state"] == "running"
    assert set(e.value.details["allowed"]) == {"pause", "stop", "degrade", "throttle"}


@pytest.mark.parametrize("kw,field", [
    (dict(action="pause", reason="  "), "reason"),
    (dict(action="explode", reason="x"), "action"),
    (dict(action="throttle", reason="x"), "rate"),
    (dict(action="throttle", reason="x", rate=0), "rate"),
    (dict(action="pause", reason="x", rate=3), "rate"),
])
def test_bad_commands_are_refused_and_write_nothing(db, kw, field):
    seed(db)
    n = len(entries(db))
    kw = dict(kw)
    with pytest.raises(Invalid) as e:
        switch.execute(db, OP_A, "a-chat", kw.pop("action"), kw.pop("reason"), **kw)
    assert e.value.details["field"] == field
    assert len(entries(db)) == n


def test_unknown_service(db):
    seed(db)
    with pytest.raises(NotFound):
        switch.execute(db, OP_A, "nope", "pause", "x")


def test_degrade_needs_a_backup_model(db):
    seed(db)
    with pytest.raises(Conflict) as e:
        switch.execute(db, OP_B, "b-chat", "degrade", "primary slow")
    assert e.value.code == "no_backup"
    assert switch.execute(db, OP_A, "a-chat", "degrade", "primary slow")["to"] == "degraded"


def test_role_matrix(db):
    seed(db)
    with pytest.raises(Forbidden):
        switch.execute(db, OP_B, "a-chat", "pause", "not mine")
    with pytest.raises(Forbidden):
        switch.execute(db, AUDITOR, "a-chat", "pause", "auditors read only")
    with pytest.raises(Forbidden):
        switch.execute(db, REG_SH, "a-chat", "pause", "other province")
    with pytest.raises(Forbidden):  # regulators order pauses, they do not throttle
        switch.execute(db, REG_BJ, "a-chat", "throttle", "x", rate=1)
    assert switch.execute(db, REG_BJ, "a-chat", "pause", "regulator order")["to"] == "paused"
    assert switch.execute(db, SYSTEM, "b-chat", "stop", "plan")["to"] == "stopped"


def test_resume_is_refused_until_recovery_is_satisfied(db):
    seed(db)
    switch.execute(db, OP_A, "a-chat", "pause", "x")
    for action, kw in (("resume", {}), ("canary", {"percent": 5})):
        with pytest.raises(Conflict) as e:
            switch.execute(db, OP_A, "a-chat", action, "fixed", **kw)
        assert e.value.code == "recovery_required"
        assert "recovery procedure" in e.value.en
    assert switch.get_state(db, OP_A, "a-chat")["state"] == "paused"


def test_resume_needs_the_grades_number_of_distinct_people(db, passing_gate):
    seed(db)  # a-med is L3: two people must approve a resume
    switch.execute(db, OP_A, "a-med", "pause", "x")
    v = switch.execute(db, OP_A, "a-med", "resume", "fixed and verified", command_id="resume-1")
    assert v["status"] == "awaiting_approval" and v["approvals"] == {"needed": 2, "given": [OP_A.label]}
    assert switch.get_state(db, OP_A, "a-med")["state"] == "paused"
    assert [p["command"] for p in switch.pending(db, OP_A2)] == ["resume-1"]
    with pytest.raises(Conflict) as e:
        switch.approve(db, OP_A, "resume-1")
    assert e.value.code == "duplicate_approval"
    with pytest.raises(Forbidden):
        switch.approve(db, OP_B, "resume-1")
    with pytest.raises(Forbidden):
        switch.approve(db, AUDITOR, "resume-1")
    done = switch.approve(db, OP_A2, "resume-1")
    assert done["status"] == "applied" and done["to"] == "running"
    assert passing_gate.asked[-1] == ("a-med", "paused", "resume")
    changed = [e for e in entries(db, "a-med") if e["kind"] == "switch.changed"][-1]
    assert json.loads(changed["payload"])["recovery_evidence"] == {"verification": "test-run-1"}


def test_single_approval_grade_resumes_at_once(db, passing_gate):
    seed(db)  # a-chat is L1
    switch.execute(db, OP_A, "a-chat", "stop", "x")
    assert switch.execute(db, OP_A, "a-chat", "resume", "fixed")["status"] == "applied"


def test_regulator_pause_is_lifted_only_by_a_regulator(db, passing_gate):
    seed(db)
    switch.execute(db, REG_BJ, "a-chat", "pause", "监管暂停")
    with pytest.raises(Forbidden) as e:
        switch.execute(db, OP_A, "a-chat", "resume", "we fixed it")
    assert e.value.code == "regulator_hold"
    assert switch.execute(db, REG_BJ, "a-chat", "canary", "verified", percent=5)["to"] == "canary"
    assert switch.get_state(db, OP_A, "a-chat")["hold_by"] is None


def test_racing_commands_are_serialised_and_none_is_lost(db_factory, clock):
    db = db_factory(clock)
    seed(db)
    results, errors = [], []

    def worker(i: int) -> None:
        for j in range(10):
            try:
                rate = i * 100 + j + 1
                results.append(switch.execute(db, OP_A, "a-chat", "throttle", f"t{i}-{j}", command_id=f"c{i}-{j}", rate=rate))
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    versions = sorted(r["version"] for r in results)
    assert versions == list(range(2, 2 + 40))  # every command got its own version, none lost
    final = switch.get_state(db, OP_A, "a-chat")
    assert final["version"] == 41
    last = max(results, key=lambda r: r["version"])
    assert final["rate"] == last["params"]["rate"]
