"""Discussion frames: a text that talks *about* violence, crime, abuse or sex, re-judged by the heads
that read its topic as its tone.

The offensive head learned COLD and written abuse; the discrimination head written bias. Both
score the *subject* of a harmless text high when the subject is their own: a film's plot
(「《鱿鱼游戏》里的参赛者为了钱杀人，其实是在讽刺…」 offensive 0.89), a game (「这个恐怖游戏太吓人了，被杀人狂
追了一路」 0.94), a parent's question (「孩子动手打人怎么办？专家建议…」 0.84), a history lesson or a news
report (「…乔治·弗洛伊德之死引发了全球抗议…」 0.998), a debate (「讨论：地域歧视为什么在网上这么普遍？」
0.93), a victim of abuse asking what to do (「评论区全是骂我的，怎么办？」), sex education (「性教育不会让
孩子更早发生性行为，研究显示反而会推迟」 discrimination 0.73). ``counter_speech.py`` reads texts that
judge a bias, ``mention.py`` insults mentioned; this module reads the *kind* of frame around a
subject (session 25):

* ``FICTION``: a work or a game named as such (《…》, 小说, 电影, 剧情, 游戏里, 玩家, 主角 …);
* ``REPORT``: news, a court or a history (据报道, 被判, 历史上, 二战, 事件, 引发 …);
* ``DEBATE``: the subject discussed (讨论, 怎么看, 为什么…, 原因, 现象, 研究表明, 辩论 …);
* ``ADVICE``: a parent's, a teacher's or an expert's question or advice (孩子…怎么办, 专家建议, 家长,
  怎么教育 …);
* ``SEX_ED``: sex education and health (性教育, 青春期, 防性侵, 避孕 …);
* ``TARGET``: the speaker as the target of abuse asking for help (骂我, 骚扰我, 被人…, 怎么举报).

Where one holds, the text is at most ``MAX_TEXT`` characters, and nothing vetoes it, a classifier's
offensive or discrimination *flag* is scored again by its own head with the frame's words and the
subject's words (``SUBJECT``: violence, crime, abuse named, sex) cut out; the flag goes only where
what is left scores under ``mention.REST_MAX`` (0.5) and the head's threshold. Insults, slurs and
group names are never cut: 「那部电影的导演就是个傻逼」 keeps 傻逼 and its flag. Vetoes: the text speaks
to someone outside quotes (你, 您: a threat or an insult in a story's clothes), generalises about a
group in its own voice (``counter_speech.endorsed``), evades, asks for or offers the harm, dodges
the police or plans revenge (``frame_cues``), or praises violence (``PRAISE``).

Blocks are left as they are; so are rules' and the lexicon's findings (their own ``unless`` words
say where they are quiet). docs/checks.md ("Discussion frames") has the measurements.
"""

from __future__ import annotations

import re

from fenghuo.checks.base import Action, Finding
from fenghuo.checks.frame_cues import DODGING, EVADING, REQUESTING
from fenghuo.checks.mention import CLASSIFIER_RULE, QUOTES, REST_MAX_LOGIT, names_group, without

CATEGORIES = ("offensive", "discrimination")
MAX_TEXT = 200

FICTION = ("《[^》\n]{1,30}》|小说|电影|影片|剧情|情节|电视剧|剧集|网剧|动漫|动画|漫画|番剧|游戏里|游戏中|这款游戏|这个游戏|恐怖游戏|单机"
           "|玩家|副本|关卡|boss|BOSS|NPC|npc|主角|男主|女主|反派|角色|大结局|结局|剧本|剧本杀|狼人杀|密室逃脱|大纲|桥段|设定|同人"
           "|这一集|这集|上映|导演|演员|演技|影评|原著|书里|作者|悬疑|推理|侦探|探案|武侠|科幻|丧尸|末日|吃鸡|开黑|团战")
REPORT = ("据报道|报道|新闻|记者|通报|警方|法院|被判|判刑|获刑|判处|判决|宣判|审理|起诉|历史上|历史|史料|二战|抗战|战争|战役|年代|当年|事件"
          "|惨案|纪念|引发|抗议|示威|运动|改革|政策|法律|立法|侵略|殖民|罪行|遇难|受害者|发生|某地|男子|女子")
DEBATE = ("讨论|探讨|怎么看|如何看待|怎么看待|为什么|为何|原因|根源|本质|现象|观点|辩论|辩题|争议|话题|分析|理性|研究表明|研究显示|研究发现"
          "|数据显示|统计|调查|社会学|心理学|学者|论文|问题在于|是不是因为|其实|并不|并非|不等于|误区|误解|科普")
# Advice is a role's (专家建议, 警察建议, 律师…建议) or to a reader who cares (建议家长, 建议先…): not a bare 建议, which
# insults borrow (「…建议回炉重造」).
# Every top-level alternative of a kind starts with a literal character (the roles of ADVICE and
# TARGET's 被/遭 written out, not a group or a class first): then ``re`` skips to the places one of
# those characters occurs, otherwise it tries every alternative at every position — ADVICE's
# search cost ~2.2 µs per 50-character text against ~0.35 written out (session 26). (?:A|B)X and
# AX|BX try the same things in the same order, so the matches are the same.
_ROLES = ("专家", "医生", "老师", "警察", "警方", "民警", "律师", "咨询师", "心理师", "教练", "官方", "学校")
ADVICE = ("|".join(f"{r}[^，。！？]{{0,3}}建议" for r in _ROLES) +
          "|建议(?:家长|父母|大家|孩子|先|及时|尽快|报警|就医|咨询|求助)|专家说|专家表示|医生说|心理咨询|老师说|家长|父母|孩子|宝宝|小孩"
          "|儿子|女儿|青春期|幼儿园|育儿|怎么办|怎么教|如何教|怎么引导|如何引导|怎么教育|如何教育|应该怎么|该怎么")
