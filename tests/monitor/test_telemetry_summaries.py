"""Issue 18 item 8: durable hourly telemetry summaries per service, written by the monitor's
ingest path (accumulated in memory, flushed on the response tick or when the hour rolls over),
kept ≥ 183 days, pruned only when older (recorded in the ledger); migration 0016 up/down/up on
SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from click.testing import CliRunner
from sqlalchemy import inspect, select

from fenghuo.cli import root
from fenghuo.ledger import service as ledger
from fenghuo.ledger.models import LedgerEntry
from fenghuo.monitor import summaries
from fenghuo.monitor.ingest import Monitor
from fenghuo.monitor.window import Bucket
from fenghuo.platform.clock import ManualClock
from fenghuo.platform.db import Database
from fenghuo.platform.errors import Invalid
from fenghuo.platform.migrate import config
from fenghuo.platform.roles import local_actor
from fenghuo.retention import prune, status
from tests.monitor.helpers import call, other, seed

HOUR_10 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    return ManualClock(HOUR_10 + timedelta(minutes=59, seconds=30))


@pytest.fixture
def db(tmp_path, clock):  # this package's conftest makes one without the manual clock
    d = Database(str(tmp_path / "s.db"), clock=clock)
    d.upgrade()
    seed(d)
    yield d
    d.dispose()


def _post(monitor: Monitor, events) -> None:
    r = monitor.ingest_body(json.dumps(events).encode(), local_actor())
    assert r.accepted == len(events), r.to_dict()


def _expected(events) -> dict[str, int]:
    calls = [e for e in events if e["type"] == "call"]
    return {
        "calls": len(calls),
        "refusals": sum(e["status"] == "refused" or e["route"] == "refused" for e in calls),
        "in_violations": sum(e["input"]["blocked"] or bool(e["input"]["categories"]) for e in calls),
        "out_violations": sum(e["output"]["blocked"] or bool(e["output"]["categories"]) for e in calls),
        "out_blocked": sum(e["output"]["blocked"] for e in calls),
        "complaints": sum(e["type"] == "complaint" for e in events),
    }


def _rows(db, service="a-chat"):
    return summaries.read(db, service)


def test_ingested_events_become_hourly_rows_with_exact_counts(db, clock):
    monitor = Monitor(db)
    monitor.start()
    now = clock.now()
    first = [call("a-chat", now, latency=100.0 * (i + 1)) for i in range(5)]
    first += [call("a-chat", now, unsafe=True, category="A1") for _ in range(2)]
    first += [call("a-chat", now, unsafe=True, category="B2")]
    first += [call("a-chat", now, input={"blocked": True, "categories": ["C3"]})]
    first += [call("a-chat", now, status="refused", route="refused")]
    first += [other("complaint", "a-chat", now, detail="bad") for _ in range(2)]
    first += [call("b-chat", now), call("b-chat", now)]
    _post(monitor, first)
    # nothing written yet: the hour is open and the flush interval has not passed
    assert monitor.summaries.tick() == [] and _rows(db) == []
    clock.advance(40)  # 11:00:10 — the hour rolls over
    second = [call("a-chat", clock.now(), latency=50.0) for _ in range(3)]
    _post(monitor, second)
    monitor.summaries.tick()  # rolled over: flushed at once, before FLUSH_SECONDS
    rows = _rows(db)
    assert [r["period_start"] for r in rows] == [HOUR_10.timestamp(), HOUR_10.timestamp() + 3600]
    a_first = [e for e in first if e["service"] == "a-chat"]
    for row, evs in zip(rows, (a_first, second)):
        assert {k: row["counts"][k] for k in _expected(evs)} == _expected(evs)
        assert row["period_seconds"] == 3600
    assert rows[0]["out_categories"] == {"A1": 2, "B2": 1} and rows[0]["in_categories"] == {"C3": 1}
    assert rows[0]["latency_count"] == 10  # every call of the hour carries a latency (helper default 100)
    assert rows[0]["latency_max"] == pytest.approx(500.0, rel=0.011)
    assert rows[1]["latency_p50"] == pytest.approx(50.0, rel=0.011)
    assert [r["counts"]["calls"] for r in _rows(db, "b-chat")] == [2]
    # a later flush of the same hour adds to its row (exact sums, histogram merged)
    third = [call("a-chat", clock.now(), latency=1000.0)]
    _post(monitor, third)
    assert monitor.summaries.tick() == [] and _rows(db)[1]["counts"]["calls"] == 3  # not due yet
    clock.advance(summaries.FLUSH_SECONDS)
    monitor.summaries.tick()
    row = _rows(db)[1]
    assert row["counts"] == {**row["counts"], **_expected(second + third)}
    assert row["latency_count"] == 4 and row["latency_max"] == pytest.approx(1000.0, rel=0.011)
    assert monitor.summaries.flush() == 0  # nothing pending


def _stored(db, clock, service: str, days_ago: float, calls: int) -> None:
    b = Bucket()
    b.calls = calls
    s = summaries.Summaries(db)
    s.add([(service, int((clock.now() - timedelta(days=days_ago)).timestamp()), b)])
    s.flush()


def test_prune_refuses_younger_than_183_days_and_records_the_pruning(db, clock):
    _stored(db, clock, "a-chat", 200, 7)
    _stored(db, clock, "a-chat", 100, 5)
    st = {r["store"]: r for r in status.status(db)["stores"]}["telemetry summaries (hourly, per service)"]
    assert st["records"] == 2 and st["ok"] and st["kept"] == "≥ 183 d"
    assert st["oldest"].startswith((clock.now() - timedelta(days=200)).date().isoformat())
    now = clock.now()
    with pytest.raises(Invalid):
        prune.prune(db, local_actor(), "telemetry", (now - timedelta(days=182)).isoformat())
    assert len(_rows(db)) == 2
    dry = prune.prune(db, local_actor(), "telemetry", (now - timedelta(days=190)).isoformat(), dry_run=True)
    assert dry["pruned"] == 1 and len(_rows(db)) == 2
    v = prune.prune(db, local_actor(), "telemetry", (now - timedelta(days=190)).isoformat())
    assert v["pruned"] == 1
    assert [r["counts"]["calls"] for r in _rows(db)] == [5]
    with db.reader() as s:
        entries = s.scalars(select(LedgerEntry).where(LedgerEntry.kind == "retention.pruned")).all()
    assert [e.subject for e in entries] == ["retention:telemetry"]
    assert ledger.verify(db).ok


def test_cli_prune_telemetry_is_refused_inside_the_period(db, clock):
    r = CliRunner().invoke(root, ["--db", db.url, "retention", "prune", "--what", "telemetry", "--before",
                                  (datetime.now(UTC) - timedelta(days=30)).isoformat()])
    assert r.exit_code == 1 and "retention cut-off" in r.output


def _run(db, fn, revision: str) -> None:
    cfg = config()
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        fn(cfg, revision)


def test_migration_up_down_up(db_factory, clock):
    db = db_factory(clock)
    _stored(db, clock, "a-chat", 1, 3)
    assert Counter(r["counts"]["calls"] for r in _rows(db)) == {3: 1}
    _run(db, command.downgrade, "0015_user_measures")
    assert "telemetry_summaries" not in inspect(db.engine).get_table_names(schema=db_factory.schema)
    _run(db, command.upgrade, "head")
    assert "telemetry_summaries" in inspect(db.engine).get_table_names(schema=db_factory.schema)
    assert _rows(db) == []


def test_read_route_and_cli_with_the_indicators_scope(api, db, clock):
    _stored(db, clock, "a-chat", 1, 4)
    _stored(db, clock, "b-chat", 1, 2)
    r = api("GET", "/api/v1/services/a-chat/telemetry-summary")
    assert r.status_code == 200, r.text
    assert [h["counts"]["calls"] for h in r.json()["hours"]] == [4]
    later = (clock.now() - timedelta(hours=1)).isoformat()
    assert api("GET", "/api/v1/services/a-chat/telemetry-summary", params={"from": later}).json()["hours"] == []
    assert len(api("GET", "/api/v1/services/a-chat/telemetry-summary", params={"to": later}).json()["hours"]) == 1
    assert api("GET", "/api/v1/services/a-chat/telemetry-summary", "reg_bj").status_code == 200
    assert api("GET", "/api/v1/services/b-chat/telemetry-summary", "op_a").status_code in (403, 404)
    assert api("GET", "/api/v1/services/b-chat/telemetry-summary", "reg_bj").status_code in (403, 404)
    assert api("GET", "/api/v1/services/a-chat/telemetry-summary", params={"from": "soon"}).status_code == 422
    out = CliRunner().invoke(root, ["--db", db.url, "monitor", "summary", "b-chat", "--json"])
    assert out.exit_code == 0, out.output
    assert [h["counts"]["calls"] for h in json.loads(out.output)["hours"]] == [2]
