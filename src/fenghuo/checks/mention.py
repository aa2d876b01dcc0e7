"""Insults mentioned, not used: the offensive head's score without the mentioned words.

The classifier's offensive head learned COLD: offence against race, region and gender, from
n-grams and words. It cannot tell a word used from a word mentioned, so it flags harmless text
that names an insult: a victim asking 「是不是骗子？」, a story 「骗子冒充我儿子打电话给我」,
a quotation 「小说里反派骂主角“废物”」, a report 「有人说“某省人都是骗子”，我直接举报了」, a
statement against abuse 「…反对歧视很重要」, 「…没必要骂人」. On the written dev harmless rows
most of the offensive head's false alarms were such texts (issue 12, session 15).

So where the classifier's offensive finding fires, the pipeline looks for *mentioned* words in
the text (``mention_spans``), each in its frame:

* a quotation in reported speech: a span in quotes (“…” 「…」 『…』 "…" '…', up to
  ``QUOTE_MAX`` characters) with a speech cue (骂, 叫, 台词, 这句话, 说法, 梗 …, ``SPEECH``) in
  the same sentence;
* a word that names abuse (歧视, 地域黑, 刻板印象, 骂人, 辱骂 …, ``META``) in a sentence that
  speaks against it (反对, 避免, 杜绝, 不该, 没必要, 举报, 被…辱骂 …, ``AGAINST``);
* 骗子 (a scammer) in a sentence of a victim, a warning or a question (是不是, 是骗子吗, 被骗,
  小心, 别理, 冒充, 给我 …, ``VICTIM``) that addresses no one (no 你 or 您: ``ADDRESS``);

and only in a text that names none of COLD's groups (``names_group``: regions and their people,
races and nations, genders): in COLD, a text about a group that quotes or criticises an insult
is still often offensive (「“河南人偷井盖”这种话你当真？」, 「举报了，歧视女性」 are labelled
offensive), and measured on COLD train, framing such texts lost more offensive rows than it
freed harmless ones. Where mentioned words exist, the offensive head scores the text again with
them cut out; the finding goes only if that score is under 0.5 (``REST_MAX``, or the category's
threshold if lower): what is left must be more likely harmless than not (``unmentioned``). The other categories and the scores in ``Verdict.scores`` are left as they
are. Measured in docs/checks.md ("Insults mentioned, not used", session 15).

Session 24 widened the frames by class: abuse named as a subject (网暴, 辱骂, 侮辱, 喷子, 骂 …) in a
sentence that discusses, judges or reports it, or explains a word's meaning; 骗子 in a scam warning
(a warning's rule, whoever says a quoted line, a user who saw through one, scammers as the agent
of a method), where 你 inside another quote or as the scammer's object (让你) addresses no one; and
an offence named by its legal name (…罪, ``LEGAL_NAME``) read as a court report's word.
"""

from __future__ import annotations

import math
import re
from itertools import islice

import numpy as np

from fenghuo.checks.base import Finding
from fenghuo.checks.frame_cues import ACCOUNT, DEMOTING, DODGING, EVADING, PROFESSIONAL, REQUESTING
from fenghuo.checks.frames import SENTENCE_REACH, STRONG, cue_count

CATEGORY = "offensive"
CLASSIFIER_RULE = "classifier:"
QUOTE_MAX = 20
MAX_HITS = 8  # hits of each kind looked at per text (mention_spans)
# The text without its mentioned words must score under 0.5 ("more likely harmless than not",
# fixed a priori, as ``corroborate.UNRELATED``) — or under the category's threshold, if lower —
# for the finding to go: 「别理他，骗子一个，脑子有病」 keeps its flag (0.54 without 骗子).
REST_MAX = 0.5
REST_MAX_LOGIT = math.log(REST_MAX / (1.0 - REST_MAX))
QUOTES = re.compile("|".join(f"{o}[^{c}{o}\\n]{{1,{QUOTE_MAX}}}{c}" for o, c in ("“”", "‘’", "「」", "『』", '""', "''")))
SPEECH = re.compile("骂|台词|这句话|这种话|说法|梗|口头禅|称呼|外号|爱称|黑话|叫|的话|言论|造谣|谣言")  # session 24: a rumour quoted
META_WORDS = ("歧视", "地域黑", "刻板印象", "偏见", "语言暴力", "骂人", "辱骂", "脏话",
              # session 24: abuse named as a subject (「网络暴力会对人造成严重伤害，请文明上网」, 「律师：网络上辱骂他人情节
              # 严重的，可能构成侮辱罪」, 「大家怎么看游戏喷子文化」)
              "网暴", "网络暴力", "人身攻击", "侮辱", "谩骂", "喷子", "恶语", "人肉", "骂")
