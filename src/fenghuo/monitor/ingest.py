"""Ingest: a batch of events in, counted events and a per-event answer out.

Order matters for exactly-once: decode → check each event (service known and permitted, time
inside the accepted window) → drop ids already counted → remember the new ids durably →
publish on the bus (indicators, then rules). A bad event never stops the good ones; every bad
one is answered with its index and reason.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

import numpy as np

from fenghuo.monitor.bus import Bus, InProcessBus
from fenghuo.monitor.dedup import Dedup
from fenghuo.monitor.directory import Directory
from fenghuo.monitor.fold import epochs, time_range
from fenghuo.monitor.indicators import Indicators
from fenghuo.monitor.native import decoder as _decoder
from fenghuo.monitor.summaries import Summaries
from fenghuo.monitor.wire import BatchError, WireEvent, decode_events
from fenghuo.platform.db import Database
from fenghuo.platform.errors import Forbidden, Invalid, TooLarge
from fenghuo.platform.roles import Actor, Role


@dataclass
class IngestSettings:
    max_events: int = 5000  # per request; larger batches are refused whole with 413
    max_age_seconds: float = 600.0  # older events are refused (and the dedup window covers this)
    max_future_seconds: float = 300.0  # guards' clocks may run this far ahead
    windows: dict[str, float] | None = None
    # at most this many services' windows in memory (None: every service active within the
    # longest window); idle ones are dropped either way (monitor.indicators, issue 19)
    max_services: int | None = None


@dataclass
class IngestResult:
    accepted: int = 0
    duplicates: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"accepted": self.accepted, "duplicates": self.duplicates, "rejected": self.rejected}


_POSTERS = (Role.admin, Role.system, Role.operator)
_service, _id = attrgetter("service"), attrgetter("id")


class Monitor:
    """Everything between ``POST /api/v1/events`` and the indicators, for one process."""

    def __init__(self, db: Database, settings: IngestSettings | None = None, bus: Bus | None = None) -> None:
        self.db = db
        self.clock = db.clock
        self.settings = settings or IngestSettings()
        self.indicators = Indicators(self.settings.windows, self.settings.max_services)
        self.directory = Directory(db)
        # durable hourly counts per service (issue 18 item 8), held by directory slot
        self.summaries = Summaries(db, names=self.directory.names)
        self.bus: Bus = bus or InProcessBus()
        # A bus that deduplicates by id itself (JetStream, fenghuo.scale) brings its own dedup.
        own = getattr(self.bus, "dedup", None)
        self.dedup = own if own is not None else Dedup(db, self.settings.max_age_seconds + self.settings.max_future_seconds)
        self.bus.subscribe(self._count)
        # One batch at a time: dedup check, commit and publish must not interleave (batches arrive
        # on several worker threads; see monitor.routes.post_events).
        self._lock = threading.Lock()
        # (events, (distinct services, time range) or None, the directory slots: per event, an
        # array, or per service, a dict) of the batch being published: ingest has checked it
        # with these, and the fold needs them again (``_count``)
        # and each event's service, if the decoder listed them)
        self._known: tuple[list[WireEvent], Any, Any, list[str] | None] | None = None
        self.rejected_total = 0
        self.duplicates_total = 0

    def start(self) -> None:
        self.directory.reload()
        self.dedup.load(self.now())
        # rows for every registered service up front, not grown while they arrive (Indicators.reserve)
        self.indicators.reserve(len(self.directory.services))
        self.summaries.reserve(len(self.directory.services))

    def now(self) -> float:
        return self.clock.now().timestamp()

    def _count(self, events: list[WireEvent]) -> None:
        k = self._known
        if k is not None and k[0] is events:
            self.indicators.apply(events, self.now(), self.summaries.add, k[1], k[2], k[3])
        else:  # published by another process (a JetStream bus): no checks made here
            self.indicators.apply(events, self.now(), self.summaries.add)

    def ingest_body(self, body: bytes, actor: Actor) -> IngestResult:
        if actor.role not in _POSTERS:
            raise Forbidden(f"{actor.label} 不能上报事件", f"{actor.label} may not post events")
        # The C decoder (monitor/_ingestdecode.h) reads the usual batch about twice as fast as
        # msgspec, and finds each event's directory slot as it reads its service
        # (Directory.decode); anything else it leaves to msgspec (None), which names every bad event.
        decoded = self.directory.decode(body) if _decoder is not None else None
        events = decoded[1] if decoded is not None else None
        indices: list[int] | None = None
        bad: list[dict[str, Any]] = []
        try:
            if events is None:
                events, indices, bad = decode_events(body)
        except BatchError as exc:
            raise Invalid(f"请求体无法读取为事件批次：{exc}", f"unreadable event batch: {exc}", field="body") from None
        total = len(events) + len(bad)
        if total > self.settings.max_events:
            raise TooLarge(f"一批最多 {self.settings.max_events} 个事件，收到 {total} 个",
                           f"at most {self.settings.max_events} events per batch, got {total}",
                           limit=self.settings.max_events, got=total)
        for b in bad:
            b["reason"] = f"事件无效 / invalid event: {b['reason']}"
        return self._ingest(events, indices, actor, bad, decoded)

    def ingest(self, good: list[tuple[int, WireEvent]], actor: Actor, bad: list[dict[str, Any]] | None = None) -> IngestResult:
        """Check, deduplicate and count decoded ``(index, event)`` pairs; ``bad`` are rejections
        already made (by decoding), answered with the rest."""
        return self._ingest([e for _, e in good], [i for i, _ in good], actor, bad)

    def _ingest(self, events: list[WireEvent], indices: list[int] | None, actor: Actor,
                bad: list[dict[str, Any]] | None = None, decoded: tuple | None = None) -> IngestResult:
        """``indices[k]`` is the batch index of ``events[k]`` (None: k itself); ``decoded``: what
        ``Directory.decode`` answered with ``events`` (the services, the events, ``Decoded``)."""
        result = IngestResult(rejected=list(bad or []))
        now = self.now()
        oldest, newest = now - self.settings.max_age_seconds, now + self.settings.max_future_seconds
        # Each event's directory slot and the number of distinct services, in one kernel pass
        # (Directory.batch_slots); without the kernel, or with a service it does not know, each
        # distinct service with its slot (None: not registered) from the registry's dict, which
        # stands for the set of names the checks need, too.
        cols = decoded[2] if decoded is not None else None
        if cols is not None:  # found by the decoder as it read the services (None: one not known)
            services, slots, distinct = decoded[0], cols.slots, cols.distinct  # type: ignore[index]
        else:
            services, slots, distinct = self.directory.batch_slots(events)
        refused: set[str] = set()
        if slots is None:
            services, slots = self.directory.slots_of(list(map(_service, events)) if cols is None else cols.services)
            names = slots.keys()
            distinct = len(names)
            if None in slots.values():  # something unknown: look again (the cache may be behind)
                services, refused, slots = self.directory.lookup_slots(names)
        else:
            names = set(map(_service, events)) if actor.role is Role.operator else ()
        # Whole-batch checks first (per service, and the batch's earliest and latest time); only
        # a batch with something to refuse is walked event by event, so the common batch costs
        # no per-event Python work here, and only an operator's batch a check per service.
        if actor.role is Role.operator:
            refused |= {n for n in names if n not in refused and services[n].provider != actor.provider_id}
        span = time_range(events) if events else (now, now)
        whole = not (refused or span is None or span[0] < oldest or span[1] > newest)  # nothing to refuse
        if not whole:
            keep = self._check_each(events, indices or range(len(events)), epochs(events), services, actor, now, oldest, newest, result)
            events = [e for e, k in zip(events, keep) if k]
            if isinstance(slots, np.ndarray):
                slots = slots[np.fromiter(keep, dtype=bool, count=len(keep))]
        checked = len(events)
        with self._lock:
            ids = cols.ids if cols is not None and whole else list(map(_id, events))
            # Dedup.admit: the check and the durable commit of the fresh ids at once (one pass
            # over the seen set); a bus's own dedup (JetStream) checks, then commits
            admit = getattr(self.dedup, "admit", None)
            fresh = admit(ids, now) if admit is not None else self.dedup.fresh(ids)
            if fresh is not None and fresh.count(False):
                events = [e for e, f in zip(events, fresh) if f]
                ids = [e.id for e in events]
                if isinstance(slots, np.ndarray):
                    slots = slots[np.fromiter(fresh, dtype=bool, count=len(fresh))]
            result.duplicates = checked - len(events)
            if admit is None:
                self.dedup.commit(ids, now)
            result.accepted = len(events)
            if events:
                # the names and range checked above still describe the batch if none was dropped
                same = whole and len(events) == checked
                self._known = (events, (distinct, span) if same else None, slots,
                               cols.services if same and cols is not None else None)
                try:
                    dup = self.bus.publish(events)  # a deduplicating bus answers how many it had already
                finally:
                    self._known = None
                if dup:
                    result.accepted -= dup
                    result.duplicates += dup
            # under the lock: batches are counted from several request threads at once
            self.rejected_total += len(result.rejected)
            self.duplicates_total += result.duplicates
        result.rejected.sort(key=lambda r: r["index"])
        return result

    def _check_each(self, events: list[WireEvent], indices: Any, times: Any, services: dict[str, Any], actor: Actor,
                    now: float, oldest: float, newest: float, result: IngestResult) -> list[bool]:
        """The per-event checks, in order: service known, poster permitted, not too far ahead,
        not too old. Each refusal names the event's index and reason; answers keep/refuse."""
        keep: list[bool] = []
        for e, i, t in zip(events, indices, times.tolist()):
            keep.append(False)
            info = services.get(e.service)
            if info is None:
                result.rejected.append({"index": i, "reason": f"未登记的服务 / unknown service: {e.service}"})
                continue
            if actor.role is Role.operator and info.provider != actor.provider_id:
                result.rejected.append({"index": i, "reason": f"无权为服务 {e.service} 上报 / {actor.label} may not report for service {e.service}"})
                continue
            if t > newest:
                result.rejected.append({"index": i, "reason": f"时间超前 {t - now:.0f} 秒 / time is {t - now:.0f} s in the future "
                                                             f"(at most {self.settings.max_future_seconds:.0f} s allowed)"})
                continue
            if t < oldest:
                result.rejected.append({"index": i, "reason": f"时间过旧 {now - t:.0f} 秒 / time is {now - t:.0f} s in the past "
                                                             f"(at most {self.settings.max_age_seconds:.0f} s accepted)"})
                continue
            keep[-1] = True
        return keep
