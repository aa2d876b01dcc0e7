"""Exactly-once across a crash (issue 19: the dedup ids are written on the driver's connection):
batches acknowledged by ``fenghuo serve`` — through the ingest fast path — are recognised as
duplicates after the process is killed with SIGKILL and started again, and a batch that was
never sent is still counted."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import httpx

from fenghuo.api.server import free_port
from fenghuo.platform.db import Database
from fenghuo.platform.roles import Role
from fenghuo.registry.tokens import create_token
from tests.monitor.helpers import ADMIN, call, seed


def _serve(url: str, home) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "fenghuo.cli", "--db", url, "serve", "--port", str(port),
                             "--checkpoint-every", "0"], env={**os.environ, "FENGHUO_HOME": str(home)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/api/v1/health", timeout=2).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise AssertionError("server did not start")


def test_acknowledged_batches_stay_counted_once_after_sigkill(tmp_path):
    url = str(tmp_path / "fenghuo.db")
    db = Database(url)
    db.upgrade()
    seed(db)
    token = create_token(db, ADMIN, "poster", Role.system)
    db.dispose()
    headers = {"Authorization": f"Bearer {token}", "content-type": "application/json"}
    now = time.time()
    batches = [json.dumps([call("a-chat", now, id=f"b{b}-{i}") for i in range(50)]).encode() for b in range(20)]
    proc, base = _serve(url, tmp_path)
    try:
        for b in batches:
            assert httpx.post(base + "/api/v1/events", content=b, headers=headers).json()["accepted"] == 50
        proc.send_signal(signal.SIGKILL)  # right after the last acknowledgement
        proc.wait(10)
        proc, base = _serve(url, tmp_path)
        for b in batches:
            assert httpx.post(base + "/api/v1/events", content=b, headers=headers).json() == \
                {"accepted": 0, "duplicates": 50, "rejected": []}
        fresh = json.dumps([call("a-chat", time.time(), id=f"new-{i}") for i in range(5)]).encode()
        assert httpx.post(base + "/api/v1/events", content=fresh, headers=headers).json()["accepted"] == 5
    finally:
        proc.kill()
        proc.wait(10)
