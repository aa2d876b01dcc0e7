"""The executor inside the control-plane process (built by ``fenghuo.api.runtime``, after the
alert engine): a thread that wakes on every warning transition (``alerts.listeners``) and at
least every ``FENGHUO_RESPONSE_TICK`` seconds (default 1), and runs one :meth:`Executor.tick` —
plan steps, stale approvals, reporting clocks, the canary ramp. All its state is in the
database, so stopping and starting the server resumes exactly where it was. With several
replicas only the leader ticks (the executor's ``leadership``)."""

from __future__ import annotations

import logging
import os
import threading

from fenghuo.alerts import listeners
from fenghuo.response.executor import Executor

log = logging.getLogger(__name__)


def tick_from_env() -> float:
    return float(os.environ.get("FENGHUO_RESPONSE_TICK", "1"))


class ExecutorThread:
    def __init__(self, executor: Executor, every: float) -> None:
        self.executor = executor
        self.every = every
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True, name="fenghuo-response")
        self._unsubscribe = None

    def start(self) -> ExecutorThread:
        self._unsubscribe = listeners.subscribe(lambda change: self.wake.set())
        self.thread.start()
        return self

    def stop(self) -> None:
        if self._unsubscribe:
            self._unsubscribe()
        self.stopping.set()
        self.wake.set()
        self.thread.join(timeout=10)

    def _run(self) -> None:
        while not self.stopping.is_set():
            try:
                if self.executor.leadership.active():
                    self.executor.tick()
            except Exception:
                log.exception("response tick failed")
            self.wake.wait(self.every)
            self.wake.clear()
