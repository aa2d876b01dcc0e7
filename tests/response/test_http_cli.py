"""Over real HTTP (the server runs the executor in its lifespan) and through the CLI with
--server: a red warning pauses the service by itself; a regulator's order; approve a plan step;
reports and accountability; refusals keep their codes."""

from __future__ import annotations

import time

import httpx
import pytest
from click.testing import CliRunner

from fenghuo.api.server import ServerThread
from fenghuo.cli import root
from fenghuo.control import gates
from fenghuo.platform.config import Settings
from fenghuo.platform.roles import Role
from fenghuo.registry.tokens import create_token
from tests.foundation.fixtures import ADMIN, seed
from tests.response.helpers import fire


@pytest.fixture
def server(db_factory, monkeypatch):
    from fenghuo.platform.clock import SYSTEM_CLOCK

    monkeypatch.setenv("FENGHUO_RESPONSE_TICK", "0.1")
    db = db_factory(SYSTEM_CLOCK)
    seed(db)
    tokens = {"op": create_token(db, ADMIN, "alice", Role.operator, provider_id="pa"),
              "op2": create_token(db, ADMIN, "amir", Role.operator, provider_id="pa"),
              "reg": create_token(db, ADMIN, "bj", Role.regulator, jurisdiction_id="cn-bj")}
    settings = Settings(heartbeat_seconds=0.2, poll_seconds=0.05, checkpoint_seconds=0)
    with ServerThread(db, settings) as srv:
        yield srv.url, tokens, db
    gates.set_recovery_gate(gates.NoRecoveryYet())


def cli(url, token, *args):
    r = CliRunner().invoke(root, ["--server", url, "--token", token, *args])
    return r


def wait_for(pred, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.05)
    return False


def test_server_executor_pauses_reports_and_accounts(server):
    url, tok, db = server
    h = {"Authorization": f"Bearer {tok['op']}"}
    fire(db, "a-med", "red")
    assert wait_for(lambda: httpx.get(f"{url}/api/v1/services/a-med/state", headers=h).json()["state"] == "paused")
    assert wait_for(lambda: httpx.get(f"{url}/api/v1/incidents", headers=h).json() != [])
    inc = httpx.get(f"{url}/api/v1/incidents", headers=h).json()[0]
    r = cli(url, tok["op"], "incident", "report", inc["id"], "--kind", "initial", "--field", "trend=contained")
    assert r.exit_code == 0, r.output
    rid = f"{inc['id']}-initial-1"
    assert cli(url, tok["op"], "incident", "submit", rid, "--to", "北京市网信办").exit_code == 0
    again = cli(url, tok["op"], "incident", "submit", rid, "--to", "x")
    assert again.exit_code == 1 and "already_submitted" in again.output
    assert cli(url, tok["reg"], "incident", "submit", rid, "--to", "x").exit_code == 1  # regulators do not submit
    acc = httpx.get(f"{url}/api/v1/incidents/{inc['id']}/accountability", headers=h).json()
    assert acc["reporting"]["on_time"] and acc["paused"]["by"] == "system:plan-executor"
    r = cli(url, tok["op"], "canary", "a-med", "--percent", "5", "-r", "no fix yet")
    assert r.exit_code == 1 and "recovery_required" in r.output


def test_plan_step_approval_and_regulator_order_over_http(server, monkeypatch):
    url, tok, db = server
    fire(db, "a-med", "orange", alert="other")  # medical plan: orange pauses automatically
    h = {"Authorization": f"Bearer {tok['op']}"}
    assert wait_for(lambda: httpx.get(f"{url}/api/v1/services/a-med/state", headers=h).json()["state"] == "paused")
    r = cli(url, tok["reg"], "incident", "order", "a-chat", "-r", "unlawful content", "--order", "BJ-7")
    assert r.exit_code == 0, r.output
    st = httpx.get(f"{url}/api/v1/services/a-chat/state", headers=h).json()
    assert st["state"] == "paused" and st["hold_by"] == "regulator:bj@cn-bj"
    r = cli(url, tok["op"], "incident", "order", "a-chat", "-r", "x")
    assert r.exit_code == 1 and "not_regulator" in r.output
    r = cli(url, tok["op"], "approve", "act-doesnotexist")
    assert r.exit_code == 1 and "unknown plan action" in r.output