# 骂 names the practice (「打游戏输了就骂队友全家，这种风气真该治治」), not a call for it (「反对的人都该骂」, 骂死他).
_SCOLD = "(?<![该欠须])骂(?![死他她你])"
META = re.compile("|".join(_SCOLD if w == "骂" else w for w in META_WORDS))
# session 22: a question about abuse (「为什么游戏里的人那么容易骂人？」) and abuse held back (「写了一大段骂人
# 的话，最后还是删了没发」)
AGAINST = re.compile("反对|反歧视|避免|消除|杜绝|拒绝|不该|不应|要不得|害死人|不存在|举报|没必要|不要|被[^，,。！？]{0,4}(?:辱骂|骂)"
                     "|为什么|怎么看|如何看待|删了"
                     # session 24: abuse discussed, judged or reported: the law (构成…罪, 违法, 追究), harm done (伤害, 害人,
                     # 抑郁), a call for civility (文明, 理性), a judgment of the practice (风气, 治治, 屡禁不止)
                     "|讨论|构成|罪|违法|犯法|追究|刑责|起诉|判|通报|案件|伤害|害人|抑郁|文明|理性|风气|该治|治治|屡禁不止"
                     "|警惕|危害|后果|受害|边界|不在保护|法外之地"
                     # a word's meaning explained (「"你个苕"就是"你个傻瓜"的意思」)
                     "|的意思|什么意思|意思是|指的是")
SCAM = re.compile("骗子")
# Not 都是骗子 / 全是骗子 (session 22, tried): a warning's verdict, but an occupation's or a region's
# too (「搞销售的全是骗子…」, 「…那边人都是骗子」).
VICTIM = re.compile("是不是|是骗子吗|骗子吗|是骗子吧|这是骗子|被骗|上当|防骗|小心|当心|别理|别信|举报|报警|冒充|给我|找我|又来"
                    # session 24: a warning's rule (凡是…的全是骗子, 所谓…的电话全是骗子, 民警提示, 99%是骗子) and a user who saw
                    # through one (没理, 拉黑, 核实)
                    "|凡是|但凡|所谓|提示|提醒|注意|贴士|[0-9]+%|百分之|没理|不理|拉黑|挂了|核实|识破"
                    # whoever says a quoted line (「看到有人说“带你回血”的都是骗子」)
                    "|[”」』\"']的")
# session 24: scammers as the agent of a method a warning describes (「现在骗子都用 AI 换脸视频通话了」, 「其实骗子
# 利用的是人性」): 骗子 the subject, not a name called.
SCAM_AGENT = re.compile("骗子(?:们)?(?:都|会|常|常常|经常|往往|一般|通常|总是|现在|最近|就|专门)?"
                        "(?:利用|用|冒充|假冒|假装|伪装|盯上|专挑|的套路|的手法|的手段|的话术|话术|套路|手法|手段)")
