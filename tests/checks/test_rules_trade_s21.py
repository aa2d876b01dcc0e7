"""Session 21's illicit-trade and ads rules (checks/rules/drugs.yaml, crime.yaml, trade.yaml,
ads.yaml), on both engines: each fires on its structure — drug street names with the deal's own
words, counterfeit notes with a ratio, sellers who say how they avoid scrutiny, data sold as a
product line, growth-hacking services — and stays quiet on cooking, leaves, news, questions and
ordinary talk. All of them only flag. The session's vetoes on older block rules (a recovering
gambler's story, an explanation of rigged platforms, news of a measure against proxy exam takers,
tipsters who write 防骗子 themselves) are checked too.

The sentences are our own, not taken from the dev files.
"""

from __future__ import annotations

import pytest

from .conftest import rule_table_tests, rules_fired

FILES = ["common.yaml", "drugs.yaml", "crime.yaml", "trade.yaml", "ads.yaml", "contact.yaml", "gambling.yaml", "exam.yaml"]

HITS = {
    "drugs.slang_deal": ["白面到了，纯度高，老地方见", "飞叶子的新货到了，想飞的找我", "需要K的私我，同城闪送不见面"],
    "crime.fake_banknotes": ["出高仿美金，专业印制，1:6"],
    "crime.evasive_sale": ["好东西到货了，懂的来，外行勿扰", "边境烟大量出，没税的，发全国"],
    "trade.data_product": ["出车主数据业主数据，精准到小区，量大优惠"],
    "ads.growth_service": ["刷收藏加购全类目都接，一百单起，价格私聊", "截流软件自动私信同行粉丝，一次买断终身用"],
}

NEAR_MISSES = {
    "drugs.slang_deal": ["秋天的叶子落了一地", "猪肉价格又涨了，一斤三十", "白面馒头怎么蒸才松软", "医生开的安眠药不要多吃", "他出国赚了点钱给我买了4k的东西，我想用自己的私房钱还他"],
    "crime.fake_banknotes": ["收到一张假币怎么办，怎么识别"],
    "crime.evasive_sale": ["警方提醒：声称不问来路的二手手机可能是赃物"],
    "trade.data_product": ["车主数据显示，新能源车主更年轻", "个人信息被泄露了怎么办？"],
    "ads.growth_service": ["有人私信推销刷收藏服务，会被封号吗", "刷评论区的时候看到一个私信我的人"],
}

# The session's vetoes on older block rules: no block on these.
NEVER_BLOCKED = [
    "戒赌两年了，当初朋友拉我进群说跟单稳赚，后来越陷越深，还债到现在，大家别碰",
    "网赌平台的后台都能控制输赢，你以为在赢，其实是放长线钓大鱼",
    "新闻：考点启用人脸识别，杜绝替考",
]


test_rule_fires, test_near_miss_is_quiet = rule_table_tests(HITS, NEAR_MISSES)


@pytest.mark.parametrize("text", NEVER_BLOCKED)
def test_stories_and_news_are_never_blocked(check, text):
    assert not [f for f in check.scan(text).findings if f.action.value == "block"], text


def test_tipster_writing_fang_pianzi_still_fires(check):
    assert "rules:gambling.lottery_tips" in rules_fired(check, "认准本群，防骗子！时时彩内部计划，每期必中，加我")


def test_rules_only_flag(check):
    ours = {r.id: r.action for r in check.rules if r.id in HITS}
    assert ours == dict.fromkeys(HITS, "flag")
