"""The solicitation and crime rules (fraud, drugs, trade, ads, porn, gambling, contact, weapons,
exam, crime .yaml) on text written apart from the written_zh dev data, in other wording.

Two probe sets written in session 15 after the dev-data pass and measured before any rule was
tuned on them (rules alone: probe 1 harmful 29 of 40, probe 2 27 of 40; harmless 0 of 30 and
0 of 40); the rules were then widened to catch every probe text without flagging any harmless
one or any shared harmless text (docs/checks.md, "Knowledge rules"). Each harmful text must get
a finding of a rule of these files (any rule: a text may be caught as ads and fraud at once);
each harmless look-alike (legality questions, news, family games, legitimate jobs and shops,
the same words in everyday use) must get none. Both engines.
"""

from __future__ import annotations

import pytest

from fenghuo.checks.rules import RulesCheck, packaged_rules_dir

FILES = ["common.yaml", "contact.yaml", "ads.yaml", "fraud.yaml", "drugs.yaml", "trade.yaml", "porn.yaml",
         "gambling.yaml", "weapons.yaml", "exam.yaml", "crime.yaml"]


@pytest.fixture(scope="module", params=["hyperscan", "re"])
def check(request, tmp_path_factory) -> RulesCheck:
    try:
        return RulesCheck(paths=[packaged_rules_dir() / f for f in FILES], engine=request.param,
                          cache_dir=tmp_path_factory.mktemp("rules-cache"))
    except ValueError as exc:  # hyperscan not installed
        pytest.skip(str(exc))


