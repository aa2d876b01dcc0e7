"""The road back: remediation, verification (failing blocks, passing opens), canary ramp with
holds, automatic rollback on a warning, resume with the grade's approvals; refusals that say
what is missing."""

from __future__ import annotations

import json

import pytest

from fenghuo.control import gates, switch
from fenghuo.ledger import service as ledger
from fenghuo.ledger import store
from fenghuo.platform.errors import Conflict, Forbidden, Invalid
from fenghuo.recovery import procedure, ramp
from fenghuo.recovery.gate import install
from tests.foundation.fixtures import AUDITOR, OP_A, OP_A2, OP_B, REG_BJ, SYSTEM, seed
from tests.response.helpers import fire, resolve

OK = {"title": "post-fix checks", "items": [{"item": "regression set clean", "checked": True}]}
NOT_OK = {"title": "post-fix checks", "items": [{"item": "regression set clean", "checked": False}]}


@pytest.fixture(autouse=True)
def gate():
    install()
    yield
    gates.set_recovery_gate(gates.NoRecoveryYet())


def paused(db, service="a-med"):
    seed(db)
    switch.execute(db, OP_A, service, "pause", "red warning")
    procedure.start(db, OP_A, service, ramp=(5, 25, 100), hold_seconds=300)


def test_canary_refused_until_remediation_and_passing_verification(db):
    paused(db)
    with pytest.raises(Conflict) as e:
        switch.execute(db, OP_A, "a-med", "canary", "try", percent=5)
    assert e.value.code == "recovery_required" and "no remediation" in e.value.en and "no verification" in e.value.en
    with pytest.raises(Conflict) as e:
        procedure.verify(db, OP_A, "a-med", checklist=OK)
    assert e.value.code == "remediation_required"
    procedure.remediate(db, OP_A, "a-med", "rules", "tightened output lexicon", {"commit": "abc123"})
    procedure.verify(db, OP_A, "a-med", checklist=NOT_OK)
    with pytest.raises(Conflict) as e:
        switch.execute(db, OP_A, "a-med", "canary", "try", percent=5)
    assert "failed" in e.value.en
    with pytest.raises(Conflict) as e:
        switch.execute(db, OP_A, "a-med", "resume", "straight back")
    assert "canary ramp" in e.value.en
    procedure.countersign(db, OP_A2, "a-med", procedure.verify(db, OP_A, "a-med", checklist=OK)["verifications"][-1]["id"])
    v = switch.execute(db, OP_A, "a-med", "canary", "start ramp", percent=5)
    assert v["to"] == "canary"
    with db.reader() as s:
        last = [e for e in store.iter_entries(s, subject="a-med") if e["kind"] == "switch.changed"][-1]
    assert json.loads(last["payload"])["recovery_evidence"]["verification"]["passed"] is True


def test_evaluation_run_verdict_is_the_named_check(db, monkeypatch):
    paused(db)
    procedure.remediate(db, OP_A, "a-med", "model", "new model", {"model_version": "v2"})
    runs = {"run-bad": (False, {"run_id": "run-bad"}), "run-good": (True, {"run_id": "run-good"})}
    monkeypatch.setattr(procedure, "verdict_loader", lambda rid: runs[rid])
    procedure.verify(db, OP_A, "a-med", run_id="run-bad")
    with pytest.raises(Conflict):
        switch.execute(db, OP_A, "a-med", "canary", "try", percent=5)
    procedure.verify(db, OP_A, "a-med", run_id="run-good")
    assert switch.execute(db, OP_A, "a-med", "canary", "go", percent=5)["to"] == "canary"


def test_missing_evaluation_run_is_a_clear_refusal(db):
    paused(db)
    procedure.remediate(db, OP_A, "a-med", "model", "new model", {"model_version": "v2"})
    with pytest.raises(Exception) as e:
        procedure.verify(db, OP_A, "a-med", run_id="no-such-run")
    assert "no-such-run" in str(getattr(e.value, "en", e.value))


