"""The one interface every content check implements: text in, a verdict out.

The guard, the evaluation judges and the data audit all depend on this file only, so a check
can be added or replaced without touching them.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, Protocol, runtime_checkable

import msgspec


class Action(str, Enum):
    """What a category means for the caller, set per category in the pipeline config."""

    BLOCK = "block"
    MASK = "mask"
    FLAG = "flag"
    # A topic word (性病, 彩票, 诈骗, 中央电视台): it names a subject that harmless text names too,
    # so its action applies only with a second opinion. A pipeline with a scoring check (the
    # classifier) settles it into a flag or a block where that check gives the text some score
    # and drops it elsewhere; without one it takes its action (``corroborate.py``).
    CONTEXT_FLAG = "context-flag"
    CONTEXT_BLOCK = "context-block"


class Finding(msgspec.Struct, frozen=True, gc=False):
    """One thing a check found.

    ``start``/``end`` index the *original* text (not the normalised one), so a caller can
    highlight or mask exactly what the user wrote.

    A frozen ``msgspec.Struct`` rather than a frozen dataclass: same fields, positional and
    keyword construction, equality and hashing, but built ~9× faster (0.34 vs 3.0 µs
    measured), which mattered on dense text where the lexicon reports ~80k findings per 20 MB.
    ``gc=False``: a finding holds only strings, numbers and an enum, so it can never be part
    of a reference cycle, and untracked objects do not trigger cyclic garbage collections
    (which made resolving 200k hits grow faster than linearly).
    """

    category: str  # our category, e.g. "gambling", "pii.cn_id"
    start: int
    end: int
    rule: str  # the rule, word or model that fired
    action: Action = Action.FLAG
    risk: str | None = None  # TC260-003 appendix A code, e.g. "A1f"
    score: float | None = None

    def to_dict(self) -> dict:
        return {
            "category": self.category,
            "start": self.start,
            "end": self.end,
            "rule": self.rule,
            "action": self.action.value,
            "risk": self.risk,
            "score": self.score,
        }


VERDICTS = ("block", "flag", "pass")


class LazyScores(msgspec.Struct, eq=False):
    """Per-category scores of checks that score every text, worked out when first read.

    The guard's hot path never reads scores, and a classifier's full score vector (a sigmoid
    and a dict per category) measured ~15 µs of a 1 KB message's ~90 µs, so the pipeline keeps
    ``(scores_in, text, normalised)`` and calls it only when someone asks. A classifier that
    cached its last message answers from the cache; otherwise it scores the text again — the
    same numbers either way. A check that raises here contributes no scores.

    A ``msgspec.Struct`` (``LazyScores(calls)``, as before) rather than a class with
    ``__init__``: one is made per message with a scoring check, in ~0.08 µs instead of ~0.25 µs.
    ``eq=False``: compared by identity, as before (its calls hold arrays, which ``==`` cannot
    compare to a bool).
    """

    _calls: list
    _value: dict[str, float] | None = None

    def get(self) -> dict[str, float]:
        if self._value is None:
            out: dict[str, float] = {}
            for fn, text, n in self._calls:
                try:
                    got = fn(text, n)
                except Exception:  # noqa: BLE001 - scores are a report; the verdict already stands
                    continue
                for k, v in got.items():
                    if v > out.get(k, -1.0):
                        out[k] = v
            self._value, self._calls = out, []
        return self._value

    def normalised(self, text: str, options: Any) -> Any:
        """The ``Normalised`` form of ``text`` a scoring check received, if one was made with
        normaliser ``options`` (so a later reader, the guard's answer judge, need not normalise
        it again); None when there is none (scores already worked out, no scoring check, or
        another normaliser)."""
        for fn, t, n in self._calls:
            if t is text and n is not None:
                norm = getattr(getattr(fn, "__self__", None), "normaliser", None)
                if norm is None:  # the pipeline's own normaliser, the default one
                    from fenghuo.checks.normalize import default_normaliser

                    norm = default_normaliser()
                if norm.options == options:
                    return n
        return None


class Verdict(msgspec.Struct):
    """Everything one check (or a pipeline of checks) found in one text.

    ``verdict`` sums it up for a person: ``block`` when any finding blocks, ``flag`` when
    anything was found (a flag, or personal information to mask), else ``pass``.
    ``scores`` gives one number per category: the highest of the findings' scores (a finding
    without a score — a lexicon word, a rule, a PII match — counts as 1.0) and of
    ``model_scores``, the per-category scores of checks that score every text (a classifier's
    ``scores_in``), also below their thresholds. Worked out on demand: the guard's hot path
    reads ``blocked`` and ``findings`` only.

    A (mutable) ``msgspec.Struct`` rather than a slots dataclass, like ``Finding``: the same
    fields, positional and keyword construction and equality, built in ~0.2 µs instead of
    ~0.6 µs — every ``scan`` makes one, and a 50-character message's whole lexicon scan is a
    few µs (docs/benchmarks.md, "Short messages").
    """

    findings: list[Finding] = msgspec.field(default_factory=list)
    elapsed_us: float = 0.0
    checks: tuple[str, ...] = ()
    errors: list[str] = msgspec.field(default_factory=list)  # a check that could not run says so
    model_scores: dict[str, float] | LazyScores | None = None  # category -> score from checks' ``scores_in``

    @property
    def blocked(self) -> bool:
        return any(f.action is Action.BLOCK for f in self.findings)

    @property
    def verdict(self) -> str:
        if not self.findings:
            return "pass"
        return "block" if self.blocked else "flag"

    @property
    def categories(self) -> list[str]:
        return sorted({f.category for f in self.findings})

    @property
    def risks(self) -> list[str]:
        return sorted({f.risk for f in self.findings if f.risk})

    @property
    def scores(self) -> dict[str, float]:
        ms = self.model_scores
        if isinstance(ms, LazyScores):
            ms = ms.get()
        out = dict(ms) if ms else {}
        for f in self.findings:
            s = 1.0 if f.score is None else f.score
            if s > out.get(f.category, -1.0):
                out[f.category] = s
        return {k: round(v, 4) for k, v in sorted(out.items())}

    @property
    def score(self) -> float:
        """The highest category score (0.0 when there is none): what a threshold is set on."""
        return max(self.scores.values(), default=0.0)

    def to_dict(self, text: str | None = None) -> dict:
        """The verdict as JSON-ready data; given the scanned ``text``, each finding carries the
        span it covers (``text``), as the user wrote it."""
        findings = []
        for f in self.findings:
            d = f.to_dict()
            if text is not None:
                d["text"] = text[f.start : f.end]
            findings.append(d)
        return {
            "verdict": self.verdict,
            "blocked": self.blocked,
            "categories": self.categories,
            "risks": self.risks,
            "scores": self.scores,
            "findings": findings,
            "elapsed_us": round(self.elapsed_us, 1),
            "checks": list(self.checks),
            "errors": list(self.errors),
        }


@runtime_checkable
class Check(Protocol):
    """A content check. ``scan`` must be thread-safe and must not raise on odd text.

    Optional, used when present: ``find_in(text, normalised) -> list[Finding]`` (the
    pipeline's fast path), ``scores_in(text, normalised) -> dict[str, float]`` (per-category
    scores also below the threshold), and ``categories() -> set[str]`` (every category the
    check can report, for ``fenghuo checks coverage``).
    """

    name: str

    def scan(self, text: str) -> Verdict: ...
