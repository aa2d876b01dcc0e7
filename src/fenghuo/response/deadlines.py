"""Reporting-deadline profiles: versioned YAML data, not constants, because the law changes
and differs by who you are (CN-IR-03/04/05: 1 h, 2 h, 4 h; EU Art. 73: 15/10/2 days).

A service's profile comes from its grade defaults (``reporting_profile`` in the grading table),
which names the legal system (CN or EU); within a family of profiles (``family: cn-2025``) the
operator's legal designation picks one (``operator_type: cii | central | other`` on the service
or its provider, CN-IR-03/04/05), never the AI risk grade. An incident keeps the profile id and
version it was opened under, so a later profile edit never moves a running clock. Shipped
profiles live in ``profiles/``; <data dir>/profiles/ and FENGHUO_PROFILES may add or replace
them by id.

Reportable: a grade in ``reportable_grades`` (CN-IR-02: 较大 and above) or, for profiles that
list them, any of ``reportable_flags`` (EU-12: an Art. 3(49) serious incident, whatever grade).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from fenghuo.platform.durations import parse_duration
from fenghuo.platform.errors import Invalid, NotFound
from fenghuo.platform.paths import data_dir
from fenghuo.platform.text import Text
from fenghuo.platform.yamlfile import load_yaml
from fenghuo.response import incident_grades as grades

PACKAGED = Path(__file__).parent / "profiles"
OperatorType = Literal["cii", "central", "other"]
OPERATOR_TYPES = ("cii", "central", "other")


class ClockDef(BaseModel):
    model_config = ConfigDict(extra="forbid")
    report: Literal["initial", "summary"]
    within: str
    start: Literal["detected", "aware", "handling_ended"] = Field(alias="from")
    when_flags: list[str] = Field(default_factory=list)
    rule: str = Field(min_length=1)

    @field_validator("within")
    @classmethod
    def _duration(cls, v: str) -> str:
        if parse_duration(v) <= 0:
            raise ValueError("a deadline must be longer than 0")
        return v

    @property
    def seconds(self) -> float:
        return parse_duration(self.within)


class Profile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    profile: str = Field(pattern=r"^[a-z0-9][a-z0-9.-]*$")
    version: str = Field(min_length=1)
    title: Text
    recipient: Text
    reportable_grades: list[str] = Field(min_length=1)
    reportable_flags: list[str] = Field(default_factory=list)
    family: str | None = None
    operator_type: OperatorType | None = None
    clocks: list[ClockDef] = Field(min_length=1)

    @field_validator("reportable_grades")
    @classmethod
    def _grades(cls, v: list[str]) -> list[str]:
        return [grades.normalise(g) for g in v]

    def reportable(self, grade: str, flags: list[str] | tuple[str, ...] = ()) -> bool:
        return grade in self.reportable_grades or bool(set(self.reportable_flags) & set(flags))


@dataclass(frozen=True)
class Deadline:
    report: str
    started_at: datetime
    due_at: datetime
    rule: str


def _load(path: Path) -> Profile:
    doc = load_yaml(path)
    try:
        return Profile.model_validate(doc.data)
    except ValidationError as exc:
        raise doc.validation_error(exc) from None


@lru_cache(maxsize=8)
def _profiles(dirs: tuple[Path, ...]) -> dict[str, Profile]:
    out: dict[str, Profile] = {}
    for d in dirs:
        for f in sorted(d.glob("*.yaml")):
            p = _load(f)
            out[p.profile] = p
    return out


def profile_dirs() -> tuple[Path, ...]:
    dirs = [PACKAGED, data_dir() / "profiles"]
    if os.environ.get("FENGHUO_PROFILES"):
        dirs.append(Path(os.environ["FENGHUO_PROFILES"]))
    return tuple(d for d in dirs if d.is_dir())


def profiles() -> dict[str, Profile]:
    return _profiles(profile_dirs())


def get(profile_id: str) -> Profile:
    found = profiles().get(profile_id)
    if found is None:
        raise NotFound(f"未知报告时限配置 {profile_id}（可用：{', '.join(sorted(profiles()))}）",
                       f"unknown reporting profile {profile_id} (available: {', '.join(sorted(profiles()))})", code="unknown_profile")
    return found


def for_operator(profile_id: str, operator_type: str | None) -> Profile:
    """The profile of ``profile_id``'s family for this operator designation (CN-IR-03/04/05):
    ``cii`` → 1 h, ``central`` → 2 h, ``other`` → 4 h. A profile without a family (EU) is kept."""
    base = get(profile_id)
    if base.family is None:
        return base
    wanted = operator_type or "other"
    for p in sorted(profiles().values(), key=lambda p: p.profile):
        if p.family == base.family and p.operator_type == wanted:
            return p
    return base


def deadlines(profile: Profile, grade: str, flags: list[str], starts: dict[str, datetime | None]) -> list[Deadline]:
    """One deadline per report kind whose start is known: the shortest clause that applies.
    Nothing when neither the grade (CN-IR-02) nor a flag (EU-12) makes it reportable."""
    if not profile.reportable(grade, flags):
        return []
    best: dict[str, Deadline] = {}
    for c in profile.clocks:
        if c.when_flags and not set(c.when_flags) & set(flags):
            continue
        start = starts.get(c.start)
        if start is None:
            continue
        d = Deadline(c.report, start, start + timedelta(seconds=c.seconds), f"{profile.profile}@{profile.version}: {c.rule}")
        if c.report not in best or d.due_at < best[c.report].due_at:
            best[c.report] = d
    return list(best.values())


def check_profile_file(path: str | Path) -> Profile:
    try:
        return _load(Path(path))
    except ValueError as exc:  # a bad grade name inside a validator
        raise Invalid(str(exc), str(exc), code="invalid_profile") from None
