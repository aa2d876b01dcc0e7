"""Grading (分级分类): service attributes + a versioned YAML table → a grade, its reasons and
the defaults that grade brings (fail-safe, resume approvals, reporting profile).

Pure: no database, no I/O except reading table files. Tables are data a deployment can
replace (see tables/cn-default.yaml for the condition language).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from fenghuo.platform.errors import Invalid, NotFound
from fenghuo.platform.paths import data_dir
from fenghuo.platform.text import Text
from fenghuo.platform.yamlfile import load_yaml
from fenghuo.registry.spec import ServiceSpec

PACKAGED = Path(__file__).parent / "tables"


class Failsafe(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mode: Literal["open", "closed"]
    after_seconds: int = Field(ge=0, le=10**9)


class GradeDefaults(BaseModel):
    model_config = ConfigDict(extra="forbid")
    failsafe: Failsafe
    resume_approvals: int = Field(ge=1, le=2)
    reporting_profile: str = Field(min_length=1)
    initial_state: Literal["running", "stopped", "paused"] = "running"
    # May a countersigned checklist stand in for an evaluation run on the way back from a pause?
    # (issue 14: where it may not, only a passing evaluation opens the recovery gate)
    checklist_recovery: bool = True
    # Must a service of this grade show its filing number and its base model's (CN-PO-12, CN-TC-12)?
    # Registration without them is refused, so no traffic reaches an unfiled service (issue 18).
    requires_filing: bool = False


class GradeDef(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1)
    name: Text
    defaults: GradeDefaults


class RuleDef(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1)
    when: dict[str, Any] = Field(min_length=1)
    grade: str
    reason: Text


ATTRIBUTES = set(ServiceSpec.model_fields) - {"id", "name", "provider", "jurisdiction", "grading_table", "labels", "primary_model"}


class GradingTable(BaseModel):
    model_config = ConfigDict(extra="forbid")
    table: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    version: str = Field(min_length=1)
    title: Text
    grades: list[GradeDef] = Field(min_length=2)
    rules: list[RuleDef] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> GradingTable:
        ids = [g.id for g in self.grades]
        if len(set(ids)) != len(ids):
            raise ValueError("grade ids must be unique")
        for i, r in enumerate(self.rules):
            if r.grade not in ids:
                raise ValueError(f"rules[{i}] ({r.id}): grade {r.grade!r} is not one of {ids}")
            for attr, cond in r.when.items():
                if attr not in ATTRIBUTES:
                    raise ValueError(f"rules[{i}] ({r.id}): unknown attribute {attr!r}; known: {sorted(ATTRIBUTES)}")
                if isinstance(cond, dict) and not set(cond) <= {"gte", "lte"}:
                    raise ValueError(f"rules[{i}] ({r.id}): {attr} condition may only use gte/lte")
        return self

    def rank(self, grade: str) -> int:
        return [g.id for g in self.grades].index(grade)

    def grade_def(self, grade: str) -> GradeDef:
        return self.grades[self.rank(grade)]


def _holds(value: Any, cond: Any) -> bool:
    if isinstance(cond, dict):
        if value is None:
            return False
        return ("gte" not in cond or value >= cond["gte"]) and ("lte" not in cond or value <= cond["lte"])
    if isinstance(cond, list):
        if isinstance(value, list):
            return bool(set(value) & set(cond))
        return value in cond
    return value == cond


@dataclass(frozen=True)
class Reason:
    rule: str
    grade: str
    zh: str
    en: str

    def to_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "grade": self.grade, "zh": self.zh, "en": self.en}


@dataclass(frozen=True)
class Grading:
    table: str
    version: str
    grade: str
    name_zh: str
    name_en: str
    reasons: list[Reason] = field(default_factory=list)
    defaults: dict[str, Any] = field(default_factory=dict)


def rule_mask(table: GradingTable, attributes: dict[str, Any]) -> tuple[bool, ...]:
    """Which of the table's rules hold for these attributes. It is all ``grade`` reads of them,
    so two services with the same mask get the same grading: a bulk registration grades once
    per distinct mask (tens in a file of thousands), not once per service (issue 19)."""
    return tuple(all(_holds(attributes.get(a), c) for a, c in rule.when.items()) for rule in table.rules)


def grade(table: GradingTable, attributes: dict[str, Any]) -> Grading:
    """The highest grade any matching rule asks for; every matching rule's reason is kept,
    those that set the final grade first."""
    return grade_mask(table, rule_mask(table, attributes))


def grade_mask(table: GradingTable, mask: tuple[bool, ...]) -> Grading:
    """``grade`` from the rules that hold (``rule_mask``)."""
    best = 0
    reasons: list[Reason] = []
    for rule, holds in zip(table.rules, mask, strict=True):
        if holds:
            reasons.append(Reason(rule.id, rule.grade, rule.reason.zh, rule.reason.en))
            best = max(best, table.rank(rule.grade))
    final = table.grades[best]
    reasons.sort(key=lambda r: -table.rank(r.grade))
    if not reasons:
        reasons = [Reason("baseline", final.id, "未触发任何提级规则", "no rule raised the grade above the baseline")]
    return Grading(table.table, table.version, final.id, final.name.zh, final.name.en, reasons, final.defaults.model_dump())


def load_table_file(path: str | Path) -> GradingTable:
    doc = load_yaml(path)
    try:
        return GradingTable.model_validate(doc.data)
    except ValidationError as exc:
        raise doc.validation_error(exc) from None


def _user_dirs() -> list[Path]:
    dirs = []
    if os.environ.get("FENGHUO_GRADING_DIR"):
        dirs.append(Path(os.environ["FENGHUO_GRADING_DIR"]))
    dirs.append(data_dir() / "grading")
    return dirs


def available_tables() -> dict[str, Path]:
    """Table id → file. A user's table with the same id replaces the packaged one."""
    found: dict[str, Path] = {}
    for directory in [PACKAGED, *reversed(_user_dirs())]:
        if directory.is_dir():
            for p in sorted(directory.glob("*.y*ml")):
                # parsed once per file version: this runs for every service graded (issue 19)
                found[_cached(str(p), p.stat().st_mtime).table] = p
    return found


@lru_cache(maxsize=32)
def _cached(path: str, mtime: float) -> GradingTable:
    return load_table_file(path)


def get_table(table_id: str) -> GradingTable:
    tables = available_tables()
    if table_id not in tables:
        raise NotFound(f"未知分级表 {table_id}（可用：{', '.join(sorted(tables))}）",
                       f"unknown grading table {table_id} (available: {', '.join(sorted(tables))})")
    p = tables[table_id]
    return _cached(str(p), p.stat().st_mtime)


def grade_service(spec: ServiceSpec) -> Grading:
    try:
        table = get_table(spec.grading_table)
    except NotFound as exc:
        raise Invalid(exc.zh, exc.en, field="grading_table") from None
    return grade(table, spec.grading_attributes())
