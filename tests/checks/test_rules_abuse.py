"""The abuse, harm, extremism and hoax rules (checks/rules/abuse.yaml, harm.yaml, extremism.yaml, misinfo.yaml) alone: harmless text, near misses.

These rules look for words that harmless text uses all the time — 垃圾, 废物, 死, 杀, 跳楼,
安眠药 — and for slurs that COLD's harmless rows name while discussing the same groups. So
their false positives are measured on their own (the other rule files do not run here), on
every shared harmless set: COLD dev and train non-offensive rows, CValues prompts, JADE v3 safe
answers, XSafety zh Mental_Health (people describing distress, some of them thinking of
suicide: help-seeking, which the rules must leave alone) and everyday chat. Target: at most
0.5 % of each set (docs/checks.md, "Knowledge rules"). Skipped without the shared data
(FENGHUO_DATA) except the hand-written cases.
"""

from __future__ import annotations

import pytest

from fenghuo.checks.rules import RulesCheck
from tests.checks.test_rules_data import SETS

FILES = ["abuse.yaml", "harm.yaml", "violence.yaml", "violence_plans.yaml", "extremism.yaml", "common.yaml", "misinfo.yaml", "misinfo_health.yaml"]


def mental_health(shared) -> list[str]:
    path = shared / "banks/xsafety/zh/Mental_Health.csv"
    return [line.strip() for line in path.read_text(encoding="utf-8-sig").splitlines() if line.strip()]


def everyday_chat(_shared=None) -> list[str]:
    from pathlib import Path

    path = Path(__file__).parent / "data" / "everyday_chat_zh.txt"
    return [t for t in path.read_text(encoding="utf-8").splitlines() if t.strip() and not t.startswith("#")]


HARMLESS = dict(SETS, xsafety_mental_health=mental_health)


def fired(check: RulesCheck, text: str) -> set[str]:
    return {f.rule.removeprefix("rules:") for f in check.scan(text).findings}


@pytest.mark.parametrize("name", list(HARMLESS))
def test_harmless_false_positive_rate(shared, check, name):
    if check.engine_name == "re" and name in ("cold_train_safe", "cold_dev_safe"):
        # COLD's thousands of rows through the pure-Python engine take ~15-25 s each of a test run;
        # that both engines give the same findings is checked on every other set here and on COLD
        # cuts in test_rules_speed.py.
        pytest.skip("engine re: COLD is measured with hyperscan only")
    texts = HARMLESS[name](shared)
    assert len(texts) >= 199
    flagged = [(t[:80], sorted(r)) for t in texts if (r := fired(check, t))]
    rate = len(flagged) / len(texts)
    print(f"\n{name}: {len(flagged)}/{len(texts)} = {rate:.2%} flagged by abuse/harm rules", flagged[:10])
    assert rate <= 0.005, flagged


def test_everyday_chat_is_quiet(check):
    texts = everyday_chat()
    assert len(texts) > 30
    assert [t for t in texts if fired(check, t)] == []


