"""Telemetry summaries written in bulk (issue 19): a flush over more services than one read
chunk inserts every new (service, hour) row and adds a later flush of the same hour to the rows
already written, on SQLite and PostgreSQL."""

from __future__ import annotations

from fenghuo.monitor import summaries
from fenghuo.monitor.window import Bucket, LogHistogram

HOUR = 1_772_445_600  # 2026-03-02 10:00 UTC


def _bucket(calls: int, latency: float | None = None, cat: str | None = None) -> Bucket:
    b = Bucket()
    b.calls = calls
    if latency is not None:
        b.hist = LogHistogram.of_one(latency)
    if cat:
        b.out_violations = 1
        b.own_categories("out").update({cat: 1})
    return b


def test_bulk_flush_inserts_then_adds(db_factory):
    db = db_factory()
    s = summaries.Summaries(db)
    n = summaries._CHUNK * 2 + 7  # more services than one chunk of the read
    s.add([(f"svc{i}", HOUR + 5, _bucket(1, 100.0, "A1" if i % 2 else None)) for i in range(n)])
    assert s.flush() == n
    s.add([(f"svc{i}", HOUR + 65, _bucket(2, 300.0)) for i in range(0, n, 3)])
    s.add([("svc0", HOUR + 3600, _bucket(5))])  # the next hour: a new row beside the updates
    assert s.flush() == len(range(0, n, 3)) + 1
    rows = summaries.read(db, "svc3")
    assert len(rows) == 1 and rows[0]["counts"]["calls"] == 3 and rows[0]["latency_count"] == 2
    assert rows[0]["out_categories"] == {"A1": 1} and rows[0]["latency_max"] > 250
    assert summaries.read(db, "svc4")[0]["counts"]["calls"] == 1 and summaries.read(db, "svc4")[0]["out_categories"] == {}
    assert [r["counts"]["calls"] for r in summaries.read(db, "svc0")] == [3, 5]
    assert sum(r["counts"]["calls"] for i in range(n) for r in summaries.read(db, f"svc{i}")) == n + 2 * len(range(0, n, 3)) + 5


def test_hour_bins_are_merged_a_bounded_number_of_times(monkeypatch):
    """An hour whose distinct (service, latency bin) pairs outgrow 4 per service (+1,024) is not
    re-sorted on every batch (issue 19: it had been, 0.3-0.4 ms a request at 1,000 services):
    merges stay logarithmic in the batches, and the hour's histograms are the exact sums."""
    import msgspec

    from fenghuo.monitor.colfold import fold_columns
    from fenghuo.monitor.wire import WireEvent

    from .helpers import call

    merges = []
    real = summaries._merge_bins
    monkeypatch.setattr(summaries, "_merge_bins", lambda parts: merges.append(len(parts)) or real(parts))
    hour, services, batches = summaries._Hour(64), 20, 200
    for b in range(batches):  # each batch: 20 services, 20 new latency bins each
        raw = [call(f"s{i}", HOUR + 10 + b % 60, latency=1.0 + 1.07 ** (b * 20 + k % 20), id=f"e{b}-{k}")
               for i in range(services) for k in range(20)]
        f = fold_columns(msgspec.convert(raw, list[WireEvent], strict=False), HOUR + 3599)
        hour.add(f, None)
    assert len(merges) <= 12  # was one a batch once past the bound (~190 here)
    got = dict(hour.buckets())
    assert len(got) == services
    for b in got.values():
        assert b.calls == batches * 20 and b.hist.count == batches * 20 and int(b.hist.counts.sum()) + b.hist.zeros == batches * 20