SEX_ED = ("性教育|生理卫生|生理课|青春期|防性侵|性侵|避孕|安全套|性健康|性知识|隐私部位|身体界限|月经|遗精|怀孕|性行为|性病|艾滋")
_ABUSED = "[^，。！？]{0,6}(?:骂|网暴|辱骂|骚扰|侮辱|人肉|挂|造谣|诽谤|攻击)"
TARGET = (f"骂我|骚扰我|辱骂我|侮辱我|网暴我|攻击我|诋毁我|造谣我|挂我|喷我|被{_ABUSED}|遭{_ABUSED}"
          "|怎么举报|如何举报|怎么投诉|怎么维权|如何维权|能报警吗|可以报警吗|能起诉吗|可以起诉吗")
KINDS = {"fiction": FICTION, "report": REPORT, "debate": DEBATE, "advice": ADVICE, "sex_ed": SEX_ED, "target": TARGET}
_FRAMES = {k: re.compile(v) for k, v in KINDS.items()}
# The discrimination head is re-judged in sex education only: elsewhere its subject is a group, and
# a frame explains no bias (「智障的孩子生下来就该扔掉…」 holds 孩子).
_SEX_ED = _FRAMES["sex_ed"]
# The subject's words a frame talks about, cut out with the frame's own before scoring again.
SUBJECT = ("杀人狂|杀人|杀了|杀死|杀掉|杀害|屠杀|追杀|凶杀|谋杀|凶手|杀手|暴力|暴行|血腥|恐怖|尸体|死亡|之死|死了|打人|咬人|动手|打架|斗殴"
           "|以暴制暴|抢劫|绑架|强奸|性侵|犯罪|罪|极端|仇恨|种族|歧视|地域黑|偏见|刻板印象|骂人|辱骂|谩骂|脏话|骂|网暴|网络暴力|侮辱|骚扰"
           "|攻击|诋毁|造谣|诽谤|人肉|性行为|性|怀孕|避孕|安全套|月经")
_CUT = re.compile("|".join(KINDS.values()) + "|" + SUBJECT)
_SUBJECT = re.compile(SUBJECT)
# Praise of violence or of its doers (「电影里那个杀人狂真是我偶像」) or a wish for it (「法院判了又怎样，这个…就该千刀
# 万剐」) is no discussion.
PRAISE = re.compile("偶像|崇拜|干得漂亮|干得好|杀得好|死得好|活该|该死|爽|痛快|解气|学他|学习他|效仿|模仿|照着做"
                    "|千刀万剐|死全家|全家死|死光|不得好死|去死|该杀|就该(?:被)?(?:死|杀|打|砍|枪毙|弄)|枪毙|弄死|打死他|打死她|杀了他|杀了她")
ADDRESS = re.compile("你|您|妳")
# A text that names one of COLD's groups (``mention.names_group``) is left as it is: COLD labels most
# talk about region, race and gender offensive, and a frame there clears more offensive rows than
# harmless ones (a first try without this test: COLD train 372 offensive rows for 17 harmless).
# Kin and roles are persons, not groups: 女儿, 妈妈, 男主, a news report's 男子.
_PERSONS = re.compile("[男女]子(?![汉气们])|[子儿]女|女儿|[男女]主(?:角)?|[爸妈]妈|爸妈|父母|[姐妹]妹(?!们)|妹子|婆婆|媳妇|舅妈|姑妈|姨妈")


def kind(text: str) -> str | None:
    """The first frame kind ``text`` holds (``KINDS``), or None."""
    for k, rx in _FRAMES.items():
        if rx.search(text) is not None:
            return k
    return None


def _addresses(text: str) -> bool:
    return ADDRESS.search(without(text, [m.span() for m in QUOTES.finditer(text)])) is not None


def vetoed(text: str) -> bool:
    from fenghuo.checks.counter_speech import endorsed

    return (_addresses(text) or PRAISE.search(text) is not None or EVADING.search(text) is not None
            or REQUESTING.search(text) is not None or DODGING.search(text) is not None
            # a generalisation read without the subject's words: 「杀人魔太吓人了」 names no group
            or endorsed(_SUBJECT.sub("", text)))


def _scorer(rule: str, category: str, checks):
    for check in checks:
        if f"{CLASSIFIER_RULE}{getattr(getattr(check, 'path', None), 'name', '')}" == rule:
            scorer = getattr(check, "logit_scorer", None)
            return None if scorer is None else scorer(category)
    return None


def discussed(findings: list[Finding], text: str, checks) -> list[Finding]:
    """``findings`` without the classifier's offensive and discrimination flags a discussion frame
    explains (see the module's docstring)."""
    if len(text) > MAX_TEXT:
        return findings
    idx = [i for i, f in enumerate(findings)
           if f.action is Action.FLAG and f.category in CATEGORIES and f.rule.startswith(CLASSIFIER_RULE)]
    if not idx or kind(text) is None or names_group(_PERSONS.sub("", text)) or vetoed(text):
        return findings
    rest = without(text, [m.span() for m in _CUT.finditer(text)])
    drop = set()
    for i in idx:
        f = findings[i]
        if f.category == "discrimination" and _SEX_ED.search(text) is None:
            continue
        got = _scorer(f.rule, f.category, checks)
        if got is None:
            continue
        score, cut = got
        if score(rest) < min(cut, REST_MAX_LOGIT):
            drop.add(i)
    return [f for i, f in enumerate(findings) if i not in drop] if drop else findings
