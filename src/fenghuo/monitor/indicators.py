"""Per-service indicators over sliding windows: what rules read, the API shows and /metrics
exports.

``Indicators.apply`` is the hot path of ingest: it folds a batch into one row of counts per
(service, second) (colfold.py) and adds the rows to each window held column-wise across services
(columns.py), so there is no Python work per service or per window on the way in (issue 19), and
rules can read many services' indicators as arrays (``columns_of``). ``services`` stays a
read-only mapping of per-service views for the API, the console and the tests.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from itertools import compress, repeat
from operator import is_
from typing import Any

import numpy as np

from fenghuo.monitor.colfold import COL, LAT_N, NATIVE, NC, NCOL, Folded, fold_columns
from fenghuo.monitor.columns import ColumnWindow
from fenghuo.monitor.instances import ByService, InstanceStore, State, latest_of
from fenghuo.monitor.window import COUNTERS, Bucket, LogHistogram, Window
from fenghuo.monitor.wire import WireEvent

DEFAULT_WINDOWS = {"1m": 60.0, "5m": 300.0, "1h": 3600.0}
LIVE_INSTANCE_SECONDS = 60.0  # a guard instance is "live" if it reported within this time


def _ratio(num: float, den: float) -> tuple[float, float]:
    return (num / den if den else 0.0), den


def _quantile(q: float) -> Callable[[Bucket, Window, str | None], tuple[float, float]]:
    def read(total: Bucket, window: Window, _c: str | None) -> tuple[float, float]:
        return window.quantile(q)
    return read


@dataclass(frozen=True)
class IndicatorDef:
    name: str
    kind: str  # "rate" (0..1), "count", "ms"
    read: Callable[[Bucket, Window, str | None], tuple[float, float]]
    by_category: bool = False
    help: str = ""


def _violations(side: str) -> Callable[[Bucket, Window, str | None], tuple[float, float]]:
    def read(t: Bucket, _w: Window, category: str | None) -> tuple[float, float]:
        checked = getattr(t, f"{side}_checked")
        if category:
            return _ratio(getattr(t, f"{side}_categories").get(category, 0), checked)
        return _ratio(getattr(t, f"{side}_violations"), checked)
    return read


# The catalogue: a rule may only name an indicator listed here (so `rules check` can refuse
# a condition that nothing measures). ``samples`` is what min_samples is compared with.
CATALOGUE: dict[str, IndicatorDef] = {d.name: d for d in [
    IndicatorDef("calls", "count", lambda t, w, c: (t.calls, t.calls), help="model calls / 调用次数"),
    IndicatorDef("refusals", "count", lambda t, w, c: (t.refusals, t.calls), help="refused calls / 拒绝次数"),
    IndicatorDef("refusal_rate", "rate", lambda t, w, c: _ratio(t.refusals, t.calls), help="share of calls refused / 拒答率"),
    IndicatorDef("error_rate", "rate", lambda t, w, c: _ratio(t.errors, t.calls), help="upstream errors and timeouts / 错误率"),
    IndicatorDef("backup_share", "rate", lambda t, w, c: _ratio(t.backup, t.calls), help="share served by the backup model / 备份承载比例"),
    IndicatorDef("failsafe_share", "rate", lambda t, w, c: _ratio(t.failsafe, t.calls), help="share decided on a guard's fail-safe / 失效保护比例"),
    IndicatorDef("input_violation_rate", "rate", _violations("in"), True, "inputs flagged by the checks / 输入违规率"),
    IndicatorDef("output_violation_rate", "rate", _violations("out"), True, "outputs flagged by the checks / 输出违规率"),
    # Masking is not a violation (issue 12 item 7): PII the guard masked has its own rate.
    IndicatorDef("output_masked_rate", "rate", lambda t, w, c: _ratio(t.out_masked, t.out_checked),
                 help="outputs with something masked (PII) / 输出脱敏率"),
    # Answers judged in the context of their prompt (issue 12 item 5): of the answers the model
    # gave (judged, not refused), the share that complied with a harmful request.
    IndicatorDef("risky_compliance_rate", "rate", lambda t, w, c: _ratio(t.out_compliance, t.out_judged - t.out_answer_refused),
                 help="answered calls that complied with a harmful request / 有害请求顺从率"),
    IndicatorDef("answer_refusal_rate", "rate", lambda t, w, c: _ratio(t.out_answer_refused, t.out_judged),
                 help="judged answers in which the model refused / 模型拒答率"),
    IndicatorDef("latency_p50", "ms", _quantile(0.50), help="latency median, ms / 延迟中位数"),
    IndicatorDef("latency_p95", "ms", _quantile(0.95), help="latency p95, ms"),
    IndicatorDef("latency_p99", "ms", _quantile(0.99), help="latency p99, ms"),
    IndicatorDef("complaints", "count", lambda t, w, c: (t.complaints, t.complaints), help="user complaints / 投诉"),
    IndicatorDef("factual_errors", "count", lambda t, w, c: (t.factual_errors, t.factual_errors), help="factual-error reports / 事实性错误报告"),
]}


def quantile_of(indicator: str) -> float:
    """The quantile a latency indicator reads (latency_p99 → 0.99)."""
    return float(indicator.rpartition("_p")[2]) / 100


def bucket_of(counts: np.ndarray, cats: tuple | None, hist: LogHistogram | None = None) -> Bucket:
    b = Bucket()
    for c, v in zip(COUNTERS, counts[:NC].tolist()):
        setattr(b, c, v)
    if cats is not None:
        if cats[0]:
            b.own_categories("in").update(cats[0])
        if cats[1]:
            b.own_categories("out").update(cats[1])
    b.hist = hist
    return b


class WindowView:
    """One window of one service, as the per-service ``Window`` read: ``total`` (a Bucket built
    from the row), ``quantile``, ``expire``."""

    __slots__ = ("cw", "row", "length")

    def __init__(self, cw: ColumnWindow, row: int | None) -> None:
        self.cw, self.row, self.length = cw, row, cw.length

    def expire(self, now: float) -> None:
        self.cw.expire(now)

    @property
    def total(self) -> Bucket:
        if self.row is None:
            return Bucket()
        return bucket_of(self.cw.total[self.row], self.cw.cats.get(self.row), self.cw.hist(self.row))

    def quantile(self, q: float) -> tuple[float, int]:
        h = self.cw.hist(self.row) if self.row is not None else None
        if h is None or h.count == 0:
            return 0.0, 0
        return float(h.quantile(q) or 0.0), h.count


class _CountersOnly(WindowView):
    """A view whose ``total`` skips the histogram (the non-latency reads)."""

    __slots__ = ()

    @property
    def total(self) -> Bucket:
        return bucket_of(self.cw.total[self.row], self.cw.cats.get(self.row)) if self.row is not None else Bucket()


class ServiceView:
    """The windows and guard instances of one service (a view of the column store)."""

    __slots__ = ("ind", "service", "row")

    def __init__(self, ind: Indicators, service: str, row: int | None) -> None:
        self.ind, self.service, self.row = ind, service, row

    @property
    def windows(self) -> dict[str, WindowView]:
        return {name: WindowView(cw, self.row) for name, cw in self.ind.windows.items()}

    @property
    def instances(self) -> dict[str, list[Any]]:
        """instance -> [last seen (epoch), enforced state version, state, failsafe] (a copy)."""
        return {k: list(v) for k, v in self.ind.instances_of(self.service).items()}

    @property
    def last_applied(self) -> float:
        return float(self.ind.last_applied[self.row]) if self.row is not None else 0.0

    def expire(self, now: float) -> None:
        for cw in self.ind.windows.values():
            cw.expire(now)

    def value(self, indicator: str, window: str, category: str | None, now: float) -> tuple[float, float]:
        cw = self.ind.windows[window]
        cw.expire(now)
        d = CATALOGUE[indicator]
        if d.kind == "ms":
            return WindowView(cw, self.row).quantile(quantile_of(indicator))
        v = _CountersOnly(cw, self.row)
        return d.read(v.total, v, category)  # type: ignore[arg-type]

    def live_instances(self, now: float, within: float = LIVE_INSTANCE_SECONDS) -> dict[str, list[Any]]:
        return {k: list(v) for k, v in self.ind.instances_of(self.service).items() if v[0] >= now - within}

    def snapshot(self, now: float) -> dict[str, Any]:
        out: dict[str, Any] = {"service": self.service, "windows": {}}
        for name, w in self.windows.items():
            w.expire(now)
            t = w.total
            vals = {d.name: CATALOGUE[d.name].read(t, w, None)[0] for d in CATALOGUE.values()}  # type: ignore[arg-type]
            vals["input_violations_by_category"] = dict(t.in_categories)
            vals["output_violations_by_category"] = dict(t.out_categories)
            vals["guard_instances"] = len(self.live_instances(now, w.length))
            out["windows"][name] = {k: (round(v, 6) if isinstance(v, float) else v) for k, v in vals.items()}
        live = self.live_instances(now)
        versions: dict[str, int] = {}
        for _seen, version, _state, _fs in live.values():
            versions[str(version)] = versions.get(str(version), 0) + 1
        out["guards"] = {"live": len(live), "enforced_versions": versions,
                         "failsafe": sum(1 for v in live.values() if v[3])}
        return out


class _Services(Mapping[str, ServiceView]):
    """``Indicators.services``: service → view, for the services that have a row."""

    def __init__(self, ind: Indicators) -> None:
        self.ind = ind

    def __getitem__(self, service: str) -> ServiceView:
        return ServiceView(self.ind, service, self.ind.row_of[service])

    def __iter__(self):
        return iter(list(self.ind.row_of))

    def __len__(self) -> int:
        return len(self.ind.row_of)

    def __contains__(self, service: object) -> bool:
        return service in self.ind.row_of


def _latest(f: Folded, now: float) -> tuple[dict[tuple[str, str], State], float, float] | None:
    """The batch's latest state per guard instance (instances.py), from either fold."""
    if f.seen is None:
        return latest_of(f.event_services, f.events, f.times, f.same_time, now)  # type: ignore[arg-type]
    batch = {(s, k): tuple(v) for s, inst in f.seen.items() for k, v in inst.items()}
    if not batch:
        return None
    ts = [v[0] for v in batch.values()]
    return batch, min(ts), max(ts)  # type: ignore[return-value]


