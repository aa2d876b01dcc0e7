"""The C kernel of ingest (``monitor/_ingestnative.c``) gives exactly what its Python/numpy
reference gives: the per-event counters, latencies and categories of a batch (``colfold``), the
latest state of each guard instance (``instances.latest_of``), the adds into the window totals
and hourly summaries, the summing of latency bins, and the rules' screen of threshold groups
(``alerts/screen.py``) — on random events (hypothesis and seeded) and on whole runs through
``Monitor.ingest_body`` with the default rule packs. With ``FENGHUO_REQUIRE_NATIVE=1`` (CI) a
kernel that did not load is a failure."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fenghuo.alerts import screen as screen_mod
from fenghuo.alerts import screen_state
from fenghuo.alerts.rules import parse_rules
from fenghuo.alerts.screen import Screen
from fenghuo.monitor import colfold, columns, fold, instances
from fenghuo.monitor.colfold import NCOL, _columns, _native_columns
from fenghuo.monitor.columns import add_rows, sum_bins
from fenghuo.monitor.indicators import Indicators
from fenghuo.monitor.schema import CallStatus, EventType, Route
from fenghuo.monitor.wire import WireCheck, WireEvent
from tests.alerts.test_screen import GROUPED, RULES, _infos
from tests.monitor.test_fold import T0, WINDOWS, random_event

NATIVE = colfold.NATIVE is not None
needs_native = pytest.mark.skipif(not NATIVE, reason="the _ingestnative kernel is not built (or FENGHUO_NATIVE=0)")


def test_kernel_loaded_when_required():
    if os.environ.get("FENGHUO_REQUIRE_NATIVE") == "1":
        assert NATIVE, "FENGHUO_REQUIRE_NATIVE=1 but fenghuo.monitor._ingestnative did not load (build it: make native)"


def test_fenghuo_native_0_forces_the_fallback():
    code = ("from fenghuo.monitor import colfold, columns, fold, instances; from fenghuo.alerts import screen, screen_state; "
            "print(colfold.NATIVE is None, columns.NATIVE is None, instances.NATIVE is None, screen.NATIVE is None, "
            "fold.NATIVE is None, screen_state.NATIVE is None)")
    out = subprocess.run([sys.executable, "-c", code], env=dict(os.environ, FENGHUO_NATIVE="0"), capture_output=True,
                         text=True, check=True)
    assert out.stdout.split() == ["True"] * 6


@pytest.fixture
def python_only(monkeypatch):
    """Every user of the kernel on its Python/numpy path, for this test."""
    def off():
        for mod in (colfold, columns, instances, screen_mod, screen_state, fold):
            monkeypatch.setattr(mod, "NATIVE", None)
    return off


# -- the per-event fold -------------------------------------------------------------------------
_times = st.sampled_from([0.0, -0.5, -30.0, 2.0])
_checks = st.one_of(st.none(), st.just(WireCheck()), st.builds(
    WireCheck, blocked=st.booleans(), categories=st.lists(st.sampled_from(["A1", "A2", "B1"]), max_size=3).map(tuple),
    risks=st.lists(st.just("r"), max_size=1).map(tuple), masked=st.lists(st.just("phone"), max_size=1).map(tuple),
    refused=st.sampled_from([None, True, False]), compliance_risk=st.sampled_from([None, True, False])))
_events = st.builds(
    WireEvent, id=st.uuids().map(str), type=st.sampled_from(list(EventType) + [EventType.call] * 4),
    service=st.sampled_from(["a", "b", "c", "d"]), time=_times.map(lambda d: datetime.fromtimestamp(T0 + d, UTC)),
    instance=st.sampled_from([None, "g0", "g1"]), state=st.sampled_from([None, "running"]),
    state_version=st.sampled_from([None, 0, 3]), failsafe=st.booleans(), route=st.sampled_from([None, *Route]),
    status=st.sampled_from([None, *CallStatus]),
    latency_ms=st.one_of(st.none(), st.sampled_from([0.0, 1e-300, 0.004]), st.floats(0, 1e9, allow_nan=False)),
    tokens_in=st.one_of(st.none(), st.integers(0, 2**63 - 1)), tokens_out=st.one_of(st.none(), st.integers(0, 10**6)),
    input=_checks, output=_checks)


def _both(events):
    n = len(events)
    ev_py, ev_c = np.zeros((n, NCOL), dtype=np.int64), np.zeros((n, NCOL), dtype=np.int64)
    cats_py, cats_c = [], []
    rows_py, lat_py = _columns(events, ev_py, cats_py)
    rows_c, lat_c = _native_columns(events, ev_c, cats_c)
    return (ev_py, cats_py, rows_py, lat_py), (ev_c, cats_c, rows_c, lat_c)


def _same(a, b):
    (ev_a, cats_a, rows_a, lat_a), (ev_b, cats_b, rows_b, lat_b) = a, b
    assert np.array_equal(ev_a, ev_b)
    assert cats_a == cats_b  # same order too: the summaries and windows update Counters in it
    assert np.array_equal(rows_a, rows_b) and rows_b.dtype == np.int64
    assert (lat_a is None) == (lat_b is None)
    if lat_a is not None:
        assert np.array_equal(lat_a, lat_b)


@needs_native
@settings(max_examples=300, deadline=None)
@given(st.lists(_events, min_size=1, max_size=40))
def test_fold_columns_equal_the_python_path(events):
    _same(*_both(events))


@needs_native
@pytest.mark.parametrize("seed", range(6))
def test_fold_columns_equal_on_random_batches(seed):
    rng = random.Random(seed)
    events = [random_event(rng, i, T0) for i in range(rng.choice([1, 50, 1000]))]
    _same(*_both(events))


@needs_native
def test_fold_refuses_what_it_does_not_know_and_python_decides():
    e = WireEvent(id="x", type=EventType.call, service="a", time=datetime.fromtimestamp(T0, UTC), tokens_in=2**64)
    ev = np.zeros((1, NCOL), dtype=np.int64)
    assert _native_columns([e], ev, []) == (None, None) and not ev.any()
    with pytest.raises(OverflowError):  # what the Python path says about it, as before the kernel
        _columns([e], np.zeros((1, NCOL), dtype=np.int64), [])
    assert _native_columns([object()], ev, []) == (None, None)  # type: ignore[list-item]


class _Truthy:
    """A value whose truth runs Python code: the kernel refuses it rather than call it."""

    def __bool__(self) -> bool:
        return True


@needs_native
@pytest.mark.parametrize("field, value", [("failsafe", 1), ("failsafe", _Truthy()), ("tokens_in", True),
                                          ("latency_ms", 7), ("service", type("S", (str,), {})("a"))])
def test_kernel_takes_only_plain_values(field, value):
    """Hand-built events with values msgspec never decodes: the kernel either reads them as the
    Python path does (an int latency) or refuses them, and the Python path decides."""
    e = WireEvent(id="x", type=EventType.call, service="a", time=datetime.fromtimestamp(T0, UTC), instance="g",
                  latency_ms=5.0, input=WireCheck(), output=WireCheck())
    setattr(e, field, value)
    ev = np.zeros((1, NCOL), dtype=np.int64)
    got = _native_columns([e], ev, [])
    want_ev = np.zeros((1, NCOL), dtype=np.int64)
    want = _columns([e], want_ev, [])
    if got[0] is not None:
        assert np.array_equal(ev, want_ev) and np.array_equal(got[1], want[1])
    else:
        assert not ev.any()
    if field == "service":
        with pytest.raises(TypeError):
            instances.NATIVE.latest([e], T0)


@needs_native
@pytest.mark.parametrize("seed", range(4))
def test_whole_fold_equals_the_python_path(seed, python_only):
    rng = random.Random(seed)
    one = datetime.fromtimestamp(T0 - 0.25, UTC)
    events = []
    for i in range(rng.choice([100, 1000])):
        e = random_event(rng, i, T0)
        e.service = f"s{i if seed % 2 else rng.randrange(40)}"
        if seed < 2:
            e.time = one
        events.append(e)
    services = [e.service for e in events]
    fc = colfold._per_event(events, services, T0)
    lc = instances.latest_of(fc.event_services, fc.events, fc.times, fc.same_time, T0)
    python_only()
    fp = colfold._per_event(events, services, T0)
    lp = instances.latest_of(fp.event_services, fp.events, fp.times, fp.same_time, T0)
    assert fc.services == fp.services and np.array_equal(fc.seconds, fp.seconds) and np.array_equal(fc.counts, fp.counts)
    for a in ("hist_group", "hist_key", "hist_count"):
        assert np.array_equal(getattr(fc, a), getattr(fp, a)), a
    assert fc.cats == fp.cats and fc.same_time == fp.same_time
    assert lc == lp


# -- guard instances ----------------------------------------------------------------------------
@needs_native
@settings(max_examples=200, deadline=None)
@given(st.lists(_events, min_size=1, max_size=30), st.sampled_from([T0, T0 - 1.5]))
def test_latest_equals_the_python_path(events, t):
    services = [e.service for e in events]
    got = instances.NATIVE.latest(events, t)
    saved, instances.NATIVE = instances.NATIVE, None
    try:
        want = instances.latest_of(services, events, None, t, T0)
    finally:
        instances.NATIVE = saved
    assert (got is None) == (want is None)
    if want is not None:
        assert (got, t, t) == want
        assert [type(v[0]) for v in got.values()] == [float] * len(got)


@needs_native
@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(_events, min_size=1, max_size=20), min_size=1, max_size=4), st.sampled_from([T0, T0 - 1.5, T0 + 2.0]))
def test_merge_events_equals_merging_the_batch(batches, t):
    """Several one-instant batches merged straight into the store (in C) and through
    ``latest_of`` + ``merge``: the same states, in the same order, the same keys pending for
    the per-service index; a batch older than what is held is left to ``merge``."""
    fast, plain = instances.InstanceStore(), instances.InstanceStore()
    fast.merge({("zz", "g"): (T0, 1, "running", False)}, T0, T0)
    plain.merge({("zz", "g"): (T0, 1, "running", False)}, T0, T0)
    for events in batches:
        done = fast.merge_events(events, t)
        assert done == (t >= T0)
        saved, instances.NATIVE = instances.NATIVE, None
        try:
            got = instances.latest_of([e.service for e in events], events, None, t, T0)
            if got is not None:
                plain.merge(*got)
            if not done and got is not None:
                fast.merge(*got)
        finally:
            instances.NATIVE = saved
        assert list(fast.latest.items()) == list(plain.latest.items())
        assert fast._pending == plain._pending and fast.newest == plain.newest


_zones = [UTC, timezone(timedelta(hours=8)), None]


@needs_native
@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([0.0, 0.0, 0.0, 1e-6, 1.0]), st.sampled_from(_zones)), min_size=1, max_size=30))
def test_time_range_equals_comparing_the_times(times):
    events = []
    for i, (d, z) in enumerate(times):
        when = datetime.fromtimestamp(T0 + d, UTC)
        when = when.replace(tzinfo=None) if z is None else when.astimezone(z)
        events.append(WireEvent(id=f"t{i}", type=EventType.call, service="a", time=when))
    got = fold.time_range(events)
    saved, fold.NATIVE = fold.NATIVE, None
    try:
        assert got == fold.time_range(events)
    finally:
        fold.NATIVE = saved


# -- window adds and latency bins ---------------------------------------------------------------
@needs_native
@settings(max_examples=200, deadline=None)
@given(st.integers(1, 60), st.integers(1, 30), st.integers(0, 2**31), st.booleans())
def test_add_rows_equals_numpy(cap, width, seed, subtract):
    rng = np.random.default_rng(seed)
    total = rng.integers(-100, 100, (cap, width))
    rows = rng.permutation(cap)[:int(rng.integers(0, cap + 1))].astype(np.int64)
    counts = rng.integers(0, 1000, (rows.size, width))
    want = total.copy()
    if subtract:
        want[rows] -= counts
    else:
        want[rows] += counts
    add_rows(total, rows, counts, -1 if subtract else 1)
    assert np.array_equal(total, want)


@needs_native
@settings(max_examples=200, deadline=None)
@given(st.integers(1, 40), st.integers(1, 25), st.integers(0, 25), st.integers(0, 2**31), st.booleans())
def test_scatter_add_of_the_first_columns_equals_numpy(cap, width, k, seed, subtract):
    """The kernel's add of ``k`` of ``width`` columns (two at a time, then the odd one), with
    values near int64's ends: the same wrapped sums as numpy's."""
    k = min(k, width)
    rng = np.random.default_rng(seed)
    big = np.iinfo(np.int64).max
    total = rng.integers(-big, big, (cap, width), dtype=np.int64)
    rows = rng.permutation(cap)[:int(rng.integers(0, cap + 1))].astype(np.int64)
    counts = rng.integers(-big, big, (rows.size, k), dtype=np.int64)
    want = total.copy()
    with np.errstate(over="ignore"):
        if subtract:
            want[rows, :k] -= counts
        else:
            want[rows, :k] += counts
    colfold.NATIVE.scatter_add(total, width, rows, counts, k, -1 if subtract else 1)
    assert np.array_equal(total, want)


@needs_native
def test_add_rows_checks_its_rows():
    with pytest.raises(IndexError):
        add_rows(np.zeros((3, 2), dtype=np.int64), np.array([3], dtype=np.int64), np.ones((1, 2), dtype=np.int64))


@needs_native
@settings(max_examples=200, deadline=None)
@given(st.integers(1, 60), st.integers(1, 30), st.integers(0, 2**31))
def test_gathered_columns_equal_numpy(cap, width, seed):
    rng = np.random.default_rng(seed)
    total = rng.integers(-(2**62), 2**62, (cap, width))
    rows = rng.integers(0, cap, int(rng.integers(0, 3 * cap)))
    need = rng.integers(0, width, int(rng.integers(1, width + 1))).tolist()
    got = screen_state.Window(total, rows, need)
    saved, screen_state.NATIVE = screen_state.NATIVE, None
    try:
        want = screen_state.Window(total, rows, need)
    finally:
        screen_state.NATIVE = saved
    for c in need:
        assert np.array_equal(got[:, c], want[:, c]) and np.array_equal(got[:, c], total[rows, c])
        assert got[:, c].flags.c_contiguous


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 3000), st.integers(1, 300_000), st.integers(1, 600), st.integers(0, 2**31))
def test_sum_bins_equals_sorting(n, rows, keys, seed):
    rng = np.random.default_rng(seed)
    r, k, c = rng.integers(0, rows, n), rng.integers(-5, keys, n), rng.integers(0, 3, n)
    lo = int(k.min())
    span = int(k.max()) - lo + 1
    u, inv = np.unique(r * span + (k - lo), return_inverse=True)
    want = (u // span, u % span + lo, np.bincount(inv, weights=c).astype(np.int64))
    got = sum_bins(r, k, c)
    assert all(np.array_equal(a, b) and a.dtype == b.dtype for a, b in zip(want, got))


# -- the rules' screen ----------------------------------------------------------------------------
@needs_native
@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("text", [RULES, GROUPED])
def test_screen_groups_equal_numpy(seed, text, monkeypatch):
    """Two screens over the same indicators, one with the kernel and one without: the same
    services flagged at every step, and the same change-rule baselines learned."""
    rng = random.Random(seed)
    rules = parse_rules(text, windows=WINDOWS)
    infos = _infos(80, rng)
    ind = Indicators(WINDOWS)
    native, plain = Screen(rules, ind), Screen(rules, ind)
    now, n = T0, 0
    for step in range(20):
        batch = []
        for _ in range(rng.choice([20, 120, 400])):
            e = random_event(rng, n, now)
            e.service = f"s{rng.randrange(len(infos) + 3)}"
            batch.append(e)
            n += 1
        ind.apply(batch, now)
        touched = sorted({e.service for e in batch})
        open_services = {s for s in touched if rng.random() < 0.05}
        got = native.run(touched, infos, open_services, now)
        monkeypatch.setattr(screen_mod, "NATIVE", None)
        monkeypatch.setattr(screen_state, "NATIVE", None)
        want = plain.run(touched, infos, open_services, now)
        monkeypatch.undo()
        assert got == want, step
        for name, arrays in plain.base.items():
            mine = native.base[name]
            for a in ("mean", "var", "n", "last", "gen"):
                assert np.array_equal(getattr(mine, a), getattr(arrays, a)), (step, name, a)
        now += rng.choice([0.5, 2.0, 7.0, 30.0])


# -- whole runs ---------------------------------------------------------------------------------
def _batch(services: list[str], k: int, t: datetime, rng: random.Random) -> bytes:
    out = []
    for i in range(1000):
        svc = services[(k * 1000 + i) % len(services)] if k % 2 else rng.choice(services)
        bad = rng.random() < 0.05
        out.append({"id": str(uuid.uuid4()), "type": "call" if rng.random() < 0.97 else "complaint", "service": svc,
                    "time": (t - timedelta(seconds=rng.choice([0, 0, 0.5, 2]) if k % 3 == 0 else 0)).isoformat(),
                    "instance": f"g{i % 3}", "state": "running", "state_version": 1,
                    "route": rng.choice(["primary"] * 8 + ["backup", "refused"]),
                    "status": rng.choice(["ok"] * 8 + ["upstream_error", "refused"]),
                    "latency_ms": rng.choice([None, 0.0, 40.0 + i % 500]), "tokens_in": 20, "tokens_out": 200,
                    "input": {"blocked": False, "categories": ["A1"] if bad else []},
                    "output": {"blocked": bad, "categories": ["B2"] if bad else [], "compliance_risk": rng.choice([None, True, False])}})
    return json.dumps(out).encode()


def _run(db_path, python: bool) -> dict:
    code = f"""
