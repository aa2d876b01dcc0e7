"""A cached view of the registry that ingest and rules need on every batch: which services
exist, who owns them, and their grade, sector, labels and jurisdiction path.

Reading the registry per event would cost a query per batch; the cache refreshes every few
seconds and at once when an unknown id arrives (at most once a second, so a flood of events for
an unregistered service cannot turn into a flood of queries).

Each registered service also has a *slot*: a small integer, stable for the life of the process
and never given to another service, so per-service state elsewhere (indicator rows, hourly
summaries) can be arrays indexed by it instead of dictionaries keyed by the id. Why (issue 19):
at 100,000 services each lookup of a batch's 1,000 ids in a 100,000-entry dict misses the cache
(~0.12 µs more per lookup than at 1,000 services, measured), and ingest made several per
service; now the ids are looked up once, here, and the rest are array gathers."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import select

from fenghuo.ledger import store as ledger
from fenghuo.ledger.models import LedgerEntry
from fenghuo.monitor.native import KERNEL as NATIVE
from fenghuo.monitor.native import decoder as _decode
from fenghuo.platform.db import Database
from fenghuo.registry.models import Service

_COLUMNS = (Service.id, Service.provider_id, Service.grade, Service.attributes, Service.jurisdiction_path)
_BATCH = 5000  # ledger entries per read
_CHUNK = 500  # ids per IN (...)
_NO_KINDS = np.zeros(0, dtype=np.int64)


def _kind(info: ServiceInfo | None) -> int:
    """``info.kind`` for the kinds array: -1 when there is none (not numbered, or no info)."""
    k = getattr(info, "kind", None)
    return -1 if k is None else k


# slots=True: no __dict__ per service. Rules' screening reads ``kind`` of every service a batch
# touches first (at 100,000 services, every one); through a per-instance __dict__ that read
# missed the cache twice more, and 100,000 of them held ~5 MB more (measured, issue 19).
@dataclass(frozen=True, slots=True)
class ServiceInfo:
    id: str
    provider: str
    grade: str
    sector: str
    jurisdiction_path: str
    labels: dict[str, str] = field(default_factory=dict)
    # what rule selectors other than ids read (grade, sector, labels) as a small number, the
    # same for services alike in these (``Directory.kind_of``), so the alert screen maps it to a
    # rule set with one lookup instead of a match per service (issue 19: every service of a
    # spread batch is new at 100,000 services); None: not numbered (built by hand)
    kind: int | None = field(default=None, compare=False)


@dataclass(slots=True)
class Decoded:
    """What the decoder took from a batch's events while reading them (``Directory.decode``):
    each event's id and service (the lists ingest would build with ``map`` of an attribute),
    and its directory slot with the number of distinct slots (``batch_slots``' answers), or
    None when some service is not known by slot."""

    ids: list[str]
    services: list[str]
    slots: np.ndarray | None
    distinct: int


class Directory:
    """The cache. A refresh reads only what changed (issue 19: re-reading 10,000 services every
    few seconds, attributes and all, was a quarter of ingest's CPU when a batch spanned 1,000
    services): every registration or regrade appends a ledger entry naming the service in the
    same transaction, and entries commit in sequence order, so the rows named after the last
    sequence seen are the rows that may have changed. A full reload every
    ``full_reload_seconds`` is the safety net for a write that no entry names."""

    def __init__(self, db: Database, refresh_seconds: float = 5.0, full_reload_seconds: float = 600.0) -> None:
        self.db = db
        self.refresh_seconds = refresh_seconds
        self.full_reload_seconds = full_reload_seconds
        self._loaded_at = -1e18
        self._full_at = -1e18
        self._seq = 0
        self._lock = threading.Lock()
        self._kinds: dict[tuple, int] = {}
        # (services, id -> slot for exactly those services, the same as the kernel's inline-key
        # table: _ingestslots.h, None without the kernel, each slot's ``kind``: -1 for none),
        # published as one tuple so a reader never sees one without the others; ``names[slot]``
        # is the id. A service that leaves the registry takes its slot with it: the number is
        # not reused.
        self._maps: tuple[dict[str, ServiceInfo], dict[str, int], Any, np.ndarray] = ({}, {}, None, _NO_KINDS)
        self.names: list[str] = []

    def _publish(self, services: dict[str, ServiceInfo], slots: dict[str, int],
                 changed: dict[str, ServiceInfo] | None = None) -> None:
        """Replace the maps (under ``_lock``): one tuple, so readers see them together.
        ``changed``: the only services that differ from the maps held (their kinds are set in a
        copy of the held array instead of reading every service's)."""
        table = None
        if NATIVE is not None and slots:
            cap = 16
            while cap < 2 * len(slots):
                cap *= 2
            table = np.empty(cap * 64, dtype=np.uint8)  # 64-byte entries (slot_entry)
            NATIVE.slot_table_build(list(slots), np.fromiter(slots.values(), dtype=np.int64, count=len(slots)), table)
        kinds = np.full(len(self.names), -1, dtype=np.int64)
        if changed is not None:
            held = self._maps[3]
            kinds[:held.size] = held
            pick = list(changed)
        else:
            pick = list(slots)
        if pick:
            idx = np.fromiter(map(slots.__getitem__, pick), dtype=np.int64, count=len(pick))
            kinds[idx] = list(map(_kind, map(services.__getitem__, pick)))
        self._maps = (services, slots, table, kinds)

    @property
    def services(self) -> dict[str, ServiceInfo]:
        return self._maps[0]

    @property
    def slot_of(self) -> dict[str, int]:
        return self._maps[1]

    @property
    def services_and_kinds(self) -> tuple[dict[str, ServiceInfo], np.ndarray]:
        """``services`` and each slot's ``ServiceInfo.kind`` (-1: none) from one publication:
        the alert screen gathers the kinds of a batch's rows from the array by slot instead of
        looking each service up in the 100,000-entry dict and reading its ``ServiceInfo``
        (issue 19: ~0.45 ms of a 1,000-service batch's first touch at 100,000 services)."""
        m = self._maps
        return m[0], m[3]

    def _slots(self, ids, old: dict[str, int]) -> dict[str, int]:
        """Slots for ``ids``: the one held in ``old``, else the next number (under ``_lock``)."""
        out = {}
        names = self.names
        for i in ids:
            s = old.get(i)
            if s is None:
                s = len(names)
                names.append(i)
            out[i] = s
        return out

    def kind_of(self, grade: str, sector: str, labels: dict[str, str]) -> int:
        """The number of a kind of service (grade, sector, labels); never reused in a process."""
        key = (grade, sector, tuple(sorted(labels.items())))
        k = self._kinds.get(key)
        if k is None:
            k = self._kinds[key] = len(self._kinds)
        return k

    def _info(self, r) -> ServiceInfo:
        attrs = r[3] or {}
        sector, labels = str(attrs.get("sector", "")), dict(attrs.get("labels") or {})
        return ServiceInfo(r[0], r[1], r[2], sector, r[4], labels, self.kind_of(r[2], sector, labels))

    def reload(self) -> None:
        with self.db.reader() as s:
            seq = ledger.head(s)[0]  # before the rows: a change between the two is read again, not lost
            # streamed: at 100,000 services all rows at once (attributes parsed) peaked at
            # several times what the cache keeps, and the process keeps that peak resident
            rows = s.execute(select(*_COLUMNS).execution_options(yield_per=_CHUNK * 4))
            services = {r[0]: self._info(r) for r in rows}
        with self._lock:
            self._publish(services, self._slots(services, self.slot_of))
            self._seq = seq
            self._loaded_at = self._full_at = time.monotonic()

    def catch_up(self) -> None:
        """Re-read the services named by ledger entries after the last sequence seen."""
        changed: dict[str, ServiceInfo] = {}
        seq = self._seq
        with self.db.reader() as s:
            while True:
                rows = s.execute(select(LedgerEntry.seq, LedgerEntry.subject).where(LedgerEntry.seq > seq)
                                 .order_by(LedgerEntry.seq).limit(_BATCH)).all()
                if not rows:
                    break
                seq = rows[-1][0]
                names = sorted({subject for _, subject in rows})
                for i in range(0, len(names), _CHUNK):
                    for r in s.execute(select(*_COLUMNS).where(Service.id.in_(names[i:i + _CHUNK]))).all():
                        changed[r[0]] = self._info(r)
                if len(rows) < _BATCH:
                    break
        with self._lock:
            if changed:  # new dicts: readers keep the ones they hold
                services, slots = self._maps[0], self._maps[1]
                self._publish({**services, **changed}, {**slots, **self._slots(changed, slots)}, changed)
            self._seq = max(self._seq, seq)
            self._loaded_at = time.monotonic()

    def fresh(self, force_if_older: float | None = None) -> dict[str, ServiceInfo]:
        now = time.monotonic()
        if now - self._full_at > self.full_reload_seconds:
            self.reload()
        else:
            age = now - self._loaded_at
            if age > self.refresh_seconds or (force_if_older is not None and age > force_if_older):
                self.catch_up()
        return self.services

    def slots_of(self, ids: list[str]) -> tuple[dict[str, ServiceInfo], dict[str, int | None]]:
        """The services, and each distinct id of ``ids`` with its slot (None: not known), from
        the cache as it is after the regular refresh. A dict of the batch's ids only: later lookups of these ids
        hit a small dict in the cache instead of the registry's. Looked up in the ids' order
        when they are mostly distinct (a spread batch: neighbours in the registry's dict are
        neighbours in memory), else once per distinct id (a batch of a few services)."""
        self.fresh()
        services, slot_of = self._maps[0], self._maps[1]
        distinct = set(ids)
        keys = ids if 2 * len(distinct) > len(ids) else distinct
        return services, dict(zip(keys, map(slot_of.get, keys)))

    def batch_slots(self, events: list) -> tuple[dict[str, ServiceInfo], np.ndarray | None, int]:
        """The services, each event's slot (an array) and the number of distinct services, in
        one pass of the kernel over the events (``_ingestslots.h``); the array is None when the
        kernel is not built or some service is not known (the caller then takes ``slots_of``,
        which also decides what is unknown)."""
        self.fresh()
        services, table = self._maps[0], self._maps[2]
        if table is None:
            return services, None, 0
        out = np.empty(len(events), dtype=np.int64)
        try:
            missing, distinct = NATIVE.slot_lookup(table, self.names, events, out)
        except TypeError:  # not the event structs (or ids) the kernel reads
            return services, None, 0
        return services, (None if missing else out), distinct

    def decode(self, body: bytes) -> tuple[dict[str, ServiceInfo], list, Decoded | None] | None:
        """The C decoder's reading of ``body`` (``native.decoder``), with each event's slot found
        after the parse, the batch's ids hashed first and their entries prefetched
        (``_ingestslots.h``'s ``slots_find`` over the table of ``batch_slots``): the services (as ``batch_slots``), the
        events, and what the decoder took from them on the way (``Decoded``; None without the
        table). None when the decoder leaves the
        body to msgspec (or is not built)."""
        if _decode is None:
            return None
        self.fresh()
        services, table = self._maps[0], self._maps[2]
        if table is None:
            events = _decode(body)
            return None if events is None else (services, events, None)
        got = _decode(body, table, self.names)
        if got is None:
            return None
        events, ids, names, slots, missing, distinct = got
        return services, events, Decoded(ids, names, None if missing else np.frombuffer(slots, dtype=np.int64), distinct)

    def lookup_slots(self, ids) -> tuple[dict[str, ServiceInfo], set[str], dict[str, int]]:
        """The services after a forced refresh (the cache may be behind), the ids still unknown,
        and the slot of each known id (ingest's second look when ``slots_of`` found an unknown id)."""
        names = list(ids)
        self.fresh(force_if_older=1.0)
        services, slot_of = self._maps[0], self._maps[1]
        got = list(map(slot_of.get, names))
        missing = {n for n, s in zip(names, got) if s is None}
        return services, missing, {n: s for n, s in zip(names, got) if s is not None}

    def lookup(self, ids: set[str]) -> dict[str, ServiceInfo]:
        services = self.fresh()
        # set.difference(dict) looks each id up in the dict; ``ids - services.keys()`` built a
        # set of every registered service first (~9 ms per batch at 100,000 services, issue 19)
        if ids.difference(services):
            services = self.fresh(force_if_older=1.0)
        return services
