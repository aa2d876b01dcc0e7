"""The one clock every deadline, window and timestamp is read from.

Time is injected rather than read from ``datetime.now`` directly so that windows, `for`
durations and reporting deadlines can be tested without sleeping.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta


class Clock:
    """Wall-clock time in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()


class ManualClock(Clock):
    """A clock that only moves when told to; for tests and simulations."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, tzinfo=UTC)
        self._mono = 0.0
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def monotonic(self) -> float:
        with self._lock:
            return self._mono

    def advance(self, seconds: float = 0.0, **kwargs: float) -> datetime:
        delta = timedelta(seconds=seconds, **kwargs)
        with self._lock:
            self._now += delta
            self._mono += delta.total_seconds()
            return self._now


SYSTEM_CLOCK = Clock()


def iso(ts: datetime) -> str:
    """Canonical timestamp text: UTC, microseconds, trailing Z."""
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def iso_seconds(x: float | None) -> str | None:
    """UNIX seconds as canonical timestamp text (``None`` stays ``None``): how a pure core that
    computes in seconds (alert lifecycle, plan schedules) hands a time to storage or a view."""
    if x is None:
        return None
    return datetime.fromtimestamp(x, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def seconds(text: str | None) -> float | None:
    """Timestamp text (ISO 8601; no offset means UTC) as UNIX seconds (``None`` stays ``None``)."""
    if text is None:
        return None
    ts = datetime.fromisoformat(text)
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return ts.timestamp()
