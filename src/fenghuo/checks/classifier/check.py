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
import os
import threading
import time
from pathlib import Path

from fenghuo.checks.base import Finding, Verdict
from fenghuo.checks.classifier.model import Model, default_model_path
from fenghuo.checks.normalize import Normalised, default_normaliser
from fenghuo.checks.policy import Policy

log = logging.getLogger("fenghuo.checks.classifier")


def _signature(path: Path) -> tuple[int, int]:
    st = os.stat(path)
    return st.st_mtime_ns, st.st_size


class ClassifierCheck:
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
        self._sig = _signature(self.path)
        self.model = Model.load(self.path)
        self._last_check = time.monotonic()
        self._tried: tuple[int, int] | None = None  # signature of the last file that failed to load
        self._reload_lock = threading.Lock()
        self._reloader: threading.Thread | None = None
        self.last_reload_error: str | None = None
        self._rule = self.policy.rule(category)  # looked up once: scoring is on the hot path
        self._rule_name = f"classifier:{self.path.name}"

    def reload(self) -> None:
        """Load the model file now; raises (keeping the old model) if it cannot be loaded."""
        sig = _signature(self.path)
        self.model = Model.load(self.path)
        self._sig, self.last_reload_error = sig, None

    def changed(self) -> bool:
        try:
            sig = _signature(self.path)
        except OSError:  # mid-replacement or removed: keep the model we have
            return False
        return sig != self._sig and sig != self._tried

    def reload_in_background(self) -> threading.Thread | None:
        """Start loading a replaced model file on a daemon thread (returned, to join); None when
        the file has not changed or a load is already running."""
        if not self.changed() or not self._reload_lock.acquire(blocking=False):
            return None
        t = threading.Thread(target=self._background_reload, name=f"{self.name}-reload", daemon=True)
        self._reloader = t
        t.start()
        return t

    def _background_reload(self) -> None:
        try:
            sig = _signature(self.path)
            try:
                model = Model.load(self.path)
            except Exception as exc:  # keep scoring with the old model, say why
                self._tried = sig
                self.last_reload_error = f"{type(exc).__name__}: {exc}"
                log.error("%s: model reload failed, keeping the previous model / 模型重新加载失败，继续使用旧模型: %s", self.name, self.last_reload_error)
                return
            self.model, self._sig, self._tried, self.last_reload_error = model, sig, None, None
            log.info("%s: model reloaded from %s / 模型已重新加载", self.name, self.path)
        except OSError as exc:
            self.last_reload_error = f"{type(exc).__name__}: {exc}"
        finally:
            self._reload_lock.release()

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
            now = time.monotonic()
            if now - self._last_check > self.reload_interval:
                self._last_check = now
                self.reload_in_background()
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
