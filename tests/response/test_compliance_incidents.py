"""Issue 18, items 1–2 and 11: reporting clocks and duties with every number written out here
from ../shared/research/regulations.md (never read back from the constant under test).

EU-13/14/15: 15 / 2 / 10 days from awareness, reportable on a serious-incident flag whatever
the grade, moved earlier by a flag added later. CN-IR-03/04/05: 1 / 2 / 4 hours by the
operator's legal designation, from discovery. CN-IR-09: 30 days. CN-IR-02: the Grading Guide's
computable thresholds. CN-IR-06, CN-EP-05, CN-EP-06 (24 hours): duties from flags."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from fenghuo.control import services as registry
from fenghuo.ledger import service as ledger
from fenghuo.platform.clock import iso
from fenghuo.platform.errors import Invalid
from fenghuo.registry.spec import parse_registration
from fenghuo.response import duties, incidents
from fenghuo.response import grading_guide as guide
from fenghuo.response.report_clocks import parse
from tests.foundation.fixtures import ADMIN
from tests.response.compliance_db import fresh

REG = """
jurisdictions:
  - {id: cn, name: China, level: national}
  - {id: cn-bj, name: Beijing, level: provincial, parent: cn}
  - {id: eu, name: European Union, level: supranational}
  - {id: eu-de, name: Deutschland, level: national, parent: eu}
providers:
  - {id: plain, name: Plain Co, jurisdiction: cn-bj}
  - {id: grid, name: Grid Operator, jurisdiction: cn-bj, operator_type: cii}
  - {id: hanse, name: Hanse GmbH, jurisdiction: eu-de}
services:
  - {id: chat, name: Chat, provider: plain, sector: general, function: content_generation, modalities: [text], reach: 1000,
     no_human_in_loop: false}
  - {id: judge, name: Judge, provider: plain, sector: justice, function: automated_decision, modalities: [text], reach: 1000,
     no_human_in_loop: true}
  - {id: ministry, name: Ministry bot, provider: plain, sector: general, function: content_generation, modalities: [text],
     reach: 1000, no_human_in_loop: false, operator_type: central}
  - {id: grid-bot, name: Grid bot, provider: grid, sector: general, function: content_generation, modalities: [text],
     reach: 1000, no_human_in_loop: false}
  - {id: screen, name: CV screening, provider: hanse, sector: employment, function: decision_support, modalities: [text],
     reach: 40000, no_human_in_loop: false, grading_table: eu-ai-act}
