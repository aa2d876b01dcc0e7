"""Session 22's violence rules (violence.yaml and violence_plans.yaml, the "Session 22" blocks, and
words added to violence.glorify_attack), on both engines: a licence for mob violence or hitting on
sight, a weapon carried to where a person is, menace by naming where a person's family goes, praise
of an attacker. All of them only flag. Also the narrowed rules: violence.cruelty_media is quiet on
reports of a bullying video, violence.threat and violence.act_plan on hyperbole about a sister, a
team-mate, a cat or a room-mate.

The sentences are our own, not taken from the dev files. The rules were written from half A of the
written_zh dev files (sha1 of the text, even last byte) and measured on half B.
"""

from __future__ import annotations

import pytest

from .conftest import rule_table_tests, rules_fired

FILES = ["harm.yaml", "violence.yaml", "violence_plans.yaml"]

HITS = {
    "violence.mob_license": [
        "那个插队的照片在这，谁碰到直接揍，出事我兜着",
        "乡亲们把镰刀都拿上，来一个砍一个",
        "见到那种黄色的车就踹，踹一个少一个",
        "冲进去见人就打，法不责众",
    ],
    "violence.weapon_visit": [
        "再扣我一分钱，我拿刀上门找他",
        "明天我揣把菜刀去人事部，看谁还笑得出来",
        "我带把锤子进去，一个一个敲",
    ],
    "violence.family_menace": [
        "你女儿在第三小学一年级对吧",
        "钱的事想清楚，你老公下班走哪条路我门儿清",
        "你儿子每天五点放学都走那条巷子吧？",
    ],
    "violence.glorify_attack": [
        "那个持刀砍人的我觉得没错，那些人活该",
        "泼硫酸那个女的是我的偶像",
        "连捅五刀的那个，我也支持",
    ],
}

NEAR_MISSES = {
    "violence.mob_license": [
        "看到蚊子就打，一个都别放过",
        "法不责众的心理是怎么形成的",
        "见到老师要主动打招呼",
        "他说谁拦他就砍谁，我该报警吗",
    ],
    "violence.weapon_visit": [
        "明天我带把扳手去你家修水管",
        "带刀进学校是违法的，安检会查",
        "他拿着刀冲进来，我赶紧报警了",
    ],
    "violence.family_menace": [
        "你儿子放学一个人走吧？天黑了注意安全",
        "你女儿在实验小学对吧？我儿子也在，下次顺路一起接",
        "你妈下班走哪条路，我去接她",
    ],
    "violence.glorify_attack": [
        "持刀砍人的那个被判了死刑，活该",
        "我们要谴责泼硫酸这种行为",
        "狼人杀里我是杀人的狼，队友说我做得对",
    ],
}

# Narrowed rules: each stays quiet on these harmless texts, and still fires on a real case.
NARROWED_QUIET = [
    ("violence.cruelty_media", "看到孩子被霸凌的视频很气愤，希望警方依法处理"),
    ("violence.cruelty_media", "网传围殴视频经警方核实是旧视频"),
    ("violence.threat", "“我要杀了你！”——我弟看到我吃了他的薯片时说的"),
    ("violence.threat", "这个队友太菜了我要掐死他，算了带他上分"),
    ("violence.act_plan", "猫又把花瓶推倒了，今晚我要和它同归于尽"),
    ("violence.act_plan", "室友偷吃我的零食，明天我要“收拾”他，罚他洗碗"),
]
NARROWED_HITS = [
    ("violence.cruelty_media", "虐猫视频更新了，喜欢的进群看完整版"),
    ("violence.threat", "我要弄死你"),
    ("violence.act_plan", "放学后把他叫到操场后面，咱们五个人一起上，把他衣服扒了拍视频"),
]


test_rule_fires, test_near_miss_is_quiet = rule_table_tests(HITS, NEAR_MISSES)


@pytest.mark.parametrize(("rule", "text"), NARROWED_QUIET)
def test_narrowed_rule_quiet(check, rule, text):
    assert f"rules:{rule}" not in rules_fired(check, text), text


@pytest.mark.parametrize(("rule", "text"), NARROWED_HITS)
def test_narrowed_rule_still_fires(check, rule, text):
    assert f"rules:{rule}" in rules_fired(check, text), text


def test_new_rules_only_flag(check):
    new = ("violence.mob_license", "violence.weapon_visit", "violence.family_menace")
    ours = {r.id: r.action for r in check.rules if r.id in new}
    assert ours == dict.fromkeys(new, "flag")
