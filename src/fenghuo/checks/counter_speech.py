"""Counter-speech: a text that names a group to speak *against* a stereotype about it.

The offensive head learned COLD, where a comment about region, race or gender is offensive
more often than not, and so it flags anti-bias talk that names a group: 「有人说“穷山恶水出刁民”，
这句话本身就是地域歧视」, 「地域黑该停了」, 「…避免对女性的歧视」. ``mention.py`` leaves such texts
alone (a text naming a COLD group is not framed there), because COLD labels many of them
offensive. This module is the narrower cue for exactly those texts (issue 12, session 16).

A text is counter-speech (``countering``) when it

* judges a saying or a bias explicitly (``cue``): a saying named biased (「这种说法完全是地域黑」,
  「说“没本事才送外卖”就是职业歧视」), a bias spoken against (反对 / 避免 / 别再 / 不该 … 歧视,
  地域黑, 刻板印象 …), a bias judged (「地域黑要不得」, 「种族歧视…不该被容忍」), a quoted saying
  judged (「骂“小日本都该死”是不对的」, 「“…”这种话简直离谱」), the speaker reports being
  stereotyped (「总被说“东北人都是黑社会”」), or reports a saying to the platform (举报, 投诉 near
  骂“…”, 发“…”), or asks that a saying no longer be used (``QUOTE_AGAINST``: 别再用"娘炮"骂人了,
  session 22);
* and holds no disclaimer (``DISCLAIM``): the speaker denying the bias and then voicing it
  (「我不是歧视，但是…」, 「说实话不是地域黑，X人确实…」, 「反对歧视归反对歧视，但是…」,
  「我就是歧视…」);
* and voices no generalisation of its own (``endorsed``): outside quotes, a group followed by
  就是 / 都是 / 确实 / 素质 / 恶心 / 滚 … in a clause that does not report someone else's words
  (说, 认为, 被说 …) or negate it (不是每个, 不能说 …).

There, a flag of the offensive or discrimination category is looked at again (``countered``):

* the classifier's: the text is scored again with its quotes, its bias words and its group
  names cut out; the flag goes only where what is left scores under ``mention.REST_MAX`` (0.5,
  "more likely harmless than not", fixed a priori). A counter-speech text that insults as well
  (「别歧视了，你这个蠢货」) keeps its flag;
* a rule's (abuse.*, offensive or discrimination) or a lexicon word's flag: it goes where its
  span lies inside a quote: the rule matched the saying quoted, not the speaker's words.

Session 22: a saying in ASCII quotes (骂"小日本都该死"是不对的) is judged as one in “…” is, and the
verb of abuse before a quote (骂“黑鬼”) is cut out with it before scoring again.

Session 24 widened the cue by class (a saying in ASCII single quotes, named a bias outright or
asked to stop, spoken against with 不能 / 而不是, the people who say it turned on, a word named biased,
the speaker's own stance 不搞 / 讨厌 地域黑, a speaker who names themself and reports being told a
stereotype), cuts the words naming abuse (骂, 辱骂 …) with the quotes before scoring again, and holds
no counter-speech where a change of mind takes the judgment back (后来), the speaker sneers at
others' talk (说什么), a threat stands beside it (``frame_cues.DODGING``) or the speaker dislikes a
group (不喜欢黑人). Tried and left out: a denial that one person speaks for a group (哪里都有好人坏人)
and a bias asked about (这算歧视吗): COLD train labels such texts offensive more often than not
(1 harmless row cleared for 18 offensive; 3 for 166). docs/checks.md ("Counter-speech").

Blocks are left as they are. Measured on COLD train (the classifier trained on it, so the cost
is what the cue clears of rows labelled offensive): dropping the classifier's flag outright
wherever the cue held cleared 47 of 12,723 offensive rows (most of them anti-bias by any reading,
「河南人偷井盖这个说法完全是以偏概全好吧」 — COLD labels them offensive); scoring again without
the quotes, bias words and groups halved that. Numbers in docs/checks.md ("Counter-speech").
Runs only for a text with an offensive or discrimination flag: one search for a bias word or a
quote first (~1-3 µs per 1 KB), the rest only where one is found.
"""

from __future__ import annotations

import re

from fenghuo.checks.base import Action, Finding
from fenghuo.checks.frame_cues import DODGING
from fenghuo.checks.mention import (
    CATEGORY,
    CLASSIFIER_RULE,
    GROUP_CHARS,
    GROUP_WORDS,
    META_WORDS,
    QUOTE_MAX,
    QUOTES,
    REST_MAX_LOGIT,
    offensive_scorer,
    without,
)

