"""The control plane's loop beats, so a command that depends on it (canary) says so when none
runs: the ramp used to stay at 5 % for a CLI-only user without a word (issue 15)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from fenghuo.cli import root
from fenghuo.control import gates, switch
from fenghuo.control.gates import GateResult
from fenghuo.platform.db import open_database
from fenghuo.recovery import loop
from tests.foundation.fixtures import ADMIN, seed


class PassingGate:
    def check(self, session, service_id, from_state, action):
        return GateResult(True, evidence={"verification": "test-run-1"})


@pytest.fixture
def paused(tmp_path, monkeypatch):
    path = tmp_path / "loop.db"
    db = open_database(str(path))
    seed(db)
    switch.execute(db, ADMIN, "a-chat", "pause", "x")
    before = gates.recovery_gate()
    gates.set_recovery_gate(PassingGate())  # the recovery procedure itself is tested in tests/recovery
    monkeypatch.setenv("FENGHUO_DB", str(path))
    yield db
    gates.set_recovery_gate(before)
    db.dispose()


def test_heartbeat_is_seen_while_it_beats_and_gone_when_stopped(paused):
    db = paused
    assert loop.running(db) == [] and "no control-plane loop" in loop.note(db)
    beat = loop.Heartbeat(0.5)
    assert beat(db) == []
    assert [r["holder"] for r in loop.running(db)] == [beat.holder] and loop.note(db) is None
    beat.stop(db)
    assert loop.running(db) == []


def test_canary_says_when_no_loop_will_advance_it(paused):
    runner = CliRunner()
    r = runner.invoke(root, ["canary", "a-chat", "--percent", "5", "--reason", "fixed", "--json"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["to"] == "canary"  # stdout stays JSON; the note is on stderr
    assert "no control-plane loop is running" in r.stderr and "fenghuo recovery ramp" in r.stderr
    beat = loop.Heartbeat(1.0)
    beat(paused)
    r = runner.invoke(root, ["canary", "a-chat", "--percent", "25", "--reason", "step", "--json"], catch_exceptions=False)
    assert r.exit_code == 0 and "no control-plane loop" not in r.stderr, r.stderr
    beat.stop(paused)


def test_recovery_ramp_once_runs_the_loop_and_releases_its_row(paused):
    r = CliRunner().invoke(root, ["recovery", "ramp", "--once"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert "control-plane loop" in r.stdout
    assert loop.running(paused) == []


def test_the_server_loop_beats(paused):
    from fenghuo.api.server import ServerThread
    from fenghuo.platform.config import Settings

    with ServerThread(paused, Settings(checkpoint_seconds=0)):
        import time

        deadline = time.monotonic() + 10
        while not loop.running(paused) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert loop.running(paused), "the server's executor loop did not beat"
    assert loop.running(paused) == []  # released on a clean stop