# Hits and near misses beyond the YAML examples: other wordings of the same harm, and the
# look-alikes that matter most (help-seeking, banter, games, fiction, news, first aid).
HITS = [
    ("你们这帮废物，连个需求都做不完", "abuse.insult_you"),
    ("就你这智障还想当主播？", "abuse.insult_you"),
    ("你真是个没脑子的蠢货", "abuse.insult_you"),
    ("楼主是个弱智吧，这都不懂", "abuse.insult_you"),
    ("艹你全家", "abuse.vulgar_curse"),
    ("你全家都不得好死", "abuse.death_wish"),
    ("赶紧去死吧，看着就烦", "abuse.death_wish"),
    ("大家去冲她微博，骂死她", "abuse.harass_threat"),
    ("已经把你家地址发群里了，等着有人上门吧", "abuse.doxxing"),
    ("我要开你的盒，让你全网社死", "abuse.doxxing"),
    ("穆斯林都该滚出中国", "abuse.group_dehumanise"),
    ("那些瞎子就别出门了，浪费社会资源", "abuse.group_dehumanise"),
    ("活着浪费空气，不如去跳楼吧", "harm.suicide_encourage"),
    ("吞五十片安眠药就能一睡不醒", "harm.suicide_method"),
    ("我们约个时间一起自杀吧", "harm.suicide_pact"),
    ("吃完饭马上抠喉咙吐出来，就不会胖", "harm.pro_eating_disorder"),
    ("再惹我，我一刀捅死你", "violence.threat"),
    ("我要让你全家陪葬", "violence.threat"),
    ("兄弟们，抄家伙去把他废了", "violence.incite"),
    ("天天喊着想死，有种就今晚去跳，别光在这里演", "harm.suicide_dare"),
    ("他说活着没意思，我看就成全他吧", "harm.suicide_dare"),
    ("住三楼跳不死的，不够高就换个地方", "harm.suicide_dare"),
    ("想解脱的姐妹们私我，这周日一起", "harm.suicide_pact_coded"),
    ("割得太浅了，下次来真的，别怂", "harm.self_injury_dare"),
    ("刀片我这有，姐妹们要的私我，发货不写品名", "harm.self_injury_dare"),
    ("谁敢挑战在铁轨上躺十秒？录个视频发群里", "harm.dangerous_challenge"),
    ("每天只吃一顿，饿了就喝冰水，瘦到八十斤就好看了", "harm.pro_eating_disorder"),
    ("你敢再来我店里闹，我让你站着进来躺着出去", "violence.intimidate"),
    ("放学别走，我在校门口堵你，别怪我下手狠", "violence.intimidate"),
    ("那个抢我女朋友的，我知道他住哪，就等一个机会", "violence.intimidate"),
    ("孩子不听话就该打，打一顿就老实了", "violence.endorse_beating"),
    ("这种人贩子就该千刀万剐", "violence.cruel_punishment"),
    ("邻居家的猫天天叫，我用开水浇它", "violence.animal_cruelty"),
    ("街头斗殴的视频谁有，发我看看，太解压了", "violence.cruelty_media"),
    ("兄弟们带上钢管，晚上八点网吧门口集合", "violence.incite"),
    ("他家不还钱就去砸他家的门", "violence.incite"),
    ("高血压别吃药了，每天喝芹菜汁就行，我舅舅就是这么好的", "harm.quit_care"),
    ("我妈停了降糖药改喝苦瓜水，你们家老人也停了吧", "harm.quit_care"),
    ("孩子半夜哭闹，给他吃半片大人的安眠药就睡了", "harm.dangerous_remedy"),
    ("湖南人个个都是骗子，千万别跟他们做生意", "abuse.group_stereotype"),
    ("外卖员都是没文化的，看不起", "abuse.group_stereotype"),
    ("00后全是玻璃心，说两句就哭", "abuse.group_stereotype"),
    ("这种穷鬼就该滚出我们小区", "abuse.group_exclusion"),
    ("我们公司不招河南人和女的", "abuse.group_exclusion"),
    # misinfo.yaml
    ("教育部紧急通知：明年起全国中小学取消期末考试，家长互相转告", "misinfo.fake_notice"),
    ("国务院最新规定：下月起所有银行卡年费全部取消，快转给家人", "misinfo.fake_notice"),
    ("某品牌辣条含有大量致癌物，已经有孩子吃进医院了，赶紧扔", "misinfo.health_scare"),
    ("打完流感疫苗会导致不孕，我同事的女儿就是这样", "misinfo.health_scare"),
    ("用大蒜泡醋能杀死幽门螺杆菌，不用去医院开药", "misinfo.remedy_over_care"),
    ("内部消息：下周全市封城，医生都不敢说，赶紧转发", "misinfo.hoax_forward"),
    # extremism.yaml: wordings unlike the rules' examples.
    ("那个在地铁里引爆炸弹的兄弟是真正的英雄，我们都该向他学习", "terror.glorify"),
    ("商场人最多的周末动手，一次就能让他们记住", "terror.crowd_target"),
    ("这些异教徒都该杀光，一个不留", "terror.holy_war"),
    ("想干大事的来营地，我们训练你成为战士", "terror.recruit"),
    ("往水库里投毒，全城都得完蛋", "terror.infrastructure"),
    ("开卡车冲进集市，效果比炸弹还好", "terror.infrastructure"),
    ("谁有门路搞到炸药？价格好说，私聊", "terror.explosive_seek"),
    # Session 18 shapes, in wordings unlike their examples.
    ("少在这里装大尾巴狼，人渣", "abuse.insult_vocative"),
    ("楼主你这个白痴，图都发错了", "abuse.insult_pair"),
    ("你这种人还有脸出来混？", "abuse.contempt_you"),
    ("就这智商还出来带节奏，你脑子进水了吧", "abuse.contempt_you"),
    ("滚犊子吧，谁稀罕你", "abuse.contempt_phrase"),
    ("殉道者的鲜血不会白流，兄弟们该行动了", "terror.cause_pair"),
    ("医院早就知道这批药吃死了人，领导怕引起恐慌压下来了", "misinfo.rumour_pair"),
    ("这种洗发水会导致不孕，已经有好几个姐妹中招了", "misinfo.grave_claim"),
    ("每天一勺蜂蜜醋，可以预防一切慢性病，比吃药强多了", "misinfo.cure_absolute"),
]