# A sentence that addresses someone (你, 您) calls that person a scammer: not a mention.
ADDRESS = re.compile("你|您|妳|尼玛|他妈|tm", re.I)
# Session 24: outside quotes (「看到有人说“带你回血”的都是骗子」: the 你 is the scammer's) and not the reader a warning
# tells of the scammer's ask (「…让你点链接，就是骗子」).
_GENERIC_YOU = re.compile("(?:让|叫|要|求|骗|带|给|帮|加|私信|联系|通知|告诉|问)(?:你|您)")
# COLD's topics: regions and their people, races and nations, genders. A text naming any of
# them is left to the classifier as it is (see above). A single character in ``GROUP_CHARS``
# (女, 男, 妈 …) is enough.
GROUP_WORDS = frozenset([
    "省人", "市人", "县人", "村人", "北京", "上海", "天津", "重庆", "河北", "山西", "辽宁", "吉林", "黑龙江", "江苏", "浙江",
    "安徽", "福建", "江西", "山东", "河南", "湖北", "湖南", "广东", "广西", "海南", "四川", "贵州", "云南", "陕西", "甘肃",
    "青海", "宁夏", "新疆", "西藏", "内蒙", "香港", "澳门", "台湾", "东北", "西北", "华北", "南方", "北方", "大陆", "内地",
    "外地", "本地", "农村", "城里", "乡下", "地域", "老乡", "粤语", "方言",
    "中国", "中华", "华人", "华裔", "国人", "国内", "国外", "海外", "移民", "留学", "宗教", "信仰",
    "黑人", "白人", "黄种", "种族", "黑鬼", "亚裔", "非洲", "欧洲", "美国", "日本", "韩国", "印度", "越南", "外国", "老外",
    "洋人", "民族", "回民", "汉人", "穆斯林", "犹太",
    "性别", "同性", "基佬", "直男",
])
GROUP_CHARS = frozenset("女男妇娘姐妹婆媳妈")
_BY_FIRST: dict[str, tuple[str, ...]] = {}
for _w in sorted(GROUP_WORDS):
    _BY_FIRST[_w[0]] = _BY_FIRST.get(_w[0], ()) + (_w,)
# Per BMP code point: a group character (_ONE), a word's first (_FIRST) or second (_SECOND)
# character. A text's code points looked up in them give the few places a word may start.
_ONE = np.zeros(0x10000, bool)
_FIRST = np.zeros(0x10000, bool)
_SECOND = np.zeros(0x10000, bool)
_ONE[[ord(c) for c in GROUP_CHARS]] = True
_FIRST[[ord(w[0]) for w in GROUP_WORDS]] = True
_SECOND[[ord(w[1]) for w in GROUP_WORDS]] = True


_GROUP_CHARS = ("女", "男") + tuple(sorted(GROUP_CHARS - {"女", "男"}))  # the commonest first
_FIRSTS = re.compile(f"[{''.join(sorted(set(_BY_FIRST) | GROUP_CHARS))}]")
_FIRST_TRIES = 16


def names_group(text: str) -> bool:
    """Whether ``text`` names one of COLD's groups (``GROUP_WORDS``, ``GROUP_CHARS``).

    The first ``_FIRST_TRIES`` places a word's first character occurs are tried one by one (a
    COLD text names its group early: on 1 KB cuts of COLD dev p50 1.3 / p99 12 µs); past them,
    the text's code points are looked up in three tables (a group character; a word's first
    character followed by some word's second) and only the few places left are tried (~25 µs
    per 1 KB whatever the text: a loop over every 大, 日, 本, 国 … took ~130 µs, and an
    alternation regex of the words ~190 µs over 340 characters). A group character anywhere
    is looked for first, one substring search each (``_GROUP_CHARS``): 845 of 895 1 KB COLD dev cuts
    hold one (p50 of names_group 1.5 -> 0.2 µs; 0.5 µs more for a text without one)."""
    for c in _GROUP_CHARS:
        if c in text:
            return True
    for n, m in enumerate(_FIRSTS.finditer(text)):
        if n == _FIRST_TRIES:
            break
        c = m.group()
        if c in GROUP_CHARS:
            return True
        i = m.start()
        if any(text.startswith(w, i) for w in _BY_FIRST[c]):
            return True
    else:
        return False
    codes = np.minimum(np.frombuffer(text.encode("utf-32-le"), np.uint32), 0xFFFF)
    if _ONE[codes].any():
        return True
    at = (_FIRST[codes[:-1]] & _SECOND[codes[1:]]).nonzero()[0]
    return any(text.startswith(w, i) for i in at.tolist() for w in _BY_FIRST[text[i]])


_SENTENCE_END = "。！？!?；;\n"
_QUOTE_CHARS = "“‘「『\"'"
_CANDIDATE = re.compile("|".join(["骗子", *META_WORDS, *_QUOTE_CHARS]))