"""


@pytest.fixture
def reg(tmp_path, clock, tmp_path_factory):
    """SQLite only: each PostgreSQL schema costs ~3 s of migrations; the duties table and the
    moved clock run on both databases in test_both_databases."""
    db = fresh(tmp_path, clock, tmp_path_factory)
    registry.register(db, ADMIN, parse_registration(REG))
    yield db
    db.dispose()


def test_both_databases(db, clock):
    """Migration 0010 (providers.operator_type, response_duties) and the moved clock on SQLite and PostgreSQL."""
    registry.register(db, ADMIN, parse_registration(REG))
    t0 = clock.now()
    v = incidents.open_incident(db, ADMIN, "grid-bot", "III", "x")
    assert window(v) == timedelta(hours=1)
    v = incidents.open_incident(db, ADMIN, "screen", "IV", "x", flags=["serious_harm_health", "vulnerability"])
    v = incidents.update_incident(db, ADMIN, v["id"], flags=["death"])
    assert parse(v["clocks"][0]["due_at"]) == t0 + timedelta(days=10)
    assert parse(v["duties"][0]["due_at"]) == t0 + timedelta(hours=24)
    clock.advance(hours=25)
    assert [b["duty"] for b in duties.check_overdue(db)] == ["vulnerability_report"]
    assert ledger.verify(db).ok


def window(v: dict, report: str = "initial") -> timedelta:
    (c,) = [c for c in v["clocks"] if c["report"] == report]
    return parse(c["due_at"]) - parse(c["started_at"])


# --- EU Art. 73 ---------------------------------------------------------------------------------

def test_eu_death_flag_is_reportable_at_grade_iv_with_10_days(reg):
    v = incidents.open_incident(reg, ADMIN, "screen", "IV", "a candidate died", flags=["death"])
    assert v["profile"].startswith("eu-ai-act-art73@")
    assert window(v) == timedelta(days=10)


def test_eu_grade_iv_without_flag_starts_nothing_and_grade_iii_gets_15_days(reg):
    assert incidents.open_incident(reg, ADMIN, "screen", "IV", "minor")["clocks"] == []
    v = incidents.update_incident(reg, ADMIN, incidents.list_incidents(reg, ADMIN, service="screen")[0]["id"], grade="III")
    assert window(v) == timedelta(days=15)


def test_eu_each_serious_flag_at_grade_iv(reg):
    for flag, days in [("widespread_infringement", 2), ("critical_infrastructure", 2), ("death", 10),
                       ("serious_harm_health", 15), ("fundamental_rights", 15), ("property_environment", 15)]:
        v = incidents.open_incident(reg, ADMIN, "screen", "IV", "x", flags=[flag])
        assert window(v) == timedelta(days=days), flag
        incidents.end_handling(reg, ADMIN, v["id"], "next")


def test_eu_flag_added_later_moves_the_clock_earlier_and_the_ledger_says_so(reg, clock):
    t0 = clock.now()
    v = incidents.open_incident(reg, ADMIN, "screen", "IV", "harm to health", flags=["serious_harm_health"])
    assert parse(v["clocks"][0]["due_at"]) == t0 + timedelta(days=15)
    clock.advance(days=1)
    v = incidents.update_incident(reg, ADMIN, v["id"], flags=["death"], note="the patient died")
    (c,) = v["clocks"]
    assert parse(c["due_at"]) == t0 + timedelta(days=10) and "Art.73(4)" in c["rule"]
    clock.advance(hours=1)
    v = incidents.update_incident(reg, ADMIN, v["id"], flags=["critical_infrastructure"])
    assert parse(v["clocks"][0]["due_at"]) == t0 + timedelta(days=2)
    moved = [json.loads(e["payload"]) for e in map(json.loads, ledger.export_lines(reg)) if e["kind"] == "clock.moved"]
    assert [(parse(m["from"]["due_at"]) - t0, parse(m["to"]["due_at"]) - t0) for m in moved] == [
        (timedelta(days=15), timedelta(days=10)), (timedelta(days=10), timedelta(days=2))]
    assert ledger.verify(reg).ok
    # a clock never moves later: a later, longer clause changes nothing
    v = incidents.update_incident(reg, ADMIN, v["id"], flags=["fundamental_rights"])
    assert parse(v["clocks"][0]["due_at"]) == t0 + timedelta(days=2)


def test_eu_clock_runs_from_awareness_not_from_opening(reg, clock):
    clock.advance(days=5)
    aware = clock.now() - timedelta(days=3)
    v = incidents.open_incident(reg, ADMIN, "screen", "IV", "late entry", flags=["death"], detected_at=iso(aware))
    assert parse(v["clocks"][0]["due_at"]) == aware + timedelta(days=10)


# --- CN: operator designation, discovery time ---------------------------------------------------

@pytest.mark.parametrize("service,hours,profile", [("chat", 4, "cn-2025-operator"), ("judge", 4, "cn-2025-operator"),
                                                   ("ministry", 2, "cn-2025-central"), ("grid-bot", 1, "cn-2025-cii")])
def test_cn_deadline_follows_operator_type_not_risk_grade(reg, service, hours, profile):
    v = incidents.open_incident(reg, ADMIN, service, "较大", "x")
    assert v["profile"].startswith(profile + "@") and window(v) == timedelta(hours=hours)


def test_judge_is_l4_but_an_ordinary_operator(reg):
    assert registry.get(reg, ADMIN, "judge")["grade"]["grade"] == "L4"


def test_cn_clock_runs_from_detected_at(reg, clock):
    clock.advance(hours=10)
    found = clock.now() - timedelta(hours=3)
    v = incidents.open_incident(reg, ADMIN, "chat", "III", "found earlier", detected_at=iso(found))
    assert v["detected_at"] == iso(found) and parse(v["clocks"][0]["due_at"]) == found + timedelta(hours=4)


@pytest.mark.parametrize("bad", ["yesterday", "2026-01-01T00:00:00", "2030-01-01T00:00:00Z"])
def test_detected_at_refused_when_unreadable_zoneless_or_future(reg, bad):
    with pytest.raises(Invalid) as e:
        incidents.open_incident(reg, ADMIN, "chat", "III", "x", detected_at=bad)
    assert e.value.details.get("field") == "detected_at" or "detected_at" in e.value.en


def test_summary_clock_is_30_days_after_handling_ends(reg, clock):
    v = incidents.open_incident(reg, ADMIN, "grid-bot", "II", "x")
    clock.advance(hours=5)
    v = incidents.end_handling(reg, ADMIN, v["id"], "done")
    assert window(v, "summary") == timedelta(days=30) and parse(v["clocks"][-1]["started_at"]) == clock.now()


# --- CN-IR-02: the Grading Guide grades -----------------------------------------------------------

@pytest.mark.parametrize("key,iii,ii,i", [
    ("pi_persons", 1_000_000, 10_000_000, 100_000_000),
    ("cii_outage_minutes", 30, 120, 360),
    ("cii_main_function_outage_minutes", 120, 360, 1440),
    ("utility_persons_affected", 100_000, 1_000_000, 10_000_000),
    ("economic_loss_cny", 5_000_000, 20_000_000, 100_000_000),
    ("tampered_homepage_minutes", 30, 120, 360),
    ("tampered_page_minutes", 120, 720, 1440),
    ("unlawful_reposts", 1_000, 10_000, 100_000),
    ("unlawful_views", 10_000, 100_000, 1_000_000),
])
def test_guide_thresholds_include_the_number(key, iii, ii, i):
    assert guide.assess({key: iii - 1})[0] is None
    assert guide.assess({key: iii})[0] == "III"
    assert guide.assess({key: ii - 1})[0] == "III"
    assert guide.assess({key: ii})[0] == "II"
    assert guide.assess({key: i})[0] == "I"


def test_pi_of_a_million_people_makes_a_grade_iv_incident_reportable(reg):
    v = incidents.open_incident(reg, ADMIN, "chat", "IV", "leak", impact={"pi_persons": 999_999})
    assert v["grade"] == "IV" and v["clocks"] == []
    v = incidents.update_incident(reg, ADMIN, v["id"], impact={"pi_persons": 1_000_000})
    assert v["grade"] == "III" and window(v) == timedelta(hours=4)
    assert v["grade_inputs"]["raised_by"]["guide"][0]["threshold"] == 1_000_000


def test_guide_never_lowers_and_refuses_unknown_indicators(reg):
    v = incidents.open_incident(reg, ADMIN, "chat", "I", "x", impact={"pi_persons": 10})
    assert v["grade"] == "I"
    with pytest.raises(Invalid):
        incidents.update_incident(reg, ADMIN, v["id"], impact={"pi_count": 5})
    with pytest.raises(Invalid):
        incidents.update_incident(reg, ADMIN, v["id"], impact={"pi_persons": -1})


# --- duties from flags ------------------------------------------------------------------------

def test_suspected_crime_adds_a_police_report_duty(reg):
    v = incidents.open_incident(reg, ADMIN, "chat", "IV", "fraud ring", flags=["suspected_crime"])
    (d,) = v["duties"]
    assert d["duty"] == "police_report" and d["due_at"] is None and "CN-IR-06" in d["basis"]
    with pytest.raises(Invalid):
        incidents.complete_duty(reg, ADMIN, v["id"], "police_report", {})
    done = incidents.complete_duty(reg, ADMIN, v["id"], "police_report", {"to": "海淀分局 / Haidian police"})
    assert done["status"] == "done"


def test_personal_information_leak_starts_notify_individuals_with_pipl_contents(reg):
    v = incidents.open_incident(reg, ADMIN, "chat", "IV", "leak")
    v = incidents.update_incident(reg, ADMIN, v["id"], flags=["personal_information"])
    (d,) = v["duties"]
    assert d["duty"] == "notify_individuals" and set(d["needs"]) == {"info_types", "cause_and_harm", "remedies", "contact"}
    with pytest.raises(Invalid) as e:
        incidents.complete_duty(reg, ADMIN, v["id"], "notify_individuals", {"info_types": "phone numbers"})
    assert len(e.value.details["missing"]) == 3


def test_vulnerability_report_has_a_24_hour_clock_that_raises_a_warning(reg, clock):
    t0 = clock.now()
    v = incidents.open_incident(reg, ADMIN, "chat", "IV", "injection hole", flags=["vulnerability"])
    (d,) = v["duties"]
    assert parse(d["due_at"]) == t0 + timedelta(hours=24)
    clock.advance(hours=24)
    assert duties.check_overdue(reg) == []
    clock.advance(seconds=1)
    (b,) = duties.check_overdue(reg)
    assert b["duty"] == "vulnerability_report" and duties.check_overdue(reg) == []
    done = incidents.complete_duty(reg, ADMIN, v["id"], "vulnerability_report", {"to": "CNVD"})
    assert done["status"] == "done_late"
