"""The single-event fold (issue 19: a batch spread over as many services as events) equals the
general fold, and a batch of one event per service folds into exactly what one event per batch
gives."""

from __future__ import annotations

import random

import numpy as np
import pytest

from fenghuo.monitor.fold import fold, fold_one, partials
from fenghuo.monitor.window import COUNTERS, LogHistogram
from tests.monitor.test_fold import T0, random_event


def _same(a, b) -> None:
    assert [getattr(a, c) for c in COUNTERS] == [getattr(b, c) for c in COUNTERS]
    assert a.in_categories == b.in_categories and a.out_categories == b.out_categories
    if a.hist is None or b.hist is None:
        assert a.hist is None and b.hist is None
    else:
        assert (a.hist.offset, a.hist.zeros, a.hist.count, a.hist.counts.tolist()) == \
               (b.hist.offset, b.hist.zeros, b.hist.count, b.hist.counts.tolist())


@pytest.mark.parametrize("seed", range(3))
def test_fold_one_equals_fold(seed):
    rng = random.Random(seed)
    for n in range(600):
        e = random_event(rng, n, T0)
        _same(fold_one(e), fold([e]))


def test_spread_batch_equals_one_batch_per_event():
    rng = random.Random(7)
    events = [random_event(rng, n, T0) for n in range(300)]
    for i, e in enumerate(events):
        e.service = f"s{i}"  # every event its own service
    parts, seen = partials(events, T0)
    for (service, second, p), e in zip(parts, events):
        [(s1, sec1, p1)], seen1 = partials([e], T0 + 0.0)
        assert (service, second) == (s1, sec1)
        _same(p, p1)
        assert seen.get(service) == seen1.get(service)


def test_one_bin_histogram_add_equals_general():
    rng = random.Random(3)
    a, values = LogHistogram(), []
    for _ in range(400):
        v = rng.choice([0.0, 1e-12, rng.lognormvariate(4, 2)])
        values.append(v)
        a.add(LogHistogram.of_one(v))  # one bin at a time: the fast path once the range holds it
    b = LogHistogram.of_keys(LogHistogram.keys(np.array(values)))  # all at once: no add at all
    assert (a.offset, a.zeros, a.count, a.counts.tolist()) == (b.offset, b.zeros, b.count, b.counts.tolist())
    for v in values[:200]:  # and taken away again one bin at a time
        a.add(LogHistogram.of_one(v), -1)
    c = LogHistogram.of_keys(LogHistogram.keys(np.array(values[200:])))
    assert (a.zeros, a.count) == (c.zeros, c.count)
    assert [a.quantile(x / 10) for x in range(11)] == [c.quantile(x / 10) for x in range(11)]
