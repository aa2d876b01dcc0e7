"""Sliding windows of counters and latency histograms, one ring of buckets per window length.

A window of length L keeps 60 buckets of L/60 seconds (at least 1 s) and a running total, so
reading a count is O(1) and moving the window drops whole buckets (the window therefore covers
between L − L/60 and L; documented in docs/monitoring.md).

Latency quantiles come from ``LogHistogram``: DDSketch's logarithmic bucketing (the same
``LogarithmicMapping`` key, so the same 1 % relative-accuracy guarantee and the same answers)
held as integer counts in a numpy array instead of the ``ddsketch`` package's objects. Why our
own: measured on the shared 2-core machine, ``DDSketch.add`` costs ~1.8 µs per value (1,000
inserts ≈ 1.8 ms per batch, a fifth of the whole ingest budget at 100,000 events/s), while
``np.log2`` + ``np.bincount`` over the same 1,000 values takes ~15 µs; and reading a window's
p99 re-merged up to 60 per-bucket sketches in Python (~5 ms per read after each write). Integer
bucket counts can be *subtracted* exactly, so a window keeps a running total histogram like its
counters and a quantile is one cumulative sum over a few hundred bins.
"""

from __future__ import annotations

import math
import sys
from collections import Counter
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np

RELATIVE_ACCURACY = 0.01
BUCKETS_PER_WINDOW = 60

# DDSketch's LogarithmicMapping(RELATIVE_ACCURACY): key(v) = ceil(log2(v) * _MULT), and a key
# reads back as 2 ** (key / _MULT) * 2 / (1 + gamma), within RELATIVE_ACCURACY of every v in it.
_GAMMA = 1 + 2 * RELATIVE_ACCURACY / (1 - RELATIVE_ACCURACY)
_MULT = math.log(2) / math.log1p(2 * RELATIVE_ACCURACY / (1 - RELATIVE_ACCURACY))
_MIN_POSITIVE = sys.float_info.min * _GAMMA  # smaller values count as zero, as in DDSketch
_MAX_KEY = math.ceil(math.log2(sys.float_info.max / _GAMMA) * _MULT)
ZERO_KEY = int(np.iinfo(np.int64).min)  # the "key" of values counted as zero
_ONE = np.ones(1, dtype=np.int64)
NO_CATEGORIES: Mapping[str, int] = MappingProxyType({})  # read-only: shared by every bucket without categories

# Plain integer counters of a bucket; names are indicator building blocks (see indicators.py).
COUNTERS = (
    "calls", "refusals", "errors", "backup", "failsafe", "in_checked", "in_violations",
    "out_checked", "out_violations", "out_blocked", "complaints", "factual_errors",
    "operator_notes", "external_signals", "tokens_in", "tokens_out",
    # outputs with a masked finding; outputs judged in context, refused by the model, risky compliances
    "out_masked", "out_judged", "out_answer_refused", "out_compliance",
)


class LogHistogram:
    """Counts of values per logarithmic bucket over keys ``offset .. offset + len(counts) - 1``,
    plus the count of zeros. Mergeable and subtractable; quantiles as DDSketch answers them."""

    __slots__ = ("offset", "counts", "zeros", "count")

    def __init__(self) -> None:
        self.offset = 0
        self.counts = np.zeros(0, dtype=np.int64)
        self.zeros = 0
        self.count = 0

    @staticmethod
    def keys(values: np.ndarray) -> np.ndarray:
        """Bucket keys of non-negative values, vectorised; values too small to map (and 0) get
        ``ZERO_KEY``."""
        out = np.full(values.shape, ZERO_KEY, dtype=np.int64)
        pos = values > _MIN_POSITIVE
        if pos.any():
            k = np.ceil(np.log2(values[pos]) * _MULT)
            out[pos] = np.minimum(k, _MAX_KEY).astype(np.int64)  # +inf lands in the top bucket
        return out

    @classmethod
    def of_keys(cls, keys: np.ndarray) -> LogHistogram:
        """A histogram of keys from ``keys()`` (one bincount for the whole slice)."""
        h = cls()
        h.count = int(keys.size)
        pos = keys[keys != ZERO_KEY]
        h.zeros = h.count - int(pos.size)
        if pos.size:
            lo = int(pos.min())
            h.offset = lo
            h.counts = np.bincount(pos - lo)
        return h

    @classmethod
    def of_one(cls, value: float) -> LogHistogram:
        """``of_keys(keys(np.array([value])))`` for one value, without the arrays' overhead
        (the same ufuncs on a scalar, so the same key)."""
        h = cls()
        h.count = 1
        if value > _MIN_POSITIVE:
            h.offset = int(min(np.ceil(np.log2(np.float64(value)) * _MULT), _MAX_KEY))
            h.counts = _ONE.copy()
        else:
            h.zeros = 1
        return h

    def add(self, other: LogHistogram, sign: int = 1) -> None:
        if not other.count:
            return
        if other.counts.size == 1 and self.counts.size and self.offset <= other.offset < self.offset + self.counts.size:
            # one bin inside the range held (a single latency, the many-services case): no slicing
            self.zeros += sign * other.zeros
            self.count += sign * other.count
            self.counts[other.offset - self.offset] += sign * int(other.counts[0])
            if self.count == 0:
                self.offset, self.counts, self.zeros = 0, np.zeros(0, dtype=np.int64), 0
            return
        self.zeros += sign * other.zeros
        self.count += sign * other.count
        n = other.counts.size
        if n:
            lo, hi = other.offset, other.offset + n
            have_lo, have_hi = self.offset, self.offset + self.counts.size
            if not self.counts.size:
                self.offset, self.counts = lo, np.zeros(n, dtype=np.int64)
            elif lo < have_lo or hi > have_hi:
                new_lo, new_hi = min(lo, have_lo), max(hi, have_hi)
                grown = np.zeros(new_hi - new_lo, dtype=np.int64)
                grown[have_lo - new_lo:have_hi - new_lo] = self.counts
                self.offset, self.counts = new_lo, grown
            start = lo - self.offset
            if sign > 0:
                self.counts[start:start + n] += other.counts
            else:
                self.counts[start:start + n] -= other.counts
        if self.count == 0:  # emptied by subtraction: forget the range
            self.offset, self.counts, self.zeros = 0, np.zeros(0, dtype=np.int64), 0

    def quantile(self, q: float) -> float | None:
        """DDSketch's ``get_quantile_value``: the bucket holding the value of rank q·(n−1)."""
        if q < 0 or q > 1 or self.count == 0:
            return None
        rank = q * (self.count - 1)
        if rank < self.zeros:
            return 0.0
        cum = np.cumsum(self.counts)
        i = int(np.searchsorted(cum, rank - self.zeros, side="right"))
        i = min(i, self.counts.size - 1)
        return 2.0 ** ((i + self.offset) / _MULT) * (2.0 / (1 + _GAMMA))


