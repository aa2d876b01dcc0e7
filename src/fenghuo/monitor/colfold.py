"""A batch folded into columns: one row of counts per (service, second), for the column store
(monitor.columns) and the hourly summaries.

Two ways to the same ``Folded``: a batch that touches few services goes through ``partials``
(fold.py: C-level ``list.count`` per service, the cheapest when a service has hundreds of
events), and its few buckets become rows; a batch spread over many services (issue 19: one
event per service) is folded per event into columns with one list comprehension per field and
summed per (service, second) with ``np.add.reduceat`` — no Python object per service.
``tests/monitor/test_columns.py`` holds both equal to each other and to the bucket fold.

With the ingest kernel built (``monitor/_ingestnative.c``, loaded by ``monitor.native``) the
per-event columns are read from the structs in one C pass (``_native_columns``); ``_columns``
is the reference and the fallback (``FENGHUO_NATIVE=0``, or a value the kernel refuses), and
``tests/monitor/test_ingest_native.py`` holds the two equal. With the kernel, ``partials`` is
left to small batches (under ``NATIVE_FROM`` events), whatever their services.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from itertools import repeat
from operator import attrgetter, eq, is_
from typing import Any

import numpy as np

from fenghuo.monitor.fold import epochs, partials, time_range
from fenghuo.monitor.native import KERNEL as NATIVE
from fenghuo.monitor.native import NCOL as _KERNEL_NCOL
from fenghuo.monitor.schema import CallStatus, EventType, Route
from fenghuo.monitor.window import COUNTERS, ZERO_KEY, Bucket, LogHistogram
from fenghuo.monitor.wire import WireCheck, WireEvent

NC = len(COUNTERS)
LAT_N, LAT_ZEROS = NC, NC + 1  # latencies counted, of which zero: columns after the counters
NCOL = NC + 2
COL = {c: i for i, c in enumerate(COUNTERS)}
FEW_SERVICES = 32  # at most this many services in a batch: the per-service fold (fold.py)
# ... unless the kernel is built and the batch has this many events: the kernel's per-event pass
# then costs less whatever the services (measured, 1,000 events: 1 service 0.29 ms against
# 0.73 ms per service, 10 services 0.38 against 1.35 ms; equal at ~70 events, issue 19)
NATIVE_FROM = 64

_CALL, _COMPLAINT, _FACTUAL = EventType.call, EventType.complaint, EventType.factual_error
_NOTE, _SIGNAL = EventType.operator_note, EventType.external_signal
_REFUSED_STATUS, _BACKUP, _REFUSED_ROUTE = CallStatus.refused, Route.backup, Route.refused
_UP_ERROR, _UP_TIMEOUT = CallStatus.upstream_error, CallStatus.upstream_timeout
_counters = attrgetter(*COUNTERS)
_EMPTY = np.zeros(0, dtype=np.int64)
assert NCOL == _KERNEL_NCOL  # the kernel writes rows of this width


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
    slots: np.ndarray | None = None  # ``slots[g]``: the directory slot of ``services[g]``, if known (Indicators.apply)

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


def fold_columns(events: list[WireEvent], now: float, known: tuple[int, Any] | None = None,
                 slots: np.ndarray | None = None, services: list[str] | None = None) -> Folded:
    """``known``: ``(distinct services, time_range(events))`` when the caller has them already
    (ingest checked the batch with both; a second ``set`` of a spread batch's 1,000 names is
    ~0.1 ms, issue 19). ``slots``: each event's directory slot, if known: the groups' slots
    then go with them (``Folded.slots``; not on the per-service path, whose few groups the
    caller looks up). ``services``: each event's service, if the caller has them listed."""
    if services is None:
        services = list(map(_service, events))
    if NATIVE is not None and len(services) >= NATIVE_FROM:
        return _per_event(events, services, now, *(known or ()), ev_slots=slots)
    first = services[0]
    if services.count(first) == len(services):
        return _from_partials(events, now)
    distinct = known[0] if known else len(set(services))
    if distinct <= FEW_SERVICES:
        return _from_partials(events, now)
    return _per_event(events, services, now, distinct, *(known[1:] if known else ()), ev_slots=slots)


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


