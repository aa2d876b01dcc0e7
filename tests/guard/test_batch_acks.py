"""``POST /api/v1/instances/acks``: many guard instances acknowledged in one request (issue 19,
propagation). Over a real server on SQLite and PostgreSQL: a batch changes the enforcement
answer like the single acks it stands for, a malformed one is refused whole with a 422 naming
``acks.<i>.<field>``, a role that may not acknowledge is refused (403), a service outside the
token's scope refuses only its own acknowledgements, and the book writes a change's
acknowledgements to the database by itself soon after they arrive (another replica reads them
there) without waiting for an enforcement question."""

from __future__ import annotations

import time

import httpx
import pytest

from fenghuo.control.instances import MAX_BATCH, InstanceBook
from fenghuo.platform.roles import Role
from fenghuo.registry.tokens import create_token
from tests.foundation.fixtures import ADMIN, STALE, admin_client


@pytest.fixture
def api(db):
    with admin_client(db) as http:
        yield http


def enforcement(http, service="a-chat"):
    r = http.get(f"/api/v1/services/{service}/enforcement", params=STALE)
    assert r.status_code == 200, r.text
    return r.json()


def acks(now, n, **over):
    return [{"instance": f"g-{i:02d}", "service": "a-chat", "version": now["version"], "state": now["state"],
             "enforced_at": "2026-12-05T04:00:00.000000Z"} | over for i in range(n)]


def test_a_batch_is_booked_like_the_single_acks_it_stands_for(api):
    now = enforcement(api)
    r = api.post("/api/v1/instances/acks", json={"acks": acks(now, 25)})
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["booked"] == 25 and answer["refused"] == 0
    assert [x["instance"] for x in answer["results"]] == [f"g-{i:02d}" for i in range(25)]
    assert all(x["version"] == now["version"] and x["enforced_since"] == "2026-12-05T04:00:00.000000Z" for x in answer["results"])
    e = enforcement(api)
    assert e["all_enforce"] and e["instances"] == 25, e["message"]
    # a second batch (the in-memory path) where one instance reports its fail-safe: it lags
    again = acks(now, 25)
    again[7]["failsafe"] = True
    assert api.post("/api/v1/instances/acks", json={"acks": again}).json()["booked"] == 25
    e = enforcement(api)
    assert not e["all_enforce"] and [i["instance"] for i in e["laggards"]] == ["g-07"]


def test_the_same_instance_twice_in_a_batch_keeps_the_later(api):
    now = enforcement(api)
    first, later = acks(now, 1)[0], acks(now, 1, state="paused")[0]
    assert api.post("/api/v1/instances/acks", json={"acks": [first, later]}).status_code == 200
    e = enforcement(api)
    assert [(i["instance"], i["state"]) for i in e["live"]] == [("g-00", "paused")]


@pytest.mark.parametrize(("index", "bad", "field"), [
    (3, {"version": "one"}, "acks.3.version"), (0, {"instance": ""}, "acks.0.instance"),
    (2, {"colour": "red"}, "acks.2.colour"), (4, {"state": "dancing"}, "acks.4.state"),
    (1, {"enforced_at": "soon"}, "acks.1.enforced_at"), (1, {"meta": {"x": "a\x00b"}}, "acks.1.meta"),
])
def test_one_malformed_ack_refuses_the_batch_naming_it(api, index, bad, field):
    now = enforcement(api)
    for _ in range(2):  # the second time the actor and the instances are cached (the in-memory path)
        batch = acks(now, 5)
        batch[index] |= bad
        r = api.post("/api/v1/instances/acks", json={"acks": batch})
        assert r.status_code == 422, r.text
        assert field in r.text, r.text
        if _ == 0:  # book the good ones once so the second round takes the in-memory path
            assert api.post("/api/v1/instances/acks", json={"acks": acks(now, 5, service="b-chat")}).status_code == 200
    assert enforcement(api)["live"] == []


def test_batch_size_is_bounded(api):
    now = enforcement(api)
    for body in ({"acks": []}, {"acks": acks(now, MAX_BATCH + 1)}, {}):
        r = api.post("/api/v1/instances/acks", json=body)
        assert r.status_code == 422, r.text
        assert "acks" in r.text
    assert api.post("/api/v1/instances/acks", json={"acks": acks(now, MAX_BATCH)}).json()["booked"] == MAX_BATCH


def test_roles_and_scope(api):
    now = enforcement(api)
    auditor = create_token(api.db, ADMIN, "looker", Role.auditor)
    operator_a = create_token(api.db, ADMIN, "op-a", Role.operator, provider_id="pa")
    with httpx.Client(base_url=api.url, timeout=10) as http:
        for _ in range(2):
            assert http.post("/api/v1/instances/acks", json={"acks": acks(now, 3)},
                             headers={"Authorization": f"Bearer {auditor}"}).status_code == 403
            assert http.post("/api/v1/instances/acks", json={"acks": acks(now, 3)},
                             headers={"Authorization": "Bearer nonsense"}).status_code == 401
        # provider A's operator: its own service is booked, provider B's and an unknown one are not
        mixed = acks(now, 2) + acks(now, 1, instance="b-1", service="b-chat") + acks(now, 1, instance="x-1", service="nope")
        r = http.post("/api/v1/instances/acks", json={"acks": mixed}, headers={"Authorization": f"Bearer {operator_a}"})
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["booked"], out["refused"]) == (2, 2)
    errors = [x.get("error") for x in out["results"]]
    assert errors[0] is None and errors[1] is None
    assert errors[2]["status"] == 403 and errors[3]["status"] == 404 and errors[3]["code"] == "unknown_service"
    assert enforcement(api)["instances"] == 2
    assert enforcement(api, "b-chat")["live"] == []


def test_a_change_is_written_soon_without_an_enforcement_question(api):
    # Another control-plane replica reads the instances from the database: its book holds none.
    # The acknowledgements of a change are written within ~burst_seconds of arriving.
    now = enforcement(api)
    assert api.post("/api/v1/instances/acks", json={"acks": acks(now, 30)}).status_code == 200
    other = InstanceBook(api.db)
    deadline = time.monotonic() + 5
    while (e := other.enforcement(ADMIN, "a-chat", stale_seconds=86399))["instances"] < 30 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert e["instances"] == 30 and e["all_enforce"], e["message"]
