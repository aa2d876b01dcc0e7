"""Telemetry review fixes, each shown for real: a refused event followed by a sink failure is
neither resent nor dead-lettered twice; guards of one service starting together never take each
other's fresh spool; close() never closes the spool under a worker still writing; no count is
lost when many threads emit at once."""

from __future__ import annotations

import json
import multiprocessing as mp
import random
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from fenghuo.guard.core import Guard
from fenghuo.guard.spool import Spool
from fenghuo.guard.telemetry import HttpSink, Telemetry
from fenghuo.replay.server import BackgroundServer

from .helpers import HangingSink, wait_for

# -- 1. a refused event, then a sink failure ------------------------------------------------


def scripted_sink(control_url: str, token: str) -> FastAPI:
    """An event endpoint in front of the real control plane: 503 while ``up`` is False; 400 for
    any batch holding an event whose detail is "bad"; after that event has been refused alone,
    503 once for the second good batch; every other batch goes on to the control plane, and its
    answer comes back."""
    app = FastAPI()
    app.state.up = True
    app.state.ids = Counter()
    app.state.refused_alone = False
    app.state.good_after = 0
    app.state.failed_once = False
    app.state.forward = httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=10)

    @app.post("/api/v1/events")
    async def events(request: Request):
        body = await request.body()
        batch = json.loads(body)
        if not app.state.up:
            return JSONResponse({"detail": "down"}, status_code=503)
        if any(e.get("detail") == "bad" for e in batch):
            app.state.refused_alone |= len(batch) == 1
            return JSONResponse({"detail": "bad event"}, status_code=400)
        if app.state.refused_alone and not app.state.failed_once:
            app.state.good_after += 1
            if app.state.good_after == 2:
                app.state.failed_once = True
                return JSONResponse({"detail": "try later"}, status_code=503)
        r = await app.state.forward.post(f"{control_url}/api/v1/events", content=body,
                                         headers={"Content-Type": "application/json"})
        if r.status_code == 200:
            for e in batch:
                app.state.ids[e["id"]] += 1
        return JSONResponse(r.json(), status_code=r.status_code)

    return app


@pytest.mark.parametrize("path", ["direct", "from_spool"])
def test_refused_event_then_503_sends_each_event_once(control, token, tmp_path, path):
    app = scripted_sink(control.url, token)
    app.state.up = path == "direct"
    rx = BackgroundServer(app).start()
    spool = tmp_path / "spool"
    guard = Guard("open-chat", checks=None, failsafe="open", sink=HttpSink(f"{rx.url}/api/v1/events", timeout=5),
                  spool_dir=spool)
    tel = guard.telemetry
    tel.retry_seconds = 0.05
    try:
        tel.linger = 1.0  # the four events below go out as one batch
        time.sleep(0.1)
        for i in range(4):
            guard.report(status="ok", detail="bad" if i == 0 else None)
        tel._wake.set()
        if path == "from_spool":
            assert wait_for(lambda: tel.stats["spooled"] == 4, timeout=5), tel.stats
            app.state.up = True
        tel.linger = 0.05
        assert wait_for(lambda: app.state.failed_once, timeout=5)  # the script ran to its end
        assert tel.flush(10), tel.stats
        st = tel.stats
        assert len(app.state.ids) == 3 and set(app.state.ids.values()) == {1}, app.state.ids
        assert st["sent"] == 3 and st["rejected"] == 1 and st["dropped"] == 0, st
        dead = (spool / "dead.jsonl").read_text().splitlines()
        assert len(dead) == 1 and json.loads(json.loads(dead[0])["line"])["detail"] == "bad"
        assert tel.pending() == 0 and not list(spool.glob("seg-*"))
    finally:
        guard.close(timeout=2)
        rx.stop()


# -- 2. guards of one service starting together -----------------------------------------------


def _start_spool(parent: str, i: int, barrier, q, jitter: float) -> None:
    barrier.wait()
    time.sleep(jitter)
    try:
        s = Spool(Path(parent) / f"inst{i}", adopt=True)
        q.put((i, "ok"))
        time.sleep(0.1)
        s.close()
    except Exception as exc:  # noqa: BLE001 - reported to the test
        q.put((i, f"{type(exc).__name__}: {exc}"))


def test_guards_of_one_service_starting_together_never_fail(tmp_path):
    ctx = mp.get_context("fork")
    rng = random.Random(7)
    failures = []
    for rnd in range(15):
        parent = tmp_path / f"round{rnd}" / "svc"
        n = 8
        barrier, q = ctx.Barrier(n), ctx.Queue()
        ps = [ctx.Process(target=_start_spool, args=(str(parent), i, barrier, q, rng.random() * 0.003)) for i in range(n)]
        for p in ps:
            p.start()
        results = [q.get(timeout=30) for _ in range(n)]
        for p in ps:
            p.join(30)
        failures += [r for r in results if r[1] != "ok"]
    assert not failures, failures[:5]


