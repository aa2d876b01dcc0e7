"""The gateway process's event loop: settled once loaded (``platform.settle``: the loaded
gateway holds ≈ 530,000 tracked objects, and a full collection over them stopped the loop for
60–260 ms, one in a 9-second run at c=16 — every call in flight waited for it), and watched
(:class:`LoopWatch`, the ``loop`` figures of ``/healthz``)."""

from __future__ import annotations

import asyncio
import gc
import time

from fenghuo.platform.settle import GEN0_THRESHOLD, SWITCH_INTERVAL, settle

__all__ = ["GEN0_THRESHOLD", "SWITCH_INTERVAL", "LoopWatch", "settle"]


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
