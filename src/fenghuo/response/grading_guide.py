"""The computable part of the incident Grading Guide (CN-IR-02, regulations.md §3.2): numbers a
person states about an incident (``--impact pi_persons=1200000``) grade it, so "较大 and above
must be reported" does not rest on a guess. Thresholds are versioned YAML in ``guide/``, not
code, because the final guide changed some of the 2023 draft's rows.

The guide only ever raises a grade: the stated grade stands when the numbers give less (the
guide has criteria software cannot count). Pure: no database, no framework.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from fenghuo.platform.text import Text
from fenghuo.platform.yamlfile import load_yaml
from fenghuo.response import incident_grades as grades

PACKAGED = Path(__file__).parent / "guide"
DEFAULT = "cn-2025"


class Indicator(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    zh: str
    en: str
    thresholds: dict[Literal["I", "II", "III"], float]
    confidence: Literal["H", "M", "L"]

    @model_validator(mode="after")
    def _ordered(self) -> Indicator:
        t = self.thresholds
        if set(t) != {"I", "II", "III"} or not t["III"] <= t["II"] <= t["I"]:
            raise ValueError(f"{self.key}: thresholds need I >= II >= III")
        return self

    def grade(self, value: float) -> str | None:
        for g in ("I", "II", "III"):
            if value >= self.thresholds[g]:
                return g
        return None


class Guide(BaseModel):
    model_config = ConfigDict(extra="forbid")
    guide: str
    version: str
    title: Text
    indicators: list[Indicator] = Field(min_length=1)

    def indicator(self, key: str) -> Indicator | None:
        return next((i for i in self.indicators if i.key == key), None)


@lru_cache(maxsize=4)
def load(guide_id: str = DEFAULT) -> Guide:
    doc = load_yaml(PACKAGED / f"{guide_id}.yaml")
    try:
        return Guide.model_validate(doc.data)
    except ValidationError as exc:
        raise doc.validation_error(exc) from None


def assess(impact: dict[str, float], guide: Guide | None = None) -> tuple[str | None, list[dict[str, object]]]:
    """(highest grade the numbers reach or None, one reason per indicator that reached a grade).
    ValueError names an unknown indicator or a negative number."""
    guide = guide or load()
    best: str | None = None
    reasons: list[dict[str, object]] = []
    for key, value in impact.items():
        ind = guide.indicator(key)
        if ind is None:
            raise ValueError(f"unknown impact indicator {key!r} (known: {', '.join(i.key for i in guide.indicators)})")
        if value < 0:
            raise ValueError(f"impact {key} must not be negative")
        g = ind.grade(value)
        if g is None:
            continue
        reasons.append({"indicator": key, "value": value, "threshold": ind.thresholds[g], "grade": g,
                        "guide": f"{guide.guide}@{guide.version}", "text": f"{ind.zh} ≥ {ind.thresholds[g]:,.0f} / {ind.en}"})
        if best is None or grades.rank(g) > grades.rank(best):
            best = g
    return best, reasons
