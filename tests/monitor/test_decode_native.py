"""The C batch decoder (monitor/_ingestdecode.h) answers exactly what msgspec's decoding of the
same body gives, or None; it never accepts a body msgspec refuses, so every error is still
msgspec's, named per event (wire.decode_batch)."""

from __future__ import annotations

import json
import random
import tracemalloc

import msgspec
import numpy as np
import pytest

from fenghuo.monitor import native
from fenghuo.monitor.wire import WireEvent, _batch

pytestmark = pytest.mark.skipif(native.decoder is None, reason="the ingest kernel is not built")

BASE = {"id": "e1", "type": "call", "service": "svc", "time": "2026-01-01T00:00:00Z"}
FULL = {"id": "3d1626d6-c7a2-4a82-9d1e-de1ee6ae7ec4", "type": "call", "service": "svc000001",
        "time": "2026-12-06T07:31:57.211202+00:00", "instance": "g0", "state": "running", "state_version": 1,
        "route": "primary", "status": "ok", "model": "m", "latency_ms": 50.0, "tokens_in": 20, "tokens_out": 200,
        "input": {"blocked": False, "categories": []}, "output": {"blocked": False, "categories": []},
        "label": True, "stream": False}


def msgspec_decode(body: bytes):
    try:
        return _batch.decode(body)
    except (msgspec.ValidationError, msgspec.DecodeError, RecursionError):
        return None


def same(a: WireEvent, b: WireEvent) -> None:
    """Equal, and every field of the same type (an int is not a float, a member is the member)."""
    assert a == b
    for f in WireEvent.__struct_fields__:
        x, y = getattr(a, f), getattr(b, f)
        assert type(x) is type(y), (f, x, y)
        if f in ("type", "route", "status", "refusal"):
            assert x is y
        if f == "time":
            assert x.tzinfo is y.tzinfo
        if f in ("input", "output") and x is not None:
            for cf in type(x).__struct_fields__:
                assert type(getattr(x, cf)) is type(getattr(y, cf)), (f, cf)


# a directory's ids (names[slot] is the id of a slot) and its slot table (_ingestslots.h): the
# services the tests' bodies name, ids longer than the table's inline key, one not ASCII
NAMES = list(dict.fromkeys(["svc", "svc000001", "svc000001x", "a" * 50, "b" * 64, "服务-一", "svc7"]
                           + [f"svc{i}" for i in range(0, 20000, 3)] + [f"svc{i:06d}" for i in range(1000)]))
SLOT = {n: i for i, n in enumerate(NAMES)}
_table = []


def table() -> np.ndarray:
    if not _table:
        cap = 16
        while cap < 2 * len(NAMES):
            cap *= 2
        t = np.empty(cap * 64, dtype=np.uint8)
        native.KERNEL.slot_table_build(NAMES, np.arange(len(NAMES), dtype=np.int64), t)
        _table.append(t)
    return _table[0]


def check(body: bytes) -> bool:
    """The decoder agrees with msgspec on ``body``, with and without the directory's slot
    table; answers whether it decoded it itself."""
    ours, theirs = native.decoder(body), msgspec_decode(body)
    with_table = native.decoder(body, table(), NAMES)
    assert (with_table is None) == (ours is None)
    if ours is None:
        return False
    assert theirs is not None, body[:300]  # never accept what msgspec refuses
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        same(a, b)
    events, ids, services, slots, missing, distinct = with_table
    assert len(events) == len(theirs)
    for a, b in zip(events, theirs):
        same(a, b)
    check_columns(events, ids, services, slots, missing, distinct)
    return True


def slot_of(service: str) -> int:
    """The slot the decoder finds: a service not plain ASCII is left to the lookup by name."""
    return SLOT.get(service, -1) if service.isascii() else -1


def check_columns(events, ids, services, slots, missing, distinct) -> None:
    """What the decoder took from the events as it read them with the table: their ids and
    services (the same objects), each one's slot (-1: not in the table), a known service's
    str carrying the hash str computes, how many are unknown and (all known) how many distinct
    slots."""
    assert all(i is e.id for i, e in zip(ids, events)) and len(ids) == len(events)
    assert all(s is e.service for s, e in zip(services, events)) and len(services) == len(events)
    want = [slot_of(e.service) for e in events]
    assert np.frombuffer(slots, dtype=np.int64).tolist() == want
    assert missing == want.count(-1)
    assert distinct == (0 if missing else len(set(want)))
    for e, s in zip(events, want):
        if s >= 0:
            assert e.service == NAMES[s] and hash(e.service) == hash("".join(list(e.service)))


