"""Rule-file load errors: each names the file, the rule id and the field."""

from __future__ import annotations

import textwrap

import pytest

from fenghuo.checks.pipeline import ConfigError, build_pipeline
from fenghuo.checks.rules import RulesCheck
from fenghuo.checks.rules_file import RulesError, load_rule_files
from fenghuo.checks.rules_pattern import PatternError, check_normalised, max_width
from fenghuo.checks.rules_regex import required_literals

pytestmark = pytest.mark.usefixtures("private_rules_memo")  # throwaway checks: keep the shipped rules' memo entry (conftest)

GOOD_RULE = """
  - id: t.offer
    category: ads
    risk: A3e
    action: flag
    description: {zh: 测试, en: test}
    all: ['兼职', '日结']
    within: 10
    examples: {hit: ['兼职日结'], near_miss: ['兼职']}
"""


def rules_file(tmp_path, body: str, name: str = "t.yaml", head: str = "version: 1\nrules:\n"):
    p = tmp_path / name
    p.write_text(head + textwrap.dedent(body), encoding="utf-8")
    return p


def error_of(tmp_path, body: str, **kw) -> str:
    p = rules_file(tmp_path, body, **kw)
    with pytest.raises(RulesError) as exc:
        RulesCheck([p], engine="re")
    return str(exc.value)


def test_a_good_file_loads_and_works(tmp_path):
    check = RulesCheck([rules_file(tmp_path, GOOD_RULE)], cache_dir=tmp_path / "c")
    assert [f.rule for f in check.scan("招兼职，日结").findings] == ["rules:t.offer"]
    assert check.scan("兼职。。。。。。。。。。。。日结").findings == []  # more than 10 characters apart


@pytest.mark.parametrize(
    ("edit", "expect"),
    [
        (("risk: A3e", "risk: Z9"), ["rule t.offer", "risk", "Z9"]),
        (("action: flag", "action: mask"), ["rule t.offer", "action", "mask"]),
        (("category: ads", "category: Ads!"), ["rule t.offer", "category"]),
        (("    within: 10\n", ""), ["rule t.offer", "within", "required"]),
        (("within: 10", "within: 0"), ["rule t.offer", "within", "0"]),
        (("near_miss: ['兼职']", "near_miss: []"), ["rule t.offer", "examples.near_miss"]),
        (("examples: {hit: ['兼职日结'], near_miss: ['兼职']}", "examples: {hit: ['兼职日结']}"), ["rule t.offer", "near_miss"]),
        (("description: {zh: 测试, en: test}", "description: {zh: 测试}"), ["rule t.offer", "description"]),
        (("all: ['兼职', '日结']", "all: ['兼职', '(日结']"), ["rule t.offer", "all[1]", "invalid regex"]),
        (("all: ['兼职', '日结']", "all: ['兼职', '日结|']"), ["rule t.offer", "all[1]", "empty"]),
        (("all: ['兼职', '日结']", "all: ['兼职', 'V信']"), ["rule t.offer", "all[1]", "'v'"]),
        (("all: ['兼职', '日结']", "all: ['兼职', '日结/']"), ["rule t.offer", "all[1]", "orig:"]),
        (("all: ['兼职', '日结']", "all: ['兼职', '{{nope}}']"), ["rule t.offer", "all[1]", "nope"]),
        (("all: ['兼职', '日结']", "all: ['兼职']"), ["rule t.offer", "all", "two"]),
        (("all: ['兼职', '日结']", "all: ['兼职', '日结']\n    any: ['x']"), ["rule t.offer", "any", "all"]),
        (("all: ['兼职', '日结']", "all: ['兼职', {regex: '日结'}]"), ["rule t.offer", "all[1]", "orig"]),
        (("action: flag", "action: flag\n    colour: red"), ["rule t.offer", "colour"]),
        (("action: flag", "action: flag\n    action: block"), ["duplicate key", "action"]),
        (("id: t.offer", "id: T Offer"), ["rules[0].id"]),
    ],
)
def test_errors_name_file_rule_and_field(tmp_path, edit, expect):
    old, new = edit
    assert old in GOOD_RULE
    msg = error_of(tmp_path, GOOD_RULE.replace(old, new))
    assert "t.yaml" in msg
    for part in expect:
        assert part in msg, (part, msg)


