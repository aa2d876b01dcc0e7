"""Plan files: every kind of mistake refused with file, line and field; vague words warned;
selection per service, sector+grade, default; simulation equals the executor's schedule."""

from __future__ import annotations

import textwrap

import pytest
from click.testing import CliRunner

from fenghuo.alerts.levels import Level
from fenghuo.platform.errors import Invalid
from fenghuo.platform.yamlfile import parse_yaml
from fenghuo.response.library import PACKAGED, PlanLibrary
from fenghuo.response.plans import check_doc, parse_plan
from fenghuo.response.simulate import WarningView, due, schedule

GOOD = """\
plan: test-plan
version: "1"
title: {zh: 测试预案, en: test plan}
applies_to: {default: true}
owner: oncall
people: {operator: [alice, amir]}
triggers:
  - id: red
    when: {level: red}
    actions:
      - {id: pause, do: pause, approval: auto}
      - {id: incident, do: open_incident, grade: 特别重大}
      - {id: stop, do: stop, after: 15m, approval: {role: operator, count: 2}}
"""


def problems(text: str) -> tuple[list[dict], list[dict]]:
    _, probs, warns = check_doc(parse_yaml(textwrap.dedent(text), "p.yaml"))
    return probs, warns


def test_good_plan_parses():
    plan = parse_plan(GOOD)
    assert plan.ref == "test-plan@1"
    stop = plan.triggers[0].actions[2]
    assert (stop.after, stop.approval.count, stop.approval.role.value) == (900, 2, "operator")


@pytest.mark.parametrize("old,new,field,words", [
    ("when: {level: red}", "when: 情况严重时", "triggers.0.when", "no measurable condition"),
    ("when: {level: red}", "when: {level: crimson}", "triggers.0.when.level", "blue, yellow, orange or red"),
    ("when: {level: red}", "when: {level: red, severity: high}", "triggers.0.when.severity", "not a measurable condition"),
    ("owner: oncall\n", "", "triggers.0.actions.0.owner", "no owner"),
    ("{id: stop, do: stop, after: 15m, approval: {role: operator, count: 2}}",
     "{id: esc, do: escalate, to: [regulator]}", "triggers.0.actions.2.after", "escalation without a deadline"),
    ("{role: operator, count: 2}", "{role: operator, count: 3}", "triggers.0.actions.2.approval.count", "can never be complete"),
    ("{role: operator, count: 2}", "{role: auditor, count: 1}", "triggers.0.actions.2.approval.role", "nobody can give"),
    ("{role: operator, count: 2}", "{role: system, count: 1}", "triggers.0.actions.2.approval.role", "nobody can give"),
    ("{role: operator, count: 2}", "{role: chairman, count: 1}", "triggers.0.actions.2.approval.role", "nobody can give"),
    ("{id: pause, do: pause, approval: auto}", "{id: t, do: throttle, approval: {role: regulator}, rate: 5}",
     "triggers.0.actions.0.approval.role", "nobody can give"),
    ("{id: pause, do: pause, approval: auto}", "{id: t, do: throttle}", "triggers.0.actions.0.rate", "positive integer rate"),
    ("grade: 特别重大", "grade: 很大", "triggers.0.actions.1.grade", "not valid"),
    ("do: pause, approval", "do: reboot, approval", "triggers.0.actions.0.do", "unknown action"),
    ("applies_to: {default: true}", "applies_to: {}", "applies_to", "say what it applies to"),
])
def test_each_mistake_is_refused_with_line_and_field(old, new, field, words):
    assert old in GOOD
    probs, _ = problems(GOOD.replace(old, new))
    assert probs, "the mistake was accepted"
    hit = [p for p in probs if p["field"] == field]
    assert hit, f"no problem at {field}: {probs}"
    assert words in hit[0]["message"] and hit[0]["line"] and hit[0]["file"] == "p.yaml"


def test_refused_plan_raises_with_every_problem():
    with pytest.raises(Invalid) as e:
        parse_plan(GOOD.replace("when: {level: red}", "when: 必要时").replace("owner: oncall\n", ""))
    assert e.value.code == "invalid_plan" and len(e.value.details["problems"]) >= 2


def test_vague_words_are_warnings_not_errors():
    text = GOOD.replace("title: {zh: 测试预案, en: test plan}",
                        "title: {zh: 测试预案, en: test plan}\ntext: {zh: 原则上红色预警暂停，必要时视情况适当阻断, en: x}")
    probs, warns = problems(text)
    assert not probs
    words = {w for item in warns for w in ("原则上", "必要时", "视情况", "适当") if w in item["message"]}
    assert words == {"原则上", "必要时", "视情况", "适当"} and all(w["field"] == "text.zh" for w in warns)


def test_plan_check_cli_exit_codes(tmp_path):
    from fenghuo.cli import root

    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text(GOOD.replace("owner: oncall", "owner: 理论上由值班人员负责"), encoding="utf-8")
    bad.write_text(GOOD.replace("when: {level: red}", "when: {}"), encoding="utf-8")
    r = CliRunner().invoke(root, ["plan", "check", str(good)])
    assert r.exit_code == 0 and "理论上" in r.output
    r = CliRunner().invoke(root, ["plan", "check", str(good), str(bad)])
    assert r.exit_code == 1 and "bad.yaml" in r.output and "measurable" in r.output


def test_simulate_cli_shows_steps_without_doing_them(tmp_path):
    from fenghuo.cli import root

    f = tmp_path / "p.yaml"
    f.write_text(GOOD, encoding="utf-8")
    r = CliRunner().invoke(root, ["plan", "simulate", str(f), "--warning", "svc:red", "--warning", "svc:blue", "--json"])
    assert r.exit_code == 0, r.output
    import json

    out = json.loads(r.output)["simulated"]
    assert [s["action"] for s in out[0]["steps"]] == ["pause", "incident", "stop"]
    assert out[0]["steps"][2]["after_seconds"] == 900 and out[0]["steps"][2]["approval"] == {"role": "operator", "count": 2}
    assert out[1]["steps"] == []


def test_schedule_due_and_at_least():
    plan = parse_plan(GOOD.replace("when: {level: red}", "when: {at_least: orange, for: 1m}"))
    w = WarningView("w1", "svc", "x", Level.red, "firing", started_at=100, fired_at=100)
    assert [s.key for s in due(plan, w, 159)] == []
    assert [s.key for s in due(plan, w, 160)] == ["red/pause", "red/incident"]
    assert [s.key for s in due(plan, w, 1000)] == ["red/pause", "red/incident", "red/stop"]
    assert schedule(plan, WarningView("w2", "svc", "x", Level.yellow, "firing", 0, 0)) == []
    assert schedule(plan, WarningView("w3", "svc", "x", Level.red, "pending", 0, None)) == []


def test_shipped_plans_pass_and_selection_order():
    lib = PlanLibrary.load([PACKAGED])
    assert {"default", "high-grade", "medical"} <= set(lib.plans)
    assert lib.choose("m", "medical", "L3")[0].id == "medical"
    assert lib.choose("f", "finance", "L3")[0].id == "high-grade"
    assert lib.choose("g", "general", "L1") == (lib.plans["default"], "default")
    own = parse_plan(GOOD.replace("applies_to: {default: true}", "applies_to: {services: [m]}"))
    lib.plans[own.id] = own
    assert lib.choose("m", "medical", "L3") == (own, "service")
