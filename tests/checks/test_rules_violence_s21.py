"""Session 21's violence rule (checks/rules/violence_plans.yaml, the "Session 21" block), on both
engines: menace in slang and innuendo (躺板板, 全家整整齐齐, 开盒, 出门回头看). It stays quiet on
victims' reports and safety advice. It only flags.

The sentences are our own, not taken from the dev files (written from half A of
written_zh/harm_porn_violence.jsonl, kept where its half B gained).
"""

from __future__ import annotations

from .conftest import rule_table_tests

FILES = ["harm.yaml", "violence.yaml", "violence_plans.yaml"]

HITS = {
    "violence.menace_slang": [
        "再多嘴一句，今晚就让你躺板板",
        "你已经被开盒了，这两天上门拜访一下",
        "出门记得多回头看，别哪天突然就没了",
        "你女儿每天几点放学是吧",
    ],
}

NEAR_MISSES = {
    "violence.menace_slang": [
        "有人留言说要让我躺板板，我该报警吗",
        "过马路注意安全，车不长眼",
    ],
}


test_rule_fires, test_near_miss_is_quiet = rule_table_tests(HITS, NEAR_MISSES)


def test_rules_only_flag(check):
    ours = {r.id: r.action for r in check.rules if r.id in HITS}
    assert ours == dict.fromkeys(HITS, "flag")
