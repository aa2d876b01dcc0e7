"""Session 22's precision vetoes on older rules (fraud.yaml, fraud_impersonate.yaml, fraud_invest.yaml, ads.yaml,
exam.yaml), on both engines: each narrowed rule stays quiet on a harmless frame it used to flag or
block (risk-control talk, a bank teller's story, a fund manager who gives no tips, a tutor's ad, a
school that says it does not sit exams for you) and still fires on the offer itself.

The sentences are our own, not taken from the dev files. The false alarms were found on half A of
the written_zh dev files; no half-B harmful text was lost.
"""

from __future__ import annotations

import pytest

from .conftest import TRADE_RULE_FILES, rules_fired

FILES = TRADE_RULE_FILES

# Older rules narrowed in session 22: each stays quiet on a frame it used to flag or block, and
# still fires on the offer itself.
NARROWED = {
    "fraud.brushing_task": ("风控团队在讨论怎么识别兼职刷单广告", "兼职刷单，一单一结，日赚三百"),
    "fraud.safe_account": ("柜员拦下一位老人要给安全账户转钱", "请立即将资金转入安全账户配合调查"),
    "fraud.tipster_group": ("基金经理直播，不荐股，只聊市场", "老师带单，每天一只涨停票，进群领取"),
    "ads.contact_task_offer": ("家教初中数学，首次课不满意不收费，微信联系", "宝妈兼职，手机就能做，日结，加微信"),
    "exam.proxy_taking": ("培训机构：考试由考试院组织，不代考不包过", "四六级代考，包过，价格私聊"),
}


@pytest.mark.parametrize(("rule", "pair"), list(NARROWED.items()))
def test_narrowed_rules(check, rule, pair):
    quiet, offer = pair
    assert f"rules:{rule}" not in rules_fired(check, quiet), quiet
    assert f"rules:{rule}" in rules_fired(check, offer), offer
