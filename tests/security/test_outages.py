"""Outages (issue 14, item 8): with NATS down (scale-out mode) or the database down, requests
fail within a second with 503 and Retry-After instead of hanging until the client gives up;
once the dependency is back, requests succeed again and nothing acknowledged is lost.

Real servers only, our own and killed for real: a nats-server on a free port (not the shared
one on 4222) and a PostgreSQL cluster in a temporary directory."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

import httpx
import pytest

from fenghuo.api.server import ServerThread
from fenghuo.platform.config import Settings
from fenghuo.platform.db import Database
from fenghuo.platform.roles import Role
from fenghuo.registry.tokens import create_token
from tests.foundation.fixtures import ADMIN, seed
from tests.monitor.helpers import call
from tests.scale.conftest import own_nats, own_pg, pg  # noqa: F401 - fixtures

pytestmark = pytest.mark.pg


def batch(n: int, tag: str | None = None) -> list[dict]:
    tag = tag or uuid.uuid4().hex[:8]
    now = datetime.now(UTC)
    return [call("a-chat", now, id=f"{tag}-{i}") for i in range(n)]


def timed(http: httpx.Client, method: str, path: str, **kw) -> tuple[httpx.Response, float]:
    t0 = time.perf_counter()
    r = http.request(method, path, **kw)
    return r, time.perf_counter() - t0


def wait_for(pred, timeout: float = 20.0, step: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    raise AssertionError("condition not met in time")


def test_nats_down_ingest_fails_fast_with_503_and_nothing_acknowledged_is_lost(pg, own_nats, monkeypatch):  # noqa: F811
    monkeypatch.setenv("FENGHUO_NATS_PREFIX", f"t{uuid.uuid4().hex[:8]}")
    db = pg.make()
    db.upgrade()
    seed(db)
    token = create_token(db, ADMIN, "alice", Role.operator, provider_id="pa")
    settings = Settings(bus_url=own_nats.url, checkpoint_seconds=0, heartbeat_seconds=0.5)
    acknowledged: set[str] = set()
    with ServerThread(db, settings) as server, httpx.Client(base_url=server.url, timeout=30,
                                                           headers={"Authorization": f"Bearer {token}"}) as http:
        first = batch(20)
        r = http.post("/api/v1/events", json=first)
        assert r.status_code == 200 and r.json()["accepted"] == 20, r.text
        acknowledged |= {e["id"] for e in first}

        own_nats.kill()
        refused: list[dict] = []
        for _ in range(5):
            b = batch(10)
            r, took = timed(http, "POST", "/api/v1/events", json=b)
            assert r.status_code in (200, 503), r.text
            assert took < 1.0, f"ingest took {took:.2f} s with NATS down"
            if r.status_code == 200:  # stored before the kill was noticed: acknowledged
                acknowledged |= {e["id"] for e in b}
            else:
                assert int(r.headers["Retry-After"]) >= 1 and r.json()["error"]["code"] == "bus_unavailable"
                refused.append(b)
        assert refused, "no request noticed NATS was down"
        # the rest of the control plane still answers from the database
        assert http.get("/api/v1/services/a-chat").status_code == 200

        own_nats.start()  # same store: what JetStream acknowledged is still there

        def resent() -> bool:
            r = http.post("/api/v1/events", json=refused[0])
            return r.status_code == 200
        wait_for(resent)
        for b in refused:  # what a guard's spool does: send again, same ids
            r = http.post("/api/v1/events", json=b)
            assert r.status_code == 200, r.text
            acknowledged |= {e["id"] for e in b}

        def counted() -> int:
            return int(http.get("/api/v1/indicators/a-chat").json()["windows"]["5m"]["calls"])
        wait_for(lambda: counted() >= len(acknowledged), timeout=30)
        time.sleep(0.5)
        assert counted() == len(acknowledged)  # none lost, none counted twice


def test_database_down_requests_fail_fast_with_503_and_recover(own_pg):  # noqa: F811
    db = Database(own_pg.url)
    db.upgrade()
    seed(db)
    token = create_token(db, ADMIN, "alice", Role.operator, provider_id="pa")
    with ServerThread(db, Settings(checkpoint_seconds=0)) as server, httpx.Client(
            base_url=server.url, timeout=30, headers={"Authorization": f"Bearer {token}"}) as http:
        r = http.post("/api/v1/services/a-chat/commands", json={"action": "throttle", "reason": "before", "rate": 10})
        assert r.status_code == 200, r.text
        own_pg.stop("immediate")
        try:
            for method, path, kw in (("GET", "/api/v1/services", {}),
                                     ("GET", "/api/v1/services/a-chat", {}),
                                     ("POST", "/api/v1/events", {"json": batch(5)}),
                                     ("POST", "/api/v1/services/a-chat/commands",
                                      {"json": {"action": "throttle", "reason": "during", "rate": 20}})):
                r, took = timed(http, method, path, **kw)
                assert r.status_code == 503, (path, r.status_code, r.text)
                assert took < 1.0, f"{path} took {took:.2f} s with the database down"
                assert r.headers["Retry-After"] == "1" and r.json()["error"]["code"] == "database_unavailable"
        finally:
            own_pg.start()
        r = wait_for(lambda: (x := http.get("/api/v1/services/a-chat")).status_code == 200 and x)
        state = r.json()["state"]
        assert state["state"] == "throttled" and state["rate"] == 10  # the acknowledged command is there
        r = http.post("/api/v1/services/a-chat/commands", json={"action": "throttle", "reason": "after", "rate": 30})
        assert r.status_code == 200, r.text
    db.dispose()
