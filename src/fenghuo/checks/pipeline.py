"""A configured sequence of checks: one verdict per text, and a streaming scanner.

The pipeline normalises the text once per distinct normaliser and hands the result to every
check built with that normaliser (lexicon, classifier), so the most expensive step is not
repeated per check — and a check built with its own ``Normaliser`` (say without
traditional → simplified) gets text normalised its way, never another check's. A check that
fails is recorded in ``Verdict.errors`` rather than raised: the guard must get an answer.

Per-category scores: findings carry theirs; a check that scores every text (the classifier)
may also offer ``scores_in(text, normalised) -> {category: score}``, merged into
``Verdict.scores`` (the highest per category) — lazily, when first read (``LazyScores``) — so
a caller sees how close a text came to a threshold it did not cross (``fenghuo checks
evaluate`` calibrates thresholds on them) and the guard, which never reads them, pays nothing.

A configured check that cannot be built is *degraded*: with ``strict`` (the default) a check
not marked ``optional`` is a ``ConfigError``; otherwise the pipeline is built without it and
``Pipeline.degraded`` says which and why, in one line each. What to do about a degraded
pipeline is the caller's decision: ``fenghuo scan`` says so and goes on, the gateway and the
SDK refuse to start unless told ``--allow-degraded-checks`` / ``allow_degraded_checks=True``
(``fenghuo.guard.checking.load_default_checks``).

Configuration is YAML (see ``default.yaml`` and docs/checks.md). ``load_pipeline(None)`` uses
``$FENGHUO_CHECKS_CONFIG`` when set, else the packaged default, which needs no shared data:
PII, a small packaged lexicon, and the classifier if one has been trained
(``fenghuo classifier train``).
"""

from __future__ import annotations

import importlib
import os
import time
from dataclasses import dataclass
from importlib import resources
from operator import attrgetter
from pathlib import Path

from fenghuo.checks.base import Finding, LazyScores, Verdict
from fenghuo.checks.corroborate import DEFAULT_THRESHOLD, bands_of, demote, frame_acting, has_context, levels_of, settle
from fenghuo.checks.mention import unmentioned
from fenghuo.checks.normalize import Normalised, default_normaliser
from fenghuo.checks.pii import apply_masks
from fenghuo.checks.policy import Policy
from fenghuo.platform import documents
from fenghuo.platform.errors import FenghuoError

# type name in YAML -> "module:factory"; factories take (spec, policy, base_dir).
CHECK_TYPES = {
    "lexicon": "fenghuo.checks.config:build_lexicon",
    "pii": "fenghuo.checks.config:build_pii",
    "classifier": "fenghuo.checks.classifier.check:from_config",
    "llm_guard": "fenghuo.checks.llm_guard:from_config",
    "rules": "fenghuo.checks.rules:from_config",  # knowledge rules (checks/rules/*.yaml)
}
ENV_CONFIG = "FENGHUO_CHECKS_CONFIG"
_BY_SPAN = attrgetter("start", "end")


class ConfigError(ValueError):
    """A pipeline configuration that cannot be used; the message says where."""


@dataclass(frozen=True, slots=True)
class Degraded:
    """A configured check that could not be built, and why (one line, no traceback)."""

    kind: str  # the check's type in the config: lexicon, classifier…
    name: str
    reason: str
    optional: bool = False

    def line(self) -> str:
        opt = " (optional / 可选)" if self.optional else ""
        hint = _HINTS.get(self.kind, "") if "no such file" in self.reason else ""
        return f"{self.name} ({self.kind}) not loaded / 未加载{opt}: {self.reason}{hint}"


# What to do about a missing file, per check type: the one line should say how to fix it.
_HINTS = {
    "classifier": " — run `make models` or `fenghuo classifier train`, or set `model:` / 请先构建或训练模型",
    "lexicon": " — check the `files:` paths / 请检查词表路径",
}


def load_reason(exc: BaseException) -> str:
    """An exception as one readable clause: ``no such file: PATH`` rather than
    ``[Errno 2] No such file or directory: '…'``."""
    if isinstance(exc, FileNotFoundError) and exc.filename:
        return f"no such file / 文件不存在: {exc.filename}"
    if isinstance(exc, OSError) and exc.strerror:
        where = f": {exc.filename}" if exc.filename else ""
        return f"{exc.strerror.lower()}{where}"
    text = str(exc).strip().splitlines()
    if not isinstance(exc, (ValueError, OSError)):  # a bug rather than bad input: name its type
        return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
    return text[0] if text else type(exc).__name__