def test_ramp_holds_rolls_back_and_resumes_with_two_approvals(db, clock):
    paused(db)
    procedure.remediate(db, OP_A, "a-med", "rules", "fix", {"commit": "c1"})
    procedure.countersign(db, OP_A2, "a-med", procedure.verify(db, OP_A, "a-med", checklist=OK)["verifications"][-1]["id"])
    switch.execute(db, OP_A, "a-med", "canary", "start", percent=5)
    clock.advance(299)
    assert ramp.tick(db) == []
    clock.advance(1)
    assert ramp.tick(db)[0]["percent"] == 25
    w = fire(db, "a-med", "yellow")
    clock.advance(10)
    assert ramp.tick(db)[0]["rolled_back"]
    assert switch.get_state(db, OP_A, "a-med")["state"] == "paused"
    with pytest.raises(Conflict) as e:  # round 2 needs its own remediation and verification
        switch.execute(db, OP_A, "a-med", "canary", "again", percent=5)
    assert "round 2" in e.value.en
    resolve(db, w["id"])
    procedure.remediate(db, OP_A, "a-med", "prompts", "system prompt fix", {"sha256": "ff00"})
    procedure.countersign(db, OP_A2, "a-med", procedure.verify(db, OP_A, "a-med", checklist=OK)["verifications"][-1]["id"])
    switch.execute(db, OP_A, "a-med", "canary", "again", percent=5)
    for pct in (25, 100):
        clock.advance(300)
        assert ramp.tick(db)[0]["percent"] == pct
    with pytest.raises(Conflict) as e:
        switch.execute(db, OP_A, "a-med", "resume", "too early")
    assert "not completed" in e.value.en
    clock.advance(300)
    assert ramp.tick(db)[0]["ramp_completed"]
    assert ramp.tick(db) == []  # nothing repeated
    with pytest.raises(Forbidden):
        switch.execute(db, SYSTEM, "a-med", "resume", "automation may not resume")
    cmd = switch.execute(db, OP_A, "a-med", "resume", "ramp clean")
    assert cmd["status"] == "awaiting_approval" and cmd["approvals"]["needed"] == 2
    with pytest.raises(Conflict) as e:
        switch.approve(db, OP_A, cmd["command"])
    assert e.value.code == "duplicate_approval"
    with pytest.raises(Forbidden):
        switch.approve(db, OP_B, cmd["command"])
    with pytest.raises(Forbidden):
        switch.approve(db, AUDITOR, cmd["command"])
    assert switch.approve(db, OP_A2, cmd["command"])["status"] == "applied"
    assert ramp.tick(db)[0]["completed"]
    assert procedure.status(db, OP_A, "a-med")["procedure"] is None
    assert ledger.verify(db).ok


def test_recovery_refusals(db):
    seed(db)
    with pytest.raises(Conflict) as e:
        procedure.remediate(db, OP_A, "a-med", "rules", "x", {"commit": "1"})
    assert e.value.code == "nothing_to_recover"
    switch.execute(db, OP_A, "a-med", "pause", "x")
    with pytest.raises(Invalid):
        procedure.remediate(db, OP_A, "a-med", "rules", "x", {})
    with pytest.raises(Invalid):
        procedure.remediate(db, OP_A, "a-med", "vibes", "x", {"commit": "1"})
    with pytest.raises(Forbidden):
        procedure.remediate(db, OP_B, "a-med", "rules", "x", {"commit": "1"})
    with pytest.raises(Forbidden):
        procedure.remediate(db, SYSTEM, "a-med", "rules", "x", {"commit": "1"})
    procedure.remediate(db, REG_BJ, "a-med", "rules", "regulator-witnessed fix", {"doc": "order-1"})
    with pytest.raises(Invalid):
        procedure.verify(db, OP_A, "a-med", checklist={"items": []})
    with pytest.raises(Invalid):
        procedure.verify(db, OP_A, "a-med", run_id="r", checklist=OK)
