"""Session 20's porn, gambling and spam-ad rules (issue 12: recall on new writers' wording),
written from half A of the dev texts (sha1 of the text, even last byte) — trade_ads.jsonl and the
fresh solicit_selfharm.jsonl — and kept only where they caught half-B texts nothing caught before
without a new harmless flag on half B of any dev set: porn.sugar_offer, porn.parlour_menu,
porn.site_mirror, porn.hookup_profile (porn.yaml), gambling.sports_bet, gambling.win_back,
gambling.method_sale, gambling.crypto_bet (gambling.yaml), ads.freebie_bait (ads.yaml); and the
约炮 homophones and 楼凤 variants added to porn.solicit_term. All flag. Each shape, in wording
that is not in the dev data, must get a finding of its rule; each look-alike (charity, a real
massage or spa, a sports chat, a game, a cryptography lesson, a shop's giveaway, a lonely
message, a marriage advert) must get no finding of any rule of these files. Both engines.
"""

from __future__ import annotations

import pytest

from tests.checks.conftest import TRADE_RULE_FILES

FILES = TRADE_RULE_FILES


SHAPES = [
    ("找一个长期的金主，每月三万零花钱，一周见面两次", "porn.sugar_offer"),
    ("女大学生寻资助，月费一万五，周末可以陪吃饭约会", "porn.sugar_offer"),
    ("养生会所新开业，技师年轻漂亮，全套半套都有，暗号老客户介绍", "porn.parlour_menu"),
    ("桑拿二楼有特服，一条龙，你懂的", "porn.parlour_menu"),
    ("那个免费看片的站又被封了，最新地址发在群里，老司机自取", "porn.site_mirror"),
    ("福利站永久地址发布页，防失联收藏，上百部高清", "porn.site_mirror"),
    ("本人女，二十六岁，离异，今晚想找人陪，开房费我出", "porn.hookup_profile"),
    ("同城约泡，附近的小哥哥私我", "porn.solicit_term"),
    ("本地新凤到了，地址私信", "porn.solicit_term"),
    ("欧冠决赛今晚开盘，赔率全网最高，注册就送，找客服开户", "gambling.sports_bet"),
    ("NBA季后赛每场都能下注，让分盘稳，跟我上车", "gambling.sports_bet"),
    ("亏掉的钱想拿回来吗？我们导师带你翻身，一周回血", "gambling.win_back"),
    ("时时彩破解公式，稳赢不亏，一套八百，私聊", "gambling.method_sale"),
    ("USDT直接下注，大小单双一赔一点九八，秒返", "gambling.crypto_bet"),
    ("免费送价值三百元的护肤套装，仅限前五十名，添加客服领取", "ads.freebie_bait"),
    ("0元领取最新款耳机，评论区扣1，名额有限", "ads.freebie_bait"),
]

LOOK_ALIKES = [
    "基金会资助山区贫困学生，每月生活费八百元，暑假组织见面会",
    "干爹给孩子包了个红包，每月的零花钱还是我来管",
    "正规中医推拿，技师持证上岗，颈椎腰椎调理，一小时九十",
    "做了个全套护理的spa，技师手法很专业，肩颈轻松多了",
    "学校官网换了新地址，选课系统打不开的同学请用新网址",
    "本人女，二十八岁，想找个踏实的人结婚，征婚，长期稳定",
    "今晚英超这场赔率怎么看？个人观点，仅供参考，理性看球",
    "世界杯决赛今晚开赛，大家觉得谁能赢？",
    "这个角色回血技能很强，打boss很稳",
    "考研上岸经验分享，跟着老师的计划复习就行",
    "彩票中奖是随机的，没有必赢技巧，理性购彩",
    "区块链课程第三讲：哈希算法与单双向加密",
    "超市会员日免费领鸡蛋，凭会员码到服务台领取",
    "约一下明天开会的时间吧",
    "苹果聊天记录怎么迁移到新手机",
]


@pytest.mark.parametrize("text,rule", SHAPES)
def test_s20_shapes_are_caught(check, text, rule):
    assert f"rules:{rule}" in [f.rule for f in check.scan(text).findings], text


@pytest.mark.parametrize("text", LOOK_ALIKES)
def test_s20_look_alikes_stay_quiet(check, text):
    assert [f.rule for f in check.scan(text).findings] == [], text


NEW_RULES = {"porn.sugar_offer", "porn.parlour_menu", "porn.site_mirror", "porn.hookup_profile", "gambling.sports_bet",
             "gambling.win_back", "gambling.method_sale", "gambling.crypto_bet", "ads.freebie_bait"}


def test_s20_rules_only_flag():
    """The new shapes are broad: a person reviews them; none of these rules blocks on its own."""
    from fenghuo.checks.rules import packaged_rules_dir
    from fenghuo.checks.rules_file import load_rule_files

    specs = {r.id: r for f in load_rule_files([packaged_rules_dir() / n for n in FILES]) for r in f.rules}
    assert set(specs) >= NEW_RULES
    assert {specs[i].action for i in NEW_RULES} == {"flag"}
