"""Directory slots (issue 19): each registered service has a stable small integer, and the
per-service state ingest touches (indicator rows, hourly summaries) is found by it with array
gathers instead of a dict lookup per service. Found by slot or by name, what is counted must be
the same - also when rows are evicted and given to other services."""

from __future__ import annotations

import random

import msgspec
import numpy as np
import pytest

from fenghuo.control import services as registry
from fenghuo.monitor.colfold import fold_columns
from fenghuo.monitor.directory import Directory
from fenghuo.monitor.indicators import Indicators
from fenghuo.monitor.summaries import Summaries
from fenghuo.registry.spec import RegistrationFile, ServiceSpec
from tests.monitor.helpers import ADMIN
from tests.monitor.test_fold import T0, WINDOWS, random_event
from tests.monitor.test_reserve import _distinct, _view


def test_slots_are_stable_and_name_their_service(db):
    d = Directory(db)
    d.reload()
    before = dict(d.slot_of)
    assert set(before) == set(d.services) == {"a-chat", "a-med", "b-chat"}
    assert sorted(before.values()) == [0, 1, 2] and all(d.names[s] == i for i, s in before.items())
    spec = {"id": "new-svc", "name": "N", "provider": "pa", "sector": "finance", "function": "content_generation",
            "modalities": ["text"], "reach": 10, "no_human_in_loop": False}
    registry.register(db, ADMIN, RegistrationFile(services=[ServiceSpec.model_validate(spec)]))
    d.catch_up()
    assert d.slot_of["new-svc"] == 3 and d.names[3] == "new-svc"
    d.reload()  # a full reload keeps every number
    assert d.slot_of == {**before, "new-svc": 3} and len(d.names) == 4
    services, slots = d.slots_of(["b-chat", "nope", "b-chat"])
    assert slots == {"b-chat": before["b-chat"], "nope": None} and services is d.services
    _, missing, known = d.lookup_slots({"a-med", "nope"})
    assert missing == {"nope"} and known == {"a-med": before["a-med"]}


def _slot_batches(rng: random.Random, names: list[str], rounds: int):
    """Batches over ``names``: all distinct, some repeating a service in other seconds."""
    n = 0
    now = T0
    for k in range(rounds):
        picked = [names[rng.randrange(len(names))] for _ in range(rng.choice([5, 40, 80]))]
        if k % 3 == 0:
            batch = _distinct(rng, list(dict.fromkeys(picked)), now, n)
        else:  # repeats, and times spread over a few seconds
            batch = []
            for i, s in enumerate(picked):
                e = random_event(rng, n + i, now)
                e.service = s
                batch.append(e)
        n += len(batch)
        yield now, batch
        now += rng.choice([0.5, 3.0, 40.0, 400.0])


def test_rows_by_slot_count_as_rows_by_name_through_evictions():
    rng = random.Random(5)
    names = [f"s{i}" for i in range(120)]
    slot_of = {s: 1000 + 3 * i for i, s in enumerate(names)}  # any numbers: slots are not rows
    # a cap that forces evictions and reuse of rows by other services
    by_name, by_slot = Indicators(WINDOWS, max_services=30), Indicators(WINDOWS, max_services=30)
    now = T0
    for now, batch in _slot_batches(rng, names, 60):
        by_name.apply(batch, now)
        by_slot.apply(batch, now, slot_of=slot_of)
        # every row known by slot is the row the service holds, and no other service's
        live = dict(by_slot.row_of)
        for s, r in live.items():
            got = by_slot.row_by_slot[slot_of[s]] if slot_of[s] < by_slot.row_by_slot.size else -1
            assert got in (-1, r) and (got == -1 or by_slot.slot_by_row[r] == slot_of[s])
        assert all(by_slot.row_by_slot[slot_of[s]] == -1 for s in names if s not in live and slot_of[s] < by_slot.row_by_slot.size)
    assert by_slot.evicted_total == by_name.evicted_total > 0
    assert set(by_slot.row_of) == set(by_name.row_of)
    for s in by_name.row_of:
        assert by_slot.snapshot(s, now) == by_name.snapshot(s, now), s


def test_rows_by_slot_take_rows_made_by_name():
    """A service given its row by a batch without slots (a replayed stream) keeps that row when
    a batch with slots arrives: one row per service, never two."""
    ind, ref = Indicators(WINDOWS), Indicators(WINDOWS)
    rng = random.Random(9)
    first, second = _distinct(rng, ["a", "b"], T0, 0), _distinct(rng, ["b", "c"], T0, 10)
    ind.apply(first, T0)
    ind.apply(second, T0, slot_of={"b": 7, "c": 2})
    assert ind.row_of == {"a": 0, "b": 1, "c": 2} and ind.row_by_slot[[7, 2]].tolist() == [1, 2]
    assert ind.slot_by_row[:3].tolist() == [-1, 7, 2]
    ref.apply(first, T0)
    ref.apply(second, T0)
    for s in "abc":
        assert ind.snapshot(s, T0) == ref.snapshot(s, T0), s


