"""Issue 18, item 8: records kept at least six months (183 days: CN-PO-20, CN-LB-18, EU-06);
pruning refuses anything younger; ``fenghuo retention status`` says what each store keeps."""

from __future__ import annotations

import json
import os
from datetime import timedelta

import pytest
from click.testing import CliRunner

from fenghuo.cli import root
from fenghuo.ledger import service as ledger
from fenghuo.platform.clock import SYSTEM_CLOCK
from fenghuo.platform.db import Database
from fenghuo.platform.errors import Invalid
from fenghuo.platform.roles import local_actor
from fenghuo.retention import policy, prune, status


def test_default_is_six_months_and_shorter_is_refused(monkeypatch):
    monkeypatch.delenv(policy.ENV, raising=False)
    assert policy.days() == 183
    assert policy.days({policy.ENV: "365"}) == 365
    with pytest.raises(policy.RetentionError):
        policy.days({policy.ENV: "182"})


def test_refuse_younger_than_the_period():
    now = SYSTEM_CLOCK.now()
    policy.refuse_younger(now - timedelta(days=183), now, 183)
    with pytest.raises(policy.RetentionError):
        policy.refuse_younger(now - timedelta(days=182, hours=23), now, 183)


def _run(home, name: str, days_ago: float) -> None:
    d = home / "runs" / name
    d.mkdir(parents=True)
    created = (SYSTEM_CLOCK.now() - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%S%z")
    (d / "manifest.json").write_text(json.dumps({"created": created}), encoding="utf-8")


@pytest.fixture
def db(tmp_path):
    d = Database(str(tmp_path / "r.db"), clock=SYSTEM_CLOCK)
    d.upgrade()
    yield d
    d.dispose()


def test_prune_deletes_only_what_is_older_and_records_it(db, fenghuo_home):
    _run(fenghuo_home, "old", 200)
    _run(fenghuo_home, "young", 100)
    now = SYSTEM_CLOCK.now()
    with pytest.raises(Invalid):  # a cut-off inside the six months is refused outright
        prune.prune(db, local_actor(), "runs", (now - timedelta(days=150)).isoformat())
    with pytest.raises(Invalid):
        prune.prune(db, local_actor(), "ledger", (now - timedelta(days=300)).isoformat())
    v = prune.prune(db, local_actor(), "runs", (now - timedelta(days=190)).isoformat())
    assert v["pruned"] == ["old"] and sorted(os.listdir(fenghuo_home / "runs")) == ["young"]
    assert ledger.verify(db).ok


def test_status_lists_every_store_and_names_the_replay_stream(db, fenghuo_home):
    _run(fenghuo_home, "r1", 10)
    v = status.status(db)
    stores = {r["store"]: r for r in v["stores"]}
    assert {"ledger", "warnings", "incidents", "complaints", "evaluation runs", "incident report files"} <= set(stores)
    assert stores["evaluation runs"]["records"] == 1 and v["retention_days"] == 183
    assert stores["telemetry summaries (hourly, per service)"]["ok"] and stores["telemetry summaries (hourly, per service)"]["kept"] == "≥ 183 d"
    nats = [r for r in v["stores"] if r["store"].startswith("telemetry events")]
    assert not nats or "replay log only" in nats[0]["note"]  # the 7-day stream is only the replay log: said, not hidden
    r = CliRunner().invoke(root, ["--db", db.url, "retention", "status", "--json"])
    assert r.exit_code in (0, 1) and json.loads(r.output)["minimum_days"] == 183
