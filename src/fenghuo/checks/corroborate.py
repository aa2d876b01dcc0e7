"""Topic words need a second opinion: settling ``context`` findings against the model scores.

A lexicon lists two kinds of words. Some say the harm themselves (娱乐城, 出售冰毒, a slur)
and act alone. Others only name a subject — 性病, 彩票, 诈骗, 枪支, 中央电视台 — that harmless
text names all the time: a question about a disease, a warning against fraud, news. Measured
on held-out harmless text with the shipped defaults, such topic words were most of the whole
pipeline's false positives (COLD dev 4.7 % flagged, CValues 3.9 %, generated warnings and
refusals 10.9 %), while the classifier, which reads the whole sentence, gave those texts no
score at all.

So a topic word's finding carries ``Action.CONTEXT_FLAG`` or ``Action.CONTEXT_BLOCK`` and the
pipeline settles it here: where a scoring check in the same pipeline (the classifier's
``scores_in``) gives the text at least ``threshold`` in some category, the finding stands with
its action (``flag`` or ``block``); where it gives less, the finding is dropped; where no check
scores texts, it stands too (nothing to corroborate with, so the word keeps its old meaning).
A lexicon check used on its own reports such findings unsettled (its verdict: ``flag``). Any category counts rather than only the
word's own: a lexicon tag and a model category do not line up one to one (politics has no model
category; a drug word in an insult scores as offensive).

The default threshold, 0.2, is a fifth of the way to certain on the classifier's calibrated
scale, fixed before measuring; the false-positive rate was flat from 0.2 to 0.5 on every
held-out set (docs/checks.md, "Topic words").

**Related categories** (issue 12, session 7). A low score in *any* category used to be enough,
and on harmless discussion of race, region and gender (COLD) the offensive head gives 0.2 to
much of it, so 抢劫 in a travel comment, 国民党 in a history thread and 抗日 (tagged porn by the
scraped list) were corroborated by a tone, not by their topic. Now a word's own family of model
categories (``RELATED``: a crime word by crime, fraud, drugs …; a porn word by porn, ads, crime,
harm; a politics word by terrorism, violence, crime, misinformation) must reach ``threshold``;
any other category counts only from ``UNRELATED`` (0.5, "more likely than not", fixed a
priori), where a word in an insult still stands. A category outside the table (a user's own
tag, ``sensitive``) keeps the old rule: any category at ``threshold``. Designed on COLD train's
harmless rows and the CValues prompts the classifier trained on; measured on COLD dev, the
held-out CValues half and the harmful sets (docs/checks.md, "Measured numbers").

**Framed topic words** (session 14). A topic word in a sentence that speaks *against* its harm —
a warning (防范, 警惕, 识别, 千万别), a report (举报, 报警), a question about the law (违法吗,
判几年) or a judgment (判处, 获刑), a victim asking for help (被骗, 上当, 怎么办), a refusal (我不能,
无法提供, 很抱歉) — needs stronger corroboration: a related category must reach ``UNRELATED``
(0.5) instead of ``threshold`` (``FRAMING``, ``framed``). On such sentences the classifier gives
the topic itself a low score (怎么识别网络诈骗中的钓鱼链接？ fraud 0.32; 如何举报赌博网站 crime
0.26), which used to be enough. Any other category still counts from ``UNRELATED``, as before.
The cue must sit in the word's own sentence (between 。！？；!?; or a line break): in a long
answer, a 警惕 or 报警 further on frames nothing about the word (a harmful answer's list says
"警惕被发现"). Worked out only for a text with a topic-word finding, and only when the pipeline
passes the text (``settle(..., text=)``); ``corroborate: 0`` turns it off with the rest. The
warning, report, law and victim cues were chosen on tests/checks/data/written_zh and the task's three
examples; the refusal cues after seeing that refusals were most of the topic-word false alarms
on JADE v3's safe answers (which is thus not a clean test of them). Measured in docs/checks.md
("Topic words", session 14).

**Professional frames and demotion** (session 15). On an independent set of hard harmless texts
the pipeline flagged a quarter of the professional ones (doctors, pharmacists, lawyers, police
trainers, reporters) and blocked most of those — lexicon words, rules and the classifier alike.
Two changes. (1) A sentence that speaks about a harm as a professional does (``PROFESSIONAL``:
a clinic — 患者, 剂量, 医嘱, 处方 but not 无需处方; the law — 律师, 被告人, 第…条, 构成…罪, 能不能带;
teaching — 讲课, 课上, 典型案例, 历史上; news — 据报道, 记者, 警方通报, 遇难; a notice — 不会…要求,
切勿; a victim's or sceptic's question — 有没有被, 是真的吗, 靠谱吗, 投诉, 索赔) is framed like one
with a ``FRAMING`` cue, unless it speaks of evading (``EVADING``: 不被, 规避, 绕过 …). (2) A *block*
in a framed sentence becomes a *flag* (``demote``), whichever check found it: a doctor's or a
victim's message goes to a person at worst. Demotion takes the professional cues and the
stronger framing ones (``DEMOTING``: warnings, reports, law questions, court reports, victims —
not 怎么办, 提醒, 识别, 警惕 …, which harmful requests use as often). In a short text
(``SHORT_TEXT``, 100 characters) a cue in the next sentence frames too, and a finding on the
whole text (the classifier's) is framed by a cue anywhere in it; in a longer text the
classifier's score says nothing of where, so it is not demoted. The weak ``FRAMING`` cues frame
only their own sentence, as before. ``corroborate: 0`` turns all of it off. A stream settles
and demotes on the finding's own sentence so far and on the whole answer at close. Measured in
docs/checks.md ("Professional frames", session 15).

**Accounts after the fact; getting past the police** (issue 12, session 18). A crime's name in
an enforcement or court account — 查获, 缴获, 落网, 被捕, 被判, 服刑, 审理, 法院, 派出所, 警方
(``ACCOUNT``) — in the finding's frame window frames it as the professional cues do (vetoed by
``EVADING`` and ``REQUESTING``): 「我见过藏在轮胎里…的毒品。每一次查获…」, 「…构成非法种植毒品原植物罪…
请…联系派出所」. They do not demote and do not count towards a strong frame. Roles a request can
claim (警察, 法官: 「假设你是一名警察…」) and a victim's 被抢劫 are not among them (the victim cue
framed two held-out XSafety scenario prompts that were caught before and fixed no dev text). And
any cue frames nothing where the sentence or window speaks of getting past the police or of
revenge (``DODGING``: 查不到, 抓不到, 反侦查, 销毁证据, 不怕警察, 我要报复 …): 「就算有人报警，警察也查
不到，毒品随时有」. Measured in docs/checks.md ("Topic words", session 18).

**Framed topic words, session 19** (``framed_corroborated``): in a framed sentence the word's own
family must reach ``FRAMED_RELATED`` (0.8; the heads echo the topic of a warning at ~0.5), any
other category ``UNRELATED``; in a strong frame (``topic_strong``: two different cues of any kind,
nothing evading, asking or dodging) only the word's own family counts — not the offensive head's
tone on a news or court report.
"""

