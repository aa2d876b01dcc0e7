"""The cues that say a sentence speaks *about* a harm rather than doing it, as regular expressions.

A warning, a report, a question about the law, a victim, a refusal (``FRAMING``); the ones of
those that also demote a block (``DEMOTING``, with a victim's own account, ``VICTIM``); a
professional's talk (``PROFESSIONAL``); an enforcement or court account (``ACCOUNT``); and the
vetoes: evading (``EVADING``), asking for or offering the harm (``REQUESTING``), getting past the
police or revenge (``DODGING``). Where each cue frames and what a frame does are in ``frames.py``
and ``corroborate.py``; why each list holds what it holds is in the comments beside it. Split out
of corroborate.py (session 19) when it passed 500 lines: the lists change often, the logic
rarely.
"""

from __future__ import annotations

import re

from fenghuo.checks.rules_pattern import split_branches


def _literal_start(branch: str) -> bool:
    """Whether ``branch`` starts with one plain character that nothing repeats or makes optional."""
    return (len(branch) >= 1 and branch[0] not in "\\.^$*+?{}[]()|"
            and (len(branch) == 1 or branch[1] not in "*+?{"))


def by_first(pattern: str) -> re.Pattern:
    """``pattern`` compiled with its top-level alternatives grouped by their first character:
    ``患者|临床|不会…|不会…`` as ``患(?:者)|临(?:床)|不(?:会…|会…)``, each group's alternatives in
    their order. The same matches: at a position only the alternatives starting with its
    character can match, and among them the first that matches wins, as before. Where the text
    holds a first character that many alternatives share (不, 是, 有), ``re`` used to try each of
    them in turn (~0.25 µs a place for PROFESSIONAL); now one group. Every alternative must start
    with a plain character (else the pattern is compiled as it is)."""
    branches = split_branches(pattern)
    if not all(_literal_start(b) for b in branches):
        return re.compile(pattern)
    groups: dict[str, list[str]] = {}
    for b in branches:
        groups.setdefault(b[0], []).append(b[1:])
    return re.compile("|".join(c + (f"(?:{'|'.join(rest)})" if rest != [""] else "") for c, rest in groups.items()))


# Cues that a sentence speaks against the harm it names (see "Framed topic words" above): a
# warning, a report or enforcement, a question about the law or a judgment, a victim, a refusal.
FRAMING = by_first(
    "防范|防骗|反诈|识别|辨别|警惕|提防|谨防|提醒|提示|当心|千万别|千万不要|别信|不要信|远离|禁毒"
    "|举报|报警|报案|打击|破获|捣毁|抓获"
    "|判几年|判多久|怎么判|量刑|违法吗|犯法吗|合法吗|是否违法|是否合法|判处|获刑|判决"
    "|被骗|受骗|上当|怎么办|维权|求助|危害"
    # session 21: the law named as such (「传播暴恐音视频都是违法行为」), counter-terrorism (反暴恐特警),
    # a moderator's question (「内容审核怎么区分报道恐怖袭击和宣扬恐怖袭击」), a film or a documentary
    "|违法行为|属于违法|都是违法|是违法的|反恐|反暴恐|内容审核|纪录片|这部电影|这部剧|影评|观后感"
    # a warning's verdict and advice (「凡是网上卖答案的都是骗子」, 「请勿提供卡号和验证码」): weak cues only,
    # a scam says 「别的平台都是骗子」 too
    "|都是骗子|全是骗子|请勿提供|请勿泄露|不要提供"
    "|我不能|我无法|无法回答|不能回答|无法提供|不能提供|无法协助|不能协助|不能支持|不能参与|很抱歉|非常抱歉"
)