def _is(xs: list, member: object) -> np.ndarray:
    """``x is member`` for each value, as a bool column (``map`` of ``operator.is_``, in C)."""
    return np.fromiter(map(is_, xs, repeat(member)), dtype=bool, count=len(xs))


def _any_is(xs: list, member: object) -> bool:
    """Whether some value may be ``member``: ``list.count`` (C, identity first, then ``==``)
    is a cheap test that is never wrong when it answers no; a yes is then checked with ``_is``
    (equal str-enum members of two enums compare equal)."""
    return xs.count(member) > 0


_type, _status, _route, _fs = attrgetter("type"), attrgetter("status"), attrgetter("route"), attrgetter("failsafe")
_tin, _tout, _lat = attrgetter("tokens_in"), attrgetter("tokens_out"), attrgetter("latency_ms")
_cin, _cout, _service = attrgetter("input"), attrgetter("output"), attrgetter("service")
_PLAIN = WireCheck()  # a check that found nothing: counted as checked, nothing else


def _ints(xs: list, n: int) -> np.ndarray:
    """``x or 0`` of each value (None → 0)."""
    if None in xs:
        xs = [x or 0 for x in xs]
    return np.fromiter(xs, dtype=np.int64, count=n)


def _checks(ev: np.ndarray, is_call: np.ndarray, side: str, checks: list,
            cats: list[tuple[int, str, Counter]]) -> None:
    """One side's check columns. Only checks that found something (not equal to ``_PLAIN``,
    rare) are read one by one; the others only count as checked."""
    n = len(checks)
    nones = checks.count(None)
    if nones == n:
        return
    has = is_call if not nones else is_call & ~_is(checks, None)
    ev[:, COL[f"{side}_checked"]] = has
    if checks.count(_PLAIN) + nones == n:  # the usual batch: nothing found anywhere
        return
    plain = np.fromiter(map(eq, checks, repeat(_PLAIN)), dtype=bool, count=n)
    odd = np.flatnonzero(has & ~plain).tolist()
    if not odd:
        return
    cs = [checks[i] for i in odd]
    bad = [bool(c.blocked or c.categories) for c in cs]
    if any(bad):
        ev[odd, COL[f"{side}_violations"]] = bad
        for i, c, b in zip(odd, cs, bad):
            if b and c.categories:
                cats.append((i, side, Counter(c.categories)))
        if side == "out":
            ev[odd, COL["out_blocked"]] = [b and c.blocked for c, b in zip(cs, bad)]
    if side == "out":
        ev[odd, COL["out_masked"]] = [bool(c.masked) for c in cs]
        ev[odd, COL["out_judged"]] = [c.compliance_risk is not None for c in cs]
        ev[odd, COL["out_compliance"]] = [c.compliance_risk is True for c in cs]
        ev[odd, COL["out_answer_refused"]] = [c.refused is True for c in cs]