def _sentence_of(text: str, pos: int) -> tuple[int, int]:
    """The sentence around ``pos``, cut at ``SENTENCE_REACH`` characters either side (as
    ``frames.framed``): a bounded search per hit, not one over the whole text."""
    lo, hi = max(0, pos - SENTENCE_REACH), min(len(text), pos + SENTENCE_REACH)
    s = max(text.rfind(c, lo, pos) for c in _SENTENCE_END) + 1 or lo
    e = hi
    for c in _SENTENCE_END:
        i = text.find(c, pos, hi)
        if 0 <= i < e:
            e = i
    return s, e


def _addressed(sentence: str, at: int) -> bool:
    """Whether ``sentence`` addresses someone (``ADDRESS``) outside the quotes that do not hold the word at ``at``
    (「问“你们是不是骗子”的」 addresses) and outside the generic you of a warning."""
    if ADDRESS.search(sentence) is None:
        return False
    quotes = [q.span() for q in QUOTES.finditer(sentence) if not q.start() <= at < q.end()]
    rest = _GENERIC_YOU.sub("", without(sentence, quotes))
    return ADDRESS.search(rest) is not None


def mention_spans(text: str) -> list[tuple[int, int]]:
    """Spans of words ``text`` mentions rather than uses (see the module's docstring), sorted;
    none in a text that names a group (``names_group``)."""
    # Most texts name a group or hold no quote, no word naming abuse and no 骗子, and pay
    # nothing more. The group first: every 1 KB COLD dev cut with an offensive finding names one,
    # most through a group character, found by names_group in ~0.2-0.6 µs, where the search for
    # a candidate word costs ~0.6 µs per 50 characters and ~1.1 per 1 KB.
    if names_group(text) or _CANDIDATE.search(text) is None:
        return []
    quoted = any(q in text for q in _QUOTE_CHARS)
    meta = any(w in text for w in META_WORDS)
    scam = "骗子" in text
    spans = []
    # The sentence of each hit, not every sentence; at most ``MAX_HITS`` hits of each kind (a
    # text saying 骗子 forty times costs what one saying it eight times does, and keeps the
    # rest: fewer words cut out, the finding more likely to stand).
    for m in islice(QUOTES.finditer(text), MAX_HITS) if quoted else ():  # a quote may hold its own ！ or ？: its sentence is where it starts
        s, e = _sentence_of(text, m.start())
        if SPEECH.search(text, s, max(e, m.end())):
            spans.append(m.span())
    for m in islice(META.finditer(text), MAX_HITS) if meta else ():
        s, e = _sentence_of(text, m.start())
        if AGAINST.search(text, s, e):
            spans.append(m.span())
    for m in islice(SCAM.finditer(text), MAX_HITS) if scam else ():
        s, e = _sentence_of(text, m.start())
        agent = SCAM_AGENT.match(text, m.start()) and not ADDRESS.search(text, max(s, m.start() - 4), m.start())
        if agent or (VICTIM.search(text, s, e) and not _addressed(text[s:e], m.start() - s)):
            spans.append(m.span())
    spans.sort()
    return spans


# A crime named in a court or police report (session 22): 「某地法院一审宣判：被告人犯故意杀人罪，判处
# 死刑」 scored offensive 0.95 on the report's own words. In a text of at most ``REPORT_MAX``
# characters with a strong frame (``frames.STRONG`` different professional or demoting cues: 法院
# and 被告 and 判处), naming no group (``names_group``), with nothing evading, asking or dodging, the
# cues and the crimes' names are mentioned words; what is left must still score under ``REST_MAX``:
# 「法院判决被告人死刑，这种人渣早该死了」 keeps its flag. Tried without the group test (男子 is a
# group character): it freed 「某地男子雇人殴打债务人被判刑…」 too but cleared three COLD train rows
# labelled offensive (「…你确定报案的不是门口扫地的黑人大妈？」).
REPORT_MAX = 200
CRIME_NAMES = re.compile("[\u4e00-\u9fff]{0,4}罪|死刑|死缓|无期徒刑|有期徒刑|杀人|殴打|伤害|判刑|被判")


