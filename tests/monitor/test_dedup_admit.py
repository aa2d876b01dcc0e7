"""``Dedup.admit`` (the check and the commit in one pass over the seen set, ``_ingestseen.h``)
answers and remembers exactly what ``fresh`` then ``commit`` of the fresh ids do: the same
answers, the same seen set, expiry and durable rows, on batches with duplicates inside the
batch, ids seen before, ids that expired, and ids that are not str; a failed durable write
leaves nothing added."""

from __future__ import annotations

import pytest
from sqlalchemy import exc as sa_exc

from fenghuo.monitor import dedup as dedup_mod
from fenghuo.monitor.dedup import Dedup
from fenghuo.monitor.native import KERNEL
from fenghuo.platform.db import Database

native = pytest.mark.skipif(KERNEL is None, reason="the ingest kernel is not built")

BATCHES = [
    [f"a{i}" for i in range(50)],  # all fresh
    ["a3", "b1", "b2", "b1", "a49", "b3", "b3", "b3"],  # seen before, and duplicates inside the batch
    [],  # nothing
    ["b2", "b2"],  # only duplicates
    ["c1", "c2", "c1", "c3"],  # fresh with an inner duplicate
    ["a1", "c9"],  # past the first batch's expiry: checked before the sweep, a1 is still seen
    ["a1", "c9"],  # swept: a1 is fresh again
]
TIMES = [1000.0, 1001.0, 1002.0, 1003.0, 1004.0, 1000.0 + 61.0, 1000.0 + 62.0]


def _two_steps(d: Dedup, ids: list, now: float) -> list[bool]:
    fresh = d.fresh(ids)
    d.commit([i for i, f in zip(ids, fresh) if f], now)
    return fresh


def _state(d: Dedup) -> tuple:
    return set(d.seen), [(t, list(ids)) for t, ids in d._expiry]


def _db(path) -> Database:
    db = Database(str(path))
    db.upgrade()
    return db


def _run(tmp_path, name: str, step) -> tuple[list, list, tuple, set]:
    db = _db(tmp_path / f"{name}.db")
    d = Dedup(db, 60.0)
    answers, states = [], []
    for ids, now in zip(BATCHES, TIMES):
        got = step(d, list(ids), now)
        answers.append([True] * len(ids) if got is None else list(got))
        states.append(_state(d))
    again = Dedup(db, 60.0)  # what a restart reads back
    again.load(TIMES[-1])
    db.dispose()
    return answers, states, _state(d), set(again.seen)


def test_admit_equals_fresh_then_commit(tmp_path):
    want = _run(tmp_path, "two", _two_steps)
    got = _run(tmp_path, "admit", lambda d, ids, now: d.admit(ids, now))
    assert got == want
    answers = want[0]
    assert answers[1] == [False, True, True, False, False, True, False, False]
    assert answers[3] == [False, False]
    assert answers[5] == [False, True]
    assert answers[6] == [True, False]


def test_admit_without_the_kernel_is_the_same(tmp_path, monkeypatch):
    want = _run(tmp_path, "two", _two_steps)
    monkeypatch.setattr(dedup_mod, "KERNEL", None)
    assert _run(tmp_path, "py", lambda d, ids, now: d.admit(ids, now)) == want


@native
def test_admit_answers_none_only_when_all_fresh(tmp_path):
    db = _db(tmp_path / "f.db")
    d = Dedup(db, 60.0)
    assert d.admit(["x", "y"], 1000.0) is None
    assert d.admit(["z", "z"], 1000.0) == [True, False]
    assert d.admit(["x"], 1000.0) == [False]
    db.dispose()


def test_admit_of_ids_that_are_not_str_is_decided_as_before(tmp_path):
    db = _db(tmp_path / "f.db")
    d = Dedup(db, 60.0)
    d.admit(["1"], 1000.0)
    # not str: the kernel refuses before adding anything, and fresh/commit decide (an int is
    # not the str "1"); what they would remember, nothing more
    assert d.admit(["1", 1, 1], 1000.0) == [False, True, False]
    assert d.seen == {"1", 1}
    db.dispose()


def test_a_failed_durable_write_leaves_nothing_added(tmp_path, monkeypatch):
    db = _db(tmp_path / "f.db")
    d = Dedup(db, 60.0)
    d.admit(["old"], 1000.0)
    before = _state(d)

    def down(*a, **k):
        raise sa_exc.OperationalError("INSERT", None, Exception("database is locked"))

    monkeypatch.setattr(d, "_write_sqlite", down)
    with pytest.raises(sa_exc.OperationalError):
        d.admit(["new1", "old", "new2", "new1"], 1001.0)
    assert _state(d) == before
    monkeypatch.undo()
    assert d.admit(["new1", "old", "new2", "new1"], 1001.0) == [True, False, True, False]
    db.dispose()


@native
def test_seen_admit_refuses_whole_and_adds_nothing():
    seen = {"a"}
    with pytest.raises(TypeError):
        KERNEL.seen_admit(seen, ["b", 3])
    assert seen == {"a"}
    with pytest.raises(TypeError):
        KERNEL.seen_admit(["a"], ["b"])  # not a set
    assert KERNEL.seen_admit(seen, []) is None
    assert KERNEL.seen_admit(seen, ["a", "b", "b"]) == [False, True, False]
    assert seen == {"a", "b"}


@native
def test_seen_admit_across_resizes_and_far_duplicates():
    """The kernel prefetches table slots a few ids ahead (``SEEN_AHEAD``) from the set's table
    as it is before each add; the set grows (and moves its table) during a batch this large, and
    duplicates sit both within and far beyond that distance: the answers and the set are what
    one add per id in order gives."""
    import random

    rng = random.Random(19)
    seen = {f"old{i}" for i in range(1000)}
    for size in (1, 5, 13, 40, 3000, 20000):
        pool = [f"old{rng.randrange(2000)}" if rng.random() < 0.3 else f"id{rng.randrange(size * 2)}" for _ in range(size)]
        want_seen, want = set(seen), []
        for i in pool:
            want.append(i not in want_seen)
            want_seen.add(i)
        got = KERNEL.seen_admit(seen, pool)
        assert ([True] * size if got is None else got) == want
        assert seen == want_seen
