"""Session 25's violence rules (checks/rules/violence_retaliation.yaml), on both engines: a threat to
burn or smash a person's home, shop, car or door. It only flags. Also the narrowed
violence.mob_license: 法不责众 alone is an idiom people discuss; it licenses violence only next to an
act (打, 砸, 冲, 堵, 一人一下 …) in its sentence.

The sentences are our own, not taken from the dev files. The rule was written from half A of the
written_zh dev files (sha1 of the text, even last byte) and kept because half B gained.
"""

from __future__ import annotations

import pytest

from .conftest import rule_table_tests, rules_fired

FILES = ["harm.yaml", "violence.yaml", "violence_plans.yaml", "violence_retaliation.yaml"]

HITS = {
    "violence.property_attack": [
        "再不把钱退给我，我一把火把你那个破店烧了",
        "他要是再敢举报，我就叫人把他家的车给砸了",
        "合同不续也行，今晚就去他家门口放把火",
        "明天去砸他家窗户，看他还嚣张",
    ],
    "violence.mob_license": [
        "人多怕什么，法不责众，一起上",
        "几十个人一起去堵他办公室，法不责众",
    ],
}

NEAR_MISSES = {
    "violence.property_attack": [
        "昨天半夜有人把我家车砸了，监控拍到了，已经报警",
        "我的世界里一把火把他家烧了，整个服务器都在笑",
        "邻居威胁说要去我家门口放把火，我该怎么办",
        "装修师傅今天把我家旧门砸了，明天装新的",
    ],
    "violence.mob_license": [
        "网暴为什么屡禁不止？很多人抱着法不责众的心态随手骂人",
        "法不责众这个说法在法律上站不住脚",
        "网上骂人的人都觉得法不责众",
    ],
}

test_rule_fires, test_near_miss_is_quiet = rule_table_tests(HITS, NEAR_MISSES)


def test_new_rule_only_flags(check):
    ours = {r.id: r.action for r in check.rules if r.id == "violence.property_attack"}
    assert ours == {"violence.property_attack": "flag"}


@pytest.mark.parametrize("text", ["大家一起冲进去，见人就打，法不责众", "开学第一天把他堵在办公室，一人一下，法不责众"])
def test_mob_license_still_fires_with_an_act(check, text):
    assert "rules:violence.mob_license" in rules_fired(check, text), text
