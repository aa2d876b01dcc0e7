"""Session 22's fraud and ads rules (checks/rules/fraud_invest.yaml, ads.yaml, the "Session 22"
blocks), on both engines: a deposit asked for a quick doubling with inside data or secrecy from the
family (a pig-butchering close), platform accounts for sale with their selling points, English task
offers (like videos, earn per day, a Telegram or WhatsApp contact). All of them only flag.

The sentences are our own, not taken from the dev files. The rules were written from one half of
written_zh/solicit_trade_s22.jsonl (sha1 of the text, even last byte) and kept where the other half
gained with no harmless text newly flagged.
"""

from __future__ import annotations

import pytest

from .conftest import TRADE_RULE_FILES, rule_table_tests, rules_fired

FILES = TRADE_RULE_FILES

HITS = {
    "fraud.deposit_double": [
        "宝贝，老师给的数据很准，你充2w进去，今晚就翻倍",
        "相信我，你先充3000试试，十分钟回本，别让家人知道",
        "今天行情好，你先投5万，稳赚",
    ],
    "ads.account_sale": [
        "出快手号 五万粉 带橱窗",
        "出QQ号 七位太阳号 可换绑",
        "淘宝店铺出售 带信誉 可过户",
        "Selling verified TikTok accounts in bulk",
    ],
    "ads.task_english": [
        "Easy part-time job, like TikTok posts and earn 60 dollars a day, contact us on Telegram",
        "Work from home and earn $200 per day, add our WhatsApp",
        "Like Instagram videos, earn 5 each, daily payout via Telegram",
    ],
}

NEAR_MISSES = {
    "fraud.deposit_double": [
        "她让我充2w进去说能翻倍，是不是杀猪盘",
        "你充200话费送50",
        "亲爱的，今天行情好，咱们去吃火锅",
    ],
    "ads.account_sale": [
        "我的快手号被盗了怎么找回",
        "出门记得带手机号码本",
        "小心那些出售带粉账号的骗局",
    ],
    "ads.task_english": [
        "Beware of Telegram jobs that pay you to like videos, it is a scam",
        "I like videos about cats",
        "My part-time job at the cafe pays weekly",
    ],
}

# Warnings, victims and shops: none of session 22's rules may fire.
QUIET = [
    "反诈中心提醒：自称领导加你新微信要求转账的，一律是诈骗",
    "我妈差点被骗，对方说是幸运观众要交手续费，幸好我拦住了",
    "本店出售二手教材，有意私聊",
    "体彩大乐透本期开奖，一等奖3注",
]

test_rule_fires, test_near_miss_is_quiet = rule_table_tests(HITS, NEAR_MISSES)


@pytest.mark.parametrize("text", QUIET)
def test_warnings_are_quiet(check, text):
    ours = {f"rules:{r}" for r in HITS}
    assert not rules_fired(check, text) & ours, text


def test_rules_only_flag(check):
    ours = {r.id: r.action for r in check.rules if r.id in HITS}
    assert ours == dict.fromkeys(HITS, "flag")
