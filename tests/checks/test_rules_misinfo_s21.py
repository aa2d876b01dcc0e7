"""Session 21's rumour rules (checks/rules/misinfo.yaml), on both engines: fake sweeping decrees
by their three parts (a start date, everyone covered, a measure). Rules for food said to be made of
plastic or corpses, a remedy told by its result, and an outbreak or disaster with a
death toll or a push to panic were drafted too but caught no half-B text (or added a half-B false
alarm) and were not shipped; and `misinfo_debunk` that no longer treats 「是真的！」 as a debunk.
All only flag: whether a claim is false is for a person to judge.

The sentences are our own, not taken from the dev files. The rules were written from one half of
the dev texts (sha1 of the text, even last byte) and kept where the other half gained.
"""

from __future__ import annotations

from .conftest import rule_table_tests

FILES = ["common.yaml", "misinfo.yaml", "misinfo_health.yaml"]

HITS = {
    "misinfo.decree_sweep": [
        "【交通部通知】即日起全国所有收费站全部取消，请转告亲友",
        "所有人的身份证下个月起作废，必须去派出所重新办",
        "明年开始全国每户征收空气税，赶紧告诉家里人",
        "人社部：从下月起一律停发六十岁以上老人的补贴",
    ],
    # 「是真的！」 no longer vetoes a rumour.
    "misinfo.hoax_forward": [
        "是真的！内部消息，明天全市停水三天，快扩散",
    ],
}

NEAR_MISSES = {
    "misinfo.decree_sweep": [
        "【市政府】下月起实施新的垃圾分类办法，具体细则见政府官网",
        "本店即日起全部商品八折，会员再减十元",
        "网传下月起全国高速免费，交通部回应：不实",
        "节假日期间高速公路小型客车免费通行，具体时间以交通运输部公告为准",
    ],
    "misinfo.hoax_forward": [
        "网传的内部消息是真的吗？有人说要扩散",
    ],
}

NEW = ["misinfo.decree_sweep"]


test_rule_fires, test_near_miss_is_quiet = rule_table_tests(HITS, NEAR_MISSES)


def test_new_rules_only_flag(check):
    ours = {r.id: r.action for r in check.rules if r.id in NEW}
    assert ours == dict.fromkeys(NEW, "flag")
