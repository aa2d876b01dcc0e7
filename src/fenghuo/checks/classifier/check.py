"""The classifier as a pipeline check: one finding over the whole text when the score passes
the threshold.

Reloads when the model file is replaced (training writes it by atomic rename): with
``reload_interval`` N > 0 (default 5 s; 0 = off), a scan at most every N seconds stats the
file — one ``os.stat``, about a microsecond — and when its modification time or size changed,
the new model is loaded on a background thread (≈ 3 ms, kept off the request) and swapped in
with one assignment. A file that fails to load is logged (``fenghuo.checks.classifier``) and
kept in ``last_reload_error``; the old model keeps scoring. ``reload()`` loads at once.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from fenghuo.checks.base import Finding, Verdict
from fenghuo.checks.classifier.model import Model, default_model_path
from fenghuo.checks.normalize import Normalised, default_normaliser
from fenghuo.checks.policy import Policy
from fenghuo.checks.reloading import BackgroundReload, file_signature

log = logging.getLogger("fenghuo.checks.classifier")


class ClassifierCheck(BackgroundReload):
    def __init__(
        self,
        model_path: Path | None = None,
        threshold: float = 0.5,
        category: str = "offensive",
        policy: Policy | None = None,
        name: str = "classifier",
        reload_interval: float = 5.0,
    ) -> None:
        if not 0.0 < threshold < 1.0:
            raise ValueError(f"classifier threshold must be between 0 and 1, got {threshold} / 阈值应在 0 与 1 之间")
        self.path = Path(model_path) if model_path else default_model_path()
        self.threshold = threshold
        self.category = category
        self.policy = policy or Policy()
        self.name = name
        self.normaliser = default_normaliser()
        if reload_interval < 0:
            raise ValueError(f"reload_interval must be >= 0, got {reload_interval} / 重载间隔不能为负")
        self.reload_interval = reload_interval
        self._sig = file_signature(self.path)
        self.model = Model.load(self.path)
        self._init_reload()
        self._rule = self.policy.rule(category)  # looked up once: scoring is on the hot path
        self._rule_name = f"classifier:{self.path.name}"

    def reload(self) -> None:
        """Load the model file now; raises (keeping the old model) if it cannot be loaded."""
        sig = file_signature(self.path)
        self.model = Model.load(self.path)
        self._sig, self.last_reload_error = sig, None

    def _signatures(self) -> tuple[int, int]:
        return file_signature(self.path)

    def _loaded_signatures(self) -> tuple[int, int]:
        return self._sig

    def _load_new(self, signatures: tuple[int, int]) -> None:
        self.model, self._sig = Model.load(self.path), signatures

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
        if self.reload_interval:
            self.reload_when_due()
        p = self.model.score_codes(n.codes)
        if p < self.threshold:
            return []
        rule = self._rule
        return [Finding(self.category, 0, len(text), self._rule_name, rule.action, rule.risk, round(p, 4))]


def from_config(spec: dict, policy: Policy, base_dir: Path) -> ClassifierCheck:
    from fenghuo.checks.config import check_keys, resolve_path

    check_keys(spec, {"name", "model", "threshold", "category", "reload_interval"}, "classifier")
    model = spec.get("model", "default")
    path = None if model in (None, "default") else resolve_path(str(model), base_dir)
    return ClassifierCheck(
        path, float(spec.get("threshold", 0.5)), str(spec.get("category", "offensive")), policy, str(spec.get("name", "classifier")),
        float(spec.get("reload_interval", 5.0)),
    )  # fmt: skip