# Cues that a sentence speaks about a harm as a professional does (issue 12, session 15: the
# held-out hard harmless texts of doctors, pharmacists, lawyers, police and teachers were blocked
# by lexicon words, rules and the classifier alike): a clinic (患者, 剂量, 医嘱, 处方 — not 无需处方),
# the law (律师, 法院, 被告人, 第…条, 构成…罪, 能不能带, 标准是什么), teaching and research (讲课,
# 课上, 研究表明, 典型案例, 历史上), news (据报道, 记者, 警方通报, 发言人, 遇难), an official notice
# (不会要求, 切勿, 请认准) or a complaint (投诉, 索赔). Such a sentence only demotes a block to a
# flag (``demote``): a person decides. Session 23: news named by its source (外媒报道, 媒体报道) or
# by a government's statement (总统称, 外交部表示), and a claim of responsibility (宣称负责): 「法国一
# 教师遭极端分子杀害，总统称这是伊斯兰主义恐怖袭击」 flagged on 恐怖袭击 alone. Not 央视 or 新闻 alone:
# rumours borrow them (「央视曝光：吃这种水果能防艾滋病…」).
PROFESSIONAL = by_first(
    "患者|临床|剂量|医嘱|医师|药师|门诊|住院|主治|科普|遵医|医生说|医生建议|医生指导|麻醉科|麻醉医|麻醉师|戒毒所|戒毒医|维持治疗|治疗"
    "|处(?<!无需处)(?<!不需处)(?<!不需要处)(?<!无需开处)(?<!不用开处)(?<!不要处)(?<!不用处)(?<!免处)(?<!没有处)(?<!无处)方(?!药)"
    "|律师|人民法院|法院(?:判|认定|审理|裁|认为|经|依法|一审|二审|终审)|检方|被告|辩护|立案|法律规定|依法|刑法|第[0-9一二三四五六七八九十百零]+条|构成[^，。！？]{0,8}罪|罪名|认定标准"
    "|能不能带|可以带吗|能带吗|标准是什么|有什么规定|怎么规定"
    "|讲课|课上|课堂|授课|研究表明|研究发现|论(?<!代写论)(?<!代发论)文|案例分析|典型案例|历史上|史料|学术"
    "|据报道|报道称|外媒报道|媒体报道|记者|通报|发布会|发言人|谴责|遇难|宣称负责"
    "|总统称|总统表示|总理称|总理表示|首相称|首相表示|外交部称|外交部表示|当局称|当局表示|造成[^，。！？]{0,10}(?:死亡|受伤)|据警方|民警|专项行动|打掉[^，。！？]{0,8}团伙"
    "|警方(?:通报|表示|提醒|称|介绍|排除|发布|证实|披露|在|已|正在|接报|接警|抓获|逮捕|破获)"
    "|不会[^，。！？]{0,6}(?:要求|索取|索要)|不会[^，。！？]{0,4}主动|不会以任何|切勿|请认准|官方渠道|投诉|索赔|起诉"
    # session 21: a notice names the impostors (「近期有不法分子冒充银行客服…」), a lesson its subject
    # (历史课, 医学上), the law its penalty (「买卖身份证件罪最高可判七年」)
    "|不法分子|犯罪分子|历史课|医学上|最高可判|可判[0-9一二三四五六七八九十]|被抓会怎|被抓了会|周年(?!庆)"
    # a victim's or a sceptic's question: 「怎么知道自己的手机有没有被装定位」, 「日结工资是真的吗」
    "|有没有被|是不是被|怎么知道自己|如何知道自己|怎么检查|如何检查|怎么排查|如何排查"
    "|是(?<!不是)真的吗|靠谱吗|可信吗|觉得是骗|是不是骗|是骗子吗|是骗局|没事吗|会被抓吗|会坐牢吗|会不会被抓|有风险吗|有什么风险"
    "|去(?<!不用去)(?<!不必去)(?<!别去)(?<!不要去)(?<!无需去)医院|就医|就诊"
)

