"""One event per call, sent without ever making the call wait.

``emit`` appends a dict to a bounded in-memory queue and returns (a full queue drops the event
and counts it in ``stats['dropped']``: the request path never blocks on telemetry). One
background thread validates each event against the contract (``fenghuo.monitor.schema.Event``,
through its msgspec mirror in ``fenghuo.monitor.wire``),
sends batches to the sink, and when the sink fails writes them to the disk spool instead;
every ``retry_seconds`` it tries the spool again, oldest first, until it is empty. New events
queue behind the spool while it is not empty, so the sink sees them roughly in order.

The worker never dies: an event that cannot be encoded is counted ``invalid`` and logged; a
spool the disk refuses costs the batch (``dropped``, logged), not the thread. A sink that
refuses a batch for good (:class:`Rejected`, e.g. HTTP 400) is not retried forever: the batch is
halved until the bad events are alone, and those go to the spool's ``dead.jsonl`` with the
sink's answer (``rejected``); events the sink refuses one by one (the control plane names them
by index) likewise.

A sink that keeps nothing (``discards = True``: :class:`NullSink`, the embedded guard's and
gateway's without a control plane) gets nothing: ``emit`` counts the event ``discarded`` and
returns, so the worker neither wakes for it nor encodes it (≈ 1.5–2 µs of encoding per call,
issue 19, in batches that held the interpreter lock while every call in flight waited). Such
events are not checked against the contract either; a guard with a real sink checks them.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from pathlib import Path
from typing import Any, Protocol

import httpx

from fenghuo.guard.spool import Spool
from fenghuo.monitor.wire import encode_built

log = logging.getLogger(__name__)


class Rejected(Exception):
    """The sink refused a batch for good: sending it again cannot help (``str(exc)`` says why)."""


class Sink(Protocol):
    def send(self, body: bytes, count: int) -> list[dict] | None:
        """Deliver a JSON array of events. Return None when all were kept, or the events refused
        one by one (``[{"index": i, "reason": …}]``); raise :class:`Rejected` when the whole
        batch is refused for good, anything else when it may succeed later."""


class HttpSink:
    """POST a JSON array to the control plane's event endpoint (``/api/v1/events``)."""

    def __init__(self, url: str, token: str | None = None, timeout: float = 5.0) -> None:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.url = url
        self.client = httpx.Client(timeout=timeout, headers=headers)

    def send(self, body: bytes, count: int) -> list[dict] | None:
        r = self.client.post(self.url, content=body)
        code = r.status_code
        # 408/429 and 5xx pass; 401/403 are the guard's credentials, not its events: kept in the
        # spool until someone fixes the token, rather than thrown away. Any other 4xx says the
        # batch itself is wrong, and it would be wrong every time.
        if 400 <= code < 500 and code not in (401, 403, 408, 429):
            raise Rejected(f"sink answered {code}: {r.text[:1000]}")
        if code >= 300:
            raise RuntimeError(f"sink answered {code}: {r.text[:200]}")
        try:
            return r.json().get("rejected") or None
        except (ValueError, AttributeError):
            return None

    def close(self) -> None:
        self.client.close()


class NullSink:
    """Keeps nothing; for an SDK used without a control plane. Counted as ``discarded``."""

    discards = True

    def send(self, body: bytes, count: int) -> None:
        return None


def _array(lines: list[bytes]) -> bytes:
    return b"[" + b",".join(lines) + b"]"


