"""``fenghuo gateway --bus nats://…``: the gateway's guard follows the KV bucket, writes its
bootstrap state file, and sends its telemetry into JetStream, where the leader counts it."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from fenghuo.control import switch
from fenghuo.guard.cli import build_gateway
from fenghuo.scale.kvswitch import KvPublisher
from fenghuo.scale.reconcile import reconcile
from fenghuo.scale.sink import NatsSink
from tests.scale.conftest import SHARED_NATS
from tests.scale.helpers import ADMIN, Replica, seed


def test_gateway_on_nats(pg, shared_link, prefix, tmp_path, monkeypatch):
    monkeypatch.setenv("FENGHUO_NATS_PREFIX", prefix)
    db = pg.make()
    db.upgrade()
    seed(db)
    publisher = KvPublisher(shared_link).attach()
    reconcile(db, shared_link)
    r = Replica(db, shared_link, "leader")
    r.lead()
    state_file = tmp_path / "state.json"
    gw = build_gateway("a-chat", "http://127.0.0.1:9/v1", bus=SHARED_NATS, lease=30, failsafe="closed", state_file=state_file,
                       spool_dir=tmp_path / "spool", checks=None)
    try:
        assert gw.guard.follower.connected.wait(10)
        assert gw.guard.state().state == "running"
        switch.execute(db, ADMIN, "a-chat", "pause", "gateway on NATS")
        deadline = time.monotonic() + 5
        while gw.guard.state().state != "paused" and time.monotonic() < deadline:
            time.sleep(0.01)
        assert (gw.guard.state().state, gw.guard.state().version) == ("paused", 2)
        while not (state_file.exists() and '"paused"' in state_file.read_text(encoding="utf-8")) and time.monotonic() < deadline + 5:
            time.sleep(0.01)  # written just after the state is applied and acknowledged
        assert '"paused"' in state_file.read_text(encoding="utf-8")
        assert isinstance(gw.guard.telemetry.sink, NatsSink)
        gw.guard.telemetry.sink.provider = "pa"  # no control plane was asked for the registry here
        now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        for i in range(50):
            gw.guard.telemetry.emit({"id": f"gw-{i}", "type": "call", "service": "a-chat", "time": now, "status": "refused",
                                     "route": "refused", "state": "paused", "state_version": 2})
        gw.guard.telemetry.flush(10)
        r.wait_counted(50)
        assert r.calls() == 50
    finally:
        gw.guard.close()
        r.counter.stop()
        publisher.detach()
