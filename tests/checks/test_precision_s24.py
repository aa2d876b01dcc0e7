"""Session 24's precision work on the knowledge rules (abuse, ads, contact, drugs, exam, fraud*,
trade): narrow vetoes for a scam quoted inside a warning or a victim's story, legitimate commerce,
a court report, hemp rope and friendly banter whose laughter lies a little further off.

Each false alarm has a harmful sibling that must still be caught by the same rule, so a veto
cannot quietly swallow the offer it was written around. The sentences are our own, not taken
from the dev files.
"""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def pipe():
    from fenghuo.checks.pipeline import load_pipeline

    return load_pipeline()


def rules_of(pipe, text):
    return {f.rule.split(":", 1)[1] for f in pipe.scan(text).findings if f.rule and f.rule.startswith("rules:")}


# (rule, harmless text the rule used to fire on)
QUIET = [
    ("fraud.impersonate_authority", "网点柜员今天拦下一位大爷要往“公安局安全账户”转钱，劝了好久才报了警"),
    ("fraud.impersonate_authority", "社区民警：遇到“公检法”来电要求转账，记住三不：不听、不信、不转账"),
    ("fraud.loan_bait", "“黑白户都能下款，先交保证金”的，正规贷款从不先收费"),
    ("fraud.loan_bait", "我表哥被网贷“解冻费”骗了两次，前后一万多"),
    ("fraud.loan_bait", "他们说“先交两千保证金，贷款当天就下来”，交完又要刷流水费，我才醒悟过来"),
    ("fraud.loan_bait", "监管部门：未经批准放贷，以“不看征信”“秒批”招揽借款人的，涉嫌非法经营"),
    ("fraud.cancel_loan_account", "【某银行温馨提示】不法分子常以“注销学生贷”等名义，诱导您下载共享屏幕软件"),
    ("fraud.prize_payment", "直播间抽奖有人说我中了一等奖，要我付运费才发货，我去问主播，根本没有这回事"),
    ("fraud.task_topup", "被刷单骗了三千，对方一开始说“垫付200返260”，前两单真返了，后来就卡单不给提现，我真傻"),
    ("fraud.prize_fee", "直播间抽奖有人说我中了一等奖，要我付运费才发货，我去问主播，根本没有这回事"),
    ("fraud.investment_bait", "网上遇到有人说“我带你投资虚拟币，稳赚”，请第一时间拨打96110"),
    ("fraud.investment_bait", "我舅舅被一个“理财老师”骗了十几万，当时说保本保息"),
    ("fraud.tipster_group", "“导师带你炒股，进群领涨停票”的群，后面都会让你下载虚假APP入金"),
    ("fraud.invest_invite", "网上遇到有人说“我带你投资虚拟币，稳赚”，请第一时间拨打96110"),
    ("contact.group_invite", "小区微信群里有人说加他领红包，我一看是广告号，马上踢了"),
    ("contact.group_invite", "前年同事拉我进群说跟单稳赚，前几把赢了点，然后就一发不可收拾"),
    ("gambling.betting_tips", "前年同事拉我进群说跟单稳赚，前几把赢了点，然后就一发不可收拾"),
    ("contact.lure_learn_more", "我们游戏公会招人，活跃玩家优先，有意私聊会长"),
    ("contact.lure_learn_more", "出一台旧相机，价格合适就卖，银行大厅当面交易，有意者私聊"),
    ("ads.paid_task", "说说我差点被骗的经历：有人加我说可以做兼职刷单，先做几单，确实返了佣金"),
    ("ads.paid_per_post", "社区公众号转发：兼职“关注点赞一单2元”，前几单给钱，后面让你充值"),
    ("ads.contact_task_offer", "面包店招店员一名，时薪20元，可兼职，有健康证优先，有意者到店面试或加店长微信"),
    ("trade.counterfeit_goods", "看到“高仿手表”“原单货”这类广告别买，质量差还涉嫌售假"),
    ("trade.surrogacy", "养孩子的人工成本参考代孕大概是30万，这笔账谁算过"),
    ("trade.doxxing", "一男子人肉搜索前女友并公开她的住址、电话，导致她长期被骚扰，被判赔偿并道歉"),
    ("exam.cheating_device", "两名男子因在网上出售考试作弊耳机被刑拘，涉案金额二十余万元"),
    ("fraud.fake_documents", "家政保洁，日常打扫50元/小时，公司统一培训，可开发票"),
    ("drugs.trade", "大麻绳哪里有卖？要捆行李"),
    ("drugs.trade", "大麻哈鱼到货了，一斤四十"),
    ("abuse.insult_vocative", "你个憨批，又把伞落在地铁上了吧哈哈哈，明天我给你带一把"),
    ("abuse.insult_pair", "你个憨批，又把伞落在地铁上了吧哈哈哈，明天我给你带一把"),
    ("abuse.insult_vocative", "一顿吃三碗，饭桶一个，不过能吃是福"),
]


@pytest.mark.parametrize("rule, text", QUIET)
def test_the_false_alarm_is_quiet(pipe, rule, text):
    assert rule not in rules_of(pipe, text)


# (rule, harmful text the rule must still catch): the offer itself, with no warning or story frame.
CAUGHT = [
    ("fraud.impersonate_authority", "我是市公安局民警，你涉嫌洗钱案，必须配合转账做财产保全，不要告诉家人"),
    ("fraud.loan_bait", "黑户也能下款，不看征信，先交保证金马上放款"),
    ("fraud.task_topup", "这一单是高佣任务，先充1500返1800，完成就能提现"),
    ("fraud.investment_bait", "稳赚不赔的投资项目，月收益30%，带你上车"),
    ("fraud.tipster_group", "老师带你炒股，进群领牛股，名额有限"),
    ("contact.group_invite", "拉你进群，每天免费领福利"),
    ("gambling.betting_tips", "跟着导师下注，稳赢不亏，拉你进群"),
    ("contact.lure_learn_more", "直播公会招主播，日结，有意者私聊"),
    ("ads.paid_task", "抖音点赞关注，一单2元，日结"),
    ("ads.contact_task_offer", "无需面试，在家兼职日结，加微信 abc123"),
    ("ads.contact_task_offer", "招带货主播，底薪加提成，日结，加微信面试"),
    ("trade.counterfeit_goods", "高仿名表，一比一复刻，微信 watch888"),
    ("trade.surrogacy", "代孕包成功，男女可选，价格优惠"),
    ("exam.cheating_device", "出售考试作弊耳机，包过，加v详聊"),
    ("fraud.fake_documents", "代开各类发票，税点低"),
    ("drugs.trade", "大麻现货，同城闪送，加v"),
    ("abuse.insult_vocative", "跟你讲道理没用，憨批一个"),
    ("trade.doxxing", "这就是那个虐猫的人，真名张某某，家住某某路8号，大家去他家门口讨个说法"),
]


@pytest.mark.parametrize("rule, text", CAUGHT)
def test_the_offer_is_still_caught(pipe, rule, text):
    assert rule in rules_of(pipe, text)
