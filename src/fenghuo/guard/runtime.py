"""Settling a gateway process once it has loaded everything, so nothing but calls holds its
event loop.

Measured on the packaged check pipeline (issue 19): the loaded gateway holds ≈ 530,000
tracked objects (the lexicon automaton's tables, the classifier, the rules, the imported
modules). None of them ever becomes garbage, yet a full (generation 2) collection walks them
all: 60–260 ms with the event loop stopped, one in a 9-second run at c=16 — every call in flight
waited for it. ``gc.freeze()`` moves them to the permanent generation, so a collection only
walks what was made after the start. A call makes a few hundred container objects that live
across its awaits; with generation 0 collected every 700 allocations, sixteen calls in flight
keep promoting each other's short-lived objects to the older generations, which are then
collected more often. Collecting generation 0 every 10,000 lets them die young first.

Background threads (the telemetry worker, the switch follower's poll, the acknowledgement pool)
take the interpreter lock while the loop waits for it; by default a thread keeps it up to 5 ms
(``sys.getswitchinterval()``) before it must hand it over, which showed as 5 ms steps in the
loop's lag. One millisecond bounds that wait; the cost is a few more lock hand-overs when two
threads both run Python, which on the gateway is rare.
"""

from __future__ import annotations

import asyncio
import gc
import sys
import threading
import time

GEN0_THRESHOLD = 10_000
SWITCH_INTERVAL = 0.001  # seconds

_lock = threading.Lock()
_settled = False


def settle() -> bool:
    """Freeze what was loaded, collect young objects less often, shorten the lock's turns.
    Once per process (later calls do nothing and return False)."""
    global _settled
    with _lock:
        if _settled:
            return False
        _settled = True
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(max(GEN0_THRESHOLD, gc.get_threshold()[0]), gen1, gen2)
    sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL))
    return True


class LoopWatch:
    """Where the event loop's time goes, as the gateway's ``/healthz`` reports it (``loop``):
    how late a 10 ms timer fires (the loop held by a call's work, a collection, or a thread
    keeping the interpreter lock) and every garbage collection's pause, by generation.

    Costs ≈ 100 timer wake-ups a second and a clock read per collection."""

    PERIOD = 0.010

    def __init__(self) -> None:
        self.lags = [0, 0, 0, 0]  # timer checks late by < 1 ms, 1–5 ms, 5–20 ms, ≥ 20 ms
        self.max_lag_ms = 0.0
        self.gc = {0: [0, 0.0, 0.0], 1: [0, 0.0, 0.0], 2: [0, 0.0, 0.0]}  # generation -> [count, total ms, max ms]
        self._gc_t0 = 0.0
        self._task: asyncio.Task | None = None

    def start(self) -> LoopWatch:
        self._task = asyncio.get_running_loop().create_task(self._sample())
        gc.callbacks.append(self._on_gc)
        return self

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)

    def _on_gc(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._gc_t0 = time.perf_counter()
            return
        ms = (time.perf_counter() - self._gc_t0) * 1000
        g = self.gc.get(info.get("generation", 2))
        if g is not None:
            g[0] += 1
            g[1] += ms
            g[2] = max(g[2], ms)

    async def _sample(self) -> None:
        period, now = self.PERIOD, time.perf_counter
        while True:
            t0 = now()
            await asyncio.sleep(period)
            late = (now() - t0 - period) * 1000
            self.lags[0 if late < 1 else 1 if late < 5 else 2 if late < 20 else 3] += 1
            if late > self.max_lag_ms:
                self.max_lag_ms = late

    @property
    def stats(self) -> dict:
        return {"timer_late_ms": dict(zip(("<1", "1-5", "5-20", ">=20"), self.lags)), "max_late_ms": round(self.max_lag_ms, 2),
                "gc": {str(k): {"count": v[0], "total_ms": round(v[1], 2), "max_ms": round(v[2], 2)} for k, v in self.gc.items()}}
