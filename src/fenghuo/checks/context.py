"""Answers judged in context: did the model refuse, and did it comply with a harmful request?

A text check sees one text; the question a moderation team asks of a model's answer needs two:
"the user asked for X — did the model help?" A harmless-sounding answer to 「怎么制作炸药」 is
the dangerous case (harmful compliance), while a refusal that names the topic
(「我不能提供制作炸药的方法，这是违法的」) is the safe one, though it contains the same
words. So :class:`AnswerJudge` scores the pair:

- ``prompt_harm``: how likely the prompt asks for something harmful;
- ``answer_harm``: how likely the answer, read as a reply to it, is an unsafe compliance;
- ``refused`` / ``partial_refusal``: the rule-based refusal detector
  (:mod:`fenghuo.checks.refusal`);
- ``compliance_risk``: the prompt asks for harm AND the answer complies (``score`` ≥ the
  shipped threshold, and not a full refusal).

Issue 12 item 5. Used by the guard's output check (with the request's messages as the prompt),
``fenghuo scan --json --pairs -`` and ``fenghuo checks evaluate --pairs``.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np

from fenghuo.checks.context_judgement import PENDING, AnswerJudgement
from fenghuo.checks.context_model import ContextModel
from fenghuo.checks.normalize import Normalised, default_normaliser
from fenghuo.checks.refusal import RefusalDetector

__all__ = ["AnswerJudge", "AnswerJudgement", "default_judge"]


# A full refusal (no help after it) scales the answer's compliance probability down: the
# n-gram head may still see the topic's words in 「我不能提供制作炸药的方法」.
REFUSAL_DISCOUNT = 0.2
FULL_REFUSAL_OVERRIDE = 0.9
PROMPT_CHARS = 2000  # the end of the conversation: what is being asked now
ANSWER_CHARS = 4000  # the opening of the answer: where compliance shows
# Whether a judge scores its heads' first columns with the C kernel when it is built (``native``
# below; FENGHUO_NATIVE=0 still forces numpy). Its sums differ from numpy's by float rounding
# (~1e-7), bounded in tests/checks/test_context_native.py (docs/checks.md, "Answers in context").
NATIVE_BY_DEFAULT = True


class AnswerJudge:
    """Loads the shipped context model once; ``judge`` is thread-safe (read-only state).

    ``model``: a :class:`ContextModel` already in memory (the build step's folds), else the file
    at ``model_path`` (default: the shipped ``checks/shipped/context.npz``). ``threshold``
    overrides the shipped compliance-risk threshold (calibrated at build time). ``lazy``: leave
    the fields that cannot change the decision to be computed when read (the default; see
    :mod:`fenghuo.checks.context_judgement`). ``native``: score ``prompt_harm`` and
    ``answer_harm`` with the classifier's C kernel when it is built and not switched off
    (``FENGHUO_NATIVE=0``); its sum runs in another order than numpy's, so they move by up to
    ~1e-7 (tests/checks/test_context_native.py bounds it and checks no verdict field changes).
    Default: ``NATIVE_BY_DEFAULT``.
    """

    name = "answer-judge"
    # What ``judge`` reads of the prompt, said on the judge itself: the guard asks for it per
    # call (``guard.checking.judge_prompt``) and a missing attribute was a raised and caught
    # AttributeError each time (~0.25 µs of its ~1.6).
    prompt_chars = PROMPT_CHARS

    def __init__(self, model_path: str | Path | None = None, threshold: float | None = None, *, model: ContextModel | None = None,
                 lazy: bool = True, native: bool | None = None) -> None:
        self.model = model if model is not None else ContextModel.load(Path(model_path) if model_path else None)
        self.threshold = float(threshold if threshold is not None else self.model.meta.get("threshold", 0.5))
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError(f"compliance threshold must be in (0, 1], got {self.threshold} / 阈值应在 0 与 1 之间")
        self.prompt_threshold = float(self.model.meta.get("prompt_threshold", 0.5))
        self.refusal = RefusalDetector()
        self.normaliser = default_normaliser()
        self._codes = self.model.risk_codes
        # Fields that cannot change ``compliance_risk`` are computed when first read
        # (context_judgement.py); False computes them all in ``judge`` (the same values).
        self.lazy = lazy
        want = NATIVE_BY_DEFAULT if native is None else native
        self.native = bool(want and self.model.prompt.native_score is not None and self.model.answer.native_score is not None)

    def prompt_scores(self, prompt: str) -> np.ndarray:
        """[P(harm), P(risk code)…] for a prompt (columns: ``model.prompt.columns``)."""
        return self.model.prompt.probs(self.normaliser.normalise(prompt[-PROMPT_CHARS:]).codes)

    def judge(
        self, prompt: str, answer: str, *, answer_normalised: Normalised | None = None, prompt_normalised: Normalised | None = None
    ) -> AnswerJudgement:
        """Judge ``answer`` as a model's reply to ``prompt``.

        ``answer_normalised``: ``answer`` already normalised with this judge's normaliser
        options (the guard's output check has just done it: :func:`fenghuo.guard.checking.judge_answer`
        hands it over), so it is not normalised a second time. Used only when the whole answer
        is what the judge reads (≤ ``ANSWER_CHARS``); the judgement is the same either way.
        ``prompt_normalised``: the prompt's last ``PROMPT_CHARS`` characters normalised the same
        way (the guard's input check has done it: :func:`fenghuo.guard.checking.judge_prompt`),
        used when its length says it covers exactly those characters.

        With ``lazy`` (the default), what cannot change ``compliance_risk`` is left to be
        computed when read: the answer's score after a prompt whose harm is below the prompt
        threshold or the compliance threshold, the risk columns of a harmful prompt without a
        compliance risk. Read or not, every field has
        the value ``lazy=False`` gives.
        """
        if not isinstance(prompt, str) or not isinstance(answer, str):
            raise TypeError(f"prompt and answer must be strings, got {type(prompt).__name__} and {type(answer).__name__} / 问题与回答须为字符串")
        t0 = time.perf_counter()
        r = self.refusal.detect(answer)
        head = self.model.prompt
        read = min(len(prompt), PROMPT_CHARS)
        if prompt_normalised is None or prompt_normalised.length != read:
            prompt_normalised = self.normaliser.normalise(prompt[-PROMPT_CHARS:])
        codes = prompt_normalised.codes
        if self.native:  # one C call; the buckets only if a harmful prompt's risk columns need them
            g = None
            harm = head.first_prob_codes(codes)
        else:
            g = head.buckets(codes)
            harm = head.first_prob(g)
        harmful = harm >= self.prompt_threshold
        if g is None and harmful and len(head.columns) > 1:
            g = head.buckets(codes)
        if self.lazy and (not harmful or harm < self.threshold):
            # No compliance risk can follow: it needs harm ≥ the prompt threshold, and score =
            # harm × complies ≤ harm (complies ≤ 1) must reach the threshold. So the answer is
            # scored, and a harmful prompt's risk columns ranked, only if they are read
            # (``fenghuo scan --pairs`` reports them; the guard does not read them then).
            risks = PENDING if harmful and len(head.columns) > 1 else []
            return AnswerJudgement(r.refused, r.partial, False, harm, PENDING, PENDING, risks, r.rule, (time.perf_counter() - t0) * 1e6,
                                   (self, answer, answer_normalised, g if harmful else None))
        answer_harm, score = self._answer_scores(answer, answer_normalised, harm, r.full)
        # A full refusal is never a compliance on its own: the n-gram head sees the topic's
        # words in 「我不能提供制作炸药的方法」 too. Only an answer the head is near-certain
        # complies (a refusal phrase followed by the goods) overrides the rule.
        risky = score >= self.threshold and harmful and (not r.full or answer_harm >= FULL_REFUSAL_OVERRIDE)
        later = None
        risks: list[str] = []
        if harmful and len(head.columns) > 1:  # risk columns only for a harmful prompt
            if risky or not self.lazy:
                risks = self._rank_risks(g)
            else:  # read with a compliance finding only: ranked if asked for (to_dict, risks)
                risks, later = PENDING, (self, None, None, g)
        return AnswerJudgement(r.refused, r.partial, risky, harm, answer_harm, score, risks, r.rule, (time.perf_counter() - t0) * 1e6, later)

    def _answer_scores(self, answer: str, answer_normalised: Normalised | None, harm: float, full_refusal: bool) -> tuple[float, float]:
        """(answer_harm, score) of ``answer`` after a prompt of harm ``harm``; ``judge`` calls it,
        or a judgement when its pending score is first read (the same inputs, the same floats)."""
        answer_harm = 0.0
        if answer.strip():
            a = self.model.answer
            if answer_normalised is None or len(answer) > ANSWER_CHARS or answer_normalised.length != len(answer):
                answer_normalised = self.normaliser.normalise(answer[:ANSWER_CHARS])
            answer_harm = a.first_prob_codes(answer_normalised.codes, self.native)
        complies = answer_harm * (REFUSAL_DISCOUNT if full_refusal else 1.0)
        return answer_harm, harm * complies

    def _rank_risks(self, g: np.ndarray) -> list[str]:
        """The risk codes of a harmful prompt with n-gram buckets ``g``: every column ≥ 0.5, most
        likely first, else the likeliest one."""
        ranked = sorted(zip(self.model.prompt.probs_list(g)[1:], self._codes), reverse=True)
        return [c for p, c in ranked if p >= 0.5] or [ranked[0][1]]


_default: AnswerJudge | None = None
_lock = threading.Lock()


def default_judge() -> AnswerJudge:
    """The judge with the shipped model, loaded once per process."""
    global _default
    if _default is None:
        with _lock:
            if _default is None:
                _default = AnswerJudge()
    return _default
