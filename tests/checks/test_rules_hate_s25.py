"""Session 25's abuse rule (checks/rules/abuse_taunt.yaml), on both engines: taunts aimed at "you" —
"a dog talks better than you", "X吧你" (小学没毕业吧你), a disability used as a form of address
(你个哑巴), "you pollute the air", "what kind of goods you are", "stop playing innocent". It only flags.

The sentences are our own, not taken from the dev files. The rule was written from half A of the
written_zh dev files (sha1 of the text, even last byte) and kept because half B gained.
"""

from __future__ import annotations

from .conftest import rule_table_tests

FILES = ["common.yaml", "abuse.yaml", "harm.yaml", "abuse_taunt.yaml"]

HITS = {
    "abuse.taunt_you": [
        "没上过学吧你，连这都看不懂",
        "狗都比你有礼貌，滚远点",
        "你个聋子，喊你几遍了",
        "你开口就是在污染空气",
        "大家都清楚你是什么货色",
        "还装什么清纯，谁不知道你",
    ],
}

NEAR_MISSES = {
    "abuse.taunt_you": [
        "我家狗都比我懂事哈哈",
        "有人在评论区骂我“没上过学吧你”，该怎么回",
        "宝，你个小瞎子，眼镜又找不到了吧",
        "他说我是什么货色，我该不该起诉他",
        "工厂排放在污染空气，环保部门已经介入",
    ],
}

test_rule_fires, test_near_miss_is_quiet = rule_table_tests(HITS, NEAR_MISSES)


def test_new_rule_only_flags(check):
    ours = {r.id: r.action for r in check.rules if r.id == "abuse.taunt_you"}
    assert ours == {"abuse.taunt_you": "flag"}
