"""Sliding windows of counters and latency sketches, one ring of buckets per window length.

A window of length L keeps 60 buckets of L/60 seconds (at least 1 s) and a running total, so
reading a count is O(1) and moving the window drops whole buckets (the window therefore covers
between L − L/60 and L; documented in docs/monitoring.md). Latency quantiles come from a
DDSketch per bucket (mergeable, 1 % relative error), merged on read and cached until the next
write: sketches cannot be subtracted, counters can.
"""

from __future__ import annotations

from collections import Counter

from ddsketch import DDSketch

RELATIVE_ACCURACY = 0.01
BUCKETS_PER_WINDOW = 60

# Plain integer counters of a bucket; names are indicator building blocks (see indicators.py).
COUNTERS = (
    "calls", "refusals", "errors", "backup", "failsafe", "in_checked", "in_violations",
    "out_checked", "out_violations", "out_blocked", "complaints", "factual_errors",
    "operator_notes", "external_signals", "tokens_in", "tokens_out",
)


class Bucket:
    """Counts for one slice of time (also used as the per-batch partial and the running total)."""

    __slots__ = (*COUNTERS, "in_categories", "out_categories", "sketch")

    def __init__(self) -> None:
        for name in COUNTERS:
            setattr(self, name, 0)
        self.in_categories: Counter[str] = Counter()
        self.out_categories: Counter[str] = Counter()
        self.sketch: DDSketch | None = None

    def add(self, other: "Bucket", sign: int = 1) -> None:
        for name in COUNTERS:
            setattr(self, name, getattr(self, name) + sign * getattr(other, name))
        if sign > 0:
            self.in_categories.update(other.in_categories)
            self.out_categories.update(other.out_categories)
        else:
            self.in_categories.subtract(other.in_categories)
            self.out_categories.subtract(other.out_categories)
            self.in_categories = +self.in_categories  # drop zero entries
            self.out_categories = +self.out_categories

    def merge_sketch(self, other: DDSketch | None) -> None:
        if other is None or other.count == 0:
            return
        if self.sketch is None:
            self.sketch = DDSketch(RELATIVE_ACCURACY)
        self.sketch.merge(other)


class Window:
    """One sliding window over event time for one service."""

    __slots__ = ("length", "width", "buckets", "total", "_merged")

    def __init__(self, length: float) -> None:
        self.length = float(length)
        self.width = max(1.0, self.length / BUCKETS_PER_WINDOW)
        self.buckets: dict[int, Bucket] = {}
        self.total = Bucket()
        self._merged: DDSketch | None = None

    def _oldest(self, now: float) -> int:
        return int((now - self.length) // self.width) + 1

    def expire(self, now: float) -> None:
        oldest = self._oldest(now)
        stale = [k for k in self.buckets if k < oldest]
        for k in stale:
            b = self.buckets.pop(k)
            self.total.add(b, -1)
            if b.sketch is not None:
                self._merged = None

    def add(self, second: float, partial: Bucket, now: float) -> None:
        """Fold a partial (events of one second) into its bucket, if still inside the window."""
        key = int(second // self.width)
        if key < self._oldest(now):
            return
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket = self.buckets[key] = Bucket()
        bucket.add(partial)
        self.total.add(partial)
        if partial.sketch is not None and partial.sketch.count:
            bucket.merge_sketch(partial.sketch)
            self._merged = None

    def latency(self) -> DDSketch | None:
        """All latencies in the window as one sketch (cached until the window changes)."""
        if self._merged is None:
            merged = DDSketch(RELATIVE_ACCURACY)
            for b in self.buckets.values():
                if b.sketch is not None:
                    merged.merge(b.sketch)
            self._merged = merged
        return self._merged