CATEGORIES = frozenset({"offensive", "discrimination"})
RULES = "rules:abuse."
# A lexicon word that flags (never one that blocks; a topic word that flags too) inside the quoted saying a counter-speech text
# judges goes as an abuse rule's does: 骂"小日本都该死"是不对的 (小日本, tagged porn by the scraped
# list; session 22).
LEXICON = "lexicon:"
_LEXICON_FLAGS = (Action.FLAG, Action.CONTEXT_FLAG)  # a topic word that flags, settled later, too
# Words that name a stereotype or discrimination as such.
BIAS_WORDS = ("歧视", "地域黑", "地域攻击", "刻板印象", "偏见", "以偏概全", "贴标签", "污名化?", "一竿子打翻", "一棍子打死", "地图炮",
              "种族主义", "有罪论", "仇恨言论", "排外言论", "煽动对立", "语言暴力")
BIAS = f"(?:{'|'.join(BIAS_WORDS)})"
# A reference to a saying: 这种说法, 这句话 … or the end of a quote.
SAYING_WORDS = ("这种说法", "这个说法", "这样的说法", "这种话", "这句话", "这些话", "这种言论", "这类言论", "这种论调", "这种段子", "这种玩笑",
                "这种观念", "这种想法", "这种标签", "这种梗", "这个词", "这种词", "这类词", "这种称呼", "这个称呼")
QUOTE_ENDS = ("”", "」", "』")
SAYING = f"(?:{'|'.join(SAYING_WORDS)}|[{''.join(QUOTE_ENDS)}])"
_JUDGED = ("(?:是不对的|不对|不该|不应该|离谱|荒谬|过分|可笑|不公平|站不住|没有依据|没有根据|伤人"
           # session 24: the saying asked to stop (「“安徽人素质差”这种话能不能别说了」)
           "|能不能别|能不能不要|别再|别说了|不要再|有意思吗)")
# The cue's branches, each matched at its anchor (a saying, a bias word, 被; see ``cue``):
# a saying named biased (这句话本身就是地域歧视, 说“没本事才送外卖”就是职业歧视, ”？这就是典型的受害者
# 有罪论) or judged (骂“小日本都该死”是不对的, “…”这种话简直离谱);
_SAYING_TAIL = (f"(?:[？?]?[^。！？]{{0,12}}?(?:是|就是|属于|纯属|叫|算是|完全是|本身就是|典型的|都是|带有|含有)[^。！？，]{{0,6}}?{BIAS}"
                f"|[^。！？]{{0,10}}?{_JUDGED}"
                # session 24: the saying named a bias outright (「关于'东北人都是黑社会'的刻板印象」, 「“…”这种地域黑」)
                f"|(?:的|这种|这类|这样的|之类的){BIAS})")
SAYING_JUDGED = re.compile(SAYING + _SAYING_TAIL)
# The same judgment after a saying in ASCII quotes (骂"小日本都该死"是不对的, session 22): the same
# mark opens and closes it, so only a closing one, found by pairing (``_ASCII_QUOTED``), anchors.
_AFTER_QUOTE = re.compile(_SAYING_TAIL)
_ASCII_QUOTED = re.compile(f'"[^"\\n]{{1,{QUOTE_MAX}}}"|\'[^\'\\n]{{1,{QUOTE_MAX}}}\'')
# a bias judged (地域黑该停了, 种族歧视在哪里都不该被容忍, 污名化的恶性循环);
BIAS_JUDGED = re.compile(
    f"{BIAS}[^。！？]{{0,8}}?(?:该停|要不得|不该被容忍|不应该?被容忍|不可取|不公平|不对|离谱|伤人|害人|害死人|可以停|可以休|可耻|有害|恶性循环|恶心)")
# a bias spoken against, the verb at most 10 characters before it (反对地域歧视, 避免对女性的歧视,
# 别再地域黑了, 反思一下语言暴力, 反歧视);
AGAINST = re.compile("反$|(?:反对|抵制|杜绝|消除|避免|拒绝|停止|别再|不要再|不能再|不该|不应该?|不能容忍|不容忍|打破|破除|摒弃|远离|谴责|反思"
                     # session 24: the speaker's own stance against it (「我是河南人，不搞地域黑」, 「真心讨厌地域黑」)
                     "|不搞|讨厌|反感|厌恶|痛恨|受不了|看不惯)"
                     "[^。！？，]{0,10}$")