import json, random, sys
from datetime import UTC, datetime, timedelta
sys.path.insert(0, {str(os.getcwd())!r})
from fenghuo.platform.clock import ManualClock
from fenghuo.platform.db import Database
from fenghuo.platform.roles import local_actor
from fenghuo.monitor.ingest import Monitor
from fenghuo.alerts.engine import AlertEngine
from fenghuo.alerts.runtime import config_from_env
from tests.monitor.test_ingest_native import _batch
from fenghuo.monitor import colfold
assert (colfold.NATIVE is None) == {python}
t0 = datetime(2026, 12, 1, 12, tzinfo=UTC)
clock = ManualClock(t0)
db = Database({str(db_path)!r}, clock=clock)
m = Monitor(db); m.start()
eng = AlertEngine(m, config_from_env(m.indicators.window_lengths)); eng.start(background=False)
services = sorted(m.directory.services)
rng = random.Random(7)
for k in range(12):
    if k:
        clock.advance(7)
    t = clock.now()
    r = m.ingest_body(_batch(services, k, t, rng), local_actor())
    assert r.accepted == 1000, r.to_dict()
now = clock.now().timestamp()
snap = {{s: m.indicators.snapshot(s, now) for s in services}}
open_ = sorted((w.service, w.alert, w.state, w.level.value) for w, _ in eng.open.values())
base = {{k: [a.mean.tolist(), a.var.tolist(), a.n.tolist()] for k, a in eng.screen.base.items()}}
summ = sorted((s, start, [getattr(b, c) for c in __import__("fenghuo.monitor.window", fromlist=["COUNTERS"]).COUNTERS],
               dict(b.in_categories), dict(b.out_categories), None if b.hist is None else (b.hist.count, b.hist.zeros))
              for (s, start), b in m.summaries._take().items())
