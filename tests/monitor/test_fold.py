"""The indicator fold against a plain reference model, on random batches.

The reference is written for clarity, not speed: for each window it keeps the events whose
second falls in a bucket the window still holds, and counts them one by one with the rules of
docs/monitoring.md. Whatever ``Indicators.apply`` does to be fast (batch folding, columnar
counts, a log-bucket histogram instead of per-event sketch inserts), every counter, category,
guard instance and quantile must agree with it; quantiles within the sketch's documented relative
accuracy of the exact value at the same rank.
"""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta, timezone

import pytest

from fenghuo.monitor.indicators import Indicators
from fenghuo.monitor.schema import CallStatus, EventType, Route
from fenghuo.monitor.window import BUCKETS_PER_WINDOW, COUNTERS, RELATIVE_ACCURACY
from fenghuo.monitor.wire import WireCheck, WireEvent

WINDOWS = {"1m": 60.0, "5m": 300.0, "1h": 3600.0}
T0 = 1_790_000_000.0


def _check(rng: random.Random) -> WireCheck | None:
    r = rng.random()
    if r < 0.2:
        return None
    if r < 0.8:
        return WireCheck()
    cats = rng.sample(["A1", "A2", "B1", "C3"], rng.randint(0, 2))
    return WireCheck(blocked=rng.random() < 0.5, categories=cats)


def random_event(rng: random.Random, n: int, now: float) -> WireEvent:
    t = now + rng.choice([0.0, -0.4, -1.2, -3.7, -30.5, -61.0, -299.0, -400.0, -3599.0, -3700.0, 2.5, 250.0])
    t += rng.random() * 0.9
    when = datetime.fromtimestamp(t, UTC)
    if rng.random() < 0.1:
        when = when.replace(tzinfo=None)  # a time without a zone is UTC
    elif rng.random() < 0.1:
        when = when.astimezone(timezone(timedelta(hours=8)))
    typ = rng.choice([EventType.call] * 6 + list(EventType))
    lat = rng.choice([None, 0.0, 0.004, 1e-9, round(rng.lognormvariate(5, 1.5), 3), round(rng.uniform(1, 20000), 2)])
    return WireEvent(
        id=f"e{n}", type=typ, service=rng.choice(["a", "b", "c"]), time=when,
        instance=rng.choice([None, "g0", "g1", "g2"]), state=rng.choice([None, "running", "paused"]),
        state_version=rng.choice([None, 1, 2, 3]), failsafe=rng.random() < 0.1,
        route=rng.choice([None, *Route]), status=rng.choice([None, *CallStatus]), latency_ms=lat,
        tokens_in=rng.choice([None, 0, 10, 2000]), tokens_out=rng.choice([None, 0, 7]),
        input=_check(rng), output=_check(rng))


def _epoch(e: WireEvent) -> float:
    t = e.time if e.time.tzinfo is not None else e.time.replace(tzinfo=UTC)
    return t.timestamp()


