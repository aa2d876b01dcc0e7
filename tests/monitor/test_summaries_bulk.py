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
