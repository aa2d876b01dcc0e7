"""Incidents and reporting clocks: grades, profiles chosen by the service's grade, the shortest
clause winning, a run-out clock raising a warning of its own, a late report resolving it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from fenghuo.alerts import store as alert_store
from fenghuo.ledger import service as ledger
from fenghuo.platform.errors import Conflict, Forbidden, Invalid
from fenghuo.response import incidents
from fenghuo.response import report_clocks as clocks
from fenghuo.response.report_clocks import parse
from tests.foundation.fixtures import AUDITOR, OP_A, OP_B, REG_BJ, seed


def test_reportable_incident_starts_4h_clock_and_breach_raises_warning(db, clock):
    seed(db)
    inc = incidents.open_incident(db, OP_A, "a-med", "较大", "unsafe medical advice")
    assert inc["grade"] == "III" and inc["profile"].startswith("cn-2025-operator@")
    (c,) = inc["clocks"]
    assert c["report"] == "initial" and parse(c["due_at"]) - parse(c["started_at"]) == timedelta(hours=4)
    clock.advance(hours=4)
    assert clocks.check_breaches(db) == []  # at the deadline itself a report is still on time
    clock.advance(seconds=1)
    (b,) = clocks.check_breaches(db)
    assert b["report"] == "initial" and clocks.check_breaches(db) == []  # raised once
    view = incidents.get(db, OP_A, inc["id"])
    assert view["clocks"][0]["status"] == "breached"
    (w,) = alert_store.open_warnings(db, "a-med")
    assert w["labels"]["source"] == "response.clock" and w["level"] == "orange" and w["id"] == view["clocks"][0]["warning"]
    assert ledger.verify(db).ok


def test_below_threshold_has_no_clock_and_cii_profile_is_1h(db):
    seed(db)
    inc = incidents.open_incident(db, OP_A, "a-chat", "一般", "minor")
    assert inc["clocks"] == []
    inc2 = incidents.open_incident(db, OP_B, "b-chat", "II", "cii outage", profile="cn-2025-cii")
    assert parse(inc2["clocks"][0]["due_at"]) - parse(inc2["clocks"][0]["started_at"]) == timedelta(hours=1)
    inc3 = incidents.open_incident(db, REG_BJ, "a-med", "I", "ordered", profile="cn-2025-central")
    assert inc3["source"] == "regulator"
    assert parse(inc3["clocks"][0]["due_at"]) - parse(inc3["clocks"][0]["started_at"]) == timedelta(hours=2)


def test_eu_profile_shortest_clause_by_flag(db):
    seed(db)
    inc = incidents.open_incident(db, OP_A, "a-med", "I", "harm", profile="eu-ai-act-art73", flags=["death"])
    assert parse(inc["clocks"][0]["due_at"]) - parse(inc["clocks"][0]["started_at"]) == timedelta(days=10)
    inc = incidents.open_incident(db, OP_A, "a-chat", "III", "ci", profile="eu-ai-act-art73", flags=["critical_infrastructure"])
    assert parse(inc["clocks"][0]["due_at"]) - parse(inc["clocks"][0]["started_at"]) == timedelta(days=2)


def test_end_handling_starts_30_day_summary_clock(db, clock):
    seed(db)
    inc = incidents.open_incident(db, OP_A, "a-med", "重大", "x")
    clock.advance(hours=1)
    v = incidents.end_handling(db, OP_A, inc["id"], "fixed")
    summary = [c for c in v["clocks"] if c["report"] == "summary"][0]
    assert parse(summary["due_at"]) - parse(v["ended_at"]) == timedelta(days=30)


def test_bad_input_refused(db):
    seed(db)
    with pytest.raises(Invalid):
        incidents.open_incident(db, OP_A, "a-med", "huge", "x")
    with pytest.raises(Invalid):
        incidents.open_incident(db, OP_A, "a-med", "I", "x", flags=["bad-flag"])
    with pytest.raises(Forbidden):
        incidents.open_incident(db, OP_B, "a-med", "I", "other provider")
    with pytest.raises(Forbidden):
        incidents.open_incident(db, AUDITOR, "a-med", "I", "auditor")
    incidents.open_incident(db, OP_A, "a-med", "I", "first")
    with pytest.raises(Conflict) as e:
        incidents.open_incident(db, OP_A, "a-med", "I", "second")
    assert e.value.code == "incident_open"