PATCHES = [
    {}, {"instance": None, "state": None, "model": None, "detail": None, "label": None, "stream": None},
    {"refusal": "paused", "status": "refused", "route": "refused"}, {"route": "backup", "status": "upstream_timeout"},
    {"type": "complaint", "detail": "投诉内容 ✓ 🙂"}, {"service": "服务-一"}, {"id": "й" * 64}, {"instance": "i" * 128},
    {"detail": "x" * 4000}, {"state_version": 0, "tokens_in": 0, "tokens_out": 123456789012345678},
    {"latency_ms": 0}, {"latency_ms": 0.1}, {"latency_ms": 1234.5678}, {"latency_ms": 0.30000000000000004},
    {"latency_ms": 123456789.123456789}, {"latency_ms": 5}, {"failsafe": True},
    {"input": None, "output": None}, {"input": {}, "output": {"blocked": True, "categories": ["A1", "A2"],
                                                              "risks": ["A1f"], "masked": ["phone"]}},
    {"output": {"refused": True, "compliance_risk": False}}, {"output": {"refused": None, "compliance_risk": None}},
    {"time": "2024-02-29T23:59:59.5Z"}, {"time": "2026-01-01T00:00:00.000001+00:00"},
    # refused by msgspec: the decoder must answer None
    {"id": ""}, {"service": ""}, {"id": "x" * 65}, {"service": "s" * 65}, {"instance": "i" * 129}, {"detail": "x" * 4001},
    {"type": "nope"}, {"route": "sideways"}, {"status": "fine"}, {"refusal": "why"}, {"latency_ms": -1},
    {"state_version": -1}, {"tokens_in": 1.5}, {"tokens_in": True}, {"failsafe": None}, {"label": "yes"},
    {"surprise": True}, {"input": {"blocked": False, "extra": 1}}, {"input": {"blocked": None}},
    {"input": {"categories": [1]}}, {"input": []}, {"time": "yesterday"}, {"time": "2023-02-29T00:00:00Z"},
    {"time": "2026-13-01T00:00:00Z"}, {"time": "2026-01-01T24:00:00Z"}, {"service": None}, {"id": 7},
    # accepted by msgspec in forms the decoder leaves to it
    {"time": "2026-01-01T08:00:00+08:00"}, {"time": "2026-01-01T00:00:00"}, {"time": "2026-01-01T00:00:00.1234567Z"},
    {"time": 1767225600}, {"latency_ms": 1e3}, {"latency_ms": "5"}, {"state_version": "3"},
    {"attributes": {"k": [1, 2]}}, {"attributes": {}}, {"attributes": None}, {"detail": "line\nbreak"},
]


@pytest.mark.parametrize("patch", PATCHES, ids=[json.dumps(p, ensure_ascii=False)[:40] for p in PATCHES])
def test_one_event_as_msgspec(patch):
    for base in (BASE, FULL):
        check(json.dumps([{**base, **patch}], ensure_ascii=False).encode())
        check(json.dumps([{**base, **patch}]).encode())  # \u escapes: msgspec's


def test_the_usual_batch_is_decoded_here_and_equal():
    events = [{**FULL, "id": f"e{i}", "service": f"svc{i % 7}", "latency_ms": 50.0 + i * 0.25,
               "instance": f"g{i % 3}", "time": f"2026-12-06T07:31:{i % 60:02d}.5Z"} for i in range(600)]
    assert check(json.dumps(events).encode())
    assert check(b"[]") and check(b" \n[ ]\t")
    assert check(json.dumps(events, indent=2).encode())


def test_shared_objects_are_equal_and_immutable_ones_only():
    body = json.dumps([{**FULL, "id": f"e{i}"} for i in range(3)]).encode()
    a, b, c = native.decoder(body)
    assert a.time is b.time is c.time and a.instance is b.instance and a.service is c.service  # one per batch
    assert a.input is b.output  # the one check that found nothing, as msgspec's all equal
    assert a.id is not b.id and a.latency_ms == b.latency_ms


