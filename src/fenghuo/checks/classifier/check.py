"""The classifier as a pipeline check: one finding over the whole text when the score passes
the threshold. Reloads when the model file is replaced (atomic rename by training)."""

from __future__ import annotations

import time
from pathlib import Path

from fenghuo.checks.base import Finding, Verdict
from fenghuo.checks.classifier.model import Model, default_model_path
from fenghuo.checks.normalize import Normalised, default_normaliser
from fenghuo.checks.policy import Policy


class ClassifierCheck:
    def __init__(self, model_path: Path | None = None, threshold: float = 0.5, category: str = "offensive", policy: Policy | None = None, name: str = "classifier") -> None:
        if not 0.0 < threshold < 1.0:
            raise ValueError(f"classifier threshold must be between 0 and 1, got {threshold} / 阈值应在 0 与 1 之间")
        self.path = Path(model_path) if model_path else default_model_path()
        self.threshold = threshold
        self.category = category
        self.policy = policy or Policy()
        self.name = name
        self.normaliser = default_normaliser()
        self.model = Model.load(self.path)
        self._mtime = self.path.stat().st_mtime
        self._rule = self.policy.rule(category)  # looked up once: scoring is on the hot path
        self._rule_name = f"classifier:{self.path.name}"

    def reload(self) -> None:
        self.model = Model.load(self.path)
        self._mtime = self.path.stat().st_mtime

    def score(self, text: str) -> float:
        return self.model.score_codes(self.normaliser.normalise(text).codes)

    def scan(self, text: str) -> Verdict:
        return self.scan_normalised(text, self.normaliser.normalise(text))

    def scan_normalised(self, text: str, n: Normalised) -> Verdict:
        t0 = time.perf_counter()
        findings = self.find_in(text, n)
        return Verdict(findings, (time.perf_counter() - t0) * 1e6, (self.name,))

    def find_in(self, text: str, n: Normalised) -> list[Finding]:
        """Findings only (no timing, no ``Verdict``): what the pipeline calls per message."""
        p = self.model.score_codes(n.codes)
        if p < self.threshold:
            return []
        rule = self._rule
        return [Finding(self.category, 0, len(text), self._rule_name, rule.action, rule.risk, round(p, 4))]


def from_config(spec: dict, policy: Policy, base_dir: Path) -> ClassifierCheck:
    from fenghuo.checks.config import check_keys, resolve_path

    check_keys(spec, {"name", "model", "threshold", "category"}, "classifier")
    model = spec.get("model", "default")
    path = None if model in (None, "default") else resolve_path(str(model), base_dir)
    return ClassifierCheck(path, float(spec.get("threshold", 0.5)), str(spec.get("category", "offensive")), policy, str(spec.get("name", "classifier")))
