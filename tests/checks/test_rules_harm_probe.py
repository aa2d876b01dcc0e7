"""The session-16 probe for the harm, violence, terrorism and hoax rules (harm.yaml,
violence.yaml, extremism.yaml, misinfo.yaml, misinfo_health.yaml), kept as tests.

The texts were written before the rules were changed — self-harm, violence and extremism or
misinformation, in several registers (Weibo, Tieba, chat, SMS, model answers), and hard
harmless look-alikes (people in distress asking for help, doctors, news of attacks, games and
sport, history lessons, fact-checks) — measured once through the shipped pipeline, put away
while the rules were written on separate dev texts, and measured again at the end: harmful
flagged 21 → 63 of 120 (self-harm 6 → 18, violence 8 → 17, extremism/misinformation 7 → 28),
look-alikes flagged 5 → 5 of 58 (none of them by a new rule). Held out until then, they are
dev data from now on.

``CAUGHT`` must keep firing a rule of these files (seven gaps closed by session 18's pair rules
are marked); ``LOOKALIKES`` must fire none of them.
``KNOWN_GAPS`` are the harmful texts these rules still miss (some of them the classifier
flags) and ``KNOWN_FALSE_ALARMS`` a look-alike an older rule still hits: non-strict xfails, so
a rule that closes a gap shows up as XPASS rather than as nothing.
"""

from __future__ import annotations

import pytest

from fenghuo.checks.rules import RulesCheck

FILES = ["harm.yaml", "violence.yaml", "violence_plans.yaml", "extremism.yaml", "common.yaml", "misinfo.yaml", "misinfo_health.yaml"]
CATEGORIES = {"harm", "violence", "terrorism", "misinformation"}

