"""Rows reserved up front (issue 19): ``Indicators.reserve`` and ``Summaries.reserve`` size the
arrays from the directory's service count instead of doubling them as services arrive; what is
counted must not change, and a batch of services all new takes the range fast path of
``rows_for`` with the same rows the general path would give."""

from __future__ import annotations

import random

import numpy as np

from fenghuo.monitor.colfold import fold_columns
from fenghuo.monitor.indicators import Indicators
from fenghuo.monitor.summaries import Summaries
from fenghuo.monitor.window import COUNTERS
from tests.monitor.test_columns import _compare_many
from tests.monitor.test_fold import T0, WINDOWS, Reference, random_event


def _distinct(rng: random.Random, services: list[str], now: float, start: int) -> list:
    """One event per service, in the given order (every service of the batch distinct)."""
    events = []
    for i, s in enumerate(services):
        e = random_event(rng, start + i, now)
        e.service = s
        events.append(e)
    return events


def test_reserved_rows_count_as_grown_rows():
    rng = random.Random(7)
    grown, reserved, ref = Indicators(WINDOWS), Indicators(WINDOWS), Reference()
    reserved.reserve(1000)
    assert reserved.last_applied.size == 1000 and all(cw.total.shape[0] == 1000 for cw in reserved.windows.values())
    now, n, seen = T0, 0, set()
    names = [f"s{i}" for i in range(300)]
    for k in range(5):
        # all new and distinct (the fast path), then a mix of held and new services with repeats
        fresh = _distinct(rng, names[60 * k:60 * k + 40], now, n)
        mixed = _distinct(rng, [names[rng.randrange(60 * k + 60)] for _ in range(40)], now, n + 40)
        for batch in (fresh, mixed):
            n += len(batch)
            grown.apply(batch, now)
            reserved.apply(batch, now)
            ref.apply(batch, now)
            seen |= {e.service for e in batch}
        for name, cw in reserved.windows.items():
            other = grown.windows[name]
            cw.expire(now)
            other.expire(now)
            assert np.array_equal(cw.total[:len(seen)], other.total[:len(seen)]), name
        now += rng.choice([0.5, 3.0, 70.0])
    _compare_many(reserved, ref, now, set(sorted(seen)[::10]))
    assert reserved.row_of == grown.row_of
    assert np.array_equal(reserved.generation[:len(seen)], grown.generation[:len(seen)])


def test_all_new_batch_gets_a_range_and_reused_rows_the_general_path():
    ind = Indicators(WINDOWS)
    ind.reserve(10)  # smaller than the batches: still grows past the reserve
    with ind.lock:
        first = ind.rows_for(["a", "b", "c"])
        assert first.tolist() == [0, 1, 2] and ind.generation[:3].tolist() == [1, 1, 1]
        again = ind.rows_for(["c", "d", "a", "d"])  # held, new, repeated: the general path
        assert again.tolist() == [2, 3, 0, 3]
        many = ind.rows_for([f"x{i}" for i in range(20)])
        assert many.tolist() == list(range(4, 24)) and ind.last_applied.size >= 24
    assert ind.row_of["x19"] == 23 and ind.generation[4:24].tolist() == [1] * 20
    ind._free = [2, 0]  # rows freed by an eviction are taken before fresh ones
    del ind.row_of["a"], ind.row_of["c"]
    with ind.lock:
        reused = ind.rows_for(["y", "z", "w"])
    assert reused.tolist() == [0, 2, 24] and ind.generation[[0, 2, 24]].tolist() == [2, 2, 1]


def test_reserved_summary_hours_hold_the_same_buckets(db):
    rng = random.Random(3)
    plain, reserved = Summaries(db), Summaries(db)
    reserved.reserve(5000)
    for k in range(4):
        batch = _distinct(rng, [f"s{rng.randrange(300)}" for _ in range(150)], T0, 150 * k)
        f = fold_columns(batch, T0)
        plain._add_folded(f)
        reserved._add_folded(f)
    assert sorted(plain.hours) == sorted(reserved.hours)
    for start, hour in reserved.hours.items():
        assert hour.counts.shape[0] >= 5000
        assert [(s, _view(b)) for s, b in hour.buckets()] == [(s, _view(b)) for s, b in plain.hours[start].buckets()]


def _view(b) -> tuple:
    h = b.hist
    return ([getattr(b, c) for c in COUNTERS], dict(b.in_categories), dict(b.out_categories),
            None if h is None else (h.count, h.zeros, h.offset, np.trim_zeros(h.counts, "b").tolist()))
