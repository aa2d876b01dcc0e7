"""Per-service indicators over sliding windows: what rules read, the API shows and /metrics
exports.

``Indicators.apply`` is the hot path of ingest: it folds a batch into one row of counts per
(service, second) (colfold.py) and adds the rows to each window held column-wise across services
(columns.py), so there is no Python work per service or per window on the way in (issue 19), and
rules can read many services' indicators as arrays (``columns_of``). ``services`` stays a
read-only mapping of per-service views (service_view.py) for the API, the console and the tests;
the indicators themselves are listed in catalogue.py.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from itertools import compress, repeat
from operator import attrgetter, is_
from typing import Any

import numpy as np

from fenghuo.monitor.catalogue import CATALOGUE, quantile_of
from fenghuo.monitor.colfold import NATIVE, NCOL, Folded, fold_columns, with_watched
from fenghuo.monitor.columns import ColumnWindow
from fenghuo.monitor.instances import ByService, InstanceStore, latest_of_folded
from fenghuo.monitor.service_view import LIVE_INSTANCE_SECONDS, ServiceView, ServiceViews, bucket_of
from fenghuo.monitor.wire import WireEvent

_service = attrgetter("service")
DEFAULT_WINDOWS = {"1m": 60.0, "5m": 300.0, "1h": 3600.0}


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
        # service -> row, for reads by name; rows made by slot join it lazily (``row_of``)
        self._row_of: dict[str, int] = {}
        self._unnamed: list[tuple[list[str], Any]] = []  # (services, their rows) not in _row_of yet
        # the same by the directory's slot (monitor.directory), for batches that come with their
        # slots (ingest): an array gather instead of a lookup per service in ``row_of``; -1: no
        # row known by slot (the service may still have one, made for a batch without slots)
        self.row_by_slot = np.full(0, -1, dtype=np.int64)
        self.slot_by_row = np.full(cap, -1, dtype=np.int64)
        self.last_applied = np.zeros(cap, dtype=np.float64)
        self.generation = np.zeros(cap, dtype=np.int64)
        self._free: list[int] = []
        self._by_name = False  # a row was made for a batch without slots (see rows_of_slots)
        self._next = 0
        # guard instances: (service, instance) -> (seen, version, state, failsafe), one flat dict
        # (see instances.py for why flat; ``instances`` reads it per service)
        self.guards = InstanceStore()
        self.watched: list[int] = []  # latency keys with a "≥ key" column (NCOL + i)
        self.services = ServiceViews(self)
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
    def row_of(self) -> dict[str, int]:
        """service -> row of every service held. Rows made for a batch with slots
        (``rows_of_slots``) are added here only when this is read, not while ingest makes
        them: ingest finds rows by slot, and reads by name (the API, /metrics, a rule's
        per-service pass) are rare. Why (issue 19): at 100,000 services every service of a
        spread batch is new, and 1,000 inserts into the 100,000-entry dict, each a cache miss
        and now and then a resize of the whole dict, were ~0.2 ms of a first-touch batch.
        Named under ``lock`` (re-entrant): readers call this from other threads (the API) while
        ingest adds rows under it, and a row added during the naming must not be dropped."""
        if self._unnamed:
            with self.lock:
                pending, self._unnamed = self._unnamed, []
                d = self._row_of
                for names, rows in pending:
                    d.update(zip(names, rows))
        return self._row_of

    def held(self) -> int:
        """How many services hold a row: ``len(row_of)`` without adding the rows made by slot
        to it (``apply`` asks on every batch when ``max_services`` is set)."""
        return self._next - len(self._free)

    @row_of.setter
    def row_of(self, value: dict[str, int]) -> None:
        self._unnamed = []  # the whole mapping, rows made by slot included (tests wrap it)
        self._row_of = value

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
            rows = self._make_rows(new)
            if len(new) == len(services):
                return rows  # every service new, once each: the rows in the batch's order
            got = list(map(self.row_of.__getitem__, services))
        return np.array(got, dtype=np.int64)

    def _make_rows(self, new: list[str], named: bool = True) -> np.ndarray:
        """Rows for services that have none (distinct), freed rows first; ``named`` False: the
        rows join ``row_of`` when it is next read (``rows_of_slots``). Call under ``lock``."""
        take = min(len(new), len(self._free))
        rows = [self._free.pop() for _ in range(take)]
        start = self._next
        if len(new) > take:
            self._next += len(new) - take
            if self._next > self.last_applied.size:
                cap = self.last_applied.size
                while cap < self._next:
                    cap *= 2
                self._grow(cap)
        if not take:  # fresh rows only (a spread batch at 100,000 services): a range
            if named:
                self.row_of.update(zip(new, range(start, self._next)))
            else:
                self._unnamed.append((new, range(start, self._next)))
            self.generation[start:self._next] += 1
            return np.arange(start, self._next, dtype=np.int64)
        rows += range(start, self._next)
        if named:
            self.row_of.update(zip(new, rows))
        else:
            self._unnamed.append((new, rows))
        out = np.array(rows, dtype=np.int64)
        self.generation[out] += 1
        return out

    def rows_of_slots(self, slots: np.ndarray, services: list[str]) -> np.ndarray:
        """``rows_for(services)`` where ``slots[i]`` is the directory slot of ``services[i]``:
        rows already known by slot are gathered from an array; the others (first touch, or a
        row made for a batch without slots) get their rows and are remembered by slot. While
        every row was made here (``_by_name`` unset: no batch without slots was applied), a
        service unknown by slot has no row, so its name is not looked up in ``row_of`` first
        (at 100,000 services every service of a spread batch is new: ~0.15 ms a batch of
        lookups that miss the cache). Call under ``lock``."""
        if slots.size and int(slots.max()) >= self.row_by_slot.size:
            grown = np.full(max(2 * self.row_by_slot.size, int(slots.max()) + 1, 256), -1, dtype=np.int64)
            grown[:self.row_by_slot.size] = self.row_by_slot
            self.row_by_slot = grown
        rows = self.row_by_slot[slots]
        unknown = rows < 0
        if unknown.any():
            every = bool(unknown.all())
            idx = slice(None) if every else np.flatnonzero(unknown)
            sub = services if every else [services[i] for i in idx.tolist()]  # type: ignore[union-attr]
            if self._by_name:
                made = self.rows_for(sub)
            elif self._distinct_slots(slots[idx]):  # one group per service (a batch in one second)
                made = self._make_rows(sub, named=False)
            else:
                new = list(dict.fromkeys(sub))
                made = self._make_rows(new, named=False)
                if len(new) < len(sub):  # a service in several seconds: each of its groups
                    at = dict(zip(new, made.tolist()))
                    made = np.fromiter(map(at.__getitem__, sub), dtype=np.int64, count=len(sub))
            rows[idx] = made
            self.row_by_slot[slots[idx]] = made
            self.slot_by_row[made] = slots[idx]
        return rows

    def _distinct_slots(self, slots: np.ndarray) -> bool:
        """Whether ``slots`` (all without a row: -1 in ``row_by_slot``) are distinct, told by
        writing each one's position there and reading it back; the caller then writes their
        rows over it. Not ``dict.fromkeys`` of the services' names: at 100,000 services their
        strings are out of the cache (~0.1 ms a 1,000-service batch, first touch, issue 19)."""
        pos = np.arange(slots.size, dtype=np.int64)
        self.row_by_slot[slots] = pos
        return bool((self.row_by_slot[slots] == pos).all())

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
        for a in ("last_applied", "generation", "slot_by_row"):
            old = getattr(self, a)
            new = np.full(cap, -1, dtype=old.dtype) if a == "slot_by_row" else np.zeros(cap, dtype=old.dtype)
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
            if self._unnamed and not self._may_drop(now):
                # nothing to drop: the rows made by slot since the last read stay out of
                # ``row_of`` (naming them all here would bring back what ingest saved)
                self._swept_at = now
                return 0
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
                slots = self.slot_by_row[dropped_rows]
                self.row_by_slot[slots[slots >= 0]] = -1
                self.slot_by_row[dropped_rows] = -1
                self._free.extend(dropped_rows.tolist())
            self.evicted_total += int(gone.size)
            self._swept_at = now
            return int(gone.size)

    def _may_drop(self, now: float) -> bool:
        """Whether ``evict`` has something to drop, from the arrays (rows in use: below
        ``_next`` and not free): a row idle past every window, or more rows than
        ``max_services``."""
        used = np.ones(self._next, dtype=bool)
        used[self._free] = False
        if self.max_services and int(used.sum()) > self.max_services:
            return True
        return bool((self.last_applied[:self._next][used] < now - self.idle_seconds).any())

    def service(self, service: str) -> ServiceView:
        return ServiceView(self, service, self.row_of.get(service))

    # -- ingest ----------------------------------------------------------------------------------
    def apply(self, events: Iterable[WireEvent], now: float, sink: Callable[[Folded], None] | None = None,
              known: tuple[int, Any] | None = None, slot_of: dict[str, int] | np.ndarray | None = None,
              services: list[str] | None = None) -> None:
        """Fold validated, deduplicated events in (their services and rows then wait for
        ``batch_rows``). The batch is
        folded outside the lock (colfold.py), then added to every window as arrays. ``sink``
        (the durable hourly summaries, monitor.summaries) gets the same folded batch. ``known``:
        the batch's distinct services and time range, if the caller has them (``fold_columns``);
        ``slot_of``: the directory slot of each of the batch's services (``Directory.lookup_slots``),
        or of each event (an array, ``Directory.batch_slots``), if the caller has them: then
        ``f.slots`` holds them for the sink and the rows are found by slot; ``services``: each
        event's service, if the caller has them listed (the decoder, ``Directory.decode``)."""
        events = events if isinstance(events, list) else list(events)
        if not events:
            return
        per_event = isinstance(slot_of, np.ndarray)
        f = fold_columns(events, now, known, slot_of if per_event else None, services)
        if slot_of is not None and f.slots is None:
            if per_event:  # a fold by service (few services): its groups' slots from the events'
                slot_of = dict(zip(map(_service, events), slot_of.tolist()))
            try:  # a small dict (the batch's services), in the cache
                f.slots = np.fromiter(map(slot_of.__getitem__, f.services), dtype=np.int64, count=len(f.services))
            except KeyError:
                pass  # not the batch's services after all: found by name
        if sink is not None:
            sink(f)
        # a batch of one instant is merged into the guard instances in one C pass, under the lock
        direct = f.seen is None and f.same_time is not None and NATIVE is not None
        latest = None if direct else latest_of_folded(f, now)
        with self.lock:
            self.events_applied += len(events)
            if f.slots is None:
                self._by_name = True
                rows = self.rows_for(f.services)
            else:
                rows = self.rows_of_slots(f.slots, f.services)
            self.last_applied[rows] = now
            counts = f.counts
            if self.watched:
                counts = with_watched(counts, f, self.watched)
            hrow = rows[f.hist_group]
            # the piece a batch in one bucket makes, built once for every window; the batch's
            # first and last second, so a window tells its buckets without an array per window
            shared: dict = {"span": (int(f.seconds.min()), int(f.seconds.max()))}
            # groups are (service, second): within one second, one group per service
            self._batch = (events, f.services, rows, shared["span"][0] == shared["span"][1])
            for cw in self.windows.values():
                cw.add(rows, f.seconds, counts, hrow, f.hist_key, f.hist_count, f.hist_group, f.cats, now, shared)
            if direct and not self.guards.merge_events(f.events, f.same_time):  # type: ignore[arg-type]
                latest = latest_of_folded(f, now)
            if latest is not None:
                self.guards.merge(*latest)
            if now - self._swept_at >= self.SWEEP_SECONDS or (self.max_services and self.held() > self.max_services):
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


__all__ = ["DEFAULT_WINDOWS", "Indicators"]
