"""Session 22's rumour rules (the "Session 22" block of checks/rules/misinfo_health.yaml), on both engines:
vaccines called fake, poisoned or useless.
All of them only flag; debunks, official notices and questions stay quiet.

The sentences are our own, not taken from the dev files.
"""

from __future__ import annotations

import pytest

from .conftest import rule_table_tests, rules_fired

FILES = ["common.yaml", "misinfo.yaml", "misinfo_health.yaml"]

HITS = {
    "misinfo.vaccine_fake": [
        "乙肝疫苗都是假的，打了也没用",
        "宝宝的预防针里有汞，打了会变傻",
        "疫苗就是毒药，别给孩子打",
    ],
}

NEAR_MISSES = {
    "misinfo.vaccine_fake": [
        "网传疫苗里有芯片，这是谣言",
        "打完疫苗有点发烧，是正常的不良反应",
        "长生问题疫苗案的责任人已被判处",
    ],
}

QUIET = [
    "辟谣：网传某大坝出现裂缝系旧图，大坝运行正常",
    "疫苗接种后出现不良反应怎么办？医生解答",
    "应急管理局提醒：汛期请远离河道",
]


test_rule_fires, test_near_miss_is_quiet = rule_table_tests(HITS, NEAR_MISSES)


@pytest.mark.parametrize("text", QUIET)
def test_notices_and_debunks_are_quiet(check, text):
    ours = {f"rules:{r}" for r in HITS}
    assert not rules_fired(check, text) & ours, text


def test_rules_only_flag(check):
    ours = {r.id: r.action for r in check.rules if r.id in HITS}
    assert ours == dict.fromkeys(HITS, "flag")
