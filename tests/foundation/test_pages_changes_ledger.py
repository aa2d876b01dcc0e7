"""``/service-changes`` and scoped ledger reads are keyset pages (issue 19): walking the pages
gives every row once, in order; the CLI ``changes list`` follows the pages locally and against a
server; a scoped ledger read names where the next page starts (SQLite and PostgreSQL)."""

from __future__ import annotations

import json

import httpx
from click.testing import CliRunner

from fenghuo.api.server import ServerThread
from fenghuo.cli import root
from fenghuo.control import regrading
from fenghuo.control import services as registry
from fenghuo.demo.fleet import fleet
from fenghuo.ledger import store
from fenghuo.platform.config import Settings
from fenghuo.platform.roles import Actor, Role, local_actor
from fenghuo.registry import scope
from fenghuo.registry.models import Service, ServiceChange
from fenghuo.registry.tokens import create_token

ADMIN = local_actor()
REG = Actor("p00-cac", Role.regulator, jurisdiction_id="p00")


def _db(db_factory):
    db = db_factory()
    reg = fleet(40, provinces=2)
    registry.register(db, ADMIN, reg)
    with db.transaction() as s:
        for i, svc in enumerate(reg.services):
            # 13 distinct times over 40 changes: ties on requested_at are broken by the id
            s.add(ServiceChange(id=f"chg-{(i * 17) % 40:03d}", service_id=svc.id, spec={}, reasons=[{"change": f"c{i}"}],
                                base_digest="d", status="pending" if i % 4 else "refused", requested_by="t",
                                requested_at=f"2026-03-01T10:{i % 13:02d}:00.000000Z"))
    return db


def _want(db, actor, pending_only=True) -> list[str]:
    with db.reader() as s:
        rows = [(c.requested_at, c.id) for c, svc in s.query(ServiceChange, Service).join(Service, Service.id == ServiceChange.service_id)
                if scope.can_see(s, actor, svc) and (c.status == "pending" or not pending_only)]
    return [i for _, i in sorted(rows)]


def test_service_changes_page_locally_over_http_and_in_the_cli(db_factory):
    db = _db(db_factory)
    for actor in (ADMIN, REG):
        for pending_only in (True, False):
            want = _want(db, actor, pending_only)
            assert len(want) > 0
            got, after = [], None
            while True:
                page = regrading.change_page(db, actor, pending_only=pending_only, after=after, limit=4)
                assert len(page.items) <= 4
                got += [c["id"] for c in page.items]
                if not page.next:
                    break
                after = page.next
            assert got == want, (actor.name, pending_only)
            assert [c["id"] for c in regrading.list_changes(db, actor, pending_only=pending_only)] == want
    runner = CliRunner()
    url = db.engine.url.render_as_string(hide_password=False) if db_factory.kind == "sqlite" else None
    if url:
        out = runner.invoke(root, ["--db", url, "changes", "list", "--all", "--limit", "3", "--json"])
        assert out.exit_code == 0, out.output
        assert [c["id"] for c in json.loads(out.stdout)] == _want(db, ADMIN, False)
    token = create_token(db, ADMIN, "t", Role.admin)
    reg_token = create_token(db, ADMIN, "r", Role.regulator, jurisdiction_id="p00")
    with ServerThread(db, Settings(checkpoint_seconds=0)) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        got, params = [], {"limit": 5}
        while True:
            r = http.get("/api/v1/service-changes", params=params, headers={"Authorization": f"Bearer {reg_token}"})
            assert r.status_code == 200, r.text
            got += [c["id"] for c in r.json()]
            if "X-Next-Cursor" not in r.headers:
                break
            assert 'rel="next"' in r.headers["Link"]
            params = {"limit": 5, "after": r.headers["X-Next-Cursor"]}
        assert got == _want(db, REG)
        bad = http.get("/api/v1/service-changes", params={"after": "nonsense"}, headers={"Authorization": f"Bearer {token}"})
        assert bad.status_code == 422 and "after" in bad.text
        out = runner.invoke(root, ["--server", server.url, "--token", token, "changes", "list", "--all", "--limit", "7", "--json"])
        assert out.exit_code == 0, out.output
        assert [c["id"] for c in json.loads(out.stdout)] == _want(db, ADMIN, False)


def _walk(http, tok: str, limit: int) -> list[dict]:
    got, params = [], {"limit": limit}
    while True:
        r = http.get("/api/v1/ledger", params=params, headers={"Authorization": f"Bearer {tok}"})
        assert r.status_code == 200, r.text
        assert len(r.json()) <= limit
        got += r.json()
        if "X-Next-Cursor" not in r.headers:
            return got
        params = {"limit": limit, "after": r.headers["X-Next-Cursor"]}


def test_a_scoped_ledger_read_pages_with_a_cursor(db_factory, monkeypatch):
    from fenghuo.api import ledger_routes

    db = _db(db_factory)
    reg_token = create_token(db, ADMIN, "r", Role.regulator, jurisdiction_id="p00")
    token = create_token(db, ADMIN, "t", Role.admin)
    with db.reader() as s:
        every = [e["seq"] for e in store.iter_entries(s)]
    with ServerThread(db, Settings(checkpoint_seconds=0)) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        seqs = [e["seq"] for e in _walk(http, token, 6)]
        assert seqs[: len(every)] == every and seqs == sorted(set(seqs))
        whole = [e["seq"] for e in http.get("/api/v1/ledger", params={"limit": 5000},
                                            headers={"Authorization": f"Bearer {reg_token}"}).json()]
        assert 0 < len(whole) < len(every)
        assert [e["seq"] for e in _walk(http, reg_token, 6)] == whole  # the pages are the one long read, cut
        # a page examines at most SCAN_PER_PAGE entries: short pages, the same entries in the end
        monkeypatch.setattr(ledger_routes, "SCAN_PER_PAGE", 3)
        assert [e["seq"] for e in _walk(http, reg_token, 6)] == whole
