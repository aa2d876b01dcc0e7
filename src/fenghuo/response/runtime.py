"""The executor inside the control-plane process (LIFESPAN_HOOKS in api/app.py, after alerts):
a thread that wakes on every warning transition (``alerts.listeners``) and at least every
``FENGHUO_RESPONSE_TICK`` seconds (default 1), and runs one :meth:`Executor.tick` — plan steps,
stale approvals, reporting clocks, the canary ramp. All its state is in the database, so
stopping and starting the server resumes exactly where it was."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from contextlib import asynccontextmanager

from fastapi import FastAPI

from fenghuo.alerts import listeners
from fenghuo.response.executor import Executor

log = logging.getLogger(__name__)


class ExecutorThread:
    def __init__(self, executor: Executor, every: float) -> None:
        self.executor = executor
        self.every = every
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True, name="fenghuo-response")
        self._unsubscribe = None
        self.active = lambda: True  # several replicas: only the leader ticks (set by fenghuo.scale.replica)

    def start(self) -> None:
        self._unsubscribe = listeners.subscribe(lambda change: self.wake.set())
        self.thread.start()

    def stop(self) -> None:
        if self._unsubscribe:
            self._unsubscribe()
        self.stopping.set()
        self.wake.set()
        self.thread.join(timeout=10)

    def _run(self) -> None:
        while not self.stopping.is_set():
            try:
                if self.active():
                    self.executor.tick()
            except Exception:  # noqa: BLE001 - keep following warnings
                log.exception("response tick failed")
            self.wake.wait(self.every)
            self.wake.clear()


@asynccontextmanager
async def lifespan(app: FastAPI):
    runner = ExecutorThread(Executor(app.state.db), float(os.environ.get("FENGHUO_RESPONSE_TICK", "1")))
    runner.start()
    app.state.response = runner
    try:
        yield
    finally:
        await asyncio.to_thread(runner.stop)