class Pipeline:
    def __init__(self, checks: list, policy: Policy | None = None, source: str = "<code>", notes: list[str] | None = None,
                 degraded: list[Degraded] | None = None, corroborate: float = DEFAULT_THRESHOLD) -> None:
        self.checks = list(checks)
        self.corroborate = corroborate  # score a topic word's text needs to stand (corroborate.py)
        self.policy = policy or Policy()
        self.source = source
        self.degraded = list(degraded or [])
        self.notes = list(notes or []) + [d.line() for d in self.degraded]  # one line per check not loaded
        self.normaliser = default_normaliser()
        self._plan_key: list = []
        self._plan: tuple = ((), (), ())
        self._simple: tuple | None = None  # see ``_current_plan``

    def _current_plan(self) -> tuple[tuple[str, ...], tuple, tuple]:
        """Names, the distinct normalisers, and (check, has ``find_in``, normaliser index or -1,
        its ``scores_in`` or None) per check — worked out once per list of checks rather than per message (the
        ``hasattr`` scans and the names tuple were ~6 % of a message's time in a py-spy
        profile). ``checks`` may still be changed in place (the CLI inserts a lexicon): the
        snapshot comparison notices (a list compared with a list: no tuple built per message)."""
        key = self.checks
        if key != self._plan_key:
            key = list(key)
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
                steps.append((c, hasattr(c, "find_in"), idx, getattr(c, "scores_in", None)))
            self._plan = (tuple(c.name for c in key), tuple(norms), tuple(steps))
            # The usual pipeline: every check has ``find_in`` and at most one normaliser is
            # used. ``scan`` then runs a loop of fewer steps per check (no index, no branch on
            # ``fast``): the pipeline's own Python is ~1 µs of a 7 µs short scan in a tight loop
            # and several times that in the gateway, where its bytecode is cold too.
            if len(norms) <= 1 and all(fast for _, fast, _, _ in steps):
                self._simple = (norms[0] if norms else None, tuple((c, idx >= 0, si) for c, _, idx, si in steps))
            else:
                self._simple = None
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
        except Exception as exc:  # noqa: BLE001 - a broken check must not take the guard down
            return Verdict([], 0.0, (check.name,), [f"{check.name}: {type(exc).__name__}: {exc}"])

    def scan(self, text: str) -> Verdict:
        t0 = time.perf_counter()
        names, norms, plan = self._current_plan()
        simple = self._simple
        if simple is not None:
            return self._scan_simple(text, t0, names, simple)
        # One normaliser is the usual case: no list comprehension (a frame of its own in 3.11).
        ns = (norms[0].normalise(text),) if len(norms) == 1 else [norm.normalise(text) for norm in norms]
        findings: list[Finding] = []
        errors: list[str] = []
        scores: dict[str, float] | None = None
        lazy: list | None = None
        for check, fast, idx, scores_in in plan:
            n = ns[idx] if idx >= 0 else None
            # Checks with ``find_in`` return bare findings: a per-check Verdict and two clock
            # reads cost a few µs of a ~50 µs budget per message.
            if fast:
                try:
                    findings += check.find_in(text, n)
                    if scores_in is not None:  # worked out only if someone reads the scores
                        if lazy is None:
                            lazy = []
                        lazy.append((scores_in, text, n))
                except Exception as exc:  # noqa: BLE001 - a broken check must not take the guard down
                    errors.append(f"{check.name}: {type(exc).__name__}: {exc}")
                continue
            v = self.run_one(check, text, n)
            findings += v.findings
            errors += v.errors
            if v.model_scores:
                scores = _merge_max(scores, v.model_scores)
        if len(findings) > 1:
            findings.sort(key=_BY_SPAN)
        if lazy is not None:
            if scores:  # rare: a check without find_in reported scores eagerly
                lazy.append((lambda _t, _n, s=scores: s, text, None))
            scores = LazyScores(lazy)
        if findings and self.corroborate:
            findings = frame_acting(findings, text)  # a drug's name in a warning is a topic word there
            findings = unmentioned(findings, text, self.checks)  # 「是不是骗子？」: an insult mentioned, not used
        if findings and has_context(findings):  # a topic word: does a model see anything here?
            findings = settle(findings, scores.get() if isinstance(scores, LazyScores) else scores, self.corroborate, text, levels=levels_of(self.checks),
                              bands=bands_of(self.checks))
        if findings and self.corroborate:
            findings = demote(findings, text)  # a doctor's, a lawyer's, a victim's message: flag, not block
        return Verdict(findings, (time.perf_counter() - t0) * 1e6, names, errors, scores)

    def _scan_simple(self, text: str, t0: float, names: tuple, simple: tuple) -> Verdict:
        """``scan`` for the usual plan (``_current_plan``'s ``_simple``): the same calls in the
        same order, the same findings, errors and lazy scores."""
        norm, steps = simple
        n = norm.normalise(text) if norm is not None else None
        findings: list[Finding] = []
        errors: list[str] = []
        lazy: list | None = None
        for check, uses_n, scores_in in steps:
            m = n if uses_n else None
            try:
                findings += check.find_in(text, m)
                if scores_in is not None:
                    if lazy is None:
                        lazy = [(scores_in, text, m)]
                    else:
                        lazy.append((scores_in, text, m))
            except Exception as exc:  # noqa: BLE001 - a broken check must not take the guard down
                errors.append(f"{check.name}: {type(exc).__name__}: {exc}")
        if len(findings) > 1:
            findings.sort(key=_BY_SPAN)
        scores = None if lazy is None else LazyScores(lazy)
        if findings and self.corroborate:
            findings = frame_acting(findings, text)
            findings = unmentioned(findings, text, self.checks)
        if findings and has_context(findings):
            findings = settle(findings, None if scores is None else scores.get(), self.corroborate, text, levels=levels_of(self.checks),
                              bands=bands_of(self.checks))
        if findings and self.corroborate:
            findings = demote(findings, text)
        return Verdict(findings, (time.perf_counter() - t0) * 1e6, names, errors, scores)

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


