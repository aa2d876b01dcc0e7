"""The rules check's normalised-side prefilter literals ride on the lexicon's one scan per message
(``LexiconCheck.share_literals``, wired by the pipeline): the literals found, and so the rules'
findings, must be exactly those of the rules check's own scan, and the lexicon's findings must
not change (its scans drop the extra ids)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from fenghuo.checks.lexicon import LexiconCheck
from fenghuo.checks.pipeline import Pipeline, load_pipeline
from fenghuo.checks.rules import RulesCheck

FIXTURE = Path(__file__).parent / "data" / "verdicts_unchanged.json.gz"
# Messages the shipped rules fire on, or nearly (their literals without the rest), with evasions.
RULE_TEXTS = [
    "加我微信 abc12345 兼职刷单日结", "加 V：abc_123 了解一下", "刷单返利，日赚五百", "谨防刷单诈骗",
    "代开发票，联系 QQ 123456789", "澳门赌场线上开户，首充送彩金", "出售冰毒，货到付款", "上门服务，包夜 800",
    "ｗｅｉｘｉｎ：ａｂｃ１２３", "加*微*信 abc123", "我们网站 www.example.com 欢迎访问", "今天天气不错，出去走走",
]


@pytest.fixture(scope="module")
def pipe():
    return load_pipeline()


def _texts() -> list[str]:
    with gzip.open(FIXTURE, "rt", encoding="utf-8") as fh:
        rows = json.load(fh)["rows"]
    return RULE_TEXTS + [r["text"] for r in rows]


def test_the_shipped_pipeline_shares_one_database(pipe):
    lexicon = next(c for c in pipe.checks if c.name == "lexicon")
    rules = next(c for c in pipe.checks if c.name == "rules")
    assert lexicon._state.shared is not None
    assert lexicon._state.shared[0] is rules._compiled.index


def test_shared_literals_and_findings_equal_the_rules_checks_own_scan(pipe):
    lexicon = next(c for c in pipe.checks if c.name == "lexicon")
    rules = next(c for c in pipe.checks if c.name == "rules")
    index = rules._compiled.index
    norm = lexicon.normaliser
    shared_used = found = 0
    for text in _texts():
        n_shared, n_own = norm.normalise(text), norm.normalise(text)
        lexicon.find_in(text, n_shared)
        own = index.candidate_literals(text, n_own)
        assert n_own.prefilter is None
        if n_shared.prefilter is not None:
            shared_used += 1
        got = index.candidate_literals(text, n_shared)
        assert sorted(set(got)) == sorted(set(own)), text
        assert rules.find_in(text, n_shared) == rules.find_in(text, n_own), text
        found += bool(own)
    assert shared_used > 100 and found > 10  # the comparison compared something


def test_lexicon_findings_do_not_change_with_shared_literals(pipe, tmp_path):
    shipped = next(c for c in pipe.checks if c.name == "lexicon")
    # Block words of three characters and more: they get homophones, so the fused database.
    words = dict.fromkeys(("约炮群", "裸聊网站", "约炮"), ("porn",))
    own = LexiconCheck(words=words, policy=pipe.policy, cache_dir=tmp_path)
    shared = LexiconCheck(words=words, policy=pipe.policy, cache_dir=tmp_path)
    rules = RulesCheck()
    Pipeline([shared, rules])  # pairs them
    assert shared._state.shared is not None and own._state.shared is None
    hits = 0
    for text in _texts() + ["约炮群加微信 abc123", "裸 聊 网 站 加 V abc123", "月泡群加微信 abc123"]:
        assert shared.scan(text).findings == own.scan(text).findings
        assert shared.find_in(text, shared.normaliser.normalise(text)) == own.find_in(text, own.normaliser.normalise(text))
        assert shipped.scan(text).findings == shipped.find_in(text, shipped.normaliser.normalise(text))
        hits += bool(own.scan(text).findings)
    assert hits >= 3


def test_a_reloaded_rules_check_scans_on_its_own(pipe):
    lexicon = next(c for c in pipe.checks if c.name == "lexicon")
    rules = RulesCheck()
    p = Pipeline([lexicon, rules])
    old_index = rules._compiled.index
    assert lexicon._state.shared[0] is old_index
    rules.reload()  # a new index: the literals on the message are not its own
    text = "加我微信 abc12345 兼职刷单日结"
    n = lexicon.normaliser.normalise(text)
    lexicon.find_in(text, n)
    assert n.prefilter is not None and n.prefilter[0] is old_index
    assert rules.find_in(text, n) == rules.find_in(text, lexicon.normaliser.normalise(text)) != []
    assert p.scan(text).findings
