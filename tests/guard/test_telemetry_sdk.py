"""Telemetry exactly-once with the sink down for part of a run; acknowledgements and the
enforcement answer; the SDK's context manager and decorators (sync, async, embedded)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from fenghuo.control import switch
from fenghuo.guard import errors
from fenghuo.guard.core import Guard
from fenghuo.guard.sdk import InputBlocked
from fenghuo.guard.telemetry import HttpSink
from fenghuo.platform.roles import local_actor
from fenghuo.replay.server import BackgroundServer

from .conftest import command
from .helpers import WordCheck, receiver_app, wait_for


def test_exactly_once_over_10000_calls_with_sink_down(control, token, tmp_path):
    app = receiver_app()
    rx = BackgroundServer(app).start()
    port = rx.port
    guard = Guard("open-chat", control.url, token, checks=WordCheck(), sink=HttpSink(f"{rx.url}/api/v1/events", timeout=2),
                  spool_dir=tmp_path / "spool")
    guard.telemetry.retry_seconds = 0.2
    ids = []
    try:
        assert guard.wait_connected(5)
        for i in range(10_000):
            if i == 3000:
                rx.stop()  # the sink goes down
            if i == 7000:
                assert guard.telemetry.stats["spooled"] > 0
                rx = BackgroundServer(app, port=port).start()  # and comes back
            with guard.call("你好") as call:
                call.output("这是回答")
            ids.append(call.id)
        assert guard.telemetry.flush(60)
    finally:
        guard.close(timeout=5)
        rx.stop()
    got = app.state.ids
    assert len(ids) == 10_000 and len(set(ids)) == 10_000
    assert set(got) == set(ids), f"missing {len(set(ids) - set(got))}"
    dupes = {k: v for k, v in got.items() if v > 1}
    assert not dupes, f"{len(dupes)} events delivered twice"
    assert guard.telemetry.stats["dropped"] == 0 and guard.telemetry.stats["invalid"] == 0
    assert not list((tmp_path / "spool").glob("seg-*.jsonl"))


def test_events_accepted_by_the_control_plane(control, token):
    """The real event endpoint (monitoring) takes what the guard sends, without rejections."""
    guard = Guard("open-chat", control.url, token, checks=WordCheck())
    try:
        for text in ("你好", "推荐一个网络赌场"):
            try:
                with guard.call(text) as call:
                    call.output("回答：电话13812345678")
            except InputBlocked:
                pass
        assert guard.telemetry.flush(10)
        assert guard.telemetry.stats["sent"] == 2 and guard.telemetry.stats["sink_failures"] == 0
    finally:
        guard.close()


def test_enforcement_answer_and_laggards(control, token):
    guards = [Guard("open-chat", control.url, token, checks=None, instance=f"g{i}", ack_seconds=0.2) for i in range(3)]
    try:
        assert all(g.wait_connected(5) for g in guards)
        v = command(control, "open-chat", "pause")["version"]
        tok = control._admin_token
        url = f"{control.url}/api/v1/services/open-chat/enforcement"

        def view():
            return httpx.get(url, headers={"Authorization": f"Bearer {tok}"}).json()

        assert wait_for(lambda: view()["all_enforce"] and view()["version"] == v, timeout=5)
        e = view()
        assert e["instances"] == 3 and e["state"] == "paused" and e["laggards"] == []
        assert f"all 3 instances of open-chat enforce version {v} (paused) since {e['since']}" in e["message"]
        assert 0 <= e["max_lag_ms"] < 1000
        guards[0].follower.stop()  # this one stops listening
        v2 = command(control, "open-chat", "stop")["version"]
        assert wait_for(lambda: view()["version"] == v2 and view()["enforcing"] == 2, timeout=5)
        e = view()
        assert not e["all_enforce"] and [i["instance"] for i in e["laggards"]] == ["g0"] and e["laggards"][0]["behind_by"] == v2 - v, e
        e = httpx.get(url, params={"stale_seconds": 0.001}, headers={"Authorization": f"Bearer {tok}"}).json()
        assert e["instances"] == 0 and len(e["silent"]) == 3
    finally:
        for g in guards:
            g.close(timeout=1)


def test_sdk_context_manager_decorators_and_refusals(control, token, receiver):
    guard = Guard("open-chat", control.url, token, checks=WordCheck(), sink=HttpSink(f"{receiver.url}/api/v1/events"))
    try:
        assert guard.wait_connected(5)
        with guard.call("电话13812345678") as call:
            assert call.route == "primary" and call.input == "电话***********"
            shown = call.output("好的")
        assert shown.endswith("【本内容由人工智能生成 / AI-generated】") and call.aigc["AIGC"]["ProduceID"] == call.id

        @guard.protect
        def ask(prompt: str) -> str:
            return "可以去网络赌场"

        assert ask("你好").startswith(guard.safe_answer)

        async def small(prompt: str) -> str:
            return "备份回答"

        @guard.protect(backup=small)
        async def aask(prompt: str) -> str:
            return "主模型回答"

        assert asyncio.run(aask("你好")).startswith("主模型回答")
        assert guard.check_input("冰毒").blocked and not guard.check_output("你好").blocked
        v = command(control, "open-chat", "degrade")["version"]
        assert wait_for(lambda: guard.state().version == v)
        assert asyncio.run(aask("你好")).startswith("备份回答")
        assert ask("网络赌场在哪").startswith(guard.safe_answer)  # input blocked: model not called
        v = command(control, "open-chat", "stop")["version"]
        assert wait_for(lambda: guard.state().version == v)
        with pytest.raises(errors.ServiceRefused) as e, guard.call("你好"):
            pass
        assert e.value.code == "service_stopped" and e.value.status == 503
        assert guard.telemetry.flush(5)
        evs = receiver.app.state.events
        assert [e["status"] for e in evs] == ["ok", "output_blocked", "ok", "ok", "refused", "refused"]
        assert evs[3]["route"] == "backup" and evs[4]["refusal"] == "input_blocked" and evs[5]["refusal"] == "stopped"
    finally:
        guard.close()


def test_embedded_mode_needs_no_server(cp_db):
    guard = Guard("open-chat", db=cp_db, checks=None, ack_seconds=0.1)
    try:
        assert guard.state().state == "running" and guard.info.failsafe_mode == "open"
        switch.execute(cp_db, local_actor(), "open-chat", "pause", "embedded test")
        assert wait_for(lambda: guard.state().state == "paused", timeout=2)
        with pytest.raises(errors.ServiceRefused), guard.call("你好"):
            pass
    finally:
        guard.close()
