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
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class AnswerJudgement:
    """What the judge decided about one (prompt, answer) pair."""

    refused: bool  # the answer refuses (fully)
    partial_refusal: bool  # refuses part, helps with part (or a refusal followed by substantial help)
    compliance_risk: bool  # the prompt asks for harm AND the answer complies
    prompt_harm: float  # P(prompt asks for harm), 0..1
    answer_harm: float  # P(answer is an unsafe compliance), 0..1
    score: float  # P(compliance risk), the value compared with the threshold
    risks: list[str] = field(default_factory=list)  # TC260-003 codes (checks/risks.py)
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


class AnswerJudge:
    """Loads the shipped context model once; ``judge`` is thread-safe (read-only state)."""

    name = "answer-judge"

    def __init__(self, model_path=None, threshold: float | None = None) -> None:  # noqa: ANN001
        raise NotImplementedError("AnswerJudge: being built (issue 12 item 5) / 构建中")

    def judge(self, prompt: str, answer: str) -> AnswerJudgement:
        """Judge ``answer`` as a model's reply to ``prompt``."""
        raise NotImplementedError


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
