"""Kill the server (SIGKILL) while one warning fires and another is pending: after a restart the
same warnings are in the same states, nothing is notified twice, and redelivered events are
not counted twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime

import httpx
import pytest

from fenghuo.api.server import free_port
from fenghuo.platform.db import Database
from fenghuo.platform.roles import Role
from fenghuo.registry.tokens import create_token
from tests.monitor.helpers import ADMIN, call, seed

RULES = """
rules:
  - {name: viol-red, services: {ids: [a-chat]}, indicator: output_violation_rate, window: 1m,
     threshold: {op: ">", value: 0.5}, for: 0, min_samples: 10, level: red, description: red}
  - {name: errors-orange, services: {ids: [b-chat]}, indicator: error_rate, window: 1m,
     threshold: {op: ">", value: 0.2}, for: 10m, min_samples: 10, level: orange, description: errors}
"""


class Server:
    def __init__(self, db_path, env):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen([sys.executable, "-m", "fenghuo.cli", "--db", str(db_path), "serve", "--port",
                                      str(self.port), "--checkpoint-every", "0"], env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/api/v1/warnings", timeout=1).status_code in (200, 401):
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.proc.kill()
        raise RuntimeError("server did not start: " + self.proc.stderr.read().decode()[-2000:])

    def kill(self):
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)


@pytest.mark.slow
def test_sigkill_while_pending_and_firing(tmp_path, receiver):
    db_path = tmp_path / "fenghuo.db"
    db = Database(str(db_path))
    db.upgrade()
    seed(db)
    token = create_token(db, ADMIN, "guard", Role.system)
    db.dispose()
    (tmp_path / "rules.yaml").write_text(RULES, encoding="utf-8")
    (tmp_path / "alerts.yaml").write_text(json.dumps({"packs": "none", "rules": ["rules.yaml"], "channels": [
        {"name": "hook", "type": "webhook", "url": receiver.url + "/hook"}]}), encoding="utf-8")
    env = {**os.environ, "FENGHUO_ALERTS": str(tmp_path / "alerts.yaml"), "FENGHUO_HOME": str(tmp_path / "home")}
    auth = {"Authorization": f"Bearer {token}"}
    now = datetime.now(UTC)
    red = [call("a-chat", now, unsafe=True) for _ in range(20)]
    errors = [call("b-chat", now, status="upstream_error") for _ in range(20)]

    s1 = Server(db_path, env)
    try:
        r = httpx.post(s1.url + "/api/v1/events", json=red + errors, headers=auth)
        assert r.json()["accepted"] == 40
        deadline = time.monotonic() + 10
        while not receiver.requests and time.monotonic() < deadline:
            time.sleep(0.05)
        before = {(w["id"], w["alert"], w["state"], w["level"])
                  for w in httpx.get(s1.url + "/api/v1/warnings", params={"state": "open"}, headers=auth).json()}
        assert {(a, st, lv) for _, a, st, lv in before} == {("viol-red", "firing", "red"), ("errors-orange", "pending", "orange")}
        time.sleep(0.3)
    finally:
        s1.kill()
    assert [q["json"]["kind"] for q in receiver.requests] == ["firing"]

    s2 = Server(db_path, env)
    try:
        after = {(w["id"], w["alert"], w["state"], w["level"])
                 for w in httpx.get(s2.url + "/api/v1/warnings", params={"state": "open"}, headers=auth).json()}
        assert after == before
        again = httpx.post(s2.url + "/api/v1/events", json=red, headers=auth).json()
        assert again == {"accepted": 0, "duplicates": 20, "rejected": []}  # same ids: counted once
        fresh = [call("a-chat", datetime.now(UTC), unsafe=True) for _ in range(20)]
        assert httpx.post(s2.url + "/api/v1/events", json=fresh, headers=auth).json()["accepted"] == 20
        time.sleep(1.5)  # a tick or more and a notifier pass
        now_open = {(w["id"], w["alert"], w["state"], w["level"])
                    for w in httpx.get(s2.url + "/api/v1/warnings", params={"state": "open"}, headers=auth).json()}
        assert now_open == before
        assert [q["json"]["kind"] for q in receiver.requests] == ["firing"]  # nothing sent twice
        ledger = httpx.get(s2.url + "/api/v1/ledger/verify", headers=auth)
        assert ledger.status_code == 200 and ledger.json()["ok"]
    finally:
        s2.kill()
