"""Session 25: discussion frames (checks/discussion.py). A classifier's offensive flag on a game's or
a film's plot, a parent's question, a court report, a debate or a victim of abuse asking what to do
is scored again without the frame's and the subject's words; an insult, a threat, a wish of
violence or a group generalisation in the same frame keeps it. The sentences are our own, not
taken from the dev files."""

from pathlib import Path

import pytest

from fenghuo.checks.base import Action, Finding
from fenghuo.checks.classifier.check import from_config as classifier_from_config
from fenghuo.checks.discussion import MAX_TEXT, discussed, kind, vetoed
from fenghuo.checks.pipeline import Pipeline
from fenghuo.checks.policy import Policy

# (frame kind, a look-alike the frame re-judges, a harmful text in the same frame that keeps its flag)
PAIRS = [
    ("fiction", "这款恐怖游戏里的杀人魔太吓人了，我玩到一半不敢玩了", "这部剧的导演就是个傻逼，拍的什么垃圾"),
    ("advice", "我家孩子在幼儿园老是打人骂人，怎么教育才好？", "这种熊孩子的家长都是垃圾，没教养的东西"),
    ("report", "男子在直播间辱骂他人被判刑，法院认定构成侮辱罪", "法院判了又怎样，这个强奸犯就该千刀万剐，死全家"),
    ("debate", "为什么网络上骂人的现象这么普遍？", "为什么有人天天在网上骂人？因为他们就是一群没脑子的蠢货"),
    ("target", "我被人在网上骂了三天，还被造谣，怎么举报？", "我被人骂了，怎么举报？那个贱人我一定让她好看"),
]


@pytest.mark.parametrize(("frame", "text"), [(k, t) for k, t, _ in PAIRS] + [
    ("sex_ed", "防性侵教育要从小做起，告诉幼儿哪些部位不能让别人碰"),
])
def test_each_kind_of_frame_is_recognised(frame, text):
    assert kind(text) == frame
    assert not vetoed(text)


def test_no_frame_in_ordinary_text():
    for text in ("今天去超市买了两斤苹果。", "这个主播就是个傻逼", ""):
        assert kind(text) is None


@pytest.mark.parametrize("text", [
    "你要是再多嘴，就像电影里那样把你杀了",  # addresses someone
    "电影里那个杀人狂真是我偶像，我也想学他",  # praise of violence
    "法院判了又怎样，这个强奸犯就该千刀万剐，死全家",  # a wish of violence
    "小说里写的那种毒药配方，谁能发我一份",  # asks for the harm
    "游戏里那个人就算报警，警察也查不到",  # gets past the police
    "讨论一下，外地人是不是都素质差",  # a generalisation in the speaker's voice
])
def test_a_frame_is_vetoed(text):
    assert vetoed(text)


def _f(category="offensive", rule="classifier:classifier.npz", action=Action.FLAG):
    return Finding(category, 0, 10, rule, action)


def test_only_the_classifiers_offensive_and_discrimination_flags_are_looked_at():
    text = "这款恐怖游戏里的杀人魔太吓人了"
    fs = [_f(action=Action.BLOCK), _f("violence"), _f(rule="rules:abuse.x"), _f(rule="lexicon:杀人")]
    assert discussed(fs, text, []) == fs
    assert discussed([_f()], text + "啊" * MAX_TEXT, []) == [_f()]  # a long text is not read


@pytest.fixture(scope="module")
def pipes():
    c = classifier_from_config({"model": "shipped"}, Policy(), Path("."))
    return Pipeline([c]), Pipeline([c], corroborate=0.0)


def _offensive(v):
    return [f for f in v.findings if f.category in ("offensive", "discrimination") and f.rule.startswith("classifier:")]


def test_the_pipeline_clears_look_alikes_and_keeps_the_harmful_texts_flag(pipes):
    pipe, off = pipes
    flagged = [t for _, t, _ in PAIRS if _offensive(off.scan(t))]
    if not flagged:
        pytest.skip("the shipped classifier flags none of the look-alikes")
    cleared = [t for t in flagged if not _offensive(pipe.scan(t))]
    assert len(cleared) >= (len(flagged) + 1) // 2, (flagged, cleared)
    for _, _, harmful in PAIRS:
        assert bool(_offensive(pipe.scan(harmful))) == bool(_offensive(off.scan(harmful))), harmful


def test_a_text_naming_a_group_is_left_as_it_is(pipes):
    pipe, off = pipes
    text = "为什么网络上骂河南人的现象这么普遍？"  # COLD's topic: left to counter_speech.py
    assert bool(_offensive(pipe.scan(text))) == bool(_offensive(off.scan(text)))
