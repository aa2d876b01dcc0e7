"""A batch folded into columns: one row of counts per (service, second), for the column store
(monitor.columns) and the hourly summaries.

Two ways to the same ``Folded``: a batch that touches few services goes through ``partials``
(fold.py: C-level ``list.count`` per service, the cheapest when a service has hundreds of
events), and its few buckets become rows; a batch spread over many services (issue 19: one
event per service) is folded per event into columns with one list comprehension per field and
summed per (service, second) with ``np.add.reduceat`` — no Python object per service.
``tests/monitor/test_columns.py`` holds both equal to each other and to the bucket fold.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

import numpy as np

from fenghuo.monitor.fold import epochs, partials, time_range
from fenghuo.monitor.schema import CallStatus, EventType, Route
from fenghuo.monitor.window import COUNTERS, ZERO_KEY, Bucket, LogHistogram
from fenghuo.monitor.wire import WireEvent

NC = len(COUNTERS)
LAT_N, LAT_ZEROS = NC, NC + 1  # latencies counted, of which zero: columns after the counters
NCOL = NC + 2
COL = {c: i for i, c in enumerate(COUNTERS)}
FEW_SERVICES = 32  # at most this many services in a batch: the per-service fold (fold.py)

_CALL, _COMPLAINT, _FACTUAL = EventType.call, EventType.complaint, EventType.factual_error
_NOTE, _SIGNAL = EventType.operator_note, EventType.external_signal
_REFUSED_STATUS, _BACKUP, _REFUSED_ROUTE = CallStatus.refused, Route.backup, Route.refused
_UP_ERROR, _UP_TIMEOUT = CallStatus.upstream_error, CallStatus.upstream_timeout
_counters = attrgetter(*COUNTERS)
_EMPTY = np.zeros(0, dtype=np.int64)


@dataclass
class Folded:
    """``services[g]``, ``seconds[g]``, ``counts[g]`` per group (service, second); latency bins
    as (group, key, count) with non-zero keys only (zeros are in the LAT_ZEROS column);
    categories as (group, side, Counter) (rare); ``seen``: latest state per guard instance (or
    None, and the events to read them from with ``merge_latest``)."""

    services: list[str]
    seconds: np.ndarray
    counts: np.ndarray
    hist_group: np.ndarray
    hist_key: np.ndarray
    hist_count: np.ndarray
    cats: list[tuple[int, str, Counter]]
    seen: dict[str, dict[str, list[Any]]] | None  # service -> instance -> [last seen, version, state, failsafe]
    events: list[WireEvent] | None = None  # seen is None: instances are read from these (instances.latest_of)
    times: np.ndarray | None = None  # each event's time (clamped to now), or None when all are ``same_time``
    event_services: list[str] | None = None  # each event's service
    same_time: float | None = None

    def bucket(self, g: int) -> Bucket:
        """Group g as a ``Bucket`` (the summaries' and the tests' form)."""
        b = Bucket()
        for c, v in zip(COUNTERS, self.counts[g, :NC].tolist()):
            setattr(b, c, v)
        for gg, side, cats in self.cats:
            if gg == g:
                b.own_categories(side).update(cats)
        n = int(self.counts[g, LAT_N])
        if n:
            h = LogHistogram()
            h.count, h.zeros = n, int(self.counts[g, LAT_ZEROS])
            m = self.hist_group == g
            if m.any():
                keys, cnt = self.hist_key[m], self.hist_count[m]
                h.offset = int(keys.min())
                h.counts = np.bincount(keys - h.offset, weights=cnt, minlength=0).astype(np.int64)
            b.hist = h
        return b


def fold_columns(events: list[WireEvent], now: float) -> Folded:
    services = [e.service for e in events]
    first = services[0]
    if services.count(first) == len(services) or len(set(services)) <= FEW_SERVICES:
        return _from_partials(events, now)
    return _per_event(events, services, now)


def _from_partials(events: list[WireEvent], now: float) -> Folded:
    parts, seen = partials(events, now)
    counts = np.zeros((len(parts), NCOL), dtype=np.int64)
    hg, hk, hc, cats = [], [], [], []
    for g, (_s, _sec, p) in enumerate(parts):
        counts[g, :NC] = _counters(p)
        h = p.hist
        if h is not None and h.count:
            counts[g, LAT_N], counts[g, LAT_ZEROS] = h.count, h.zeros
            nz = np.flatnonzero(h.counts)
            if nz.size:
                hg.append(np.full(nz.size, g, dtype=np.int64))
                hk.append(nz + h.offset)
                hc.append(h.counts[nz])
        if p.in_categories:
            cats.append((g, "in", Counter(p.in_categories)))
        if p.out_categories:
            cats.append((g, "out", Counter(p.out_categories)))
    cat = (lambda xs: np.concatenate(xs).astype(np.int64)) if hg else (lambda xs: _EMPTY)
    return Folded([s for s, _, _ in parts], np.array([sec for _, sec, _ in parts], dtype=np.int64), counts,
                  cat(hg), cat(hk), cat(hc), cats, seen)


def _col(xs: list) -> np.ndarray:
    return np.fromiter(xs, dtype=np.int64, count=len(xs))


def _per_event(events: list[WireEvent], services: list[str], now: float) -> Folded:
    n = len(events)
    span = time_range(events)
    same = None
    if span is not None and span[1] <= now and int(span[0]) == int(span[1]):
        secs = np.full(n, int(span[0]), dtype=np.int64)
        times = None
        if span[0] == span[1]:
            same = span[0]  # one time for the whole batch (a guard's batch of one instant)
    else:
        times = np.minimum(epochs(events), now)
        secs = times.astype(np.int64)  # truncation, as int(t)
    ev = np.zeros((n, NCOL), dtype=np.int64)
    types = [e.type for e in events]
    is_call = [t is _CALL for t in types]
    ncalls = sum(is_call)
    if ncalls != n:
        ev[:, COL["complaints"]] = _col([t is _COMPLAINT for t in types])
        ev[:, COL["factual_errors"]] = _col([t is _FACTUAL for t in types])
        ev[:, COL["operator_notes"]] = _col([t is _NOTE for t in types])
        ev[:, COL["external_signals"]] = _col([t is _SIGNAL for t in types])
    cats: list[tuple[int, str, Counter]] = []  # per event here; regrouped below
    lat_rows: list[int] = []
    lat_vals: list[float] = []
    if ncalls:
        idx = [i for i, c in enumerate(is_call) if c] if ncalls != n else list(range(n))
        calls = [events[i] for i in idx] if ncalls != n else events
        rows = np.array(idx, dtype=np.int64)
        st = [e.status for e in calls]
        rt = [e.route for e in calls]
        ev[rows, COL["calls"]] = 1
        ev[rows, COL["refusals"]] = _col([s is _REFUSED_STATUS or r is _REFUSED_ROUTE for s, r in zip(st, rt)])
        ev[rows, COL["errors"]] = _col([r is not _REFUSED_ROUTE and (s is _UP_ERROR or s is _UP_TIMEOUT) for s, r in zip(st, rt)])
        ev[rows, COL["backup"]] = _col([r is _BACKUP for r in rt])
        ev[rows, COL["failsafe"]] = _col([e.failsafe for e in calls])
        ev[rows, COL["tokens_in"]] = _col([e.tokens_in or 0 for e in calls])
        ev[rows, COL["tokens_out"]] = _col([e.tokens_out or 0 for e in calls])
        for side in ("in", "out"):
            checks = [e.input for e in calls] if side == "in" else [e.output for e in calls]
            if checks.count(None) == len(checks):
                continue
            ev[rows, COL[f"{side}_checked"]] = _col([c is not None for c in checks])
            bad = [c is not None and bool(c.blocked or c.categories) for c in checks]
            if any(bad):
                ev[rows, COL[f"{side}_violations"]] = _col(bad)
                for i, c, b in zip(idx, checks, bad):
                    if b and c.categories:
                        cats.append((i, side, Counter(c.categories)))
                if side == "out":
                    ev[rows, COL["out_blocked"]] = _col([b and c.blocked for c, b in zip(checks, bad)])
            if side == "out":
                ev[rows, COL["out_masked"]] = _col([c is not None and bool(c.masked) for c in checks])
                ev[rows, COL["out_judged"]] = _col([c is not None and c.compliance_risk is not None for c in checks])
                ev[rows, COL["out_compliance"]] = _col([c is not None and c.compliance_risk is True for c in checks])
                ev[rows, COL["out_answer_refused"]] = _col([c is not None and c.refused is True for c in checks])
        lat = [e.latency_ms for e in calls]
        if lat.count(None) == len(lat):
            pass
        elif None in lat:
            lat_rows = [i for i, v in zip(idx, lat) if v is not None]
            lat_vals = [v for v in lat if v is not None]
        else:
            lat_rows, lat_vals = idx, lat
    keys = _EMPTY
    if lat_vals:
        lr = np.array(lat_rows, dtype=np.int64)
        keys = LogHistogram.keys(np.array(lat_vals, dtype=np.float64))
        ev[lr, LAT_N] = 1
        ev[lr, LAT_ZEROS] = keys == ZERO_KEY
    # group by (service, second): sort, then sum each run of equal keys
    code: dict[str, int] = {}
    sc = np.fromiter((code.setdefault(s, len(code)) for s in services), dtype=np.int64, count=n)
    lo = int(secs.min())
    gkey = sc * (int(secs.max()) - lo + 1) + (secs - lo)
    order = np.argsort(gkey, kind="stable")
    sk = gkey[order]
    starts = np.flatnonzero(np.r_[True, sk[1:] != sk[:-1]])
    group_of = np.empty(n, dtype=np.int64)
    group_of[order] = np.cumsum(np.r_[True, sk[1:] != sk[:-1]]) - 1
    counts = np.add.reduceat(ev[order], starts, axis=0) if len(starts) < n else ev[order]
    # an answer refused is counted only where something was judged (as fold._checks)
    j, r = COL["out_judged"], COL["out_answer_refused"]
    counts[counts[:, j] == 0, r] = 0
    first_ev = order[starts]
    names = list(code)
    g_services = [names[c] for c in sc[first_ev].tolist()]
    g_seconds = secs[first_ev]
    hg = hk = hc = _EMPTY
    if lat_vals:
        nz = keys != ZERO_KEY
        hg, hk = group_of[np.array(lat_rows, dtype=np.int64)[nz]], keys[nz]
        hc = np.ones(hk.size, dtype=np.int64)
    gcats = [(int(group_of[i]), side, c) for i, side, c in cats]
    return Folded(g_services, g_seconds, counts, hg, hk, hc, gcats, None, events, times, services, same)
