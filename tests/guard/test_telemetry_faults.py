"""Telemetry under faults, each caused for real: an event that cannot be encoded, a spool the
disk refuses, a spool torn by a crash, events the control plane refuses, a sink that hangs."""

from __future__ import annotations

import json
import shutil
import socket
import time

from fenghuo.guard.core import Guard
from fenghuo.guard.telemetry import HttpSink
from fenghuo.replay.server import BackgroundServer

from .helpers import HangingSink, WordCheck, receiver_app, wait_for


def dead_url() -> str:
    """An address where nothing listens (connection refused at once)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}/api/v1/events"


def calls(guard: Guard, n: int, text: str = "你好") -> list[str]:
    ids = []
    for _ in range(n):
        with guard.call(text) as call:
            call.output("回答")
        ids.append(call.id)
    return ids


def test_worker_survives_an_unencodable_attribute(receiver, tmp_path):
    guard = Guard("open-chat", checks=None, failsafe="open", sink=HttpSink(f"{receiver.url}/api/v1/events"), spool_dir=tmp_path / "spool")
    try:
        guard.report(status="ok", attributes={"handle": object()})  # msgspec raises TypeError on this
        guard.report(status="ok", attributes={"fn": print})
        later = calls(guard, 3)
        assert guard.telemetry.flush(5)
        assert set(later) <= set(receiver.app.state.ids)
        assert guard.telemetry.stats["invalid"] == 2 and guard.telemetry._thread.is_alive()
    finally:
        guard.close(timeout=2)


def test_worker_survives_a_spool_the_disk_refuses(tmp_path):
    app = receiver_app()
    rx = BackgroundServer(app).start()
    port = rx.port
    rx.stop()  # the sink is down, so batches go to the spool…
    spool = tmp_path / "spool"
    guard = Guard("open-chat", checks=None, failsafe="open", sink=HttpSink(f"http://127.0.0.1:{port}/api/v1/events", timeout=1), spool_dir=spool)
    guard.telemetry.retry_seconds = 0.1
    try:
        shutil.rmtree(spool)
        spool.write_text("not a directory")  # …which can no longer be written
        calls(guard, 5)
        assert wait_for(lambda: guard.telemetry.stats["dropped"] == 5, timeout=5), guard.telemetry.stats
        assert guard.telemetry.stats["spool_errors"] >= 1 and guard.telemetry._thread.is_alive()
        rx = BackgroundServer(app, port=port).start()  # the sink returns: later events arrive
        # (within retry_seconds of a failure, batches still go to the broken spool and are dropped)
        assert wait_for(lambda: not guard.telemetry.sink_down, timeout=5)
        later = calls(guard, 5)
        assert wait_for(lambda: set(later) <= set(app.state.ids), timeout=10), str(guard.telemetry.stats)
        assert guard.telemetry.stats["worker_errors"] == 0
    finally:
        guard.close(timeout=2)
        rx.stop()


def _spooled_run(spool, n: int) -> list[str]:
    """A guard whose sink is down leaves ``n`` events in ``spool`` (and exits)."""
    g = Guard("open-chat", checks=None, failsafe="open", sink=HttpSink(dead_url(), timeout=1), spool_dir=spool)
    ids = calls(g, n)
    assert wait_for(lambda: g.telemetry.stats["spooled"] == n, timeout=5)
    g.close(timeout=0.3)
    return ids


def test_torn_spool_is_set_aside_and_the_rest_reaches_the_control_plane(control, token, tmp_path):
    spool = tmp_path / "spool"
    ids = _spooled_run(spool, 4)
    torn = b'{"id":"0192aaaa-torn","type":"call","serv'
    with (spool / "active.jsonl").open("ab") as fh:  # a crash in the middle of the next write
        fh.write(torn)
    guard = Guard("open-chat", control.url, token, checks=None, spool_dir=spool)
    try:
        assert guard.telemetry.spool.pending_lines == 4  # the torn line is not counted
        more = calls(guard, 2)
        assert guard.telemetry.flush(10), guard.telemetry.stats
        st = guard.telemetry.stats
        assert st["sent"] == 6 and st["rejected"] == 0 and st["sink_failures"] == 0, st
        assert guard.telemetry.pending() == 0
        assert (spool / "active.jsonl.torn").read_bytes() == torn + b"\n"
        assert not list(spool.glob("seg-*.jsonl"))
        assert len(set(ids + more)) == 6
    finally:
        guard.close(timeout=2)


def test_refused_events_go_to_dead_letters_and_the_spool_drains(control, token, tmp_path):
    """A corrupt line (unreadable: the control plane refuses the whole batch, 422) and an
    event for an unknown service (refused by index) are set aside; the good ones are counted."""
    spool = tmp_path / "spool"
    _spooled_run(spool, 3)
    seg = next(iter(spool.glob("*.jsonl")))
    good = seg.read_bytes().splitlines()
    ghost = json.loads(good[0])
    ghost["id"], ghost["service"] = ghost["id"][:-4] + "beef", "ghost-service"
    seg.write_bytes(b"\n".join([good[0], b"garbage that is not json", good[1], json.dumps(ghost).encode(), good[2]]) + b"\n")
    guard = Guard("open-chat", control.url, token, checks=None, spool_dir=spool)
    try:
        assert guard.telemetry.flush(10), guard.telemetry.stats
        st = guard.telemetry.stats
        assert st["sent"] == 3 and st["rejected"] == 2, st
        dead = [json.loads(x) for x in (spool / "dead.jsonl").read_text().splitlines()]
        assert [d["line"] for d in dead if "unreadable event batch" in d["reason"]] == ["garbage that is not json"]
        assert any("ghost-service" in d["reason"] and json.loads(d["line"])["id"] == ghost["id"] for d in dead), dead
        assert guard.telemetry.pending() == 0
    finally:
        guard.close(timeout=2)


def test_request_path_never_waits_on_a_hanging_sink(tmp_path):
    """A sink that accepts the connection and never answers (for 30 s) holds the worker, not
    the calls."""
    sink = HangingSink()
    url, held = sink.url, sink.held
    guard = Guard("open-chat", checks=WordCheck(), failsafe="open", sink=HttpSink(url, timeout=30), spool_dir=tmp_path / "spool")
    try:
        calls(guard, 1)
        assert wait_for(lambda: held, timeout=5)  # the worker is now stuck in the sink
        worst = 0.0
        for _ in range(200):
            t0 = time.perf_counter()
            calls(guard, 1)
            worst = max(worst, time.perf_counter() - t0)
            time.sleep(0.005)
        assert worst < 1.0, f"a call took {worst:.3f} s while the sink hung"
        assert guard.telemetry.stats["sent"] == 0 and guard.telemetry.pending() >= 200
    finally:
        sink.close()  # the worker's request fails now, and it can stop
        guard.close(timeout=2)
