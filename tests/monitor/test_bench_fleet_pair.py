"""bench_fleet_pair's pooling (issue 19): besides the whole server's CPU, the ingest thread and
event loop alone, pooled over both orientations as new/old."""

from __future__ import annotations

from pathlib import Path

import pytest

bench = pytest.importorskip("bench.bench_fleet_pair")


def _row(old: tuple[float, float, float], new: tuple[float, float, float]) -> dict:
    sides = {name: {"ms": sum(s), "rate": 1000 / sum(s), "split": s} for name, s in (("old", old), ("new", new))}
    return {"load": 1.0, "json": 1000 / 3.0, **sides, "new/old": sides["new"]["ms"] / sides["old"]["ms"]}


def test_summary_reads_the_ingest_thread_and_loop_apart_from_the_idle_threads():
    # new is 10 % cheaper on the ingest thread and loop; the idle threads swing the total the other way
    rows = [_row((3.0, 1.0, 0.2), (2.7, 0.9, 1.0)), _row((3.0, 1.0, 0.4), (2.7, 0.9, 0.9))]
    got = bench.summary(1000, rows, {})
    assert got["new/old"][0] > 1
    assert got["ingest+loop new/old"] == pytest.approx(0.9)
    assert got["rounds ingest+loop new/old"] == [0.9, 0.9]


def test_both_pools_the_swapped_run_as_new_over_old(monkeypatch):
    first = bench.summary(1000, [_row((3.0, 1.0, 0.2), (2.7, 0.9, 0.2))], {})
    # the second run has the trees' places swapped: its "new" is the old tree
    second = bench.summary(1000, [_row((2.7, 0.9, 0.2), (3.0, 1.0, 0.2))], {})
    runs = iter([first, second])
    monkeypatch.setattr(bench, "run", lambda *a, **k: next(runs))
    got = bench.both(Path("."), Path("old"), Path("new"), 1, 1, False, 0)
    assert got["ingest+loop new/old"] == pytest.approx(0.9, abs=1e-3)
    assert got["ingest+loop new less in"] == 2
