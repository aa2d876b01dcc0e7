"""First touch at scale (issue 19): rows made for a batch with directory slots join the
name -> row mapping (``Indicators.row_of``) only when it is read, and a sweep with nothing to
drop does not name them. Every read by name must still see every service counted, and
evictions must drop the same services as when every row is named at once."""

from __future__ import annotations

import random

import numpy as np

from fenghuo.monitor.indicators import Indicators
from tests.monitor.test_fold import T0, WINDOWS
from tests.monitor.test_reserve import _distinct


def _slots(batch, slot_of: dict[str, int]) -> np.ndarray:
    return np.array([slot_of[e.service] for e in batch], dtype=np.int64)


def test_rows_made_by_slot_are_named_when_read():
    rng = random.Random(1)
    names = [f"s{i}" for i in range(200)]
    slot_of = {s: 5 + 2 * i for i, s in enumerate(names)}
    by_slot, by_name = Indicators(WINDOWS), Indicators(WINDOWS)
    for k in range(4):
        batch = _distinct(rng, names[50 * k:50 * k + 50], T0 + k, 50 * k)
        by_slot.apply(batch, T0 + k, slot_of=_slots(batch, slot_of))
        by_name.apply(batch, T0 + k)
    # ingest made 200 rows by slot and named none of them
    assert by_slot._row_of == {} and sum(len(n) for n, _ in by_slot._unnamed) == 200
    assert by_slot.row_of == by_name.row_of and list(by_slot.row_of) == names  # in the order made
    assert by_slot._unnamed == []
    for s in ("s0", "s77", "s199"):
        assert by_slot.snapshot(s, T0 + 4) == by_name.snapshot(s, T0 + 4)


def test_every_read_by_name_sees_rows_made_by_slot():
    """Each read by name, first thing after a batch with slots, answers as by name."""
    rng = random.Random(2)
    batch = _distinct(rng, [f"s{i}" for i in range(30)], T0, 0)
    ref = Indicators(WINDOWS)
    ref.apply(batch, T0)
    slots = np.arange(30, dtype=np.int64)[::-1].copy()
    reads = [
        lambda ind: ("s3" in ind.services, len(ind.services), sorted(ind.services)),
        lambda ind: [ind.value(f"s{i}", "calls", "1m", None, T0) for i in range(30)],
        lambda ind: [ind.value(f"s{i}", "factual_errors", "1h", None, T0) for i in range(30)],
        lambda ind: [ind.series(f"s{i}", "calls", "1m", T0) for i in range(30)],
        lambda ind: [ind.snapshot(f"s{i}", T0) for i in range(30)],
        lambda ind: {s: ind.instances_of(s) for s in ind.instances},
    ]
    for read in reads:
        ind = Indicators(WINDOWS)
        ind.apply(batch, T0, slot_of=slots)
        assert ind._row_of == {}
        assert read(ind) == read(ref)
    # a batch without slots after rows made by slot: the same rows, none made twice
    again = _distinct(rng, ["s2", "new"], T0, 100)
    ind.apply(again, T0)
    ref.apply(again, T0)
    assert ind.row_of == ref.row_of and len(ind.row_of) == 31


def test_a_sweep_names_rows_only_when_it_drops_some():
    rng = random.Random(3)
    names = [f"s{i}" for i in range(120)]
    slot_of = {s: i for i, s in enumerate(names)}
    by_slot, by_name = Indicators(WINDOWS), Indicators(WINDOWS)
    now = T0
    for k in range(40):
        picked = list(dict.fromkeys(rng.choice(names) for _ in range(rng.choice([3, 30]))))
        batch = _distinct(rng, picked, now, 100 * k)
        by_slot.apply(batch, now, slot_of=_slots(batch, slot_of))
        by_name.apply(batch, now)
        # a sweep every batch; idle services go after the longest window (and the live time)
        before = sum(len(n) for n, _ in by_slot._unnamed)
        dropped = by_slot.evict(now)
        assert dropped == by_name.evict(now)
        if not dropped:
            assert sum(len(n) for n, _ in by_slot._unnamed) == before  # nothing named
        now += rng.choice([1.0, 30.0, 900.0, 4000.0])
    assert by_slot.evicted_total == by_name.evicted_total > 0
    assert by_slot.row_of == by_name.row_of
    for s in by_name.row_of:
        assert by_slot.snapshot(s, now) == by_name.snapshot(s, now), s