@pytest.mark.parametrize("body", [
    b"", b"[", b"[{", b"]", b"{}", b"[{}]", b"[1]", b'["x"]', b"[null]", b"[[]]", b"[" + json.dumps(BASE).encode() + b",]",
    b"[" + json.dumps(BASE).encode() + b"] x", b"[" + json.dumps(BASE).encode() + b"]]",
    b'[{"id":"e1","id":"e2","type":"call","service":"s","time":"2026-01-01T00:00:00Z"}]',  # a key twice
    b'[{"id":"e1" "type":"call"}]', b'[{"id":"e1",}]', b'[{"id":"e1","type":"call","service":"s","time":"2026-01-01T00:00:00Z","latency_ms":01}]',
    b'[{"id":"e1","type":"call","service":"s","time":"2026-01-01T00:00:00Z","latency_ms":1.}]',
    b'[{"id":"e1","type":"call","service":"s","time":"2026-01-01T00:00:00Z","label":tru}]',
    b'[{"id":"e1","type":"call","service":"s","time":"2026-01-01T00:00:00Z","label":truex}]',
    b'[{"id":"\xff\xfe","type":"call","service":"s","time":"2026-01-01T00:00:00Z"}]',  # not UTF-8
    b'[{"id":"a\x01b","type":"call","service":"s","time":"2026-01-01T00:00:00Z"}]',  # a control character
    b'[{"id":"e1","type":"call","service":"s","time":"2026-01-01T00:00:00Z"' + b"}" * 3 + b"]",
    b"[" + b"[" * 5000 + b"]" * 5000 + b"]",
])
def test_broken_documents_are_left_to_msgspec(body):
    assert native.decoder(body) is None


def _random_value(rng: random.Random, key: str):
    pools = {
        "id": ["e", "x" * 64, "x" * 65, "", "中文", "a\"b", 5, None],
        "type": ["call", "complaint", "factual_error", "operator_note", "external_signal", "CALL", None],
        "service": ["svc", "s" * 64, "服务", None, ["svc"]],
        "time": ["2026-01-01T00:00:00Z", "2026-01-01T00:00:00.25+00:00", "2026-06-30T12:34:56.123456Z",
                 "2026-01-01T00:00:00+01:00", "2026-01-01 00:00:00Z", "2026-02-30T00:00:00Z", 1767225600.5, ""],
        "state_version": [0, 1, 2**40, -1, 1.0, "1", None, True],
        "latency_ms": [0, 0.0, 3.25, 1e-3, 99999.999, -0.5, 1e300, "1", None, 10**30, 0.1 + 0.2],
        "failsafe": [True, False, None, 0],
        "route": ["primary", "backup", "refused", "x", None],
        "status": ["ok", "refused", "output_blocked", "cut", "upstream_error", "upstream_timeout", "bad_request", None, 1],
        "input": [None, {}, {"blocked": True}, {"categories": ["A1"]}, {"masked": []}, {"refused": False},
                  {"compliance_risk": True, "risks": ["A1f", "中"]}, {"blocked": 1}, {"x": 1}, []],
        "detail": ["", "说明", "x" * 4000, "x" * 4001, None, 3],
        "attributes": [{}, {"a": 1}, None],
    }
    pools["output"] = pools["input"]
    pools["tokens_in"] = pools["tokens_out"] = pools["state_version"]
    pools["instance"] = pools["state"] = pools["model"] = ["g1", "i" * 128, "i" * 129, "运行", None, 1]
    pools["refusal"] = ["paused", "user", "canary", "no", None]
    pools["label"] = pools["stream"] = [True, False, None, "true"]
    return rng.choice(pools[key])


KEYS = list(FULL) + ["refusal", "detail", "attributes", "failsafe"]


def test_a_repeated_value_is_checked_as_the_first():
    """Values shared with the previous event are only those with the same bytes: an empty or
    too long service after a good one is still left to msgspec, a different one is its own."""
    ev = dict(FULL)
    assert native.decoder(json.dumps([ev, {**ev, "service": ""}]).encode()) is None
    assert native.decoder(json.dumps([ev, {**ev, "service": "s" * 65}]).encode()) is None
    a, b, c = native.decoder(json.dumps([ev, {**ev, "service": "svc000001x"}, ev]).encode())
    assert (a.service, b.service, c.service) == ("svc000001", "svc000001x", "svc000001")


@pytest.mark.parametrize("seed", range(6))
def test_random_batches_agree_with_msgspec(seed):
    rng = random.Random(seed)
    decoded_here = 0
    for _ in range(300):
        events = []
        for i in range(rng.choice([1, 2, 5, 20])):
            ev = dict(FULL, id=f"e{i}")
            for k in rng.sample(KEYS, rng.choice([0, 0, 1, 2])):
                ev[k] = _random_value(rng, k)
            if rng.random() < 0.05:
                ev.pop(rng.choice(["id", "type", "service", "time"]))
            events.append(dict(rng.sample(sorted(ev.items()), len(ev))) if rng.random() < 0.3 else ev)
        body = json.dumps(events, ensure_ascii=rng.random() < 0.3).encode()
        decoded_here += check(body)
    assert decoded_here > 30  # the usual shapes are read here, not all left to msgspec


