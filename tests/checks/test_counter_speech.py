"""Counter-speech (checks/counter_speech.py): a text that names a group to speak against a
stereotype loses the offensive flag it earns only by naming them; a text that disclaims the bias
and then voices it keeps it."""

from pathlib import Path

import pytest

from fenghuo.checks.base import Action, Finding
from fenghuo.checks.classifier.check import from_config as classifier_from_config
from fenghuo.checks.counter_speech import MAX_TEXT, countered, countering, cue, endorsed
from fenghuo.checks.pipeline import Pipeline
from fenghuo.checks.policy import Policy

# Written dev texts (tests/checks/data/written_zh) of each cue.
COUNTER = [
    "有人说“穷山恶水出刁民”，这句话本身就是地域歧视，任何地方都有好人坏人，不能以地域论人品。",
    "把外卖小哥叫“送外卖的”没问题，但说“没本事才送外卖”就是职业歧视了。",
    "“男人四十一枝花，女人四十豆腐渣”这种话简直离谱，年龄歧视加性别歧视双buff。",
    "我是河南人，从小到大听过太多“河南人偷井盖”的段子，笑一次两次可以，天天被这么说真的很累。地域黑该停了。",
    "我是东北人，总被说“东北人都是黑社会”“东北人爱打架”，拜托，我连杀鸡都不敢好吗。",
    "“疯子”“精神病”成为骂人的常用词，让真正的精神疾病患者更不敢就医，这是污名化的恶性循环。",
    "为什么有人觉得骂人“你妈死了”是幽默？网络上这种口头禅泛滥，真的应该反思一下语言暴力。",
    "有人说东北人都爱喝酒打架，我东北的，不喝酒也不打架，刻板印象害死人",
    "在招聘中应当避免对女性的歧视。",
    "看到有人在评论区说“某省人都是骗子”，我直接举报了，这种言论不该存在",
]
# The bias disclaimed, then voiced; judged, then taken back; or the speaker's own generalisation.
DISCLAIMED = [
    "我不是歧视，但是河南人就是爱骗人。",
    "说实话不是地域黑，东北人确实素质不行。",
    "反对歧视归反对歧视，但是某些地方的人偷东西就是多。",
    "种族歧视是不对的。但是我就看不惯黑人，怎么了。",
    "我就是歧视黑人，犯法吗？",
    "别再说地域黑了，河南人就是骗子。",
    "比较烦随时张口闭口提什么“反对人种歧视”的，我们这不叫歧视，就是单纯的讨厌黑人",
]


@pytest.mark.parametrize("text", COUNTER)
def test_counter_speech_is_recognised(text):
    assert cue(text) is not None
    assert countering(text)


@pytest.mark.parametrize("text", DISCLAIMED)
def test_a_disclaimer_or_an_own_generalisation_is_no_counter_speech(text):
    assert not countering(text)


@pytest.mark.parametrize(("text", "own"), [("有人说东北人都爱喝酒打架", False), ("东北人都爱喝酒打架", True),
                                           ("不是每个广西人都吃老鼠", False), ("“河南人都是骗子”这种话离谱", False),
                                           ("我就是看不惯黑人", True),
                                           ("拿一个地方的人开涮就是地域歧视", False)])  # 的人 names no group
def test_a_generalisation_is_the_speakers_only_outside_quotes_and_reported_speech(text, own):
    assert endorsed(text) is own


def test_no_cue_in_ordinary_text():
    for text in ("今天去河南玩了，胡辣汤很好喝。", "这部电影的台词“我命由我不由天”很燃。", "他被说服了。", ""):
        assert cue(text) is None


def _f(rule, category="offensive", action=Action.FLAG, start=0, end=3):
    return Finding(category, start, end, rule, action)


def test_only_offensive_flags_of_the_classifier_and_abuse_rule_and_lexicon_flags_inside_quotes_are_looked_at():
    text = "有人骂“你们东北人都是混混”，这种话就是地域歧视。"
    quoted = text.index("你们"), text.index("”")
    fs = [_f("rules:abuse.group_stereotype", "discrimination", start=quoted[0], end=quoted[1]),
          _f("rules:abuse.group_stereotype", "discrimination", start=0, end=2),  # outside the quote: stays
          _f("rules:abuse.harass_threat", action=Action.BLOCK, start=quoted[0], end=quoted[1]),  # a block: stays
          _f("lexicon:混混", "offensive", start=quoted[0], end=quoted[1]),  # a lexicon flag inside the quote: goes (session 22)
          _f("lexicon:混混", "offensive", start=0, end=2),  # outside it: stays
          _f("lexicon:混混", "offensive", action=Action.BLOCK, start=quoted[0], end=quoted[1])]  # a block: stays
    out = countered(fs, text, [])
    assert out == fs[1:3] + fs[4:]
    assert countered(fs, "你们东北人都是混混", []) == fs  # no cue: nothing changes
    assert countered(fs, text + "啊" * MAX_TEXT, []) == fs  # a long text is not read


@pytest.fixture(scope="module")
def classifier():
    return classifier_from_config({"model": "shipped"}, Policy(), Path("."))


def _offensive(v):
    return [f for f in v.findings if f.category == "offensive" and f.rule.startswith("classifier:")]


def test_the_pipeline_clears_the_classifiers_flag_on_counter_speech_and_keeps_it_on_a_disclaimer(classifier):
    pipe, off = Pipeline([classifier]), Pipeline([classifier], corroborate=0.0)
    flagged = [t for t in COUNTER if _offensive(off.scan(t))]
    if not flagged:
        pytest.skip("the shipped classifier flags none of the counter-speech texts")
    cleared = [t for t in flagged if not _offensive(pipe.scan(t))]
    assert len(cleared) >= len(flagged) // 2, (flagged, cleared)
    for t in DISCLAIMED:
        assert bool(_offensive(pipe.scan(t))) == bool(_offensive(off.scan(t))), t
    # Counter-speech that insults as well keeps its flag: what is left still scores offensive.
    insult = "“河南人偷井盖”这种话就是地域歧视，你这个傻逼脑残废物"
    assert countering(insult)
    assert _offensive(pipe.scan(insult))
    # The stream does what the scan does.
    text = flagged[0]
    s = pipe.stream()
    s.feed(text[:10])
    s.feed(text[10:])
    assert bool(_offensive(s.close())) == bool(_offensive(pipe.scan(text)))