HITS = [
    ('新开的线上娱乐场，充值一百送三十，输了还能返一成，加客服威信领取', 'gambling'),
    ('足球竞猜群，每天给大家推荐两场，赢了再分红，想跟的进群', 'gambling'),
    ('真人荷官在线发牌，老板们来玩两把，最低五块起押', 'gambling'),
    ('斗地主赢钱可以直接提到支付宝，十块钱一局，人满就开', 'gambling'),
    ('六合彩资料大全，本期特码已出，要的私我', 'gambling'),
    ('兄弟们这个APP我玩了一个月赢了八万，提款秒到账，注册链接发你', 'gambling'),
    ('同城高端服务，学生模特都有，照片真实，价格私聊', 'porn'),
    ('大保健全套，一条龙服务，老司机都懂，地址私发', 'porn'),
    ('成人片网站分享，免费在线看，无需注册，网址私信我', 'porn'),
    ('妹妹在酒店，一个人睡不着，哥哥来陪我吗，八百包夜', 'porn'),
    ('宅男福利，私密视频合集打包，一百元永久观看', 'porn'),
    ('推特博主的付费内容，全套资源，想要的滴滴', 'porn'),
    ('手机打字就能赚钱，一天几十到几百，学生宝妈都能做，联系我的薇', 'ads'),
    ('抖音点赞关注任务，一个五毛，结算快，需要的加群', 'ads'),
    ('代写代发各种软文，价格优惠，量大包月，详情私聊', 'ads'),
    ('招募兼职推广员，发发朋友圈就有收入，日结，扣扣联系', 'ads'),
    ('粉丝购买，真人活粉，一万粉只要五十块，秒到', 'ads'),
    ('免费送你一套引流秘籍，加我好友即可领取', 'ads'),
    ('【中国移动】您的积分即将清零，请登录 jf-10086.vip 兑换现金红包', 'fraud'),
    ('我是公安局的，你的身份证被人冒用涉嫌洗钱，现在需要你配合调查，不要告诉家人', 'fraud'),
    ('您好，我是京东客服，您购买的商品存在质量问题，我们给您双倍赔付，请下载会议软件操作', 'fraud'),
    ('老师带你炒股，每天推荐一只涨停股，保证月收益百分之五十，加群免费体验', 'fraud'),
    ('亲爱的，我发现了一个投资平台，稳赚不赔，你先投五千试试，我教你', 'fraud'),
    ('急招网络打字员，每天工资两百，入职先交一百九十九培训费', 'fraud'),
    ('网贷逾期？我们有内部渠道，帮你消除逾期记录，先交五百手续费', 'fraud'),
    ('恭喜您获得本公司周年庆一等奖，奖金五万元，需先缴纳手续费两千元', 'fraud'),
    ('冰毒现货，纯度高，同城送货上门，要的联系', 'drugs'),
    ('有人要叶子吗，自己种的，一克一百五，面交', 'drugs'),
    ('卖K粉，保真，全国包邮，微信联系', 'drugs'),
    ('出售曲马多，不需要处方，量大优惠', 'drugs'),
    ('听话水，无色无味，放进饮料里就行，快递到家', 'drugs'),
    ('出售全国车主信息，姓名电话车牌都有，一块钱一条', 'privacy'),
    ('专业查人，只要给我手机号，他住哪里在哪上班都能查到，收费一千', 'privacy'),
    ('手机定位服务，只要号码，实时位置，对方不知道，一次两百', 'privacy'),
    ('这是那个渣男的家庭住址和电话，大家去他家门口闹', 'privacy'),
    ('专业办理假学历，学信网可查，三天出证，联系微信', 'crime'),
    ('收购银行卡，一张一千五，要求带U盾，长期收', 'crime'),
    ('出售仿真手枪，能打钢珠，顺丰发货', 'crime'),
    ('承接网站攻击业务，价格面议，效果保证', 'crime'),
    ('帮忙洗钱，五个点手续费，当天到账，安全可靠', 'crime'),
    ('【澳門新葡京】首存即送100%，日日返水1.5%，官方直营，信誉第一', 'gambling'),
    ('老哥们，带你们上车，今晚英超三场全红，跟我下准没错，群里见', 'gambling'),
    ('棋牌室线上开了，跑得快、炸金花，一块钱底，微信转账结算', 'gambling'),
    ('时时彩人工计划，一期一结，错了包赔，需要联系', 'gambling'),
    ('USDT 网投平台招推广，注册一个人返你50U', 'gambling'),
    ('幸运飞艇群，五分钟一期，群主坐庄，进群发红包上分', 'gambling'),
    ('本人大学生，兼职，可上门，可包夜，不墨迹，加q', 'porn'),
    ('夜场 KTV 公主陪唱，出台另算，有意向的老板联系我', 'porn'),
    ('网红私房照打包出售，一百多套，微信付款发链接', 'porn'),
    ('附近单身女，今晚想找个人陪，有偿的那种，看我资料', 'porn'),
    ('AV 番号合集，每日更新，关注公众号回复“番号”获取', 'porn'),
    ('裸聊视频一对一，真人在线，付费观看', 'porn'),
    ('【淘宝兼职】招聘刷单员，佣金10-50元每单，当天返款，详询Q 2938475610', 'ads'),
    ('在家做手工，外发加工，计件工资，材料包邮，月入四五千', 'ads'),
    ('公众号互推，粉丝互换，需要涨粉的号主私聊', 'ads'),
    ('抖音代运营，包上热门，一个视频保底十万播放，价格私', 'ads'),
    ('出售小红书账号，千粉万粉都有，带权重，价格美丽', 'ads'),
    ('你好，想赚钱吗？看我主页第一条视频，手把手教你', 'ads'),
    ('【顺丰速运】您的快件因信息不全被退回，请点击 sf-kd.top 重新填写地址', 'fraud'),
    ('你好，这里是市医保中心，您的医保账户存在违规使用，将被冻结，请按9转人工', 'fraud'),
    ('爸，我是小明，换了个号，我出车祸了在医院，急需五万块手术费，先别告诉妈', 'fraud'),
    ('内部消息，某某币下周上交易所，现在买入至少翻十倍，名额有限', 'fraud'),
    ('您的包裹被海关扣押，里面查出违禁品，请联系警官配合调查并缴纳保证金', 'fraud'),
    ('有抖音账号就能赚钱，关注点赞一单三元，先交会员费198开通接单权限', 'fraud'),
    ('您的ETC已失效，请尽快点击链接认证，否则将无法正常通行 etc-auth.cc', 'fraud'),
    ('好东西到了，K、冰、麻古都有，老客户优先，量大从优', 'drugs'),
    ('飞叶子的兄弟看过来，加州进口，品质保证，一克两百', 'drugs'),
    ('卖止咳水，一箱起批，不用处方，快递保密', 'drugs'),
    ('约人一起溜冰吗，我这有货，地方我安排', 'drugs'),
    ('迷药出售，喷一下就晕，效果保证，货到付款', 'drugs'),
    ('卖一批新鲜的网购客户资料，姓名手机号收货地址齐全，五分钱一条', 'privacy'),
    ('可查任何人的开房记录和出行轨迹，只要身份证号，价格面议', 'privacy'),
    ('大家把这个造谣的人的电话和单位扒出来，让他社死', 'privacy'),
    ('出售某银行VIP客户名单，资产五十万以上，带电话', 'privacy'),
    ('高仿身份证制作，可过机器，包邮到家', 'crime'),
    ('回收二手银行卡，带手机卡和U盾一起，价格高', 'crime'),
    ('气枪专卖，威力大，可打鸟，送铅弹', 'crime'),
    ('专业代考驾照科目一，包过，不过退款', 'crime'),
    ('帮忙走账，公户转私户，手续费千分之五', 'crime'),
    ('代做全套出国签证材料，银行流水在职证明都能做，保过', 'crime'),
]

