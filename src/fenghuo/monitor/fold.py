"""Folding a batch of events into one partial ``Bucket`` per (service, second), a batch at a time.

Why not a loop over events: ingest must reach 100,000 events/s on one core, i.e. 10 µs per event
for HTTP, auth, decoding, checks, dedup, indicators and rules together. The per-event loop this
replaces cost ~3.2 µs per event of CPU (measured, 1,000-event batches: ~1.8 µs of it
``DDSketch.add``, the rest attribute increments and branches per event). Here each field is read
once per batch into a list (~15–30 ns per event), counted with C-level ``list.count``/``sum``
and summed latencies go through one ``np.log2``/``np.bincount``; only events that carry a
violation (rare) are visited one by one for their categories.

The semantics are exactly the old loop's (``tests/monitor/test_fold.py`` checks them against a
plain reference model): a call is a refusal if its status is ``refused`` or its route is
``refused``, otherwise an error if the status is an upstream error or timeout; a check side is
a violation if blocked or with categories; an event's time is clamped to ``now`` (allowed clock
skew counts now, not in a future bucket); a guard instance keeps the state of its latest event.
"""

from __future__ import annotations

from datetime import datetime, timezone
from operator import attrgetter
from typing import Any

import numpy as np

from fenghuo.monitor.schema import CallStatus, EventType, Route
from fenghuo.monitor.window import Bucket, LogHistogram
from fenghuo.monitor.wire import WireEvent

_CALL, _COMPLAINT, _FACTUAL = EventType.call, EventType.complaint, EventType.factual_error
_NOTE, _SIGNAL = EventType.operator_note, EventType.external_signal
_REFUSED_STATUS, _BACKUP, _REFUSED_ROUTE = CallStatus.refused, Route.backup, Route.refused
_UP_ERROR, _UP_TIMEOUT = CallStatus.upstream_error, CallStatus.upstream_timeout
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_time = attrgetter("time")


def epochs(events: list[WireEvent]) -> np.ndarray:
    """Event times as UNIX seconds (float64, read-only), equal to ``WireEvent.epoch()`` each.

    ``(t - epoch).total_seconds()`` is what ``datetime.timestamp()`` computes for an aware time;
    a time without a zone (read as UTC) makes the subtraction fail, and the batch then takes
    the per-event path. The answer for the last list asked about is remembered: ingest reads
    the times for its checks and then publishes that very list, whose times the indicators
    need again (~0.2 µs per event saved)."""
    memo = _memo[0]
    if memo is not None and memo[0] is events:
        return memo[1]
    try:
        out = np.array([(t - _EPOCH).total_seconds() for t in map(_time, events)], dtype=np.float64)
    except TypeError:
        out = np.array([e.epoch() for e in events], dtype=np.float64)
    out.flags.writeable = False
    _memo[0] = (events, out)
    return out


_memo: list[tuple[list[WireEvent], np.ndarray] | None] = [None]


def groups(events: list[WireEvent], seconds: np.ndarray) -> list[tuple[str, int, list[WireEvent]]]:
    """Split a batch into (service, second, events) in first-seen order of the batch."""
    n = len(events)
    services = [e.service for e in events]
    first = services[0]
    lo, hi = int(seconds.min()), int(seconds.max())
    if lo == hi and services.count(first) == n:
        return [(first, lo, events)]  # one guard's batch: one service, one second
    codes: dict[str, int] = {}
    code = np.array([codes.setdefault(s, len(codes)) for s in services], dtype=np.int64)
    key = code * (hi - lo + 1) + (seconds - lo)
    uniq, inverse = np.unique(key, return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    bounds = np.searchsorted(inverse[order], np.arange(len(uniq) + 1))
    names = list(codes)
    out = []
    for g, k in enumerate(uniq.tolist()):
        idx = order[bounds[g]:bounds[g + 1]].tolist()
        out.append((names[k // (hi - lo + 1)], lo + k % (hi - lo + 1), [events[i] for i in idx]))
    return out


def fold(events: list[WireEvent]) -> Bucket:
    """The counts of one (service, second) slice of a batch."""
    p = Bucket()
    m = len(events)
    types = [e.type for e in events]
    calls = events
    if types.count(_CALL) != m:
        p.complaints = types.count(_COMPLAINT)
        p.factual_errors = types.count(_FACTUAL)
        p.operator_notes = types.count(_NOTE)
        p.external_signals = types.count(_SIGNAL)
        calls = [e for e, t in zip(events, types) if t is _CALL]
    if not calls:
        return p
    p.calls = len(calls)
    statuses = [e.status for e in calls]
    routes = [e.route for e in calls]
    if routes.count(_REFUSED_ROUTE):
        p.refusals = sum([s is _REFUSED_STATUS or r is _REFUSED_ROUTE for s, r in zip(statuses, routes)])
        p.errors = sum([r is not _REFUSED_ROUTE and (s is _UP_ERROR or s is _UP_TIMEOUT) for s, r in zip(statuses, routes)])
    else:
        p.refusals = statuses.count(_REFUSED_STATUS)
        p.errors = statuses.count(_UP_ERROR) + statuses.count(_UP_TIMEOUT)
    p.backup = routes.count(_BACKUP)
    p.failsafe = sum([e.failsafe for e in calls])
    _checks(p, [e.input for e in calls], "in")
    _checks(p, [e.output for e in calls], "out")
    lat = [e.latency_ms for e in calls]
    if None in lat:
        lat = [x for x in lat if x is not None]
    if lat:
        p.hist = LogHistogram.of_keys(LogHistogram.keys(np.array(lat, dtype=np.float64)))
    p.tokens_in = sum(filter(None, [e.tokens_in for e in calls]))
    p.tokens_out = sum(filter(None, [e.tokens_out for e in calls]))
    return p


def _checks(p: Bucket, checks: list[Any], side: str) -> None:
    checked = len(checks) - checks.count(None)
    if not checked:
        return
    bad = [c for c in checks if c is not None and (c.blocked or c.categories)]
    setattr(p, f"{side}_checked", checked)
    if not bad:
        return
    setattr(p, f"{side}_violations", len(bad))
    cats = p.in_categories if side == "in" else p.out_categories
    for c in bad:
        cats.update(c.categories)
    if side == "out":
        p.out_blocked = sum([c.blocked for c in bad])


def instances(events: list[WireEvent], times: np.ndarray) -> dict[str, dict[str, list[Any]]]:
    """service → instance → [last seen, enforced version, state, failsafe] from the batch's
    latest event of each instance (the later one of equal times)."""
    insts = [e.instance for e in events]
    n = len(events)
    if insts.count(None) == n:
        return {}
    out: dict[str, dict[str, list[Any]]] = {}
    if n == 1 or bool((times[1:] >= times[:-1]).all()):
        # times never go back: the last event of each (service, instance) is its latest
        last = dict(zip(zip([e.service for e in events], insts), range(n)))
        for (service, inst), i in last.items():
            if inst is not None:
                e = events[i]
                out.setdefault(service, {})[inst] = [float(times[i]), e.state_version, e.state, e.failsafe]
        return out
    for e, t in zip(events, times.tolist()):
        if e.instance is not None:
            seen = out.setdefault(e.service, {}).get(e.instance)
            if seen is None or t >= seen[0]:
                out[e.service][e.instance] = [t, e.state_version, e.state, e.failsafe]
    return out
