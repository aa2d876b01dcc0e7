"""The directory slots the C decoder hands ingest with a batch (_ingestdecode.h), found after the
parse in one prefetched pass over the batch's services (_ingestslots.h: slots_find), and the
same pass behind ``slot_lookup``: each answer equals the Python reference, a dict of id -> slot
(``Directory.slot_of``), on probe chains, ids longer than the table's inline key, unknown and
non-ASCII services, duplicates near and far and batches shorter and longer than the prefetch
distance."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from fenghuo.monitor import native

pytestmark = pytest.mark.skipif(native.decoder is None, reason="the ingest kernel is not built")

INLINE = 44  # KEY_INLINE: bytes of an id the table entry holds
AHEAD = 12  # SLOT_AHEAD


def _event(i: int, service: str) -> dict:
    return {"id": f"e{i}", "type": "call", "service": service, "time": "2026-12-06T07:31:57.211202+00:00",
            "instance": f"g{i % 3}", "latency_ms": 12.5, "tokens_in": 3, "output": {"blocked": False}}


def _body(services: list[str]) -> bytes:
    return json.dumps([_event(i, s) for i, s in enumerate(services)], ensure_ascii=False).encode()


def _table(ids: list[str], slots: list[int], cap: int | None = None) -> np.ndarray:
    if cap is None:
        cap = 16
        while cap < 2 * len(ids):
            cap *= 2
    t = np.empty(cap * 64, dtype=np.uint8)
    native.KERNEL.slot_table_build(ids, np.array(slots, dtype=np.int64), t)
    return t


def _colliding(cap: int, count: int, prefix: str) -> list[str]:
    """``count`` ids whose hashes land on one table entry (a probe chain of that length)."""
    by_home: dict[int, list[str]] = {}
    for i in range(200_000):
        s = f"{prefix}{i}"
        got = by_home.setdefault(hash(s) & (cap - 1), [])
        got.append(s)
        if len(got) == count:
            return got
    raise AssertionError("no chain found")


class Directory:
    """A directory as the kernel reads it: names[slot] is the id of a slot, the table maps each
    registered id to its slot; ``slot_of`` is the Python reference."""

    def __init__(self, ids: list[str], seed: int = 0, cap: int | None = None) -> None:
        rng = random.Random(seed)
        slots = list(range(len(ids)))
        rng.shuffle(slots)  # slots are not the ids' order
        self.names = [""] * len(ids)
        for s, slot in zip(ids, slots):
            self.names[slot] = s
        self.slot_of = dict(zip(ids, slots))
        self.table = _table(ids, slots, cap)


def _check_decoder(d: Directory, services: list[str]) -> None:
    got = native.decoder(_body(services), d.table, d.names)
    assert got is not None
    events, ids, svcs, slots, missing, distinct = got
    assert [e.service for e in events] == services and all(s is e.service for s, e in zip(svcs, events))
    # the decoder leaves a service that is not plain ASCII to the lookup by name (slot -1)
    want = [d.slot_of.get(s, -1) if s.isascii() else -1 for s in services]
    assert np.frombuffer(slots, dtype=np.int64).tolist() == want
    assert missing == want.count(-1)
    assert distinct == (0 if missing else len(set(want)))
    assert all(hash(e.service) == hash("".join(list(e.service))) for e in events)  # str's own hash
    # slot_lookup over the same events: every registered id found, non-ASCII too
    out = np.empty(len(events), dtype=np.int64)
    full = [d.slot_of.get(s, -1) for s in services]
    assert native.KERNEL.slot_lookup(d.table, d.names, events, out) == (full.count(-1), len({x for x in full if x >= 0}))
    assert out.tolist() == full
    out = np.empty(len(services), dtype=np.int64)  # and over the ids themselves
    assert native.KERNEL.slot_lookup(d.table, d.names, list(services), out)[0] == full.count(-1)
    assert out.tolist() == full


def test_probe_chains_long_ids_unknown_and_duplicates():
    cap = 1024
    chain = _colliding(cap, 9, "svc-")  # nine ids on one home entry
    chain_long = _colliding(cap, 5, "L" * INLINE + "-")  # longer than the inline key, same first 44 bytes
    long_ids = ["x" * 64, "x" * 63 + "y", "x" * (INLINE + 1), "x" * INLINE]
    ids = chain[:6] + chain_long[:3] + long_ids + ["服务-一", "a", "svc"] + [f"s{i:05d}" for i in range(300)]
    d = Directory(ids, cap=cap)
    unknown = chain[6:] + chain_long[3:] + ["x" * 62 + "yy", "x" * (INLINE + 2), "nope", "服务-二"]
    pool = ids + unknown
    _check_decoder(d, chain + chain_long + long_ids + unknown)
    rng = random.Random(5)
    for n in (0, 1, AHEAD - 1, AHEAD, AHEAD + 1, 2 * AHEAD + 3, 1000):
        batch = [rng.choice(pool) for _ in range(n)]
        for k in range(1, n, 7):  # runs of one service, and the same one again far away
            batch[k] = batch[k - 1]
        _check_decoder(d, batch)
    _check_decoder(d, ids[:1] * 50)  # a guard's batch: one service
    _check_decoder(d, [s for s in ids if s.isascii()][:200])  # all known: distinct counted


def test_a_spread_batch_over_a_large_directory():
    """1,000 events over 1,000 of 20,000 services (a table far larger than the batch), some
    unknown, in random batches: every slot as the reference's."""
    ids = [f"svc{i:06d}" for i in range(20_000)]
    d = Directory(ids, seed=3)
    rng = random.Random(11)
    for k in range(6):
        batch = [f"svc{(k * 1000 + i) % 20_000:06d}" for i in range(1000)]
        if k % 2:
            for j in rng.sample(range(1000), 5):
                batch[j] = f"gone{j}"
        rng.shuffle(batch)
        _check_decoder(d, batch)


