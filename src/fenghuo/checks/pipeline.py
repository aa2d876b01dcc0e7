"""A configured sequence of checks: one verdict per text, and a streaming scanner.

The pipeline normalises the text once per distinct normaliser and hands the result to every
check built with that normaliser (lexicon, classifier), so the most expensive step is not
repeated per check — and a check built with its own ``Normaliser`` (say without
traditional → simplified) gets text normalised its way, never another check's. A check that
fails is recorded in ``Verdict.errors`` rather than raised: the guard must get an answer.

Configuration is YAML (see ``default.yaml`` and docs/checks.md). ``load_pipeline(None)`` uses
``$FENGHUO_CHECKS_CONFIG`` when set, else the packaged default, which needs no shared data:
PII, a small packaged lexicon, and the classifier if one has been trained
(``fenghuo classifier train``).
"""

from __future__ import annotations

import importlib
import os
import time
from operator import attrgetter
from importlib import resources
from pathlib import Path

import yaml

from fenghuo.checks.base import Finding, Verdict
from fenghuo.checks.normalize import Normalised, default_normaliser
from fenghuo.checks.pii import apply_masks
from fenghuo.checks.policy import Policy

# type name in YAML -> "module:factory"; factories take (spec, policy, base_dir).
CHECK_TYPES = {
    "lexicon": "fenghuo.checks.config:build_lexicon",
    "pii": "fenghuo.checks.config:build_pii",
    "classifier": "fenghuo.checks.classifier.check:from_config",
    "llm_guard": "fenghuo.checks.llm_guard:from_config",
}
ENV_CONFIG = "FENGHUO_CHECKS_CONFIG"
_BY_SPAN = attrgetter("start", "end")


class ConfigError(ValueError):
    """A pipeline configuration that cannot be used; the message says where."""


class Pipeline:
    def __init__(self, checks: list, policy: Policy | None = None, source: str = "<code>", notes: list[str] | None = None) -> None:
        self.checks = list(checks)
        self.policy = policy or Policy()
        self.source = source
        self.notes = list(notes or [])  # e.g. "classifier skipped: no trained model"
        self.normaliser = default_normaliser()
        self._plan_key: tuple = ()
        self._plan: tuple = ((), (), ())

    def _current_plan(self) -> tuple[tuple[str, ...], tuple, tuple]:
        """Names, the distinct normalisers, and (check, has ``find_in``, normaliser index or -1)
        per check — worked out once per list of checks rather than per message (the
        ``hasattr`` scans and the names tuple were ~6 % of a message's time in a py-spy
        profile). ``checks`` may still be changed in place (the CLI inserts a lexicon): the
        snapshot comparison notices."""
        key = tuple(self.checks)
        if key != self._plan_key:
            norms: list = []
            by_options: dict = {}
            steps = []
            for c in key:
                idx = -1
                if hasattr(c, "scan_normalised"):
                    norm = getattr(c, "normaliser", None) or self.normaliser
                    # Same options → same tables → same output: one normalisation serves both.
                    idx = by_options.setdefault(norm.options, len(norms))
                    if idx == len(norms):
                        norms.append(norm)
                steps.append((c, hasattr(c, "find_in"), idx))
            self._plan = (tuple(c.name for c in key), tuple(norms), tuple(steps))
            self._plan_key = key
        return self._plan

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.checks)

    def run_one(self, check, text: str, n: Normalised | None) -> Verdict:
        try:
            if n is not None and hasattr(check, "scan_normalised"):
                return check.scan_normalised(text, n)
            return check.scan(text)
        except Exception as exc:  # a broken check must not take the guard down
            return Verdict([], 0.0, (check.name,), [f"{check.name}: {type(exc).__name__}: {exc}"])

    def scan(self, text: str) -> Verdict:
        t0 = time.perf_counter()
        names, norms, plan = self._current_plan()
        ns = [norm.normalise(text) for norm in norms]
        findings: list[Finding] = []
        errors: list[str] = []
        for check, fast, idx in plan:
            n = ns[idx] if idx >= 0 else None
            # Checks with ``find_in`` return bare findings: a per-check Verdict and two clock
            # reads cost a few µs of a ~50 µs budget per message.
            if fast:
                try:
                    findings += check.find_in(text, n)
                except Exception as exc:  # a broken check must not take the guard down
                    errors.append(f"{check.name}: {type(exc).__name__}: {exc}")
                continue
            v = self.run_one(check, text, n)
            findings += v.findings
            errors += v.errors
        if len(findings) > 1:
            findings.sort(key=_BY_SPAN)
        return Verdict(findings, (time.perf_counter() - t0) * 1e6, names, errors)

    def redact(self, text: str, verdict: Verdict | None = None) -> str:
        """``text`` with every finding whose action is ``mask`` masked."""
        verdict = verdict or self.scan(text)
        return apply_masks(text, [f for f in verdict.findings if f.action.value == "mask"])

    def stream(self):
        """A scanner fed chunk by chunk; spans are relative to the whole stream."""
        from fenghuo.checks.stream import PipelineStream

        return PipelineStream(self)

    def reload(self) -> None:
        """Reload every check that can (lexicon files, classifier model) without a restart."""
        for check in self.checks:
            if hasattr(check, "reload"):
                check.reload()


def _factory(kind: str):
    target = CHECK_TYPES.get(kind)
    if target is None:
        raise ConfigError(f"unknown check type {kind!r}; known: {', '.join(CHECK_TYPES)} / 未知检查类型")
    module, func = target.split(":")
    return getattr(importlib.import_module(module), func)


def default_config_path() -> Path:
    return Path(str(resources.files("fenghuo.checks").joinpath("default.yaml")))


def build_pipeline(raw: dict, base_dir: Path, source: str) -> Pipeline:
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: expected a mapping at the top level / 顶层应为映射")
    unknown = set(raw) - {"checks", "categories"}
    if unknown:
        raise ConfigError(f"{source}: unknown key(s) {', '.join(sorted(unknown))} / 未知配置项")
    try:
        policy = Policy.from_config(raw.get("categories"), f"{source}: categories")
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    checks, notes = [], []
    specs = raw.get("checks") or []
    if not isinstance(specs, list):
        raise ConfigError(f"{source}: 'checks' must be a list / checks 应为列表")
    for i, spec in enumerate(specs):
        where = f"{source}: checks[{i}]"
        if not isinstance(spec, dict) or "type" not in spec:
            raise ConfigError(f"{where}: each check needs a 'type' / 每个检查需要 type")
        spec = dict(spec)
        kind = spec.pop("type")
        optional = bool(spec.pop("optional", False))
        try:
            check = _factory(kind)(spec, policy, base_dir)
        except ConfigError:
            raise
        except (ValueError, OSError) as exc:
            if optional:
                notes.append(f"{kind} skipped / 已跳过: {exc}")
                continue
            raise ConfigError(f"{where} ({kind}): {exc}") from None
        if check is not None:
            checks.append(check)
    return Pipeline(checks, policy, source, notes)


def load_pipeline(path: str | Path | None = None) -> Pipeline:
    """Build the pipeline from a YAML file; None → ``$FENGHUO_CHECKS_CONFIG`` or the default."""
    if path is None:
        path = os.environ.get(ENV_CONFIG) or default_config_path()
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such pipeline config / 配置文件不存在") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 / 配置文件不是 UTF-8") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {exc} / YAML 格式错误") from None
    return build_pipeline(raw or {}, path.parent, str(path))
