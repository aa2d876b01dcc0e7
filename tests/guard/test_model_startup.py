"""Issue 18 item 7 (CN-TC-18) from the first call: a guard learns its service's model versions
before it serves, so a call right after start cannot reach a pending version; with no control
plane at start the fail-safe decides — the last versions it knew (kept beside its state file),
else fail-closed refuses and fail-open decides blind."""

from __future__ import annotations

import json

import httpx
import openai
import pytest

from fenghuo.guard.cli import build_gateway
from fenghuo.guard.core import Guard
from fenghuo.guard.errors import ServiceRefused
from fenghuo.guard.state import ServiceInfo, save_state_file
from fenghuo.platform.roles import local_actor
from fenghuo.recovery import model_updates
from fenghuo.replay.server import BackgroundServer, free_port

MSG = [{"role": "user", "content": "你好"}]


def dead_url() -> str:
    return f"http://127.0.0.1:{free_port()}"  # nothing listens there


@pytest.fixture
def pending_update(cp_db):
    """open-chat: v1 approved, an important v2 pending its evaluation."""
    model_updates.propose(cp_db, local_actor(), "open-chat", "v1")
    assert model_updates.propose(cp_db, local_actor(), "open-chat", "v2", important=True)["status"] == "pending"


def test_gateway_started_during_a_pending_update_sends_its_first_call_to_the_approved_version(
        control, token, upstream, pending_update):
    gw = build_gateway("open-chat", upstream.url, control=control.url, token=token, checks=None, sink=None)
    srv = BackgroundServer(gw).start()
    try:
        # known when the constructor returns, before the switch stream has said anything
        assert (gw.guard.models.active, gw.guard.models.pending, gw.guard.models_source) == ("v1", {"v2"}, "control")
        r = openai.OpenAI(base_url=f"{srv.url}/v1", api_key="k", max_retries=0).chat.completions.create(model="v2", messages=MSG)
        assert r.model == "v1"
        assert [b["model"] for b in upstream.app.state.seen] == ["v1"]  # the very first call, asking for v2 by name
    finally:
        srv.stop()
        gw.guard.close(timeout=1)


def test_sdk_guard_knows_the_approved_version_at_construction(control, token, pending_update):
    g = Guard("open-chat", control.url, token, follow=False, checks=None, judge=None, sink=None)  # no stream at all
    try:
        with g.call("你好") as call:
            assert call.route == "primary" and call.model == "v1"
    finally:
        g.close(timeout=1)


def _state_file(tmp_path, mode: str):
    path = tmp_path / "state.json"
    save_state_file(path, ServiceInfo("open-chat", mode, 30.0), {"service": "open-chat", "state": "running", "version": 3})
    return path


def test_unreachable_control_plane_serves_the_last_known_approved_version(control, token, tmp_path, pending_update):
    state_file = _state_file(tmp_path, "closed")
    g = Guard("open-chat", control.url, token, follow=False, checks=None, judge=None, sink=None, state_file=state_file)
    g.close(timeout=1)
    kept = json.loads((tmp_path / "state.models.json").read_text(encoding="utf-8"))
    assert (kept["active"], kept["pending"]) == ("v1", ["v2"])

    g = Guard("open-chat", dead_url(), "t", checks=None, judge=None, sink=None, state_file=state_file)
    try:
        assert g.state().state == "running" and g.models_source == "state_file"
        with g.call("你好") as call:
            assert call.model == "v1"  # never the pending v2
    finally:
        g.close(timeout=1)


def test_unreachable_control_plane_fail_closed_refuses_until_the_versions_are_known(token, tmp_path):
    g = Guard("open-chat", dead_url(), "t", checks=None, judge=None, sink=None, state_file=_state_file(tmp_path, "closed"))
    try:
        assert g.state().state == "running"  # the bootstrap state holds for one lease
        assert g.models.known is False and g.models_source == "unknown"
        with pytest.raises(ServiceRefused) as e:
            g.call("你好").__enter__()
        assert e.value.status == 503 and e.value.code == "model_unknown" and e.value.refusal == "failsafe"
        assert "尚未获知" in e.value.message and "not known yet" in e.value.message
        g.models.replace({"service": "open-chat", "active": "v1", "pending": ["v2"]})  # the stream's model event arrives
        with g.call("你好") as call:
            assert call.model == "v1"
    finally:
        g.close(timeout=1)


def test_unreachable_control_plane_fail_open_decides_blind(token, tmp_path):
    g = Guard("open-chat", dead_url(), "t", checks=None, judge=None, sink=None, state_file=_state_file(tmp_path, "open"))
    try:
        assert g.models.known is False and not g.models.refusing
        with g.call("你好") as call:
            assert call.route == "primary" and call.model is None
    finally:
        g.close(timeout=1)


def test_gateway_fail_closed_without_versions_answers_503_and_calls_nobody(token, upstream, tmp_path):
    gw = build_gateway("open-chat", upstream.url, control=dead_url(), token=token, checks=None, sink=None,
                       state_file=_state_file(tmp_path, "closed"))
    srv = BackgroundServer(gw).start()
    try:
        r = httpx.post(f"{srv.url}/v1/chat/completions", json={"model": "v2", "messages": MSG}, timeout=10)
        assert r.status_code == 503 and r.json()["error"]["code"] == "model_unknown"
        assert upstream.app.state.seen == []
    finally:
        srv.stop()
        gw.guard.close(timeout=1)


def test_a_service_with_no_versions_is_served_from_the_start(control, token, upstream):
    gw = build_gateway("open-chat", upstream.url, control=control.url, token=token, checks=None, sink=None)
    try:
        assert gw.guard.models.known and gw.guard.models.active is None and not gw.guard.models.refusing
    finally:
        gw.guard.close(timeout=1)
