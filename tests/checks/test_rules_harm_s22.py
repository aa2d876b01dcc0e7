"""Session 22's self-harm rule and widened rule (checks/rules/harm_intent.yaml: the "Session 22"
block, and the finality words added to harm.intent_sign), on both engines. A pact is told by its
arrangements (together or agreed, next to no return, no backing out, one more wanted); a plan by its
finality (no coming back, "don't talk me out of it"). Both only flag. Also the narrowed harm.join_death: victims of
bullying, people who called the police and court reports are quiet.

The sentences are our own, not taken from the dev files. The rules were written from half A of the
written_zh dev files (sha1 of the text, even last byte) and measured on half B.
"""

from __future__ import annotations

import pytest

from .conftest import rule_table_tests, rules_fired

FILES = ["harm.yaml", "harm_intent.yaml"]

HITS = {
    "harm.pact_final": [
        "我们说好了，下个月初一起去江边，然后就不回来了",
        "群里四个人了，还差一个，都是自愿的",
        "找个伴一起结束吧，时间你定，谁都别反悔",
        "咱俩一起跳下去，数到三，以后就不疼了",
    ],
    "harm.intent_sign": [
        "别找我了，这次我不会再回来了，今晚就走",
        "安眠药都吞下去了，对不起，再见了这个世界",
        "遗书写好了，今晚之后别找我",
        "决定了，明早就去那座桥",
    ],
}

NEAR_MISSES = {
    "harm.pact_final": [
        "我们说好了一起去江边拍日落，然后就回家",
        "说好一起去打针的，数到三就不怕了",
        "如果有人约你一起结束生命，请拒绝并告诉家人",
        "我们一起去旅游吧，不回来的那种，玩个痛快",
    ],
    "harm.intent_sign": [
        "家长注意：家里的药品要放在孩子够不到的地方",
        "这家店我不会再回来了，服务太差，明天就写差评",
        "我朋友说她不会再回来了，今晚我该报警吗",
    ],
}

# The narrowed harm.join_death: victims and reports stay quiet, pacts still fire.
JOIN_DEATH_QUIET = [
    "被网暴好几天了，私信里全是让我去死的，手一直在抖",
    "直播间有人说要跳楼，我们几个一起报了警",
    "法院审理一起约人自杀的案件，组织者被追责",
]
JOIN_DEATH_HITS = [
    "攒够了药，我们就同一天吧",
    "想结束的姐妹私我，不劝",
]


test_rule_fires, test_near_miss_is_quiet = rule_table_tests(HITS, NEAR_MISSES)


@pytest.mark.parametrize("text", JOIN_DEATH_QUIET)
def test_join_death_quiet_on_victims_and_reports(check, text):
    assert "rules:harm.join_death" not in rules_fired(check, text), text


@pytest.mark.parametrize("text", JOIN_DEATH_HITS)
def test_join_death_still_fires(check, text):
    assert "rules:harm.join_death" in rules_fired(check, text), text


def test_new_rules_only_flag(check):
    ours = {r.id: r.action for r in check.rules if r.id == "harm.pact_final"}
    assert ours == {"harm.pact_final": "flag"}
