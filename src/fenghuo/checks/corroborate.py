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
"""

from __future__ import annotations

import msgspec

from fenghuo.checks.base import Action, Finding

DEFAULT_THRESHOLD = 0.2


SETTLED = {Action.CONTEXT_FLAG: Action.FLAG, Action.CONTEXT_BLOCK: Action.BLOCK}


def has_context(findings: list[Finding]) -> bool:
    return any(f.action in SETTLED for f in findings)


def settle(findings: list[Finding], scores: dict[str, float] | None, threshold: float = DEFAULT_THRESHOLD) -> list[Finding]:
    """``findings`` with every context finding given its action (flag or block) or dropped.

    ``scores``: the text's per-category model scores, or None when no check in the pipeline
    scores texts. None or empty (every scoring check abstained: the classifier does not judge a
    text mostly in another script) means no second opinion exists, so every context finding
    stands, as it would in a pipeline without a model."""
    keep = not scores or max(scores.values()) >= threshold
    out = []
    for f in findings:
        act = SETTLED.get(f.action)
        if act is not None:
            if not keep:
                continue
            f = msgspec.structs.replace(f, action=act)
        out.append(f)
    return out
