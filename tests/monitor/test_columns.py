"""The column store (issue 19): a batch spread over many services, folded per event into
columns, counts exactly what the per-service fold counts; the windows over many services agree
with the plain reference model; evicted rows are cleared before they are reused; a latency
column added late counts what the windows already hold."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import numpy as np
import pytest

from fenghuo.monitor.colfold import LAT_N, _from_partials, _per_event
from fenghuo.monitor.columns import sum_bins
from fenghuo.monitor.indicators import Indicators
from fenghuo.monitor.schema import CallStatus, EventType, Route
from fenghuo.monitor.window import COUNTERS, LogHistogram
from fenghuo.monitor.wire import WireCheck, WireEvent
from tests.monitor.test_fold import T0, WINDOWS, Reference, random_event


def _spread(rng: random.Random, n: int, now: float, services: int, start: int = 0) -> list:
    events = []
    for i in range(n):
        e = random_event(rng, start + i, now)
        e.service = f"s{rng.randrange(services)}"
        events.append(e)
    return events


def _by_key(f) -> dict:
    out = {}
    for g, (s, sec) in enumerate(zip(f.services, f.seconds.tolist())):
        b = f.bucket(g)
        h = b.hist
        out[(s, sec)] = ([getattr(b, c) for c in COUNTERS], dict(b.in_categories), dict(b.out_categories),
                         None if h is None else (h.count, h.zeros, h.offset, np.trim_zeros(h.counts, "b").tolist()))
    return out


@pytest.mark.parametrize("seed", range(6))
def test_per_event_fold_equals_per_service_fold(seed):
    rng = random.Random(seed)
    events = _spread(rng, rng.choice([40, 300, 1000]), T0, rng.choice([5, 60, 2000]))
    a, b = _from_partials(events, T0), _per_event(events, [e.service for e in events], T0)
    assert _by_key(a) == _by_key(b)
    from fenghuo.monitor.instances import InstanceStore, latest_of

    held = InstanceStore()
    held.merge(*latest_of(b.event_services, b.events, b.times, b.same_time, T0))
    assert {s: {k: list(v) for k, v in held.of(s).items()} for s in held.services()} == a.seen


def _compare_many(ind: Indicators, ref: Reference, now: float, services: set[str]) -> None:
    for service in sorted(services):
        s = ind.services.get(service)
        assert s is not None
        assert s.instances == ref.instances(service)
        for name, length in WINDOWS.items():
            want = ref.window(service, length, now)
            w = s.windows[name]
            w.expire(now)
            assert {k: getattr(w.total, k) for k in COUNTERS} == want["counters"], (service, name)
            assert dict(w.total.out_categories) == want["cats"]["out"], (service, name)
            lats = want["latencies"]
            assert ind.value(service, "latency_p50", name, None, now)[1] == len(lats)


@pytest.mark.parametrize("seed", range(4))
def test_spread_batches_match_reference(seed):
    rng = random.Random(seed)
    ind, ref = Indicators(WINDOWS), Reference()
    now, n, seen = T0, 0, set()
    for _ in range(6):
        batch = _spread(rng, rng.choice([50, 400]), now, 120, n)
        n += len(batch)
        ind.apply(batch, now)
        ref.apply(batch, now)
        seen |= {e.service for e in batch}
        _compare_many(ind, ref, now, seen)
        now += rng.choice([0.5, 3.0, 70.0, 500.0])


def test_evicted_rows_are_cleared_before_reuse():
    rng = random.Random(5)
    ind = Indicators(WINDOWS, max_services=50)
    ref = Reference()
    now = T0
    for k in range(8):
        batch = _spread(rng, 200, now, 1000, 200 * k)
        ind.apply(batch, now)
        ref.apply(batch, now)
        now += 1.0
        assert len(ind.services) <= 50 + 200
    # every row held belongs to a service held, and rows of evicted services count nothing
    assert sorted(ind.row_of.values()) == sorted(set(ind.row_of.values()))
    free = ind._free
    for cw in ind.windows.values():
        assert not cw.total[free].any()
    # a service still held whose row was reused counts only its own events since it got the row
    s = next(iter(ind.row_of))
    calls = ind.value(s, "calls", "1h", None, now)[0]
    assert calls <= ref.window(s, 3600.0, now)["counters"]["calls"]


@pytest.mark.parametrize("one_instant", [False, True])
def test_late_latency_column_counts_what_is_held(one_instant):
    """``one_instant``: each batch in one bucket of every window, so the windows share its piece
    (ColumnWindow.add) and the column must be added to it once and counted in every window."""
    rng = random.Random(11)
    ind = Indicators(WINDOWS)
    now = T0
    for k in range(5):
        events = _spread(rng, 300, now, 40, 300 * k)
        if one_instant:
            for e in events:
                e.time = datetime.fromtimestamp(now, UTC)
        ind.apply(events, now)
        now += 2.0
    key = int(LogHistogram.keys(np.array([100.0]))[0])
    col = ind.watch_latency(key)
    ind.apply(_spread(rng, 300, now, 40, 5000), now)
    for name, cw in ind.windows.items():
        cw.expire(now)
        for service, row in ind.row_of.items():
            h = cw.hist(row)
            want = 0 if h is None else int(h.counts[max(0, key - h.offset):].sum()) if key >= h.offset else int(h.counts.sum())
            assert cw.total[row, col] == want, (name, service)
            assert cw.total[row, LAT_N] == (0 if h is None else h.count)


def _mostly_plain(rng: random.Random, n: int, now: float, odd: float, services: int | None) -> list:
    """Batches as guards send them (calls, status ok, checks that found nothing), with a share
    ``odd`` of random events and of checks that found something (masked, judged, refused, risks
    only), over distinct services (``services`` None) or a few; one instant or one second."""
    t = datetime.fromtimestamp(now - rng.choice([0.0, 0.3, 5.0]), UTC)
    events = []
    for i in range(n):
        if rng.random() < odd:
            e = random_event(rng, i, now)
            if rng.random() < 0.5:
                e.time = t
        else:
            e = WireEvent(id=f"p{i}", type=EventType.call, service="x", time=t, instance=f"g{i % 3}",
                          route=Route.primary, status=CallStatus.ok, latency_ms=rng.choice([0.0, 12.5, 300.0]),
                          tokens_in=20, tokens_out=200, input=WireCheck(), output=WireCheck())
        if rng.random() < odd:
            e.output = rng.choice([WireCheck(masked=("phone",)), WireCheck(compliance_risk=False),
                                   WireCheck(compliance_risk=True, refused=True), WireCheck(refused=True),
                                   WireCheck(risks=("r",)), WireCheck(blocked=True), None])
        if rng.random() < odd:
            e.input = rng.choice([WireCheck(categories=("A1",)), WireCheck(risks=("r",)), None])
        e.service = f"s{i}" if services is None else f"s{rng.randrange(services)}"
        events.append(e)
    return events


@pytest.mark.parametrize("seed", range(8))
def test_per_event_fold_of_plain_batches_equals_per_service_fold(seed):
    """The per-event fold's shortcuts (a column all one value, checks equal to an empty one,
    one group per event) against the per-service fold, over random mixes."""
    rng = random.Random(100 + seed)
    for odd in (0.0, 0.01, 0.2, 1.0):
        events = _mostly_plain(rng, rng.choice([50, 1000]), T0, odd, rng.choice([None, 40]))
        a, b = _from_partials(events, T0), _per_event(events, [e.service for e in events], T0)
        assert _by_key(a) == _by_key(b), odd


@pytest.mark.parametrize("seed", range(4))
def test_watched_columns_of_one_bin_groups_equal_bincount(seed):
    """A spread batch (one latency bin per group) fills the "latencies ≥ K" columns in place;
    they equal the bincount every other batch takes."""
    from fenghuo.monitor.colfold import with_watched

    rng = random.Random(seed)
    for odd in (0.0, 0.3):  # every group with its latency (the columns copied whole), or not all
        events = _mostly_plain(rng, rng.choice([1, 2, 300]), T0, odd, None)
        f = _per_event(events, [e.service for e in events], T0)
        for keys in ([0.5, 12.5, 100.0, 299.0], [40.0]):
            keys = [int(k) for k in LogHistogram.keys(np.array(keys))]
            got = with_watched(f.counts, f, keys)
            want = np.hstack([f.counts] + [np.bincount(f.hist_group[f.hist_key >= k], weights=f.hist_count[f.hist_key >= k],
                                                       minlength=f.counts.shape[0]).astype(np.int64)[:, None] for k in keys])
            assert np.array_equal(got, want)


@pytest.mark.parametrize("services", [1, 10, 32])
def test_few_service_batch_takes_the_kernel_fold_and_folds_the_same(services):
    """With the kernel built, a batch of many events over few services is folded per event (issue
    19: 2.5-3.6x less CPU than per service), to the same groups as the per-service fold."""
    from fenghuo.monitor import colfold

    if colfold.NATIVE is None:
        pytest.skip("the ingest kernel is not built")
    rng = random.Random(services)
    events = _mostly_plain(rng, 1000, T0, 0.2, None)
    for i, e in enumerate(events):
        e.service = f"s{i % services}"
    got = colfold.fold_columns(events, T0)
    assert got.seen is None and got.events is events  # the per-event fold, not ``partials``
    assert _by_key(got) == _by_key(_from_partials(events, T0))
    small = events[:colfold.NATIVE_FROM - 1]
    assert colfold.fold_columns(small, T0).seen is not None  # a small batch: per service


def test_one_row_pieces_are_not_merged_into_a_large_bucket_each_time(monkeypatch):
    """A bucket holding a large merged part takes one-event pieces (one row each) without merging
    that part every 64 pieces (issue 19: ~0.1 ms a request at 100,000 services): the small pieces
    are merged among themselves; the window's totals and each row's bucket and latencies stay
    the exact sums."""
    from fenghuo.monitor import columns
    from fenghuo.monitor.colfold import NCOL

    merged_rows = []
    real = columns.merge
    monkeypatch.setattr(columns, "merge", lambda pieces, distinct=True: merged_rows.append(sum(p.rows.size for p in pieces)) or real(pieces, distinct))
    rng = np.random.default_rng(7)
    big, small, now = 20_000, 640, 1_000_000.0
    cw = columns.ColumnWindow(3600.0, big, NCOL)

    def add(rows: np.ndarray, keys: np.ndarray) -> np.ndarray:
        counts = rng.integers(0, 5, size=(rows.size, NCOL)).astype(np.int64)
        g = np.arange(rows.size, dtype=np.int64)
        cw.add(rows, np.full(rows.size, int(now), dtype=np.int64), counts, rows, keys, np.ones(rows.size, dtype=np.int64),
               g, [], now)
        return counts

    want = np.zeros((big, NCOL), dtype=np.int64)
    want[np.arange(big)] += add(np.arange(big, dtype=np.int64), rng.integers(1, 50, size=big))
    lat = {}
    for _ in range(small):
        r = np.array([rng.integers(0, 50)], dtype=np.int64)
        k = rng.integers(1, 50, size=1)
        want[r] += add(r, k)
        lat[int(r[0])] = lat.get(int(r[0]), 0) + 1
    assert sum(merged_rows) <= 2 * small  # merging the 20,000-row part each time: > 200,000
    assert (cw.total == want).all()
    (key, got), = cw.bucket_rows(3)
    assert (got == want[3]).all()
    assert int(cw.hist(3).counts.sum()) == 1 + lat.get(3, 0)


def test_pieces_of_disjoint_rows_are_not_merged(monkeypatch):
    """Pieces no row of which is in another (services seen first in the bucket: at 100,000
    services, every spread batch) are kept as they are up to MAX_PIECES, since a merge would
    copy every row and keep them all (issue 19); once rows repeat, or at MAX_PIECES, they are
    merged as before. Totals, each row's buckets and its latencies are the exact sums either way."""
    from fenghuo.monitor import columns
    from fenghuo.monitor.colfold import NCOL

    merged = []
    real = columns.merge
    monkeypatch.setattr(columns, "merge", lambda pieces, distinct=True: merged.append(len(pieces)) or real(pieces, distinct))
    rng = np.random.default_rng(11)
    per, now = 50, 1_000_000.0
    cw = columns.ColumnWindow(3600.0, per * (columns.MAX_PIECES + 8), NCOL)
    want = np.zeros((per * (columns.MAX_PIECES + 8), NCOL), dtype=np.int64)
    lat: dict[int, int] = {}

    def add(rows: np.ndarray) -> None:
        counts = rng.integers(0, 5, size=(rows.size, NCOL)).astype(np.int64)
        g = np.arange(rows.size, dtype=np.int64)
        cw.add(rows, np.full(rows.size, int(now), dtype=np.int64), counts, rows, rng.integers(1, 50, size=rows.size),
               np.ones(rows.size, dtype=np.int64), g, [], now)
        want[rows] += counts
        for r in rows.tolist():
            lat[r] = lat.get(r, 0) + 1

    key = int(now // cw.width)
    for k in range(100):  # new rows each time: no merge, however many pieces
        add(np.arange(k * per, (k + 1) * per, dtype=np.int64))
    assert not merged and len(cw.slices[key]) == 100
    for k in range(100, columns.MAX_PIECES):
        add(np.arange(k * per, (k + 1) * per, dtype=np.int64))
    assert merged == [columns.MAX_PIECES]  # at MAX_PIECES: merged whatever the rows
    assert len(cw.slices[key]) == 1
    for _ in range(70):  # rows seen before: merged (the open-bucket rules as before)
        add(rng.choice(per * 4, size=per, replace=False).astype(np.int64))
    assert len(merged) >= 2 and len(cw.slices[key]) < 64
    assert (cw.total == want).all()
    for r in (0, 3, per * 2 + 1, per * 100 + 7):
        (_, got), = cw.bucket_rows(r)
        assert (got == want[r]).all()
        assert int(cw.hist(r).counts.sum()) == lat[r]
    assert columns.disjoint([columns.Piece(np.array([1, 4]), *[np.zeros(0)] * 4, []),
                             columns.Piece(np.array([2, 3]), *[np.zeros(0)] * 4, [])])
    assert not columns.disjoint([columns.Piece(np.array([1, 4]), *[np.zeros(0)] * 4, []),
                                 columns.Piece(np.array([0, 4]), *[np.zeros(0)] * 4, [])])


def test_a_complete_bucket_of_disjoint_pieces_is_kept_as_it_is(monkeypatch):
    """When time moves on, the bucket before is merged only if a row is in two of its pieces."""
    from fenghuo.monitor import columns
    from fenghuo.monitor.colfold import NCOL

    merged = []
    real = columns.merge
    monkeypatch.setattr(columns, "merge", lambda pieces, distinct=True: merged.append(len(pieces)) or real(pieces, distinct))
    cw = columns.ColumnWindow(60.0, 100, NCOL)  # 1-second buckets

    def add(rows: list[int], now: float) -> None:
        r = np.array(rows, dtype=np.int64)
        cw.add(r, np.full(r.size, int(now), dtype=np.int64), np.ones((r.size, NCOL), dtype=np.int64), r,
               np.full(r.size, 3), np.ones(r.size, dtype=np.int64), np.arange(r.size), [], now)

    t = 1_000_000.0
    add([1, 2], t)
    add([3, 4], t)
    add([5], t + 1)  # time moved on: the disjoint bucket before is kept in its two pieces
    assert not merged and len(cw.slices[int(t)]) == 2
    add([5, 6], t + 1)  # row 5 twice
    add([7], t + 2)
    assert merged == [2] and len(cw.slices[int(t) + 1]) == 1
    assert cw.total[5, 0] == 2 and cw.total[1:8, 0].sum() == 8


@pytest.mark.parametrize("seed", range(6))
def test_sum_bins_on_a_merge(seed):
    """A bucket merge's shape: the merged part (one sorted run of distinct pairs) and pieces of
    unsorted entries after it, some pairs repeated; the sorted path (rows × keys too wide to
    count) sums them as ``np.unique`` does."""
    rng = np.random.default_rng(seed)
    parts = [sum_bins(rng.integers(0, 10_000, 6000), rng.integers(390, 620, 6000), rng.integers(1, 5, 6000))]
    parts += [(rng.integers(0, 10_000, 700), rng.integers(390, 620, 700), rng.integers(0, 3, 700)) for _ in range(20)]
    r, k, c = (np.concatenate([p[i] for p in parts]) for i in range(3))
    lo, span = int(k.min()), int(k.max()) - int(k.min()) + 1
    assert (int(r.max()) - int(r.min()) + 1) * span > 8 * r.size + 4096  # too wide to count: sorted
    u, inv = np.unique(r * span + (k - lo), return_inverse=True)
    got = sum_bins(r, k, c)
    want = (u // span, u % span + lo, np.bincount(inv, weights=c).astype(np.int64))
    assert all(np.array_equal(a, b) and a.dtype == b.dtype for a, b in zip(want, got))
    assert int(got[2].sum()) == int(c.sum())