class Bucket:
    """Counts for one slice of time (also used as the per-batch partial and the running total)."""

    __slots__ = (*COUNTERS, "in_categories", "out_categories", "hist")

    def __init__(self) -> None:
        _zero_counters(self)
        # Categories are rare: an empty bucket shares one read-only empty mapping and gets a
        # Counter of its own when a category first arrives (issue 19: two empty Counters were
        # ~40 % of a service's memory in the windows).
        self.in_categories: Counter[str] = NO_CATEGORIES  # type: ignore[assignment]
        self.out_categories: Counter[str] = NO_CATEGORIES  # type: ignore[assignment]
        self.hist: LogHistogram | None = None

    def own_categories(self, side: str) -> Counter[str]:
        """This bucket's own (mutable) Counter of ``side`` ("in"/"out") categories."""
        name = f"{side}_categories"
        cats = getattr(self, name)
        if cats is NO_CATEGORIES:
            cats = Counter()
            setattr(self, name, cats)
        return cats

    def add(self, other: Bucket, sign: int = 1) -> None:
        if sign > 0:
            _add_counters(self, other)
            if other.in_categories:
                self.own_categories("in").update(other.in_categories)
            if other.out_categories:
                self.own_categories("out").update(other.out_categories)
        else:
            _sub_counters(self, other)
            if other.in_categories:
                self.own_categories("in").subtract(other.in_categories)
                self.in_categories = +self.in_categories or NO_CATEGORIES  # drop zero entries
            if other.out_categories:
                self.own_categories("out").subtract(other.out_categories)
                self.out_categories = +self.out_categories or NO_CATEGORIES
        if other.hist is not None and other.hist.count:
            if self.hist is None:
                self.hist = LogHistogram()
            self.hist.add(other.hist, sign)


def _counters_op(op: str):
    """``a.<c> op= b.<c>`` for every counter, as straight-line code: a bucket add runs for every
    (service, window) a batch touches (thousands per batch when a batch spans 1,000 services),
    and a getattr/setattr loop over the names cost ~4× this."""
    body = "\n".join(f"    a.{c} {op}= b.{c}" for c in COUNTERS)
    scope: dict[str, Any] = {}
    exec(f"def f(a, b):\n{body}\n", scope)  # source built from the COUNTERS names above, nothing else
    return scope["f"]


_add_counters = _counters_op("+")
_sub_counters = _counters_op("-")


def _zeros():
    scope: dict[str, Any] = {}
    exec("def f(a):\n" + "\n".join(f"    a.{c} = 0" for c in COUNTERS) + "\n", scope)  # as _counters_op
    return scope["f"]


_zero_counters = _zeros()


class Window:
    """One sliding window over event time for one service."""

    __slots__ = ("length", "width", "buckets", "total", "_low")

    def __init__(self, length: float) -> None:
        self.length = float(length)
        self.width = max(1.0, self.length / BUCKETS_PER_WINDOW)
        self.buckets: dict[int, Bucket] = {}
        self.total = Bucket()
        self._low = 0  # no bucket key is below this: expire() has nothing to do until it is

    def _oldest(self, now: float) -> int:
        return int((now - self.length) // self.width) + 1

    def expire(self, now: float) -> None:
        oldest = self._oldest(now)
        if oldest <= self._low:
            return  # called by every rule read: the common case must not scan the buckets
        for k in [k for k in self.buckets if k < oldest]:
            self.total.add(self.buckets.pop(k), -1)
        self._low = min(self.buckets, default=oldest)

    def add(self, second: float, partial: Bucket, now: float) -> None:
        """Fold a partial (events of one second) into its bucket, if still inside the window."""
        key = int(second // self.width)
        if key < self._oldest(now):
            return
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket = self.buckets[key] = Bucket()
            self._low = key if len(self.buckets) == 1 else min(self._low, key)
        bucket.add(partial)
        self.total.add(partial)

    def quantile(self, q: float) -> tuple[float, int]:
        """Latency at quantile q over the window and the number of latencies it is taken from."""
        h = self.total.hist
        if h is None or h.count == 0:
            return 0.0, 0
        return float(h.quantile(q) or 0.0), h.count