def _with_watched(counts: np.ndarray, f: Folded, watched: list[int]) -> np.ndarray:
    """``counts`` with one "latencies with key >= K" column per watched key K. When each group
    has at most one latency bin (a spread batch: groups are events), the column is that bin's
    count where its key is high enough, set in place; otherwise each is a ``bincount``."""
    nc = counts.shape[1]
    out = np.empty((counts.shape[0], nc + len(watched)), dtype=np.int64)
    out[:, :nc] = counts
    hg = f.hist_group
    if hg.size > 1 and bool((hg[1:] > hg[:-1]).all()) or hg.size == 1:
        out[:, nc:] = 0
        for j, key in enumerate(watched):
            out[hg, nc + j] = f.hist_count * (f.hist_key >= key)
        return out
    for j, key in enumerate(watched):
        m = f.hist_key >= key
        out[:, nc + j] = np.bincount(hg[m], weights=f.hist_count[m], minlength=counts.shape[0])
    return out


class Indicators:
    """All services' indicators; thread-safe (the ingest handler writes, rules and API read).

    Memory is bounded by configuration, not by the events counted (issue 19): a service whose
    last batch is older than the longest window (plus the live-instance time) has empty windows
    and no live instance, so it reads exactly as a service never seen, and a sweep every
    ``SWEEP_SECONDS`` drops it (its row is cleared and reused); ``max_services`` (optional) also
    bounds how many are kept, dropping the least recently updated first. ``generation[row]``
    changes whenever a row is given to another service, so state kept per row elsewhere (rule
    baselines) can tell."""

    SWEEP_SECONDS = 30.0

    def __init__(self, windows: dict[str, float] | None = None, max_services: int | None = None) -> None:
        self.window_lengths = dict(windows or DEFAULT_WINDOWS)
        cap = 256
        self.windows = {name: ColumnWindow(length, cap, NCOL) for name, length in self.window_lengths.items()}
        self.row_of: dict[str, int] = {}
        self.last_applied = np.zeros(cap, dtype=np.float64)
        self.generation = np.zeros(cap, dtype=np.int64)
        self._free: list[int] = []
        self._next = 0
        # guard instances: (service, instance) -> (seen, version, state, failsafe), one flat dict
        # (see instances.py for why flat; ``instances`` reads it per service)
        self.guards = InstanceStore()
        self.watched: list[int] = []  # latency keys with a "≥ key" column (NCOL + i)
        self.services = _Services(self)
        self.lock = threading.RLock()
        self.events_applied = 0
        self.max_services = max_services
        self.idle_seconds = max(self.window_lengths.values(), default=0.0) + LIVE_INSTANCE_SECONDS
        self.evicted_total = 0
        self._swept_at = 0.0
        # (events, services, rows, one group per service) of the batch last applied: the rules'
        # pass that follows it on the bus takes them (batch_rows) instead of rebuilding the set
        # of services from the events and looking each row up again (issue 19)
        self._batch: tuple | None = None

    # -- rows ------------------------------------------------------------------------------------
    @property
    def instances(self) -> ByService:
        """service → {instance → (last seen, version, state, failsafe)} (read-only)."""
        return ByService(self.guards)

    def instances_of(self, service: str) -> dict[str, tuple]:
        return self.guards.of(service)

    def rows_for(self, services: list[str]) -> np.ndarray:
        """The row of each service, new services given rows all at once (issue 19: at 100,000
        services every service of a spread batch is new; a Python call per service to find or
        make its row was a tenth of the batch). Call under ``lock``."""
        try:  # every service has a row (the usual): C-level lookups straight into the array
            return np.fromiter(map(self.row_of.get, services), dtype=np.int64, count=len(services))
        except TypeError:
            got = list(map(self.row_of.get, services))
        if None in got:
            new = list(dict.fromkeys(compress(services, map(is_, got, repeat(None)))))  # in C
            take = min(len(new), len(self._free))
            rows = [self._free.pop() for _ in range(take)]
            if len(new) > take:
                start = self._next
                self._next += len(new) - take
                if self._next > self.last_applied.size:
                    cap = self.last_applied.size
                    while cap < self._next:
                        cap *= 2
                    self._grow(cap)
                rows += range(start, self._next)
            self.row_of.update(zip(new, rows))
            if not take and len(new) == len(services):
                # every service new, once each, on fresh rows (a spread batch at 100,000
                # services): the rows are a range, in the batch's order
                self.generation[start:self._next] += 1
                return np.arange(start, self._next, dtype=np.int64)
            self.generation[np.array(rows, dtype=np.int64)] += 1
            got = list(map(self.row_of.__getitem__, services))
        return np.array(got, dtype=np.int64)

    def reserve(self, services: int) -> None:
        """Room for ``services`` rows up front (``Monitor.start``: the directory's count, capped
        by ``max_services``). Growing by doubling while a fleet's services arrive copied every
        window's matrix each time: at 100,000 services (all new within a run) ~3 ms per 1,000-event
        batch on average, 60 ms for one batch, of a ~10 ms batch. ``np.zeros`` takes untouched
        pages from the kernel, so the reserve costs address space, not resident memory, until
        rows are used."""
        if self.max_services:
            services = min(services, self.max_services)
        with self.lock:
            if services > self.last_applied.size:
                self._grow(services)

    def _grow(self, cap: int) -> None:
        for a in ("last_applied", "generation"):
            old = getattr(self, a)
            new = np.zeros(cap, dtype=old.dtype)
            new[:old.size] = old
            setattr(self, a, new)
        for cw in self.windows.values():
            cw.grow(cap)

    def watch_latency(self, key: int) -> int:
        """A column counting latencies with bin key ≥ ``key`` in every window (for rules on a
        latency quantile, see alerts.vector); returns its column."""
        with self.lock:
            if key not in self.watched:
                self.watched.append(key)
                for cw in self.windows.values():
                    cw.add_column(key)
            return NCOL + self.watched.index(key)

    def evict(self, now: float) -> int:
        """Drop services idle past every window (and, over ``max_services``, the stalest)."""
        with self.lock:
            names = list(self.row_of)
            rows = np.fromiter(self.row_of.values(), dtype=np.int64, count=len(names))
            seen = self.last_applied[rows]
            drop = seen < now - self.idle_seconds
            over = 0
            if self.max_services and len(names) > self.max_services:
                # over the cap: down to 90 % of it, so the sort is not repeated on every batch
                kept = np.flatnonzero(~drop)
                over = kept.size - int(self.max_services * 0.9)
                if over > 0:
                    drop[kept[np.argsort(seen[kept], kind="stable")[:over]]] = True
            gone = np.flatnonzero(drop)
            if gone.size:
                self._batch = None  # its rows may be gone or reused
            gone_names = [names[i] for i in gone.tolist()]
            for name in gone_names:
                del self.row_of[name]
            self.guards.drop(gone_names)
            if gone.size:
                dropped_rows = rows[gone]
                for cw in self.windows.values():
                    cw.clear_rows(dropped_rows)
                self.last_applied[dropped_rows] = 0.0
                self._free.extend(dropped_rows.tolist())
            self.evicted_total += int(gone.size)
            self._swept_at = now
            return int(gone.size)

    def service(self, service: str) -> ServiceView:
        return ServiceView(self, service, self.row_of.get(service))

    # -- ingest ----------------------------------------------------------------------------------
    def apply(self, events: Iterable[WireEvent], now: float,
              sink: Callable[[Folded], None] | None = None, known: tuple[int, Any] | None = None) -> None:
        """Fold validated, deduplicated events in (their services and rows then wait for
        ``batch_rows``). The batch is
        folded outside the lock (colfold.py), then added to every window as arrays. ``sink``
        (the durable hourly summaries, monitor.summaries) gets the same folded batch. ``known``:
        the batch's distinct services and time range, if the caller has them (``fold_columns``)."""
        events = events if isinstance(events, list) else list(events)
        if not events:
            return
        f = fold_columns(events, now, known)
        if sink is not None:
            sink(f)
        # a batch of one instant is merged into the guard instances in one C pass, under the lock
        direct = f.seen is None and f.same_time is not None and NATIVE is not None
        latest = None if direct else _latest(f, now)
        with self.lock:
            self.events_applied += len(events)
            rows = self.rows_for(f.services)
            self.last_applied[rows] = now
            counts = f.counts
            if self.watched:
                counts = _with_watched(counts, f, self.watched)
            hrow = rows[f.hist_group]
            # the piece a batch in one bucket makes, built once for every window; the batch's
            # first and last second, so a window tells its buckets without an array per window
            shared: dict = {"span": (int(f.seconds.min()), int(f.seconds.max()))}
            # groups are (service, second): within one second, one group per service
            self._batch = (events, f.services, rows, shared["span"][0] == shared["span"][1])
            for cw in self.windows.values():
                cw.add(rows, f.seconds, counts, hrow, f.hist_key, f.hist_count, f.hist_group, f.cats, now, shared)
            if direct and not self.guards.merge_events(f.events, f.same_time):  # type: ignore[arg-type]
                latest = _latest(f, now)
            if latest is not None:
                self.guards.merge(*latest)
            if now - self._swept_at >= self.SWEEP_SECONDS or (self.max_services and len(self.row_of) > self.max_services):
                self.evict(now)

    def batch_rows(self, events: list[WireEvent]) -> tuple[list[str], np.ndarray] | None:
        """The distinct services of ``events`` and their rows, if ``events`` is the batch last
        applied and no row was dropped since (else None); once. Call under ``lock``."""
        b, self._batch = self._batch, None
        if b is None or b[0] is not events:
            return None
        _, services, rows, distinct = b
        if not distinct:  # a service in several seconds: its first group (rows are per service)
            first = np.sort(np.unique(rows, return_index=True)[1])
            services, rows = [services[i] for i in first.tolist()], rows[first]
        return services, rows

    # -- reads -----------------------------------------------------------------------------------
    def value(self, service: str, indicator: str, window: str, category: str | None, now: float) -> tuple[float, float]:
        with self.lock:
            row = self.row_of.get(service)
            if row is None:
                return 0.0, 0
            return ServiceView(self, service, row).value(indicator, window, category, now)

    def columns_of(self, rows: np.ndarray, window: str, now: float) -> np.ndarray:
        """The window's totals of ``rows`` (counters, latency counts, watched columns), after
        expiry: what rules read as arrays (alerts.vector). Call under ``lock``."""
        cw = self.windows[window]
        cw.expire(now)
        return cw.total[rows]

    def category_counts(self, rows: list[int], window: str, side: str, category: str) -> np.ndarray:
        cats = self.windows[window].cats
        i = 0 if side == "in" else 1
        return np.array([cats[r][i].get(category, 0) if r in cats else 0 for r in rows], dtype=np.int64)

    def snapshot(self, service: str, now: float) -> dict[str, Any]:
        with self.lock:
            return self.service(service).snapshot(now)

    def series(self, service: str, indicator: str, window: str, now: float) -> list[tuple[float, float]]:
        """One indicator per bucket of a window, oldest first, as (bucket start in UNIX seconds,
        value): what the console draws as a small chart. Latency quantiles are read from each
        bucket's own histogram; a bucket without calls reads 0."""
        d = CATALOGUE[indicator]
        with self.lock:
            row = self.row_of.get(service)
            if row is None or window not in self.windows:
                return []
            cw = self.windows[window]
            cw.expire(now)
            out = []
            for key, counts in cw.bucket_rows(row):
                if d.kind == "ms":
                    h = cw.hist(row, [key])
                    v = float(h.quantile(quantile_of(indicator)) or 0.0) if h is not None and h.count else 0.0
                else:
                    v = d.read(bucket_of(counts, cw.bucket_cats(row, key)), None, None)[0]  # type: ignore[arg-type]
                out.append((key * cw.width, float(v)))
            return out


__all__ = ["CATALOGUE", "COL", "LAT_N", "Indicators", "IndicatorDef", "ServiceView", "Window"]
