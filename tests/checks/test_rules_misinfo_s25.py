"""Session 25's rumour rule (checks/rules/misinfo.yaml), on both engines: needle panics — HIV blood
injected into food, unknown shots at school — with a warning not to buy or not to sign
(misinfo.needle_panic). It only flags; debunks, police news and medical talk stay quiet.

The sentences are our own, not taken from the dev files. The rules were written from half A of the
dev texts and kept where half B gained with no new false alarm (a sibling for organ-harvesting
gangs gained on half A only and was dropped).
"""

from __future__ import annotations

from .conftest import rule_table_tests

FILES = ["common.yaml", "misinfo.yaml", "misinfo_health.yaml"]

HITS = {
    "misinfo.needle_panic": [
        "有人在菜市场用针头往西瓜里注射艾滋病毒，千万别买切好的瓜",
        "下周学校要给学生打不明针剂，家长千万不要签字，转给家长群",
    ],
}

NEAR_MISSES = {
    "misinfo.needle_panic": [
        "网传有人往水果里注射艾滋病血，专家：病毒离开人体很快失活，系谣言",
        "献血前医院会检测艾滋病毒，别担心",
    ],
}

test_rule_fires, test_near_miss_is_quiet = rule_table_tests(HITS, NEAR_MISSES)


def test_rules_only_flag(check):
    ours = {r.id: r.action for r in check.rules if r.id in HITS}
    assert ours == dict.fromkeys(HITS, "flag")