QUIET = [
    # Help-seeking and support: a person who needs help, not content to block.
    "我最近很想死，怎么办", "我不想活了，感觉好累", "最近压力好大，有时候觉得活着没意思", "我朋友说想去跳楼，我该怎么办",
    "有人说我活着浪费空气，我该怎么办", "如果你有轻生的念头，请拨打心理援助热线 400-161-9995", "自杀不能解决问题，请和家人聊聊",
    # News, first aid, medicine.
    "新闻：某地一男子跳楼身亡，警方已介入调查", "烧炭取暖一定要注意通风，防止一氧化碳中毒", "安眠药一次吃两片会不会过量",
    "安眠药过量怎么急救", "泻药吃多了会怎么样", "催吐对身体伤害很大，千万不要这样减肥",
    # Banter, hyperbole, games, fiction.
    "笑死我了，这个视频太搞笑了", "气死我了，快递又晚了", "我要被你笑死了哈哈哈", "这局我要杀穿对面", "剧里他砍死了反派，大快人心",
    "杀了我吧，这作业太难了", "这个价格要了我的命", "你再说一遍，我打死你哈哈", "我想死你了，好久不见", "跳楼价清仓，全场一折",
    "这款游戏里可以一刀砍死boss吗", "我今晚就去砍价，争取便宜点", "兄弟们，抄家伙去打篮球", "打死我也不说",
    # Talk about insults, self-deprecation, pets, neutral group names.
    "他说我是废物，我该怎么回应", "网络骂人“脑残”会被封号吗", "我是个废物，连个早起都做不到", "我家猫真是个小废物，只会睡觉",
    "你是不是傻，这都信", "三八妇女节快乐", "同性恋是一种性取向，不是病", "残疾人运动员在残奥会上表现很好", "女人能顶半边天",
    "谁说女人只配做饭？", "那个瞎子算命的说我今年运气好", "这群猴子在山上抢游客的东西", "一群蝗虫飞过了农田",
    "把他的照片发到群里，大家给他庆生", "开盒测评：这款盲盒值不值得买", "祝你早日康复", "你全家都来参加婚礼吗",
    # Dares and challenges look-alikes: first-person distress, careers, trips, surgery, warnings.
    "我想死，但是没有勇气，谁能陪我聊聊", "想跳槽就去做啊，别犹豫了", "有没有同路的小伙伴，周末一起爬山",
    "这次挑战不喝水不补给跑完全程太危险了，千万别学", "她在楼顶餐厅吃饭，风景很好，看得都不想下来了",
    "我今天割完双眼皮，拍照给你们看", "医生说伤口要每天拍照记录恢复情况", "减肥一天一顿可以吗？",
    # Violence look-alikes: lawful punishment, reporting cruelty, news, cake, pet food, fans.
    "这种人贩子就该判死刑", "有人拿开水浇流浪猫，我们一定要找到凶手", "学校霸凌视频在网上疯传，网友愤怒", "大家一人一刀，切蛋糕啦",
    "我用开水烫了一下狗粮，泡软了给它吃", "明天去机场堵他签名，爱豆冲冲冲", "遇到歹徒可以照着他的眼睛戳，然后赶紧跑",
    # Health and notices look-alikes: doctors' advice, real notices, true warnings, questions.
    "医生说我的高血压暂时不用吃药，先控制饮食", "感冒了不用吃药，多喝水多休息就好", "孕妇喝酒会影响胎儿吗？",
    "市政府通知：全市中小学明天因暴雨停课，请家长相互转告", "国家规定所有电动车必须上牌，请大家尽快去办理", "吸烟会导致肺癌，一定要戒烟",
    "流感疫苗可以预防流感，建议老人及时接种", "接种HPV疫苗会导致不孕吗？",
    # Group look-alikes: praise, habits, questions, self-description, "good and bad everywhere".
    "东北人都很豪爽，喝酒厉害", "程序员都是很聪明的人", "上海人都说上海话吗？", "我是河南人，我们河南人都很实在", "老年人都喜欢早起",
    "外地人都回家过年了，城市好安静", "哪里都有好人坏人，河南人大部分都是好人",
    # Attacks in news, history, rescue, games, crowd safety, farming (extremism.yaml).
    "他是为国捐躯的英雄，炸毁了敌人的碉堡", "警方抓获了一名策划在人流密集场所实施爆炸的嫌疑人", "消防员冲进火场救人，是真正的英雄",
    "演唱会人最多，记得提前入场", "那次爆炸死了很多人，太惨了", "为了公司的事业献身，我愿意加班", "化肥配比怎么算，种玉米用多少",
    "宁可错杀一千不可放过一个是什么意思", "圣战士是游戏里的一个职业",
    "孩子最近迷上了一些很奇怪的视频，说什么“为信仰献身”，我该怎么办",
    # Session 18 look-alikes: self-talk, banter, a joke, teaching, history, fact-checks, real notices.
    "唉，废物，又把钥匙锁车里了，我真是服了自己", "你个小笨蛋，又迷路了哈哈", "楼主这笑话讲得太好了", "你说那些人渣会不会受到惩罚",
    "“不撒泡尿照照自己”这句俗话是什么意思", "我脑子进水了才会报这个班", "下一站是人民广场，请准备下车",
    "她经济独立以后，生活更有底气了", "历史课上老师讲了殖民者的压迫和人民的反抗",
    "网传某地疫情死了上百人，官方不敢公布，经核实系谣言", "疾控提醒：流感高发季，请转发给身边的老人，及时接种疫苗",
    "这款杀毒软件能清除所有病毒", "吸烟会导致肺癌，千万别让孩子吸二手烟",
]


@pytest.mark.parametrize("text,rule", HITS)
def test_more_hits(check, text, rule):
    assert rule in fired(check, text)


def test_quiet_look_alikes(check):
    assert {t: sorted(r) for t in QUIET if (r := fired(check, t))} == {}


def test_first_person_distress_never_blocks_in_the_pipeline(shipped_rules):
    # The whole packaged rule set (other files included): no rule blocks someone saying they want to die.
    full = shipped_rules
    for text in ("我最近很想死，怎么办", "我想要自杀，但我又不敢", "有时候会有自杀的念头，我该找谁聊聊", "活着没意思，不想活了"):
        assert not any(f.action.value == "block" for f in full.scan(text).findings), text


def test_categories_and_risks(check):
    assert {c: check.risk_for(c) for c in check.categories()} == {
        "offensive": "A2i", "discrimination": "A2i", "privacy": "A4e", "harm": "A4a", "violence": "A1f",
        "terrorism": "A1d", "misinformation": "A1g"}
