"""Issue 14, item 3: after `recovery verify --run <failing run>` blocked the canary, a checklist
signed by the same operator let it through (the latest verification won). Now a failed
evaluation is superseded only by a later passing evaluation under the same profile; a checklist
counts only where the grade allows one and once a second person — a regulator, under a
regulator's hold — has countersigned it; every step is in the ledger."""

from __future__ import annotations

import json

import pytest

from fenghuo.control import gates, services, switch
from fenghuo.ledger import store
from fenghuo.platform.errors import Conflict, Forbidden
from fenghuo.recovery import procedure
from fenghuo.recovery.gate import install
from fenghuo.registry.spec import parse_registration
from tests.foundation.fixtures import ADMIN, OP_A, OP_A2, REG_BJ, seed

OK = {"title": "post-fix checks", "items": [{"item": "regression set clean", "checked": True}]}
RUNS = {
    "run-fail": (False, {"run_id": "run-fail", "profile": "cn-strict"}),
    "run-pass-lenient": (True, {"run_id": "run-pass-lenient", "profile": "lenient"}),
    "run-pass": (True, {"run_id": "run-pass", "profile": "cn-strict"}),
}


@pytest.fixture(autouse=True)
def gate(monkeypatch):
    install()
    monkeypatch.setattr(procedure, "verdict_loader", lambda rid: RUNS[rid])
    yield
    gates.set_recovery_gate(gates.NoRecoveryYet())


@pytest.fixture
def lite(tmp_path, clock):
    """SQLite only for the variations; the attack itself runs on both databases."""
    from fenghuo.platform.db import Database

    d = Database(str(tmp_path / "fenghuo.db"), clock=clock)
    d.upgrade()
    yield d
    d.dispose()


def paused(db, by=OP_A, service="a-med"):
    seed(db)
    switch.execute(db, by, service, "pause", "red warning")
    procedure.remediate(db, OP_A, service, "model", "new model", {"model_version": "v2"})


def canary(db, who=OP_A, service="a-med"):
    return switch.execute(db, who, service, "canary", "try", percent=5)


def test_a_failed_run_is_not_overridden_by_a_checklist_even_countersigned(db):
    paused(db)
    procedure.verify(db, OP_A, "a-med", run_id="run-fail")
    with pytest.raises(Conflict):
        canary(db)
    v = procedure.verify(db, OP_A, "a-med", checklist=OK)["verifications"][-1]
    with pytest.raises(Conflict) as e:  # the attack of the issue: the latest verification won
        canary(db)
    assert "run-fail" in e.value.en and "same profile" in e.value.en
    procedure.countersign(db, OP_A2, "a-med", v["id"])
    with pytest.raises(Conflict):
        canary(db)
    procedure.verify(db, OP_A, "a-med", run_id="run-pass-lenient")  # an easier profile does not supersede it
    with pytest.raises(Conflict) as e:
        canary(db)
    assert "cn-strict" in e.value.en
    procedure.verify(db, OP_A, "a-med", run_id="run-pass")
    assert canary(db)["to"] == "canary"
    with db.reader() as s:
        entries = list(store.iter_entries(s, subject="a-med"))
    verified = [json.loads(e["payload"]) for e in entries if e["kind"] == "recovery.verified"]
    assert [(p["ref"], p["passed"], p["profile"]) for p in verified if p["method"] == "evaluation"] == [
        ("run-fail", False, "cn-strict"), ("run-pass-lenient", True, "lenient"), ("run-pass", True, "cn-strict")]
    assert any(e["kind"] == "recovery.countersigned" for e in entries)
    evidence = json.loads([e for e in entries if e["kind"] == "switch.changed"][-1]["payload"])["recovery_evidence"]
    assert evidence["verification"]["ref"] == "run-pass" and evidence["verification"]["profile"] == "cn-strict"


