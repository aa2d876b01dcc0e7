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
"""

from __future__ import annotations

import math
import re

from fenghuo.checks.base import Finding

CATEGORY = "offensive"
CLASSIFIER_RULE = "classifier:"
QUOTE_MAX = 20
# The text without its mentioned words must score under 0.5 ("more likely harmless than not",
# fixed a priori, as ``corroborate.UNRELATED``) — or under the category's threshold, if lower —
# for the finding to go: 「别理他，骗子一个，脑子有病」 keeps its flag (0.54 without 骗子).
REST_MAX = 0.5
REST_MAX_LOGIT = math.log(REST_MAX / (1.0 - REST_MAX))
_QUOTES = re.compile("|".join(f"{o}[^{c}{o}\\n]{{1,{QUOTE_MAX}}}{c}" for o, c in ("“”", "‘’", "「」", "『』", '""', "''")))
SPEECH = re.compile("骂|台词|这句话|这种话|说法|梗|口头禅|称呼|外号|爱称|黑话|叫|的话|言论")
META = re.compile("歧视|地域黑|刻板印象|偏见|语言暴力|骂人|辱骂|脏话")
AGAINST = re.compile("反对|反歧视|避免|消除|杜绝|拒绝|不该|不应|要不得|害死人|不存在|举报|没必要|不要|被[^，,。！？]{0,4}(?:辱骂|骂)")
SCAM = re.compile("骗子")
VICTIM = re.compile("是不是|是骗子吗|骗子吗|是骗子吧|这是骗子|被骗|上当|防骗|小心|当心|别理|别信|举报|报警|冒充|给我|找我|又来")
# A sentence that addresses someone (你, 您) calls that person a scammer: not a mention.
ADDRESS = re.compile("你|您|妳|尼玛|他妈|tm", re.I)
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
_FIRSTS = re.compile(f"[{''.join(sorted(set(_BY_FIRST) | GROUP_CHARS))}]")


def names_group(text: str) -> bool:
    """Whether ``text`` names one of COLD's groups (``GROUP_WORDS``, ``GROUP_CHARS``). The
    words' first characters in the text first (one character class), then a substring test
    per candidate word: an alternation
    regex of the same words took ~190 µs over 340 characters (re tries each word at each
    position), this ~10 µs."""
    firsts = set(_FIRSTS.findall(text))
    if not firsts:
        return False
    if not GROUP_CHARS.isdisjoint(firsts):
        return True
    return any(w in text for c in firsts for w in _BY_FIRST[c])


_SENTENCE_END = "。！？!?；;\n"
_SENTENCE = re.compile(f"[^{re.escape(_SENTENCE_END)}]+")
_QUOTE_CHARS = "“‘「『\"'"


def _sentences(text: str):
    for m in _SENTENCE.finditer(text):
        yield m.span()


def _sentence_of(text: str, pos: int) -> tuple[int, int]:
    s = max(text.rfind(c, 0, pos) for c in _SENTENCE_END) + 1
    e = len(text)
    for c in _SENTENCE_END:
        i = text.find(c, pos)
        if 0 <= i < e:
            e = i
    return s, e


def mention_spans(text: str) -> list[tuple[int, int]]:
    """Spans of words ``text`` mentions rather than uses (see the module's docstring), sorted;
    none in a text that names a group (``names_group``)."""
    if names_group(text):
        return []
    spans = []
    quoted = any(q in text for q in _QUOTE_CHARS)
    for m in _QUOTES.finditer(text) if quoted else ():  # a quote may hold its own ！ or ？: its sentence is where it starts
        s, e = _sentence_of(text, m.start())
        if SPEECH.search(text, s, max(e, m.end())):
            spans.append(m.span())
    meta, scam = META.search(text) is not None, SCAM.search(text) is not None
    for s, e in _sentences(text) if meta or scam else ():  # most texts hold neither: no sentence loop
        if meta and AGAINST.search(text, s, e):
            spans += [m.span() for m in META.finditer(text, s, e)]
        if scam and VICTIM.search(text, s, e) and not ADDRESS.search(text, s, e):
            spans += [m.span() for m in SCAM.finditer(text, s, e)]
    spans.sort()
    return spans


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


def _offensive_scorer(check):
    """``(score(text) -> logit, cut logit)`` for ``check``'s offensive category, or None when
    ``check`` is not a classifier with one."""
    bound = getattr(check, "_bound", None)
    if bound is None or CATEGORY not in bound.cats:
        return None
    k = bound.cats.index(CATEGORY)
    norm = check.normaliser

    def score(text: str) -> float:
        return float(bound.model.logits_codes(norm.normalise(text).codes)[k])

    return score, float(bound.cut[k])


def unmentioned(findings: list[Finding], text: str, checks) -> list[Finding]:
    """``findings`` without a classifier's offensive finding whose score rests on words the text
    only mentions: scored again with ``mention_spans`` cut out, the text scores under
    ``REST_MAX`` (and under the category's threshold). ``checks``: the pipeline's checks; the
    classifier whose rule the finding names scores the text again, with its own model and
    threshold. Runs only for a text with that finding (~2-50 µs per ≤ 1 KB text, plus one
    scoring where mentioned words are found)."""
    i = next((i for i, f in enumerate(findings) if f.category == CATEGORY and f.rule.startswith(CLASSIFIER_RULE)), None)
    if i is None:
        return findings
    spans = mention_spans(text)
    if not spans:
        return findings
    rule = findings[i].rule
    for check in checks:
        if f"{CLASSIFIER_RULE}{getattr(getattr(check, 'path', None), 'name', '')}" != rule:
            continue
        got = _offensive_scorer(check)
        if got is None:
            return findings
        score, cut = got
        if score(without(text, spans)) >= min(cut, REST_MAX_LOGIT):
            return findings
        return findings[:i] + findings[i + 1:]
    return findings

