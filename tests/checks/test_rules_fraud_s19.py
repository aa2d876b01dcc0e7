"""Session 19's fraud and crime rules told by meaning (issue 12), on both engines. Written from half A
of the dev texts (sha1 of the text, even last byte) and kept only where half B gained as well, with no
harmless text more flagged on half B of any dev file: fraud.prize_payment, fraud.task_topup
(fraud.yaml), fraud.card_lend, fraud.forge_loose (fraud_trade.yaml),
crime.intrusion_request (crime.yaml), drugs.code_deal, drugs.emoji_batch (drugs.yaml). All flag.

Each rule must fire on its shape in wording that is not in the dev data, and stay quiet on the
look-alikes (a prize whose tax the organiser pays, a job that takes no deposit, a power bank lent,
a school's certificate, an authorised pentest, pork at the market, a winter sale with a snowflake).
"""

from __future__ import annotations

import pytest

from fenghuo.checks.rules import RulesCheck

FILES = ["common.yaml", "fraud.yaml", "fraud_impersonate.yaml", "fraud_invest.yaml", "fraud_trade.yaml", "crime.yaml", "drugs.yaml"]

HITS = {
    "fraud.prize_payment": ["您的积分可兑换一台空气炸锅，仅需支付邮费29元",
                            "老年人专属福利：政府发放高龄补贴3000元，请提供银行卡号和密码办理",
                            "恭喜您在店庆活动中抽中一台洗衣机，只需支付运费和保价费68元即可发货"],
    "fraud.task_topup": ["抖音点赞关注一个三元，做满三十单要先做一单垫资任务，完成后连本带息返还",
                         "刷单任务卡单了，需要再补三单才能提现本金",
                         "这一单是高佣任务，先充1500返1800，完成就能提现"],
    "fraud.card_lend": ["兄弟手上有闲置的卡吗，一天给你三百，卡借我跑几天流水",
                        "你用身份证帮我办几张电话卡，一张给你一百，别的不用你管",
                        "物联网卡一批，不用实名，批量出，需要的找我"],
    "fraud.forge_loose": ["需要什么证都能做，结婚证房产证学历，和真的没区别",
                          "病历、诊断证明都能开，医院章齐全，当天出",
                          "单位公章、财务章，专业刻章，三天出货"],
    "crime.intrusion_request": ["帮我盗一个抖音号，要有十万粉的，钱好说",
                                "黑客接单：改成绩、删挂科记录，价格私聊",
                                "有没有人能黑进我老公的微信看聊天记录，给钱"],
    "drugs.code_deal": ["有需要冰的吗，成色好，老地方交货",
                        "molly and weed for the rave, dm me",
                        "老地方见，想拿三克猪肉，一克多少"],
    "drugs.emoji_batch": ["❄️新到一批，品质没得说，老客户先问", "🍃🍬都有货，懂的来"],
}

QUIET = {
    "fraud.prize_payment": ["公司年会中了一等奖，个人所得税由公司代缴",
                            "这次活动中奖的同学，请到学生会办公室领取奖品，不收取任何费用",
                            "抽奖中了一杯奶茶，凭截图到店领取"],
    "fraud.task_topup": ["外卖骑手招聘，平台直签，不收押金",
                         "淘宝店铺做任务领优惠券，完成签到就能用",
                         "被刷单骗了，对方说再垫付一单就返款，还能追回吗"],
    "fraud.card_lend": ["借我用一下你的充电宝，一会儿还你",
                        "去银行开户需要带身份证和手机号",
                        "手机卡丢了，去营业厅挂失补办"],
    "fraud.forge_loose": ["毕业证丢了，学校可以开一份学历证明",
                          "老公每次都保证不再碰了，家属能做什么",
                          "警方查获一批跟真的一样的假证"],
    "crime.intrusion_request": ["我的QQ号被盗了，怎么找回",
                                "公司请安全团队做了一次授权渗透测试，报告下周出",
                                "Police announced the takedown of a DDoS-for-hire service"],
    "drugs.code_deal": ["今晚想吃红烧肉，去超市买了两斤猪肉",
                        "婚礼上的喜糖还有吗，给我留五颗",
                        "周末去溜冰场，今晚有没有人一起"],
    "drugs.emoji_batch": ["冬天到了❄️，新到一批羽绒服，老客户八折", "💊 感冒药到货了，药店有售"],
}


def rules(check: RulesCheck, text: str) -> set[str]:
    return {f.rule for f in check.scan(text).findings}


@pytest.mark.parametrize(("rule", "text"), [(r, t) for r, ts in HITS.items() for t in ts])
def test_shape_fires(check, rule, text):
    assert f"rules:{rule}" in rules(check, text), text


@pytest.mark.parametrize(("rule", "text"), [(r, t) for r, ts in QUIET.items() for t in ts])
def test_look_alike_is_quiet(check, rule, text):
    assert f"rules:{rule}" not in rules(check, text), text


@pytest.mark.parametrize("rule", sorted(HITS))
def test_new_rules_only_flag(check, rule):
    """New rules flag (a person decides); none blocks on its own."""
    actions = {f.action for t in HITS[rule] for f in check.scan(t).findings if f.rule == f"rules:{rule}"}
    assert actions == {"flag"}, (rule, actions)
