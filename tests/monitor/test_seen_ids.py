"""The dedup window's ids packed in the kernel's table (``monitor.seenids``, ``_ingestuuidset.h``)
hold and answer exactly what a Python set of the same str ids does: admit's answers, membership,
removal (backward shift across runs of colliding keys and table growth), ids that are not UUIDs
(uppercase, other lengths, not str) kept beside, and a ``Dedup`` over it against one over a plain
set, rows and restart included."""

from __future__ import annotations

import random
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fenghuo.monitor import dedup as dedup_mod
from fenghuo.monitor import seenrows
from fenghuo.monitor.dedup import Dedup
from fenghuo.monitor.native import KERNEL
from fenghuo.monitor.seenids import Packed, SeenIds
from fenghuo.platform.db import Database

pytestmark = pytest.mark.skipif(KERNEL is None, reason="the ingest kernel is not built")

POOL = [str(uuid.UUID(int=random.Random(i).getrandbits(128))) for i in range(60)]
# not keys of the table: uppercase, no hyphens, too short, the nil UUID's neighbours are keys
ODD = [POOL[0].upper(), POOL[1].replace("-", ""), "evt-1", "", "x" * 36, "00000000-0000-0000-0000-00000000000g"]
POOL += ["00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff"]

ids = st.lists(st.sampled_from(POOL + ODD), max_size=40)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["admit", "discard", "update"]), ids), max_size=25))
def test_table_equals_a_set(ops):
    got, want = SeenIds(KERNEL), set()
    for op, batch in ops:
        if op == "admit":
            fresh_want, local = [], set()
            for i in batch:
                fresh_want.append(i not in want and i not in local)
                local.add(i)
            answers, packed = got.admit(list(batch))
            assert ([True] * len(batch) if answers is None else answers) == fresh_want
            assert packed == seenrows.pack_py(list(batch))
            want |= local
        elif op == "discard":
            got.difference_update(list(batch))
            want -= set(batch)
        else:
            got.update(list(batch))
            want |= set(batch)
        assert len(got) == len(want) and set(got) == want and got == want
        for i in POOL + ODD:
            assert (i in got) == (i in want)


def test_many_keys_removed_in_any_order():
    """Thousands of keys through several growths, removed in a shuffled order half at a time
    (every run of colliding slots is shifted back across its wrap-around at some point)."""
    rng = random.Random(19)
    keys = [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(20000)]
    s = SeenIds(KERNEL)
    assert s.admit(keys) == (None, seenrows.pack(keys))
    assert len(s) == 20000
    gone = keys[:]
    rng.shuffle(gone)
    s.difference_update(Packed(seenrows.pack(gone[:10000])))
    assert len(s) == 10000 and set(s) == set(gone[10000:])
    assert all(k not in s for k in gone[:10000]) and all(k in s for k in gone[10000:])
    answers, _ = s.admit(gone[:10] + gone[10000:10010])
    assert answers == [True] * 10 + [False] * 10


def test_admit_refuses_whole_and_adds_nothing():
    s = SeenIds(KERNEL)
    s.admit([POOL[0]])
    with pytest.raises(TypeError):
        s.admit([POOL[1], 3])
    assert s == {POOL[0]}
    with pytest.raises(TypeError):
        s.table.admit([POOL[1]], [])  # not a set
    assert s == {POOL[0]}


def test_packed_reads_as_its_ids():
    p = Packed(seenrows.pack(POOL[:3]))
    assert p == POOL[:3] and list(p) == POOL[:3] and len(p) == 3 and p != POOL[:2]


def _run(tmp_path, name: str) -> tuple:
    db = Database(str(tmp_path / f"{name}.db"))
    db.upgrade()
    d = Dedup(db, 60.0)
    answers = []
    batches = [POOL[:20], POOL[10:30] + ["evt-1"], POOL[25:35] + POOL[25:27], ["evt-1", "evt-2", POOL[40]], POOL[:5]]
    for k, batch in enumerate(batches):
        got = d.admit(list(batch), 1000.0 + 20 * k)  # the first batches expire on the way
        answers.append([True] * len(batch) if got is None else got)
    state = (set(d.seen), [(t, list(i)) for t, i in d._expiry])
    again = Dedup(db, 60.0)
    again.load(1000.0 + 20 * len(batches))
    db.dispose()
    return answers, state, set(again.seen), [(t, list(i)) for t, i in again._expiry]


def test_dedup_over_the_table_equals_dedup_over_a_set(tmp_path, monkeypatch):
    packed = _run(tmp_path, "packed")
    monkeypatch.setattr(dedup_mod, "KERNEL", None)
    assert _run(tmp_path, "plain") == packed
