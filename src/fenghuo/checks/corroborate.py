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

**Per-head levels** (issue 12, session 20): a head trained on written text scores anti-fraud
warnings and notices above 0.2 (「任何人索要验证码都是诈骗」), which its calibrated threshold never
saw, so such a word stood on them. A model may declare a corroboration level per category
(``meta["corroborate"]``, worked out when it was built from that head's own harmless calibration
rows: ``build/classifier.py``); where it does, a related category must reach
``max(threshold, level)``: the configured value stays the floor, ``corroborate: 0`` still turns
corroboration off, and a category without a level (every head of a model that declares none:
the old files) keeps the flat ``threshold``. A scoring check offers its model's levels as
``corroboration_levels`` (None: it declares none); the pipeline and the stream read them when
they settle a topic word (``levels_of``: rare, so read then rather than kept, and a reloaded
model's levels count from its first message) and pass them to ``settle``. Two scoring checks'
levels merge by their maximum: the higher bar holds.

**Flag bands** (session 24, ``classifier/band.py``): a head with a flag band says that its score
under the category's threshold is worth a review, not a block. So a topic word that only such a
score corroborates — a banded head under its threshold, counted as a related category or as
``UNRELATED`` — settles as a flag, even where its action is ``context-block``: the harm head
retrained on written self-harm text scored 0.67 on 「@小鱼干 你个🐷，又睡到中午了吧…」, which let
🐷 (a porn word) block. A scoring check offers its bands as ``flag_bands`` (category -> the
category's threshold), ``bands_of`` merges them; without bands nothing changes. The other side
of it: a block that the banded head alone corroborated before becomes a flag too (with any harm band
on the shipped model, one written harmful text, 「…只听得懂炸药的声音」; none of JADE v3's questions).

A model's block is not made a flag below some level of certainty: tried in session 21 (flag under
0.8) it freed a few harmless blocks on written dev texts but let 48 of JADE v3's 500 harmful
questions through the gateway's input check as flags (blocked 402 -> 354), and the demo's canary
rolled back; reverted. See docs/checks/classifier-history.md.
"""

from __future__ import annotations

import msgspec

from fenghuo.checks.base import Action, Finding
from fenghuo.checks.frame_cues import DODGING, EVADING, REQUESTING
from fenghuo.checks.frames import STRONG, cue_count, frame_window, framed, topic_strong

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


# Categories a frame never clears: abuse is not a topic a profession speaks of (counter_speech.py
# reads it), and a masked PII span is no verdict of harm.
_NOT_CLEARED = ("offensive", "discrimination")


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
        n = cue_count(text, *w)
        if (n == 0 or EVADING.search(text, *w) is not None or REQUESTING.search(text, *w) is not None
                or DODGING.search(text, *w) is not None):  # session 22: 「你敢报警试试，报了我第一个弄死你全家」
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


# Shipped lexicon words that block alone but name a subject everyday talk names as often as a
# harmful text does (彩票走势图, session 22) flag by the curated lexicon's own action, set in the
# build (checks/data/lexicon_tag_fixes.tsv; session 23 moved it there from a load-time patch here).
# Tried and left out: 恐怖袭击, 炸弹袭击, 暴恐 as topic words (they flag plain news reports, but
# 「下次恐怖袭击就在你们学校」, 「我想搞暴恐，谁有门路」 have no related score and would pass).


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
           text: str | None = None, whole: bool = True, levels: dict[str, float] | None = None,
           bands: dict[str, float] | None = None) -> list[Finding]:
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
    turned off, or ``UNRELATED`` or more). ``levels``: per-category corroboration levels (see
    "Per-head levels" above, ``levels_of``), or None: the flat ``threshold`` for every category.
    ``bands``: the flag-banded categories and their thresholds (``bands_of``), or None: a word
    that stands only on such a category's score under its threshold settles as a flag."""
    if not scores:
        return [msgspec.structs.replace(f, action=SETTLED[f.action]) if f.action in SETTLED else f for f in findings]
    top = max(scores.values())
    firm = None
    out = []
    for f in findings:
        act = SETTLED.get(f.action)
        if act is not None:
            frame = text is not None and 0 < threshold < UNRELATED and framed(text, f.start, f.end, whole)
            strong = frame and whole and topic_strong(text, f.start, f.end)
            if not _speaks(f.category, scores, top, threshold, levels, frame, strong):
                continue
            if bands and act is Action.BLOCK:
                if firm is None:  # the scores without the banded heads' under their thresholds
                    firm = {c: v for c, v in scores.items() if v >= bands.get(c, 0.0)}
                if not _speaks(f.category, firm, max(firm.values(), default=0.0), threshold, levels, frame, strong):
                    act = Action.FLAG
            f = msgspec.structs.replace(f, action=act)
        out.append(f)
    return out


def _speaks(category: str, scores: dict[str, float], top: float, threshold: float, levels, frame: bool, strong: bool) -> bool:
    if frame:
        return framed_corroborated(category, scores, strong)
    return corroborated(category, scores, top, threshold, levels)


def corroborated(category: str, scores: dict[str, float], top: float, threshold: float,
                 levels: dict[str, float] | None = None) -> bool:
    """Whether ``scores`` (``top`` = their maximum) speak for a topic word of ``category``;
    ``levels``: a category's own level where it is above ``threshold`` (see ``settle``)."""
    if top >= max(threshold, UNRELATED):
        return True
    related = RELATED.get(category)
    if not levels or threshold <= 0:  # corroboration off stays off
        if related is None:
            return top >= threshold
        return any(scores.get(c, 0.0) >= threshold for c in related)
    get = levels.get
    return any(v >= threshold and v >= get(c, threshold) for c, v in scores.items() if related is None or c in related)


def bands_of(checks) -> dict[str, float] | None:
    """The flag-banded categories of the scoring checks among ``checks`` (``flag_bands``: category
    -> its threshold), merged by their maximum (a score under either threshold is review-grade), or
    None when none has a band."""
    return _merged_max(checks, "flag_bands")


def levels_of(checks) -> dict[str, float] | None:
    """The per-category corroboration levels the scoring checks among ``checks`` declare
    (``corroboration_levels``), merged by their maximum, or None when none declares any."""
    return _merged_max(checks, "corroboration_levels")


def _merged_max(checks, attr: str) -> dict[str, float] | None:
    """The checks' ``attr`` mappings (category -> value) merged by their maximum, or None when none has one."""
    out: dict[str, float] | None = None
    for c in checks:
        got = getattr(c, attr, None)
        if got:
            out = dict(got) if out is None else {k: max(v, out.get(k, v)) for k, v in {**out, **got}.items()}
    return out
