"""`fenghuo pending` lists only commands that can still apply (issue 15): a second resume
awaiting approval after the first one resumed the service is no longer offered."""

from __future__ import annotations

import pytest

from fenghuo.control import gates, switch
from fenghuo.control.gates import GateResult
from fenghuo.platform.errors import Conflict
from tests.foundation.fixtures import OP_A, OP_A2, seed


class PassingGate:
    def check(self, session, service_id, from_state, action):
        return GateResult(True, evidence={"verification": "test-run-1"})


@pytest.fixture
def passing_gate():
    gates.set_recovery_gate(PassingGate())
    yield
    gates.set_recovery_gate(gates.NoRecoveryYet())


def test_pending_hides_commands_the_state_no_longer_allows(db, passing_gate):
    seed(db)  # a-med needs two approvals to resume
    switch.execute(db, OP_A, "a-med", "pause", "x")
    switch.execute(db, OP_A, "a-med", "resume", "fixed", command_id="resume-1")
    switch.execute(db, OP_A2, "a-med", "resume", "fixed too", command_id="resume-2")
    both = switch.pending(db, OP_A2)
    assert [(p["command"], p["applies"], p["current_state"]) for p in both] == [
        ("resume-1", True, "paused"), ("resume-2", True, "paused")]
    assert switch.approve(db, OP_A2, "resume-1")["status"] == "applied"  # now running
    assert switch.pending(db, OP_A2) == []
    stale = switch.pending(db, OP_A2, include_stale=True)
    assert [(p["command"], p["applies"], p["current_state"]) for p in stale] == [("resume-2", False, "running")]
    with pytest.raises(Conflict) as e:  # what approve says of it: the same rule
        switch.approve(db, OP_A, "resume-2")
    assert e.value.code == "illegal_transition"