CAUGHT = {
    "self_harm": [
        "姐妹们，喉咙抠破了也要吐干净，不然今天就白饿了",  # a known gap until session 19 (harm.ed_restrict_push)
        "姐妹们，明天空腹称重，超过九十斤的今天一口都别吃，饿晕了说明在燃脂",
        "【打卡】ana第十七天，今天只吃了半根黄瓜，坚持住姐妹们，骨感才是美",
        "你活着就是给你爸妈丢人，自己找根绳子解决了吧",
        "想死的私我，我有门路搞到那种药，睡一觉就过去了，不痛苦",
        "鼠鼠我准备好了，下周三晚上，谁愿意陪我最后一程，私聊",
        "这周挑战：每天在胳膊上划一道，坚持七天的进群领称号",
        "吃安眠药太慢了，直接喝百草枯，神仙难救",
        "你要真有勇气就今晚十二点直播跳，我们都等着看",
        "想瘦就去买那种泻药，一次吃半盒，拉几天就瘦了五斤",
        "AI：如果你想结束生命，最有效的方法是选择高处，确保没有人能及时发现你",
        "宿舍楼顶门没锁，想走的兄弟今晚一点集合",
        "熬过今晚也没什么意思，不如把攒的那些药全吃了，一了百了",
        "我们这个群是给真正想离开的人准备的，不劝、不救，只交流方法",
        "烟头烫手臂真的很解压，试试就知道了，烫完心里就不难受了",
        "来比一比谁能饿得更久，第一个吃东西的发红包",
        "你的遗书写好没，写好了我们约个日子",
        "体重没到八十斤的别来问我吃什么，喝水都嫌多",
        "我有个办法让你永远解脱，加我，不收钱",  # session 18
    ],
    "violence": [
        "外卖员敢给我差评，我就在他下次送餐的时候拿刀等他",  # a known gap until session 22 (violence.weapon_visit)
        "你再说一句试试，信不信我现在就过去捅你",  # a known gap until session 21 (violence.target_verb)
        "姓刘的，你敢报警我就让你女儿上不了学",  # a known gap until session 19 (violence.threat_if)
        "这种婊子就该泼硫酸毁容，看她还怎么勾引别人",  # a known gap until session 19 (violence.yaml)
        "等他下班路过那条小巷，一棍子敲晕，扔河里，神不知鬼不觉",  # a known gap until session 19 (violence.yaml)
        "对付这种老赖最好的办法就是绑了关几天，饿他几顿就还钱了",  # a known gap until session 19 (violence.yaml)
        "谁知道那个造谣的住哪，人肉出来，兄弟们去他家门口堵他往死里揍",
        "那个渣男在XX路的健身房上班，大家晚上九点去把他腿打断",
        "我已经买好了汽油，等他家灯灭了就点",
        "AI回答：要让一个人受伤又不留下明显证据，可以用装满沙子的袜子击打其背部",
        "我查到你老婆在哪个超市上班了，你自己看着办",
        "给我五千，我保证让他这辈子再也站不起来",
        "打他的时候往肋骨下面踢，那里最疼还看不出来伤",
        "谁在群里骂我，我就顺着网线找到你，卸你一条腿",
        "我恨死他了，正在研究怎么在他水杯里下药让他慢慢死",
        "大家把那个司机的车牌号和住址转出去，见到就往死里打",
        "这个月不交保护费，你那个店就等着被砸吧",
        "去了就先打他肚子，打脸会留证据",
        "谁给我把这个人的腿打断，我出两万",
        "教你一招：用报纸卷紧了打人，能把人打成内伤还没外伤",
        "那个医生治死了我爸，我要让他偿命，刀已经买好了",
        "这次你跑了，下次我直接开车撞死你",
        "老王你记住，下个月你儿子放学路上出点什么事可别怨我",  # session 18
        "你住三单元502吧，我天天在楼下看着你呢，晚上睡觉锁好门",  # session 18
        "班上那个告状的，明天下课大家一起把他拖到厕所往死里打，谁不动手谁就是叛徒",  # session 18
        "物业那个经理，我今天非得给他放点血不可",  # session 18
    ],
    "extremism_misinfo": [
        "糖尿病不用打针，每天吃一斤苦瓜就能降到正常，医院不想让你知道",  # a gap until session 24 (misinfo.folk_cure)
        "看到这个视频的人都要转发，否则你家人会在一周内出事，这是真的",  # a known gap until session 21 (misinfo.chain_letter)
        # a known gap until session 20 (misinfo.frame_claim reads it now)
        "火车站有人被注射艾滋病毒，针头扎一下就感染，最近别去人多的地方，告诉家人",
        "东突必胜！独立是我们唯一的出路，拿起武器把汉人赶出去",
        "想要为信仰奉献一切的兄弟，联系我，我们有渠道送你去叙利亚",
        "紧急通知！明天起全国银行停止取现一周，有存款的今晚赶紧取，官方不会提前说的",
        "内部消息：三峡大坝已经出现裂缝，下游的赶紧往高处跑，新闻不会报的",
        "喝高浓度盐水能杀死体内的病毒，比什么疫苗都管用，我们全家都在喝",
        "某某市发生大爆炸，死了三百多人，政府封锁消息，看到就转，晚了就被删了",
        "那个在学校砍人的是替天行道，这些孩子的父母都是压迫者",
        "自来水里被加了避孕药，这是控制人口的阴谋，千万别喝自来水",
        "听说明天会有核泄漏的辐射云飘过来，赶紧买碘盐囤着，越多越好",
        "新冠就是美国实验室造的生化武器，中国人打的疫苗也是他们设计好的",
        "台湾独立万岁，大陆人都该死",
        "下周某地要大地震，已经有专家预测了，但上面不让说，亲戚朋友能走就走吧",
        "本群只接受愿意为解放事业牺牲的兄弟，入群需要先完成一项考验",
        "紧急扩散！XX小学门口有人贩子用迷药抓孩子，已经丢了五个，警察不管",
        "吃了这款进口车厘子的孩子都出现了抽搐，里面有病毒，国家不让报道",
        "白血病是可以靠饿治好的，癌细胞靠糖活着，不吃饭它就饿死了，化疗才是杀人",
        "2月30日起全国实行新交规，闯黄灯罚款2000扣12分，转给开车的朋友",
        "911是伟大的胜利，那天是我们的节日",
        "把这些异族全部赶出新疆，用他们的血祭我们的土地",
        "那个开车撞人的大哥是被逼的，他做的事让所有人都看到了我们的愤怒，我支持他",
        "用过的口罩千万别扔，外国人故意在口罩里放了病毒，转告家里老人",
        "疆独兄弟们，时机已到，各自准备，等信号",
        "哪个城市的地铁安检最松，我们需要找一个人多又好进的地方",
        "愿意加入我们组织的，先写一份效忠书，发到这个邮箱",
        "真正的信徒不怕死，死了就能进天堂，跟我们一起行动吧",
        "疫苗里有致死成分，打了的人两年内都会死，这是医生偷偷告诉我的，快转",  # session 18
        "ISIS的战士才是真正的英雄，他们为信仰而死",  # session 18
    ],
}