def test_summary_hours_by_slot_hold_the_same_buckets(db):
    rng = random.Random(4)
    names = [f"s{i}" for i in range(300)]
    slots = {s: 299 - i for i, s in enumerate(names)}
    by_name, by_slot = Summaries(db), Summaries(db, names=[names[299 - k] for k in range(300)])
    by_slot.reserve(100)  # fewer rows than slots: the hour grows
    for k in range(6):
        batch = _distinct(rng, list(dict.fromkeys(names[rng.randrange(300)] for _ in range(150))), T0 + 1800 * (k % 3), 150 * k)
        f = fold_columns(batch, T0 + 1800 * (k % 3))
        by_name._add_folded(f)
        f.slots = np.array([slots[s] for s in f.services], dtype=np.int64)
        by_slot._add_folded(f)
    assert not by_slot.hours and sorted(by_slot.slot_hours) == sorted(by_name.hours)
    for start, hour in by_slot.slot_hours.items():
        got = sorted((s, _view(b)) for s, b in hour.buckets())
        assert got == sorted((s, _view(b)) for s, b in by_name.hours[start].buckets())
    assert sorted((k, _view(b)) for k, b in by_slot._take().items()) == sorted((k, _view(b)) for k, b in by_name._take().items())


def test_kernel_table_finds_what_the_dict_finds(db):
    """The kernel's inline-key table (_ingestslots.h) against the directory's dict: ids short,
    longer than the inline key (told apart only past it), non-ASCII, unknown; and the number of
    distinct slots of a batch."""
    from fenghuo.monitor.native import KERNEL

    if KERNEL is None:
        pytest.skip("the ingest kernel is not built")
    d = Directory(db)
    d.reload()
    long_a, long_b = "L" * 50 + "a", "L" * 50 + "b"  # the same first 44 bytes and length
    ids = ["a-chat", "a-med", "b-chat"] + [f"svc{i}" for i in range(300)] + [long_a, "服务-é", "x" * 64]
    with d._lock:
        slots = d._slots(ids, d.slot_of)
        d._publish(dict.fromkeys(ids), slots)
    rng = random.Random(2)
    for _ in range(50):
        batch = [rng.choice(ids + [long_b, "nope", "服务-e", "x" * 63]) for _ in range(rng.choice([1, 10, 200]))]
        out = np.empty(len(batch), dtype=np.int64)
        missing, distinct = KERNEL.slot_lookup(d._maps[2], d.names, batch, out)
        want = [slots.get(i, -1) for i in batch]
        assert out.tolist() == want
        assert missing == want.count(-1) and distinct == len({s for s in want if s >= 0})
    # an id longer than the inline key is confirmed against the directory's own string: told a
    # different one there (as a hash collision past the inline bytes would), it is not found
    names = list(d.names)
    names[slots[long_a]] = long_b
    out = np.empty(2, dtype=np.int64)
    assert KERNEL.slot_lookup(d._maps[2], names, [long_a, "a-chat"], out) == (1, 1)
    assert out.tolist() == [-1, slots["a-chat"]]
    with pytest.raises(TypeError):
        KERNEL.slot_lookup(d._maps[2], d.names, [b"a-chat"], np.empty(1, dtype=np.int64))


def test_batch_slots_follow_the_events_through_refusals_and_duplicates(db):
    """Ingest with the kernel's per-event slots and without (FENGHUO_NATIVE=0's dict path)
    counts the same: a refused event and a redelivered one are dropped with their slots."""
    from fenghuo.monitor.ingest import Monitor
    from tests.monitor.helpers import call

    m = Monitor(db)
    m.start()
    now = m.now()
    m.ingest_body(msgspec.json.encode([call("a-chat", now, id="dup")]), ADMIN)
    batch = [call(s, now) for s in ("a-chat", "a-med", "b-chat") * 30]
    batch += [call("unknown-svc", now), call("b-chat", now, id="dup"), call("a-med", now - 10_000)]
    got = m.ingest_body(msgspec.json.encode(batch), ADMIN)
    assert (got.accepted, got.duplicates, [r["index"] for r in got.rejected]) == (90, 1, [90, 92])
    snap = {s: m.indicators.snapshot(s, m.now())["windows"]["1m"]["calls"] for s in ("a-chat", "a-med", "b-chat")}
    assert snap == {"a-chat": 31, "a-med": 30, "b-chat": 30}
