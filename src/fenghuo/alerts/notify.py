"""Notify: deliver queued notifications with retries and backoff, and keep the delivery log.

Notifications are queued in ``alert_notifications`` in the same transaction as the transition
they announce, so a crash can lose neither; a worker thread sends what is due and records the
outcome. A notification is marked sent right after the platform accepts it: a process killed
between those two steps sends it again on restart (at-least-once; the id travels with the
message, ``X-Fenghuo-Notification`` on webhooks, for receivers that deduplicate).
Backoff: 1 s, 2 s, 4 s … capped at 5 minutes, up to ``max_attempts``; then ``failed``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import httpx
from sqlalchemy import select

from fenghuo.alerts.channels import Channel, send
from fenghuo.alerts.models import NotificationRow
from fenghuo.platform.clock import iso, iso_seconds
from fenghuo.platform.db import Database

log = logging.getLogger(__name__)


class Notifier:
    def __init__(self, db: Database, channels: list[Channel], *, max_attempts: int = 8, base_backoff: float = 1.0,
                 max_backoff: float = 300.0, poll: float = 0.5, active: Callable[[], bool] = lambda: True) -> None:
        self.db = db
        self.channels = {c.name: c for c in channels}
        self.max_attempts, self.base_backoff, self.max_backoff, self.poll = max_attempts, base_backoff, max_backoff, poll
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.active = active  # several replicas: only the leader sends (fenghuo.platform.leadership)
        self._client = httpx.Client()
        self._lock = threading.Lock()

    def wake(self) -> None:
        self._wake.set()

    def run_once(self) -> int:
        """Send everything due now; returns how many were attempted."""
        with self._lock:
            now = self.db.clock.now().timestamp()
            with self.db.reader() as s:
                due = s.execute(select(NotificationRow).where(NotificationRow.status == "pending",
                                                              NotificationRow.next_attempt_at <= iso_seconds(now))
                                .order_by(NotificationRow.created_at).limit(100)).scalars().all()
            for n in due:
                ch = self.channels.get(n.channel)
                error = None
                if ch is None:
                    error = f"channel {n.channel} is no longer configured"
                else:
                    try:
                        send(ch, n.payload, self._client)
                    except Exception as exc:  # noqa: BLE001 - every failure is retried and logged
                        error = f"{type(exc).__name__}: {exc}"
                with self.db.transaction() as s:
                    row = s.get(NotificationRow, n.id)
                    row.attempts += 1
                    if error is None:
                        row.status, row.sent_at, row.last_error = "sent", iso(self.db.clock.now()), None
                    else:
                        row.last_error = error[:500]
                        if row.attempts >= self.max_attempts or ch is None:
                            row.status = "failed"
                            log.warning("notification %s failed for good: %s", n.id, error)
                        else:
                            row.next_attempt_at = iso_seconds(now + min(self.max_backoff, self.base_backoff * 2 ** (row.attempts - 1)))
            return len(due)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                if self.active():  # only the leader sends when several replicas run (fenghuo.scale)
                    self.run_once()
            except Exception:
                log.exception("notifier pass failed")
            self._wake.wait(self.poll)
            self._wake.clear()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, daemon=True, name="fenghuo-notifier")
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout=10)
        self._client.close()
