"""Threshold profiles: the numbers a verdict is held to, versioned and replaceable.

GB/T 45654 (TC260-003 §9.3–9.4) is the default; a user adds their own by writing the same YAML
with other numbers (a stricter internal gate, a smaller smoke profile for CI).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml

from fenghuo.platform.documents import read_yaml
from fenghuo.platform.paths import NAME as _NAME

DEFAULT_PROFILE = "gbt45654"
#: CN-TC-28's three generated-content checks, each its own random draw and its own result.
GENERATED = ("generated_manual", "generated_keyword", "generated_classifier")
METRICS = (*GENERATED, "refuse", "answer")


def expand_generated(d: dict) -> dict:
    """A legacy ``generated`` entry (one combined check) stands for all three of CN-TC-28."""
    if "generated" not in d:
        return d
    out = {k: v for k, v in d.items() if k != "generated"}
    for k in GENERATED:
        out.setdefault(k, d["generated"])
    return out


@dataclass(frozen=True, slots=True)
class MetricRule:
    metric: str  # generated | refuse | answer
    threshold: float
    direction: str  # "min": rate must be >= threshold; "max": rate must be <= threshold
    min_n: int  # sample size the rules demand; fewer is "insufficient"
    required: bool = True  # when False, an empty sample is "not applicable", not a failure
    clause: str = ""

    def meets(self, rate: float) -> bool:
        return rate >= self.threshold if self.direction == "min" else rate <= self.threshold


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    version: str
    title: str
    rules: dict[str, MetricRule]
    decision: str = "point"  # "point": compare the rate; "wilson_bound": compare the CI bound
    per_risk_gate: bool = False  # whether every risk code must also meet the thresholds
    source: str = ""

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "version": self.version,
            "title": self.title,
            "decision": self.decision,
            "per_risk_gate": self.per_risk_gate,
            "source": self.source,
            "rules": {k: {"threshold": r.threshold, "direction": r.direction, "min_n": r.min_n, "required": r.required, "clause": r.clause} for k, r in self.rules.items()},
        }


def parse_profile(data: dict, source: str) -> Profile:
    """Build a profile from YAML data, naming the file and key of anything wrong."""
    if not isinstance(data, dict):
        raise ValueError(f"{source}: 配置必须是映射 / profile must be a mapping")
    rules = {}
    metrics = expand_generated(dict(data.get("metrics") or {}))
    for key in METRICS:
        spec = metrics.get(key)
        if spec is None:
            raise ValueError(f"{source}: 缺少 metrics.{key} / missing metrics.{key}")
        if ("min_rate" in spec) == ("max_rate" in spec):
            raise ValueError(f"{source}: metrics.{key} 需要 min_rate 或 max_rate 之一 / needs exactly one of min_rate, max_rate")
        direction = "min" if "min_rate" in spec else "max"
        threshold = float(spec["min_rate" if direction == "min" else "max_rate"])
        if not 0 <= threshold <= 1:
            raise ValueError(f"{source}: metrics.{key} 阈值须在 0–1 / threshold must be within 0–1, got {threshold}")
        rules[key] = MetricRule(key, threshold, direction, int(spec.get("min_n", 0)), bool(spec.get("required", True)), str(spec.get("clause", "")))
    decision = str(data.get("decision", "point"))
    if decision not in ("point", "wilson_bound"):
        raise ValueError(f"{source}: decision 必须是 point 或 wilson_bound / must be point or wilson_bound")
    return Profile(
        name=str(data.get("name") or Path(source).stem),
        version=str(data.get("version", "0")),
        title=str(data.get("title", "")),
        rules=rules,
        decision=decision,
        per_risk_gate=bool(data.get("per_risk_gate", False)),
        source=source,
    )


def load_profile(name_or_path: str | Path | None = None) -> Profile:
    """A built-in profile by name (``gbt45654``) or a user's YAML file by path."""
    name_or_path = name_or_path or DEFAULT_PROFILE
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") and path.exists():
        return parse_profile(read_yaml(path), str(path))  # bounded reader (issue 14)
    builtin = resources.files("fenghuo.evaluation") / "profiles" / f"{name_or_path}.yaml"
    if not _NAME.fullmatch(str(name_or_path)) or not builtin.is_file():  # a built-in name, never a path
        raise ValueError(f"未知配置 / unknown profile {str(name_or_path)!r}: not a built-in name and no such YAML file")
    return parse_profile(yaml.safe_load(builtin.read_text(encoding="utf-8")), f"builtin:{name_or_path}")
