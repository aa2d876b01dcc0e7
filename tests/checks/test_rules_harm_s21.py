"""Session 21's self-harm rules (checks/rules/harm_intent.yaml, the "Session 21" block), on both
engines: a question about which means kills or does not hurt, suicide slang next to a plan, and
pushing someone else towards death. Each fires on its structure and stays quiet on help-seeking,
carers, safety questions, games and banter. All of them only flag.

The sentences are our own, not taken from the dev files. The rules were written from one half of
written_zh/harm_porn_violence.jsonl (sha1 of the text, even last byte) and kept where the other half
gained with no harmless text newly flagged.
"""

from __future__ import annotations

import pytest

from .conftest import rule_table_tests, rules_fired

FILES = ["harm.yaml", "harm_intent.yaml"]

HITS = {
    "harm.lethal_ask": [
        "哪种农药喝下去就救不回来了，认真问",
        "安眠药要吞多少才能一觉不醒",
        "从几楼下去不会被救回来",
        "烧炭的话多久能失去意识，会不会很痛苦",
        "有没有不疼的走法，想走得体面一点",
        "哪种方式最不疼，想找个没感觉的走法",
    ],
    "harm.slang_intent": [
        "活着没意思，准备去嘎了，临走前发个红包",
        "人生这把太烂了，今晚删号，不重开",
        "找个紫砂搭子，这周末",
        "明天就去见太奶了，别想我",
        "人间不值得，我选择提前退场",
    ],
    "harm.push_other": [
        "这么想死就去楼顶啊，反正没人拦着你",
        "我要是你早就去了，还等什么",
        "难受就试试划一下，会好很多",
        "那么想走就别装了，倒是动手啊",
        "真想走就别天天喊了，换我早就去了",
        "建议直接去世，下辈子投个好胎",
    ],
}

NEAR_MISSES = {
    "harm.lethal_ask": [
        "孩子误吃了两片安眠药，会不会有危险",
        "拔牙会不会痛，要不要打麻药",
        "什么药退烧最快",
        "古代人是不是最快的方法就是骑马",
    ],
    "harm.slang_intent": [
        "笑嘎了，这视频太好笑",
        "我的电脑嘎了，明天去修",
        "想zs怎么办，有点害怕，能陪我聊聊吗",
        "今晚下线了，明天见",
    ],
    "harm.push_other": [
        "这么想辞职就去啊，没人拦你",
        "难受不如去看医生，别硬扛",
        "想减肥就别装了，倒是去跑步啊",
        "真想辞职就别犹豫，换我早就走了",
    ],
}

# Help-seeking and distress told to get help: no session-21 rule may fire, nor block.
QUIET = [
    "我最近总想死，怎么办",
    "朋友说想紫砂，我该怎么劝她",
    "安眠药吃多少会有危险？我妈每天吃一片",
    "有自残的冲动，能打哪个热线",
    "手腕上的疤好难看，夏天想穿短袖，有什么祛疤的办法吗",
]


test_rule_fires, test_near_miss_is_quiet = rule_table_tests(HITS, NEAR_MISSES)


@pytest.mark.parametrize("text", QUIET)
def test_help_is_quiet(check, text):
    ours = {f"rules:{r}" for r in HITS}
    assert not rules_fired(check, text) & ours, text


def test_rules_only_flag(check):
    ours = {r.id: r.action for r in check.rules if r.id in HITS}
    assert ours == dict.fromkeys(HITS, "flag")
