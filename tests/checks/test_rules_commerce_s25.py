"""Session 25's commerce rules on both engines: porn resource groups, teasers sending readers
elsewhere, a night's company paid, porn streaming apps (porn_shapes.yaml); lottery codes, payout
boasts and cash tables (gambling_shapes.yaml); a plus sign written for 加 before a handle
(ads_shapes.yaml); exam leaks and remote cheating (exam.yaml); gun slang offers (weapons.yaml);
batches of people's data called 料 (trade.yaml). Each fires on its structure and stays quiet on a
harmless look-alike. All of them only flag.

The sentences are our own, not taken from the dev files (the rules were written from half A of
the written dev sets and kept where half B gained).
"""

from __future__ import annotations

from .conftest import rule_table_tests

FILES = ["common.yaml", "contact.yaml", "porn_shapes.yaml", "gambling_shapes.yaml", "ads_shapes.yaml",
         "exam.yaml", "weapons.yaml", "trade.yaml"]

HITS = {
    "porn.resource_club": [
        "瑟瑟资源群，每天更新，一次付费永久看",
        "拉你上车，网盘打包，老司机都懂",
    ],
    "porn.teaser_elsewhere": [
        "剩下的尺度太大发不出来，想看完整版的私我",
        "这段太刺激了审核不过，完整版放在主页了",
    ],
    "porn.night_paid": [
        "找个小哥哥陪我过夜，有偿，身材好的优先",
        "谁能陪我一晚，红包两千",
    ],
    "porn.live_app": [
        "这个软件的主播尺度超大，扫码下载，新人注册送会员",
        "黄色直播app，别在应用商店下，安装包私发",
    ],
    "gambling.lottery_code": [
        "6合彩内部资料，今期必开，只收两百",
        "北京赛车倍投计划，跟着老师一把回本",
    ],
    "gambling.cashout_boast": [
        "认准这个台子，不黑钱不限提，链接私我",
        "新平台注册送彩金，出款秒到，兄弟们冲",
    ],
    "gambling.cash_table": [
        "德州局二十四小时开桌，两百底，输赢现结",
        "红包扫雷群，雷中即赔，支付宝结算",
    ],
    "ads.plus_handle": [
        "想要整套资料的 ＋V 免费领",
        "✚薇 了解一下，名额有限",
    ],
    "exam.leak_remote": [
        "教资考前漏题，保真，不准全退",
        "四六级答案考前三小时发，包过",
    ],
    "weapons.slang_offer": [
        "火狗现货，拆开发快递，懂的来",
        "手工枪一套，图纸配件都有",
    ],
    "trade.data_batch": [
        "车主料一手，带手机号，一万条五百",
        "新鲜宝妈资料，带电话，打包出售",
    ],
}

NEAR_MISSES = {
    "porn.resource_club": [
        "新店开业，加店长微信进福利群，会员日第二杯半价",
        "国产剧和欧美剧每日更新，哪个平台会员划算",
    ],
    "porn.teaser_elsewhere": [
        "跳伞太刺激了，完整版视频放主页了",
        "被人把不能发的照片传到网上，怎么维权删除",
    ],
    "porn.night_paid": [
        "住院时请护工陪护一晚，有偿，一百五",
        "守夜陪我一晚吧，明天请你吃饭",
    ],
    "porn.live_app": [
        "这个学习app有真人老师一对一，扫码下载",
        "这部电影尺度大，在应用商店下载视频app就能看",
    ],
    "gambling.lottery_code": [
        "我快三十了，工作还算稳定",
        "时时彩开奖是随机的，别信什么计划",
    ],
    "gambling.cashout_boast": [
        "公积金提款要带身份证去银行",
        "这个平台充值送彩金，同事充了就提不出来，是骗局",
    ],
    "gambling.cash_table": [
        "过年和亲戚打德州扑克，不玩钱，图个乐",
        "红包扫雷是赌博吗，警方说会被抓",
    ],
    "ads.plus_handle": [
        "C++ 和 Java 哪个更适合新手",
        "作业有问题的同学 ＋群 问老师",
    ],
    "exam.leak_remote": [
        "公司远程会议软件，线上考试也能用",
        "考前漏题的都是骗子，别信",
    ],
    "weapons.slang_offer": [
        "狗粮猫粮都有，全国发货",
        "警方收缴手工枪一把，配件齐全",
    ],
    "trade.data_batch": [
        "车主数据报告显示，新能源车主更年轻",
        "业主资料被泄露了怎么办",
    ],
}


test_rule_fires, test_near_miss_is_quiet = rule_table_tests(HITS, NEAR_MISSES)


def test_rules_only_flag(check):
    ours = {r.id: r.action for r in check.rules if r.id in HITS}
    assert ours == dict.fromkeys(HITS, "flag")