# the speaker reports being stereotyped (总被说“东北人都是黑社会”, 被开“安徽人是小偷”的玩笑).
STEREOTYPED = re.compile("被[^，。！？]{0,3}(?:说|叫|问|骂|调侃|开)[^，。！？]{0,3}[“「『\"']")
_OFTEN = ("总", "老", "常", "一直", "天天", "从小")
# or the speaker names themself before it (「我是东北人，在南方工作被同事说"你们东北人是不是都爱打架"」, session 24): 我 in
# the same sentence, at most ``_SPEAKER_REACH`` characters back.
_SPEAKER = re.compile("我[^。！？]*$")
_SPEAKER_REACH = 20
# or the speaker reports a saying (举报了一个骂“湖南人都是骗子”的账号, 发“外地人滚出去”，我截图举报了):
# a quote with a speech verb before it, a report within the sentence around it.
REPORT_WORDS = ("举报", "投诉", "截图")
# or the speaker asks that a saying no longer be used (别再用"娘炮"骂人了, 不要再说“东北人都是黑社会”了:
# session 22).
# Session 24: 不能 and 而不是 too, and a few characters between (「不能一说就是"男人都是坏人"」, 「而不是一上来就骂"变态"」).
QUOTE_AGAINST = re.compile('(?:别再|不要再|别|不要|不该|不应该|不能|而不是)[^，。！？]{0,4}?(?:用|拿|说|叫|喊|骂)[^，。！？]{0,3}[“「『"\']')
# or turns on the people who say it (「说他们"素质低"的人自己素质才低」, 「"外地人滚出去"这种话，说的人祖上…也是外地人」,
# session 24), unless it agrees with them (说得对, 没错).
QUOTE_SAYERS = re.compile('说[^，。！？]{0,4}[“「『"\'][^”」』"\']{1,20}[”」』"\']的人(?![^，。！？]{0,4}(?:说得对|没错|有道理|说得好|说的对))'
                          '|[”」』"\'][^。！？]{0,8}说的人(?![^，。！？]{0,4}(?:说得对|没错|有道理|说得好|说的对))')
QUOTED_SPEECH = re.compile("(?:骂|说|发|喊|写|叫)[^，。！？]{0,2}[“「『\"']")
# The speaker holds the bias, whatever else it says (「我不是歧视，但是河南人就是爱骗人」).
DISCLAIM = re.compile(
    "我[^，,。！？]{0,3}歧视|歧视[^，。！？]{0,3}怎么了|犯法吗"
    "|(?:不是|并非|并不是|没有|没|不算|不叫|别说我|不想被说|无意|绝无|不存在|无)[^，,。！？]{0,6}(?:歧视|地域黑|偏见|刻板印象|种族主义|黑)"
    "|(?:歧视|地域黑|偏见|刻板印象)[^。！？]{0,8}(?:归|但是?|可是|不过|然而|只是)"
    "|说实话|讲真|事实就是|实话实说|忠告|政治正确|笑死|一点不是|不是偏见|这是事实|就是事实|是事实[，,：:]"
)
# A generalisation about a group in the speaker's own voice (outside quotes).
_GROUP = "(?:[\u4e00-\u9fff]{0,2}[^\\W\\d的个些有别让被和与跟给对这那哪每]人|女的|男的|女人|男人|女性|男性|女生|男生|基佬|同性恋|黑鬼|老外|他们|她们|这帮|这群|这些)"
_ENDORSE = re.compile(
    f"{_GROUP}[^，,。！？“”「」\"]{{0,6}}?(?:都(?!有好|有坏)|就是|全是|确实|实在|真是|真的是|个个|天生|素质|恶心|滚|不配|该死|活该"
    "|太[^，。]{0,2}了|费拉|垃圾|看不起|看不惯|讨厌|(?<!的)(?<!被)(?<!受)(?<!到)歧视)"
    f"|(?:看不惯|讨厌|看不起|恨|厌恶|鄙视|受不了|不喜欢|抵制)[^，,。！？“”「」\"]{{0,3}}{_GROUP}")