print(json.dumps({{"snap": snap, "open": open_, "base": base, "summaries": summ}}, sort_keys=True, default=str))
"""
    env = dict(os.environ)
    if python:
        env["FENGHUO_NATIVE"] = "0"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout)


@needs_native
def test_ingest_runs_give_the_same_indicators_warnings_and_summaries(tmp_path):
    """Two runs of the same batches (distinct and repeated services, one instant and spread
    times, violations with categories, complaints, refusals, errors) through ``ingest_body``
    with the default rule packs, one with the kernel and one with ``FENGHUO_NATIVE=0``: every
    service's snapshot, the open warnings, the baselines and the hourly summaries are equal."""
    import shutil

    from fenghuo.control import services as registry
    from fenghuo.demo.fleet import batches
    from fenghuo.platform.db import Database
    from fenghuo.platform.roles import local_actor
    from fenghuo.registry.spec import RegistrationFile

    db = Database(str(tmp_path / "a.db"))
    db.upgrade()
    parts = list(batches(300))
    registry.register(db, local_actor(), RegistrationFile(jurisdictions=parts[0].jurisdictions, providers=parts[0].providers))
    for b in parts:
        registry.register(db, local_actor(), RegistrationFile(services=b.services))
    db.dispose()
    shutil.copy(tmp_path / "a.db", tmp_path / "b.db")
    native, python = _run(tmp_path / "a.db", False), _run(tmp_path / "b.db", True)
    assert native["open"], "the batches should raise some warnings"
    assert native == python


def test_times_with_zones_fall_back_alike():
    """A batch whose times carry different zones (not one instant) takes the per-event times;
    the kernel's part is the same either way (covered above); here only that it runs."""
    t = datetime.fromtimestamp(T0, timezone(timedelta(hours=8)))
    events = [WireEvent(id=f"z{i}", type=EventType.call, service=f"s{i}", time=t if i % 2 else t.astimezone(UTC),
                        instance="g", latency_ms=5.0) for i in range(50)]
    f = colfold._per_event(events, [e.service for e in events], T0 + 1)
    assert int(f.counts[:, colfold.COL["calls"]].sum()) == 50
