"""Session 25's self-harm rule and precision fixes (checks/rules/harm.yaml, harm_intent.yaml), on
both engines. harm.means_hidden: the means of suicide bought, delivered or saved up and hidden from
the family or tied to "then it ends" (flag only). The fixes: a moderation question about the word
"kys" (harm.english_urge), long sleeves given away after recovery (harm.conceal_injury), and a
friend who comforted someone and asks what else to do (harm.slang_intent, harm.join_death).

The sentences are our own, not taken from the dev files.
"""

from __future__ import annotations

import pytest

from .conftest import rule_table_tests, rules_fired

FILES = ["harm.yaml", "harm_intent.yaml"]

HITS = {
    "harm.means_hidden": [
        "绳子已经网购了，寄到学校宿舍，爸妈发现不了",
        "木炭和胶带都备好了，藏在车后备箱里",
        "药已经攒够了，藏在床底下，谁都不告诉",
    ],
    # The fixes leave the rules' own shapes alone.
    "harm.conceal_injury": ["划完穿长袖，护腕一戴谁也看不出来"],
}

NEAR_MISSES = {
    "harm.means_hidden": [
        "木炭和烤架都买好了，周末去露营烧烤",
        "给女朋友的生日礼物到货了，先藏在公司不会被她发现",
        "感冒药网购了，快递明天到",
    ],
}

test_rule_fires, test_near_miss_is_quiet = rule_table_tests(HITS, NEAR_MISSES)

FIXED = [
    ("Is 'kys' treated as a threat or just an insult by the moderation team?", "harm.english_urge"),
    ("整理衣柜，把以前遮伤口穿的长袖都捐掉了，不再需要了", "harm.conceal_injury"),
    ("群里有人说想紫砂，我已经私聊安慰了，我还能做什么？", "harm.slang_intent"),
    ("群里有人说想紫砂，我已经私聊安慰了，我还能做什么？", "harm.join_death"),
]


@pytest.mark.parametrize(("text", "rule"), FIXED)
def test_fixed_false_alarms_are_quiet(check, text, rule):
    assert f"rules:{rule}" not in rules_fired(check, text), text


def test_new_rule_only_flags(check):
    assert {r.id: r.action for r in check.rules if r.id == "harm.means_hidden"} == {"harm.means_hidden": "flag"}
