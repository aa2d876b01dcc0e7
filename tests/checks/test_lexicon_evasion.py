"""Evasions of listed words are caught (separators, full width, traditional, split characters,
pinyin, homophones) while harmless look-alikes are not."""

import random

import pytest

from fenghuo.checks.lexicon import LexiconCheck
from fenghuo.checks.tools.evasion_testset import KINDS, generate, score
from fenghuo.checks.variants import LAYERS, pinyin_of, toneless

WORDS = {"法轮功": ("politics",), "六合彩": ("gambling",), "摇头丸": ("drugs",), "卖淫嫖娼": ("porn", "crime"),
         "冰毒": ("drugs",), "中国共产党": ("politics",)}


@pytest.fixture(scope="module")
def check():
    return LexiconCheck(words=WORDS)


def found(check, text):
    return [(f.rule, f.risk, text[f.start : f.end]) for f in check.scan(text).findings]


@pytest.mark.parametrize(("text", "rule", "span"), [
    ("法*轮*功好不好", "lexicon:法轮功", "法*轮*功"),
    ("法 轮 功", "lexicon:法轮功", "法 轮 功"),
    ("法輪功", "lexicon:法轮功", "法輪功"),
    ("fa lun gong 好不好", "lexicon:法轮功~pinyin", "fa lun gong"),
    ("FaLunGong", "lexicon:法轮功~pinyin", "FaLunGong"),
    ("ｆａｌｕｎｇｏｎｇ是什么", "lexicon:法轮功~pinyin", "ｆａｌｕｎｇｏｎｇ"),
    ("发轮功", "lexicon:法轮功~homophone", "发轮功"),
    ("发-论-工的人", "lexicon:法轮功~homophone", "发-论-工"),
    ("氵去轮功", "lexicon:法轮功~split", "氵去轮功"),
    ("法車仑功", "lexicon:法轮功~split", "法車仑功"),
    ("买溜合彩", "lexicon:六合彩~homophone", "溜合彩"),
    ("liuhecai开奖", "lexicon:六合彩~pinyin", "liuhecai"),
])
def test_evasions_are_caught_with_the_words_risk_code(check, text, rule, span):
    got = found(check, text)
    assert (rule, "A1a" if "法轮功" in rule else "A1h", span) in got, got


@pytest.mark.parametrize("text", [
    "法律规定的功能",  # 法…功 with other words between: not an evasion
    "国家级的工程",  # sounds like nothing listed here
    "fall in gong show",  # pinyin needs word boundaries: 'falungong' is not spelt here
    "the falungongs",  # nor inside a longer ASCII word
    "冰 箱里的毒蘑菇",  # short words get no homophone/pinyin layer; the line break rule keeps clauses apart
])
def test_harmless_look_alikes_are_not_caught(check, text):
    assert found(check, text) == []


def test_layers_can_be_turned_off_per_check_and_per_word(tmp_path):
    off = LexiconCheck(words=WORDS, evasions=())
    assert found(off, "发轮功 falungong 氵去轮功") == []
    f = tmp_path / "l.tsv"
    f.write_text("法轮功\tpolitics\t\tpinyin\n六合彩\tgambling\tflag\n", encoding="utf-8")
    per_word = LexiconCheck(files=[f])
    assert [r for r, _, _ in found(per_word, "发轮功 falungong")] == ["lexicon:法轮功~pinyin"]
    # a demoted (flag) word gets no variants: it already fires on harmless text
    assert found(per_word, "溜合彩") == [] and found(per_word, "六合彩")[0][0] == "lexicon:六合彩"


def test_unknown_layer_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown layer"):
        LexiconCheck(words=WORDS, evasions=("morse",))
    f = tmp_path / "l.tsv"
    f.write_text("法轮功\tpolitics\tblock\tmorse\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"l.tsv:1: unknown evasion layer"):
        LexiconCheck(files=[f])


def test_pinyin_readings():
    assert pinyin_of("法轮功") == ["fa", "lun", "gong"]
    assert pinyin_of("银行卡号") == ["yin", "hang", "ka", "hao"]  # polyphonic 行 from the phrase table
    assert pinyin_of("绿色") == ["lv", "se"]
    assert [toneless(s) for s in ("lǜ", "fā", "zhuàng")] == ["lv", "fa", "zhuang"]


def test_generated_evasions_are_detected_and_without_layers_fewer():
    words = [w for w in WORDS if len(w) >= 3]  # 2-character words get no pinyin/homophone layer
    cases = generate(words, seed=3)
    assert {c.kind for c in cases} >= set(KINDS) - {"full_width"}
    with_layers = score(LexiconCheck(words=WORDS), cases)
    without = score(LexiconCheck(words=WORDS, evasions=()), cases)
    assert with_layers["all"]["detected"] >= 0.95
    assert with_layers["pinyin"]["detected"] == 1.0 and without["pinyin"]["detected"] == 0.0
    assert with_layers["all"]["detected"] > without["all"]["detected"]


def test_evasion_layers_leave_random_harmless_text_alone():
    rng = random.Random(1)
    chars = "今天天气很好我们去公园散步吃饭学习工作发展国家法律功能论文工人"
    check = LexiconCheck(words=WORDS)
    for _ in range(500):
        text = "".join(rng.choice(chars) for _ in range(30))
        assert all(f.rule.partition("~")[2] in ("", *LAYERS) for f in check.scan(text).findings)
        if "法轮功" not in text:
            assert not [f for f in check.scan(text).findings if f.rule.endswith("~pinyin")]