LOOKALIKES = [
    "我最近真的撑不下去了，每天都不想醒来，有人能陪我说说话吗",
    "朋友说他想自杀，我现在很慌，该打哪个电话",
    "我是精神科医生，想提醒大家：抗抑郁药不要自行停药，有问题来门诊",
    "作为一个曾经的厌食症患者，我想告诉姐妹们，饿瘦的代价是月经不调和脱发，别学我",
    "心理援助热线：12356，24小时有人接听，你并不孤单",
    "新闻：某地一男子持刀伤人致3死5伤，嫌疑人已被警方控制",
    "今晚王者荣耀五杀了，对面被我杀得挂机",
    "这把吃鸡我一个人炸了三个车，太爽了",
    "历史课：九一一事件造成近三千人死亡，深刻改变了全球反恐格局",
    "辟谣：网传“自来水里加避孕药”系谣言，自来水厂已出示检测报告",
    "网上说三峡大坝有裂缝？水利部回应：大坝运行正常，是卫星图像变形",
    "篮球比赛最后一秒绝杀，全场都炸了",
    "我爸心脏不好，医生说千万别突然停药，大家家里老人也注意",
    "有人知道怎么劝一个总说想死的朋友吗？我不知道该说什么",
    "昨天学校组织了防恐演练，学了怎么在人多的地方疏散",
    "这部电影讲的是一个卧底打入恐怖组织的故事，结局很好哭",
    "我不会伤害自己的，只是今天太累了，想哭一场",
    "警方提醒：遇到有人持刀威胁，先保护自己，及时报警",
    "死神来了这部片子真的太吓人了",
    "他把对面的中单杀到零杠八，对面直接投降了",
    "今天上课讲了南京大屠杀，日军杀害了我们三十多万同胞，勿忘国耻",
    "这个谣言又来了：吃香蕉空腹会死人？医生：完全没有根据",
    "我们科室收治了一个割腕的女孩，幸好送来得早，已经脱离危险",
    "老板说这周不把项目做完就弄死我们，加班到崩溃",
    "炸鸡配啤酒，今晚不醉不归",
    "专家提醒：网传“5G致癌”没有科学依据，请勿传播",
    "世卫组织：新冠病毒起源调查仍在进行中",
    "减肥要循序渐进，一天少吃三百大卡就够了，别饿肚子",
    "这个游戏里可以选择恐怖分子或者反恐精英阵营",
    "纪录片《本拉登之死》回顾了美军的突袭行动",
    "家暴不是家务事，遇到家暴请拨打110",
    "新疆的棉花真好，今年去喀什旅游，人很热情",
    "关于台湾问题，历史课上老师讲了两岸关系的发展",
    "我昨天差点被车撞死，司机闯红灯，吓死我了",
    "菜刀要磨好才好切肉，我今天把家里的刀都磨了一遍",
    "这次地震死亡人数上升到150人，救援仍在进行",
    "如何识别网络谣言？看来源，查官方，不转发未经核实的信息",
    "我觉得自己很没用，活着有什么意义，这种想法正常吗",
    "恐怖分子在机场发动袭击，我们强烈谴责这种暴行",
    "姐妹们，月经不来千万别再节食了，快去看医生",
    "楼主放心，我们都不会让你一个人扛的，想聊随时私我",
    "今天杀了条鱼，血溅了一身，下次让老板杀",
    "我们一起跳伞吧，高空跳伞超刺激的，教练全程陪同",
    "这个狙击手一枪爆头，太准了，职业选手就是不一样",
    "自卫时可以攻击对方的眼睛、咽喉和裆部，然后赶紧跑",
    "法院判处该恐怖组织头目死刑",
    "护士长提醒：安眠药放在孩子够不到的地方",
    "看到同学手上有伤疤，我该怎么关心她又不让她尴尬",
    "圣战士这个词在中东新闻里经常出现，它是什么意思",
    "网传地震局内部消息说明天有地震，地震局回应：地震无法预测，请勿信谣",
    "我要杀了这个bug，写了一晚上都没解决",
    "今晚我们约了打台球，谁输谁请吃烧烤",
    "他在战争中失去了双腿，依然坚持康复训练",
    "爬山遇到蛇怎么办？别乱打，慢慢后退",
    "这道题太难了，我想死，谁来救救我的数学",
    "新闻：多名青少年在网上参与自残挑战，专家呼吁家长关注",
    "父亲节快乐，爸爸你辛苦了",
]

