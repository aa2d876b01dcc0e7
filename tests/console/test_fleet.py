"""The console at fleet scale (issue 19), on SQLite and PostgreSQL: a generated fleet of 2,500
services under nested jurisdictions. The overview's counts equal what the domain lists, its
next/previous keyset pages walk every service once in both directions (filters kept), the
jurisdiction view's cumulative counts equal the services beneath each node, drill-down stays
in the regulator's scope — and no statement a page runs while drawing reads the services
table without a LIMIT, an aggregate or a set of ids (the old pages loaded every service)."""

from __future__ import annotations

import re
import threading
import time
from contextlib import ExitStack, closing, contextmanager

import httpx
import pytest
from sqlalchemy import event

from fenghuo.api.server import ServerThread
from fenghuo.control import listing, switch
from fenghuo.control import services as registry
from fenghuo.demo import fleet
from fenghuo.platform.db import Database
from fenghuo.platform.roles import Role, local_actor
from fenghuo.registry.tokens import create_token
from fenghuo.response import incidents
from tests.conftest import PG_URL, PgSchema

from .conftest import FAST, SHOTS, shot

N = 2500
PROVINCES = 3


@contextmanager
def running_fleet(db):
    me = local_actor()
    for batch in fleet.batches(N, size=1000, provinces=PROVINCES):
        registry.register(db, me, batch)
    every = listing.service_page(db, me, limit=None).items  # the oracle: the domain's own listing, whole
    for svc in every[::97]:  # some paused, one incident open on a few
        switch.execute(db, me, svc["id"], "pause", "fleet test")
    for svc in every[5:20:5]:
        incidents.open_incident(db, me, svc["id"], "IV", "fleet incident")
    tokens = {
        "admin": create_token(db, me, "fleet-admin", Role.admin),
        "regulator": create_token(db, me, "cac-p00", Role.regulator, jurisdiction_id="p00"),
        "national": create_token(db, me, "cac", Role.regulator, jurisdiction_id="cn"),
        "operator": create_token(db, me, "ops-0", Role.operator, provider_id="prov00000"),
    }
    server = ServerThread(db, FAST).__enter__()
    try:
        yield db, server.url, tokens, listing.service_page(db, me, limit=None).items
    finally:
        server.__exit__(None, None, None)


@pytest.fixture(scope="module")
def fleets(tmp_path_factory):
    """One generated fleet per backend for the whole module, made when first asked for: the
    tests only read it, and registering 2,500 services takes seconds each time."""
    made: dict[str, tuple] = {}
    with ExitStack() as stack:
        def get(kind: str) -> tuple:
            if kind not in made:
                if kind == "pg":
                    if not PG_URL:
                        pytest.skip("FENGHUO_TEST_PG not set: PostgreSQL tests skipped")
                    schema = PgSchema(migrated=True)
                    stack.callback(schema.drop)
                    db = schema.database()
                else:
                    db = Database(str(tmp_path_factory.mktemp("fleet") / "fleet.db"))
                stack.callback(db.dispose)
                db.upgrade()
                made[kind] = stack.enter_context(running_fleet(db))
            return made[kind]

        yield get


@pytest.fixture(params=["sqlite", pytest.param("pg", marks=pytest.mark.pg)])
def fleet_console(request, fleets):
    return fleets(request.param)


def client(url: str, token: str) -> httpx.Client:
    c = httpx.Client(base_url=url, timeout=30)
    csrf = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text).group(1)
    assert c.post("/login", data={"token": token, "csrf": csrf, "next": "/"}).status_code == 303
    return c


