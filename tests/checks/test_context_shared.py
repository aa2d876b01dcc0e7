"""The answer judge's cheaper path gives the same judgements as the plain one (issue 19).

The guard hands the judge the answer as its output check already normalised it
(``guard.checking.judge_answer`` → ``AnswerJudge.judge(..., answer_normalised=...)``); the
refusal detector skips a second pass that could find nothing; the risk columns are ranked from
a list. Each judgement must equal — every field, exact floats — the one the judge makes when it
normalises the answer itself, and the refusal and risk-column results must equal the earlier
code's, on the JADE v3 medium pairs (both answers of each question) and the XSTest completions.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from fenghuo.checks.classifier.script import han_share
from fenghuo.checks.context import default_judge
from fenghuo.checks.refusal import _HELPFUL, _OFFER, _REDIRECT, LEAD_CHARS, SHORT_CHARS, RefusalDetector, RefusalResult, _first
from fenghuo.guard.checking import (
    Checked,
    InputVerdicts,
    _normalised_by_scan,
    check_text,
    judge_answer,
    judge_prompt,
    load_default_checks,
)
from tests.checks.conftest import answer_pairs

FIELDS = ("refused", "partial_refusal", "compliance_risk", "prompt_harm", "answer_harm", "score", "risks", "rule")


@pytest.fixture(scope="module")
def pairs(shared) -> list[tuple[str, str]]:
    out = answer_pairs(shared)
    assert len(out) > 2000
    return out


def _fields(j) -> tuple:
    return tuple(getattr(j, k) for k in FIELDS)


def _old_detect(answer: str) -> RefusalResult:
    """The detector as it was: the whole text searched again after the lead, even when the
    lead was the whole text."""
    text = (answer or "").strip()
    if not text:
        return RefusalResult(True, "empty answer")
    hit, where = _first(text[:LEAD_CHARS], True)
    if hit is None and len(text) <= SHORT_CHARS:
        hit, where = _first(text, False)
    if hit is None:
        return RefusalResult(False, None)
    rest = text[where.end() :]
    helpful = len(_HELPFUL.findall(rest)) >= 3 and len(rest) > SHORT_CHARS // 2
    partial = (_OFFER.search(rest) is not None and len(rest) > 80) or (helpful and not _REDIRECT.search(rest[:400]))
    return RefusalResult(True, hit.pattern[:60], partial=partial)


def _old_probs(head, g: np.ndarray) -> list[float]:
    rows = head.weights.take(g, axis=0)
    total = np.ones(g.size, dtype=np.float32).dot(rows)
    z = head.bias + total / math.sqrt(g.size)
    return [1.0 / (1.0 + math.exp(-float(x))) if float(x) > -700.0 else 0.0 for x in np.asarray(z).ravel()]


def test_judging_with_the_output_checks_normalisation_changes_nothing(pairs):
    judge, checks = default_judge(), load_default_checks()
    shared = 0
    for prompt, answer in pairs:
        checked = check_text(checks, answer)
        n = _normalised_by_scan(checked.verdict, answer, judge)
        shared += n is not None
        plain = judge.judge(prompt, answer)
        assert _fields(judge.judge(prompt, answer, answer_normalised=n)) == _fields(plain), (prompt[:60], answer[:60])
        via_guard = judge_answer(judge, prompt, answer, checked)
        assert isinstance(via_guard, Checked) and _fields(via_guard.judgement) == _fields(plain)
    # The shipped pipeline normalises the way the judge does: the shared path is the one tested.
    assert shared > 0.9 * len(pairs)


def test_refusals_and_risk_columns_are_as_before(pairs):
    judge, d = default_judge(), RefusalDetector()
    head = judge.model.prompt
    for _prompt, answer in pairs:
        assert d.detect(answer) == _old_detect(answer), answer[:80]
    for prompt, _ in pairs[:400]:
        g = head.buckets(judge.normaliser.normalise(prompt[-2000:]).codes)
        assert head.probs_list(g) == _old_probs(head, g)
        assert head.probs_of(g).tolist() == _old_probs(head, g)


def test_a_normalisation_of_another_text_is_not_used(pairs):
    """A Normalised that is not of this answer (another length) is ignored, not trusted."""
    judge = default_judge()
    (p1, a1), (_p2, a2) = pairs[0], pairs[3]
    other = judge.normaliser.normalise(a2)
    assert len(a1) != len(a2)
    assert _fields(judge.judge(p1, a1, answer_normalised=other)) == _fields(judge.judge(p1, a1))


def test_judging_with_the_input_checks_normalisation_changes_nothing(pairs):
    """The guard hands the judge the input check's normalisation of the prompt's end
    (``guard.checking.judge_prompt``); each judgement equals the one the judge makes when it
    normalises the prompt itself, and most Chinese prompts take the shared path (none to share:
    an English prompt the pipeline's model does not score, or one whose scores the verdict
    already worked out — a harmful prompt with findings)."""
    judge, checks = default_judge(), load_default_checks()
    inputs = InputVerdicts(checks)  # the guard's input check, which names the text it scanned
    shared = zh = 0
    for prompt, answer in pairs[::3]:
        pn = judge_prompt(inputs.job([prompt]).run(), judge)
        if han_share(judge.normaliser.normalise(prompt).codes) > 0.5:
            zh += 1
            shared += pn is not None
        plain = judge.judge(prompt, answer)
        assert _fields(judge.judge(prompt, answer, prompt_normalised=pn)) == _fields(plain), prompt[:60]
        via_guard = judge_answer(judge, prompt, answer, check_text(checks, answer), prompt_normalised=pn)
        assert _fields(via_guard.judgement) == _fields(plain)
    assert zh > 300 and shared > 0.6 * zh


def test_a_prompt_normalisation_of_another_length_is_not_used(pairs):
    judge = default_judge()
    (p1, a1), (p2, _a2) = pairs[0], pairs[2]
    assert len(p1) != len(p2)
    other = judge.normaliser.normalise(p2)
    assert _fields(judge.judge(p1, a1, prompt_normalised=other)) == _fields(judge.judge(p1, a1))