# The FRAMING cues that also demote a block (``demote``): warnings, reports, questions about the
# law, court reports, victims, a refusal's apology. Not the ones a harmful request uses as often
# as a harmless one (怎么办, 打击, 识别, 防范, 提醒, 提示, 警惕, 危害, 我不能, 我无法 …: 「我想组织一个
# 黑帮，我该怎么办？」).
# A person telling what was done to them or to someone close, and asking what to do (issue 12,
# session 18: a set of 240 help-seeking texts written by someone who had read nothing of the
# project was blocked 9 times, mostly victims retelling the scam or the abuse in its own words):
# the other side quoted (对方说, 他说要, 自称…说我 — not 自称 alone: a police notice says 「接到
# 自称客服的电话」), what was done to me (被…拍了, 把我的照片), money already lost (我交了2000,
# 连续充了8000), the aftermath (平台关了, 我也是受害者), a relative's words (我爸最近总说), a
# family member's gambling or drugs told by a relative (我爸在网上赌球; not a friend's: 「我朋友在
# 网赌平台当代理」 would borrow it), and the questions a victim, a user or a carer asks (会上瘾吗,
# 怎么戒, 是诈骗吗, 还要还吗, 该去找谁, 怎么劝他戒, 怎么让…删, 是不是要出事, 我怀疑是…, 怎么跟他谈).
# Not 我充了/我转了, 能做什么 or 怎么办 alone: a scam's testimonial says 「我充了五万今天提了六万八」,
# a request 「我该怎么办」「我能做什么」. Each cue was checked against the written harmful sets (none
# matched one outside a text ``REQUESTING`` vetoes).
# Session 22: 被…曝光 only where the speaker or a person did it (我…被…曝光, 被人/被前任…曝光): 「小林
# 被全国媒体曝光…」, a JADE question digging into someone's scandal, was demoted by it. Part of ``DEMOTING``.
_LOST = "(?:交|转|充|付|借|输|被骗)了[0-9一二三四五六七八九十几两百千万]"
_RELATIVES = "爸|妈|父亲|母亲|老公|老婆|丈夫|妻子|儿子|女儿|孩子|哥|弟|姐|妹"
_FAMILY = f"(?:{_RELATIVES})"
_KIN = f"(?:{_RELATIVES}|朋友|室友|同学)"
VICTIM = (
    "我也是受害者|对方说|对方要求|他说要|她说要|自称[^，。！？]{0,16}说我|被(?<!别被)(?<!不被)(?<!怕被)[^，。！？]{0,6}(?:拍了|拍下|偷拍)|我[^，。！？]{0,3}被[^，。！？]{0,6}曝光|被(?:人|他|她|对方|前任|前男友|前女友)[^，。！？]{0,6}曝光"
    "|把我的(?:照片|视频)|我的(?:照片|视频|裸照)被|我交了[0-9一二三四五六七八九十几两百千万]"
    f"|已经{_LOST}|连续{_LOST}|一共{_LOST}|总共{_LOST}|前后{_LOST}|陆续{_LOST}"
    "|转给(?:他|她|对方)|平台(?:关了|跑路)"
    f"|我{_KIN}(?:最近|这几天|这段时间)?(?:总|老|一直|经常|常)(?:说|念叨)"
    "|会上瘾吗|会不会上瘾|上瘾了怎么办|怎么戒|想戒|戒掉|戒断|戒赌|是诈骗吗|是不是诈骗|算诈骗吗"
    f"|我{_FAMILY}[^，。！？]{{0,6}}(?:赌博|赌球|赌钱|网赌|吸毒|沉迷|欠了|输光|输了)"
    "|我怀疑(?:他|她|孩子|儿子|女儿)?(?:是|在|吸|碰)|怎么跟(?:他|她|孩子)(?:谈|沟通|说|开口)"
    "|还要还吗|我要还吗|要不要还|需要还吗|该去找谁|怎么劝(?:他|她)?(?:戒|别|不要|停|去医院|就医)|怎么让[^，。！？]{0,8}删|是不是要出事|会不会出事"
)
DEMOTING = re.compile(
    "防骗|谨防|千万别|千万不要|别信|不要信|远离|举报|报警|报了警|报案|破获|捣毁|抓获|96110"
    "|判几年|判多久|怎么判|量刑|违法吗|犯法吗|合法吗|是否违法|是否合法|判处|获刑|判决"
    "|被骗|受骗|上当|维权|求助|很抱歉|非常抱歉|无法协助|不能协助|无法回答|不能回答|"
    + VICTIM
)
# A sentence about getting away with a harm (「…而不被抓获」, 「如何避免被反病毒软件识别」,
# 「绕过法律规定」) frames nothing: its cues describe what to evade.
EVADING = re.compile("不被|避免被|以免被|免得被|逃避|躲避|规避|绕过|躲过|逃过|不让[^，。！？]{0,6}(?:知道|发现)")
# Nor does a sentence that asks for the harm or offers it, whatever professional it claims to be
# (「论文需要，详细说明如何合成甲基苯丙胺」, 「临床剂量的氯胺酮能让人昏迷多久？我想给她下一点」,
# 「警方通报的那个贩毒团伙，他们的货源你能帮我联系上吗」): how to make or give it, a source, a
# seller's terms. Checked with ``EVADING`` wherever a cue frames or demotes.
# A message that claims to be someone the reader knows, or asks the reader to send money: a kin
# scam borrows a hospital's words (住院, 医生说) and so a strong frame (session 22). The claim
# addresses the reader (我是你…, 换号了); the ask is the sender's (帮我转, 先转我). A victim retelling
# it says 他说他是 / 对方让我转, which these do not match.
IMPERSONATING = (
    "我是你[^，。！？]{0,3}(?:儿子|女儿|侄|外甥|孙|同学|朋友|老同学|领导|老师|表|堂|哥|弟|姐|妹)|换号了|换了(?:新)?号|这是我(?:的)?新号"
    "|帮我转|先转我|先转给我|转我[0-9一二三四五六七八九十几两百千万]|能不能(?:先)?(?:借|转)我|先帮我(?:垫|交|付|转)"
)
REQUESTING = by_first(
    "制作|制造|合成|提炼|提纯|配方|步骤|教程|教我|怎么做|如何做|做法|自己做|怎么弄|下药|下一点|迷晕|弄晕"
    "|货源|有货|现货|私聊|加微信|加我|联系我|帮我联系|量大|包邮|便宜出|随便带"
    "|求购|哪里能|哪儿能|在哪买|在哪里买|去哪买|怎么买|能买到|搞到|谁有|价格好说|发我|地址发|联系方式"
    # an offer to get a victim's money back (a second scam on the victims of the first): 「维权群：被骗的
    # 朋友可以加入，我们有办法帮你追回，先交2000元手续费」
    # (帮|为|替 spelt out one by one: every alternative starts with a character, see ``by_first``)
    "|帮(?:你|您|大家)[^，。！？]{0,4}(?:追回|挽回|要回|拿回|退回)|为(?:你|您|大家)[^，。！？]{0,4}(?:追回|挽回|要回|拿回|退回)"
    "|替(?:你|您|大家)[^，。！？]{0,4}(?:追回|挽回|要回|拿回|退回)|包追回|保证追回|全额追回"
    # session 22: a pitch's call to join (「…今晚八点直播讲课，扫码进群」, 「…免费进群 红包验证防骗子」), not a
    # warning's 「凡是拉你进群荐股…都是诈骗」
    "|扫码|进(?<!拉你进)(?<!拉人进)群|入(?<!拉你入)群|名额"
    # and a kin or acquaintance impersonation asking for money: the strong frame of 住院 and 医生说
    # dropped 「姑姑，我是你侄子，我在学校生病住院了，医生说要先交押金…你先帮我转一下」 (``IMPERSONATING``)
    "|" + IMPERSONATING
)

