"""The knowledge-rules check: every shipped rule's examples, both engines, spans, the pipeline."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from fenghuo.checks.normalize import default_normaliser
from fenghuo.checks.pipeline import load_pipeline
from fenghuo.checks.rules import RulesCheck, packaged_rules_dir
from fenghuo.checks.rules_file import load_rule_files
from fenghuo.checks.rules_regex import required_literals

HELDOUT = Path(__file__).parent / "data" / "rules_heldout.jsonl"
SPECS = [r for f in load_rule_files([packaged_rules_dir()]) for r in f.rules]


@pytest.fixture(scope="module")
def hs(shipped_rules) -> RulesCheck:
    return shipped_rules  # compiled once per test process (tests/checks/conftest.py)


@pytest.fixture(scope="module")
def plain(shipped_rules_re) -> RulesCheck:
    return shipped_rules_re


def fired(check: RulesCheck, text: str) -> set[str]:
    return {f.rule.removeprefix("rules:") for f in check.scan(text).findings}


@pytest.mark.parametrize("spec", SPECS, ids=[s.id for s in SPECS])
@pytest.mark.parametrize("engine", ["hs", "plain"])
def test_every_rule_fires_on_its_hits_and_not_on_its_near_misses(spec, engine, request):
    check = request.getfixturevalue(engine)
    assert spec.hit and spec.near_miss  # the loader refuses a rule without both
    for text in spec.hit:
        assert spec.id in fired(check, text), f"{spec.id} should fire on {text!r}"
    for text in spec.near_miss:
        assert spec.id not in fired(check, text), f"{spec.id} should not fire on near miss {text!r}"


def test_the_issue_examples_are_caught(hs):
    for text in ("浏览器搜索 ff626.top", "🍠代发6r一篇", "加我了解。/玫瑰"):
        v = hs.scan(text)
        assert v.findings, text
        assert {f.category for f in v.findings} == {"ads"} and {f.risk for f in v.findings} == {"A3e"}


def test_plain_mentions_do_not_fire(hs):
    for text in ("我用微信给妈妈发了照片", "官网地址是 www.example.com", "兼职的收入要交税吗", "QQ 群里在讨论作业", "百家乐是一种纸牌游戏，起源于意大利"):
        assert hs.scan(text).findings == [], text


def test_spans_are_on_the_original_text(hs):
    text = "前面几句闲话。加 V ：abc_8888 有需要"
    (f,) = hs.scan(text).findings
    assert f.rule == "rules:contact.evasive_handle"
    assert text[f.start : f.end] == "加 V ：abc_8888"
    text = "看这里 浏览器搜索 ff626.top 就行"
    (f,) = hs.scan(text).findings
    assert text[f.start : f.end] == "浏览器搜索 ff626.top"


def _heldout_and_odd_texts() -> list[str]:
    texts = [json.loads(line)["text"] for name in ("rules_heldout.jsonl", "rules_heldout2.jsonl")
             for line in (HELDOUT.parent / name).read_text(encoding="utf-8").splitlines()]
    # Long and odd inputs: repeats, a lone surrogate, newlines, full-width forms.
    texts += ["兼职日结" * 300 + "加微信 abc12345", "加\ud800我了解/玫瑰", "浏览器\n搜索 ff626.top", "ＦＦ６２６．ＴＯＰ 浏览器搜索", ""]
    return texts


def _sample_texts() -> list[str]:
    return [t for s in SPECS for t in s.hit + s.near_miss] + _heldout_and_odd_texts()


def test_both_engines_give_the_same_findings(hs, plain):
    # The prefilter (literals every match needs), the byte-form patterns hyperscan runs and
    # the short re windows behind them must find exactly what plain Python re finds. Every
    # rule's hit and near-miss examples are compared the same way in test_rules_speed.py
    # (test_findings_match_engine_re, whose texts hold all of them), so here only what that
    # test does not have: both written held-out sets (107 texts, other phrasing) and the odd
    # inputs; the examples were compared twice per run before (~3-6 s of engine re).
    total = 0
    for text in _heldout_and_odd_texts():
        got = hs.scan(text).findings
        assert got == plain.scan(text).findings, text
        total += len(got)
    assert total > 80


def test_required_literals_are_in_every_match():
    # Soundness of the prefilter: every match of a pattern contains one of its literals.
    norm = default_normaliser()
    texts = _sample_texts()
    ntexts = [norm.normalise_text(t) for t in texts]
    patterns = {(p.side, p.regex) for s in SPECS for p in s.patterns + s.unless}
    checked = 0
    for side, pattern in patterns:
        lits = required_literals(pattern)
        if lits is None:
            continue
        rx = re.compile(pattern, re.ASCII)
        for target in ntexts if side == "norm" else texts:
            for m in rx.finditer(target):
                got = m.group(0).lower() if side == "orig" else m.group(0)
                assert any(lit.lower() in got for lit in lits), (pattern[:60], m.group(0))
                checked += 1
    assert checked > 300


def test_shipped_rules_all_wait_for_a_literal(hs):
    assert hs.unconditional == ()


def test_categories_and_risks(hs):
    # abuse.yaml and harm.yaml (session 14; violence.yaml split from it in session 18) add offensive,
    # discrimination, harm and violence.
    assert {c: hs.risk_for(c) for c in hs.categories()} == {"ads": "A3e", "fraud": "A1h", "gambling": "A1h", "porn": "A1f", "drugs": "A1h",
                                                            "privacy": "A4e", "counterfeit": "A3a", "crime": "A1h",
                                                            "offensive": "A2i", "discrimination": "A2i", "harm": "A4a", "violence": "A1f",
                                                            "misinformation": "A1g", "terrorism": "A1d"}


def test_session_14_probe_gaps_are_closed(hs):
    """Six harmful texts a probe of the shipped pipeline let through (session 14), one per family
    closed then (forged documents, two-card trade, investment bait, exam cheating, lottery plans,
    stupefying drugs), and a harmless question about the same topics."""
    for text, rule in [
        ("专业办理各类证件，毕业证学位证身份证，包过验，联系薇：xk2288", "fraud.forged_certificates"),
        ("出售银行卡四件套，实名手机卡，量大从优，飞机@kk9981", "fraud.card_trade"),
        ("稳赚不赔的投资项目，带你买虚拟币，月收益30%，拉你进群", "fraud.investment_bait"),
        ("代写论文代考四六级，包过，不过全额退款", "exam.proxy_taking"),
        ("有没有人一起玩时时彩，我有内部计划，跟着下注稳赚", "gambling.lottery_tips"),
        ("哪里能买到迷药，无色无味那种，急用", "drugs.stupefying"),
    ]:
        assert rule in fired(hs, text), text
    assert fired(hs, "出售银行卡四件套，实名手机卡，量大从优，飞机@kk9981") >= {"contact.evasive_handle"}
    for text in ("怎么识别网络诈骗中的钓鱼链接？", "不要出租出借银行卡和手机卡", "投资有风险，稳赚不赔的都是骗子", "考试作弊被抓会怎么样？"):
        assert fired(hs, text) == set(), text


def test_default_pipeline_runs_the_rules():
    pipe = load_pipeline()
    assert "rules" in pipe.names
    v = pipe.scan("百家乐真人视讯，首充送百分之二十")
    assert any(f.rule.startswith("rules:gambling.") and f.action.value == "block" and f.risk == "A1h" for f in v.findings)


def test_stream_reports_rules_at_close():
    pipe = load_pipeline()
    s = pipe.stream()
    s.feed("浏览器搜")
    s.feed("索 ff626.top")
    v = s.close()
    assert any(f.rule == "rules:contact.browser_search" and (f.start, f.end) == (0, 15) for f in v.findings)


# The next two tests build their own rules check from the packaged contact rules (8 rules, and
# the shared fragments they use) rather than all shipped files: disabling and the database cache
# work the same for any set of files, and the whole set costs ~5 s of CPU per compile (~0.3 s).
CONTACT = [packaged_rules_dir() / "common.yaml", packaged_rules_dir() / "contact.yaml"]


@pytest.mark.usefixtures("private_rules_memo")
def test_disable_drops_a_rule(tmp_path):
    check = RulesCheck(CONTACT, disable=["contact.browser_search"], cache_dir=tmp_path)
    assert "contact.browser_search" not in {r.id for r in check.rules} and len(check.rules) >= 5
    assert check.scan("浏览器搜索 ff626.top").findings == []
    assert fired(check, "前面几句闲话。加 V ：abc_8888 有需要") == {"contact.evasive_handle"}  # the others still run
    assert fired(RulesCheck(CONTACT, cache_dir=tmp_path), "浏览器搜索 ff626.top") == {"contact.browser_search"}


@pytest.mark.usefixtures("private_rules_memo")
def test_cache_is_reused(tmp_path, monkeypatch):
    from fenghuo.checks import rules
    from fenghuo.checks.reloading import CompiledMemo

    def listing() -> list[tuple[str, int, int]]:  # a file written again is a new inode (tmp, then replace)
        return sorted((p.name, p.stat().st_ino, p.stat().st_mtime_ns) for p in tmp_path.iterdir() if p.is_file())

    first = RulesCheck(CONTACT, cache_dir=tmp_path)
    files = listing()
    assert files and all(name.startswith("rules-") and name.endswith(".hsdbs") for name, _, _ in files)
    # The compiled state beside the derived tables (rules_cache.py; test_rules_cache.py).
    assert [p.name.split("-")[0] for p in (tmp_path / "derived").iterdir()] == ["rulestate"]
    # A fresh in-process memo, so the second check is not this process's state but reads the
    # state and the databases from the directory.
    monkeypatch.setattr(rules, "_MEMO", CompiledMemo())
    again = RulesCheck(CONTACT, cache_dir=tmp_path)
    assert listing() == files
    assert not first._compiled.from_cache and again._compiled.from_cache
    assert fired(again, "浏览器搜索 ff626.top") == {"contact.browser_search"}


@pytest.mark.parametrize(("name", "floor"), [("rules_heldout.jsonl", 0.95), ("rules_heldout2.jsonl", 0.8)])
def test_heldout_recall(hs, name, floor):
    """Disguised solicitations written apart from the rules' examples, with other phrasing.
    The first set was measured once (59/67) and then used to fix eight general gaps, so it is
    no longer held out (66/67); the second was written after those fixes and measured once
    (33/40) without changing a rule. docs/checks.md reports both; the floors keep them from
    sliding back."""
    rows = [json.loads(line) for line in (HELDOUT.parent / name).read_text(encoding="utf-8").splitlines()]
    caught = sum(bool(hs.scan(r["text"]).findings) for r in rows)
    assert len(rows) >= 40
    assert caught / len(rows) >= floor, f"{name}: recall {caught}/{len(rows)}"
