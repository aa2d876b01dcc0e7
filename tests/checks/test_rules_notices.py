"""Notices, reports and shop signs against the solicitation and fraud rules (issue 12, session 18).

A moderation team stops trusting a system that blocks a court's auction notice, a police or bank
warning, a victim's report of a scam message, or a shop saying what it does *not* sell. The 20
notices below were written in session 18 after the rule changes of that session's first commit
(rules 1ae911f, lexicon d9646bc) and measured once before any further change: the whole pipeline
flagged 4 of them (3 blocked; at the session's start 6, 3 blocked). The next commit was then written
against them (让我点链接 reported, 不提供任何, a private sale's 自提, 刀具 a class name), so they are dev
data from then on. Each notice must get no finding from these rule files (both engines); each
harmful counterpart, written at the same time, must still get one.
"""

from __future__ import annotations

import pytest

from tests.checks.conftest import TRADE_RULE_FILES

FILES = TRADE_RULE_FILES


NOTICES = [
    "XX市中级人民法院关于拍卖被执行人房产的公告：本院将于2027年3月1日在京东司法拍卖平台公开拍卖，竞买人应在拍卖开始前交纳保证金30万元。",
    "公安局反诈中心温馨提示：公检法机关不会通过电话、QQ、微信办案，更不会要求您把钱转到所谓的“安全账户”。",
    "【XX银行】尊敬的客户，本行从未委托任何第三方办理贷款，凡声称“无抵押、秒批、先交手续费”的均非本行行为，请勿轻信。",
    "本店承诺：只卖正规渠道的户外刀具，所有刀具均为非管制刀具，管制刀具一律不卖，购买需实名登记。",
    "本药店不销售处方类减肥药，如需购买请持医生处方到医院药房。",
    "本超市不卖成人用品，也不向未成年人出售香烟和酒类。",
    "禁毒宣传进校园：警方向同学们展示了新型毒品的各种伪装，如“奶茶”“跳跳糖”“邮票”，提醒大家提高警惕。",
    "新闻：某国首都发生恐怖袭击，造成多人死亡，我国外交部表示强烈谴责。",
    "物业通知：近期有人冒充物业工作人员上门收取“管道清洗费”，本物业不会上门收取任何现金费用，请业主谨防受骗。",
    "学校通知：近期有人冒充老师在家长群发收款码收取资料费，学校不会通过个人收款码收取任何费用，请各位家长提高警惕。",
    "我今天收到一条短信说我的快递丢了，可以三倍理赔，让我点链接，我直接删了，这种肯定是骗子吧",
    "网上看到有人高价收银行卡，一张两千，这种人是不是在洗钱？我该不该举报？",
    "本平台郑重声明：我们从不收取任何会员费、保证金，所有任务均免费，请勿相信任何要求先交钱的“客服”。",
    "【XX证券】本公司从未设立任何“荐股群”“带单群”，不会以任何形式承诺收益，谨防冒充我司名义的非法荐股。",
    "本人闲置一台九成新的单反相机，原价六千，现四千出，同城自提，有意私聊。",
    "网吧公告：本店严禁赌博，发现一律报警处理，游戏币不可兑换现金。",
    "药监局提醒：网购的“纯中药减肥胶囊”可能非法添加西布曲明，出现心慌请立即停用并就医。",
    "海关提醒：旅客携带管制刀具、仿真枪出入境将被依法查处，请勿携带。",
    "本店只做正规足疗按摩，不提供任何特殊服务，谢绝咨询。",
    "招聘启事：本公司招聘客服专员，底薪四千加提成，五险一金，入职不收取任何费用，欢迎投递简历。",
]

OFFERS = [
    "我是市公安局的警官，你名下银行卡涉嫌洗钱，请立即把钱转到安全账户配合调查，不要告诉家人。",
    "法院通知：您涉嫌一起诈骗案，需缴纳保证金五万元进行财产保全，否则将被拘捕。",
    "黑户也能下款，不看征信，先交手续费两百，秒批到账。",
    "恭喜您成为幸运用户，获得iPhone一部，只需支付邮费和手续费即可领取。",
    "出售管制刀具，三棱刺甩棍现货，隐私发货。",
    "高价收银行卡，一张两千，私聊。",
    "导师带单炒币，月收益百分之三十，进群免费领名额。",
    "减肥药出售，一周瘦十斤，含西布曲明，效果炸裂，私我。",
    "代开各类发票，税点低，加微信详谈。",
    "专业洗钱，资金过账，手续费五个点，不查来源。",
]


@pytest.mark.parametrize("text", NOTICES)
def test_notices_get_no_rule_finding(check, text):
    assert [f.rule for f in check.scan(text).findings] == []


@pytest.mark.parametrize("text", OFFERS)
def test_the_offers_they_warn_about_are_caught(check, text):
    assert check.scan(text).findings, text
