"""CI's fuzz run found a 500 on ``GET /services/{id}/enforcement``: an acknowledgement the book
accepted could not be written (a version past a 64-bit integer, a start time longer than its
column), the failed row went back to the dirty set, and from then on every flush — and so every
enforcement answer, for every service — raised. Now such an acknowledgement is a 422 naming the
field, and a row the database refuses is dropped alone instead of blocking the others."""

from __future__ import annotations

import httpx
import pytest

from fenghuo.api.server import ServerThread
from fenghuo.control.instances import InstanceBook
from fenghuo.platform.config import Settings
from fenghuo.platform.errors import Invalid
from fenghuo.platform.roles import Role
from fenghuo.registry.tokens import create_token
from tests.foundation.fixtures import ADMIN, seed


def ack(**over):
    body = {"instance": "g-1", "service": "a-chat", "version": 1, "state": "running"}
    body.update(over)
    return body


@pytest.mark.parametrize("bad", [
    {"version": 2**63}, {"version": 10**30},
    {"started_at": "x" * 200}, {"started_at": "yesterday"}, {"enforced_at": "soon"},
])
def test_unwritable_acknowledgement_is_refused_by_name(db, bad):
    seed(db)
    book = InstanceBook(db, flush_seconds=0)
    with pytest.raises(Invalid) as err:
        book.ack(ADMIN, ack(**bad))
    assert err.value.details["field"] == next(iter(bad))
    assert book.enforcement(ADMIN, "a-chat")["live"] == []


def test_a_row_the_database_refuses_does_not_block_the_others(db):
    seed(db)
    book = InstanceBook(db, flush_seconds=3600)
    book.ack(ADMIN, ack(instance="good"))
    book.ack(ADMIN, ack(instance="bad"))
    book._rows["bad"]["version"] = 2**70  # what an older build let through: the database refuses it
    first = book.enforcement(ADMIN, "a-chat")
    assert [i["instance"] for i in first["live"]] == ["good"]
    assert book.enforcement(ADMIN, "a-chat")["live"] == first["live"]


def test_enforcement_stays_answerable_over_http(db):
    seed(db)
    token = create_token(db, ADMIN, "root", Role.admin)
    settings = Settings(max_body_bytes=4096, heartbeat_seconds=0.2, poll_seconds=0.05, checkpoint_seconds=0)
    with ServerThread(db, settings) as server, httpx.Client(base_url=server.url, timeout=10,
                                                            headers={"Authorization": f"Bearer {token}"}) as http:
        r = http.post("/api/v1/instances/ack", json=ack(version=2**63))
        assert r.status_code == 422, r.text
        assert "version" in r.text
        r = http.post("/api/v1/instances/ack", json=ack(started_at="2026-12-05T01:00:00+00:00" + "0" * 100))
        assert r.status_code == 422, r.text
        r = http.post("/api/v1/instances/ack", json=ack())
        assert r.status_code == 200, r.text
        r = http.get("/api/v1/services/a-chat/enforcement", params={"stale_seconds": 86399})
        assert r.status_code == 200, r.text
        assert [i["instance"] for i in r.json()["live"]] == ["g-1"]
