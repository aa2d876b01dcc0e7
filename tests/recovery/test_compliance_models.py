"""Issue 18, item 7 (CN-TC-18): an important model update stays pending — the active version
stays the one to serve — until a passing, complete evaluation under the current profile is
attached; an ordinary update is active at once."""

from __future__ import annotations

import pytest

from fenghuo.evaluation.collected import judge_file
from fenghuo.evaluation.judges import Judges
from fenghuo.evaluation.report import write_reports
from fenghuo.ledger import service as ledger
from fenghuo.platform.errors import Conflict
from fenghuo.recovery import model_updates, procedure
from tests.foundation.fixtures import OP_A, OP_B, seed


def test_ordinary_update_is_active_at_once(db):
    seed(db)
    model_updates.propose(db, OP_A, "a-chat", "v1")
    model_updates.propose(db, OP_A, "a-chat", "v2")
    st = model_updates.status(db, OP_A, "a-chat")
    assert st["active"] == "v2" and [h["status"] for h in st["history"]] == ["superseded", "active"]


def test_important_update_waits_for_a_passing_evaluation(db, tmp_path, monkeypatch):
    seed(db)
    model_updates.propose(db, OP_A, "a-med", "v1")
    v = model_updates.propose(db, OP_A, "a-med", "v2", important=True, note="new base model")
    assert v["status"] == "pending" and model_updates.status(db, OP_A, "a-med")["active"] == "v1"
    # a real run that does not pass (nobody reviewed its manual sample; far fewer than 1,000 questions)
    pairs = tmp_path / "p.csv"
    pairs.write_text("id,prompt,answer,expectation\n1,问,答,answer\n", encoding="utf-8")
    write_reports(judge_file(pairs, Judges([]), [], None, None, "small-run"))
    with pytest.raises(Conflict) as e:
        model_updates.verify(db, OP_A, "a-med", "v2", "small-run")
    assert e.value.code == "verification_failed"
    st = model_updates.status(db, OP_A, "a-med")
    assert st["active"] == "v1" and st["pending"][0]["run"] == "small-run"
    # a passing run held to another profile is not enough either; under the current one it is
    monkeypatch.setattr(procedure, "verdict_loader", lambda run: (True, {"run_id": run, "profile": "smoke", "complete": True}))
    with pytest.raises(Conflict):
        model_updates.verify(db, OP_A, "a-med", "v2", "smoke-run")
    monkeypatch.setattr(procedure, "verdict_loader", lambda run: (True, {"run_id": run, "profile": "gbt45654", "complete": True}))
    assert model_updates.verify(db, OP_A, "a-med", "v2", "good-run")["status"] == "active"
    assert model_updates.status(db, OP_A, "a-med")["active"] == "v2"
    assert ledger.verify(db).ok


def test_other_provider_cannot_propose(db):
    seed(db)
    from fenghuo.platform.errors import Forbidden

    with pytest.raises(Forbidden):
        model_updates.propose(db, OP_B, "a-med", "v9")


def test_verify_names_an_unknown_service_or_run_instead_of_failing(db, monkeypatch, tmp_path):
    """Found by the fuzzer (a 500): the run was read before the service was looked up, and a
    run that could not be read escaped as an unhandled error."""
    from fenghuo.platform.errors import Invalid, NotFound

    seed(db)
    monkeypatch.setenv("FENGHUO_HOME", str(tmp_path))
    with pytest.raises(NotFound):
        model_updates.verify(db, OP_A, "\U000bca16", "0.1.0", "2")
    model_updates.propose(db, OP_A, "a-med", "v2", important=True)
    with pytest.raises(Invalid) as err:
        model_updates.verify(db, OP_A, "a-med", "v2", "no-such-run")
    assert err.value.details["field"] == "run"