# Session 24: an offence named by its legal name (故意杀人罪, 寻衅滋事罪) is the law's word, mentioned as a court report's
# are: 「故意伤害罪和故意杀人罪怎么区分？」 scored offensive 1.76 on the names. Such a text is read as a report without
# the two cues; what is left must still score under ``REST_MAX``.
# A news report's "a man" or "a woman" (某地男子…, 一女子…) names a person, not a group (session 24).
_NEWS_PERSON = re.compile("[男女]子(?![汉气们])")
LEGAL_NAME = re.compile("[\u4e00-\u9fff]{2,6}(?<![犯有无得谢认赔受怪定获问顶抵服请死])罪(?![犯人恶孽过])")  # not 犯罪, 得罪 …


def report_spans(text: str) -> list[tuple[int, int]]:
    """The cues and crimes' names of a short court or police report (above), or none."""
    # 罪 looked for first: every LEGAL_NAME match holds it, and the regex tries 2-6 Han characters at
    # each position (~2.5 µs per 50-character text; 71 of 1,458 COLD cuts with a finding hold 罪).
    if (len(text) > REPORT_MAX or (cue_count(text, 0, len(text)) < STRONG and ("罪" not in text or LEGAL_NAME.search(text) is None))
            or EVADING.search(text) is not None
            or REQUESTING.search(text) is not None or DODGING.search(text) is not None or names_group(_NEWS_PERSON.sub("", text))):
        return []
    return [m.span() for rx in (PROFESSIONAL, DEMOTING, ACCOUNT, CRIME_NAMES) for m in rx.finditer(text)]


def without(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with ``spans`` (sorted, may overlap) cut out."""
    out, last = [], 0
    for a, b in spans:
        if b <= last:
            continue
        out.append(text[last:max(a, last)])
        last = b
    out.append(text[last:])
    return "".join(out)


def offensive_scorer(check):
    """``(score(text) -> logit, cut logit)`` for ``check``'s offensive category, or None when
    ``check`` is not a classifier with one."""
    scorer = getattr(check, "logit_scorer", None)
    return None if scorer is None else scorer(CATEGORY)


_COUNTERED = None  # counter_speech.countered, once imported (that module imports this one)


def _counter_speech():
    global _COUNTERED
    from fenghuo.checks.counter_speech import countered

    _COUNTERED = countered
    return countered


_DISCUSSED = None  # discussion.discussed, once imported (that module imports this one too)


def discussed(findings: list[Finding], text: str, checks) -> list[Finding]:
    """``discussion.discussed``: a classifier's offensive flag on a film's plot, a parent's question,
    a report (session 25)."""
    global _DISCUSSED
    if _DISCUSSED is None:
        from fenghuo.checks.discussion import discussed as run

        _DISCUSSED = run
    return _DISCUSSED(findings, text, checks)


def unmentioned(findings: list[Finding], text: str, checks) -> list[Finding]:
    """``findings`` without a classifier's offensive finding whose score rests on words the text
    only mentions: scored again with ``mention_spans`` cut out, the text scores under
    ``REST_MAX`` (and under the category's threshold). ``checks``: the pipeline's checks; the
    classifier whose rule the finding names scores the text again, with its own model and
    threshold. Runs only for a text with that finding (~2-50 µs per ≤ 1 KB text, plus one
    scoring where mentioned words are found)."""
    countered = _COUNTERED or _counter_speech()
    findings = countered(findings, text, checks)  # 「这种说法完全是地域黑」: a group named to speak against a bias
    findings = discussed(findings, text, checks)  # 「《鱿鱼游戏》里的参赛者为了钱杀人…」: a subject discussed
    i = None
    for k, f in enumerate(findings):  # a loop, not next() of a generator: ~1 µs less per message
        if f.category == CATEGORY and f.rule.startswith(CLASSIFIER_RULE):
            i = k
            break
    if i is None:
        return findings
    spans = mention_spans(text)
    reported = report_spans(text)
    if reported:
        spans = sorted(spans + reported)
    if not spans:
        return findings
    rule = findings[i].rule
    for check in checks:
        if f"{CLASSIFIER_RULE}{getattr(getattr(check, 'path', None), 'name', '')}" != rule:
            continue
        got = offensive_scorer(check)
        if got is None:
            return findings
        score, cut = got
        if score(without(text, spans)) >= min(cut, REST_MAX_LOGIT):
            return findings
        return findings[:i] + findings[i + 1:]
    return findings