def test_new_services_in_several_seconds_get_one_row_each():
    """A batch whose new services each appear in several seconds (slots not distinct): one row
    per service, remembered by slot, as by name; then a batch of distinct new services."""
    rng = random.Random(4)
    by_slot, by_name = Indicators(WINDOWS), Indicators(WINDOWS)
    slot_of = {f"s{i}": 40 - i for i in range(40)}
    batch = []
    for i in range(60):
        e = _distinct(rng, [f"s{rng.randrange(20)}"], T0 - rng.choice([0, 1, 2]), i)[0]
        batch.append(e)
    fresh = _distinct(rng, [f"s{i}" for i in range(20, 40)], T0, 100)
    for b in (batch, fresh):
        by_slot.apply(b, T0, slot_of=_slots(b, slot_of))
        by_name.apply(b, T0)
    assert set(by_slot.row_of) == set(by_name.row_of)
    rows = by_slot.row_of
    assert sorted(rows.values()) == list(range(len(rows)))  # one row each, none lost
    for s, r in rows.items():
        assert by_slot.row_by_slot[slot_of[s]] == r and by_slot.slot_by_row[r] == slot_of[s]
        assert by_slot.snapshot(s, T0) == by_name.snapshot(s, T0), s


def test_a_service_cap_counts_rows_without_naming_them():
    """With ``max_services`` set, ``apply`` compares the services held with the cap on every
    batch: ``held()`` answers ``len(row_of)`` without naming the rows made by slot (naming
    them each batch would undo the first-touch saving), before and after an eviction."""
    rng = random.Random(3)
    names = [f"s{i}" for i in range(120)]
    slot_of = {s: i for i, s in enumerate(names)}
    capped = Indicators(WINDOWS, max_services=100)
    for k in range(3):
        batch = _distinct(rng, names[40 * k:40 * k + 40], T0 + k, 40 * k)
        capped.apply(batch, T0 + k, slot_of=_slots(batch, slot_of))
        if k < 2:  # 40, then 80 services: under the cap, nothing named, nothing dropped
            assert capped._row_of == {} and capped.held() == 40 * (k + 1)
    # the third batch took it to 120 > 100: the stalest went, down to 90 % of the cap
    assert capped.held() == len(capped.row_of) == 90
    assert capped.evicted_total == 30 and "s0" not in capped.row_of and "s119" in capped.row_of


def test_a_row_made_while_another_thread_names_rows_is_kept():
    """``row_of`` names the rows made by slot when it is read, from any thread (the API reads
    it without the indicators' lock). A batch applied by ingest while a reader is naming rows
    must not lose its rows: the reader's naming is held open here until the batch has had its
    chance to run (0.5 s); a naming that walked a copy of the pending rows and then cleared
    them would drop the batch's. (Naming under the lock makes the batch wait for it.)"""
    import threading

    rng = random.Random(4)
    names = [f"s{i}" for i in range(20)]
    slot_of = {s: i for i, s in enumerate(names)}
    first, second = _distinct(rng, names[:10], T0, 0), _distinct(rng, names[10:], T0, 10)
    naming, applied = threading.Event(), threading.Event()

    class SlowNames(dict):  # a name -> row dict whose bulk add waits for the other thread
        def update(self, *args, **kwargs):
            super().update(*args, **kwargs)
            naming.set()
            applied.wait(0.5)

    ind = Indicators(WINDOWS)
    ind.row_of = SlowNames()
    ind.apply(first, T0, slot_of=_slots(first, slot_of))

    def ingest() -> None:
        naming.wait(5)
        ind.apply(second, T0, slot_of=_slots(second, slot_of))
        applied.set()

    t = threading.Thread(target=ingest)
    t.start()
    ind.row_of.get("s0")  # names the first batch's rows, slowly
    t.join(10)
    assert ind.held() == 20
    assert sorted(ind.row_of) == sorted(names)
    assert sorted(ind.row_of.values()) == list(range(20))
