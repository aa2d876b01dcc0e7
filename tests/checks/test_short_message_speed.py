"""The short-message fast paths (issue 19) give what the general paths give, in the same run.

- the lexicon's fused scan (main words and homophone patterns in one database, one scan of the
  main form followed by the homophone form; ``LexiconCheck._scan_short`` without a
  ``Normalised`` at all) against the same lexicon's two-scan general path and against the
  ahocorasick-rs engine, which has no fused path;
- ``Normaliser.normalise_codes``'s bytes test for dropped/expanded characters against the
  comparison it replaced, including a kept code ending in 0xFE right before a dropped one;
- the classifier's ``han_share_of`` (a gather from the original code points) against
  ``han_share`` of the normalised codes.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from fenghuo.checks.classifier.script import han_share, han_share_of
from fenghuo.checks.lexicon import LexiconCheck
from fenghuo.checks.matcher import encode_patterns, homophone_form
from fenghuo.checks.normalize import SPECIAL, Normalised, Normaliser, default_normaliser
from fenghuo.checks.variants import SPLITS

WORDS = {"法轮功": ("politics",), "赌博网站": ("gambling",), "六合彩": ("gambling",), "黄色": ("porn",), "sex": ("porn",),
         "домашнее": ("offensive",), "傻逼": ("offensive",), "domestic violence": ("offensive",)}
SEPS = ["*", " ", ".", "\u200b", "😊", "／", "-", "~"]


def _tilde_char(norm: Normaliser) -> str:
    """A Chinese character whose normalised code's last byte is 0xFE (see normalise_codes)."""
    single = norm.tables.single
    for cp in range(0x4E00, 0x9FFF):
        m = int(single[cp])
        if m < int(SPECIAL) and (m >> 24) == 0xFE:
            return chr(cp)
    raise AssertionError("no such character")


def texts(n: int = 400) -> list[str]:
    rng = random.Random(7)
    norm = default_normaliser()
    pool = list("今天天气不错我们去吃饭吧你好世界发轮功法论工堵博网占六和彩黄涩") + list(SPLITS.values())
    extra = ["①", "ﬁ", "㊙", "Ａ", "ｂ", "\u0301", "\u200d", "😂", "\n", "，", "。", "x", "7", " ", "賭", "博", _tilde_char(norm)]
    out = ["", " ", "😂", "①②③", "法*轮*功", "发轮功", "氵去车仑工力", "fa lun gong", "ＳＥＸ", "s e x", "赌 博 网 站", "六合婇",
           "domestic violence", "ДОМАШНЕЕ", _tilde_char(norm) + " " + _tilde_char(norm), "黄色的花", "傻\u200b逼"]
    words = list(WORDS)
    for _ in range(n):
        parts = [rng.choice(pool) for _ in range(rng.randint(0, 30))]
        for _ in range(rng.randint(0, 2)):
            w = rng.choice(words)
            if rng.random() < 0.4:
                w = rng.choice(SEPS).join(w)
            parts.insert(rng.randint(0, len(parts)), w)
        for _ in range(rng.randint(0, 3)):
            parts.insert(rng.randint(0, len(parts)), rng.choice(extra))
        out.append("".join(parts))
    return out


@pytest.fixture(scope="module")
def lexicons(tmp_path_factory):
    d = tmp_path_factory.mktemp("hs")
    fused = LexiconCheck(words=WORDS, allow=["黄色的花"], cache_dir=d)
    plain = LexiconCheck(words=WORDS, allow=["黄色的花"], engine="ahocorasick-rs")
    return fused, plain


def test_the_shipped_configuration_is_fused(lexicons):
    fused, plain = lexicons
    assert fused._state.fused_table is not None and fused._state.homophones.fused
    assert plain._state.fused_table is None


def test_fused_scan_equals_the_general_paths(lexicons):
    fused, plain = lexicons
    norm = fused.normaliser
    hits = 0
    for t in texts():
        n = norm.normalise(t)
        general = Normalised(n.codes, n.length, n.steps, n.shift)  # no raw: the two-scan path
        want = plain.find_in(t, n)
        assert fused.scan(t).findings == want, t
        assert fused.find_in(t, n) == want, t
        assert fused.find_in(t, general) == want, t
        hits += bool(want)
    assert hits > 100  # the texts do exercise the resolution


def test_homophone_form_is_disjoint_from_the_main_form():
    main = np.frombuffer(b"".join(encode_patterns(["法轮功", "abc", "\U0001F602", "\uffff"])), np.uint8)
    assert main[0::3].max() <= 0xC3
    h = np.frombuffer(homophone_form(np.frombuffer(main.tobytes(), "V3")).tobytes(), np.uint8)
    assert set(h[0::3].tolist()) <= {0xD0, 0xD1, 0xD2, 0xD3, 0xEF}
    assert 0xD0 <= h[0::3][2] <= 0xD3 and h[0::3][6] == 0xEF  # 功 moved; the emoji is the sentinel


def _reference(norm: Normaliser, text: str) -> tuple:
    """The comparison-based test normalise_codes used before (codes, steps, shift)."""
    raw = norm.codes(text)
    mapped = norm.tables.single.take(raw)
    special = mapped >= SPECIAL
    if not special.any():
        return mapped.tolist(), None, None
    if (mapped[special] != 0xFFFFFFFF).any():
        n = norm._expand(raw, mapped, special, special.nonzero()[0])
        return n.codes.tolist(), n.steps.tolist(), n.shift.tolist()
    dropped = special.nonzero()[0]
    return mapped[~special].tolist(), (dropped - np.arange(dropped.size)).tolist(), None