def _merge_max(into: dict[str, float] | None, new: dict[str, float] | None) -> dict[str, float] | None:
    if not new:
        return into
    if into is None:
        return dict(new)
    for k, v in new.items():
        if v > into.get(k, -1.0):
            into[k] = v
    return into


def _factory(kind: str):
    target = CHECK_TYPES.get(kind)
    if target is None:
        raise ConfigError(f"unknown check type {kind!r}; known: {', '.join(CHECK_TYPES)} / 未知检查类型")
    module, func = target.split(":")
    return getattr(importlib.import_module(module), func)


def default_config_path() -> Path:
    return Path(str(resources.files("fenghuo.checks").joinpath("default.yaml")))


def build_pipeline(raw: dict, base_dir: Path, source: str, strict: bool = True) -> Pipeline:
    """``strict``: a check that cannot be built and is not ``optional`` raises ConfigError;
    otherwise every such check is left out and listed in ``Pipeline.degraded``."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: expected a mapping at the top level / 顶层应为映射")
    unknown = set(raw) - {"checks", "categories", "corroborate"}
    if unknown:
        raise ConfigError(f"{source}: unknown key(s) {', '.join(sorted(unknown))} / 未知配置项")
    try:
        policy = Policy.from_config(raw.get("categories"), f"{source}: categories")
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    checks, degraded = [], []
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
        except ConfigError:  # an unknown type is a mistake in the file, never "degraded"
            raise
        except Exception as exc:  # noqa: BLE001 - a check that fails to build, for whatever reason, is not loaded
            if optional or not strict:
                degraded.append(Degraded(kind, str(spec.get("name", kind)), load_reason(exc), optional))
                continue
            raise ConfigError(f"{where} ({kind}): {load_reason(exc)}") from None
        if check is not None:
            checks.append(check)
    corroborate = raw.get("corroborate", DEFAULT_THRESHOLD)
    if isinstance(corroborate, bool) or not isinstance(corroborate, (int, float)) or not 0 <= corroborate <= 1:
        raise ConfigError(f"{source}: corroborate must be a number from 0 to 1, got {corroborate!r} / corroborate 应为 0 到 1 之间的数")
    return Pipeline(checks, policy, source, degraded=degraded, corroborate=float(corroborate))


def load_pipeline(path: str | Path | None = None, strict: bool = True) -> Pipeline:
    """Build the pipeline from a YAML file; None → ``$FENGHUO_CHECKS_CONFIG`` or the default.
    ``strict=False``: build what can be built and list the rest in ``Pipeline.degraded``."""
    if path is None:
        path = os.environ.get(ENV_CONFIG) or default_config_path()
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path}: no such pipeline config / 配置文件不存在")
    try:  # the bounded reader: size, depth, aliases, nodes, duplicate keys (issue 14)
        raw = documents.read_yaml(path)
    except FenghuoError as exc:
        raise ConfigError(f"{path}: invalid YAML: {exc.en} / YAML 格式错误：{exc.zh}") from None
    return build_pipeline(raw or {}, path.parent, str(path), strict)
