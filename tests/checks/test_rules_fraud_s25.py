"""Session 25's fraud rules, on both engines: a notice sending the reader to a hyphenated look-alike
domain of any ending (fraud.lookalike_link, fraud_impersonate.yaml) and a stake with a fixed payout
next to a backer or a push (fraud.stake_return, fraud_invest.yaml). Both only flag, and both stay
quiet on reports, warnings and lawful products.

The sentences are our own, not taken from the dev files. The rules were written from half A of the
dev texts (sha1 of the text, even last byte) and kept where half B gained with no new false alarm.
"""

from __future__ import annotations

from .conftest import rule_table_tests

FILES = ["common.yaml", "fraud.yaml", "fraud_impersonate.yaml", "fraud_invest.yaml", "fraud_trade.yaml"]

HITS = {
    "fraud.lookalike_link": [
        "【某银行】尊敬的客户，您的U盾将于今日失效，请登录 abc-ukey-safe.cn 及时更新",
        "【运营商】您的积分8800分即将清零，可兑换现金199元，请登录 yys-jifen.com 领取",
        "您的驾驶证认证已过期，点击 jtgl-rz.net 重新认证，逾期将被禁用",
    ],
    "fraud.stake_return": [
        "新能源充电桩项目，投5万一年返15万，国企背景，名额有限",
        "光伏养老项目，投资20万每月分红5000，到期还本，拉新还有额外奖励",
        "云算力矿机，投一台2万，每天产币收益300，半年回本，已有上千人获利",
    ],
}

NEAR_MISSES = {
    "fraud.lookalike_link": [
        "收到短信说积分要清零，让登录 yys-jifen.com 兑换现金，这是诈骗吧",
        "我的个人网站搬家了，欢迎访问 my-notes.com 看新文章",
        "积分兑换请在官方APP里操作，不要点短信里的 xx-jf.com 链接",
    ],
    "fraud.stake_return": [
        "投5万一年返15万还说国企背景，这种就是非法集资，别信",
        "三年期国债利率2.38%，到期还本付息",
        "投资10万每月分红3000，政府背书？被骗了怎么办",
    ],
}

test_rule_fires, test_near_miss_is_quiet = rule_table_tests(HITS, NEAR_MISSES)


def test_rules_only_flag(check):
    ours = {r.id: r.action for r in check.rules if r.id in HITS}
    assert ours == dict.fromkeys(HITS, "flag")
