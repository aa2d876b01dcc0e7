"""``POST /api/v1/instances/ack`` runs on the event loop (issue 19: 100 acknowledgements per
change cost ~130 ms of control-plane CPU through the thread pool). Over a real server: an ack
still changes the enforcement answer — the first from an instance (database read, worker
thread) and the later ones (in memory, on the loop) alike — a bad one is still a 422 naming
the field, and a token that may not acknowledge is refused every time, not remembered."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from fenghuo.platform.roles import Role
from fenghuo.registry.tokens import create_token
from tests.foundation.fixtures import ADMIN, STALE, admin_client


@pytest.fixture
def api(db):
    with admin_client(db) as http:
        yield http


def enforcement(http):
    r = http.get("/api/v1/services/a-chat/enforcement", params=STALE)
    assert r.status_code == 200, r.text
    return r.json()


def test_acks_change_the_enforcement_answer(api):
    now = enforcement(api)
    body = {"instance": "g-1", "service": "a-chat", "version": now["version"], "state": now["state"]}
    r = api.post("/api/v1/instances/ack", json=body)
    assert r.status_code == 200, r.text
    assert r.json()["instance"] == "g-1" and r.json()["version"] == now["version"]
    assert set(r.json()) == {"instance", "service", "version", "state", "enforced_since", "last_seen"}
    first = enforcement(api)
    assert first["all_enforce"] and first["instances"] == 1
    # the second ack from the same instance is the in-memory path
    r = api.post("/api/v1/instances/ack", json=body | {"failsafe": True})
    assert r.status_code == 200, r.text
    later = enforcement(api)
    assert not later["all_enforce"] and [i["instance"] for i in later["laggards"]] == ["g-1"]


def test_concurrent_acks_are_all_counted(api):
    now = enforcement(api)

    def one(i):
        return api.post("/api/v1/instances/ack", json={"instance": f"g-{i}", "service": "a-chat",
                                                        "version": now["version"], "state": now["state"]}).status_code

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(one, [i % 40 for i in range(200)])) == {200}
    answer = enforcement(api)
    assert answer["instances"] == 40 and answer["all_enforce"], answer["message"]


@pytest.mark.parametrize(("bad", "field"), [
    ({"version": "one"}, "version"), ({"version": -1}, "version"), ({"instance": ""}, "instance"),
    ({"colour": "red"}, "colour"), ({"state": "dancing"}, "state"),
])
def test_a_bad_ack_is_a_422_naming_the_field(api, bad, field):
    now = enforcement(api)
    body = {"instance": "g-1", "service": "a-chat", "version": now["version"], "state": now["state"]} | bad
    for _ in range(2):  # the second time the actor and (for state) the instance are cached
        r = api.post("/api/v1/instances/ack", json=body)
        assert r.status_code == 422, r.text
        assert field in r.text
    assert enforcement(api)["live"] == []


def test_a_token_that_may_not_ack_is_refused_every_time(api):
    auditor = create_token(api.db, ADMIN, "looker", Role.auditor)
    body = {"instance": "g-1", "service": "a-chat", "version": 1, "state": "running"}
    with httpx.Client(base_url=api.url, timeout=10) as http:
        for _ in range(3):
            assert http.post("/api/v1/instances/ack", json=body,
                             headers={"Authorization": f"Bearer {auditor}"}).status_code == 403
            assert http.post("/api/v1/instances/ack", json=body,
                             headers={"Authorization": "Bearer nonsense"}).status_code == 401
    assert enforcement(api)["live"] == []


def test_acks_answered_but_unwritten_are_written_at_shutdown(db):
    """The book writes behind; a server stopping before its next flush writes what it holds
    (here the flush is pushed an hour away, so only the shutdown can write it)."""
    from fenghuo.api.server import ServerThread
    from fenghuo.control.instance_models import GuardInstance
    from fenghuo.platform.config import Settings

    with admin_client(db) as warm:  # seeds the registry
        version = enforcement(warm)["version"]
    token = create_token(db, ADMIN, "late", Role.admin)
    server = ServerThread(db, Settings(checkpoint_seconds=0)).start()
    try:
        book = server.app.state.runtime.instance_book
        book.flush_seconds = book.burst_seconds = 3600.0
        with httpx.Client(base_url=server.url, timeout=10, headers={"Authorization": f"Bearer {token}"}) as http:
            body = {"instance": "g-late", "service": "a-chat", "version": version, "state": "running"}
            assert http.post("/api/v1/instances/ack", json=body).status_code == 200
        with db.reader() as s:
            assert s.get(GuardInstance, "g-late") is None  # not written yet: the flush is an hour away
    finally:
        server.stop()
    with db.reader() as s:
        row = s.get(GuardInstance, "g-late")
    assert row is not None and row.version == version and row.service_id == "a-chat"
