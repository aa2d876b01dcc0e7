"""Session 21's porn rules (checks/rules/porn.yaml, the "Session 21" block), on both engines: asking
for or selling sexual, voyeur or deepfake material; hook-up slang next to a place or a night;
English escort ads. Each fires on its structure and stays quiet on victims, safety questions,
parents, family and sport. All of them only flag.

The sentences are our own, not taken from the dev files (written from half A of
written_zh/harm_porn_violence.jsonl, kept where its half B gained).
"""

from __future__ import annotations

from .conftest import rule_table_tests

FILES = ["common.yaml", "contact.yaml", "porn.yaml"]

HITS = {
    "porn.material_ask": [
        "谁有那种偷拍的视频，发一份",
        "求个无码的网站，免费的就行",
        "有没有好用的一键脱衣软件",
        "前任的私密照打包出，一套二十",
    ],
    "porn.hookup_slang": [
        "今晚想约，同城的，酒店我出",
        "坐标南京，找个单男，夫妻交友",
        "想找人运动运动，附近的来",
        "今晚谁来满足我，同城的私我",
    ],
    "porn.english_offer": [
        "hot girls available now, incall outcall, text me",
        "any girls nearby wanna hook up tonight, i can pay",
    ],
}

NEAR_MISSES = {
    "porn.material_ask": [
        "住酒店怎么检测有没有针孔摄像头",
        "被前男友偷拍了私密视频，怎么维权",
        "求一个记账本模板",
        "有幸吃过一次原味的羊肉串，要求很高",
    ],
    "porn.hookup_slang": [
        "晚上回家陪陪爸妈",
        "周末想约朋友去爬山",
        "晚上去健身房运动运动",
    ],
    "porn.english_offer": [
        "police warn of escort service scams targeting tourists",
        "the film ends with a happy ending after all",
    ],
}


test_rule_fires, test_near_miss_is_quiet = rule_table_tests(HITS, NEAR_MISSES)


def test_rules_only_flag(check):
    ours = {r.id: r.action for r in check.rules if r.id in HITS}
    assert ours == dict.fromkeys(HITS, "flag")