@contextmanager
def statements(db):
    """Every statement run by a request handler (AnyIO's worker threads), not the background loops."""
    seen: list[str] = []

    def record(conn, cursor, statement, params, context, many):
        if "AnyIO" in threading.current_thread().name:
            seen.append(" ".join(statement.split()))

    engines = {id(e): e for e in (db.engine, db.read_engine)}.values()  # SQLite reads on an engine of their own
    for e in engines:
        event.listen(e, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        for e in engines:
            event.remove(e, "before_cursor_execute", record)


def unbounded(seen: list[str]) -> list[str]:
    """Reads of the services table that could return every service."""
    bounded = ("LIMIT", "count(", "GROUP BY", "services.id = ", "services.id IN", "row_number(")
    return [s for s in seen if re.search(r"\bFROM services\b", s) and not any(b in s for b in bounded)]


def ids(html: str) -> list[str]:
    return re.findall(r'<tr data-service="([^"]+)">', html)


def walk(c: httpx.Client, first: str) -> list[list[str]]:
    """The ids of every page from ``first`` by the next links, checked against the walk back
    from the last page by the previous links."""
    pages, url, last = [], first, first
    while url:
        html = c.get(url).text
        pages.append(ids(html))
        last = url
        m = re.search(r'<a href="([^"]+)" rel="next">', html)
        url = m.group(1).replace("&amp;", "&") if m else None
    back, html = [pages[-1]], c.get(last).text
    while m := re.search(r'<a href="([^"]+)" rel="prev">', html):
        html = c.get(m.group(1).replace("&amp;", "&")).text
        back.append(ids(html))
    assert back[::-1] == pages, "previous pages differ from the pages walked forward"
    return pages


def test_overview_counts_and_pages_at_fleet_scale(fleet_console):
    db, url, tokens, every = fleet_console
    with closing(client(url, tokens["admin"])) as c, statements(db) as seen:
        started = time.perf_counter()
        html = c.get("/").text
        took = time.perf_counter() - started
        assert re.search(r'id="total">(\d+) ', html).group(1) == str(N)
        paused = sum(1 for s in every if s["state"]["state"] == "paused")
        assert f'data-count-state="paused">暂停 {paused}<' in html
        assert f'data-count-state="running">运行 {N - paused}<' in html
        grades: dict[str, int] = {}
        for s in every:
            grades[s["grade"]["grade"]] = grades.get(s["grade"]["grade"], 0) + 1
        assert {g: int(n) for g, n in re.findall(r'data-count-grade="([^"]+)">[^ ]+ (\d+)<', html)} == grades
        assert '<dd data-count="incidents">3</dd>' in html
        assert len(ids(html)) == 100
        print(f"overview of {N} services: {took * 1000:.0f} ms, {len(seen)} statements")
        assert unbounded(seen) == [], unbounded(seen)
    with closing(client(url, tokens["admin"])) as c:
        pages = walk(c, "/")
        flat = [i for p in pages for i in p]
        assert flat == sorted(s["id"] for s in every) and all(len(p) == 100 for p in pages[:-1])
        # filtered: a province's running services, walked both ways
        want = sorted(s["id"] for s in every if s["jurisdiction"].startswith("p01") and s["state"]["state"] == "running")
        pages = walk(c, "/?jurisdiction=p01&state=running")
        assert [i for p in pages for i in p] == want and len(pages) > 1
        html = c.get("/?jurisdiction=p01&state=running").text
        assert re.search(r'id="total">(\d+) ', html).group(1) == str(len(want))
        assert c.get("/?state=nonsense").status_code == 422
        # the state filter's counts (running is counted as the rest of the non-running)
        for state in ("running", "paused"):
            html = c.get(f"/?state={state}&sector=general").text
            chosen = [x for x in every if x["state"]["state"] == state and x["attributes"].get("sector") == "general"]
            assert re.search(r'id="total">(\d+) ', html).group(1) == str(len(chosen))
            by_grade: dict[str, int] = {}
            for x in chosen:
                by_grade[x["grade"]["grade"]] = by_grade.get(x["grade"]["grade"], 0) + 1
            assert {g: int(n) for g, n in re.findall(r'data-count-grade="([^"]+)">[^ ]+ (\d+)<', html)} == by_grade
    # an operator and a regulator count only their own
    with closing(client(url, tokens["operator"])) as c:
        mine = [s for s in every if s["provider"] == "prov00000"]
        assert re.search(r'id="total">(\d+) ', c.get("/").text).group(1) == str(len(mine))
    with closing(client(url, tokens["national"])) as c:  # the root: every service, counted without a path LIKE
        html = c.get("/").text
        assert re.search(r'id="total">(\d+) ', html).group(1) == str(N)
        assert f'data-count-state="paused">暂停 {paused}<' in html
    with closing(client(url, tokens["regulator"])) as c:
        theirs = [s for s in every if s["jurisdiction"].startswith("p00")]
        html = c.get("/").text
        assert re.search(r'id="total">(\d+) ', html).group(1) == str(len(theirs))
        assert {i for p in walk(c, "/") for i in p} == {s["id"] for s in theirs}


def test_jurisdiction_view_at_fleet_scale(fleet_console):
    db, url, tokens, every = fleet_console
    from fenghuo.registry.models import Jurisdiction

    with db.reader() as s:
        paths = {j.id: j.path for j in s.query(Jurisdiction)}

    def beneath(node: str) -> int:
        return sum(1 for x in every if paths[x["jurisdiction"]].startswith(paths[node]))

    def registered(html: str) -> dict[str, int]:
        return {j: int(n) for j, n in re.findall(
            r'<tr class="node depth-\d+" data-jurisdiction="([^"]+)">.*?</th>\s*<td><a href="[^"]+">(\d+)</a></td>', html, re.S)}

    with closing(client(url, tokens["regulator"])) as c, statements(db) as seen:
        started = time.perf_counter()
        html = c.get("/regulator").text
        took = time.perf_counter() - started
        got = registered(html)
        assert set(got) == {j for j, p in paths.items() if p.startswith("cn/p00/") and p.count("/") <= 4}  # p00, cities, districts
        assert got == {j: beneath(j) for j in got}
        assert 'data-jurisdiction="p01"' not in html
        print(f"jurisdiction view of {beneath('p00')} services: {took * 1000:.0f} ms, {len(seen)} statements")
        assert unbounded(seen) == [], unbounded(seen)
        html = c.get("/regulator?node=p00c1").text
        assert '<nav class="crumbs"' in html and set(registered(html)) == {"p00c1", "p00c1d0", "p00c1d1", "p00c1d2"}
        assert c.get("/regulator?node=p01").status_code == 403
        assert c.get("/regulator?node=nowhere").status_code == 404
    for who in ("admin", "national"):
        with closing(client(url, tokens[who])) as c:
            html = c.get("/regulator").text
            states = re.search(r'data-jurisdiction="cn">.*?</tr>', html, re.S).group(0)
            assert f"暂停</span>×{sum(1 for x in every if x['state']['state'] == 'paused')}" in states, states
    with closing(client(url, tokens["admin"])) as c, statements(db) as seen:
        html = c.get("/regulator").text
        got = registered(html)
        assert got["cn"] == N and got == {j: beneath(j) for j in got}
        assert "p00c1d1" not in got and 'href="/regulator?node=p00c1" class="drill"' in html  # deeper: drill down
        assert unbounded(seen) == [], unbounded(seen)


def test_fleet_pages_in_a_browser(fleets, page):
    """What a national regulator sees at fleet scale (SQLite only: the pages are the same)."""
    _, url, tokens, every = fleets("sqlite")
    page.goto(f"{url}/login")
    page.fill("#token", tokens["national"])
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")
    assert page.inner_text("#total").startswith(str(N))
    page.click("a[rel=next]")
    page.wait_for_selector("a[rel=prev]")
    shot(page, "fleet-overview-page-2")
    page.screenshot(path=str(SHOTS / "fleet-overview-page-2-top.png"))  # the counts and the pager, as one sees them
    page.goto(f"{url}/regulator")
    shot(page, "fleet-regulator")
    page.click("a.drill[href='/regulator?node=p00c1']")
    page.wait_for_selector("nav.crumbs")
    assert page.locator("tr.node").count() == 4  # the city and its three districts
    shot(page, "fleet-regulator-drill")
    assert not page.js_errors