NEAR_MISSES = [
    '我想问一下，网上那种充值送彩金的平台是不是都是骗人的？',
    '足球比赛的赔率是怎么计算的？',
    '周末和家人打麻将，输了请吃饭',
    '警方破获一起特大网络赌博案，涉案金额上亿',
    '这家按摩店是正规的，老板人很好，推荐给大家',
    '酒店一晚三百，含双早，服务很好',
    '色情内容对青少年的危害有哪些？',
    '我们公司招兼职平面设计，按项目结算，请投递简历到邮箱',
    '点赞关注是对博主最大的支持！',
    '如何提高小红书笔记的曝光量？',
    '我的银行卡被冻结了，应该去银行柜台办理吗？',
    '警方提醒：冒充客服退款的都是诈骗，请勿点击链接',
    '投资有风险，入市需谨慎',
    '这个理财产品年化收益3%，比较稳健',
    '恭喜你考上研究生！',
    '冰毒对身体有哪些危害？',
    '医生给我开了曲马多止痛，一天吃几片？',
    '我想种点多肉，一盆多少钱',
    '个人信息保护法什么时候实施的？',
    '我的手机号被泄露了，老是接到骚扰电话，怎么办',
    '学历提升有哪些正规途径？',
    '银行卡丢了怎么挂失',
    '玩具枪在地铁上能带吗',
    '网站被攻击了应该怎么办？',
    '反洗钱是银行的重要工作',
    '我在闲鱼卖旧手机，买家要求先发货，靠谱吗',
    '今天的红包接龙好热闹，大家都抢到了几块钱',
    '我朋友在做微商卖面膜，天天发朋友圈，有点烦',
    '这次旅游去了柬埔寨吴哥窟，风景很美',
    '王者荣耀上分技巧分享，新手必看',
    '澳门旅游攻略，新葡京酒店住一晚多少钱？',
    '今晚英超比赛谁能赢？我觉得曼城稳了',
    '爷爷在公园跟老头们下象棋，输了的请喝茶',
    '彩票中心发布公告：本期双色球一等奖开出5注',
    '网络赌博的危害有多大？',
    '大学生兼职家教，一小时一百，可上门辅导',
    'KTV 周末包厢多少钱一个晚上？',
    '我在小红书发了一篇穿搭笔记，点赞破千了',
    '抖音怎么开通橱窗带货？',
    '淘宝店铺怎么提升销量？',
    '在家做手工可以锻炼孩子的动手能力',
    '顺丰快递寄到北京要几天？',
    '医保卡余额怎么查？',
    '爸，我换了个手机号，以后打这个',
    '比特币最近涨了很多，你怎么看？',
    '海关查获一批违禁品，警方正在调查',
    'ETC 办理需要什么材料？',
    'K歌之王是谁唱的？',
    '小区里的冰淇淋店新开张，一个十块',
    '止咳水喝多了会不会上瘾？',
    '溜冰场周末人很多，门票三十',
    '迷药是怎么起作用的？怎么防范？',
    '个人信息泄露了能起诉吗？',
    '开房记录能被别人查到吗？',
    '身份证丢了怎么补办？',
    '银行卡不用了怎么注销？',
    '气枪射击是奥运项目吗？',
    '驾照科目一怎么复习容易过？',
    '公司账户转个人账户要交税吗？',
    '出国签证需要准备哪些材料？',
    '今晚一起吃饭吗？我请客',
    '这个视频太好笑了，转发给大家',
    '公众号文章怎么写才能有更多人看？',
    '我想买台二手电脑，预算三千',
    '我们班级群里老师发了作业',
    '老板说今晚加班，明天补休',
    '这家店的奶茶加料免费，珍珠椰果随便加',
    '周末带孩子去科技馆，门票免费',
    '请问怎么申请信用卡？',
    '我家猫咪最近不爱吃饭',
]


@pytest.mark.parametrize(("text", "category"), HITS)
def test_probe_solicitations_are_caught(check, text, category):
    assert check.scan(text).findings, text


def test_probe_categories_mostly_match(check):
    """The rule that fires names the probe's category for most texts (some are two things at once)."""
    same = sum(category in {f.category for f in check.scan(text).findings} for text, category in HITS)
    assert same >= 0.8 * len(HITS), same


@pytest.mark.parametrize("text", NEAR_MISSES)
def test_probe_look_alikes_stay_quiet(check, text):
    assert [f.rule for f in check.scan(text).findings] == []
