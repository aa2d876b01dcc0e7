"""Coverage at fleet scale (issue 19): the SQL aggregates of ``monitor.coverage`` give, for every
node, actor scope and subtree, exactly what the straightforward per-service computation gives
(the old implementation, kept here as the reference), and the per-service pages list every
unmonitored / stale / current service once, in id order; over HTTP the next page is named by
``X-Next-Cursor``. SQLite and PostgreSQL."""

from __future__ import annotations

import json
import random
import time
from datetime import UTC, datetime

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from fenghuo.api.server import ServerThread
from fenghuo.cli import root
from fenghuo.control import services as registry
from fenghuo.control import switch
from fenghuo.control.models import SwitchState
from fenghuo.demo.fleet import fleet
from fenghuo.monitor import coverage
from fenghuo.monitor.indicators import Indicators
from fenghuo.monitor.schema import EventType
from fenghuo.monitor.wire import WireEvent
from fenghuo.platform.config import Settings
from fenghuo.platform.errors import Invalid, NotFound
from fenghuo.platform.roles import Actor, Role, local_actor
from fenghuo.registry import scope
from fenghuo.registry.models import Jurisdiction, Service
from fenghuo.registry.tokens import create_token

ADMIN = local_actor()
N = 320


def _event(i: int, service: str, t: float, instance: str, version: int) -> WireEvent:
    return WireEvent(id=f"e{i}", type=EventType.call, service=service, time=datetime.fromtimestamp(t, UTC),
                     instance=instance, state="running", state_version=version)


@pytest.fixture(scope="module")
def covered(module_db_factory):
    """A generated fleet with its indicators, made once per backend: the tests only read it
    (coverage at a fixed ``now``), and registering and switching it is seconds a time."""
    db = module_db_factory()
    reg = fleet(N, provinces=2)
    registry.register(db, ADMIN, reg)
    ids = sorted(s.id for s in reg.services)
    rng = random.Random(19)
    for sid in rng.sample(ids, 12):  # a switch at version 2: instances still at 1 are stale
        switch.execute(db, ADMIN, sid, "pause", "test")
    now = time.time()
    ind = Indicators()
    events = []
    for i, sid in enumerate(ids):
        r = rng.random()
        if r < 0.35:
            events.append(_event(i, sid, now - rng.uniform(0, 50), "g1", 1))
        elif r < 0.45:
            events.append(_event(i, sid, now - 5, "g1", 1))
            events.append(_event(10_000 + i, sid, now - 5, "g2", rng.choice([1, 2, 3])))
        elif r < 0.55:
            events.append(_event(i, sid, now - 200, "g1", 1))  # reported, but no longer live
    ind.apply(events, now)
    return db, ind, now, reg


def _reference(db, ind: Indicators, actor: Actor, jurisdiction_id: str | None, now: float) -> list[dict]:
    """The per-service computation coverage did before issue 19."""
    with db.reader() as s:
        nodes = s.execute(select(Jurisdiction).order_by(Jurisdiction.path)).scalars().all()
        if jurisdiction_id:
            root = s.get(Jurisdiction, jurisdiction_id)
            nodes = [n for n in nodes if n.path.startswith(root.path)]
        services = [(svc.id, svc.jurisdiction_path) for svc in s.execute(select(Service)).scalars() if scope.can_see(s, actor, svc)]
        versions = dict(s.execute(select(SwitchState.service_id, SwitchState.version)).all())
    status = {}
    for sid, _ in services:
        si = ind.services.get(sid)
        live = si.live_instances(now) if si else {}
        status[sid] = (bool(live), bool(live) and all(v[1] == versions.get(sid) for v in live.values()))
    rows = []
    for node in nodes:
        beneath = [sid for sid, path in services if path.startswith(node.path)]
        monitored = [sid for sid in beneath if status[sid][0]]
        current = [sid for sid in monitored if status[sid][1]]
        unmon, stale = sorted(set(beneath) - set(monitored)), sorted(set(monitored) - set(current))
        rows.append({"jurisdiction": node.id, "name": node.name, "level": node.level, "path": node.path,
                     "registered": len(beneath), "monitored": len(monitored), "enforcing_current": len(current),
                     "monitored_share": round(len(monitored) / len(beneath), 4) if beneath else None,
                     "unmonitored": unmon if len(unmon) <= coverage.SAMPLE else None,
                     "stale_version": stale if len(stale) <= coverage.SAMPLE else None,
                     "unmonitored_count": len(unmon), "stale_count": len(stale), "_all": (unmon, stale, sorted(current))})
    return rows


def _actors(reg) -> list[Actor]:
    prov = reg.services[0].provider
    return [ADMIN, Actor("p00-cac", Role.regulator, jurisdiction_id="p00"), Actor("c-cac", Role.regulator, jurisdiction_id="p01c2"),
            Actor("cn-cac", Role.regulator, jurisdiction_id="cn"), Actor("op", Role.operator, provider_id=prov),
            Actor("aud", Role.auditor, provider_id=prov), Actor("aud-p01", Role.auditor, jurisdiction_id="p01"),
            Actor("aud-all", Role.auditor)]


def _walk(db, ind, actor, jid, now, status, limit=7) -> list[dict]:
    out, after, n = [], None, 0
    while True:
        page = coverage.service_page(db, ind, actor, jid, now, status=status, after=after, limit=limit)
        assert len(page.items) <= limit
        out += page.items
        n += 1
        if not page.next:
            return out
        after = page.next
        assert n < 1000