# After the judgment, a turn (但是, 不过 …) takes it back: 「种族歧视是不对的。但是我就看不惯黑人」.
# Session 24: or a change of mind (「以前觉得他们因为肤色受歧视很不公平。后来我亲眼看见…」).
# Not a second judgment against (「不能一说就是"男人都是坏人"，但也不能一说就"你想多了"」).
_TURN = re.compile("但(?!也不能|也不该|也不要|也别|同样不)|可是|不过|然而|只不过|后来|从此|现在开始|现在也")
# The judgment is others' talk the speaker sneers at (「一群人…说什么种族歧视是不对的 一边又在这里歧视黑人」,
# 「很讨厌看到一句话：…极力反对人种歧视」): not the speaker's (session 24).
_SNEER = re.compile("说什么|口口声声|嘴上说|天天喊|整天喊|喊着|讨厌看到|烦看到|受不了看到|看不惯")
# The clause reports someone else's words or negates the generalisation: not the speaker's own.
_REPORTED = re.compile("说|认为|觉得|以为|骂|不是每个|不是所有|并非所有|并不是所有|不能说|不能把|别把|不要把|不代表|被说|传|问我|叫")
_CLAUSE_END = "，,。！？；"
# Group names cut out before scoring again: COLD's (``mention.GROUP_WORDS``, a group character
# and the one after it: 女性, 男生) and any "…人".
_GROUPS = re.compile("|".join(sorted(GROUP_WORDS, key=len, reverse=True)) + f"|[{''.join(sorted(GROUP_CHARS))}][^，。！？]?|{_GROUP}")
_BIAS = re.compile(BIAS)
# Session 24: the words that name abuse (骂, 辱骂, 网暴 …: ``mention.META_WORDS``) are cut out with the bias words: a
# text against a bias names the abuse it speaks against (「用"娘炮"骂男生其实也是一种性别刻板印象」 scored 0.68 on 骂).
_ABUSE_NAMED = re.compile("|".join(sorted(META_WORDS, key=len, reverse=True)) + "|骂")


def endorsed(text: str) -> bool:
    """Whether ``text`` generalises about a group in its own voice (see the module's docstring)."""
    rest = without(text, [m.span() for m in QUOTES.finditer(text)])
    for m in _ENDORSE.finditer(rest):
        lo = max(rest.rfind(c, 0, m.start()) for c in _CLAUSE_END) + 1
        if _REPORTED.search(rest, lo, m.end()) is None:
            return True
    return False


# Each branch starts at its anchor (a saying or a bias word) or ends there (``AGAINST``), so
# it is matched there, not searched for: one alternation of the branches searched over a text
# cost ~6x what finding the anchors does. The anchors are one flat alternation whose every
# branch starts with a literal character, so ``re`` skips to the places one of those characters
# occurs (a set of first characters); named groups around the bias words and the sayings, as it
# was, hid that set: ~4x the time per 50 characters. A match's kind is told by its text (the
# first characters of the three kinds differ).
_ANCHOR = re.compile("|".join(BIAS_WORDS + SAYING_WORDS + QUOTE_ENDS + ("被",)))
_SAYS = frozenset(SAYING_WORDS + QUOTE_ENDS)
MAX_ANCHORS = 16
_REPORT_REACH = 30  # characters either side of 举报 a reported saying may be
# Only a text this short (characters) is read for counter-speech: a comment, not a page. The
# classifier's score is the whole text's, and in a long one a sentence against a bias says
# nothing of the rest (as ``frames.SHORT_TEXT``); COLD's longest comment is 192. It also
# keeps the cost off long messages (finding the anchors costs ~70 µs per 1 KB).
MAX_TEXT = 200


def cue(text: str) -> int | None:
    """Where the first cue in ``text`` ends (looked for at its first ``MAX_ANCHORS`` anchors),
    or None."""
    for n, a in enumerate(_ANCHOR.finditer(text)):
        if n == MAX_ANCHORS:
            break
        p = a.start()
        got = a.group()
        if got in _SAYS:
            m = SAYING_JUDGED.match(text, p)
            if m is not None:
                return m.end()
        elif got != "被":  # a bias word
            m = BIAS_JUDGED.match(text, p)
            if m is not None:
                return m.end()
            if AGAINST.search(text, max(0, p - 14), p) is not None:
                return a.end()
        elif text.endswith(_OFTEN, max(0, p - 2), p) or _SPEAKER.search(text, max(0, p - _SPEAKER_REACH), p) is not None:
            m = STEREOTYPED.match(text, p)
            if m is not None:
                return m.end()
    if '"' in text or "'" in text:
        for n, q in enumerate(_ASCII_QUOTED.finditer(text)):
            if n == MAX_ANCHORS:
                break
            m = _AFTER_QUOTE.match(text, q.end())
            if m is not None:
                return m.end()
    for rx in (QUOTE_AGAINST, QUOTE_SAYERS):
        m = rx.search(text)
        if m is not None:
            return m.end()
    for w in REPORT_WORDS:
        p = text.find(w)
        if p >= 0:
            m = QUOTED_SPEECH.search(text, max(0, p - _REPORT_REACH), p + _REPORT_REACH)
            if m is not None:
                return max(m.end(), p + len(w))
    return None


