"""Issue 19: the events fast path stands ahead of FastAPI (``api.app.ControlPlane``). A request
it answers never enters FastAPI or Starlette's middleware, so each guarantee those give the
route is checked here on a real server: the bearer check and the per-address failure limit,
the body limit, the error bodies (including the framework's plain 500), OpenTelemetry (the
copy inside the app answers while it is on), and every other route still going through
FastAPI with its middleware."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from opentelemetry import trace
from sqlalchemy import exc as sa_exc

from fenghuo.api.app import ControlPlane
from fenghuo.api.server import ServerThread
from fenghuo.monitor import fastpath
from fenghuo.platform.config import Settings
from fenghuo.platform.db import Database
from fenghuo.platform.roles import Role
from fenghuo.registry.tokens import create_token
from tests.monitor.helpers import ADMIN, call, seed

LIMIT = 4096  # bytes: small, so that an over-limit body is cheap to send


@pytest.fixture
def api(tmp_path):
    db = Database(str(tmp_path / "fenghuo.db"))
    db.upgrade()
    seed(db)
    made = {"admin": create_token(db, ADMIN, "root", Role.admin),
            "poster": create_token(db, ADMIN, "poster", Role.system),
            "auditor": create_token(db, ADMIN, "audit", Role.auditor),
            "scraper": create_token(db, ADMIN, "scrape", Role.scraper),
            "reg_bj": create_token(db, ADMIN, "bj", Role.regulator, jurisdiction_id="cn-bj"),
            "bad": "fh_not-a-token"}
    settings = Settings(checkpoint_seconds=0, max_body_bytes=LIMIT, auth_failures_per_minute=3)
    with ServerThread(db, settings) as server, httpx.Client(base_url=server.url, timeout=10) as http:
        def request(method, path, who="poster", **kw):
            headers = {"Authorization": f"Bearer {made[who]}"} if who else {}
            headers.update(kw.pop("headers", {}))
            return http.request(method, path, headers=headers, **kw)
        request.app = server.app
        yield request
    db.dispose()


def _post(api, who, events, *, full=False, **kw):
    """Ahead of the framework, or (``full``) through the FastAPI route: a query string hands over."""
    body = events if isinstance(events, bytes) else json.dumps(events).encode()
    return api("POST", "/api/v1/events" + ("?via=route" if full else ""), who, content=body, **kw)


def _same(fast, route):
    assert (fast.status_code, fast.content, fast.headers["content-type"]) == \
           (route.status_code, route.content, route.headers["content-type"])


def test_the_served_app_answers_events_ahead_of_the_framework(api):
    assert isinstance(api.app, ControlPlane) and api.app.front is not None
    before = (fastpath.served, fastpath.ahead)
    r = _post(api, "poster", [call("a-chat", time.time())])
    assert r.status_code == 200 and r.json()["accepted"] == 1
    assert (fastpath.served, fastpath.ahead) == (before[0] + 1, before[1] + 1)


@pytest.mark.parametrize("who", [None, "bad", "auditor", "scraper", "reg_bj"])
def test_refused_callers_get_the_routes_answer(api, who):
    before = (fastpath.served, fastpath.ahead)
    fast = _post(api, who, [call("a-chat", time.time())])
    route = _post(api, who, [call("a-chat", time.time(), id="other")], full=True)
    assert fast.status_code in (401, 403)
    assert fast.json()["error"]["code"] == route.json()["error"]["code"]
    assert fast.headers["content-type"] == route.headers["content-type"]
    assert (fastpath.served, fastpath.ahead) == before  # handed on, not answered ahead


def test_failed_tokens_are_counted_and_lock_out_a_valid_one(api):
    for _ in range(3):
        assert _post(api, "bad", [call("a-chat", time.time())]).status_code == 401
    before = fastpath.ahead
    r = _post(api, "poster", [call("a-chat", time.time())])  # valid, but the address is over its limit
    assert r.status_code == 429 and r.json()["error"]["code"] == "too_many_failed_logins"
    assert int(r.headers["retry-after"]) >= 1
    assert fastpath.ahead == before


def test_body_limit_and_its_error_body(api):
    over = json.dumps([call("a-chat", time.time(), note="x" * LIMIT)]).encode()
    fast = _post(api, "poster", over)
    other = api("POST", "/api/v1/rules/check", "admin", content=over)  # the same BodyLimit on another route
    assert fast.status_code == 413 and fast.json()["error"]["code"] == "too_large"
    _same(fast, other)

    def chunks():  # no Content-Length: read up to the limit by BodyLimit, inside the app
        yield over[:100]
        yield over[100:]

    r = api("POST", "/api/v1/events", "poster", content=chunks())
    assert r.status_code == 413 and r.json()["error"]["code"] == "too_large"


def test_error_bodies_equal_the_routes(api, monkeypatch):
    now = time.time()
    _same(_post(api, "poster", b"not json"), _post(api, "poster", b"not json", full=True))
    monitor = api.app.state.runtime.monitor

    def down(body, actor):
        raise sa_exc.OperationalError("INSERT", {}, Exception("database is locked"))

    monkeypatch.setattr(monitor, "ingest_body", down)
    fast, route = _post(api, "poster", [call("a-chat", now)]), _post(api, "poster", [call("a-chat", now)], full=True)
    assert fast.status_code == 503 and fast.headers["retry-after"] == route.headers["retry-after"]
    _same(fast, route)


def test_an_unexpected_error_is_the_frameworks_plain_500(api, monkeypatch):
    def boom(body, actor):
        raise RuntimeError("a bug")

    monkeypatch.setattr(api.app.state.runtime.monitor, "ingest_body", boom)
    close = {"Connection": "close"}  # the server drops the connection after a 500, as it does behind the route
    fast = _post(api, "poster", [call("a-chat", time.time())], headers=close)
    route = _post(api, "poster", [call("a-chat", time.time())], full=True, headers=close)
    assert (fast.status_code, fast.text) == (500, "Internal Server Error")
    _same(fast, route)


def test_with_telemetry_on_the_copy_inside_answers(api, monkeypatch):
    # FastAPI's telemetry is on when it is given a provider; then the request must enter it.
    monkeypatch.setitem(api.app._telemetry, "tracer_provider", trace.NoOpTracerProvider())
    before = (fastpath.served, fastpath.ahead)
    r = _post(api, "poster", [call("a-chat", time.time())])
    assert r.status_code == 200 and r.json()["accepted"] == 1
    assert (fastpath.served, fastpath.ahead) == (before[0] + 1, before[1])  # answered, but inside
    _same(_post(api, None, b"[]"), _post(api, None, b"[]", full=True))  # a refusal still once


def test_other_routes_go_through_fastapi_and_its_middleware(api):
    before = (fastpath.served, fastpath.ahead)
    assert api("GET", "/api/v1/indicators", "admin").status_code == 200
    assert api("GET", "/api/v1/health", None).status_code == 200
    missing = api("POST", "/api/v1/eventsx", "poster", content=b"[]")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "http_404"  # errors.install
    assert api("GET", "/api/v1/events", "poster").json()["error"]["code"] == "http_405"
    nul = api("GET", "/api/v1/indicators?after=%00", "admin")  # RefuseNul
    assert nul.status_code == 422 and nul.json()["error"]["field"] == "after"
    assert api("POST", "/api/v1/events?x=1", "poster", content=b"[]").json()["accepted"] == 0  # the route
    assert (fastpath.served, fastpath.ahead) == before
