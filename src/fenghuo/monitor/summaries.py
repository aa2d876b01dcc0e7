"""Durable telemetry summaries: per service and hour, the counts the windows hold, kept ≥ the
retention period (issue 18 item 8; CN-PO-20, CN-LB-18, EU-06). The windows forget after their
longest length and the NATS stream keeps raw events a week; these rows are what stays.

Cheap on ingest: ``add`` merges the per-(service, second) partials that ``Indicators.apply``
already folded into one ``Bucket`` per (service, hour) in memory — one dict lookup and one
bucket add per partial, no database. ``tick`` (the response loop's per-tick work, every
FENGHUO_RESPONSE_TICK) writes them in one short transaction every ``FLUSH_SECONDS``, or at once
when an hour has rolled over; ``flush`` is also called at shutdown. A flush adds to a row already
written for that hour (counters, categories and histogram bins are all exact sums), so flushing
often loses nothing.

Only events handed to the bus's handlers are summarised (``Monitor._count``): a new leader's
replay of the stream into its windows (fenghuo.scale.cursor) is not counted twice.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter
from itertools import compress, repeat
from operator import is_
from typing import Any

import numpy as np
from sqlalchemy import bindparam, insert, select, update

from fenghuo.control import services as registry
from fenghuo.monitor.colfold import LAT_N, LAT_ZEROS, NCOL, Folded
from fenghuo.monitor.columns import add_rows, sum_bins
from fenghuo.monitor.models import TelemetrySummary
from fenghuo.monitor.window import COUNTERS, Bucket, LogHistogram
from fenghuo.platform.db import Database
from fenghuo.platform.errors import Invalid
from fenghuo.platform.roles import Actor

log = logging.getLogger(__name__)

PERIOD_SECONDS = 3600
FLUSH_SECONDS = 60.0
_T = TelemetrySummary.__table__
_CHUNK = 500  # services per IN (...) when reading the rows a flush adds to


def hist_to_json(h: LogHistogram | None) -> dict[str, Any]:
    if h is None or not h.count:
        return {}
    return {"offset": int(h.offset), "zeros": int(h.zeros), "count": int(h.count), "counts": [int(x) for x in h.counts]}


def hist_from_json(d: dict[str, Any]) -> LogHistogram | None:
    if not d:
        return None
    h = LogHistogram()
    h.offset, h.zeros, h.count = int(d["offset"]), int(d["zeros"]), int(d["count"])
    h.counts = np.array(d["counts"], dtype=np.int64)
    return h


class Summaries:
    """Hourly buckets per service, accumulated in memory and flushed to ``telemetry_summaries``."""

    def __init__(self, db: Database, period: int = PERIOD_SECONDS, flush_seconds: float = FLUSH_SECONDS,
                 names: list[str] | None = None) -> None:
        """``names``: service id by directory slot (``Directory.names``, grown by the directory):
        a folded batch that carries its services' slots (``Folded.slots``) is then added to an
        hour held by slot, rows found without a lookup per service (issue 19)."""
        self.db = db
        self.names = names
        self.slot_hours: dict[int, _Hour] = {}  # as ``hours``, rows by directory slot
        self.period = period
        self.flush_seconds = flush_seconds
        self.pending: dict[tuple[str, int], Bucket] = {}
        self.hours: dict[int, _Hour] = {}  # the same, from folded batches, as columns per hour
        self._lock = threading.Lock()  # guards ``pending``; never held while writing
        self._flush_lock = threading.Lock()  # one flush at a time (tick and shutdown)
        self._latest_period = 0
        self._rolled = False
        self._flushed_at = db.clock.now().timestamp()
        self.flushes = 0
        self.rows_hint = 64  # rows an hour's arrays start with (``reserve``)
        self.rows_written = 0

    def add(self, parts: list[tuple[str, int, Bucket]] | Folded) -> None:
        """Merge a batch's (service, second, partial) — or the folded batch (colfold, as
        arrays: no Python per service) — into the hour buckets."""
        if isinstance(parts, Folded):
            self._add_folded(parts)
            return
        period = self.period
        with self._lock:
            pending = self.pending
            for service, second, p in parts:
                start = second - second % period
                b = pending.get((service, start))
                if b is None:
                    b = pending[(service, start)] = Bucket()
                    self._saw(start)
                b.add(p)

    def _saw(self, start: int) -> None:
        if start > self._latest_period:
            if self._latest_period:
                self._rolled = True  # an hour has ended: write it on the next tick
            self._latest_period = start

    def reserve(self, services: int) -> None:
        """Start each hour's arrays with a row per registered service instead of doubling them
        as services arrive (as ``Indicators.reserve``; untouched pages cost no resident memory)."""
        self.rows_hint = max(64, services)

    def _add_folded(self, f: Folded) -> None:
        starts = f.seconds - f.seconds % self.period
        lo, hi = int(starts.min()), int(starts.max())
        by_slot = f.slots is not None and self.names is not None
        hours = self.slot_hours if by_slot else self.hours
        with self._lock:
            for start in ([lo] if lo == hi else np.unique(starts).tolist()):
                sel = None if lo == hi else np.flatnonzero(starts == start)
                hour = hours.get(start)
                if hour is None:
                    hour = hours[start] = _Hour(self.rows_hint, self.names if by_slot else None)
                    self._saw(start)
                hour.add(f, sel, distinct=lo == hi and int(f.seconds.min()) == int(f.seconds.max()))

    def _take(self) -> dict[tuple[str, int], Bucket]:
        """Everything pending as buckets (under ``_lock``)."""
        taken, self.pending = self.pending, {}
        for hours in (self.hours, self.slot_hours):
            for start, hour in hours.items():
                for service, b in hour.buckets():
                    have = taken.get((service, start))
                    if have is not None:
                        b.add(have)
                    taken[(service, start)] = b
        self.hours, self.slot_hours = {}, {}
        return taken

    def due(self, now: float) -> bool:
        return bool(self.pending or self.hours or self.slot_hours) and (self._rolled or now - self._flushed_at >= self.flush_seconds)

    def tick(self, _db: Database | None = None) -> list[dict[str, Any]]:
        """Per-tick work for the response loop (``Executor(also=...)``): flush when due."""
        if self.due(self.db.clock.now().timestamp()):
            try:
                self.flush()
            except Exception:  # the buckets were put back; the next tick retries
                log.warning("telemetry summary flush failed", exc_info=True)
        return []

    def flush(self) -> int:
        """Write every pending bucket (added to the hour's row if there is one); returns rows written."""
        with self._flush_lock:
            with self._lock:
                taken, self._rolled = self._take(), False
            self._flushed_at = self.db.clock.now().timestamp()
            if not taken:
                return 0
            try:
                self._write(taken)
            except Exception:
                with self._lock:  # put them back, merged with what arrived meanwhile
                    for k, b in taken.items():
                        have = self.pending.get(k)
                        if have is not None:
                            b.add(have)
                        self.pending[k] = b
                raise
            self.flushes += 1
            self.rows_written += len(taken)
            return len(taken)

    def _write(self, taken: dict[tuple[str, int], Bucket]) -> None:
        """Core statements, not ORM objects (issue 19): the rows already written for these
        hours are read a chunk of services at a time (no IN over every active service), then
        new rows go in with one multi-row insert and existing ones with one executemany update.
        Through the ORM a flush cost ~130 µs of CPU per row, ~13 s a minute with 100,000
        services active."""
        now = self.db.clock.now().timestamp()
        by_start: dict[int, list[str]] = {}
        for service, start in taken:
            by_start.setdefault(start, []).append(service)
        with self.db.transaction() as s:
            have: dict[tuple[str, int], Any] = {}
            for start, services in by_start.items():
                for i in range(0, len(services), _CHUNK):
                    q = select(_T.c.service, _T.c.counts, _T.c.in_categories, _T.c.out_categories, _T.c.latency).where(
                        _T.c.period_start == float(start), _T.c.service.in_(services[i:i + _CHUNK]))
                    for r in s.execute(q):
                        have[(r[0], start)] = r
            inserts, updates = [], []
            for (service, start), b in taken.items():
                r = have.get((service, start))
                if r is None:
                    inserts.append({"service": service, "period_start": float(start), "period_seconds": self.period,
                                    **_values(b, now)})
                else:
                    b.add(_bucket_from(r[1], r[2], r[3], r[4]))
                    updates.append({"b_service": service, "b_start": float(start), **_values(b, now)})
            if inserts:
                s.execute(insert(_T), inserts)
            if updates:
                s.execute(update(_T).where(_T.c.service == bindparam("b_service"), _T.c.period_start == bindparam("b_start")),
                          updates)


class _Hour:
    """One hour of folded batches: a row of counts per service, latency bins as (row, key,
    count) arrays (merged once they outgrow the services), categories as they come (rare)."""

    def __init__(self, rows: int = 64, names: list[str] | None = None) -> None:
        """``names``: rows are directory slots (``Folded.slots``), ``names[slot]`` the service;
        otherwise rows are numbered here per service (``index``)."""
        self.index: dict[str, int] = {}
        self.names = names
        self.touched = np.zeros(rows if names is not None else 0, dtype=bool)  # by slot: rows holding something
        self.counts = np.zeros((rows, NCOL), dtype=np.int64)
        self.hist: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.held = 0  # entries in ``hist``
        self.merged = 0  # of which in the merged part, ``hist[0]`` (0: nothing merged yet)
        self.cats: list[tuple[int, str, Counter]] = []

    def add(self, f: Folded, sel: np.ndarray | None, distinct: bool = False) -> None:
        """``distinct``: the batch's groups are all in one second, so each service is in one
        group (no check needed that the rows are distinct)."""
        got = None
        if self.names is not None:
            rows = f.slots if sel is None else f.slots[sel]  # type: ignore[index]
            need = int(rows.max()) + 1 if rows.size else 0
            if need > self.counts.shape[0]:
                self._grow(max(2 * self.counts.shape[0], need))
            self.touched[rows] = True
            held = int(np.count_nonzero(self.touched))
        else:
            idx = self.index
            services = f.services if sel is None else [f.services[g] for g in sel.tolist()]
            try:  # every service has a row this hour (the usual): C-level lookups into the array
                rows = np.fromiter(map(idx.get, services), dtype=np.int64, count=len(services))
            except TypeError:
                got = list(map(idx.get, services))
                # the new services picked out in C (compress) and numbered all at once
                new = dict.fromkeys(compress(services, map(is_, got, repeat(None))))
                idx.update(zip(new, range(len(idx), len(idx) + len(new))))
                got = list(map(idx.__getitem__, services))
                rows = np.array(got, dtype=np.int64)
            if len(idx) > self.counts.shape[0]:
                self._grow(2 * len(idx))
            held = len(idx)
        counts = f.counts if sel is None else f.counts[sel]
        if distinct or len(set(rows.tolist() if got is None else got)) == len(rows):  # distinct rows (the usual): a plain add, ~5x np.add.at
            add_rows(self.counts, rows, counts if counts.shape[1] == NCOL else counts[:, :NCOL])
        else:
            np.add.at(self.counts, rows, counts[:, :NCOL])
        group_row = rows if sel is None else np.full(f.counts.shape[0], -1, dtype=np.int64)
        if sel is not None:
            group_row[sel] = rows
        if f.hist_group.size:
            hr = group_row[f.hist_group]
            m = hr >= 0
            self.hist.append((hr[m], f.hist_key[m], f.hist_count[m]))
            self.held += int(m.sum())
            # Merged once the new entries outgrow the merged part (and 4 per service): measured
            # against ``held`` alone, an hour whose distinct (service, bin) pairs passed the
            # bound was re-sorted whole on every batch (0.3-0.4 ms a request at 1,000 services
            # once latencies spread, issue 19); this way each entry is sorted O(1) times.
            if self.held - self.merged > max(self.merged, 4 * held + 1024):
                self.hist = [_merge_bins(self.hist)]
                self.held = self.merged = self.hist[0][0].size
        self.cats += [(int(group_row[g]), side, c) for g, side, c in f.cats if group_row[g] >= 0]

    def _grow(self, rows: int) -> None:
        grown = np.zeros((rows, NCOL), dtype=np.int64)
        grown[:self.counts.shape[0]] = self.counts
        self.counts = grown
        if self.names is not None:
            t = np.zeros(rows, dtype=bool)
            t[:self.touched.size] = self.touched
            self.touched = t

    def buckets(self) -> list[tuple[str, Bucket]]:
        r, k, c = _merge_bins(self.hist) if self.hist else (np.zeros(0, dtype=np.int64),) * 3
        out = []
        if self.names is not None:
            held = np.flatnonzero(self.touched)
            pairs = [(self.names[row], row) for row in held.tolist()]
        else:
            held = np.fromiter(self.index.values(), dtype=np.int64, count=len(self.index))
            pairs = list(self.index.items())
        # each row's latency entries: r is sorted, so [lo, hi) per row
        los, his = np.searchsorted(r, held).tolist(), np.searchsorted(r, held, side="right").tolist()
        for (service, row), a, z in zip(pairs, los, his):
            b = Bucket()
            for name, v in zip(COUNTERS, self.counts[row, :len(COUNTERS)].tolist()):
                setattr(b, name, v)
            n = int(self.counts[row, LAT_N])
            if n:
                h = LogHistogram()
                h.count, h.zeros = n, int(self.counts[row, LAT_ZEROS])
                if z > a:
                    h.offset = int(k[a])
                    h.counts = np.bincount(k[a:z] - h.offset, weights=c[a:z]).astype(np.int64)
                b.hist = h
            out.append((service, b))
        by_row = {row: b for (_, row), (_, b) in zip(pairs, out)}
        for row, side, cats in self.cats:
            by_row[row].own_categories(side).update(cats)
        return out


def _merge_bins(parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, key, count) entries summed per (row, key), in (row, key) order."""
    r = np.concatenate([p[0] for p in parts])
    k = np.concatenate([p[1] for p in parts])
    c = np.concatenate([p[2] for p in parts])
    if not r.size:
        return r, k, c
    return sum_bins(r, k, c)


def _bucket_from(counts: str, in_categories: str | None, out_categories: str | None, latency: str | None) -> Bucket:
    """A stored row's columns as a Bucket (to add a flush to the hour already written)."""
    b = Bucket()
    for k, v in json.loads(counts).items():
        if k in COUNTERS:
            setattr(b, k, int(v))
    if in_categories and in_categories != "{}":
        b.in_categories = Counter(json.loads(in_categories))
    if out_categories and out_categories != "{}":
        b.out_categories = Counter(json.loads(out_categories))
    b.hist = hist_from_json(json.loads(latency or "{}"))
    return b


def _values(b: Bucket, now: float) -> dict[str, Any]:
    """The columns of a row holding ``b``."""
    h = b.hist
    p50, p95, p99, top = ((h.quantile(0.5), h.quantile(0.95), h.quantile(0.99), h.quantile(1.0))
                          if h is not None and h.count else (None,) * 4)
    return {"counts": json.dumps({c: int(getattr(b, c)) for c in COUNTERS}, sort_keys=True),
            "in_categories": json.dumps(dict(sorted(b.in_categories.items())), ensure_ascii=False),
            "out_categories": json.dumps(dict(sorted(b.out_categories.items())), ensure_ascii=False),
            "latency": json.dumps(hist_to_json(h)), "latency_count": int(h.count) if h is not None else 0,
            "latency_p50": p50, "latency_p95": p95, "latency_p99": p99, "latency_max": top, "updated_at": now}


def view(row: TelemetrySummary) -> dict[str, Any]:
    """One row as plain data (API, CLI, tests)."""
    return {"service": row.service, "period_start": row.period_start, "period_seconds": row.period_seconds,
            "counts": json.loads(row.counts), "in_categories": json.loads(row.in_categories),
            "out_categories": json.loads(row.out_categories), "latency_count": row.latency_count,
            "latency_p50": row.latency_p50, "latency_p95": row.latency_p95, "latency_p99": row.latency_p99,
            "latency_max": row.latency_max}


def read(db: Database, service: str, start: float | None = None, end: float | None = None) -> list[dict[str, Any]]:
    """The stored hours of one service in [start, end), oldest first."""
    q = select(TelemetrySummary).where(TelemetrySummary.service == service)
    if start is not None:
        q = q.where(TelemetrySummary.period_start >= start)
    if end is not None:
        q = q.where(TelemetrySummary.period_start < end)
    with db.reader() as s:
        return [view(r) for r in s.scalars(q.order_by(TelemetrySummary.period_start))]


def _when(value: str | None, name: str) -> float | None:
    if value is None or not value.strip():
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        from datetime import UTC, datetime

        t = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        return (t if t.tzinfo else t.replace(tzinfo=UTC)).timestamp()
    except ValueError:
        raise Invalid(f"不是时间：{value}", f"not a time (ISO 8601 or UNIX seconds): {value}", field=name) from None


def for_service(db: Database, actor: Actor, service: str, start: str | None = None, end: str | None = None) -> dict[str, Any]:
    """A service's stored hours in [start, end), with the scope rules of its indicators (the
    registry answers 404/403 first). Only what has been flushed: the open hour's last minute
    may still be in a server's memory."""
    registry.get(db, actor, service)
    return {"service": service, "from": start, "to": end,
            "hours": read(db, service, _when(start, "from"), _when(end, "to"))}
