"""Session 21's fraud rules (checks/rules/fraud_impersonate.yaml and fraud.yaml), on both engines: each fires on its
structure — a far-away persona asking the reader to pay a fee first, a double refund through a
"service" account, coin-listing hype — and stays quiet on victims' reports, questions and
warnings. All of them only flag. The session's veto on fraud.refund_bait (a real refund notice
says what it never asks for) is checked too.

The sentences are our own, not taken from the dev files. The rules were written from one half of
the dev texts (sha1 of the text, even last byte) and the other writers' training texts, and kept
because each caught a text of the other half that nothing caught before.
"""

from __future__ import annotations

import pytest

from .conftest import rule_table_tests, rules_fired

FILES = ["common.yaml", "fraud.yaml", "fraud_impersonate.yaml", "fraud_invest.yaml", "fraud_trade.yaml"]

HITS = {
    "fraud.persona_fee": [
        "我是在国外维和的军官，想回国见你，需要你先帮我付一笔手续费",
    ],
    "fraud.refund_add_service": [
        "您购买的外套质检不合格，我们给您双倍退款，请添加客服微信办理",
    ],
    "fraud.coin_hype": [
        "这个币月底上交易所，现在进至少翻一百倍，错过等十年",
    ],
}

NEAR_MISSES = {
    "fraud.persona_fee": ["有人自称维和军官要我付手续费，这是杀猪盘吧", "去美国的签证要交多少钱"],
    "fraud.refund_add_service": ["退款会原路退回，不需要添加客服", "退款要加客服微信吗？"],
    "fraud.coin_hype": ["说币要上交易所翻百倍的都是骗局"],
}

# Notices the session-21 edits to older rules must leave quiet.
QUIET = [
    "您的退款已受理，款项将原路退回，我们不会向您索要验证码，请在订单页面查看",
    "公安机关提醒：不存在所谓安全账户，接到此类电话请立即挂断",
]


test_rule_fires, test_near_miss_is_quiet = rule_table_tests(HITS, NEAR_MISSES)


@pytest.mark.parametrize("text", QUIET)
def test_notices_are_quiet(check, text):
    assert not {f for f in rules_fired(check, text) if f.startswith("rules:fraud.")}, text


def test_rules_only_flag(check):
    ours = {r.id: r.action for r in check.rules if r.id in HITS}
    assert ours == dict.fromkeys(HITS, "flag")
