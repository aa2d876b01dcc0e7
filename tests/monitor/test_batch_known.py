"""What ingest already knows of a batch (issue 19): ``Monitor._ingest`` checks a batch with its
set of services and its time range, and hands both to the fold (``Indicators.apply(known=…)``)
instead of the fold building them again — but only while they still describe the batch, i.e.
when no event was refused or dropped as a duplicate in between."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import msgspec
import numpy as np

from fenghuo.control import services as registry
from fenghuo.demo.fleet import batches
from fenghuo.monitor import native
from fenghuo.monitor.colfold import NATIVE_FROM, fold_columns
from fenghuo.monitor.fold import time_range
from fenghuo.monitor.ingest import Monitor
from fenghuo.platform.roles import local_actor
from fenghuo.registry.spec import RegistrationFile
from tests.monitor.helpers import call
from tests.monitor.test_fold import T0, random_event


def _same(a, b) -> None:
    assert a.services == b.services
    for field in ("seconds", "counts", "hist_group", "hist_key", "hist_count"):
        assert np.array_equal(getattr(a, field), getattr(b, field)), field
    assert a.cats == b.cats and a.seen == b.seen and a.same_time == b.same_time


def test_fold_with_known_facts_equals_fold_without():
    rng = random.Random(11)
    for k in range(40):
        n = rng.choice([3, 40, NATIVE_FROM, 200])
        names = [f"s{i}" for i in range(rng.choice([1, 5, n]))]
        events = []
        for i in range(n):
            e = random_event(rng, k * 1000 + i, T0)
            e.service = rng.choice(names)
            events.append(e)
        if k % 2:  # one instant, as a guard's batch
            for e in events:
                e.time = events[0].time
        known = (len({e.service for e in events}), time_range(events))
        _same(fold_columns(events, T0, known), fold_columns(events, T0))


def test_a_duplicate_dropped_from_a_batch_leaves_the_fold_to_count_services_itself(db, monkeypatch):
    """65 events: 63 services once, one of them twice more, and a redelivery. The names checked
    (64) equal the events left after dedup (64) though a service repeats: handed to the fold,
    that count would have read every event as a service of its own. A whole batch hands them on."""
    for part in batches(70):
        registry.register(db, local_actor(), part if not part.jurisdictions else RegistrationFile(
            jurisdictions=part.jurisdictions, providers=part.providers, services=part.services))
    monitor = Monitor(db)
    monitor.start()
    handed = []
    apply = monitor.indicators.apply

    listed = []

    def recording(events, now, sink=None, known=None, slot_of=None, services=None):  # the real fold, its ``known`` noted
        handed.append(known)
        # each event's service as the decoder listed it, only while the list is the batch's
        listed.append(services is not None)
        assert services is None or services == [e.service for e in events]
        # the directory slots go on with the batch: per event (the kernel's lookup), the dropped
        # redelivery's taken out with it, or per service (the dict path)
        if isinstance(slot_of, np.ndarray):
            assert [monitor.directory.names[s] for s in slot_of.tolist()] == [e.service for e in events]
        else:
            assert all(monitor.directory.names[slot_of[e.service]] == e.service for e in events)
        return apply(events, now, sink, known, slot_of, services)

    monkeypatch.setattr(monitor.indicators, "apply", recording)
    names = sorted(monitor.directory.services)[:65]
    when = datetime.fromtimestamp(monitor.now(), UTC)
    first = [call(names[64], when, id="redelivered")]
    assert monitor.ingest_body(msgspec.json.encode(first), local_actor()).accepted == 1
    batch = [call(s, when) for s in names[:63]] + [call(names[0], when), call(names[64], when, id="redelivered")]
    got = monitor.ingest_body(msgspec.json.encode(batch), local_actor())
    assert (got.accepted, got.duplicates) == (64, 1)
    t = when.timestamp()
    assert handed == [(1, (t, t)), None]
    assert listed == [native.decoder is not None, False]
    assert len(batch) - 1 >= NATIVE_FROM  # the per-event fold, where the count of services matters
    now = monitor.now()
    assert monitor.indicators.snapshot(names[0], now)["windows"]["1m"]["calls"] == 2
    assert monitor.indicators.snapshot(names[1], now)["windows"]["1m"]["calls"] == 1
    assert monitor.indicators.snapshot(names[64], now)["windows"]["1m"]["calls"] == 1
