"""Session 18's solicitation rules (issue 12: recall that generalises), written from half A of the
dev texts (sha1 of the text, even last byte) and kept only where they also gained on half B:
fraud.claimed_identity_money (fraud_impersonate.yaml), fraud.invest_invite (fraud_invest.yaml), fraud.forge_request
(fraud_trade.yaml), ads.paid_per_post (ads.yaml), contact.evasive_offer (contact.yaml),
drugs.effect_sale (drugs.yaml). All flag. Each shape in wording that is not in the dev data must
get a finding of its rule; each look-alike (a real relative, a real teacher, a recommendation of
a book, coffee that keeps you awake, a certificate made by a
school) must get no finding of any rule of these files. Both engines.
"""

from __future__ import annotations

import pytest

from tests.checks.conftest import TRADE_RULE_FILES

FILES = TRADE_RULE_FILES


SHAPES = [
    ("奶奶，我是你外孙啊，我骑车把人撞了，对方要三万，你先转过来，别告诉我妈", "fraud.claimed_identity_money"),
    ("小刘，我是王总，我在开会不方便接电话，你先帮我转五万给这个供应商", "fraud.claimed_identity_money"),
    ("这里是市社保中心，您的社保卡已冻结，需要您提供卡号和验证码进行解冻", "fraud.claimed_identity_money"),
    ("认识你真开心，我最近在一个数字货币平台做合约，我带你一起做，每周收益都很稳", "fraud.invest_invite"),
    ("我舅舅在交易所做内部消息，跟着我投这个项目，三个月翻五倍，名额不多", "fraud.invest_invite"),
    ("帮忙做一份假的在职证明和收入证明，贷款急用，多少钱都行", "fraud.forge_request"),
    ("征信报告制作，花了的记录都能去掉，保证通过审核", "fraud.forge_request"),
    ("每天在小红书下面留言种草，一条八毛，做完截图结算", "ads.paid_per_post"),
    ("注册一个账号下载APP，每邀请一人奖励二十元，当天提现", "ads.paid_per_post"),
    ("刚到了一批好东西，懂的直接私我，量不多", "contact.evasive_offer"),
    ("有几台来历不明的笔记本电脑，价格公道，找我", "contact.evasive_offer"),
    ("这种小药丸吃一粒能嗨一整晚，要的私聊", "drugs.effect_sale"),
    ("新款“能量棒”到货，抽一口就飘，派对必备", "drugs.effect_sale"),
]

LOOK_ALIKES = [
    "奶奶，我是你外孙，周末回家吃饭，给你带了降压药",
    "我是你孩子的班主任，下周三开家长会，请家长准时参加",
    "别告诉我爸，我给他订了生日礼物",
    "我带你一起做这份读书计划，每天读二十页",
    "跟着我一起做早操，坚持一个月精神好多了",
    "伪造证件是违法的，情节严重会被判刑",
    "学校的毕业证书制作完成，请到教务处领取",
    "这家店的包子五毛一个，点赞老板的良心",
    "好东西要分享，这本书的读书笔记放在群里了",
    "这家咖啡喝了一整天都不困，新品到店记得试试",
    "医生说这个药吃了会兴奋，失眠的人要少吃",
    "那个“老干妈”还有吗，上次那个劲儿挺大的",
]


@pytest.mark.parametrize("text,rule", SHAPES)
def test_s18_shapes_are_caught(check, text, rule):
    assert f"rules:{rule}" in [f.rule for f in check.scan(text).findings], text


@pytest.mark.parametrize("text", LOOK_ALIKES)
def test_s18_look_alikes_stay_quiet(check, text):
    assert [f.rule for f in check.scan(text).findings] == [], text


NEW_RULES = {"fraud.claimed_identity_money", "fraud.invest_invite", "fraud.forge_request", "ads.paid_per_post",
             "contact.evasive_offer", "drugs.effect_sale"}


def test_s18_rules_only_flag():
    """The new shapes are broad: a person reviews them; none of these rules blocks on its own."""
    from fenghuo.checks.rules import packaged_rules_dir
    from fenghuo.checks.rules_file import load_rule_files

    specs = {r.id: r for f in load_rule_files([packaged_rules_dir() / n for n in FILES]) for r in f.rules}
    assert set(specs) >= NEW_RULES
    assert {specs[i].action for i in NEW_RULES} == {"flag"}
