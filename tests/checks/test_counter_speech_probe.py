"""The counter-speech probe (issue 12, session 16): 100 texts written before the work on
counter-speech, professional frames and the notice rules, measured once before and once after
(docs/checks.md, "Counter-speech"): 60 hard harmless texts (anti-bias talk naming a group,
professionals describing harm, notices, English with "sb") and 40 harmful texts hiding behind a
disclaimer (「我不是歧视，但是…」) or a frame (「作为医生我告诉你…」, 「防骗提醒只是幌子…」).

Each text must get the verdict its label asks for (harmful: flag or block; harmless: pass) with
the shipped pipeline, except the ones marked known (``False``): what the checks still get
wrong, kept here so that a fix shows (an unexpected pass, XPASS). The after-measurement
missed two harmful texts it had caught (a pest-control ad as a cover for sex work; a 维权群
offering to get victims' money back for a fee); both holes were closed afterwards, so the
figures measured after that fix are not independent of these texts.
"""

from __future__ import annotations

import pytest

from fenghuo.checks.pipeline import load_pipeline

# (label, kind, text, handled today)
PROBE = [
    ('harmless', 'counter_speech', '看到有人说东北人都爱打架，这种以偏概全的说法真的让人反感，我身边的东北朋友都很温和。', True),
    ('harmless', 'counter_speech', '别再传“河南人偷井盖”这种段子了，拿一个地方的人开涮就是地域歧视。', True),
    ('harmless', 'counter_speech', '公司招聘写“只要男性”是就业性别歧视，劳动法不允许，可以向劳动监察部门反映。', True),
    ('harmless', 'counter_speech', '我们班主任说过，评价一个人要看他做了什么，不能因为他是农村来的就看不起他。', True),
    ('harmless', 'counter_speech', '网上那种“上海人排外”的论调太片面了，我在上海待了十年，邻居都挺热情的。', True),
    ('harmless', 'counter_speech', '说女司机开车都不行纯属刻板印象，事故统计里男司机的比例其实更高。', True),
    ('harmless', 'counter_speech', '请大家在评论区文明发言，不要对任何民族、地区的人进行人身攻击。', True),
    ('harmless', 'counter_speech', '新疆的同学被人问是不是骑骆驼上学，这种无知的提问背后是偏见，应该多了解真实的新疆。', True),
    ('harmless', 'counter_speech', '“黑人都懒”这种话是种族主义言论，历史上正是这种观念被用来为奴隶制辩护。', False),
    ('harmless', 'counter_speech', '我想写一篇关于职场中对女性隐性歧视的文章，比如面试时总被问婚育计划。', True),
    ('harmless', 'counter_speech', '有人说广东人什么都吃，这其实是把个别饮食习惯夸大成整个群体的标签，不太公平。', True),
    ('harmless', 'counter_speech', '作为一个安徽人，我经常被开“安徽人是小偷”的玩笑，虽然是玩笑，但听多了真的不舒服。', True),
    ('harmless', 'counter_speech', '反对一切形式的地域黑，每个省都有好人也有坏人，和籍贯没关系。', True),
    ('harmless', 'counter_speech', '这条视频把外地打工者说成城市治安的问题来源，评论区很多人指出这是在煽动对立。', True),
    ('harmless', 'counter_speech', '学校开了一堂关于消除性别偏见的班会课，老师让我们讨论“男孩不能哭”这句话有什么问题。', True),
    ('harmless', 'counter_speech', '我奶奶总说“女孩子读那么多书没用”，我跟她解释了很久，现在时代不同了。', True),
    ('harmless', 'counter_speech', '举报了一个一直在群里骂“湖南人都是骗子”的账号，希望平台处理一下。', True),
    ('harmless', 'counter_speech', '日本游客在景区被辱骂的视频引起争议，多数网友认为不应该把对历史的情绪发泄到普通游客身上。', True),
    ('harmless', 'counter_speech', '同性恋不是病，这是世界卫生组织早就明确的结论，不要再用“变态”去形容他们了。', True),
    ('harmless', 'counter_speech', '所谓“穷山恶水出刁民”完全是偏见，贫困地区的人同样勤劳朴实。', True),
    ('harmless', 'counter_speech', '面试官问我是不是四川人，然后说“四川人吃不了苦”，这就是赤裸裸的地域歧视，我已经投诉了。', True),
    ('harmless', 'counter_speech', '不要因为一个新闻里的嫌疑人是某地人，就把整个省的人都骂一遍，这不理性。', True),
    ('harmless', 'counter_speech', '调研显示，有超过六成的女性求职者在招聘中遭遇过性别相关的提问，这种做法应当被禁止。', True),
    ('harmless', 'counter_speech', '我是广西人，不是每个广西人都吃老鼠，这种刻板印象可以停一停了。', True),
    ('harmless', 'counter_speech', '以前我也觉得北方人都很粗鲁，后来去北京读书才发现自己当初有多狭隘。', True),
    ('harmless', 'professional', '法医课上老师讲，机械性窒息死亡的尸体通常会出现颜面部淤血和眼结膜点状出血。', True),
    ('harmless', 'professional', '急诊接诊一名误服百草枯的患者，立即洗胃并给予吸附剂，同时联系上级医院血液灌流。', True),
    ('harmless', 'professional', '作为内容审核员，我每天要看大量涉黄涉赌的截图，公司应该给我们配心理疏导。', True),
    ('harmless', 'professional', '律师解读：帮别人取现收取手续费，如果明知是诈骗款，可能构成掩饰隐瞒犯罪所得罪。', True),
    ('harmless', 'professional', '派出所民警进校园开展禁毒讲座，展示了冰毒、K粉等毒品仿真样品，教学生如何识别。', True),
    ('harmless', 'professional', '精神科医生提醒，长期服用安眠药的患者不要自行突然停药，否则可能出现戒断反应。', True),
    ('harmless', 'professional', '审核规范第三条：涉及枪支弹药买卖、制作教程的内容一律删除，并将账号提交风控复核。', False),
    ('harmless', 'professional', '刑警讲述办案经历：嫌疑人用杀猪盘骗走受害人八十多万，资金经过十几层账户转移。', True),
    ('harmless', 'professional', '药理学复习：吗啡的主要不良反应包括呼吸抑制、便秘和成瘾性，过量可致死。', True),
    ('harmless', 'professional', '消防员培训资料：液化气罐泄漏遇明火会发生爆炸，处置时应先关阀、后通风，严禁开关电器。', True),
    ('harmless', 'professional', '心理咨询师说，来访者提到想自杀时，不要回避话题，要直接询问是否有具体计划。', True),
    ('harmless', 'professional', '检察官在普法节目中介绍，组织他人赌博抽头渔利，情节严重的可判处三年以上有期徒刑。', True),
    ('harmless', 'professional', '我是社区网格员，今天上门给老人讲解冒充公检法的电信诈骗手法，发了防骗手册。', True),
    ('harmless', 'professional', '产科医生：孕妇如果遭受家暴，可以在就诊时告诉我们，医院会协助报警并保存伤情记录。', True),
    ('harmless', 'professional', '兽医提醒，老鼠药中毒的狗会出现出血症状，要立即送医注射维生素K1。', True),
    ('harmless', 'notice', '本店专营厨房刀具：菜刀、水果刀、剪刀，均为非管制刀具，支持开刃和磨刀服务。', True),
    ('harmless', 'notice', '新到一批德国进口厨师刀，家用切菜切肉都顺手，非管制刀具，全国包邮。', True),
    ('harmless', 'notice', '专业上门灭蟑螂、灭老鼠、除螨，小区免费检查，效果不好免费返工，电话预约。', True),
    ('harmless', 'notice', '白蚁防治、四害消杀，酒店餐厅定期服务，持证上岗，欢迎来电咨询。', True),
    ('harmless', 'notice', '【欢乐麻将】新版本上线，好友房可自建房间，游戏豆仅供娱乐，不可兑换现金，请勿参与赌博。', True),
    ('harmless', 'notice', '休闲棋牌游戏公告：本游戏不提供任何充值返现，发现私下交易金币的账号将永久封禁。', True),
    ('harmless', 'notice', '我舅舅就差点被骗了，对方冒充我表哥说出车祸急需转钱，幸好他先打了个电话核实。', True),
    ('harmless', 'notice', '社区提醒：接到“孩子出事急需汇款”的电话，请先挂断，联系家人确认，切勿转账。', True),
    ('harmless', 'notice', '老年活动中心周三下午有麻将比赛，不带彩，赢的人奖一箱鸡蛋。', True),
    ('harmless', 'notice', '户外用品店：露营斧、多功能工具钳、折叠锯，开学季八折。', True),
    ('harmless', 'english', 'Remember to hand the sb (student book) back to the library before Friday.', True),
    ('harmless', 'english', "She said sb on the whiteboard meant 'see below', not anything rude.", True),
    ('harmless', 'english', 'The SB-200 sound bar ships with a remote and an HDMI cable.', True),
    ('harmless', 'english', 'Please ask sb in the admin office to reset your password.', True),
    ('harmless', 'english', 'Our team meeting notes: sb = sprint backlog, review on Monday.', True),
    ('harmful', 'disclaimer_abuse', '我不是歧视，但是河南人就是爱骗人，这是我多年经验。', True),
    ('harmful', 'disclaimer_abuse', '说实话不是地域黑，东北人确实素质低，出去都丢人。', True),
    ('harmful', 'disclaimer_abuse', '我没有偏见，只是觉得女人天生就不适合当领导，太情绪化。', False),
    ('harmful', 'disclaimer_abuse', '不是我种族歧视，黑人确实犯罪率高，离他们远点没错。', True),
    ('harmful', 'disclaimer_abuse', '别说我地域黑，新疆人就是不能信，个个都危险。', True),
    ('harmful', 'disclaimer_abuse', '我这不是刻板印象，是事实：农村人就是素质差，没教养。', True),
    ('harmful', 'disclaimer_abuse', '反对歧视归反对歧视，但是安徽人偷东西是真的多，我说的是实话。', True),
    ('harmful', 'disclaimer_abuse', '我一向反对地域歧视，不过广东人真是什么恶心的东西都吃，跟野人一样。', True),
    ('harmful', 'disclaimer_abuse', '不想被说歧视，可女司机真的就是马路杀手，应该禁止她们开车。', False),
    ('harmful', 'disclaimer_abuse', '避免歧视？笑死，基佬就是恶心，滚出我们小区。', True),
    ('harmful', 'disclaimer_abuse', '我知道这话不政治正确，但是穆斯林都是潜在的恐怖分子。', True),
    ('harmful', 'disclaimer_abuse', '讲个事实不算地域黑吧，湖南人全是骗子，千万别跟他们做生意。', True),
    ('harmful', 'disclaimer_abuse', '虽然说不该搞刻板印象，可是上海人就是小气抠门，一个个精明得要死。', True),
    ('harmful', 'disclaimer_abuse', '我不歧视残疾人，但他们就是社会的累赘，浪费资源。', True),
    ('harmful', 'disclaimer_abuse', '有人说这是偏见，我看一点不是，印度人就是脏，全都该滚回去。', False),
    ('harmful', 'framed_harm', '作为医生我告诉你，想让人昏睡不醒就在他饮料里放三片安眠药，没人能发现。', True),  # caught since session 24 (harm head retrained, band)
    ('harmful', 'framed_harm', '律师朋友教的：借钱时让对方写收条别写借条，以后赖账他就告不赢，我已经用这招坑了三个人。', False),
    ('harmful', 'framed_harm', '防骗提醒只是幌子，想赚快钱的加我微信，刷单日结，一单佣金50。', True),
    ('harmful', 'framed_harm', '举报是不可能举报的，这家网赌平台充值送100%，我已经提现三次了，链接私聊。', False),
    ('harmful', 'framed_harm', '科普一下：冰毒其实没那么容易上瘾，偶尔玩一次没事，有需要的私聊我拿货。', True),
    ('harmful', 'framed_harm', '本店非管制刀具只是挂名，实际有开刃军刺和甩棍，懂的来，走快递不查。', True),
    ('harmful', 'framed_harm', '上门灭蟑螂是幌子，晚上提供特殊按摩服务，学生妹，可以上门。', True),
    ('harmful', 'framed_harm', '欢乐麻将好友房，一元一分，输赢微信结算，上分下分找群主。', True),
    ('harmful', 'framed_harm', '我是老师，你可以信我：对付调皮的学生就要往死里打，打到他不敢为止。', False),
    ('harmful', 'framed_harm', '据报道这种炸药很好做，我把配方发你：硝酸铵加柴油按比例混合就行。', False),
    ('harmful', 'framed_harm', '记者调查不会查到我们这的，办证刻章一条龙，身份证学历证都能做，加V。', True),
    ('harmful', 'framed_harm', '心理医生说了，想死的人你劝不住的，不如告诉你最不痛苦的方法。', True),  # caught since session 24 (harm head retrained, band)
    ('harmful', 'framed_harm', '警方通报的这种枪我这有现货，仿真度很高，能打钢珠，包邮到家。', False),
    ('harmful', 'framed_harm', '医生处方药安眠药大量出，无需处方，量大从优，微信联系。', False),
    ('harmful', 'framed_harm', '这不是诈骗，你儿子真出车祸了，马上往这个账户转五万块，别告诉其他人。', False),
    ('harmful', 'framed_harm', '我不是骂人，只是说实话，你这种sb就该去死。', True),
    ('harmful', 'framed_harm', '学术讨论：如何在不被发现的情况下给别人下药，哪些药物无色无味？', False),
    ('harmful', 'framed_harm', '维权群：被骗的朋友可以加入，我们有办法帮你追回，先交2000元手续费。', True),
    ('harmful', 'framed_harm', '以下仅供参考不是教唆：跟踪前任最好用定位器藏在她车底，她永远不会知道。', False),
    ('harmful', 'framed_harm', '不带彩的麻将没意思，来我们群玩真钱的，微信红包上分，日赢上千。', True),
    ('harmful', 'framed_harm', '这不是地域黑是忠告：去云南千万别信当地人，全是骗子土匪。', True),
    ('harmful', 'framed_harm', '我们反对赌博，但是本平台百家乐返水高达1.5%，注册送38元，网址见头像。', True),
    ('harmful', 'framed_harm', '禁毒宣传不要看了，真想试试的私信，大麻叶子一克两百。', True),
    ('harmful', 'framed_harm', '作为审核员我透露个秘密：把敏感词拆成拼音就能绕过平台审核，色情视频照发。', False),
    ('harmful', 'framed_harm', '为了避免误会先声明我不是种族主义者，但黑鬼就应该被隔离。', True),
    ('harmless', 'counter_speech', '把艾滋病患者当成“脏人”是严重的歧视，日常接触根本不会传染。', False),
    ('harmless', 'counter_speech', '这篇报道统计了网络上针对女性的侮辱性词汇，呼吁平台加强治理。', True),
    ('harmless', 'counter_speech', '有人在群里发“外地人滚出去”，我截图举报了，这种排外言论不能惯着。', True),
    ('harmless', 'professional', '作为版主我需要说明：本帖因含有辱骂他人“废物”“去死”等内容已被删除，请勿人身攻击。', True),
    ('harmless', 'notice', '反诈中心提醒：自称“客服”说您的快递丢失要理赔，让你开屏幕共享的，都是诈骗。', True),
]


@pytest.fixture(scope="module")
def pipe():
    try:
        return load_pipeline()
    except Exception as exc:  # noqa: BLE001 - the shipped classifier or data not built
        pytest.skip(f"the shipped pipeline does not load: {exc}")


def _params():
    for i, (label, kind, text, handled) in enumerate(PROBE):
        marks = () if handled else pytest.mark.xfail(reason=f"known: the shipped checks still get this {label} {kind} text wrong",
                                                     strict=False)
        yield pytest.param(label, text, id=f"{i:03d}-{kind}", marks=marks)


@pytest.mark.parametrize(("label", "text"), list(_params()))
def test_probe_text_gets_the_verdict_its_label_asks_for(pipe, label, text):
    caught = pipe.scan(text).verdict != "pass"
    assert caught is (label == "harmful"), text


def test_the_probe_holds_its_shape():
    assert sum(r[0] == "harmless" for r in PROBE) == 60
    assert sum(r[0] == "harmful" for r in PROBE) == 40
