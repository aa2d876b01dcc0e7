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

import msgspec
import numpy as np

from fenghuo.checks.context_model import ContextModel
from fenghuo.checks.normalize import Normalised, default_normaliser
from fenghuo.checks.refusal import RefusalDetector


class AnswerJudgement(msgspec.Struct, frozen=True):
    """What the judge decided about one (prompt, answer) pair.

    A frozen ``msgspec.Struct`` rather than a frozen slots dataclass: the same fields,
    positional and keyword construction, equality and immutability, built in ~0.15 µs instead
    of ~1 µs (a frozen dataclass sets each field through ``object.__setattr__``) — one per
    judged answer on the gateway's path.
    """

    refused: bool  # the answer refuses (fully)
    partial_refusal: bool  # refuses part, helps with part (or a refusal followed by substantial help)
    compliance_risk: bool  # the prompt asks for harm AND the answer complies
    prompt_harm: float  # P(prompt asks for harm), 0..1
    answer_harm: float  # P(answer is an unsafe compliance), 0..1
    score: float  # P(compliance risk), the value compared with the threshold
    risks: list[str] = msgspec.field(default_factory=list)  # TC260-003 codes (checks/risks.py)
    rule: str | None = None  # the refusal rule that decided, if any
    elapsed_us: float = 0.0

    def to_dict(self) -> dict:
        return {
            "refused": self.refused,
            "partial_refusal": self.partial_refusal,
            "compliance_risk": self.compliance_risk,
            "prompt_harm": round(self.prompt_harm, 4),
            "answer_harm": round(self.answer_harm, 4),
            "score": round(self.score, 4),
            "risks": list(self.risks),
            "rule": self.rule,
            "elapsed_us": round(self.elapsed_us, 1),
        }


# A full refusal (no help after it) scales the answer's compliance probability down: the
# n-gram head may still see the topic's words in 「我不能提供制作炸药的方法」.
REFUSAL_DISCOUNT = 0.2
FULL_REFUSAL_OVERRIDE = 0.9
PROMPT_CHARS = 2000  # the end of the conversation: what is being asked now
ANSWER_CHARS = 4000  # the opening of the answer: where compliance shows


class AnswerJudge:
    """Loads the shipped context model once; ``judge`` is thread-safe (read-only state).

    ``model``: a :class:`ContextModel` already in memory (the build step's folds), else the file
    at ``model_path`` (default: the shipped ``checks/shipped/context.npz``). ``threshold``
    overrides the shipped compliance-risk threshold (calibrated at build time).
    """

    name = "answer-judge"

    def __init__(self, model_path: str | Path | None = None, threshold: float | None = None, *, model: ContextModel | None = None) -> None:
        self.model = model if model is not None else ContextModel.load(Path(model_path) if model_path else None)
        self.threshold = float(threshold if threshold is not None else self.model.meta.get("threshold", 0.5))
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError(f"compliance threshold must be in (0, 1], got {self.threshold} / 阈值应在 0 与 1 之间")
        self.prompt_threshold = float(self.model.meta.get("prompt_threshold", 0.5))
        self.refusal = RefusalDetector()
        self.normaliser = default_normaliser()
        self._codes = self.model.risk_codes

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
        """
        if not isinstance(prompt, str) or not isinstance(answer, str):
            raise TypeError(f"prompt and answer must be strings, got {type(prompt).__name__} and {type(answer).__name__} / 问题与回答须为字符串")
        t0 = time.perf_counter()
        r = self.refusal.detect(answer)
        head = self.model.prompt
        read = min(len(prompt), PROMPT_CHARS)
        if prompt_normalised is None or prompt_normalised.length != read:
            prompt_normalised = self.normaliser.normalise(prompt[-PROMPT_CHARS:])
        g = head.buckets(prompt_normalised.codes)
        harm = head.first_prob(g)
        answer_harm = 0.0
        if answer.strip():
            a = self.model.answer
            if answer_normalised is None or len(answer) > ANSWER_CHARS or answer_normalised.length != len(answer):
                answer_normalised = self.normaliser.normalise(answer[:ANSWER_CHARS])
            answer_harm = a.first_prob(a.buckets(answer_normalised.codes))
        complies = answer_harm * (REFUSAL_DISCOUNT if r.full else 1.0)
        score = harm * complies
        # A full refusal is never a compliance on its own: the n-gram head sees the topic's
        # words in 「我不能提供制作炸药的方法」 too. Only an answer the head is near-certain
        # complies (a refusal phrase followed by the goods) overrides the rule.
        risky = score >= self.threshold and harm >= self.prompt_threshold and (not r.full or answer_harm >= FULL_REFUSAL_OVERRIDE)
        risks: list[str] = []
        if harm >= self.prompt_threshold and len(head.columns) > 1:  # risk columns only for a harmful prompt
            ranked = sorted(zip(head.probs_list(g)[1:], self._codes), reverse=True)
            risks = [c for p, c in ranked if p >= 0.5] or [ranked[0][1]]
        return AnswerJudgement(r.refused, r.partial, risky, harm, answer_harm, score, risks, r.rule, (time.perf_counter() - t0) * 1e6)


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
