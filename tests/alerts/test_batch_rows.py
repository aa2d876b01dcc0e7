"""The rules' pass after a counted batch takes the batch's services and rows from the indicators
(issue 19) instead of rebuilding the set of services from the events and looking each row up
again: the same services, each once, the same warnings; a batch whose rows were dropped since
(eviction) or another list of events falls back to the lookups."""

from __future__ import annotations

import random

from sqlalchemy import select

from fenghuo.alerts.models import WarningRow
from fenghuo.monitor.indicators import Indicators
from tests.monitor.helpers import call
from tests.monitor.test_fold import T0, WINDOWS, random_event

RULES = """
rules:
  - {name: viol, services: {ids: [a-chat, b-chat]}, indicator: output_violation_rate, window: 1m,
     threshold: {op: ">", value: 0.5}, for: 0s, min_samples: 4, level: red, description: r}
"""


class _CountingRows(dict):
    """``row_of`` that counts lookups by ``get`` (how ingest and the screen find rows)."""

    gets = 0

    def get(self, key, default=None):
        type(self).gets += 1
        return super().get(key, default)


def test_batch_rows_are_the_distinct_services_once():
    rng = random.Random(3)
    ind = Indicators(WINDOWS)
    for k in range(30):
        # times spread over seconds and hours: a service in several groups of a batch
        batch = [random_event(rng, 1000 * k + i, T0) for i in range(rng.choice([1, 5, 80]))]
        ind.apply(batch, T0)
        with ind.lock:
            assert ind.batch_rows(list(batch)) is None  # not the batch applied
            ind.apply(batch, T0)
            services, rows = ind.batch_rows(batch)
            assert sorted(services) == sorted({e.service for e in batch})
            assert rows.tolist() == [ind.row_of[s] for s in services]
            assert ind.batch_rows(batch) is None  # taken once


def test_batch_rows_none_once_rows_are_dropped():
    ind = Indicators(WINDOWS, max_services=2)
    rng = random.Random(5)
    batch = [random_event(rng, i, T0) for i in range(60)]
    assert len({e.service for e in batch}) == 3
    ind.apply(batch, T0)  # over the cap: the stalest rows are dropped at once
    assert len(ind.row_of) < 3
    with ind.lock:
        assert ind.batch_rows(batch) is None


def test_rules_pass_does_not_look_rows_up_again(rig, db, clock):
    r = rig(RULES)
    ind = r.monitor.indicators
    ind.row_of = _CountingRows(ind.row_of)
    t = clock.now().timestamp()
    # a-chat's events in two seconds (two groups of one service), b-chat's in one
    events = [call("a-chat", t - 1, unsafe=True) for _ in range(3)] + [call("a-chat", t, unsafe=True) for _ in range(3)]
    events += [call("b-chat", t, unsafe=i < 1) for i in range(6)] + [call("a-med", t, unsafe=True)]
    assert r.post([call(s, t) for s in ("a-chat", "b-chat", "a-med")])["accepted"] == 3  # rows made
    _CountingRows.gets = 0
    assert r.post(events)["accepted"] == len(events)
    # the fold's groups found their rows by directory slot (none by name: it looked up 4, a-chat
    # in two seconds, before monitor.directory's slots) and a-chat's per-service pass read its one
    # indicator (1); the screen none (it looked up 3 more)
    assert _CountingRows.gets == 1
    with db.reader() as s:
        warned = s.execute(select(WarningRow.service_id, WarningRow.state)).all()
    assert warned == [("a-chat", "firing")]
    # the tick's pass (no batch) still finds its rows itself, and fires nothing more
    _CountingRows.gets = 0
    r.advance(1)
    assert _CountingRows.gets >= 1
    with db.reader() as s:
        assert s.execute(select(WarningRow.service_id, WarningRow.state)).all() == [("a-chat", "firing")]