def test_file_level_errors(tmp_path):
    assert "version" in error_of(tmp_path, GOOD_RULE, head="version: 2\nrules:\n")
    assert "version" in error_of(tmp_path, GOOD_RULE, head="rules:\n")
    assert "invalid YAML" in error_of(tmp_path, "  - id: [", head="version: 1\nrules:\n")
    assert "unknown key" in error_of(tmp_path, GOOD_RULE, head="version: 1\nextra: 1\nrules:\n")
    with pytest.raises(RulesError, match="no such rule file"):
        load_rule_files([tmp_path / "missing.yaml"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(RulesError, match=r"no \*\.yaml"):
        load_rule_files([tmp_path / "empty"])


def test_duplicate_ids_and_risk_per_category_across_files(tmp_path):
    a = rules_file(tmp_path, GOOD_RULE, name="a.yaml")
    b = rules_file(tmp_path, GOOD_RULE, name="b.yaml")
    with pytest.raises(RulesError, match=r"b\.yaml: rule t\.offer: id already used in .*a\.yaml"):
        load_rule_files([a, b])
    b.write_text("version: 1\nrules:\n" + textwrap.dedent(GOOD_RULE.replace("t.offer", "t.other").replace("A3e", "A1h")), encoding="utf-8")
    with pytest.raises(RulesError, match=r"rule t\.other: risk: A1h differs from A3e"):
        RulesCheck([a, b], engine="re")


def test_defines_are_shared_and_checked(tmp_path):
    rules_file(tmp_path, "", name="common.yaml", head="version: 1\ndefines:\n  job: '兼职|打字员'\n")
    rules_file(tmp_path, GOOD_RULE.replace("all: ['兼职', '日结']", "all: ['{{job}}', '日结']"), name="x.yaml")
    check = RulesCheck([tmp_path], engine="re")
    assert check.scan("打字员日结").findings
    rules_file(tmp_path, "", name="dup.yaml", head="version: 1\ndefines:\n  job: 'x'\n")
    with pytest.raises(RulesError, match=r"defines\.job: already defined"):
        load_rule_files([tmp_path])


def test_disable_unknown_rule(tmp_path):
    with pytest.raises(RulesError, match="no such rule"):
        RulesCheck([rules_file(tmp_path, GOOD_RULE)], disable=["nope"], engine="re")


def test_pipeline_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="rules"):
        build_pipeline({"checks": [{"type": "rules", "files": [str(tmp_path / "none.yaml")]}]}, tmp_path, "cfg.yaml")
    with pytest.raises(ConfigError, match="unknown key"):
        build_pipeline({"checks": [{"type": "rules", "colour": 1}]}, tmp_path, "cfg.yaml")
    p = rules_file(tmp_path, GOOD_RULE)
    pipe = build_pipeline({"checks": [{"type": "rules", "files": [p.name]}]}, tmp_path, "cfg.yaml")
    assert [f.rule for f in pipe.scan("兼职日结").findings] == ["rules:t.offer"]


def test_reload_keeps_old_rules_on_error(tmp_path):
    p = rules_file(tmp_path, GOOD_RULE)
    check = RulesCheck([p], engine="re")
    p.write_text("version: 1\nrules:\n" + textwrap.dedent(GOOD_RULE.replace("日结", "周结")), encoding="utf-8")
    check.reload()
    assert check.scan("兼职周结").findings and not check.scan("兼职日结").findings
    p.write_text("version: 1\nrules: [", encoding="utf-8")
    with pytest.raises(RulesError):
        check.reload()
    assert check.scan("兼职周结").findings


def test_pattern_analysis():
    assert required_literals("微信|vx") == ["vx", "微信"]
    assert required_literals(r"\d+(?:r|米)一篇") == ["r一篇", "米一篇"]
    assert required_literals(r"\d{6,}") is None
    got = required_literals("(?:加)?v信")
    assert "v信" in got and all("v信" in w for w in got)
    with pytest.raises(PatternError, match="normalises to"):
        check_normalised("電報", lambda ch: {"電": "电"}.get(ch, ch))
    assert max_width("微信|weixin") == 6
