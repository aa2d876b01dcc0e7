"""Acknowledgements are jittered on a timer, not slept in the pool's workers (guard.follow):
many guards in one process acknowledge a change within the jitter, not one after another."""

from __future__ import annotations

import threading
import time

from fenghuo.guard import follow


def test_jobs_run_at_their_due_time_in_due_order():
    done: list[tuple[str, float]] = []
    lock = threading.Lock()
    t0 = time.monotonic()
    for name, delay in (("c", 0.12), ("a", 0.02), ("b", 0.06)):
        follow._LATER.at(t0 + delay, lambda name=name: (lock.acquire(), done.append((name, time.monotonic() - t0)), lock.release()))
    deadline = time.monotonic() + 5
    while len(done) < 3 and time.monotonic() < deadline:
        time.sleep(0.005)
    assert [n for n, _ in done] == ["a", "b", "c"]
    assert all(at >= delay - 0.001 for (_, at), delay in zip(done, (0.02, 0.06, 0.12), strict=True))


def test_forty_acknowledgements_due_together_all_leave_together():
    # With the jitter slept inside the 4 pool workers, 40 acknowledgements each due 50 ms out
    # left in 10 rounds of 50 ms (0.5 s); on the timer they all leave right after 50 ms.
    done: list[float] = []
    lock = threading.Lock()

    def job() -> None:
        time.sleep(0.002)  # a short round trip
        with lock:
            done.append(time.monotonic())

    t0 = time.monotonic()
    for _ in range(40):
        follow._LATER.at(t0 + 0.05, job)
    deadline = time.monotonic() + 5
    while len(done) < 40 and time.monotonic() < deadline:
        time.sleep(0.005)
    assert len(done) == 40
    assert min(done) - t0 >= 0.049
    assert max(done) - t0 < 0.3, max(done) - t0
