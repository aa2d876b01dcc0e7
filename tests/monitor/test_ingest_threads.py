"""Ingest runs off the event loop (issue 13): a batch whose counting is held up does not hold up
other requests, and batches counted on several worker threads at once still count each event
id exactly once."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import httpx

from tests.monitor.helpers import call


def test_a_slow_batch_does_not_hold_the_event_loop(api):
    release, entered = threading.Event(), threading.Event()

    def slow(events) -> None:  # a bus subscriber, like the alert engine
        entered.set()
        release.wait(10)

    api.server.app.state.runtime.monitor.bus.subscribe(slow)
    body = json.dumps([call("a-chat", datetime.now(UTC))])
    headers = {"Authorization": f"Bearer {api.tokens['admin']}"}
    with ThreadPoolExecutor(1) as pool:
        posted = pool.submit(httpx.post, api.server.url + "/api/v1/events", content=body, headers=headers, timeout=20)
        assert entered.wait(10)
        t0 = time.perf_counter()
        health = api("GET", "/api/v1/health")  # answered while the batch is still being counted
        waited = time.perf_counter() - t0
        assert not posted.done()
        release.set()
        assert posted.result().json()["accepted"] == 1
    assert health.status_code == 200 and waited < 5


def test_concurrent_batches_count_each_id_once(api):
    now = datetime.now(UTC)
    events = [call("a-chat", now, id=f"same-{i}", unsafe=i % 2 == 0) for i in range(200)]
    body = json.dumps(events)
    with ThreadPoolExecutor(8) as pool:
        answers = [f.result().json() for f in [pool.submit(api, "POST", "/api/v1/events", content=body) for _ in range(16)]]
    assert sum(a["accepted"] for a in answers) == 200
    assert sum(a["duplicates"] for a in answers) == 200 * 15
    snap = api("GET", "/api/v1/indicators/a-chat").json()
    first = next(iter(snap["windows"].values()))
    assert first["calls"] == 200 and first["output_violation_rate"] == 0.5
