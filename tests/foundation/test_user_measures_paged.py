"""Per-user measures a keyset page at a time (issue 19): walking the pages of
``control.user_measures.listing`` gives every measure in force (or, with ``include_ended``, every
measure) exactly once, oldest first with ties on the time broken by the id; expiry is applied in
the database so pages are full; over HTTP ``X-Next-Cursor`` names the next page (default 100, at
most 1,000) and a guard polling the list reads every page; the CLI pages too. SQLite and
PostgreSQL."""

from __future__ import annotations

import json

import httpx
import pytest
from click.testing import CliRunner

from fenghuo.api.server import ServerThread
from fenghuo.cli import root
from fenghuo.control import services as registry
from fenghuo.control import user_measures
from fenghuo.demo.fleet import fleet
from fenghuo.guard.user_measures import UserFollower, UserTable
from fenghuo.platform.clock import iso
from fenghuo.platform.config import Settings
from fenghuo.platform.errors import Invalid
from fenghuo.platform.roles import Role, local_actor
from fenghuo.registry.tokens import create_token

ADMIN = local_actor()
USERS = 230


@pytest.fixture
def measured(db):
    reg = fleet(3, provinces=1)
    registry.register(db, ADMIN, reg)
    service = reg.services[0].id
    for i in range(USERS):
        if i % 7 == 0:
            db.clock.advance(1)  # several measures share each applied_at: the id breaks ties
        kind = ("warn", "restrict", "suspend")[i % 3]
        user_measures.apply(db, ADMIN, service, f"u{i:04d}", kind, "test", rate=10 if kind == "restrict" else None,
                            until="1h" if i % 5 == 0 else None)
    for i in range(0, USERS, 11):
        user_measures.lift(db, ADMIN, service, f"u{i:04d}", "done")
    db.clock.advance(2 * 3600)  # the ones with until=1h have expired
    return db, service


def _walk(db, service, include_ended, limit):
    out, after, pages = [], None, 0
    while True:
        page = user_measures.listing(db, ADMIN, service, include_ended=include_ended, after=after, limit=limit)
        assert len(page["measures"]) <= limit
        out += page["measures"]
        pages += 1
        if not page["next"]:
            return out, pages
        assert len(page["measures"]) == limit  # never short before the last page
        after = page["next"]


def test_pages_give_every_measure_once_in_order(measured):
    db, service = measured
    every = user_measures.listing(db, ADMIN, service, include_ended=True, limit=None)["measures"]
    assert len(every) == USERS
    assert [(m["applied_at"], m["id"]) for m in every] == sorted((m["applied_at"], m["id"]) for m in every)
    now = iso(db.clock.now())
    in_force = [m for m in every if m["lifted_at"] is None and (m["until"] is None or m["until"] > now)]
    assert 0 < len(in_force) < USERS - 40
    for limit in (1, 17, 100, 1000):
        got, pages = _walk(db, service, False, limit)
        assert [m["id"] for m in got] == [m["id"] for m in in_force]
        assert pages == max(1, -(-len(in_force) // limit))
        got, _ = _walk(db, service, True, limit)
        assert [m["id"] for m in got] == [m["id"] for m in every]
    first = user_measures.listing(db, ADMIN, service)
    assert len(first["measures"]) == 100 and first["next"]  # default page of 100
    assert user_measures.listing(db, ADMIN, service, limit=None)["measures"] == in_force
    for bad in (0, 1001):
        with pytest.raises(Invalid):
            user_measures.listing(db, ADMIN, service, limit=bad)
    with pytest.raises(Invalid):
        user_measures.listing(db, ADMIN, service, after="not-a-cursor")


def test_http_guard_and_cli_read_every_page(measured):
    db, service = measured
    want = [m["id"] for m in user_measures.listing(db, ADMIN, service, limit=None)["measures"]]
    assert len(want) > 100
    token = create_token(db, ADMIN, "root", Role.admin)
    with ServerThread(db, Settings(checkpoint_seconds=0)) as server, \
            httpx.Client(base_url=server.url, timeout=30, headers={"Authorization": f"Bearer {token}"}) as http:
        path = f"/api/v1/services/{service}/user-measures"
        r = http.get(path)
        assert r.status_code == 200 and len(r.json()["measures"]) == 100 and r.headers["X-Next-Cursor"]
        got, after = [], None
        while True:
            r = http.get(path, params={"limit": 40, **({"after": after} if after else {})})
            assert r.status_code == 200, r.text
            got += [m["id"] for m in r.json()["measures"]]
            after = r.headers.get("X-Next-Cursor")
            if not after:
                break
            assert "rel=\"next\"" in r.headers["Link"]
        assert got == want
        assert http.get(path, params={"limit": 1001}).status_code == 422
        assert http.get(path, params={"after": "garbage"}).status_code == 422
        # a guard polling over HTTP sees every measure in force, not the first page
        table = UserTable()
        follower = UserFollower(table, service, control=server.url, token=token)
        try:
            follower.poll()
        finally:
            follower._http.close()
        assert table.version == tuple(sorted(want))
        runner = CliRunner()
        out = runner.invoke(root, ["--server", server.url, "--token", token, "user-measure", "list", service, "--limit", "30",
                                   "--every-page", "--json"])
        assert out.exit_code == 0, out.output
        assert [m["id"] for m in json.loads(out.stdout)["measures"]] == want
    if not db.is_sqlite:
        return  # --db names no schema; on PostgreSQL the CLI was checked through the server above
    first = runner.invoke(root, ["--db", db.url, "user-measure", "list", service, "--all", "--limit", "25"])
    assert first.exit_code == 0 and "--after" in first.stderr
    cursor = first.stderr.split("--after ")[1].split()[0]
    second = runner.invoke(root, ["--db", db.url, "user-measure", "list", service, "--all", "--limit", "25", "--after", cursor, "--json"])
    every = user_measures.listing(db, ADMIN, service, include_ended=True, limit=None)["measures"]
    assert [m["id"] for m in json.loads(second.stdout)["measures"]] == [m["id"] for m in every[25:50]]

