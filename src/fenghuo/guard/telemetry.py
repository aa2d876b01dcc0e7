"""One event per call, sent without ever making the call wait.

``emit`` appends a dict to a bounded in-memory queue and returns (a full queue drops the event
and counts it in ``stats['dropped']``: the request path never blocks on telemetry). One
background thread validates each event against the contract (``fenghuo.monitor.schema.Event``,
through its msgspec mirror in ``fenghuo.monitor.wire``),
sends batches to the sink, and when the sink fails writes them to the disk spool instead;
every ``retry_seconds`` it tries the spool again, oldest first, until it is empty. New events
queue behind the spool while it is not empty, so the sink sees them roughly in order.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from pathlib import Path
from typing import Any, Protocol

import httpx
import msgspec

from fenghuo.guard.spool import Spool
from fenghuo.monitor.wire import encode_built

log = logging.getLogger(__name__)


class Sink(Protocol):
    def send(self, body: bytes, count: int) -> None:
        """Deliver a JSON array of events; raise on any failure."""


class HttpSink:
    """POST a JSON array to the control plane's event endpoint (``/api/v1/events``)."""

    def __init__(self, url: str, token: str | None = None, timeout: float = 5.0) -> None:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.url = url
        self.client = httpx.Client(timeout=timeout, headers=headers)

    def send(self, body: bytes, count: int) -> None:
        r = self.client.post(self.url, content=body)
        if r.status_code >= 300:
            raise RuntimeError(f"sink answered {r.status_code}: {r.text[:200]}")

    def close(self) -> None:
        self.client.close()


class NullSink:
    """Keeps nothing; for an SDK used without a control plane or spool."""

    def send(self, body: bytes, count: int) -> None:
        return None


def _array(lines: list[bytes]) -> bytes:
    return b"[" + b",".join(lines) + b"]"


class Telemetry:
    def __init__(self, sink: Sink | None, spool_dir: Path | None = None, *, max_queue: int = 100_000,
                 batch: int = 500, retry_seconds: float = 0.5, linger_seconds: float = 0.05) -> None:
        self.sink = sink or NullSink()
        self.spool = Spool(spool_dir) if spool_dir else None
        self.max_queue, self.batch = max_queue, batch
        self.retry_seconds, self.linger = retry_seconds, linger_seconds
        self._q: collections.deque[dict[str, Any]] = collections.deque()
        self._wake = threading.Event()
        self._idle = threading.Event()
        self._stop = False
        self._next_retry = 0.0
        self.sink_down = False
        self.stats = {"emitted": 0, "sent": 0, "spooled": 0, "dropped": 0, "invalid": 0, "sink_failures": 0}
        self._thread = threading.Thread(target=self._run, daemon=True, name="fenghuo-telemetry")
        self._thread.start()

    # -- request path -------------------------------------------------------------------------
    def emit(self, event: dict[str, Any]) -> None:
        if len(self._q) >= self.max_queue:
            self.stats["dropped"] += 1
            return
        self._q.append(event)
        self.stats["emitted"] += 1
        if len(self._q) >= self.batch:
            self._wake.set()

    # -- worker -------------------------------------------------------------------------------
    def _take(self) -> list[bytes]:
        out: list[bytes] = []
        while self._q and len(out) < self.batch:
            raw = self._q.popleft()
            try:
                out.append(encode_built(raw))
            except msgspec.ValidationError as exc:
                self.stats["invalid"] += 1
                log.error("telemetry event does not match the contract, dropped: %s", exc)
        return out

    def _send(self, lines: list[bytes]) -> bool:
        try:
            self.sink.send(_array(lines), len(lines))
            self.stats["sent"] += len(lines)
            return True
        except Exception as exc:  # noqa: BLE001 - any sink failure means "spool it"
            self.stats["sink_failures"] += 1
            log.debug("telemetry sink failed: %s", exc)
            return False

    def _drain_spool_once(self) -> None:
        """Send one batch from the spool; on failure wait ``retry_seconds`` before the next try."""
        if self.spool is None or self.spool.empty or time.monotonic() < self._next_retry:
            return
        self.spool.seal()
        item = self.spool.next_batch(self.batch)
        if item is None:
            self.sink_down = False
            return
        seg, end, lines = item
        if self._send(lines):
            self.spool.commit(seg, end, len(lines))
            if self.spool.empty:
                self.sink_down = False
        else:
            self.sink_down = True
            self._next_retry = time.monotonic() + self.retry_seconds

    def _run(self) -> None:
        while True:
            if not self._q:
                self._idle.set()
                self._wake.wait(self.linger)
                self._wake.clear()
            self._idle.clear()
            lines = self._take()
            if lines:
                backlog = self.spool is not None and (self.sink_down or not self.spool.empty)
                if backlog or not self._send(lines):
                    if self.spool is not None:
                        self.spool.append(lines)
                        self.stats["spooled"] += len(lines)
                        if not self.sink_down:
                            self.sink_down = True
                            self._next_retry = time.monotonic() + self.retry_seconds
                    else:
                        self.stats["dropped"] += len(lines)
            self._drain_spool_once()
            if self._stop and not self._q:
                return

    # -- control ------------------------------------------------------------------------------
    def pending(self) -> int:
        return len(self._q) + (self.spool.pending_lines if self.spool else 0)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything emitted so far has reached the sink; False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._wake.set()
            if not self._q and (self.spool is None or self.spool.empty) and self._idle.is_set():
                return True
            time.sleep(0.01)
        return False

    def close(self, timeout: float = 5.0) -> None:
        """Send what can be sent within ``timeout``; whatever cannot stays in the spool."""
        self.flush(timeout)
        self._stop = True
        self._wake.set()
        self._thread.join(timeout=timeout)
        if self.spool:
            self.spool.close()