def test_a_table_ahead_of_its_names():
    """A slot the names list does not hold yet, or a long id whose names entry is another id,
    is not found: a match is never by the table's hash alone."""
    long_a, long_b = "q" * 60, "q" * 59 + "r"
    d = Directory(["one", "two", long_a])
    other = list(d.names)
    other[d.slot_of[long_a]] = long_b  # the directory's own id differs beyond the inline key
    body = _body(["one", long_a, "two"])
    events, _ids, _svcs, slots, missing, _distinct = native.decoder(body, d.table, other)
    assert np.frombuffer(slots, dtype=np.int64).tolist() == [d.slot_of["one"], -1, d.slot_of["two"]] and missing == 1
    cut = d.names[:1]  # only slot 0 is in the names list
    want = [d.slot_of[s] if d.slot_of[s] == 0 else -1 for s in ("one", long_a, "two")]
    _events, _ids, _svcs, slots, missing, _distinct = native.decoder(body, d.table, cut)
    assert np.frombuffer(slots, dtype=np.int64).tolist() == want and missing == 2
    out = np.empty(3, dtype=np.int64)
    assert native.KERNEL.slot_lookup(d.table, cut, events, out) == (2, 1) and out.tolist() == want


def test_random_batches_agree_with_the_reference():
    rng = random.Random(2026)
    ids = list(dict.fromkeys(
        "".join(rng.choice("abcdefghij0123456789-_") for _ in range(rng.choice([1, 5, 20, 44, 45, 64])))
        for _ in range(3000)))
    d = Directory(ids, seed=9)
    unknown = [s[:-1] + "!" for s in ids[:200]]  # same lengths, not registered
    for _ in range(40):
        n = rng.choice([1, 3, 13, 100, 700])
        batch = [rng.choice(ids if rng.random() < 0.9 else unknown) for _ in range(n)]
        _check_decoder(d, batch)
