"""Issue 18, item 2: the report items of CN-IR-07/09 and the open path on CLI and HTTP.

Item 2 of an initial report holds type, place, harm so far, and measures with their effect; a
``--field harm=…`` always lands in the report; a summary needs 应对处置 and 责任追究 besides cause,
harm, rectification and lessons. ``incident open --detected-at`` works on the CLI and the API."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from fenghuo.api.server import ServerThread
from fenghuo.cli import root
from fenghuo.platform.clock import SYSTEM_CLOCK, iso
from fenghuo.platform.config import Settings
from fenghuo.platform.errors import Invalid
from fenghuo.platform.roles import Role
from fenghuo.registry.tokens import create_token
from fenghuo.response import incidents, reports
from fenghuo.response.report_clocks import parse
from tests.foundation.fixtures import ADMIN, OP_A, seed
from tests.response.compliance_db import fresh


@pytest.fixture
def db(tmp_path, clock, tmp_path_factory):
    """SQLite only (a PostgreSQL schema costs ~3 s of migrations; test_compliance_incidents
    runs the new schema on both)."""
    d = fresh(tmp_path, clock, tmp_path_factory)
    yield d
    d.dispose()


FULL = {"type": "信息内容安全事件", "harm": "3 users got dosage advice", "measures": "paused; no further answers"}


def item(rep: dict, n: int) -> dict:
    return rep["items"][n - 1]


def test_item_2_holds_type_place_harm_and_measures(db, tmp_path):
    seed(db)
    inc = incidents.open_incident(db, OP_A, "a-med", "III", "unsafe advice")
    bare = reports.generate(db, OP_A, inc["id"], "initial", out_dir=tmp_path)
    it2 = item(bare, 2)
    assert not it2["filled"] and not bare["complete"] and len(it2["missing"]) == 3
    assert "Haidian" in it2["text"]  # place defaults to the service's jurisdiction
    rep = reports.generate(db, OP_A, inc["id"], "initial", {**FULL, "place": "海淀区某医院"}, out_dir=tmp_path)
    it2 = item(rep, 2)
    assert it2["filled"] and rep["complete"]
    for text in (*FULL.values(), "海淀区某医院"):
        assert text in it2["text"]


def test_every_field_given_lands_in_the_report(db, tmp_path):
    seed(db)
    inc = incidents.open_incident(db, OP_A, "a-med", "III", "x")
    fields = {**FULL, "trend": "stable", "cause": "prompt injection", "leads": "one account", "planned": "retrain",
              "scene": "logs kept", "other": "none"}
    rep = reports.generate(db, OP_A, inc["id"], "update", fields, out_dir=tmp_path)
    body = json.dumps(rep["items"], ensure_ascii=False)
    assert all(v in body for v in fields.values())
    with pytest.raises(Invalid) as e:  # summary-only fields are refused in an initial report, never dropped
        reports.generate(db, OP_A, inc["id"], "initial", {**FULL, "lessons": "x"}, out_dir=tmp_path)
    assert "lessons" in e.value.en


def test_summary_requires_handling_and_accountability(db, tmp_path):
    seed(db)
    inc = incidents.open_incident(db, OP_A, "a-med", "III", "x")
    incidents.end_handling(db, OP_A, inc["id"], "done")
    four = {"cause": "c", "harm": "h", "rectification": "r", "lessons": "l"}
    with pytest.raises(Invalid) as e:
        reports.generate(db, OP_A, inc["id"], "summary", four, out_dir=tmp_path)
    assert {"应对处置 handling", "责任追究 accountability"} == set(e.value.details["missing"])
    rep = reports.generate(db, OP_A, inc["id"], "summary", {**four, "handling": "paused in 2 s", "accountability": "owner warned"},
                           out_dir=tmp_path)
    assert list(rep["summary"]) == ["cause", "handling", "harm", "accountability", "rectification", "lessons"]
    md = Path(rep["files"]["md"]).read_text(encoding="utf-8")
    assert "应对处置 / Handling**: paused in 2 s" in md and "责任追究 / Accountability**: owner warned" in md


def test_cli_open_detected_at_update_and_duty(tmp_path, tmp_path_factory):
    db = fresh(tmp_path, SYSTEM_CLOCK, tmp_path_factory)
    seed(db)
    args = ["--db", db.url]
    found = iso(SYSTEM_CLOCK.now() - timedelta(hours=2))
    r = CliRunner().invoke(root, [*args, "incident", "open", "a-chat", "--grade", "IV", "--title", "leak", "--detected-at", found,
                                  "--impact", "pi_persons=1,200,000", "--json"])
    assert r.exit_code == 0, r.output
    v = json.loads(r.output)
    assert v["grade"] == "III" and v["detected_at"] == found
    assert parse(v["clocks"][0]["due_at"]) - parse(found) == timedelta(hours=4)
    r = CliRunner().invoke(root, [*args, "incident", "update", v["id"], "--flag", "suspected_crime", "--json"])
    assert r.exit_code == 0, r.output
    assert [d["duty"] for d in json.loads(r.output)["duties"]] == ["police_report"]
    r = CliRunner().invoke(root, [*args, "incident", "duty", v["id"], "police_report", "--field", "to=海淀分局"])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(root, [*args, "incident", "open", "a-med", "--grade", "III", "--title", "x", "--detected-at", "tomorrow"])
    assert r.exit_code != 0 and "detected_at" in r.output


def test_api_open_with_detected_at_and_impact(tmp_path, tmp_path_factory):
    db = fresh(tmp_path, SYSTEM_CLOCK, tmp_path_factory)
    seed(db)
    tok = create_token(db, ADMIN, "alice", Role.operator, provider_id="pa")
    h = {"Authorization": f"Bearer {tok}"}
    found = iso(SYSTEM_CLOCK.now() - timedelta(minutes=30))
    with ServerThread(db, Settings(heartbeat_seconds=0.2, poll_seconds=0.05, checkpoint_seconds=0)) as srv:
        r = httpx.post(f"{srv.url}/api/v1/incidents", headers=h, json={"service": "a-chat", "grade": "IV", "title": "leak",
                                                                         "detected_at": found, "impact": {"pi_persons": 1_000_000}})
        assert r.status_code == 200, r.text
        v = r.json()
        assert v["grade"] == "III" and v["detected_at"] == found
        assert parse(v["clocks"][0]["due_at"]) - parse(found) == timedelta(hours=4)
        r = httpx.post(f"{srv.url}/api/v1/incidents/{v['id']}/update", headers=h, json={"flags": ["vulnerability"]})
        assert r.status_code == 200, r.text
        (d,) = r.json()["duties"]
        assert parse(d["due_at"]) - parse(found) == timedelta(hours=24)
        r = httpx.post(f"{srv.url}/api/v1/incidents/{v['id']}/duties/vulnerability_report", headers=h, json={"content": {}})
        assert r.status_code == 400 or r.status_code == 422