from __future__ import annotations

import re

import msgspec

from fenghuo.checks.base import Action, Finding
from fenghuo.checks.rules_regex import split_branches

DEFAULT_THRESHOLD = 0.2
# A score in a category outside the word's family corroborates only from here (see above).
UNRELATED = 0.5

_CRIME_FAMILY = frozenset({"crime", "fraud", "drugs", "gambling", "violence", "terrorism", "porn", "ads", "privacy", "harm",
                           "misinformation"})
# Lexicon tag -> the model categories that speak to it. Politics has no model category of its own:
# the harms a political word comes with in a harmful text (terror, violence, crime, rumour).
RELATED: dict[str, frozenset[str]] = {
    "crime": _CRIME_FAMILY,
    "porn": frozenset({"porn", "ads", "crime", "harm"}),
    "drugs": frozenset({"drugs", "crime", "ads", "harm"}),
    "gambling": frozenset({"gambling", "crime", "ads", "fraud"}),
    "politics": frozenset({"terrorism", "violence", "crime", "misinformation"}),
    "terrorism": frozenset({"terrorism", "violence", "crime"}),
    "violence": frozenset({"violence", "crime", "terrorism", "harm"}),
    "self_harm": frozenset({"harm"}),
    "offensive": frozenset({"offensive", "discrimination"}),
    "discrimination": frozenset({"offensive", "discrimination"}),
}


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
    "|我不能|我无法|无法回答|不能回答|无法提供|不能提供|无法协助|不能协助|不能支持|不能参与|很抱歉|非常抱歉"
)
_SENTENCE_END = "。！？!?；;\n"
SENTENCE_REACH = 100  # characters either side of a topic word that its sentence may span

