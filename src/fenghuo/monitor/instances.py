"""The latest state of each guard instance, as the monitor sees it in events: (service, instance)
→ (last seen, enforced state version, state, failsafe).

Why one flat dict and not service → instance → state (issue 19): a batch spread over 1,000
services touched 1,000 inner dicts one event at a time (~10 µs per event with the collections it
set off), and at 100,000 services the inner dicts, each a tracked container, made up most of what
the cyclic collector walked on every full collection. Here a batch's latest states are built by
zipping its columns in C (``latest_of``) and merged with one ``dict.update`` when the batch is not
older than anything held (the usual case: time moves forward); the values are tuples of plain
values, which the collector stops tracking the first time it sees them.

Reads per service (the API, /metrics, the console) go through an index service → instance names
that is brought up to date lazily, from the keys added since the last read, so ingest pays
nothing for it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from itertools import filterfalse
from operator import attrgetter
from typing import Any

import numpy as np

from fenghuo.monitor.colfold import NATIVE, Folded
from fenghuo.monitor.fold import epochs

Key = tuple[str, str]
State = tuple[float, Any, Any, bool]  # (last seen, version, state, failsafe)

_instance = attrgetter("instance")
_version = attrgetter("state_version")
_state = attrgetter("state")
_failsafe = attrgetter("failsafe")


class InstanceStore:
    def __init__(self) -> None:
        self.latest: dict[Key, State] = {}
        self.newest = -math.inf  # the latest "last seen" ever merged
        self._names: dict[str, list[str]] = {}  # service -> instance names (up to date after _sync)
        self._pending: list[Key] = []  # keys added since the index was last brought up to date

    def merge(self, batch: dict[Key, State], oldest: float, newest: float) -> None:
        """Merge a batch's latest states (``oldest``/``newest``: its smallest and largest time).
        A held state is replaced by one at an equal or later time."""
        if not batch:
            return
        latest = self.latest
        # the keys not held yet, in batch order, picked out in C (a spread batch's first touch:
        # every key is new; ``batch.keys() - latest.keys()`` would walk all of ``latest``)
        self._pending += filterfalse(latest.__contains__, batch)
        if oldest >= self.newest:
            latest.update(batch)  # nothing held is later than anything in the batch
        else:
            get = latest.get
            for k, v in batch.items():
                p = get(k)
                if p is None or v[0] >= p[0]:
                    latest[k] = v
        if newest > self.newest:
            self.newest = newest

    def merge_events(self, events: list[Any], t: float) -> bool:
        """``merge(*latest_of(...))`` of a batch whose events all have the time ``t``, in one C
        pass (``_ingestnative.merge_latest``: no batch dict, each key hashed once), when the
        kernel is built and nothing held is later than ``t``; False when not done here."""
        if NATIVE is None or t < self.newest or type(t) is not float:
            return False
        try:
            named = NATIVE.merge_latest(events, t, self.latest, self._pending)
        except TypeError:
            return False  # checked before anything is merged: the caller merges as usual
        if named and t > self.newest:  # as ``merge``: a batch naming no instance changes nothing
            self.newest = t
        return True

    def _sync(self) -> dict[str, list[str]]:
        if self._pending:
            names = self._names
            for s, i in self._pending:
                have = names.get(s)
                if have is None:
                    names[s] = [i]
                else:
                    have.append(i)
            self._pending = []
        return self._names

    def of(self, service: str) -> dict[str, State]:
        """instance → state of one service."""
        latest = self.latest
        return {i: latest[(service, i)] for i in self._sync().get(service, ())}

    def drop(self, services: Iterable[str]) -> None:
        names = self._sync()
        latest = self.latest
        for s in services:
            for i in names.pop(s, ()):
                del latest[(s, i)]

    def services(self) -> Iterator[str]:
        return iter(list(self._sync()))

    def __len__(self) -> int:
        return len(self.latest)


class ByService(Mapping[str, dict[str, State]]):
    """``Indicators.instances``: service → {instance → state}, read from the store."""

    def __init__(self, store: InstanceStore) -> None:
        self.store = store

    def __getitem__(self, service: str) -> dict[str, State]:
        got = self.store.of(service)
        if not got:
            raise KeyError(service)
        return got

    def __iter__(self) -> Iterator[str]:
        return self.store.services()

    def __len__(self) -> int:
        return len(self.store._sync())


def latest_of(services: list[str], events: list[Any], times: np.ndarray | None, same_time: float | None,
              now: float) -> tuple[dict[Key, State], float, float] | None:
    """The latest state per (service, instance) in a batch, with the batch's smallest and largest
    time; equal times go to the later event. ``times``: each event's time (clamped to ``now``),
    or ``same_time`` when every event has that one time (both None: read from the events).
    None when no event names an instance."""
    if same_time is not None and NATIVE is not None and type(same_time) is float:
        try:
            got = NATIVE.latest(events, same_time)  # the same dict, built in one C pass
        except TypeError:
            pass  # not the event structs the kernel knows: the Python path below decides
        else:
            return None if got is None else (got, same_time, same_time)
    insts = list(map(_instance, events))
    if insts.count(None) == len(insts):
        return None
    n = len(events)
    if same_time is not None:
        tl: list[float] = [same_time] * n
        lo = hi = same_time
    else:
        if times is None:
            times = np.minimum(epochs(events), now)
        tl = times.tolist()
        lo, hi = float(times.min()), float(times.max())
    keys = list(zip(services, insts))
    vals = list(zip(tl, map(_version, events), map(_state, events), map(_failsafe, events)))
    if same_time is None and n > 1 and bool((times[1:] < times[:-1]).any()):  # type: ignore[index]
        order = np.argsort(times, kind="stable").tolist()  # ties keep the batch order: later wins
        keys = [keys[i] for i in order]
        vals = [vals[i] for i in order]
    if None in insts:
        pairs = [(k, v) for k, v in zip(keys, vals) if k[1] is not None]
        return dict(pairs), lo, hi
    return dict(zip(keys, vals)), lo, hi


def latest_of_folded(f: Folded, now: float) -> tuple[dict[Key, State], float, float] | None:
    """The batch's latest state per guard instance from either fold (colfold.py): read from
    the events (``latest_of``), or from the per-service fold's ``seen``."""
    if f.seen is None:
        return latest_of(f.event_services, f.events, f.times, f.same_time, now)  # type: ignore[arg-type]
    batch = {(s, k): tuple(v) for s, inst in f.seen.items() for k, v in inst.items()}
    if not batch:
        return None
    ts = [v[0] for v in batch.values()]
    return batch, min(ts), max(ts)  # type: ignore[return-value]