# 说实话 / 讲真 disclaim where a group follows in its sentence (「说实话不是地域黑，东北人确实…」), not where the
# speaker says how they feel (「天天被问"你会不会打架"，说实话有点累」, session 24).
_FRANKLY = ("说实话", "讲真")
_GROUP_AFTER = re.compile(f"[^。！？]{{0,12}}?{_GROUP}")


def _disclaimed(text: str) -> bool:
    return any(m.group() not in _FRANKLY or _GROUP_AFTER.match(text, m.end()) is not None for m in DISCLAIM.finditer(text))


def countering(text: str) -> bool:
    """Whether ``text`` is counter-speech: a ``cue`` and no turn after it (``_TURN``), no
    ``DISCLAIM``, no sneer before it (``_SNEER``), no threat or revenge (``frame_cues.DODGING``:
    「我被同事说"你真胖"，我要弄死他」, session 24), nothing ``endorsed``."""
    end = cue(text)
    return (end is not None and _TURN.search(text, end) is None and not _disclaimed(text)
            and _SNEER.search(text, 0, end) is None and DODGING.search(text) is None and not endorsed(text))


# The verb of abuse just before a quote (骂“黑鬼”, 喊"…"): the speaker reports it, and the head
# scores 骂 itself as abuse (「…有人骂，真的看不下去。…不该被容忍」 still scored over 0.5 without
# the quote: session 22). Cut out with the quote.
_ABUSE_VERBS = "骂喊吼叫"


def _with_verb(text: str, span: tuple[int, int]) -> tuple[int, int]:
    a, b = span
    return (a - 1, b) if a > 0 and text[a - 1] in _ABUSE_VERBS else span


def _in_quote(text: str, f: Finding) -> bool:
    return any(a <= f.start and f.end <= b for a, b in (m.span() for m in QUOTES.finditer(text)))


def countered(findings: list[Finding], text: str, checks) -> list[Finding]:
    """``findings`` without the offensive and discrimination flags a counter-speech text earns
    only by naming the group and the saying it speaks against (see the module's docstring).
    ``checks``: the pipeline's checks; the classifier a finding names scores the text again."""
    if len(text) > MAX_TEXT:  # first: a long text is not read, whatever it found
        return findings
    idx = [i for i, f in enumerate(findings)
           if (f.action is Action.FLAG
               and ((f.category == CATEGORY and f.rule.startswith(CLASSIFIER_RULE)) or (f.category in CATEGORIES and f.rule.startswith(RULES))))
           or (f.action in _LEXICON_FLAGS and f.rule.startswith(LEXICON) and _in_quote(text, f))]
    if not idx or not countering(text):
        return findings
    drop = set()
    rest = None
    for i in idx:
        f = findings[i]
        if f.rule.startswith((RULES, LEXICON)):
            if _in_quote(text, f):
                drop.add(i)
            continue
        scorer = _scorer(f.rule, checks)
        if scorer is None:
            continue
        if rest is None:
            spans = sorted([_with_verb(text, m.span()) for m in QUOTES.finditer(text)] + [m.span() for m in _BIAS.finditer(text)]
                           + [m.span() for m in _GROUPS.finditer(text)] + [m.span() for m in _ABUSE_NAMED.finditer(text)])
            rest = without(text, spans)
        score, cut = scorer
        if score(rest) < min(cut, REST_MAX_LOGIT):
            drop.add(i)
    return [f for i, f in enumerate(findings) if i not in drop] if drop else findings


def _scorer(rule: str, checks):
    for check in checks:
        if f"{CLASSIFIER_RULE}{getattr(getattr(check, 'path', None), 'name', '')}" == rule:
            return offensive_scorer(check)
    return None
