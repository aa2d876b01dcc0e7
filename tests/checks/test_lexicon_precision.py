"""Precision rules of the lexicon: short words on jieba token boundaries, Latin edges on Latin
boundaries, no lone letters — each with the harmless near miss that used to fire."""

import random

import pytest

from fenghuo.checks.lexicon import LexiconCheck
from fenghuo.checks.resolve import _aligned, resolve_few, resolve_many, token_cuts

WORDS = {"人大": ("politics",), "色b": ("porn",), "3级": ("porn",), "a片": ("porn",), "赌博": ("gambling",),
         "黄色": ("porn",), "法轮功": ("politics",), "大麻": ("drugs",), "b超": ("crime",)}


@pytest.fixture(scope="module")
def check():
    return LexiconCheck(words=WORDS, evasions=())


def hits(check, text):
    return [text[f.start : f.end] for f in check.scan(text).findings]


@pytest.mark.parametrize("text", ["河南人大部分都很勤劳", "游戏里角色B的台词很有意思", "我有13级的号", "拿到ba片", "ab超市"])
def test_harmless_near_misses_do_not_fire(check, text):
    assert hits(check, text) == []


@pytest.mark.parametrize(("text", "word"), [
    ("人大代表开会，人大是权力机关", "人大"),  # a token of its own in the second clause
    ("我要赌博", "赌博"),
    ("她在吸大麻", "大麻"),
    ("看3级片", "3级"),
    ("找a片", "a片"),
    ("我爱色b", "色b"),
    ("我要赌 博", "赌 博"),  # separators: judged as the text reads without them
    ("我想賭博", "賭博"),  # traditional
])
def test_short_words_on_token_boundaries_fire(check, text, word):
    assert word in hits(check, text)


def test_long_words_are_not_segmented(check):
    # 法轮功 is 3 characters: no boundary rule, found inside anything
    assert hits(check, "练法轮功的人") == ["法轮功"]


def test_a_word_that_normalises_to_one_letter_is_never_matched(tmp_path):
    f = tmp_path / "l.txt"
    f.write_text("b\x7f\nB\n赌博\n", encoding="utf-8")
    check = LexiconCheck(files=[f], evasions=())
    assert len(check) == 1
    assert hits(check, "选项B是对的 b b") == []


def test_everyday_yellow_is_a_lexicon_word_here_but_dropped_by_the_curated_lexicon(check):
    # 黄色 stands on token boundaries in 「…蓝色和黄色」, so the word rule alone cannot tell
    # yellow from porn: the curated lexicon drops it (see test_lexicon_shipped).
    assert hits(check, "三原色是红色、蓝色和黄色") == ["黄色"]


def test_fast_pretest_agrees_with_jieba():
    rng = random.Random(7)
    pieces = list("河南人大部分都很勤劳全国代表开会我们去赌博物馆看看黄色蓝色和红色") + ["group", "han", "3", "B", "，"]
    for _ in range(3000):
        w = "".join(rng.choice(pieces) for _ in range(rng.randint(2, 14)))
        a = rng.randrange(0, len(w) - 1)
        b = a + 2
        cuts = token_cuts(w)
        assert _aligned(w, a, b) == (a in cuts and b in cuts), (w, a)


def test_both_resolvers_apply_the_boundary_rules(check):
    one = "河南人大部分人，我要赌博，角色B，13级，"
    for text in (one, one * 30):
        st, n = check._state, check.normaliser.normalise(text)
        raw = st.engine.scan_raw(n.codes)
        few = resolve_few(st, text, n, raw)
        many = resolve_many(st, text, n, st.engine.hits(raw))
        assert few == many
        assert [text[f.start : f.end] for f in few] == ["赌博"] * (text.count("我要赌博"))