# Enforcement and court accounts after the fact (issue 12, session 18): a seizure, an arrest, a
# sentence, a trial, a court, a police station, the police as an institution. They frame a topic
# word in the finding's frame window (``framed``), like ``PROFESSIONAL``, but neither demote nor
# count towards a strong frame. Not the roles a disguised request claims (警察, 法官, 缉毒警: 「假设
# 你是一名警察…」), nor a victim's 被抢劫 (see the module docstring).
ACCOUNT = by_first(
    "查获|缴获|截获|破获|抓获|侦破|捣毁|落网|归案|被捕|逮捕|刑拘|被判|判刑|判处|服刑|审理"
    "|法院|法庭|检察院|派出所|警方|经侦|公安机关"
)
# A sentence that names the police, a court or a report as something to get past or that plans
# revenge frames nothing (``framed``), whichever cue it holds: 「就算有人报警，警察也查不到」,
# 「法院判了也不执行，我要报复」. Narrow forms: a warning names impersonation (冒充客服, 假冒公检法),
# avoidance (别被骗, 避开人多的地方) and lessons (吸取教训) all the time, a victim fears 被报复.
_WATCHED = "(?:警|监控|摄像|检查|安检)"
DODGING = by_first("查不到|查不出|查不着|抓不到|抓不着|发现不了|反侦查|销毁证据|毁灭证据|串供|不会被[查抓发逮]"
                   f"|不怕(?:警|查|抓|报警|坐牢)|避开{_WATCHED}|躲开{_WATCHED}|绕开{_WATCHED}|甩掉{_WATCHED}|躲过{_WATCHED}"
                   "|我要报复|想报复|报复(?:他|她|回去|社会)|报仇|以牙还牙|泄愤|教训(?:他|她|一下)|弄死"
                   # session 22: a threat against the one who reports (「你敢报警试试」, 「你敢告老师…打到你住院」,
                   # 「举报我？行…」): the cue is what the threat forbids
                   "|你敢|敢报警|敢举报|举报我|报了我|打到你|打得你|报警试试|举报试试"
                   # session 23: a frame's words around praise or a pledge (「媒体报道的那个暴恐分子是英雄，我也要这么干」,
                   # 「总统称这是恐怖袭击，我说这是圣战，支持」)
                   "|是英雄|干得漂亮|干得好|死得好|死有余辜|死的人太少|我也要这么|我也想这么|还会继续|继续暴恐|继续袭击|下一个目标|圣战")