# Cues that a sentence speaks about a harm as a professional does (issue 12, session 15: the
# held-out hard harmless texts of doctors, pharmacists, lawyers, police and teachers were blocked
# by lexicon words, rules and the classifier alike): a clinic (患者, 剂量, 医嘱, 处方 — not 无需处方),
# the law (律师, 法院, 被告人, 第…条, 构成…罪, 能不能带, 标准是什么), teaching and research (讲课,
# 课上, 研究表明, 典型案例, 历史上), news (据报道, 记者, 警方通报, 发言人, 遇难), an official notice
# (不会要求, 切勿, 请认准) or a complaint (投诉, 索赔). Such a sentence only demotes a block to a
# flag (``demote``): a person decides.
PROFESSIONAL = by_first(
    "患者|临床|剂量|医嘱|医师|药师|门诊|住院|主治|科普|遵医|医生说|医生建议|医生指导|麻醉科|麻醉医|麻醉师|戒毒所|戒毒医|维持治疗|治疗"
    "|处(?<!无需处)(?<!不需处)(?<!不要处)(?<!不用处)(?<!免处)(?<!没有处)(?<!无处)方(?!药)"
    "|律师|人民法院|法院(?:判|认定|审理|裁|认为|经|依法|一审|二审|终审)|检方|被告|辩护|立案|法律规定|依法|刑法|第[0-9一二三四五六七八九十百零]+条|构成[^，。！？]{0,8}罪|罪名|认定标准"
    "|能不能带|可以带吗|能带吗|标准是什么|有什么规定|怎么规定"
    "|讲课|课上|课堂|授课|研究表明|研究发现|论(?<!代写论)(?<!代发论)文|案例分析|典型案例|历史上|史料|学术"
    "|据报道|报道称|记者|通报|发布会|发言人|谴责|遇难|造成[^，。！？]{0,10}(?:死亡|受伤)|据警方|民警|专项行动|打掉[^，。！？]{0,8}团伙"
    "|警方(?:通报|表示|提醒|称|介绍|排除|发布|证实|披露|在|已|正在|接报|接警|抓获|逮捕|破获)"
    "|不会[^，。！？]{0,6}要求|不会[^，。！？]{0,4}主动|不会以任何|切勿|请认准|官方渠道|投诉|索赔|起诉"
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
# matched one outside a text ``REQUESTING`` vetoes). Part of ``DEMOTING``.
_LOST = "(?:交|转|充|付|借|输|被骗)了[0-9一二三四五六七八九十几两百千万]"
_RELATIVES = "爸|妈|父亲|母亲|老公|老婆|丈夫|妻子|儿子|女儿|孩子|哥|弟|姐|妹"
_FAMILY = f"(?:{_RELATIVES})"
_KIN = f"(?:{_RELATIVES}|朋友|室友|同学)"
VICTIM = (
    "我也是受害者|对方说|对方要求|他说要|她说要|自称[^，。！？]{0,16}说我|被(?<!别被)(?<!不被)(?<!怕被)[^，。！？]{0,6}(?:拍了|拍下|偷拍|曝光)"
    "|把我的(?:照片|视频)|我的(?:照片|视频|裸照)被|我交了[0-9一二三四五六七八九十几两百千万]"
    f"|已经{_LOST}|连续{_LOST}|一共{_LOST}|总共{_LOST}|前后{_LOST}|陆续{_LOST}"
    "|转给(?:他|她|对方)|平台(?:关了|跑路)"
    f"|我{_KIN}(?:最近|这几天|这段时间)?(?:总|老|一直|经常|常)(?:说|念叨)"
    "|会上瘾吗|会不会上瘾|上瘾了怎么办|怎么戒|想戒|戒掉|戒断|是诈骗吗|是不是诈骗|算诈骗吗"
    f"|我{_FAMILY}[^，。！？]{{0,6}}(?:赌博|赌球|赌钱|网赌|吸毒|沉迷|欠了|输光|输了)"
    "|我怀疑(?:他|她|孩子|儿子|女儿)?(?:是|在|吸|碰)|怎么跟(?:他|她|孩子)(?:谈|沟通|说|开口)"
    "|还要还吗|我要还吗|要不要还|需要还吗|该去找谁|怎么劝(?:他|她)?(?:戒|别|不要|停|去医院|就医)|怎么让[^，。！？]{0,8}删|是不是要出事|会不会出事"
)
DEMOTING = re.compile(
    "防骗|谨防|千万别|千万不要|别信|不要信|远离|举报|报警|报案|破获|捣毁|抓获"
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
REQUESTING = by_first(
    "制作|制造|合成|提炼|提纯|配方|步骤|教程|教我|怎么做|如何做|做法|自己做|怎么弄|下药|下一点|迷晕|弄晕"
    "|货源|有货|现货|私聊|加微信|加我|联系我|帮我联系|量大|包邮|便宜出|随便带"
    "|求购|哪里能|哪儿能|在哪买|在哪里买|去哪买|怎么买|能买到|搞到|谁有|价格好说|发我|地址发|联系方式"
    # an offer to get a victim's money back (a second scam on the victims of the first): 「维权群：被骗的
    # 朋友可以加入，我们有办法帮你追回，先交2000元手续费」
    # (帮|为|替 spelt out one by one: every alternative starts with a character, see ``by_first``)
    "|帮(?:你|您|大家)[^，。！？]{0,4}(?:追回|挽回|要回|拿回|退回)|为(?:你|您|大家)[^，。！？]{0,4}(?:追回|挽回|要回|拿回|退回)"
    "|替(?:你|您|大家)[^，。！？]{0,4}(?:追回|挽回|要回|拿回|退回)|包追回|保证追回|全额追回"
)

# Enforcement and court accounts after the fact (issue 12, session 18): a seizure, an arrest, a
# sentence, a trial, a court, a police station, the police as an institution. They frame a topic
# word in the finding's frame window (``framed``), like ``PROFESSIONAL``, but neither demote nor
# count towards a strong frame. Not the roles a disguised request claims (警察, 法官, 缉毒警: 「假设
# 你是一名警察…」), nor a victim's 被抢劫 (see the module docstring).
ACCOUNT = by_first(
    "查获|缴获|截获|破获|抓获|侦破|捣毁|落网|归案|被捕|逮捕|刑拘|被判|判刑|判处|服刑|审理"
    "|法院|法庭|检察院|派出所|警方"
)
# A sentence that names the police, a court or a report as something to get past or that plans
# revenge frames nothing (``framed``), whichever cue it holds: 「就算有人报警，警察也查不到」,
# 「法院判了也不执行，我要报复」. Narrow forms: a warning names impersonation (冒充客服, 假冒公检法),
# avoidance (别被骗, 避开人多的地方) and lessons (吸取教训) all the time, a victim fears 被报复.
_WATCHED = "(?:警|监控|摄像|检查|安检)"
DODGING = by_first("查不到|查不出|查不着|抓不到|抓不着|发现不了|反侦查|销毁证据|毁灭证据|串供|不会被[查抓发逮]"
                   f"|不怕(?:警|查|抓|报警|坐牢)|避开{_WATCHED}|躲开{_WATCHED}|绕开{_WATCHED}|甩掉{_WATCHED}|躲过{_WATCHED}"
                   "|我要报复|想报复|报复(?:他|她|回去|社会)|报仇|以牙还牙|泄愤|教训(?:他|她|一下)|弄死")

# ``framed``'s cues in a frame window, one search: ``DEMOTING``, ``PROFESSIONAL`` or ``ACCOUNT``
# (grouped by first character again, ``by_first``: the same places match).
_WINDOW_CUES = by_first("|".join(rx.pattern for rx in (DEMOTING, PROFESSIONAL, ACCOUNT)))


_FIRST_END = re.compile(f"[{_SENTENCE_END}]")
_LAST_END = re.compile(f"(?s).*[{_SENTENCE_END}]")  # up to and including the last sentence end


def _sentence(text: str, start: int, end: int) -> tuple[int, int]:
    """The sentence of ``text`` holding ``start:end`` (cut at ``SENTENCE_REACH`` either side):
    two searches in C, bounded by the reach."""
    lo, hi = max(0, start - SENTENCE_REACH), min(len(text), end + SENTENCE_REACH)
    m = _LAST_END.match(text, lo, start)
    s = m.end() if m is not None else lo
    m = _FIRST_END.search(text, end, hi)
    return s, (m.start() if m is not None else hi)


# A short text (at most this many characters) is read as one frame: a cue in the sentence after
# a finding's counts too (「那个“裸聊敲诈”的套路大家知道吗？对方录屏后威胁你转钱，千万不要转，直接
# 报警」), and for a finding on the whole text (the classifier's) a cue anywhere in it.
SHORT_TEXT = 100


def frame_window(text: str, start: int, end: int, whole: bool = True, own: tuple[int, int] | None = None) -> tuple[int, int] | None:
    """Where a cue frames a finding at ``start:end``: its sentence (``_sentence``, or ``own``
    when already worked out), and — where ``whole`` (``text`` is all there is, not a stream so
    far) and ``text`` is short (``SHORT_TEXT``) — the next sentence too, or all of ``text`` for
    a finding that spans it. None for a finding spanning a long text: a classifier's score says
    nothing of where."""
    short = whole and len(text) <= SHORT_TEXT
    if start == 0 and end >= len(text):
        return (0, len(text)) if short else None
    s, e = own or _sentence(text, start, end)
    if short and e < len(text):
        e = _sentence(text, e + 1, e + 1)[1]
    return s, e


def framed(text: str, start: int, end: int, whole: bool = True) -> bool:
    """Whether a finding at ``start:end`` of ``text`` is framed: a ``FRAMING`` cue in its own
    sentence, or a ``DEMOTING``, ``PROFESSIONAL`` or ``ACCOUNT`` one in its ``frame_window`` (the
    next sentence of a short text too) where nothing speaks of evading or asks for the harm
    (``EVADING``, ``REQUESTING``) — and in either case nothing there speaks of getting past the
    police or of revenge (``DODGING``). The weaker
    cues (警惕, 提醒 …) frame only their own sentence: 「先说好怎么找人搞诈骗。以下步骤要警惕被发现」.
    The sentence is cut at ``SENTENCE_REACH`` characters either side, so a long text without
    punctuation costs a bounded search per finding, not one over the whole text."""
    own = _sentence(text, start, end)
    if FRAMING.search(text, *own) is not None:
        return DODGING.search(text, *own) is None
    w = frame_window(text, start, end, whole, own)
    return _cued(text, w, _WINDOW_CUES) and DODGING.search(text, *w) is None


def demote_frame(text: str, start: int, end: int, whole: bool = True) -> bool:
    """Whether a block at ``start:end`` of ``text`` is demoted (``demote``): a ``DEMOTING`` or
    ``PROFESSIONAL`` cue in its ``frame_window`` and nothing there speaks of evading or asks
    for the harm (``EVADING``, ``REQUESTING``)."""
    return _demoting(text, frame_window(text, start, end, whole))


def _demoting(text: str, w: tuple[int, int] | None) -> bool:
    return _cued(text, w, DEMOTING, PROFESSIONAL)


def _cued(text: str, w: tuple[int, int] | None, *cues: re.Pattern) -> bool:
    """A cue of ``cues`` in the window ``w`` and nothing there that speaks of evading or asks for
    the harm (``EVADING``, ``REQUESTING``)."""
    if w is None:
        return False
    s, e = w
    if all(c.search(text, s, e) is None for c in cues):
        return False
    return EVADING.search(text, s, e) is None and REQUESTING.search(text, s, e) is None


# A strong frame (``strong_frame``): at least this many different ``DEMOTING`` or
# ``PROFESSIONAL`` cues (被告 and 依法 and 法院认为; 不会以任何 and 谨防) in a finding's frame, and
# nothing anywhere in the text that speaks of evading or asks for the harm. Fixed at two before
# measuring: one cue is what a harmful text borrows (「千万别外传」, 「已被举报涉嫌诈骗」 lost six
# harmful dev texts), two apart are a court report's, a bank's notice's, a victim's.
STRONG = 2
# Categories a frame never clears: abuse is not a topic a profession speaks of (counter_speech.py
# reads it), and a masked PII span is no verdict of harm.
_NOT_CLEARED = ("offensive", "discrimination")


def _cues(text: str, s: int, e: int) -> int:
    """How many different ``PROFESSIONAL`` or ``DEMOTING`` cues ``text[s:e]`` holds, counted up to
    ``STRONG`` (searches, not a scan for all of them: most windows hold none)."""
    seen: set[str] = set()
    for rx in (PROFESSIONAL, DEMOTING):
        pos = s
        while True:
            m = rx.search(text, pos, e)
            if m is None:
                break
            seen.add(m.group())
            if len(seen) >= STRONG:
                return STRONG
            pos = m.end()
    return len(seen)


def strong_frame(text: str, start: int, end: int) -> bool:
    """Whether a finding at ``start:end`` of the whole ``text`` sits in a strong frame (``STRONG``)."""
    w = frame_window(text, start, end)
    return w is not None and _cues(text, *w) >= STRONG and EVADING.search(text) is None and REQUESTING.search(text) is None


def demote(findings: list[Finding], text: str, whole: bool = True) -> list[Finding]:
    """``findings`` with every block in a framed or professional sentence (``demote_frame``)
    turned into a flag — a lexicon word's, a rule's or the classifier's alike: a doctor's or a
    victim's message goes to review at worst, never blocked — and every flag or block in a
    strong frame (``strong_frame``: two cues, nothing evading or asking) dropped: a court
    report or a bank's warning is no finding. ``whole``: ``text`` is all there is (a stream
    mid-way passes False: only the finding's own sentence so far counts, and nothing is
    dropped until the answer is whole). One pass over each finding's frame serves both."""
    out = None
    drop = None
    for i, f in enumerate(findings):
        if f.action is not Action.BLOCK and (f.action is not Action.FLAG or not whole or f.category in _NOT_CLEARED):
            continue
        w = frame_window(text, f.start, f.end, whole)
        if w is None:
            continue
        n = _cues(text, *w)
        if n == 0 or EVADING.search(text, *w) is not None or REQUESTING.search(text, *w) is not None:
            continue
        if (n >= STRONG and whole and f.category not in _NOT_CLEARED and EVADING.search(text) is None
                and REQUESTING.search(text) is None):
            drop = (drop or set()) | {i}
        elif f.action is Action.BLOCK:
            if out is None:
                out = list(findings)
            out[i] = msgspec.structs.replace(f, action=Action.FLAG)
    if drop is not None:
        return [f for i, f in enumerate(out or findings) if i not in drop]
    return findings if out is None else out


SETTLED = {Action.CONTEXT_FLAG: Action.FLAG, Action.CONTEXT_BLOCK: Action.BLOCK}
# A lexicon word that acts alone (摇头丸, 网络赌场, 暴恐) names the harm in news and warnings
# too: in a framed sentence it is settled like a topic word (``frame_acting``).
_AS_TOPIC = {Action.BLOCK: Action.CONTEXT_BLOCK, Action.FLAG: Action.CONTEXT_FLAG}
LEXICON_RULE = "lexicon:"


def frame_acting(findings: list[Finding], text: str, whole: bool = True) -> list[Finding]:
    """``findings`` with every lexicon word that acts alone (block or flag) but sits in a framed
    sentence (``framed``: 警方破获…新型毒品, 禁毒宣传：冰毒、摇头丸…, 开设网络赌场罪…获刑) turned
    into a topic word of the same action, for ``settle`` to corroborate: it stands where a
    related model category reaches ``UNRELATED`` (framed) and with no model in the pipeline.
    Only lexicon findings: a rule's own ``unless`` words already say where it is quiet.
    Measured (docs/checks.md, "Topic words", session 14): no harmful text of any shared or
    written set lost; 9 harmless written dev texts (news, warnings, court reports) no longer
    flagged; no shared set moves."""
    out = None
    for i, f in enumerate(findings):
        if f.action in _AS_TOPIC and f.rule.startswith(LEXICON_RULE) and framed(text, f.start, f.end, whole):
            if out is None:
                out = list(findings)
            out[i] = msgspec.structs.replace(f, action=_AS_TOPIC[f.action])
    return findings if out is None else out


# A topic word in a strong frame (``topic_strong``): two different cues of any kind — framing,
# demoting, professional, account — in its frame window (a news report 「…被乘客持刀抢劫…派出所…
# 被当场抓获」, a court story 「…派出所民警…杀人抢劫…刑期…」) and nothing in the text that evades,
# asks for the harm or dodges the police. There a score in an *unrelated* category (the offensive
# head's tone, 0.55–0.8 on such reports) no longer corroborates it: only its own family at
# ``UNRELATED`` does (issue 12, session 19; docs/checks.md). Unlike ``strong_frame`` it counts
# ``ACCOUNT`` and the weak ``FRAMING`` cues, and it only raises the bar for a topic word: it drops
# no rule's or classifier's finding.
_TOPIC_CUES = by_first("|".join(rx.pattern for rx in (FRAMING, DEMOTING, PROFESSIONAL, ACCOUNT)))


def topic_strong(text: str, start: int, end: int) -> bool:
    """Whether a topic word at ``start:end`` of the whole ``text`` sits in a strong frame (above)."""
    w = frame_window(text, start, end)
    if w is None:
        return False
    seen: set[str] = set()
    pos, e = w
    while len(seen) < STRONG:
        m = _TOPIC_CUES.search(text, pos, e)
        if m is None:
            return False
        seen.add(m.group())
        pos = m.end()
    return EVADING.search(text) is None and REQUESTING.search(text) is None and DODGING.search(text) is None


# What a framed topic word's own family must reach (session 19): on a warning, a report or a
# victim's question the classifier's crime and fraud heads echo the topic itself (「请帮我把这段关于
# 防范电信诈骗的通知改得更简洁一点」 crime 0.53), so "more likely than not" (``UNRELATED``) is the
# echo, not the harm. 0.8 is where the shipped crime and offensive heads flag on their own (0.808,
# 0.812), fixed before measuring. An unrelated category (an insult's tone) still counts from
# ``UNRELATED`` outside a strong frame: no frame explains abuse away.
FRAMED_RELATED = 0.8


def framed_corroborated(category: str, scores: dict[str, float], strong: bool) -> bool:
    """Whether ``scores`` speak for a topic word of ``category`` in a framed sentence: a related
    category (``RELATED``) at ``FRAMED_RELATED``, or — unless the frame is strong (``topic_strong``)
    — any other category at ``UNRELATED``. A tag outside the table takes any category at
    ``UNRELATED``, as before."""
    related = RELATED.get(category)
    if related is None:
        return max(scores.values()) >= UNRELATED
    if any(scores.get(c, 0.0) >= FRAMED_RELATED for c in related):
        return True
    return not strong and any(v >= UNRELATED for c, v in scores.items() if c not in related)


def has_context(findings: list[Finding]) -> bool:
    return any(f.action in SETTLED for f in findings)


def settle(findings: list[Finding], scores: dict[str, float] | None, threshold: float = DEFAULT_THRESHOLD,
           text: str | None = None, whole: bool = True) -> list[Finding]:
    """``findings`` with every context finding given its action (flag or block) or dropped.

    ``scores``: the text's per-category model scores, or None when no check in the pipeline
    scores texts. None or empty (every scoring check abstained: the classifier does not judge a
    text mostly in another script) means no second opinion exists, so every context finding
    stands, as it would in a pipeline without a model. Otherwise a finding stands where a
    category related to its own (``RELATED``) scores at least ``threshold``, or any category at
    least ``max(threshold, UNRELATED)``; a category outside ``RELATED`` takes any category.
    ``text`` (the text the spans index): where given, a finding in a framed sentence (``framed``)
    needs ``FRAMED_RELATED`` in a related category or ``UNRELATED`` in another, and in a strong
    frame the related one (``framed_corroborated``; not where ``threshold`` is 0, corroboration
    turned off, or ``UNRELATED`` or more)."""
    if not scores:
        return [msgspec.structs.replace(f, action=SETTLED[f.action]) if f.action in SETTLED else f for f in findings]
    top = max(scores.values())
    out = []
    for f in findings:
        act = SETTLED.get(f.action)
        if act is not None:
            if text is not None and 0 < threshold < UNRELATED and framed(text, f.start, f.end, whole):
                if not framed_corroborated(f.category, scores, whole and topic_strong(text, f.start, f.end)):
                    continue
            elif not corroborated(f.category, scores, top, threshold):
                continue
            f = msgspec.structs.replace(f, action=act)
        out.append(f)
    return out


def corroborated(category: str, scores: dict[str, float], top: float, threshold: float) -> bool:
    """Whether ``scores`` (``top`` = their maximum) speak for a topic word of ``category``."""
    if top >= max(threshold, UNRELATED):
        return True
    related = RELATED.get(category)
    if related is None:
        return top >= threshold
    return any(scores.get(c, 0.0) >= threshold for c in related)
