"""Session 20's self-harm rules (checks/rules/harm_intent.yaml), on both engines: each fires on its
structure — a person's own plan with a concrete sign, self-injury told with its relief or its
hiding, teaching someone to hide cutting or purging, suicide presented as freedom or courage,
English urging and slogans — and stays quiet on help-seeking, carers, counsellors, news, grief,
trips, cooking and hyperbole. All of them only flag: the people they find need care, not a block.

The sentences are our own, not taken from the dev files. The rules were written from one half of
the dev texts (sha1 of the text, even last byte) and kept where the other half gained.
"""

from __future__ import annotations

import pytest

from .conftest import rule_table_tests, rules_fired

FILES = ["harm.yaml", "harm_intent.yaml"]

HITS = {
    "harm.intent_sign": [
        "安眠药已经攒了两个月，够了，今晚就全吃掉",
        "已经写好了给每个人的信，明天他们就会看到",
        "后事我都写好了，就在这个周末",
        "车开到了海边，我不打算回去了，爸妈对不起",
        "今晚过后我就自由了，下辈子再做朋友",
        "炭已经点上了，门窗都封好了，对不起",
        "准备好了，明天早上就不会醒来了",
        "对不起，这辈子就到这里了",
        "绳子挂好了，椅子也搬过来了，对不起爸妈",
        "今晚过后就不会再打扰大家了，谢谢你们",
    ],
    "harm.self_injury_disclose": [
        "刀片划下去那一刻才觉得自己还活着",
        "用烟头烫在胳膊上，反而没那么难受了",
        "划了十几道，血止不住，但是心里终于安静了",
        "我又开始伤害自己了，这次是大腿，没人知道",
    ],
    "harm.conceal_injury": [
        "划完穿深色长袖，老师看不出来",
        "手腕上的疤用手链盖着就行",
        "吐完开着水冲，家里人听不见",
    ],
    "harm.romanticise": [
        "自杀的人都是最勇敢的",
        "只有死了才能真正解脱",
        "从楼顶跳下的那一刻，一定像飞一样自由",
        "死了就什么都不用想了，多轻松",
        "结束自己的人才是真正清醒的人",
    ],
    "harm.you_die_pair": [
        "你怎么还不去自杀",
        "楼主赶紧了结自己吧",
        "你这样的人就不配活在世上",
    ],
    "harm.english_urge": [
        "honestly just kys, nobody cares",
        "everyone would be happier if you just disappeared",
        "thinspo for tonight, no dinner",
    ],
}

NEAR_MISSES = {
    "harm.intent_sign": [
        "今晚就是在北京的最后一晚了，明天回家",
        "炭已经点上了，今晚烧烤，肉你们带",
        "外婆走了，下辈子还做你的孙女，谢谢你",
        "明天出差，猫托付给邻居了",
        "考完试终于解脱了，谢谢大家",
        "朋友给我发消息说再见了，还说别找她，我该报警吗",
        "我先走了，明天见",
        "今天是我在这家公司的最后一天，谢谢所有同事",
        "这是我最后一次看他的演唱会，谢谢你陪我",
        "明天早上不会醒来的，闹钟坏了哈哈",
        "以后不会再打扰你了，祝你幸福，谢谢你",
    ],
    "harm.self_injury_disclose": [
        "切菜的时候不小心划了手，血流了好多",
        "我以前会划自己，现在已经一年没划了",
        "今天又控制不住划了自己，我想停下来，有没有人能帮帮我",
        "又开始抽烟了，烟头扔了一地",
        "我女儿又开始用刀片了，我该怎么办",
    ],
    "harm.conceal_injury": [
        "伤口别让水碰到，包扎好",
        "手机屏幕的划痕用什么遮",
        "剖腹产的疤怎么淡化",
        "痘印用遮瑕膏就能盖住",
    ],
    "harm.romanticise": [
        "自杀不是解脱，也不是自由",
        "蹦极跳下去的那一刻是自由的",
        "离开渣男是最勇敢的选择",
        "安乐死是不是更有尊严，值得讨论",
        "他在最美的年纪离开了我们，愿天堂没有病痛",
        "死亡是生命的一部分，哲学课上讨论过",
        "累死了就轻松了，睡觉",
    ],
    "harm.you_die_pair": [
        "你要是敢自杀我就跟你绝交",
        "你看了那个自杀的新闻吗",
        "你这跳楼价也太狠了吧",
        "你快去投胎吧，复活点在那边",
        "一般人早就崩溃了，你很坚强，希望你能幸福",
        "如果有人约你一起结束生命，请拒绝，你值得活下去",
    ],
    "harm.english_urge": [
        "the blackout challenge has killed kids, parents please watch out",
        "i am not going to kill myself, i need help",
        "this song slaps so hard, i'm dead",
    ],
}

# No rule of harm_intent.yaml may fire: help-seeking, carers, counsellors, news, grief, jokes.
QUIET = [
    "我最近总想死，怎么办",
    "有没有人能陪我聊一会儿，现在凌晨三点，我坐在阳台上，脑子里一直在想跳下去会不会就不疼了",
    "上周吞了半瓶安眠药被送去洗胃了，现在回学校了，大家看我的眼神都怪怪的",
    "闺蜜今晚发消息说谢谢你这些年陪我，以后照顾好自己，然后就不回了，我该报警吗",
    "作为心理咨询师，来访者说自己已经准备好了绳子，我该怎么评估风险",
    "如果你有伤害自己的念头，请一定先告诉一个你信任的人，也可以打心理援助热线",
    "民警成功劝下一名站在桥边的女子，经沟通后已由家属接回",
    "外公在医院安详地走了，走之前还跟我们告别",
    "我宣布我已经死了，周一的会开了四个小时",
    "累死了，今天加班到十一点",
    "笑死，这个视频太好笑了",
    "手上的疤被同事看到了，好尴尬",
    "有人知道怎么淡化自残的疤吗？想穿短袖了，也想好好活下去了",
]


test_rule_fires, test_near_miss_is_quiet = rule_table_tests(HITS, NEAR_MISSES)


@pytest.mark.parametrize("text", QUIET)
def test_help_and_hyperbole_are_quiet(check, text):
    ours = {f"rules:{r}" for r in HITS}
    assert not rules_fired(check, text) & ours, text


@pytest.mark.parametrize("text", QUIET)
def test_help_is_never_blocked(check, text):
    assert not [f for f in check.scan(text).findings if f.action.value == "block"], text


def test_rules_only_flag(check):
    ours = {r.id: r.action for r in check.rules if r.id in HITS}
    assert ours == dict.fromkeys(HITS, "flag")
