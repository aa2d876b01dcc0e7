"""Grading: tables turn attributes into a grade with reasons; tables are replaceable and checked."""

from __future__ import annotations

import json

import pytest

from fenghuo.control import services as registry
from fenghuo.ledger import store
from fenghuo.platform.errors import Invalid
from fenghuo.registry.grading import get_table, grade, grade_service, load_table_file
from fenghuo.registry.spec import ServiceSpec, parse_registration
from tests.foundation.fixtures import ADMIN, seed


def spec(**kw) -> ServiceSpec:
    base = dict(id="s", name="S", provider="p", sector="general", function="content_generation", modalities=["text"],
                reach=100, no_human_in_loop=False)
    return ServiceSpec(**{**base, **kw})


def test_low_risk_service_gets_baseline_grade_with_a_reason():
    g = grade_service(spec())
    assert g.grade == "L1"
    assert [r.rule for r in g.reasons] == ["baseline"]
    assert g.defaults["failsafe"]["mode"] == "open"


def test_every_matching_rule_is_a_reason_and_the_highest_sets_the_grade():
    g = grade_service(spec(sector="medical", function="decision_support", reach=200_000))
    assert g.grade == "L3"
    rules = [r.rule for r in g.reasons]
    assert rules[0] == "critical-sector" and {"reach-large", "decision-support"} <= set(rules)
    assert g.defaults["resume_approvals"] == 2 and g.defaults["failsafe"]["mode"] == "closed"


def test_unsupervised_high_stakes_service_is_critical():
    g = grade_service(spec(sector="justice", function="automated_decision", no_human_in_loop=True))
    assert g.grade == "L4"
    # the 1-hour CII profile follows operator_type, not the L4 grade (CN-IR-03, issue 18)
    assert g.defaults["reporting_profile"] == "cn-2025-operator"


@pytest.mark.parametrize("kw,tier", [
    (dict(function="content_generation"), "limited"),
    (dict(sector="employment", function="decision_support"), "high"),
    (dict(sector="medical", function="automated_decision"), "high"),
    (dict(sector="general", function="recommendation", practices=["social_scoring"]), "prohibited"),
    (dict(sector="general", function="decision_support"), "minimal"),
])
def test_eu_tiers(kw, tier):
    assert grade_service(spec(grading_table="eu-ai-act", **kw)).grade == tier


def test_prohibited_service_starts_stopped(db):
    seed(db)
    text = """{id: scorer, name: Scorer, provider: pa, sector: general, function: recommendation, modalities: [text],
               reach: 10, no_human_in_loop: false, practices: [social_scoring], grading_table: eu-ai-act}"""
    registry.register(db, ADMIN, parse_registration(text))
    assert registry.get(db, ADMIN, "scorer")["state"]["state"] == "stopped"


def test_a_users_table_replaces_the_packaged_one(tmp_path, monkeypatch):
    table = get_table("cn-default").model_dump()
    table["version"] = "local-1"
    table["rules"] = [{"id": "everything-high", "when": {"reach": {"gte": 0}}, "grade": "L3",
                       "reason": {"zh": "本地规则", "en": "local rule"}}]
    d = tmp_path / "grading"
    d.mkdir()
    (d / "mine.yaml").write_text(json.dumps(table, ensure_ascii=False))  # JSON is YAML
    monkeypatch.setenv("FENGHUO_GRADING_DIR", str(d))
    g = grade_service(spec())
    assert (g.grade, g.version, g.reasons[0].rule) == ("L3", "local-1", "everything-high")


def test_a_broken_table_names_line_and_field(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("""table: bad
version: "1"
title: {zh: 坏, en: bad}
grades:
  - id: G1
    name: {zh: 低, en: low}
    defaults: {failsafe: {mode: open, after_seconds: 5}, resume_approvals: 1, reporting_profile: x}
  - id: G2
    name: {zh: 高, en: high}
    defaults: {failsafe: {mode: sideways, after_seconds: 5}, resume_approvals: 1, reporting_profile: x}
""")
    with pytest.raises(Invalid) as e:
        load_table_file(p)
    assert e.value.details["line"] == 10
    assert e.value.details["field"] == "grades.1.defaults.failsafe.mode"


def test_unknown_attribute_in_a_rule_is_refused(tmp_path):
    table = get_table("cn-default").model_dump()
    table["rules"] = [{"id": "r", "when": {"colour": ["red"]}, "grade": "L2", "reason": {"zh": "x", "en": "x"}}]
    p = tmp_path / "t.yaml"
    p.write_text(json.dumps(table))
    with pytest.raises(Invalid) as e:
        load_table_file(p)
    assert "colour" in e.value.en


def test_regrading_on_a_changed_attribute_is_recorded(db):
    seed(db)
    changed = """{id: a-chat, name: A chat, provider: pa, sector: general, function: content_generation,
                  modalities: [text], reach: 20000000, no_human_in_loop: false, backup_model: a-small}"""
    [result] = registry.register(db, ADMIN, parse_registration(changed))
    assert (result["result"], result["previous_grade"], result["grade"]) == ("regraded", "L1", "L3")
    with db.reader() as s:
        entries = [e for e in store.iter_entries(s, subject="a-chat") if e["kind"] == "service.regraded"]
    assert len(entries) == 1
    payload = json.loads(entries[0]["payload"])
    assert payload["changed"] == {"reach": {"from": 1000, "to": 20000000}}
    assert payload["before"]["grade"] == "L1" and payload["grading"]["grade"] == "L3"
    # the same file again changes nothing and records nothing
    [again] = registry.register(db, ADMIN, parse_registration(changed))
    assert again["result"] == "unchanged"


def test_grade_is_pure_over_attributes():
    t = get_table("cn-default")
    a = spec(sector="finance", function="decision_support").grading_attributes()
    assert grade(t, a) == grade(t, dict(a))
