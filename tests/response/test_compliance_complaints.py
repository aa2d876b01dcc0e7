"""Issue 18, item 5: complaint and report tickets (CN-TC-17): due the provider's published
handling limit after receipt, overdue tickets raise a warning once, handling resolves it, the
CLI and the API file them, and a ticket filed over the API counts into the complaints indicator."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest
from click.testing import CliRunner

from fenghuo.alerts import store as alert_store
from fenghuo.api.server import ServerThread
from fenghuo.cli import root
from fenghuo.control import services as registry
from fenghuo.ledger import service as ledger
from fenghuo.platform.clock import SYSTEM_CLOCK
from fenghuo.platform.config import Settings
from fenghuo.platform.errors import Conflict, Forbidden, Invalid
from fenghuo.platform.roles import Actor, Role
from fenghuo.registry.spec import parse_registration
from fenghuo.registry.tokens import create_token
from fenghuo.response import complaints
from fenghuo.response.report_clocks import parse
from tests.foundation.fixtures import ADMIN
from tests.response.compliance_db import fresh

REG = """
jurisdictions:
  - {id: cn, name: China, level: national}
providers:
  - {id: pa, name: A, jurisdiction: cn, complaint_limit: 15d}
  - {id: pb, name: B, jurisdiction: cn}
services:
  - {id: a-chat, name: A chat, provider: pa, sector: general, function: content_generation, modalities: [text], reach: 10,
     no_human_in_loop: false}
  - {id: b-chat, name: B chat, provider: pb, sector: general, function: content_generation, modalities: [text], reach: 10,
     no_human_in_loop: false}
"""
OP_A = Actor("alice", Role.operator, provider_id="pa")
OP_B = Actor("bob", Role.operator, provider_id="pb")


@pytest.fixture
def db(tmp_path, clock, tmp_path_factory):
    d = fresh(tmp_path, clock, tmp_path_factory)
    registry.register(d, ADMIN, parse_registration(REG))
    yield d
    d.dispose()


def test_due_from_the_published_limit_overdue_warns_once_and_handling_resolves(db, clock):
    t0 = clock.now()
    v = complaints.file_complaint(db, OP_A, "a-chat", "complaint", "the bot gave me wrong dosage advice", channel="phone")
    assert parse(v["due_at"]) == t0 + timedelta(days=15) and v["limit"] == "15d" and v["status"] == "open"
    clock.advance(days=15)
    assert complaints.check_overdue(db) == []  # due at the limit itself: still on time
    clock.advance(seconds=1)
    (b,) = complaints.check_overdue(db)
    assert b["complaint"] == v["id"] and complaints.check_overdue(db) == []
    (w,) = alert_store.open_warnings(db, "a-chat")
    assert w["labels"]["source"] == "response.clock" and w["labels"]["complaint"] == v["id"] and w["level"] == "yellow"
    h = complaints.handle(db, OP_A, v["id"], "advice corrected; rule added", feedback="called back with the result")
    assert h["status"] == "closed" and h["overdue"] and h["feedback_sent"]
    assert alert_store.open_warnings(db, "a-chat") == []
    assert complaints.counts(db, OP_A) == {"total": 1, "open": 0, "handled": 0, "closed": 1, "overdue": 1, "no_limit": 0}
    assert ledger.verify(db).ok


def test_no_published_limit_is_said_and_nothing_is_due(db):
    v = complaints.file_complaint(db, OP_B, "b-chat", "report", "illegal content")
    assert v["due_at"] is None and "CN-TC-17" in v["note"]


def test_refusals(db):
    with pytest.raises(Forbidden):
        complaints.file_complaint(db, OP_B, "a-chat", "complaint", "x")  # another provider's service
    with pytest.raises(Invalid):
        complaints.file_complaint(db, OP_A, "a-chat", "praise", "x")
    with pytest.raises(Invalid):
        complaints.file_complaint(db, OP_A, "a-chat", "complaint", "  ")
    v = complaints.file_complaint(db, OP_A, "a-chat", "complaint", "x")
    with pytest.raises(Conflict):
        complaints.feedback(db, OP_A, v["id"], "told")  # not handled yet
    complaints.handle(db, OP_A, v["id"], "done")
    with pytest.raises(Conflict):
        complaints.handle(db, OP_A, v["id"], "again")
    assert complaints.feedback(db, OP_A, v["id"], "told")["status"] == "closed"


def test_received_at_sets_the_clock(db, clock):
    clock.advance(days=3)
    got = clock.now() - timedelta(days=2)
    v = complaints.file_complaint(db, OP_A, "a-chat", "complaint", "x", received_at=got.isoformat())
    assert parse(v["due_at"]) == got + timedelta(days=15)


def test_cli_files_and_lists(tmp_path, tmp_path_factory):
    d = fresh(tmp_path, SYSTEM_CLOCK, tmp_path_factory)
    registry.register(d, ADMIN, parse_registration(REG))
    r = CliRunner().invoke(root, ["--db", d.url, "complaint", "file", "a-chat", "--content", "rude answer", "--json"])
    assert r.exit_code == 0, r.output
    tid = json.loads(r.output)["id"]
    r = CliRunner().invoke(root, ["--db", d.url, "complaint", "list", "--json"])
    assert [x["id"] for x in json.loads(r.output)] == [tid]
    assert CliRunner().invoke(root, ["--db", d.url, "complaint", "handle", tid, "--result", "apologised"]).exit_code == 0
    r = CliRunner().invoke(root, ["--db", d.url, "complaint", "file", "a-chat", "--content", "x", "--category", "praise"])
    assert r.exit_code != 0


def test_api_ticket_counts_into_the_complaints_indicator(tmp_path, tmp_path_factory):
    d = fresh(tmp_path, SYSTEM_CLOCK, tmp_path_factory)
    registry.register(d, ADMIN, parse_registration(REG))
    tok = create_token(d, ADMIN, "alice", Role.operator, provider_id="pa")
    h = {"Authorization": f"Bearer {tok}"}
    with ServerThread(d, Settings(heartbeat_seconds=0.2, poll_seconds=0.05, checkpoint_seconds=0)) as srv:
        r = httpx.post(f"{srv.url}/api/v1/complaints", headers=h, json={"service": "a-chat", "category": "complaint",
                                                                          "content": "wrong answer", "channel": "in_app"})
        assert r.status_code == 200, r.text
        assert r.json()["due_at"] and r.json()["counted"] is True
        ind = httpx.get(f"{srv.url}/api/v1/indicators/a-chat", headers=h).json()
        assert ind["windows"]["1m"]["complaints"] == 1  # the indicator the complaint rules watch
        counts = httpx.get(f"{srv.url}/api/v1/complaint-counts", headers=h).json()
        assert counts["open"] == 1