def test_no_references_leak():
    good = json.dumps([{**FULL, "id": f"e{i}", "output": {"blocked": True, "categories": ["A1"]}} for i in range(50)]).encode()
    bad = good[:-200] + b'"latency_ms": -1}]'  # fails late, after many objects were made
    t = table()
    for _ in range(50):
        native.decoder(good), native.decoder(bad), native.decoder(good, t, NAMES), native.decoder(bad, t, NAMES)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for _ in range(500):
        native.decoder(good)
        native.decoder(bad)
        native.decoder(good, t, NAMES)
        native.decoder(bad, t, NAMES)
    grown = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert grown < 64 * 1024, grown


def test_a_huge_batch():
    events = [{**FULL, "id": f"e{i}", "service": f"svc{i}"} for i in range(20000)]
    assert check(json.dumps(events).encode())


def test_services_found_by_slot_as_they_are_read():
    """A batch read with the directory's table: known services have their slots (long ids
    confirmed in full) and the hash str computes, an unknown or non-ASCII one (even if
    registered: ingest then looks the batch up by name) has slot -1; a run of one service is
    one str; the events are msgspec's either way."""
    names = ["svc000001", "svc000001", "a" * 50, "svc7", "nope", "a" * 49 + "b", "服务-一", "svc000002", "svc000002"]
    body = json.dumps([{**FULL, "id": f"e{i}", "service": s} for i, s in enumerate(names)], ensure_ascii=False).encode()
    assert check(body)
    events, _ids, _services, slots, missing, _distinct = native.decoder(body, table(), NAMES)
    assert np.frombuffer(slots, dtype=np.int64).tolist() == [slot_of(s) for s in names]
    assert missing == 3 and events[0].service is events[1].service
    held = {n: i for i, n in enumerate(NAMES)}  # the str's stored hash finds it in a dict
    assert [held.get(e.service, -1) for e in events[:4]] == [slot_of(s) for s in names[:4]]
    known = json.dumps([{**FULL, "id": f"e{i}", "service": f"svc{i % 40:06d}"} for i in range(120)]).encode()
    events, ids, services, slots, missing, distinct = native.decoder(known, table(), NAMES)
    assert missing == 0 and distinct == 40 and ids[5] == "e5"
    with pytest.raises(TypeError):
        native.decoder(known, table(), tuple(NAMES))
    with pytest.raises(ValueError):
        native.decoder(known, np.zeros(3 * 64, dtype=np.uint8), NAMES)


def test_latencies_are_the_nearest_double():
    """Up to 15 digits by one division, 16-19 (a guard's perf_counter latencies) by integer
    arithmetic, more by strtod: each equal to Python's float() of the text (correctly rounded)."""
    rng = random.Random(11)
    texts = ["0", "0.0", "1", "120.9278197011611", "0.30000000000000004", "9007199254740993", "18446744073709551615",
             "9999999999999999999", "0.9999999999999999999", "12345678901234567890.5", "4.35", "0.1", "2.675"]
    for _ in range(20000):
        nd = rng.randint(1, 21)
        digits = "".join(rng.choice("0123456789") for _ in range(nd))
        cut = rng.randint(1, nd)
        head = digits[:cut].lstrip("0") or "0"
        texts.append(head + ("." + digits[cut:] if cut < nd else ""))
        texts.append(repr(rng.random() * 10 ** rng.randint(0, 7)))
    events = [{**BASE, "id": f"e{i}", "latency_ms": None} for i in range(len(texts))]
    body = json.dumps(events).replace('"latency_ms": null', '"latency_ms": %s') % tuple(texts)
    got = native.decoder(body.encode())
    assert got is not None
    assert [e.latency_ms for e in got] == [float(t) for t in texts]
    check(body.encode())


