"""Issue 19: ``POST /api/v1/events`` answered by the pure ASGI fast path (monitor.fastpath) with a
cached token (platform.auth). The FastAPI route stays the contract: a request with a query string
takes it, so each answer of the fast path is compared with the route's own for the same body.
Revocation and expiry must take effect on the very next request despite the cache."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from fenghuo.api.server import ServerThread
from fenghuo.monitor import fastpath
from fenghuo.platform import auth
from fenghuo.platform.config import Settings
from fenghuo.platform.db import Database
from fenghuo.platform.roles import Role
from fenghuo.registry import tokens
from fenghuo.registry.tokens import create_token
from tests.monitor.helpers import ADMIN, call, seed


def _post(api, who, events, *, full=False, **kw):
    """Through the fast path, or (``full``) through the FastAPI route: a query string hands over."""
    body = events if isinstance(events, bytes) else json.dumps(events).encode()
    return api("POST", "/api/v1/events" + ("?via=route" if full else ""), who, content=body, **kw)


def _calls(api, service="a-chat"):
    return api("GET", f"/api/v1/indicators/{service}").json()["windows"]["1m"]["calls"]


@pytest.mark.parametrize("who", ["admin", "op_a", "reg_bj", None])
def test_fast_path_answers_as_the_route_does(api, who):
    now = time.time()
    cases = [
        [call("a-chat", now), call("a-med", now)],  # all good
        [call("a-chat", now), {"id": "x", "type": "call"}, call("nope", now), call("b-chat", now)],  # some refused
        [call("a-chat", now - 3600)],  # too old
        b"not json",
        b"[1, 2",
        b"",
        (json.dumps(call("a-chat", now)) + "\n" + json.dumps(call("a-med", now))).encode(),  # NDJSON
        [call("a-chat", now) for _ in range(5001)],  # too many: 413
    ]
    for events in cases:
        fast = _post(api, who, events)
        # the same batch again, with fresh ids so that deduplication does not change the answer
        again = events
        if isinstance(events, list):
            again = [dict(e, id=e.get("id", "x") + "-route") if "id" in e else e for e in events]
        elif events.startswith(b"{"):
            again = events.replace(b'"id": "', b'"id": "r-')
        route = _post(api, who, again, full=True)
        assert (fast.status_code, fast.json()) == (route.status_code, route.json()), events[:80]
        assert fast.headers["content-type"] == route.headers["content-type"]


def test_fast_path_counts_and_deduplicates(api):
    now = time.time()
    batch = [call("a-chat", now, id=f"fp-{i}") for i in range(5)]
    before = fastpath.served
    assert _post(api, "admin", batch).json() == {"accepted": 5, "duplicates": 0, "rejected": []}
    assert _post(api, "admin", batch).json() == {"accepted": 0, "duplicates": 5, "rejected": []}
    assert fastpath.served == before + 2  # both answered without the router
    assert _post(api, "admin", batch, full=True).json() == {"accepted": 0, "duplicates": 5, "rejected": []}
    assert _calls(api) == 5


def test_the_route_stays_in_the_openapi_schema(api):
    schema = api("GET", "/openapi.json").json()
    op = schema["paths"]["/api/v1/events"]["post"]
    assert set(op["requestBody"]["content"]) == {"application/json", "application/x-ndjson"}


def test_chunked_and_oversized_bodies_take_the_route(api):
    now = time.time()
    body = json.dumps([call("a-chat", now)]).encode()

    def chunks():
        yield body[:10]
        yield body[10:]

    r = api("POST", "/api/v1/events", "admin", content=chunks())  # no Content-Length
    assert r.status_code == 200 and r.json()["accepted"] == 1
    big = b"[" + b" " * (5 << 20) + b"]"
    assert api("POST", "/api/v1/events", "admin", content=big).status_code == 413


@pytest.fixture
def clocked(tmp_path, clock):
    db = Database(str(tmp_path / "fenghuo.db"), clock=clock)
    db.upgrade()
    seed(db)
    made = {"admin": create_token(db, ADMIN, "root", Role.admin),
            "poster": create_token(db, ADMIN, "poster", Role.system),
            "temp": create_token(db, ADMIN, "temp", Role.system, expires_in="1h")}
    with ServerThread(db, Settings(checkpoint_seconds=0)) as server, httpx.Client(base_url=server.url, timeout=10) as http:
        def request(method, path, who="admin", **kw):
            return http.request(method, path, headers={"Authorization": f"Bearer {made[who]}"}, **kw)
        request.db, request.tokens, request.clock = db, made, clock
        yield request
    db.dispose()


def test_a_revoked_token_fails_on_its_next_post(clocked):
    now = clocked.clock.now().timestamp()
    for _ in range(3):  # cached by now
        assert _post(clocked, "poster", [call("a-chat", now)]).status_code == 200
    tid = tokens.token_id(tokens.token_hash(clocked.tokens["poster"]))
    assert clocked("POST", f"/api/v1/tokens/{tid}/revoke", json={"reason": "leaked"}).status_code == 200
    r = _post(clocked, "poster", [call("a-chat", now)])
    assert r.status_code == 401 and "revoked" in r.json()["error"]["message"]


def test_an_expired_token_fails_on_its_next_post(clocked):
    now = clocked.clock.now().timestamp()
    assert _post(clocked, "temp", [call("a-chat", now)]).status_code == 200
    assert _post(clocked, "temp", [call("a-chat", now)]).status_code == 200
    clocked.clock.advance(3601)
    r = _post(clocked, "temp", [call("a-chat", clocked.clock.now().timestamp())])
    assert r.status_code == 401 and "expired" in r.json()["error"]["message"]


def test_a_token_revoked_by_another_process_stops_within_the_cache_lifetime(clocked, monkeypatch):
    monkeypatch.setattr(auth, "CACHE_SECONDS", 0.3)
    now = clocked.clock.now().timestamp()
    assert _post(clocked, "poster", [call("a-chat", now)]).status_code == 200
    # the CLI's way: its own Database on the same file, so no event of this process sees it
    other = Database(clocked.db.url, clock=clocked.clock)
    tokens.revoke(other, ADMIN, tokens.token_id(tokens.token_hash(clocked.tokens["poster"])), "cli")
    other.dispose()
    time.sleep(0.4)
    assert _post(clocked, "poster", [call("a-chat", now)]).status_code == 401


def test_a_revocation_through_the_orm_empties_the_cache(clocked):
    db = clocked.db
    secret = clocked.tokens["poster"]
    digest = tokens.token_hash(secret)
    auth.forget_tokens()
    assert auth.cached_actor(db, secret) is None
    assert auth.authenticate(db, secret).role is Role.system
    assert auth.cached_actor(db, secret) is not None  # a valid token is remembered
    tokens.revoke(db, ADMIN, tokens.token_id(digest), "test")  # through the ORM: the cache is emptied
    assert auth.cached_actor(db, secret) is None
    with pytest.raises(Exception, match="revoked"):
        auth.authenticate(db, secret)