def test_a_fresh_sibling_without_a_lock_is_not_taken(tmp_path):
    """A guard that has made its directory and not yet locked it (the window of the race): an
    adopting sibling leaves it alone."""
    fresh = tmp_path / "svc" / "starting"
    fresh.mkdir(parents=True)
    s = Spool(tmp_path / "svc" / "mine", adopt=True)
    try:
        assert fresh.is_dir() and not (fresh / "lock").exists()
        assert s.adopted == 0
    finally:
        s.close()
    later = Spool(fresh)  # and it can still be used
    later.close()


def _crash_with_events(directory: str, lines: list[bytes]) -> None:
    import os

    s = Spool(Path(directory), adopt=True)
    s.append(lines)
    os._exit(0)  # dies holding the spool: no close()


def test_an_abandoned_spool_with_events_is_adopted_and_sent(tmp_path, receiver):
    # Real events: spooled by a guard whose sink is down, then taken from its spool.
    donor_dir = tmp_path / "donor"
    down = Guard("open-chat", checks=None, failsafe="open", sink=HttpSink("http://127.0.0.1:9/api/v1/events", timeout=1),
                 spool_dir=donor_dir)
    for _ in range(5):
        down.report(status="ok")
    assert wait_for(lambda: down.telemetry.stats["spooled"] == 5, timeout=5)
    down.close(timeout=0.3)
    lines = [x for p in sorted(donor_dir.glob("*.jsonl")) for x in p.read_bytes().splitlines()]
    ids = {json.loads(x)["id"] for x in lines}
    assert len(ids) == 5

    crashed = tmp_path / "svc" / "crashed"
    p = mp.get_context("fork").Process(target=_crash_with_events, args=(str(crashed), lines))
    p.start()
    p.join(30)
    assert (crashed / "lock").exists() and list(crashed.glob("*.jsonl"))
    tel = Telemetry(HttpSink(f"{receiver.url}/api/v1/events"), tmp_path / "svc" / "next", adopt=True)
    try:
        assert tel.spool.adopted == 1
        assert tel.flush(10), tel.stats
        assert ids <= set(receiver.app.state.ids) and all(receiver.app.state.ids[i] == 1 for i in ids)
        assert not crashed.exists()
    finally:
        tel.close(timeout=2)


# -- 3. close() while the worker is stuck in the sink -----------------------------------------


def test_close_timing_out_leaves_the_spool_to_the_worker(tmp_path):
    sink = HangingSink()
    url, held = sink.url, sink.held
    spool = tmp_path / "spool"
    guard = Guard("open-chat", checks=None, failsafe="open", sink=HttpSink(url, timeout=1.5), spool_dir=spool)
    tel = guard.telemetry
    try:
        for _ in range(3):
            guard.report(status="ok")
        tel._wake.set()
        assert wait_for(lambda: held, timeout=5)  # the worker is now stuck in the sink
        guard.close(timeout=0.2)  # gives up waiting: must not close the spool under the worker
        assert tel._thread.is_alive()
        tel._thread.join(10)  # the sink times out; the worker spools the batch and ends
        assert not tel._thread.is_alive()
        st = tel.stats
        assert st["spooled"] == 3 and st["dropped"] == 0 and st["worker_errors"] == 0, st
        again = Spool(spool)  # the worker closed the spool (its lock is free) with the events in it
        try:
            assert again.pending_lines == 3
        finally:
            again.close()
    finally:
        sink.close()


# -- 4. counters under many threads -----------------------------------------------------------


class _KeepsNothing:
    """A sink that accepts every batch and keeps nothing, without saying so (a NullSink's
    events are counted in emit() and never queued: the queue and its counters would not run)."""

    def send(self, body: bytes, count: int) -> None:
        return None


def test_no_count_is_lost_with_many_emitting_threads():
    tel = Telemetry(_KeepsNothing(), max_queue=64, batch=16, linger_seconds=0.001)  # the worker drops nothing
    n_threads, per = 8, 40_000
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        start = threading.Barrier(n_threads)

        def run() -> None:
            start.wait()
            for _ in range(per):
                tel.emit({"x": 1})

        ts = [threading.Thread(target=run) for _ in range(n_threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
    finally:
        sys.setswitchinterval(old)
    st = tel.stats
    assert st["dropped"] > 0  # the queue was full at times: both counters were exercised
    assert st["emitted"] + st["dropped"] == n_threads * per, st
    tel.close(timeout=2)