class Telemetry:
    def __init__(self, sink: Sink | None, spool_dir: Path | None = None, *, max_queue: int = 100_000,
                 batch: int = 500, retry_seconds: float = 0.5, linger_seconds: float = 0.05, adopt: bool = False) -> None:
        self.sink = sink or NullSink()
        self.spool = Spool(spool_dir, adopt=adopt) if spool_dir else None
        self.max_queue, self.batch = max_queue, batch
        self.retry_seconds, self.linger = retry_seconds, linger_seconds
        self._q: collections.deque[dict[str, Any]] = collections.deque()
        self._wake = threading.Event()
        self._idle = threading.Event()
        self._stop = False
        self._next_retry = 0.0
        self._said: dict[str, float] = {}
        self.sink_down = False
        # sent: kept by the sink; discarded: given to a sink that keeps nothing (NullSink);
        # rejected: refused by the sink for good (kept in the spool's dead.jsonl);
        # dropped: lost (queue full, or neither sink nor spool could take them).
        # Written by the worker thread only; ``stats`` adds the request threads' own counters.
        self._stats = {"sent": 0, "discarded": 0, "spooled": 0, "dropped": 0, "invalid": 0, "rejected": 0,
                       "sink_failures": 0, "spool_errors": 0, "worker_errors": 0}
        # emit() runs on many request threads at once: each counts in a cell of its own
        # ([emitted, dropped, discarded]), so no count is lost and no lock is taken per call.
        self._discards = bool(getattr(self.sink, "discards", False))
        self._tls = threading.local()
        self._cells: list[list[int]] = []
        self._cells_lock = threading.Lock()
        self._closing = threading.Lock()
        self._abandoned = False  # close() gave up waiting: the worker closes the spool when it ends
        self._exited = False
        self._thread = threading.Thread(target=self._run, daemon=True, name="fenghuo-telemetry")
        self._thread.start()

    # -- request path -------------------------------------------------------------------------
    def emit(self, event: dict[str, Any]) -> None:
        try:
            cell = self._tls.cell
        except AttributeError:
            cell = self._new_cell()
        if self._discards:  # nothing would keep it: counted, not queued or encoded
            cell[0] += 1
            cell[2] += 1
            return
        if len(self._q) >= self.max_queue:
            cell[1] += 1
            return
        self._q.append(event)
        cell[0] += 1
        if len(self._q) >= self.batch:
            self._wake.set()

    def _new_cell(self) -> list[int]:
        cell = self._tls.cell = [0, 0, 0]
        with self._cells_lock:
            self._cells.append(cell)
        return cell

    @property
    def stats(self) -> dict[str, int]:
        """A snapshot of the counters (the request threads' cells summed with the worker's)."""
        with self._cells_lock:
            cells = list(self._cells)
        out = {"emitted": sum(c[0] for c in cells), **self._stats}
        out["dropped"] += sum(c[1] for c in cells)
        out["discarded"] += sum(c[2] for c in cells)
        return out

    # -- worker -------------------------------------------------------------------------------
    def _complain(self, key: str, msg: str, *args: Any) -> None:
        """Log an error at most every 10 s per kind: a dead disk must not flood the log."""
        now = time.monotonic()
        if now - self._said.get(key, -1e9) >= 10:
            self._said[key] = now
            log.error(msg, *args)

    def _take(self) -> list[bytes]:
        out: list[bytes] = []
        while self._q and len(out) < self.batch:
            raw = self._q.popleft()
            try:
                out.append(encode_built(raw))
            except Exception as exc:  # noqa: BLE001 - contract violation, or a value msgspec cannot encode
                self._stats["invalid"] += 1
                self._complain("invalid", "telemetry event cannot be encoded, dropped (%d so far): %s: %s",
                               self._stats["invalid"], type(exc).__name__, exc)
        return out

    def _refuse(self, lines: list[bytes], reason: str) -> None:
        self._stats["rejected"] += len(lines)
        self._complain("rejected", "telemetry sink refused %d event(s) for good (%d so far): %s", len(lines),
                       self._stats["rejected"], reason[:300])
        if self.spool is not None:
            try:
                self.spool.dead_letter(lines, reason)
            except OSError as exc:
                self._complain("dead", "telemetry dead-letter file cannot be written: %s", exc)

    def _send(self, lines: list[bytes]) -> list[bytes]:
        """Send ``lines``; return those still unsent, to be tried again later (always a tail of
        ``lines``: empty when the sink has answered for every line, kept or refused for good)."""
        try:
            refused = self.sink.send(_array(lines), len(lines))
        except Rejected as exc:
            if len(lines) == 1:
                self._refuse(lines, str(exc))
                return []
            # The whole batch was refused (a JSON array with one bad element is unreadable):
            # halve it until the bad lines are alone, so good events are not thrown away with them.
            # Once a half fails for now, the rest waits too; what the sink answered is not resent.
            half = len(lines) // 2
            rest = self._send(lines[:half])
            if rest:
                return rest + lines[half:]
            return self._send(lines[half:])
        except Exception as exc:  # noqa: BLE001 - any other sink failure means "spool it"
            self._stats["sink_failures"] += 1
            log.debug("telemetry sink failed: %s", exc)
            return lines
        bad = {}
        for r in refused or ():
            try:
                bad[int(r["index"])] = str(r.get("reason", ""))
            except (KeyError, TypeError, ValueError):
                continue
        for i, reason in sorted(bad.items()):
            if 0 <= i < len(lines):
                self._refuse([lines[i]], reason)
        kept = len(lines) - len(bad)
        self._stats["discarded" if getattr(self.sink, "discards", False) else "sent"] += kept
        return []

    def _retry_later(self) -> None:
        self.sink_down = True
        self._next_retry = time.monotonic() + self.retry_seconds

    def _drain_spool_once(self) -> None:
        """Send one batch from the spool; on failure wait ``retry_seconds`` before the next try."""
        if self.spool is None or time.monotonic() < self._next_retry:
            return
        if self.spool.empty:
            self.sink_down = False  # nothing waits on disk: try the sink directly again
            return
        try:
            self.spool.seal()
            item = self.spool.next_batch(self.batch)
            if item is None:
                self.sink_down = False
                return
            seg, end, lines = item
            unsent = self._send(lines)
            done = len(lines) - len(unsent)
            if done:
                # The unsent lines are the batch's tail: commit up to where they start.
                end -= sum(len(line) + 1 for line in unsent)
                self.spool.commit(seg, end, done)
            if not unsent:
                if self.spool.empty:
                    self.sink_down = False
            else:
                self._retry_later()
        except OSError as exc:
            self._stats["spool_errors"] += 1
            self._complain("drain", "telemetry spool %s cannot be read: %s", self.spool.dir, exc)
            self._retry_later()

    def _spool_or_drop(self, lines: list[bytes]) -> None:
        if self.spool is None:
            self._stats["dropped"] += len(lines)
            self._complain("nospool", "telemetry sink unreachable and no spool: %d event(s) dropped (%d so far)",
                           len(lines), self._stats["dropped"])
            return
        try:
            self.spool.append(lines)
            self._stats["spooled"] += len(lines)
        except (OSError, ValueError) as exc:  # ValueError: a file closed under us
            self._stats["dropped"] += len(lines)
            self._stats["spool_errors"] += 1
            self._complain("spool", "telemetry spool %s cannot be written (%s): %d event(s) dropped (%d so far)",
                           self.spool.dir, exc, len(lines), self._stats["dropped"])
        if not self.sink_down:
            self._retry_later()

    def _step(self) -> None:
        if not self._q:
            self._idle.set()
            self._wake.wait(self.linger)
            self._wake.clear()
        self._idle.clear()
        lines = self._take()
        if lines:
            backlog = self.spool is not None and (self.sink_down or not self.spool.empty)
            unsent = lines if backlog else self._send(lines)
            if unsent:
                self._spool_or_drop(unsent)
        self._drain_spool_once()

    def _run(self) -> None:
        # The worker must outlive anything one event, the sink or the disk can do to it: a dead
        # worker would leave every later event queued forever, silently.
        while True:
            try:
                self._step()
            except Exception:
                self._stats["worker_errors"] += 1
                log.exception("telemetry worker error; continuing")
                time.sleep(min(self.retry_seconds, 1.0))  # no hot loop on a fault that persists
            if self._stop and not self._q:
                break
        with self._closing:
            self._exited = True
            if self._abandoned and self.spool:
                self.spool.close()  # close() stopped waiting for us: the spool is ours to close

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
        with self._closing:
            if not self._exited:
                # The worker is still busy (a sink that hangs): closing the spool now would pull
                # it from under a write. The worker closes it when it ends.
                self._abandoned = True
                log.warning("telemetry worker still busy after %.1f s; the spool %s stays open until it ends",
                            timeout, self.spool.dir if self.spool else None)
                return
        if self.spool:
            self.spool.close()