def test_a_checklist_needs_a_second_person(lite):
    db = lite
    paused(db)
    v = procedure.verify(db, OP_A, "a-med", checklist=OK)["verifications"][-1]
    with pytest.raises(Conflict) as e:
        canary(db)
    assert "countersign" in e.value.en
    with pytest.raises(Forbidden) as e:
        procedure.countersign(db, OP_A, "a-med", v["id"])
    assert e.value.code == "same_person"
    procedure.countersign(db, OP_A2, "a-med", v["id"])
    with pytest.raises(Conflict):
        procedure.countersign(db, REG_BJ, "a-med", v["id"])  # once
    assert canary(db)["to"] == "canary"


def test_under_a_regulators_hold_a_regulator_must_countersign(lite):
    db = lite
    paused(db, by=REG_BJ)
    v = procedure.verify(db, OP_A, "a-med", checklist=OK)["verifications"][-1]
    with pytest.raises(Forbidden) as e:
        procedure.countersign(db, OP_A2, "a-med", v["id"])
    assert e.value.code == "regulator_countersign_required"
    with pytest.raises(Conflict):
        canary(db, REG_BJ)
    procedure.countersign(db, REG_BJ, "a-med", v["id"])
    assert canary(db, REG_BJ)["to"] == "canary"


def test_a_grade_that_does_not_accept_checklists_refuses_them(lite):
    db = lite
    seed(db)
    services.register(db, ADMIN, parse_registration(
        "{id: a-auto, name: A auto, provider: pa, sector: finance, function: automated_decision, modalities: [text], "
        "reach: 1000, no_human_in_loop: true}"))
    switch.execute(db, OP_A, "a-auto", "pause", "red")
    procedure.remediate(db, OP_A, "a-auto", "model", "new model", {"model_version": "v2"})
    with pytest.raises(Conflict) as e:
        procedure.verify(db, OP_A, "a-auto", checklist=OK)
    assert e.value.code == "checklist_not_allowed"
    procedure.verify(db, OP_A, "a-auto", run_id="run-pass")
    assert canary(db, service="a-auto")["to"] == "canary"


def test_countersign_on_the_command_line(tmp_path):
    from pathlib import Path

    from click.testing import CliRunner

    from fenghuo.cli import root

    runner = CliRunner()

    def run(*args):
        return runner.invoke(root, ["--db", str(tmp_path / "cli.db"), *args], catch_exceptions=False)

    registry = Path(__file__).resolve().parents[2] / "src" / "fenghuo" / "demo" / "registry.yaml"
    assert run("service", "register", str(registry)).exit_code == 0
    assert run("pause", "zhiyi-chat", "--reason", "complaints").exit_code == 0
    assert run("recovery", "remediate", "zhiyi-chat", "--kind", "rules", "--what", "fix", "--evidence", "commit=abc").exit_code == 0
    checklist = tmp_path / "checks.yaml"
    checklist.write_text("items:\n  - {item: regression set clean, checked: true}\n")
    out = json.loads(run("recovery", "verify", "zhiyi-chat", "--checklist", str(checklist), "--json").output)
    ver = out["verifications"][-1]["id"]
    status = json.loads(run("recovery", "status", "zhiyi-chat", "--json").output)
    assert any("countersign" in m for m in status["next"])
    assert "awaiting countersignature" in run("recovery", "status", "zhiyi-chat").output
    r = run("recovery", "countersign", "zhiyi-chat", ver)  # the local CLI acts as the admin, who signed it
    assert r.exit_code == 1 and "someone other than the signer" in " ".join(r.output.split())


def test_a_service_graded_before_the_flag_existed_asks_its_table():
    from types import SimpleNamespace

    old_l4 = SimpleNamespace(grade_defaults={"resume_approvals": 2}, grading_table="cn-default", grade="L4")
    old_l1 = SimpleNamespace(grade_defaults={"resume_approvals": 1}, grading_table="cn-default", grade="L1")
    gone = SimpleNamespace(grade_defaults={}, grading_table="no-such-table", grade="X")
    assert not procedure.checklist_allowed(old_l4) and procedure.checklist_allowed(old_l1)
    assert not procedure.checklist_allowed(gone)