def test_normalise_bytes_test_equals_the_comparison():
    norm = default_normaliser()
    # Drops found by bytes searches up to normalize._FEW_DROPS, by nonzero beyond: both sides of it.
    edges = [" ".join("赌博网站你好世界天") [: 2 * k - 1] for k in (1, 2, 8, 9, 10)] + ["*" * 9 + "赌", "赌" + "\u200b" * 8]
    for t in texts(300) + edges:
        n = norm.normalise(t)
        codes, steps, shift = _reference(norm, t)
        assert n.codes.tolist() == codes, t
        assert (None if n.steps is None else n.steps.tolist()) == steps, t
        assert (None if n.shift is None else n.shift.tolist()) == shift, t
        if n.steps is None:
            assert n.kept is None
        elif n.shift is None:  # drops only: the kept flags of every original character
            assert n.kept.tolist() == (norm.tables.single.take(norm.codes(t)) < SPECIAL).tolist(), t
            assert n.steps.dtype == np.intp


def test_han_share_from_original_code_points_equals_normalised():
    norm = default_normaliser()
    for t in texts(300) + ["hello 你好", "Ｈｅｌｌｏ世界", "Ωμέγα 希腊", "①②", "abc\u0301d"]:
        n = norm.normalise(t)
        assert han_share_of(n, norm.tables) == han_share(n.codes), t


def test_fused_table_marks_dropped_and_expanded_characters_with_bytes_no_character_has():
    from fenghuo.checks.normalize import DROP, EXPAND
    from fenghuo.checks.variants import FUSED_DROP, FUSED_EXPAND, fused_table

    norm = default_normaliser()
    t = fused_table(norm.tables)
    b = t.view(np.uint8).reshape(2, -1, 3)
    single = norm.tables.single
    drop, exp = single == DROP, single == EXPAND
    assert drop.any() and exp.any()
    assert (b[:, drop] == FUSED_DROP[0]).all() and (b[:, exp] == FUSED_EXPAND[0]).all()
    kept = ~(drop | exp)
    # Every byte of a kept character is >= 0x80: deleting the marker bytes (``translate``)
    # removes whole dropped characters and nothing else, and a marker byte found means a marker.
    assert b[:, kept].min() >= 0x80
    assert not t.flags.writeable


def test_lexicon_leaves_the_packed_main_form_for_the_rules_check(lexicons, shipped_rules):
    from fenghuo.checks.matcher import pack3

    fused, _ = lexicons
    rules = shipped_rules  # compiled once per test process (conftest.py); RulesCheck() compiled all rules again
    norm = fused.normaliser
    seen = 0
    for t in texts(300) + ["加微信了解，日结300，先垫付后返佣", "澳门新葡京 线上 娱乐", "代开各类发票 税点低"]:
        n = norm.normalise(t)
        want_lit = rules._compiled.index.candidate_literals(t, norm.normalise(t))
        want = rules.find_in(t, norm.normalise(t))
        fused.find_in(t, n)
        if n.shift is None and n.codes.size:
            assert n.packed == pack3(n.codes).tobytes(), t
            seen += 1
        assert rules._compiled.index.candidate_literals(t, n) == want_lit, t
        assert rules.find_in(t, n) == want, t
    assert seen > 200


def test_rules_due_for_several_literals_are_cached_and_equal_the_general_test(shipped_rules):
    rules = shipped_rules
    norm = default_normaliser()
    msgs = ["加群领红包，一次性转账", "加微信了解，日结300，先垫付后返佣", "学生兼职 加群 日结", "价格表 加微信 克"] + texts(100)
    multi = 0
    for _ in range(2):  # the second round answers from the cache
        for t in msgs:
            n = norm.normalise(t)
            assert sorted(rules.todo_fast(t, n)) == sorted(rules.todo_general(t, n)), t
            lit = rules._compiled.index.candidate_literals(t, n)
            multi += len(lit) > 1
            rules.find_in(t, n)
    # Cached entries are the path without the kernel; with it ``DuePlan`` works them out per message.
    assert multi > 0 and (rules._compiled.multi_todo or rules._compiled.due_plan is not None)


def test_short_word_window_cache_equals_the_segmenter():
    from fenghuo.checks import resolve

    norm = default_normaliser()
    for t, (s, e), want in [("河南人大部分都很好", (3, 5), False), ("蓝色和黄色的花", (3, 5), True), ("我们去赌博吧", (3, 5), True)]:
        n = norm.normalise(t)
        resolve._SHORT_OK.clear()
        for _ in range(2):  # computed, then from the cache
            assert resolve.short_ok(n.codes, s, e) is want, t
            assert resolve.segment_ok(t, s, e) is want, t


def test_verdict_is_a_struct_with_the_dataclass_interface():
    from fenghuo.checks.base import Action, Finding, Verdict

    f = Finding("porn", 0, 2, "lexicon:黄色", Action.BLOCK)
    v = Verdict([f], 1.5, ("lexicon",))
    assert v == Verdict(findings=[f], elapsed_us=1.5, checks=("lexicon",))
    assert v.errors == [] and Verdict().errors is not Verdict().errors  # a new list each
    v.findings = []
    assert v.verdict == "pass" and Verdict([f]).blocked
