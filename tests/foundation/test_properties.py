"""Property tests: any sequence of commands from any roles keeps the switch inside its table,
versions only grow, the ledger verifies after every step, and every state change has exactly
one ledger entry."""

from __future__ import annotations

import json
import os
import tempfile
import uuid

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from fenghuo.control import gates, switch
from fenghuo.control.gates import GateResult
from fenghuo.control.transitions import TABLE, Action, State, lookup
from fenghuo.ledger import service as ledger
from fenghuo.ledger import store
from fenghuo.platform.db import Database
from fenghuo.platform.errors import FenghuoError
from tests.conftest import PG_URL, PgSchema
from tests.foundation.fixtures import ADMIN, AUDITOR, OP_A, OP_A2, OP_B, REG_BJ, REG_SH, SYSTEM, seed

ACTORS = [ADMIN, OP_A, OP_A2, OP_B, REG_BJ, REG_SH, AUDITOR, SYSTEM]
SERVICES = ["a-chat", "a-med", "b-chat"]


class ToggleGate:
    def __init__(self) -> None:
        self.open = False

    def check(self, session, service_id, from_state, action):
        return GateResult(self.open, [] if self.open else ["closed / closed"])


class SwitchMachine(RuleBasedStateMachine):
    make_db = None  # set by the concrete test classes

    def __init__(self) -> None:
        super().__init__()
        self.db, self.cleanup = self.make_db()
        seed(self.db)
        self.gate = ToggleGate()
        gates.set_recovery_gate(self.gate)
        self.versions = dict.fromkeys(SERVICES, 1)
        self.pending: list[str] = []

    def teardown(self) -> None:
        gates.set_recovery_gate(gates.NoRecoveryYet())
        self.cleanup()

    def _state(self, service: str) -> dict:
        return switch.get_state(self.db, ADMIN, service)

    @rule(open_=st.booleans())
    def set_gate(self, open_):
        self.gate.open = open_

    @rule(actor=st.sampled_from(ACTORS), service=st.sampled_from(SERVICES), action=st.sampled_from(list(Action)),
          rate=st.one_of(st.none(), st.integers(-1, 50)), percent=st.one_of(st.none(), st.integers(0, 101)),
          reason=st.sampled_from(["", "because", "原因"]))
    def command(self, actor, service, action, rate, percent, reason):
        before = self._state(service)
        try:
            view = switch.execute(self.db, actor, service, action, reason, command_id=str(uuid.uuid4()), rate=rate, percent=percent)
        except FenghuoError:
            assert self._state(service)["version"] == before["version"]
            return
        t = lookup(State(before["state"]), action)
        assert t is not None, f"{action} applied from {before['state']}"
        assert actor.role in t.roles and reason.strip()
        if view["status"] == "awaiting_approval":
            self.pending.append(view["command"])
            assert self._state(service)["version"] == before["version"]
        else:
            assert view["version"] == before["version"] + 1 and view["to"] == t.target.value
            self.versions[service] = view["version"]

    @precondition(lambda self: self.pending)
    @rule(actor=st.sampled_from(ACTORS), data=st.data())
    def approve(self, actor, data):
        command_id = data.draw(st.sampled_from(self.pending))
        try:
            view = switch.approve(self.db, actor, command_id)
        except FenghuoError:
            return
        if view["status"] == "applied":
            self.pending.remove(command_id)
            self.versions[view["service"]] = view["version"]

    @invariant()
    def states_are_in_the_table_and_versions_only_grow(self):
        targets = {t.target for t in TABLE.values()} | {State.running}
        for s in SERVICES:
            st_ = self._state(s)
            assert State(st_["state"]) in targets
            assert st_["version"] == self.versions[s]

    @invariant()
    def ledger_verifies_and_has_one_entry_per_state_change(self):
        assert ledger.verify(self.db).ok
        with self.db.reader() as s:
            changes = [json.loads(e["payload"]) | {"subject": e["subject"]} for e in store.iter_entries(s) if e["kind"] == "switch.changed"]
        for service in SERVICES:
            mine = [c["version"] for c in changes if c["subject"] == service]
            assert mine == list(range(1, self.versions[service] + 1))


def _sqlite_db():
    d = tempfile.mkdtemp()
    db = Database(os.path.join(d, "p.db"))
    db.upgrade()
    return db, db.dispose


def _pg_db():
    schema = PgSchema(migrated=True)
    db = schema.database()
    db.upgrade()

    def cleanup():
        db.dispose()
        schema.drop()

    return db, cleanup


class SqliteSwitchMachine(SwitchMachine):
    make_db = staticmethod(_sqlite_db)


class PgSwitchMachine(SwitchMachine):
    make_db = staticmethod(_pg_db)


TestSwitchPropertiesSqlite = SqliteSwitchMachine.TestCase
TestSwitchPropertiesSqlite.settings = settings(max_examples=30, stateful_step_count=25, deadline=None,
                                               suppress_health_check=list(HealthCheck))


@pytest.mark.pg
@pytest.mark.skipif(not PG_URL, reason="FENGHUO_TEST_PG not set: PostgreSQL tests skipped")
class TestSwitchPropertiesPg(PgSwitchMachine.TestCase):
    settings = settings(max_examples=10, stateful_step_count=20, deadline=None, suppress_health_check=list(HealthCheck))