@pytest.mark.parametrize("whole_read", [True, False], ids=["scope-read", "by-id"])
def test_aggregates_equal_the_per_service_computation(covered, monkeypatch, whole_read):
    db, ind, now, reg = covered
    if not whole_read:  # the live services looked up by id (what a large scope with few live ones does)
        monkeypatch.setattr(coverage, "WHOLE_READ_MIN", 10**9)
    checked = 0
    for actor in _actors(reg):
        for jid in (None, "cn", "p01", "p00c1", "p00c1d2"):
            ref = _reference(db, ind, actor, jid, now)
            got = coverage.coverage(db, ind, actor, jid, now)
            assert got == [{k: v for k, v in r.items() if k != "_all"} for r in ref], (actor, jid)
            checked += 1
    top = coverage.coverage(db, ind, ADMIN, None, now)[0]
    # the fleet spans every case: unmonitored, current, stale, more than a sample of each kind
    assert top["registered"] == N and top["unmonitored_count"] > coverage.SAMPLE and top["stale_count"] >= 5
    assert 0 < top["enforcing_current"] < top["monitored"] < N
    assert top["unmonitored"] is None
    small = [r for r in coverage.coverage(db, ind, ADMIN, None, now) if r["unmonitored"]]
    assert small and all(len(r["unmonitored"]) == r["unmonitored_count"] <= coverage.SAMPLE for r in small)
    assert checked == 40
    with pytest.raises(NotFound):
        coverage.coverage(db, ind, ADMIN, "nowhere", now)


def test_service_pages_list_each_service_once(covered):
    db, ind, now, reg = covered
    for actor in _actors(reg)[:5]:
        for jid in (None, "p01"):
            ref = _reference(db, ind, actor, jid, now)[0]
            unmon, stale, current = ref["_all"]
            assert [r["service"] for r in _walk(db, ind, actor, jid, now, "unmonitored")] == unmon
            assert [r["service"] for r in _walk(db, ind, actor, jid, now, "stale_version")] == stale
            assert [r["service"] for r in _walk(db, ind, actor, jid, now, "enforcing_current")] == current
            assert [r["service"] for r in _walk(db, ind, actor, jid, now, "monitored", limit=3)] == sorted(stale + current)
            every = _walk(db, ind, actor, jid, now, None, limit=50)
            assert [r["service"] for r in every] == sorted(unmon + stale + current)
            assert {r["status"] for r in every} <= {"unmonitored", "stale_version", "enforcing_current"}
    with pytest.raises(Invalid):
        coverage.service_page(db, ind, ADMIN, None, now, status="half")
    with pytest.raises(Invalid):
        coverage.service_page(db, ind, ADMIN, None, now, limit=0)
    for bad in ({"after": "svc\x00"}, {"after": ""}):
        with pytest.raises(Invalid):
            coverage.service_page(db, ind, ADMIN, None, now, **bad)
    with pytest.raises(Invalid):
        coverage.coverage(db, ind, ADMIN, "p0\x001", now)


def test_http_pages_follow_the_cursor(db_factory):
    db = db_factory()
    reg = fleet(120, provinces=2)
    registry.register(db, ADMIN, reg)
    ids = sorted(s.id for s in reg.services)
    watched = ids[::3]
    admin = create_token(db, ADMIN, "root", Role.admin)
    now = datetime.now(UTC).isoformat()
    events = [{"id": f"ev-{sid}", "type": "call", "service": sid, "time": now, "instance": "g1", "state": "running",
               "state_version": 1, "route": "primary", "status": "ok", "latency_ms": 5.0} for sid in watched]
    with ServerThread(db, Settings(checkpoint_seconds=0)) as server, \
            httpx.Client(base_url=server.url, timeout=30, headers={"Authorization": f"Bearer {admin}"}) as http:
        assert http.post("/api/v1/events", json=events).json()["accepted"] == len(watched)
        rows = {r["jurisdiction"]: r for r in http.get("/api/v1/coverage").json()}
        assert rows["cn"]["registered"] == 120 and rows["cn"]["monitored"] == len(watched)
        assert rows["cn"]["unmonitored_count"] == 120 - len(watched) and rows["cn"]["unmonitored"] is None
        assert rows["cn"]["stale_version"] == []
        got, after = [], None
        while True:
            r = http.get("/api/v1/coverage/services", params={"status": "unmonitored", "limit": 25, **({"after": after} if after else {})})
            assert r.status_code == 200, r.text
            got += [x["service"] for x in r.json()]
            after = r.headers.get("X-Next-Cursor")
            if not after:
                break
        assert got == [s for s in ids if s not in set(watched)]
        assert http.get("/api/v1/coverage/services", params={"limit": 5000}).status_code == 422
        assert http.get("/api/v1/coverage/services", params={"status": "bogus"}).status_code == 422
        runner, cli = CliRunner(), ["--server", server.url, "--token", admin, "monitor", "coverage"]
        out = runner.invoke(root, [*cli, "--json"])
        assert out.exit_code == 0, out.output
        assert {r["jurisdiction"]: r["monitored"] for r in json.loads(out.stdout)}["cn"] == len(watched)
        out = runner.invoke(root, [*cli, "--services", "unmonitored", "--limit", "25", "--all", "--json"])
        assert out.exit_code == 0, out.output
        assert [r["service"] for r in json.loads(out.stdout)] == got
        out = runner.invoke(root, [*cli, "--jurisdiction", "p01"])
        assert out.exit_code == 0 and "p01" in out.stdout
    if db.is_sqlite:  # --db names no schema on PostgreSQL
        local = CliRunner().invoke(root, ["--db", db.url, "monitor", "coverage"])
        assert local.exit_code != 0 and "--server" in local.output