def _columns(events: list[WireEvent], ev: np.ndarray, cats: list[tuple[int, str, Counter]]) -> tuple[np.ndarray, np.ndarray | None]:
    """The per-event counters into ``ev`` (zeros), categories into ``cats``; answers the calls
    with a latency and their latencies. The reference the kernel is held to."""
    n = len(events)
    types = list(map(_type, events))
    is_call = _is(types, _CALL)
    all_calls = bool(is_call.all())
    if not all_calls:
        for col, member in (("complaints", _COMPLAINT), ("factual_errors", _FACTUAL), ("operator_notes", _NOTE),
                            ("external_signals", _SIGNAL)):
            if _any_is(types, member):
                ev[:, COL[col]] = _is(types, member)
    lat_rows = _EMPTY
    lat_vals = None
    if all_calls or is_call.any():
        st, rt = list(map(_status, events)), list(map(_route, events))
        ev[:, COL["calls"]] = is_call
        refused_route = _is(rt, _REFUSED_ROUTE) if _any_is(rt, _REFUSED_ROUTE) else None
        if _any_is(st, _REFUSED_STATUS) or refused_route is not None:
            r = _is(st, _REFUSED_STATUS)
            ev[:, COL["refusals"]] = is_call & (r if refused_route is None else r | refused_route)
        if _any_is(st, _UP_ERROR) or _any_is(st, _UP_TIMEOUT):
            e = is_call & (_is(st, _UP_ERROR) | _is(st, _UP_TIMEOUT))
            ev[:, COL["errors"]] = e if refused_route is None else e & ~refused_route
        if _any_is(rt, _BACKUP):
            ev[:, COL["backup"]] = is_call & _is(rt, _BACKUP)
        fs = list(map(_fs, events))
        if fs.count(False) != n:
            ev[:, COL["failsafe"]] = is_call & np.fromiter(fs, dtype=bool, count=n)
        tin, tout = _ints(list(map(_tin, events)), n), _ints(list(map(_tout, events)), n)
        ev[:, COL["tokens_in"]] = tin if all_calls else np.where(is_call, tin, 0)
        ev[:, COL["tokens_out"]] = tout if all_calls else np.where(is_call, tout, 0)
        _checks(ev, is_call, "in", list(map(_cin, events)), cats)
        _checks(ev, is_call, "out", list(map(_cout, events)), cats)
        lat = list(map(_lat, events))
        if all_calls and None not in lat:
            lat_rows, lat_vals = np.arange(n), np.fromiter(lat, dtype=np.float64, count=n)
        else:
            has = is_call & ~_is(lat, None)
            if has.any():
                lat_rows = np.flatnonzero(has)
                lat_vals = np.array([lat[i] for i in lat_rows.tolist()], dtype=np.float64)
    return lat_rows, lat_vals


def _native_columns(events: list[WireEvent], ev: np.ndarray, cats: list[tuple[int, str, Counter]]) -> tuple[np.ndarray | None, np.ndarray | None]:
    """``_columns`` in one C pass over the structs (``_ingestnative.fold``); (None, None) when
    the kernel refuses the batch (a value it does not handle), which ``_columns`` then decides."""
    n = len(events)
    lat, rows = np.empty(n, dtype=np.float64), np.empty(n, dtype=np.int64)
    try:
        k, odd = NATIVE.fold(events, ev, lat, rows)
    except (TypeError, ValueError, OverflowError):
        ev[:] = 0
        return None, None
    cats += [(i, side, Counter(c)) for i, side, c in odd]
    return (rows[:k], lat[:k]) if k else (_EMPTY, None)


