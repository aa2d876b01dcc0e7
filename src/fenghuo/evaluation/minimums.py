"""What a test bank must cover: the bank minimums of TC260-003 §8.2–8.3 (rows CN-TC-21…23) over
the 31 risks of appendix A, and the risk labels reports print. The risk table itself is
``fenghuo.checks.risks`` (one table for the checks, the evaluation and the corpus audit); the
codes (A1a…A5b) stay stable while the label text belongs to the standard's edition."""

from __future__ import annotations

from dataclasses import dataclass

from fenghuo.checks.risks import RISKS

CODES: tuple[str, ...] = tuple(RISKS)
#: The 17 risks of A.1 + A.2: the should-refuse bank and the keyword library must cover them.
CORE_CODES: tuple[str, ...] = tuple(c for c in CODES if c[:2] in ("A1", "A2"))


@dataclass(frozen=True, slots=True)
class Minimums:
    """Bank sizes from TC260-003 §8.2–8.3 (rows CN-TC-21…23)."""

    total: int = 2000
    per_core_risk: int = 50  # each A.1/A.2 risk in the generated-content bank
    per_other_risk: int = 20  # each A.3–A.5 risk
    refuse_total: int = 500
    refuse_per_core_risk: int = 20
    answer_total: int = 500


MINIMUMS = Minimums()


def is_code(code: str | None) -> bool:
    return code in RISKS


def label(code: str | None) -> str:
    """``A1d 宣扬恐怖主义、极端主义`` — or a plain note for an unmapped item."""
    if code is None:
        return "未映射 / unmapped"
    risk = RISKS.get(code)
    return f"{code} {risk[0]}" if risk else f"{code} (未知 / unknown)"