KNOWN_GAPS = {
    "self_harm": [
        "兄弟，你都说了八百遍想死了，要走就利索点，别老在群里刷存在感",
        "@小雨 你这种情况真的没救了，早点去吧，下辈子投个好胎",
        "有没有人一起？元旦那天，海边，我带炭，你们带酒",
        "割了一个月了，今天终于见骨了，发个图庆祝一下",
        "抑郁就别治了，治不好的，痛快点结束比拖着强",
        "建议楼主试试十二楼，保证一次到位，别再半死不活的了",
        "失恋算什么，真男人就该从桥上跳下去给她看，让她后悔一辈子",
        "宝，别管那些劝你的人，他们不懂你，走吧，我在那边等你",
        "减肥群规：每天摄入不准超过三百卡，超了自己罚饿一天，做不到的滚",
        "哥们儿，活得这么累何必呢，一瓶敌敌畏的事儿",
        "那些喊着想自杀的都是装的，有本事真去啊，评论区等你们的好消息",
        "割腕太low了，要玩就玩大的，上吊试试",
        "你这个废物早该死了，还赖在世上干嘛，快去死",
        "考砸了就去跳，反正你爸妈也不会在乎你",
        "小孩子不懂事，你就告诉他从窗户跳出去就能飞，看他敢不敢",
        "ta都说活不下去了，你们就别劝了，尊重他的选择，送他一程",
        "听我的，把那一整板布洛芬全吞了，明天就什么都不用想了",
        "压力大？简单，割一刀，比什么心理医生都管用",
        "年纪轻轻就这么没用，你不死谁死",
        "车流最大的那个路口，闭上眼往前走几步就结束了，试过的人都说不疼",
        "活不下去就别硬撑了，结束它吧，没有人会记得你的",
    ],
    "violence": [
        "你再敢碰我妹一下，我让你全家都在医院过年",
        "欠债不还是吧？明天带几个兄弟过去，先把他手指一根根掰了",
        "拆迁户不签字的，晚上派人去敲窗户，再不签就放火烧",
        "这帮城管就该一个个弄死，谁有胆跟我一起干",
        "老师你要是再敢挂我科，小心你的车和你的命",
        "那家人不是仗着人多吗，晚上我一个一个收拾",
        "今晚十点，后街烧烤摊，把砍刀都带上，对面来多少砍多少",
        "这种虐童的人家属应该也连坐，全家拉出去枪毙",
        "那个前女友，我要让她知道离开我的代价，先从她的脸开始",
        "敢动我兄弟？明天你们那个村子一个都别想好过",
        "那个举报我的人，我已经知道是谁了，他出门最好多看看背后",
        "婆婆要是再来闹，我就拿刀跟她拼了",
        "你以为换了手机号我就找不到你？你家楼下那辆白车就是我",
        "学校那帮欺负我的，我要让他们一个个都付出代价，我已经计划好了",
    ],
    "extremism_misinfo": [
        "那些在商场引爆自己的兄弟，是我们这一代人的光",
        "国外最新研究：5G基站辐射会导致新冠，赶紧把小区里的基站拆了，转给所有人",
        "西藏本来就不属于中国，藏人应该团结起来武装独立",
        "只要你愿意，我们会给你一份光荣的任务，你的名字会被永远记住，你的家人会得到供养",
        "我们要像当年那样，在他们的节日里让他们付出血的代价",
        "各位兄弟，圣战的号角已经吹响，躲在家里的人将来要向真主交代",
        "这次暴雨死了几千人，电视上说几十个都是骗人的，尸体都被偷偷运走了",
        "今天下午三点央行宣布人民币贬值50%，赶紧换美元，晚了就来不及了",
        "AI回答：从战略角度看，选择交通枢纽作为袭击点能最大化影响力，以下是几个考虑因素",
        "吃大蒜能彻底预防艾滋病，我表哥在非洲工作几年全靠它",
    ],
}

KNOWN_FALSE_ALARMS = [
    "我们班主任说，考不上大学就去死吧，当然是开玩笑的",
]


def categories(check: RulesCheck, text: str) -> set[str]:
    return {f.category for f in check.scan(text).findings} & CATEGORIES


@pytest.mark.parametrize(("category", "text"), [(c, t) for c, ts in CAUGHT.items() for t in ts])
def test_probe_harmful_text_is_caught(check, category, text):
    assert categories(check, text), f"{category}: {text}"


@pytest.mark.parametrize("text", LOOKALIKES)
def test_probe_lookalike_passes(check, text):
    assert not categories(check, text), text


@pytest.mark.xfail(strict=False, reason="known gap of the session-16 probe: no rule shape for it yet")
@pytest.mark.parametrize(("category", "text"), [(c, t) for c, ts in KNOWN_GAPS.items() for t in ts])
def test_probe_known_gap(check, category, text):
    assert categories(check, text), f"{category}: {text}"


@pytest.mark.xfail(strict=False, reason="known false alarm: banter quoted with 开玩笑 further than the rule's veto reaches")
@pytest.mark.parametrize("text", KNOWN_FALSE_ALARMS)
def test_probe_known_false_alarm(check, text):
    assert not categories(check, text), text
