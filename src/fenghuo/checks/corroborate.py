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
"""

from __future__ import annotations

import re

import msgspec

from fenghuo.checks.base import Action, Finding

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


# Cues that a sentence speaks against the harm it names (see "Framed topic words" above): a
# warning, a report or enforcement, a question about the law or a judgment, a victim, a refusal.
FRAMING = re.compile(
    "防范|防骗|反诈|识别|辨别|警惕|提防|谨防|提醒|提示|当心|千万别|千万不要|别信|不要信|远离|禁毒"
    "|举报|报警|报案|打击|破获|捣毁|抓获"
    "|判几年|判多久|怎么判|量刑|违法吗|犯法吗|合法吗|是否违法|是否合法|判处|获刑|判决"
    "|被骗|受骗|上当|怎么办|维权|求助|危害"
    "|我不能|我无法|无法回答|不能回答|无法提供|不能提供|无法协助|不能协助|不能支持|不能参与|很抱歉|非常抱歉"
)
_SENTENCE_END = "。！？!?；;\n"
SENTENCE_REACH = 100  # characters either side of a topic word that its sentence may span


def framed(text: str, start: int, end: int) -> bool:
    """Whether the sentence of ``text`` holding ``start:end`` has a ``FRAMING`` cue. The sentence
    is cut at ``SENTENCE_REACH`` characters either side, so a long text without punctuation costs
    a bounded search per finding, not one over the whole text."""
    lo, hi = max(0, start - SENTENCE_REACH), min(len(text), end + SENTENCE_REACH)
    s = max(text.rfind(c, lo, start) for c in _SENTENCE_END) + 1 or lo
    e = hi
    for c in _SENTENCE_END:
        i = text.find(c, end, hi)
        if 0 <= i < e:
            e = i
    return FRAMING.search(text, s, e) is not None


SETTLED = {Action.CONTEXT_FLAG: Action.FLAG, Action.CONTEXT_BLOCK: Action.BLOCK}
# A lexicon word that acts alone (摇头丸, 网络赌场, 暴恐) names the harm in news and warnings
# too: in a framed sentence it is settled like a topic word (``frame_acting``).
_AS_TOPIC = {Action.BLOCK: Action.CONTEXT_BLOCK, Action.FLAG: Action.CONTEXT_FLAG}
LEXICON_RULE = "lexicon:"


def frame_acting(findings: list[Finding], text: str) -> list[Finding]:
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
        if f.action in _AS_TOPIC and f.rule.startswith(LEXICON_RULE) and framed(text, f.start, f.end):
            if out is None:
                out = list(findings)
            out[i] = msgspec.structs.replace(f, action=_AS_TOPIC[f.action])
    return findings if out is None else out


def has_context(findings: list[Finding]) -> bool:
    return any(f.action in SETTLED for f in findings)


def settle(findings: list[Finding], scores: dict[str, float] | None, threshold: float = DEFAULT_THRESHOLD,
           text: str | None = None) -> list[Finding]:
    """``findings`` with every context finding given its action (flag or block) or dropped.

    ``scores``: the text's per-category model scores, or None when no check in the pipeline
    scores texts. None or empty (every scoring check abstained: the classifier does not judge a
    text mostly in another script) means no second opinion exists, so every context finding
    stands, as it would in a pipeline without a model. Otherwise a finding stands where a
    category related to its own (``RELATED``) scores at least ``threshold``, or any category at
    least ``max(threshold, UNRELATED)``; a category outside ``RELATED`` takes any category.
    ``text`` (the text the spans index): where given, a finding in a framed sentence (``framed``)
    needs ``max(threshold, UNRELATED)`` in a related category too (unless ``threshold`` is 0:
    corroboration turned off)."""
    if not scores:
        return [msgspec.structs.replace(f, action=SETTLED[f.action]) if f.action in SETTLED else f for f in findings]
    top = max(scores.values())
    out = []
    for f in findings:
        act = SETTLED.get(f.action)
        if act is not None:
            need = threshold
            if text is not None and 0 < threshold < UNRELATED and framed(text, f.start, f.end):
                need = UNRELATED
            if not corroborated(f.category, scores, top, need):
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
