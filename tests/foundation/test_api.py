"""The control plane over real HTTP: roles, bad input, the SSE stream. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from fenghuo.api.server import ServerThread
from fenghuo.control.follower import events
from fenghuo.ledger import store
from fenghuo.platform.config import Settings
from fenghuo.platform.roles import Role
from fenghuo.registry.tokens import create_token
from tests.foundation.fixtures import ADMIN, seed


@pytest.fixture
def api(db):
    seed(db)
    tokens = {
        "op_a": create_token(db, ADMIN, "alice", Role.operator, provider_id="pa"),
        "op_b": create_token(db, ADMIN, "bob", Role.operator, provider_id="pb"),
        "reg_bj": create_token(db, ADMIN, "bj", Role.regulator, jurisdiction_id="cn-bj"),
        "reg_sh": create_token(db, ADMIN, "sh", Role.regulator, jurisdiction_id="cn-sh"),
        "auditor": create_token(db, ADMIN, "audit", Role.auditor),
        "admin": create_token(db, ADMIN, "root", Role.admin),
    }
    settings = Settings(max_body_bytes=4096, heartbeat_seconds=0.2, poll_seconds=0.05, checkpoint_seconds=0)
    with ServerThread(db, settings) as server, httpx.Client(base_url=server.url, timeout=10) as http:
        def call(method, path, who=None, **kw):
            headers = {"Authorization": f"Bearer {tokens[who]}"} if who else {}
            headers.update(kw.pop("headers", {}))
            return http.request(method, path, headers=headers, **kw)
        call.tokens, call.url, call.db = tokens, server.url, db
        yield call


def cmd(api, service, who, **body):
    return api("POST", f"/api/v1/services/{service}/commands", who, json=body)


def ledger_len(db):
    with db.reader() as s:
        return store.count(s)


def test_operator_of_a_gets_403_on_bs_service(api):
    r = cmd(api, "b-chat", "op_a", action="pause", reason="not mine")
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    assert api("GET", "/api/v1/services/b-chat", "op_a").status_code == 403
    assert [s["id"] for s in api("GET", "/api/v1/services", "op_a").json()] == ["a-chat", "a-med"]


def test_auditor_reads_but_cannot_command(api):
    assert api("GET", "/api/v1/services/a-chat", "auditor").status_code == 200
    assert cmd(api, "a-chat", "auditor", action="pause", reason="x").status_code == 403


def test_regulator_of_another_province_cannot_pause(api):
    assert cmd(api, "a-chat", "reg_sh", action="pause", reason="x").status_code == 403
    assert [s["id"] for s in api("GET", "/api/v1/services", "reg_sh").json()] == ["b-chat"]
    r = cmd(api, "a-chat", "reg_bj", action="pause", reason="监管暂停")
    assert r.status_code == 200 and r.json()["to"] == "paused"


def test_regulator_may_not_edit_a_registration(api):
    body = {"id": "a-chat", "name": "renamed", "provider": "pa", "sector": "general", "function": "content_generation",
            "modalities": ["text"], "reach": 1, "no_human_in_loop": False}
    assert api("POST", "/api/v1/services", "reg_bj", json=body).status_code == 403
    assert api("POST", "/api/v1/services", "op_a", json=body).status_code == 200


def test_missing_or_bad_token(api):
    assert api("GET", "/api/v1/services").status_code == 401
    r = api("GET", "/api/v1/services", headers={"Authorization": "Bearer fh_wrong"})
    assert r.status_code == 401


@pytest.mark.parametrize("service,body,status,code", [
    ("nope", {"action": "pause", "reason": "x"}, 404, "unknown_service"),
    ("a-chat", {"action": "pause"}, 422, "invalid"),
    ("a-chat", {"action": "pause", "reason": "   "}, 422, "invalid"),
    ("a-chat", {"action": "launch-missiles", "reason": "x"}, 422, "invalid"),
    ("a-chat", {"action": "restore", "reason": "x"}, 409, "illegal_transition"),
    ("a-chat", {"action": "pause", "reason": "x", "extra": 1}, 422, "invalid"),
])
def test_bad_commands_are_answered_clearly_and_write_nothing(api, service, body, status, code):
    before = ledger_len(api.db)
    r = cmd(api, service, "op_a", **body)
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert err["code"] == code and " / " in err["message"]  # 中文 / English
    assert ledger_len(api.db) == before


def test_illegal_transition_names_state_and_allowed(api):
    err = cmd(api, "a-chat", "op_a", action="resume", reason="x").json()["error"]
    assert err["current_state"] == "running" and "pause" in err["allowed"]


def test_body_over_the_limit_is_413_and_writes_nothing(api):
    before = ledger_len(api.db)
    r = cmd(api, "a-chat", "op_a", action="pause", reason="x" * 10_000)
    assert r.status_code == 413 and r.json()["error"]["code"] == "too_large"

    def chunks():  # no Content-Length: the limit must hold for a streamed body too
        for _ in range(10):
            yield b" " * 1000
    r = api("POST", "/api/v1/services/a-chat/commands", "op_a", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert ledger_len(api.db) == before


def test_malformed_yaml_registration_names_line_and_field(api):
    body = "id: new\nname: New\nprovider: pa\nsector: general\nfunction: content_generation\nmodalities: [text]\nreach: -5\nno_human_in_loop: false\n"
    r = api("POST", "/api/v1/services", "op_a", content=body, headers={"content-type": "application/yaml"})
    assert r.status_code == 422
    err = r.json()["error"]
    assert (err["line"], err["field"]) == (7, "reach")


def test_resume_is_refused_plainly(api):
    cmd(api, "a-chat", "op_a", action="pause", reason="x")
    r = cmd(api, "a-chat", "op_a", action="resume", reason="fixed")
    assert r.status_code == 409
    err = r.json()["error"]
    assert err["code"] == "recovery_required" and "recovery procedure" in err["message"]


def test_idempotent_over_http(api):
    a = cmd(api, "a-chat", "op_a", action="pause", reason="x", id="same-1").json()
    b = cmd(api, "a-chat", "op_a", action="pause", reason="x", id="same-1").json()
    assert (a["version"], a["replayed"], b["version"], b["replayed"]) == (2, False, 2, True)


def test_sse_stream_snapshot_changes_heartbeats_and_scope(api):
    got: list[tuple[str, dict]] = []
    done = threading.Event()

    def follow():
        try:
            for ev, data in events(api.url, api.tokens["op_a"], timeout=5):
                got.append((ev, data))
                if sum(1 for e, _ in got if e == "heartbeat") >= 2 and any(d.get("state") == "stopped" for _, d in got):
                    break
        finally:
            done.set()

    threading.Thread(target=follow, daemon=True).start()
    # the snapshot first (a fixed 0.3 s was too short on a loaded machine: the stream then opened
    # after the stop, and its snapshot already said version 2)
    deadline = time.monotonic() + 10
    while sum(1 for e, _ in got if e == "state") < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    cmd(api, "a-chat", "op_a", action="stop", reason="x")
    cmd(api, "b-chat", "op_b", action="stop", reason="not visible to A")
    assert done.wait(10)
    kinds = [e for e, _ in got]
    assert kinds[0] == "hello" and "heartbeat" in kinds
    states = [d for e, d in got if e == "state"]
    assert {d["service"] for d in states} == {"a-chat", "a-med"}  # never B's service
    assert [d["version"] for d in states if d["service"] == "a-chat"] == [1, 2]


def test_sse_hears_changes_made_by_another_process(api):
    """A change written straight to the database (the local CLI) reaches followers by polling."""
    from fenghuo.control import switch
    got = []

    def follow():
        for ev, data in events(api.url, api.tokens["admin"], ["a-med"], timeout=5):
            if ev == "state":
                got.append(data)
                if data["state"] == "throttled":
                    return

    t = threading.Thread(target=follow, daemon=True)
    t.start()
    time.sleep(0.3)
    from fenghuo.control import propagation
    saved, propagation._listeners[:] = list(propagation._listeners), []  # as if another process wrote it
    try:
        switch.execute(api.db, ADMIN, "a-med", "throttle", "cli", rate=3)
    finally:
        propagation._listeners[:] = saved
    t.join(10)
    assert got[-1]["state"] == "throttled" and got[-1]["rate"] == 3


def test_ledger_routes(api):
    assert api("GET", "/api/v1/ledger/verify", "auditor").json()["ok"] is True
    assert api("GET", "/api/v1/ledger/export", "op_a").status_code == 403
    lines = api("GET", "/api/v1/ledger/export", "auditor").text.splitlines()
    assert len(lines) == ledger_len(api.db)
    cp = api("POST", "/api/v1/ledger/checkpoint", "reg_bj").json()
    assert cp["seq"] == len(lines)
    assert api("GET", "/api/v1/ledger", "op_a", params={"subject": "a-chat"}).status_code == 200
    assert api("GET", "/api/v1/ledger", "op_a", params={"subject": "b-chat"}).status_code == 403
