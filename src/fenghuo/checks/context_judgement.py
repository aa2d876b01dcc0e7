"""What the answer judge returns: :class:`AnswerJudgement`, whose costlier fields may be worked
out when first read.

Two of the judge's results are only needed by some readers (issue 19, gateway CPU per call):

- the *risk columns* (``risks``: the prompt head's TC260 columns, ranked) of a prompt read as
  harmful are what a compliance finding carries; the guard reads them only when there is a
  compliance risk, but the judge ranked them for every harmful prompt;
- the *answer's score* (``answer_harm``, and ``score`` which follows from it) cannot change the
  decision when the prompt's harm is below the prompt threshold (0.5) or below the compliance
  threshold (0.62: ``score`` = harm × complies ≤ harm), but ``fenghuo scan --pairs`` and the
  evaluation report it for every pair.

So the judge leaves them *pending* when they cannot change ``compliance_risk`` and computes them,
with the same code on the same inputs, the first time any of them is read (``to_dict``,
equality, ``repr`` and pickling read them too). A reader sees the same values either way; the
judge's ``lazy=False`` computes everything at once (the tests compare the two).

A plain class with ``__slots__`` rather than a frozen ``msgspec.Struct``: a struct's fields
cannot be filled in later. The public fields are read-only properties (assigning one raises
``AttributeError``, as on the frozen struct); construction costs ~0.2 µs instead of ~0.1.
``elapsed_us`` is the time of the ``judge`` call; fields computed later are not in it.
"""

from __future__ import annotations

from operator import attrgetter
from typing import Any

FIELDS = ("refused", "partial_refusal", "compliance_risk", "prompt_harm", "answer_harm", "score", "risks", "rule", "elapsed_us")
PENDING: Any = type("_Pending", (), {"__repr__": lambda self: "<pending>", "__slots__": ()})()  # a field not computed yet


class AnswerJudgement:
    """What the judge decided about one (prompt, answer) pair.

    ``refused``: the answer refuses (fully or partly); ``partial_refusal``: refuses part, helps
    with part; ``compliance_risk``: the prompt asks for harm and the answer complies;
    ``prompt_harm`` / ``answer_harm``: the two heads' probabilities; ``score``: the value
    compared with the threshold; ``risks``: TC260-003 codes read from a harmful prompt;
    ``rule``: the refusal rule that decided, if any; ``elapsed_us``: the judge's time.

    Built as ``AnswerJudgement(refused, partial_refusal, compliance_risk, prompt_harm,
    answer_harm, score, risks=[], rule=None, elapsed_us=0.0)``; the judge alone passes
    ``PENDING`` values with ``_later``: ``(judge, answer, its normalisation or None, the
    prompt's n-gram buckets or None)``, what it needs to compute them.
    """

    __slots__ = ("_refused", "_partial", "_risky", "_harm", "_answer_harm", "_score", "_risks", "_rule", "_elapsed", "_later")
    __match_args__ = FIELDS

    def __init__(self, refused: bool, partial_refusal: bool, compliance_risk: bool, prompt_harm: float, answer_harm: float, score: float,
                 risks: list[str] | None = None, rule: str | None = None, elapsed_us: float = 0.0, _later: tuple | None = None) -> None:
        self._refused = refused
        self._partial = partial_refusal
        self._risky = compliance_risk
        self._harm = prompt_harm
        self._answer_harm = answer_harm
        self._score = score
        self._risks = [] if risks is None else risks
        self._rule = rule
        self._elapsed = elapsed_us
        # (judge, answer, normalised answer, prompt buckets) while a field is PENDING; dropped once
        # computed, so a kept judgement does not hold the answer or the n-grams longer than needed.
        self._later = _later

    refused = property(attrgetter("_refused"), doc="the answer refuses (fully or partly)")
    partial_refusal = property(attrgetter("_partial"), doc="declined, then helped anyway")
    compliance_risk = property(attrgetter("_risky"), doc="the prompt asks for harm AND the answer complies")
    prompt_harm = property(attrgetter("_harm"), doc="P(prompt asks for harm), 0..1")
    rule = property(attrgetter("_rule"), doc="the refusal rule that decided, if any")
    elapsed_us = property(attrgetter("_elapsed"), doc="the judge call's time (fields computed later are not in it)")

    @property
    def answer_harm(self) -> float:
        """P(answer is an unsafe compliance), 0..1."""
        if self._answer_harm is PENDING:
            self._resolve()
        return self._answer_harm

    @property
    def score(self) -> float:
        """P(compliance risk): prompt_harm × answer_harm (× the refusal discount)."""
        if self._score is PENDING:
            self._resolve()
        return self._score

    @property
    def risks(self) -> list[str]:
        """TC260-003 codes (checks/risks.py) read from a harmful prompt; [] for another."""
        if self._risks is PENDING:
            self._resolve()
        return self._risks

    def _resolve(self) -> None:
        later = self._later
        if later is None:  # another thread has just computed them (values are set first)
            return
        judge, answer, normalised, g = later
        if self._answer_harm is PENDING:
            answer_harm, score = judge._answer_scores(answer, normalised, self._harm, self._refused and not self._partial)
            self._score = score
            self._answer_harm = answer_harm
        if self._risks is PENDING:
            self._risks = judge._rank_risks(g)
        self._later = None

    def _values(self) -> tuple:
        if self._later is not None:
            self._resolve()
        return (self._refused, self._partial, self._risky, self._harm, self._answer_harm, self._score, self._risks, self._rule,
                self._elapsed)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._values() == other._values()

    __hash__ = None  # type: ignore[assignment]  # as the frozen struct with a list field: unhashable

    def __repr__(self) -> str:
        return "AnswerJudgement(" + ", ".join(f"{k}={v!r}" for k, v in zip(FIELDS, self._values())) + ")"

    def __reduce__(self):
        return (type(self), self._values())  # computed, without the judge

    def to_dict(self) -> dict:
        if self._later is not None:  # once, then the slots (a property per field cost ~1.3 µs more)
            self._resolve()
        return {
            "refused": self._refused,
            "partial_refusal": self._partial,
            "compliance_risk": self._risky,
            "prompt_harm": round(self._harm, 4),
            "answer_harm": round(self._answer_harm, 4),
            "score": round(self._score, 4),
            "risks": list(self._risks),
            "rule": self._rule,
            "elapsed_us": round(self._elapsed, 1),
        }
