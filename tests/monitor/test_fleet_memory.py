"""Fleet scale in the monitor (issue 19): indicator memory is bounded by configuration — a
service idle past every window is dropped and reads exactly as before — and the registry
cache catches up from the ledger's tail instead of re-reading every service."""

from __future__ import annotations

import json

from fenghuo.control import services as registry
from fenghuo.monitor.ingest import IngestSettings, Monitor
from fenghuo.platform.clock import ManualClock
from fenghuo.platform.db import Database
from fenghuo.registry.spec import RegistrationFile, ServiceSpec
from tests.monitor.helpers import ADMIN, call, seed


def _monitor(tmp_path, **settings) -> tuple[Database, ManualClock, Monitor]:
    clock = ManualClock()
    db = Database(str(tmp_path / "f.db"), clock=clock)
    db.upgrade()
    seed(db)
    m = Monitor(db, IngestSettings(**settings))
    m.start()
    return db, clock, m


def test_idle_services_are_evicted_and_read_the_same(tmp_path):
    db, clock, m = _monitor(tmp_path, windows={"1m": 60.0, "5m": 300.0})
    t0 = m.now()
    assert m.ingest_body(json.dumps([call("a-chat", t0, unsafe=True), call("b-chat", t0)]).encode(), ADMIN).accepted == 2
    ind = m.indicators
    assert set(ind.services) == {"a-chat", "b-chat"}
    assert ind.value("a-chat", "output_violation_rate", "5m", None, t0) == (1.0, 1)
    clock.advance(300 + 60 + 1)  # past the longest window and the live-instance time
    now = m.now()
    before = {s: ind.snapshot(s, now) for s in ("a-chat", "b-chat")}
    assert m.ingest_body(json.dumps([call("a-med", now)]).encode(), ADMIN).accepted == 1  # the sweep runs on apply
    assert set(ind.services) == {"a-med"} and ind.evicted_total == 2
    assert {s: ind.snapshot(s, now) for s in ("a-chat", "b-chat")} == before  # same reading, from nothing
    assert ind.value("a-chat", "output_violation_rate", "5m", None, now) == (0.0, 0)
    db.dispose()


def test_max_services_bounds_memory(tmp_path):
    db, clock, m = _monitor(tmp_path, max_services=2)
    for svc in ("a-chat", "a-med", "b-chat"):
        clock.advance(1)
        m.ingest_body(json.dumps([call(svc, m.now())]).encode(), ADMIN)
    assert len(m.indicators.services) <= 2 and "b-chat" in m.indicators.services and "a-chat" not in m.indicators.services
    db.dispose()


def test_directory_catches_up_from_the_ledger(tmp_path):
    db, clock, m = _monitor(tmp_path)
    d = m.directory
    assert set(d.services) == {"a-chat", "a-med", "b-chat"}
    spec = {"id": "new-svc", "name": "N", "provider": "pa", "sector": "finance", "function": "content_generation",
            "modalities": ["text"], "reach": 10, "no_human_in_loop": False, "labels": {"k": "v"}}
    registry.register(db, ADMIN, RegistrationFile(services=[ServiceSpec.model_validate(spec)]))
    old = d.services
    d.catch_up()
    assert d.services["new-svc"].sector == "finance" and d.services["new-svc"].labels == {"k": "v"}
    assert d.services["a-chat"] is old["a-chat"]  # untouched rows are not re-read
    registry.register(db, ADMIN, RegistrationFile(services=[ServiceSpec.model_validate({**spec, "labels": {"k": "w"}})]))
    # an event for it is accepted at once: an unknown id makes the cache catch up
    assert m.ingest_body(json.dumps([call("newer", m.now())]).encode(), ADMIN).accepted == 0
    d.catch_up()
    assert d.services["new-svc"].labels == {"k": "w"}
    db.dispose()