def test_what_guards_send_is_read_here():
    """A batch as guard telemetry encodes it (msgspec, defaults omitted, a time and a 16-17 digit
    latency per call) takes the decoder, equal to msgspec's reading."""
    from datetime import UTC, datetime, timedelta

    from fenghuo.monitor.wire import encode_built

    rng = random.Random(2)
    t0 = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)
    raws = [{"id": f"0193a{i:027d}", "type": "call", "service": f"svc{i % 50}", "time": t0 + timedelta(microseconds=i * 37),
             "instance": "gw-1", "state": "running", "state_version": 3, "failsafe": False, "route": "primary",
             "status": "ok", "model": "qwen-max", "tokens_in": 120, "tokens_out": 300, "latency_ms": rng.random() * 900,
             "input": {"blocked": False, "categories": []}, "output": {"blocked": i % 7 == 0, "categories": ["A1"] if i % 7 == 0 else []},
             "label": True, "stream": False} for i in range(500)]
    assert check(b"[" + b",".join(encode_built(r) for r in raws) + b"]")


def _answers(db, bodies, monkeypatch, with_decoder: bool, at: float):
    """Each body's ingest answer (or error) and the indicators after them (read at ``at``, so
    both runs read the same windows), on a fresh Monitor."""
    from fenghuo.monitor import ingest
    from fenghuo.monitor.ingest import Monitor
    from fenghuo.platform.errors import FenghuoError
    from tests.monitor.helpers import ADMIN

    monkeypatch.setattr(ingest, "_decoder", native.decoder if with_decoder else None)
    m = Monitor(db)
    m.start()
    out = []
    for body in bodies:
        try:
            out.append(m.ingest_body(body, ADMIN).to_dict())
        except FenghuoError as exc:
            out.append((type(exc).__name__, str(exc)))
    snap = {s: m.indicators.snapshot(s, at) for s in ("a-chat", "a-med", "b-chat")}
    return out, snap


def test_ingest_answers_and_counts_the_same_without_the_decoder(tmp_path, monkeypatch):
    """Good batches, an unknown service, a far-future time, a duplicate, a bad field, a broken
    body, a huge batch and non-ASCII text: the same answers, refusals and indicators whether the
    C decoder or msgspec reads the bodies."""
    import time as _time
    from datetime import UTC, datetime

    from fenghuo.platform.clock import ManualClock
    from fenghuo.platform.db import Database
    from tests.monitor.helpers import call, iso, seed

    now = _time.time()
    ok = [call("a-chat", now, id=f"g{i}", latency=10 + i * 0.125, instance=f"g{i % 3}") for i in range(40)]
    bodies = [
        json.dumps(ok).encode(),
        json.dumps([call("a-med", now, id="u1"), call("nope", now, id="u2"), call("b-chat", now + 3600, id="u3")]).encode(),
        json.dumps([call("a-chat", now, id="g1"), call("a-chat", now, id="d2", unsafe=True, category="A1")]).encode(),
        json.dumps([call("a-chat", now, id="v1"), {**call("a-chat", now, id="v2"), "latency_ms": -1}]).encode(),
        b'[{"id": "b1", "type": "call", "service": "a-chat", "time": "' + iso(now).encode() + b'"',
        json.dumps([{**call("b-chat", now, id="z1"), "detail": "用户投诉 ✓", "state": "运行"}], ensure_ascii=False).encode(),
        json.dumps([call("a-med", now, id=f"h{i}") for i in range(5001)]).encode(),
        json.dumps([call("a-med", now, id=f"k{i}", status="upstream_error") for i in range(5000)]).encode(),
    ]
    assert [native.decoder(b) is not None for b in bodies] == [True, True, True, False, False, True, True, True]
    results = []
    for with_decoder in (True, False):
        # one instant for both runs: a refusal names how far ahead a time is, in whole seconds
        # of the ingest clock (a wall clock read 3600 in one run and 3599 in the other under load)
        clock = ManualClock(datetime.fromtimestamp(now + 0.25, UTC))
        d = Database(str(tmp_path / f"db{with_decoder}.db"), clock=clock)
        d.upgrade()
        seed(d)
        results.append(_answers(d, bodies, monkeypatch, with_decoder, now + 1.0))
        d.dispose()
    assert results[0][0] == results[1][0]
    assert results[0][1] == results[1][1]
    answers = results[0][0]
    assert answers[0]["accepted"] == 40
    assert [r["index"] for r in answers[1]["rejected"]] == [1, 2] and "unknown service" in answers[1]["rejected"][0]["reason"]
    assert answers[2]["duplicates"] == 1
    assert answers[3]["rejected"][0]["index"] == 1 and answers[3]["accepted"] == 1
    assert answers[4][0] == "Invalid" and answers[6][0] == "TooLarge"
    assert answers[7]["accepted"] == 5000