class Reference:
    """Every event applied so far with its (clamped) time; windows computed on demand."""

    def __init__(self) -> None:
        self.events: list[tuple[float, float, WireEvent]] = []  # (time, applied at, event)

    def apply(self, events: list[WireEvent], now: float) -> None:
        self.events += [(min(_epoch(e), now), now, e) for e in events]

    def window(self, service: str, length: float, now: float) -> dict:
        width = max(1.0, length / BUCKETS_PER_WINDOW)
        oldest = int((now - length) // width) + 1
        # a bucket is dropped for good once it falls out: an event is counted if its bucket was
        # inside the window when it was applied and still is now
        keep = [(t, e) for t, at, e in self.events if e.service == service
                and int(int(t) // width) >= max(oldest, int((at - length) // width) + 1)]
        c = dict.fromkeys(COUNTERS, 0)
        cats = {"in": {}, "out": {}}
        lats = []
        for _t, e in keep:
            if e.type is EventType.call:
                c["calls"] += 1
                if e.status is CallStatus.refused or e.route is Route.refused:
                    c["refusals"] += 1
                elif e.status in (CallStatus.upstream_error, CallStatus.upstream_timeout):
                    c["errors"] += 1
                c["backup"] += e.route is Route.backup
                c["failsafe"] += e.failsafe
                for side, chk in (("in", e.input), ("out", e.output)):
                    if chk is None:
                        continue
                    c[f"{side}_checked"] += 1
                    if chk.blocked or chk.categories:
                        c[f"{side}_violations"] += 1
                        for k in chk.categories:
                            cats[side][k] = cats[side].get(k, 0) + 1
                        if side == "out" and chk.blocked:
                            c["out_blocked"] += 1
                if e.latency_ms is not None:
                    lats.append(e.latency_ms)
                c["tokens_in"] += e.tokens_in or 0
                c["tokens_out"] += e.tokens_out or 0
            else:
                name = {EventType.complaint: "complaints", EventType.factual_error: "factual_errors",
                        EventType.operator_note: "operator_notes", EventType.external_signal: "external_signals"}[e.type]
                c[name] += 1
        return {"counters": c, "cats": cats, "latencies": sorted(lats)}

    def instances(self, service: str) -> dict:
        out: dict[str, list] = {}
        for t, _at, e in self.events:
            if e.service == service and e.instance is not None:
                seen = out.get(e.instance)
                if seen is None or t >= seen[0]:
                    out[e.instance] = [t, e.state_version, e.state, e.failsafe]
        return out


def _compare(ind: Indicators, ref: Reference, now: float) -> None:
    for service in ("a", "b", "c"):
        s = ind.services.get(service)
        if s is None:
            assert not any(e.service == service for _t, _at, e in ref.events)
            continue
        assert s.instances == ref.instances(service)
        for name, length in WINDOWS.items():
            want = ref.window(service, length, now)
            w = s.windows[name]
            w.expire(now)
            got = {k: getattr(w.total, k) for k in COUNTERS}
            assert got == want["counters"], (service, name)
            assert dict(w.total.in_categories) == want["cats"]["in"], (service, name)
            assert dict(w.total.out_categories) == want["cats"]["out"], (service, name)
            lats = want["latencies"]
            for q, ind_name in ((0.5, "latency_p50"), (0.95, "latency_p95"), (0.99, "latency_p99")):
                value, samples = ind.value(service, ind_name, name, None, now)
                assert samples == len(lats)
                if not lats:
                    assert value == 0.0
                    continue
                exact = lats[math.floor(q * (len(lats) - 1))]
                assert abs(value - exact) <= RELATIVE_ACCURACY * exact * (1 + 1e-9), (service, name, q, value, exact)


@pytest.mark.parametrize("seed", range(12))
def test_fold_matches_reference(seed):
    rng = random.Random(seed)
    ind, ref = Indicators(WINDOWS), Reference()
    now = T0
    n = 0
    for _ in range(8):
        batch = []
        for _ in range(rng.choice([1, 5, 200, 1000])):
            batch.append(random_event(rng, n, now))
            n += 1
        ind.apply(batch, now)
        ref.apply(batch, now)
        _compare(ind, ref, now)
        now += rng.choice([0.3, 1.0, 7.0, 65.0, 400.0])
    _compare(ind, ref, now)


def test_one_service_one_second_batch():
    """The common shape (one guard's batch: one service, one second) takes the shortcut."""
    rng = random.Random(99)
    ind, ref = Indicators(WINDOWS), Reference()
    batch = []
    for i in range(1000):
        e = random_event(rng, i, T0)
        batch.append(WireEvent(id=e.id, type=EventType.call, service="a",
                               time=datetime.fromtimestamp(T0 - 0.5, UTC), instance=f"g{i % 3}",
                               status=e.status, route=e.route, latency_ms=e.latency_ms, input=e.input, output=e.output))
    for svc in "bc":
        batch.append(WireEvent(id=svc, type=EventType.complaint, service=svc, time=datetime.fromtimestamp(T0, UTC)))
    ind.apply(batch[:1000], T0)
    ind.apply(batch[1000:], T0)
    ref.apply(batch, T0)
    _compare(ind, ref, T0)


def test_histogram_answers_as_ddsketch():
    """Same logarithmic mapping as DDSketch: the same quantiles (or, where float rounding puts
    a value in the neighbouring bucket, within the relative accuracy), and subtraction undoes
    a merge exactly."""
    import numpy as np
    from ddsketch import DDSketch

    from fenghuo.monitor.window import LogHistogram

    rng = np.random.default_rng(7)
    values = np.concatenate([rng.lognormal(5, 2, 5000), [0.0, 0.0, 1e-12, 3e6]])
    sk = DDSketch(RELATIVE_ACCURACY)
    for v in values:
        sk.add(float(v))
    h = LogHistogram.of_keys(LogHistogram.keys(values))
    other = LogHistogram.of_keys(LogHistogram.keys(rng.lognormal(9, 1, 300)))
    h.add(other)
    h.add(other, -1)
    assert h.count == sk.count and h.zeros == 2  # 1e-12 has a bucket; only 0 (and denormals) count as zero
    for q in (0.0, 0.001, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0):
        ours, theirs = h.quantile(q), sk.get_quantile_value(q)
        assert ours == pytest.approx(theirs, rel=2 * RELATIVE_ACCURACY, abs=1e-300), q


@pytest.mark.parametrize("shape", ["in-order", "shuffled", "ties", "naive", "mixed-zones", "future"])
def test_one_second_batches_keep_each_instance_latest(shape):
    """Within one second the fold skips per-event times; the latest event of each guard
    instance (ties: the later one in the batch) must still win, whatever the order."""
    rng = random.Random(shape)
    base = T0 + 0.001
    offsets = [i * 0.0009 for i in range(1000)]
    if shape == "shuffled":
        rng.shuffle(offsets)
    if shape == "ties":
        offsets = [round(o, 1) for o in offsets]
        rng.shuffle(offsets)
    now = base + 2 if shape != "future" else base + 0.5
    batch = []
    for i, o in enumerate(offsets):
        when = datetime.fromtimestamp(base + o, UTC)
        if shape == "naive" or (shape == "mixed-zones" and i % 3 == 0):
            when = when.replace(tzinfo=None) if shape == "naive" else when.astimezone(timezone(timedelta(hours=8)))
        batch.append(WireEvent(id=f"e{i}", type=EventType.call, service="a", time=when, instance=f"g{i % 7}",
                               state_version=i, latency_ms=float(i)))
    for svc in "bc":
        batch.append(WireEvent(id=svc, type=EventType.complaint, service=svc, time=datetime.fromtimestamp(base, UTC)))
    ind, ref = Indicators(WINDOWS), Reference()
    ind.apply(batch, now)
    ref.apply(batch, now)
    _compare(ind, ref, now)
