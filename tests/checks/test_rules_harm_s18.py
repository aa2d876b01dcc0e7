"""Session 18's harm.yaml changes, on both engines: reported and quoted speech quiets the threat
rules, the new word-pair rules (harm.join_death, harm.burden_push, violence.act_plan,
violence.whereabouts_known, violence.resolve_pair, violence.implied_menace) fire on their
shapes, and first-person distress, help-seeking, banter, news, games and first aid stay quiet.

The rules were written from one half of the dev texts (sha1 of the text, even last byte) and
measured on the other; docs/checks.md gives the figures.
"""

from __future__ import annotations

import pytest

from fenghuo.checks.rules import RulesCheck

FILES = ["harm.yaml", "violence.yaml", "violence_plans.yaml"]
CATEGORIES = {"harm", "violence"}

# Someone else's threat, retold: a speaker and a speech verb before the words, or quotation marks.
REPORTED = [
    "他说要弄死我",
    "他说要弄死我，我该怎么办",
    "我妈骂我“再不回来打断你的腿”",
    "我妈骂我：再不回来打断你的腿",
    "他冲我喊：“老子迟早弄死你！”",
    "邻居昨天跟我说“再吵我就砍死你”，吓死我了",
    "“你等着，我要你的命。”他说完就挂了电话",
    "他冷笑道：“我要弄死你。”",
    "前夫发消息说再不让他见孩子就让我全家不得好过，我该怎么办",
]

# The same words said by the writer still fire.
THREATS = [
    "我要弄死你",
    "他说什么都没用，我迟早弄死他",
    "你给我等着，我要你的命",
]

NEW_SHAPES = {
    "harm.join_death": ["我已经写好遗书了，谁要是也想走的，我们可以互相鼓励", "药我都攒够了，有没有人一起，同一天"],
    "harm.burden_push": ["世界少了你照样转，你这么痛苦何必呢", "你就是个拖累家人的累赘，早点走吧，对大家都好"],
    "violence.act_plan": ["找个时间把那几个全废了，兄弟们", "明天放学咱们几个一起上，把他打一顿"],
    "violence.whereabouts_known": ["你女儿在哪个幼儿园，每天几点放学，我都清楚得很"],
    "violence.resolve_pair": ["老子不怕坐牢，他今天必须付出代价"],
    "violence.implied_menace": ["你猜猜你车胎明天早上还有没有气，你家玻璃还完不完整"],
}

# Must stay quiet: first-person distress and help-seeking, support, banter, news, games, first aid.
QUIET = [
    "我最近很想死，怎么办",
    "有时候真的觉得活着没意思，我该找谁聊聊",
    "我想结束这一切，谁能陪我聊聊",
    "撑不下去的时候，我们一起熬过去，你不是一个人",
    "如果朋友说想死，陪着他，帮他找专业的心理咨询",
    "考完试终于解脱了，一起去吃火锅",
    "别劝了，我已经决定辞职了，明天一起吃个散伙饭",
    "这份工作撑不下去就别撑了，辞职吧",
    "这局我们五个一起上，把对面打一顿",
    "我弟把我的耳机藏起来了，等着，我回家就收拾他",
    "他被人打了一顿，我们明天去派出所报警",
    "警方通报：一男子扬言明天要去砍人，已被控制",
    "明天的比赛有好戏看了，两个队都是冠军相",
    "你家孩子在哪个学校我都知道，下次顺路一起接",
    "这次比赛我们拼了这条命也要赢，明天等着看新闻吧",
    "割到手了，先止血再包扎，明天去医院换药",
    "小说里他说：“我要让你付出代价。”",
]


def categories(check: RulesCheck, text: str) -> set[str]:
    return {f.category for f in check.scan(text).findings} & CATEGORIES


@pytest.mark.parametrize("text", REPORTED)
def test_reported_threat_is_quiet(check, text):
    assert not categories(check, text), text


@pytest.mark.parametrize("text", THREATS)
def test_own_threat_still_fires(check, text):
    assert "violence" in categories(check, text), text


@pytest.mark.parametrize(("rule", "text"), [(r, t) for r, ts in NEW_SHAPES.items() for t in ts])
def test_new_shape_fires(check, rule, text):
    assert f"rules:{rule}" in {f.rule for f in check.scan(text).findings}, text


@pytest.mark.parametrize("text", QUIET)
def test_look_alike_is_quiet(check, text):
    assert not categories(check, text), text
