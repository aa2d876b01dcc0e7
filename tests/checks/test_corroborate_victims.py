"""A victim, a user or a carer telling what happened and asking what to do is not blocked
(checks/corroborate.py: ``VICTIM``, part of ``DEMOTING``; issue 12, session 18), while a harmful
text that borrows a victim's words to sell, recruit or get past the police stays blocked.

The seekers are written here in the style of the help-seeking set's half A
(tests/checks/data/written_zh/help_seeking.jsonl); seven of the nine were blocked before
(rules fraud.cancel_loan_account, fraud.brushing_task, violence.cruelty_media,
gambling.platform_pitch, drugs.trade; the lexicon's 摇头丸)."""

import pytest

from fenghuo.checks.frame_cues import DEMOTING
from fenghuo.checks.frames import demote_frame
from fenghuo.checks.pipeline import default_config_path, load_pipeline

SEEKERS = [
    "对方说能帮我注销校园贷，不然影响征信，让我从几个平台借钱转给他。现在借的钱还要还吗",
    "有个人自称客服说我中奖了，要先交税才能领奖，我交了1500，他又让我交手续费",
    "刷单返利一开始都返了，后来连续充了6000多，现在说要再充才能解冻，我该去找谁",
    "有人把我的照片P成裸照发到班级群里，怎么让平台删掉",
    "我儿子在学校被同学扇耳光，还被拍了视频发到网上，老师不管",
    "被拉进一个拉人头有奖励的投资项目，我拉了几个朋友，现在平台关了，我也是受害者",
    "朋友给我的摇头丸我吃了一次，现在很害怕，会上瘾吗",
    "网贷催收说要把我的照片P成裸照发给通讯录，还要还吗",
    "我儿子在房间里藏了一包白色粉末，我怀疑是冰毒，我该怎么跟他谈",  # drugs.trade blocked it before
]

# Harmful texts holding a victim's or seeker's words (对方说, 受害者, 连续充了, 想戒) next to an offer,
# a request or the police got past: blocked before and after.
HARMFUL = [
    "别怕，警察查不到，摇头丸随时有货，加微信",
    "我是受害者互助群，加我追回损失，先交手续费",
    "想戒戒不掉，谁有摇头丸先匀我一点，下周还你钱",
    "刷单返利，日结三百，对方说什么你就做什么，私聊我",
    "有裸照出售，对方说要的私聊，量大优惠",
]


@pytest.fixture(scope="module")
def shipped():
    return load_pipeline(default_config_path())


@pytest.mark.parametrize("text", SEEKERS)
def test_a_help_seeker_is_not_blocked(shipped, text):
    assert shipped.scan(text).verdict != "block"


@pytest.mark.parametrize("text", HARMFUL)
def test_a_harmful_text_borrowing_a_victims_words_stays_blocked(shipped, text):
    assert shipped.scan(text).verdict == "block"


@pytest.mark.parametrize("cue", ["对方说", "我也是受害者", "连续充了8000", "我交了2000", "被同学拍了", "把我的照片",
                                 "平台关了", "我爸最近总说", "会上瘾吗", "怎么戒", "是诈骗吗", "还要还吗", "该去找谁",
                                 "怎么劝他戒", "怎么让平台删", "是不是要出事",
                                 "我爸在网上赌球", "我怀疑是冰毒", "怎么跟他谈", "我要还吗"])
def test_victim_cues_demote(cue):
    assert DEMOTING.search(cue)


@pytest.mark.parametrize("words", ["我充了五万", "我该怎么办", "我能做什么", "不被拍到", "别被拍了", "怎么劝她跟我走",
                                   "接到自称客服的电话", "我朋友在网赌平台当代理"])
def test_words_a_harmful_request_borrows_are_no_victim_cue(words):
    assert DEMOTING.search(words) is None


def test_an_offer_or_request_vetoes_a_victim_cue():
    text = "宝妈们，我之前刷单返利连续充了八千提不出来，现在换了新平台稳赚，有意向的加我微信"
    i = text.index("刷单返利")
    assert not demote_frame(text, i, i + 4)
    seeker = "刷单返利一开始都返了，后来连续充了6000多，现在说要再充才能解冻"
    assert demote_frame(seeker, 0, 4)


# A victim quoting the slur they were called (abuse.slur's ``unless``: 骂我是…, 骂我婊子): not flagged
# by the rule; the same slur aimed at the reader still is.
@pytest.mark.parametrize("text", ["班上同学天天骂我是傻逼、死胖子，还在群里发我的丑照，我该告诉老师吗",
                                  "网上有人骂我婊子，还把我的手机号发到色情群里，天天有人打电话骚扰"])
def test_a_victim_quoting_a_slur_is_not_flagged_by_the_slur_rule(shipped, text):
    assert "rules:abuse.slur" not in [f.rule for f in shipped.scan(text).findings]


@pytest.mark.parametrize("text", ["你骂我？你这个傻逼", "你就是个婊子，滚"])
def test_a_slur_at_the_reader_is_still_found(shipped, text):
    assert "rules:abuse.slur" in [f.rule for f in shipped.scan(text).findings]
