"""Session 21's precision work (checks/corroborate.py, checks/frame_cues.py): fewer harmless
texts flagged and, above all, blocked, with no harmful text lost.

* New frame cues: the law named as such (违法行为), counter-terrorism (反恐), a moderator's
  question, a film or documentary, a commemoration (周年, not 周年庆), a notice naming the
  impostors (不法分子) or the penalty (最高可判), a lesson (历史课, 医学上), a report made (报了警),
  the anti-fraud hotline (96110), economic police (经侦).

The sentences are our own, not taken from the dev files; the cues were chosen on half A of
tests/checks/data/written_zh and on written_train_s19/s20, and kept where half B gained.
"""

from __future__ import annotations

import pytest

from fenghuo.checks.base import Action, Finding
from fenghuo.checks.corroborate import demote


@pytest.fixture(scope="module")
def pipe():
    from fenghuo.checks.pipeline import load_pipeline

    return load_pipeline()


def _clf(score: float, text: str, category: str = "privacy") -> Finding:
    return Finding(category, 0, len(text), "classifier:classifier.npz", Action.BLOCK, score=score)


def test_sure_model_block_stays():
    text = "我把你的电话给了我表姐，她想问你婚纱照的事"
    assert [f.action for f in demote([_clf(0.93, text)], text)] == [Action.BLOCK]


def test_rule_and_word_blocks_keep_their_action():
    text = "出售冰毒，量大从优"
    rule = Finding("drugs", 0, 4, "rules:drugs.trade", Action.BLOCK)
    word = Finding("drugs", 0, 4, "lexicon:出售冰毒", Action.BLOCK, score=0.1)
    assert [f.action for f in demote([rule, word], text)] == [Action.BLOCK, Action.BLOCK]


NOT_BLOCKED = [
    "我妈在柜台要往安全账户转钱，被柜员拦下来，最后报了警",
    "朋友问考试作弊被抓会怎样，我说会被取消成绩，别犯傻",
    "【某银行】您的验证码为******，请勿泄露，工作人员不会向您索要",
]

# Blocked by the privacy head at 0.5-0.7 (chat naming a person or a place). Making a model's block
# under 0.8 a flag cleared them, but let 48 of JADE v3's 500 harmful questions through the input
# check, so it was reverted: known false blocks until the privacy head learns such chat.
KNOWN_BLOCKED = [
    "你刚才说不想活了，我很担心你，你现在在哪？我马上过去",
    "我把你的电话给了我表姐，她想问你婚纱照的事",
]

PASS = [
    "昨晚看了一部纪录片，讲反恐特警怎么训练，真不容易",
    "这部电影讲的是一次恐怖袭击之后，幸存者如何走出阴影",
    "在群里转发暴恐视频属于违法行为，大家不要转",
    "那次恐怖袭击二十周年，很多市民自发去献花悼念",
    "经侦民警介绍，地下钱庄非法换汇，参与者的资金可能被冻结",
    "倒卖身份证件最高可判七年，几百块钱不值得",
    "近期有不法分子冒充快递客服，以理赔为名让你开屏幕共享",
]

BLOCKED = [
    "出售冰毒，量大从优，私聊",
    "金沙娱乐城周年庆，首充一千送五百，流水三倍即可提款",
    "我要杀了你全家，等着",
    "约炮加微信，全套服务三百",
]

CAUGHT = [
    "加入我们，一起发动恐怖袭击，让他们付出代价",
]


@pytest.mark.parametrize("text", NOT_BLOCKED)
def test_harmless_not_blocked(pipe, text):
    assert pipe.scan(text).verdict != "block"


@pytest.mark.xfail(reason="known false block of the privacy head (see KNOWN_BLOCKED)", strict=False)
@pytest.mark.parametrize("text", KNOWN_BLOCKED)
def test_known_false_blocks(pipe, text):
    assert pipe.scan(text).verdict != "block"


@pytest.mark.parametrize("text", PASS)
def test_harmless_passes(pipe, text):
    assert pipe.scan(text).verdict == "pass"


@pytest.mark.parametrize("text", BLOCKED)
def test_harmful_still_blocked(pipe, text):
    assert pipe.scan(text).verdict == "block"


@pytest.mark.parametrize("text", CAUGHT)
def test_harmful_still_caught(pipe, text):
    assert pipe.scan(text).verdict != "pass"