def _per_event(events: list[WireEvent], services: list[str], now: float, distinct: int | None = None,
               span: Any = False, ev_slots: np.ndarray | None = None) -> Folded:
    """Each field read once per batch into a list in C (``map`` of an ``attrgetter``); a column
    that is all one value (the usual: all calls, status ok, nothing found by the checks) is told
    by ``list.count`` and costs nothing more; others are tested as numpy columns. Only checks
    that found something are visited one by one (issue 19: a comprehension per column cost
    ~1.2 ms per 1,000 events). ``distinct``: the number of distinct services, if known;
    ``span``: ``time_range(events)``, if known (False: not known)."""
    n = len(events)
    same = None
    if span is False:
        span = time_range(events)
    if span is not None and span[1] <= now and int(span[0]) == int(span[1]):
        secs = np.full(n, int(span[0]), dtype=np.int64)
        times = None
        if span[0] == span[1]:
            same = span[0]  # one time for the whole batch (a guard's batch of one instant)
    else:
        times = np.minimum(epochs(events), now)
        secs = times.astype(np.int64)  # truncation, as int(t)
    ev = np.zeros((n, NCOL), dtype=np.int64)
    cats: list[tuple[int, str, Counter]] = []  # per event here; regrouped below
    lat_rows, lat_vals = _native_columns(events, ev, cats) if NATIVE is not None else (None, None)
    if lat_rows is None:
        lat_rows, lat_vals = _columns(events, ev, cats)
    keys = _EMPTY
    if lat_vals is not None:
        keys = LogHistogram.keys(lat_vals)
        ev[lat_rows, LAT_N] = 1
        ev[lat_rows, LAT_ZEROS] = keys == ZERO_KEY
    # group by (service, second): sort, then sum each run of equal keys. Services are numbered
    # in order of first appearance with C-level dict operations.
    if distinct is None:
        distinct = len(set(services))
    if distinct == n and times is None:
        # every event its own service, one second: the groups are the events, in order
        order = group_of = np.arange(n)
        counts = ev
        g_services = services
        g_seconds = secs
        g_slots = ev_slots
    else:
        code = dict(zip(dict.fromkeys(services), range(n)))
        sc = np.fromiter(map(code.__getitem__, services), dtype=np.int64, count=n)
        lo = int(secs.min())
        gkey = sc * (int(secs.max()) - lo + 1) + (secs - lo)
        order = np.argsort(gkey, kind="stable")
        sk = gkey[order]
        new_group = np.r_[True, sk[1:] != sk[:-1]]
        starts = np.flatnonzero(new_group)
        group_of = np.empty(n, dtype=np.int64)
        group_of[order] = np.cumsum(new_group) - 1
        counts = np.add.reduceat(ev[order], starts, axis=0) if len(starts) < n else ev[order]
        first_ev = order[starts]
        g_services = [services[i] for i in first_ev.tolist()]
        g_seconds = secs[first_ev]
        g_slots = None if ev_slots is None else ev_slots[first_ev]
    # an answer refused is counted only where something was judged (as fold._checks)
    j, r = COL["out_judged"], COL["out_answer_refused"]
    counts[counts[:, j] == 0, r] = 0
    hg = hk = hc = _EMPTY
    if lat_vals is not None:
        nz = keys != ZERO_KEY
        hg, hk = group_of[lat_rows[nz]], keys[nz]
        hc = np.ones(hk.size, dtype=np.int64)
    gcats = [(int(group_of[i]), side, c) for i, side, c in cats]
    return Folded(g_services, g_seconds, counts, hg, hk, hc, gcats, None, events, times, services, same, g_slots)


def with_watched(counts: np.ndarray, f: Folded, watched: list[int]) -> np.ndarray:
    """``counts`` with one "latencies with key >= K" column per watched key K. When each group
    has at most one latency bin (a spread batch: groups are events), the column is that bin's
    count where its key is high enough, set in place; otherwise each is a ``bincount``."""
    nc, ng = counts.shape[1], counts.shape[0]
    out = np.empty((ng, nc + len(watched)), dtype=np.int64)
    out[:, :nc] = counts
    hg = f.hist_group
    if hg.size > 1 and bool((hg[1:] > hg[:-1]).all()) or hg.size == 1:
        # every key at once, keys × latencies (the latencies the inner axis): a numpy call or
        # three per key had cost 87 µs on a 1,000-service batch with 8 keys, this 25 µs
        cols = (f.hist_key >= np.asarray(watched, dtype=np.int64)[:, None]) * f.hist_count
        if hg.size == ng:  # increasing, one per group: hg is 0, 1, ..., ng - 1
            out[:, nc:] = cols.T
        else:
            out[:, nc:] = 0
            out[hg, nc:] = cols.T
        return out
    for j, key in enumerate(watched):
        m = f.hist_key >= key
        out[:, nc + j] = np.bincount(hg[m], weights=f.hist_count[m], minlength=ng)
    return out
