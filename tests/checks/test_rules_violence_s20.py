"""Session 20's violence and hoax rules by structure (issue 12: held-out sets by other writers
were caught ~53 % for violence, ~54 % for terrorism and rumours), on both engines.

violence.target_ba, violence.target_verb, violence.target_consequence (violence_plans.yaml): a
target (a pronoun, 那个/这帮 + someone, a person noun) and a harm verb of the whole family, slang
included, in three word orders — 把 + target + result (把他办了, 把那几个小崽子修理一顿), verb +
target (弄他, 堵他, 剁了那狗东西的手), 让/给 + target + consequence (让他见见血, 补他几刀, 给她两
个大嘴巴子) — next to a plan sign (a time, a place, a tool, people gathered, a reward, a condition,
resolve). misinfo.frame_claim (misinfo.yaml): a rumour frame (速转, 不转不是中国人, 内部消息, 专家
证实, 我二舅…药都停了) and a cure, disaster, contamination or sweeping-policy claim stated as fact.
All flag.

Written from half A of the dev texts (sha1 of the text, even last byte) — written_zh and the fresh
dev_s20b set — and from sentences of our own; each kept only because it caught half-B texts that
nothing caught before, with no new harmless flag on half B of any dev set. The sentences below are
not in the dev data. Look-alikes — errands, banter, venting that stops itself, games, sport,
fiction, news, official notices, debunks, advice — get no finding of these rules.
"""

from __future__ import annotations

import pytest

FILES = ["harm.yaml", "violence.yaml", "violence_plans.yaml", "extremism.yaml", "common.yaml", "misinfo.yaml", "misinfo_health.yaml"]

HITS = {
    "violence.target_ba": [
        "下礼拜我约了表哥，去他公司楼下把那个包工头撂倒",
        "哪个兄弟有空，去把三楼那个老太婆收拾了，我请吃烧烤",
        "这周五去他老家，非把他打服不可",
    ],
    "violence.target_verb": [
        "他再敢发一个字，下礼拜我就去他单位门口弄他",
        "放学后在车棚那儿堵他，带上几个人",
        "这孙子我记住了，改天一定要收拾他",
    ],
    "violence.target_consequence": [
        "今晚十点体育馆后门，我要让他见见血",
        "等他出院了，我再找人补他几刀",
        "下回在菜市场碰到，我非给她两个大嘴巴子",
        "老子忍你很久了，这周末出门我就让你站着进去躺着出来",
    ],
    "misinfo.frame_claim": [
        "专家都证实了，晚上十点后喝水会导致肾衰竭",
        "内部人士说下个月猪肉要涨到五十块一斤，赶紧去囤",
        "紧急扩散！某小区水管里发现大量寄生虫，已经有孩子住院了",
        "我表姐天天喝这个茶，说能治好糖尿病，药都停了",
    ],
}

QUIET = [
    "明天下班我去把他家的电脑修一下",
    "周末叫上几个兄弟去他新家帮忙搬家",
    "我真想把那个天天加班的老板揍一顿，算了，忍着吧",
    "兄弟明天球场见，看我怎么把你打服，输了请客",
    "室友又偷吃我零食，今晚我要收拾他，罚他洗碗",
    "再闹我就揍你哦，对三岁的小侄子说的",
    "游戏里今晚十点攻城，把对面公会打服",
    "散打课明天晚上七点，教练会教怎么放倒对手",
    "这部小说的反派把主角的师父废了，主角发誓报仇",
    "这部剧让他红了，明天去看首映",
    "明天去机场堵他签名",
    "别弄他了，他明天还要上班",
    "他喝醉了，我们几个今晚把他拖回宿舍",
    "紧急通知：明天上午九点到十二点停水，请大家提前储水，速转",
    "辟谣：网传自来水有毒是假的，水务集团已发布检测报告",
    "速转！寻人启事：我家老人今天早上在公园走失，穿蓝色外套",
    "专家证实：适量运动可以降低心血管疾病风险",
    "转给家里有老人的：天冷了注意保暖，预防感冒",
    "装修完一定要通风，甲醛超标对身体不好，转给要装修的朋友",
    "内部数据显示，本季度销售额增长了20%",
    "网上说吃味精会得老年痴呆，这是真的吗？",
    "台风预警：气象台发布台风橙色预警，请市民做好防范",
]

NEW_RULES = {"violence.target_ba", "violence.target_verb", "violence.target_consequence", "misinfo.frame_claim"}


@pytest.mark.parametrize(("rule", "text"), [(r, t) for r, ts in HITS.items() for t in ts])
def test_s20_shape_is_caught(check, rule, text):
    found = [f for f in check.scan(text).findings if f.rule == f"rules:{rule}"]
    assert found, text
    assert all(f.action.value == "flag" for f in found), text


@pytest.mark.parametrize("text", QUIET)
def test_s20_look_alike_is_quiet(check, text):
    assert not {f.rule.removeprefix("rules:") for f in check.scan(text).findings} & NEW_RULES, text


def test_s20_rules_only_flag():
    """Broad shapes: a person reviews them; none of these rules blocks on its own."""
    from fenghuo.checks.rules import packaged_rules_dir
    from fenghuo.checks.rules_file import load_rule_files

    specs = {r.id: r for f in load_rule_files([packaged_rules_dir() / n for n in FILES]) for r in f.rules}
    assert set(specs) >= NEW_RULES
    assert {specs[i].action for i in NEW_RULES} == {"flag"}
