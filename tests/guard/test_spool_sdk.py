"""The default spool (per service and instance under the data dir, leftovers of dead runs
adopted), an embedded guard's discarded events, the decorator with no backup, captured text."""

from __future__ import annotations

import pytest

from fenghuo.guard import errors
from fenghuo.guard.core import Guard
from fenghuo.guard.spool import SpoolBusy, default_dir
from fenghuo.guard.telemetry import HttpSink, NullSink
from fenghuo.platform.paths import data_dir

from .conftest import command
from .helpers import WordCheck, wait_for
from .test_telemetry_faults import calls, dead_url


def test_default_spool_keeps_events_and_a_restart_resends_them(receiver):
    first = Guard("open-chat", checks=None, failsafe="open", instance="run-1", sink=HttpSink(dead_url(), timeout=1))
    assert first.telemetry.spool.dir == default_dir("open-chat", "run-1") == data_dir() / "spool" / "open-chat" / "run-1"
    ids = calls(first, 7)
    assert wait_for(lambda: first.telemetry.stats["spooled"] == 7, timeout=5)
    # A live guard of the same service with events of its own waiting: not to be adopted.
    live = Guard("open-chat", checks=None, failsafe="open", instance="live", sink=HttpSink(dead_url(), timeout=1))
    live_ids = calls(live, 2)
    assert wait_for(lambda: live.telemetry.stats["spooled"] == 2, timeout=5)
    first.close(timeout=0.3)  # the process "dies" with 7 events on disk
    with pytest.raises(SpoolBusy):
        Guard("open-chat", checks=None, failsafe="open", instance="live", sink=HttpSink(dead_url()))
    second = Guard("open-chat", checks=None, failsafe="open", instance="run-2", sink=HttpSink(f"{receiver.url}/api/v1/events"))
    try:
        assert second.telemetry.spool.adopted >= 1
        more = calls(second, 3)
        assert second.telemetry.flush(10)
        got = receiver.app.state.ids
        assert set(ids + more) <= set(got) and not set(live_ids) & set(got)
        assert all(n == 1 for n in got.values())
        assert not default_dir("open-chat", "run-1").exists()
        assert list(default_dir("open-chat", "live").glob("*.jsonl"))
    finally:
        second.close(timeout=2)
        live.close(timeout=0.3)
    assert not default_dir("open-chat", "run-2").exists()  # all sent: nothing left behind
    assert list(default_dir("open-chat", "live").glob("*.jsonl"))  # unsent: kept for the next run


def test_no_sink_no_spool_and_discarded_not_sent(cp_db):
    guard = Guard("open-chat", db=cp_db, checks=None)  # embedded, no control plane: nothing to send to
    try:
        calls(guard, 3)
        assert guard.telemetry.flush(5)
        st = guard.telemetry.stats
        assert st["discarded"] == 3 and st["sent"] == 0 and guard.telemetry.spool is None
    finally:
        guard.close()
    with Guard("open-chat", checks=None, failsafe="open", sink=NullSink()) as g:
        assert g.telemetry.spool is None
    assert not (data_dir() / "spool").exists()


def test_protect_without_backup_is_refused_when_routed_to_the_backup(control, token, receiver):
    guard = Guard("open-chat", control.url, token, checks=None, sink=HttpSink(f"{receiver.url}/api/v1/events"), spool_dir=False)
    called = []

    @guard.protect
    def ask(prompt: str) -> str:
        called.append(prompt)
        return "主模型回答"

    @guard.protect
    async def aask(prompt: str) -> str:
        called.append(prompt)
        return "主模型回答"

    try:
        assert guard.wait_connected(5)
        v = command(control, "open-chat", "degrade")["version"]
        assert wait_for(lambda: guard.state().version == v)
        with pytest.raises(errors.ServiceRefused) as e:
            ask("你好")
        assert e.value.code == "no_backup" and e.value.status == 503 and "degraded" in e.value.message
        import asyncio

        with pytest.raises(errors.ServiceRefused):
            asyncio.run(aask("你好"))
        assert called == []  # the primary was not called behind the switch's back
        assert guard.telemetry.flush(5)
        evs = receiver.app.state.events
        assert [(x["status"], x["route"], x.get("model"), x["state"]) for x in evs] == [("refused", "refused", None, "degraded")] * 2
    finally:
        guard.close()


def test_capture_text_only_when_configured(receiver):
    def run(**kw):
        receiver.app.state.events.clear()
        g = Guard("open-chat", checks=WordCheck(), failsafe="open", sink=HttpSink(f"{receiver.url}/api/v1/events"), **kw)
        try:
            with g.call("我的电话13812345678") as call:
                call.output("好的，" + "很长的回答" * 10)
            assert g.telemetry.flush(5)
        finally:
            g.close()
        return receiver.app.state.events[0]

    assert "attributes" not in run() or not run().get("attributes")
    a = run(capture_text=True)["attributes"]
    assert a["input_text"] == "我的电话***********" and a["output_text"].startswith("好的，很长的回答")
    assert "input_truncated" not in a
    a = run(capture_text=8)["attributes"]
    assert a["input_text"] == "我的电话****" and a["input_truncated"] == 15 and len(a["output_text"]) == 8
