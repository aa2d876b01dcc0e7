"""Everyday words that name a whole class of things — 成人 (成人礼, 成人高考, 把孩子教育成人),
游戏币 (a game's rules: 「游戏币不可兑换现金」), 验证码 (every bank's and parent's warning) — flag
where the classifier corroborates them and never block alone (lexicon_tag_fixes.tsv, action
context-flag; issue 12, session 19). Longer entries built on them (成人电影, 验证码为) keep theirs."""

import pytest

from fenghuo.checks.build.lexicon import tag_fixes
from fenghuo.checks.pipeline import default_config_path, load_pipeline

CLASS_WORDS = {"成人": "porn", "游戏币": "crime", "验证码": "crime"}


def _shipped_actions():
    from importlib import resources

    out = {}
    text = resources.files("fenghuo.checks").joinpath("shipped/lexicon.tsv").read_text(encoding="utf-8")
    for line in text.splitlines():
        cols = line.split("\t")
        if len(cols) >= 3 and cols[0] in (*CLASS_WORDS, "成人电影", "验证码为"):
            out[cols[0]] = (cols[1], cols[2])
    return out


def test_the_fix_file_and_the_shipped_lexicon_agree():
    fixes = tag_fixes(lambda w: w)
    got = _shipped_actions()
    for word, tag in CLASS_WORDS.items():
        assert fixes[word] == ([tag], "context-flag")
        assert got[word] == (tag, "context-flag")
    # the longer entries are the build's own: still context-block
    assert got["成人电影"][1] == "context-block" and got["验证码为"][1] == "context-block"


@pytest.fixture(scope="module")
def shipped():
    return load_pipeline(default_config_path())


def _lexicon(pipe, text):
    return [(f.rule, f.action.value) for f in pipe.scan(text).findings if f.rule.startswith("lexicon:")]


def test_a_games_rules_are_not_blocked(shipped):
    text = "游戏币不可兑换现金，禁止任何形式的赌博行为"
    v = shipped.scan(text)
    assert v.verdict != "block"
    assert ("lexicon:游戏币", "block") not in _lexicon(shipped, text)


def test_an_offer_is_still_caught(shipped):
    # near miss: the word still stands where the classifier corroborates it, as a flag
    text = "出售游戏币，诚信交易"
    got = _lexicon(shipped, text)
    if not got:
        pytest.skip("the shipped classifier gives this offer nothing to corroborate with")
    assert ("lexicon:游戏币", "flag") in got
    assert shipped.scan(text).verdict != "pass"


@pytest.mark.parametrize("text", ["今天是我的成人礼，好激动", "成人高考报名时间是什么时候？"])
def test_coming_of_age_and_adult_education_pass(shipped, text):
    assert shipped.scan(text).verdict == "pass"
