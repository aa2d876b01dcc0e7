"""The classifier as a pipeline check: a probability per category it models (``scores_in``) and
one finding over the whole text per category whose score passes that category's threshold.

Thresholds come from the model (calibrated per category when it was built); a ``threshold``
given in the config overrides all of them, ``thresholds: {category: x}`` some of them.

Flag bands (session 24, ``band.py``): a block category may have a lower *flag threshold*, declared
by the model (``meta["flag_thresholds"]``) or set with ``flag_thresholds: {harm: 0.3}``; a score
at or above it but under the category's threshold gives a finding whose action is ``flag``, not
``block``. The C kernel reports the hits at the lower cut; the action is worked out per hit.

Reach heads (session 25, ``reach.py``): extra columns ``<category>~reach`` that only add a flag;
in no ``scores_in``, so they corroborate nothing; ``reach: false`` turns them off.

Reloads when the model file is replaced (training writes it by atomic rename): with
``reload_interval`` N > 0 (default 5 s; 0 = off), a scan at most every N seconds stats the
file — one ``os.stat``, about a microsecond — and when its modification time or size changed,
the new model is loaded on a background thread (kept off the request) and swapped in with one
assignment. A file that fails to load is logged (``fenghuo.checks.classifier``) and kept in
``last_reload_error``; the old model keeps scoring. ``reload()`` loads at once.
"""

from __future__ import annotations

import logging
import math
import struct
import time
from pathlib import Path

import numpy as np

from fenghuo.checks.base import Action, Finding, Verdict
from fenghuo.checks.classifier import band, features, reach, script
from fenghuo.checks.classifier.model import Model, default_model_path, shipped_model_path
from fenghuo.checks.classifier.script import over_max_share, share_or_none
from fenghuo.checks.normalize import Normalised, default_normaliser
from fenghuo.checks.policy import Policy
from fenghuo.checks.reloading import BackgroundReload, file_signature

log = logging.getLogger("fenghuo.checks.classifier")
_F32 = np.dtype(np.float32)
_AT = struct.Struct("d").unpack_from  # a logit from the C kernel's bytearray of float64
# Below this many normalised characters a text has too few n-grams for the model to judge: its
# score is mostly the per-category bias, and the shipped model read 你好 as fraud (0.65) and
# 在吗 as gambling (0.45, over that category's threshold). Such texts are left to the lexicon and
# the rules; scores_in still reports the model's numbers.
MIN_CHARS = 3
def _logit(p: float) -> float:
    return math.log(p / (1.0 - p))


def _cut32(cut: np.ndarray) -> np.ndarray:
    c32 = cut.astype(np.float32)
    return np.where(c32 < cut, np.nextafter(c32, np.float32(np.inf)), c32)


class _Bound:
    """A model with everything the hot path needs worked out once: names, rules, logit
    thresholds (comparing logits skips the exp for categories that do not fire)."""

    __slots__ = ("model", "cats", "rules", "cut", "cut32", "cut_bytes", "low", "low32", "band", "bands", "rule_name", "min_han", "max_han", "levels")
    __slots__ += ("k", "reach")  # the model's own categories are its first k columns; reach.py

    def __init__(self, model: Model, path: Path, policy: Policy, threshold: float | None, overrides: dict[str, float], category: str | None,
                 min_han: float | None = None, max_han: float | None = None, flag_overrides: dict[str, float] | None = None,
                 reach_on: bool = True) -> None:
        self.model = model
        self.min_han = float(model.meta.get("min_han_share", 0.0)) if min_han is None else min_han
        declared = model.meta.get("max_han_share")
        max_han = (None if declared is None else float(declared)) if max_han is None else max_han
        self.max_han = None if max_han is None or max_han >= 1.0 else max_han  # None: every script is judged
        self.k, heads = reach.split(model)  # the model's own categories are its first k columns
        cats = list(model.categories)[: self.k]
        if category and len(cats) == 1:
            cats = [category]  # a one-category model reports under the configured name
        self.cats = cats
        self.rules = [policy.rule(c) for c in cats]
        ths = [threshold if threshold is not None else overrides.get(c, model.thresholds.get(mc, 0.5)) for c, mc in zip(cats, model.categories)]
        self.cut = np.array([_logit(t) for t in ths])  # the category's threshold (its action from here)
        # For float32 logits (the model's fast path): the least float32 >= each cut, so
        # ``z >= cut32`` is exactly ``z >= cut`` without converting z to float64 (0.66 -> 0.46 µs).
        self.cut32 = _cut32(self.cut)
        # Flag bands: ``low`` is where a category starts to fire (its flag threshold, else its
        # threshold); ``band[k]``: a hit under ``cut[k]`` flags instead of taking the action.
        fl = band.flag_thresholds(cats, list(model.categories), self.rules, ths, model.meta.get("flag_thresholds") or {}, flag_overrides or {})
        self.band = [f is not None for f in fl] if any(f is not None for f in fl) else None
        self.bands = {c: t for c, t, f in zip(cats, ths, fl) if f is not None} or None  # corroborate.bands_of
        self.low = np.array([self.cut[k] if f is None else _logit(f) for k, f in enumerate(fl)] + reach.cuts(heads, reach_on))
        # Per reach column (k and on): (category, index of that category's own column, rule)
        own = [list(model.categories).index(c) for _, c, _ in heads]  # a one-category model reports under cats[0]
        self.reach = [(cats[j], j, self.rules[j]) for j in own] if heads and reach_on else None
        self.low32 = _cut32(self.low)
        self.cut_bytes = self.low.tobytes()  # for the C kernel, which compares its float64 logits
        self.rule_name = f"classifier:{path.name}"
        # Per-category corroboration levels the model declares (built from a retrained head's
        # harmless calibration rows; checks/corroborate.py, "Per-head levels"), or None.
        declared = model.meta.get("corroborate") or {}
        self.levels = {c: float(declared[mc]) for c, mc in zip(cats, model.categories) if mc in declared} or None


class ClassifierCheck(BackgroundReload):
    def __init__(
        self,
        model_path: Path | None = None,
        threshold: float | None = None,
        category: str | None = None,
        policy: Policy | None = None,
        name: str = "classifier",
        reload_interval: float = 5.0,
        thresholds: dict[str, float] | None = None,
        min_han_share: float | None = None,
        max_han_share: float | None = None,
        flag_thresholds: dict[str, float] | None = None,
        reach: bool = True,
    ) -> None:
        for t in [threshold] + list((thresholds or {}).values()):
            if t is not None and not 0.0 < t < 1.0:
                raise ValueError(f"classifier threshold must be between 0 and 1, got {t} / 阈值应在 0 与 1 之间")
        for t in (flag_thresholds or {}).values():
            band.check_value(t)
        self.flag_thresholds = dict(flag_thresholds or {})
        self.reach = reach
        if min_han_share is not None and not 0.0 <= min_han_share <= 1.0:
            raise ValueError(f"min_han_share must be between 0 and 1, got {min_han_share} / 汉字占比应在 0 与 1 之间")
        if max_han_share is not None and not 0.0 <= max_han_share <= 1.0:
            raise ValueError(f"max_han_share must be between 0 and 1, got {max_han_share} / 汉字占比上限应在 0 与 1 之间")
        if min_han_share is not None and max_han_share is not None and min_han_share > max_han_share:
            raise ValueError(
                f"min_han_share ({min_han_share}) is above max_han_share ({max_han_share}): no text would be judged / 汉字占比下限高于上限，没有文本会被判断"
            )
        self.min_han_share = min_han_share
        self.max_han_share = max_han_share
        if reload_interval < 0:
            raise ValueError(f"reload_interval must be >= 0, got {reload_interval} / 重载间隔不能为负")
        self.path = Path(model_path) if model_path else default_model_path()
        self.threshold = threshold
        self.thresholds = dict(thresholds or {})
        self.category = category
        self.policy = policy or Policy()
        self.name = name
        self.normaliser = default_normaliser()
        self.reload_interval = reload_interval
        model = Model.load(self.path)  # first: its error names a missing model as such
        self._sig = file_signature(self.path)
        self._bound = self._bind(model)
        # (Normalised, _Bound, logits) of the last message: an array, or the C kernel's bytearray
        self._last: tuple = (None, None, None)
        self._init_reload()

    def _bind(self, model: Model) -> _Bound:
        return _Bound(model, self.path, self.policy, self.threshold, self.thresholds, self.category, self.min_han_share, self.max_han_share,
                      self.flag_thresholds, self.reach)

    @property
    def model(self) -> Model:
        return self._bound.model

    def categories(self) -> list[str]:
        """The categories this model reports (``fenghuo checks coverage`` reads them)."""
        return list(self._bound.cats)

    def reload(self) -> None:
        """Load the model file now; raises (keeping the old model) if it cannot be loaded."""
        sig = file_signature(self.path)
        self._bound = self._bind(Model.load(self.path))
        self._sig, self.last_reload_error = sig, None

    def _signatures(self) -> tuple[int, int]:
        return file_signature(self.path)

    def _loaded_signatures(self) -> tuple[int, int]:
        return self._sig

    def _load_new(self, signatures: tuple[int, int]) -> None:
        self._bound, self._sig = self._bind(Model.load(self.path)), signatures

    def score(self, text: str) -> float:
        """The highest category probability of ``text``."""
        bound = self._bound
        return float(bound.model.probs_codes(self.normaliser.normalise(text).codes)[: bound.k].max())

    def scores(self, text: str) -> dict[str, float]:
        return self.scores_in(text, self.normaliser.normalise(text))

    def _logits(self, n: Normalised, bound: _Bound) -> list[float]:
        last_n, last_b, z = self._last
        if last_n is not n or last_b is not bound or z is None:  # else find_in scored this message
            z = bound.model.logits_codes(n.codes)
            self._last = (n, bound, z)
        return z.tolist() if isinstance(z, np.ndarray) else memoryview(z).cast("d").tolist()

    def scores_in(self, text: str, n: Normalised) -> dict[str, float]:
        """Probability per category this model knows, for the pipeline's ``Verdict.scores``
        (none for a text in a script the model does not judge)."""
        bound = self._bound
        if bound.min_han and (share_or_none(n, self.normaliser.tables) or 0.0) < bound.min_han:
            return {}
        if bound.max_han is not None and over_max_share(n, self.normaliser.tables, bound.max_han):
            return {}
        z = self._logits(n, bound)
        # The C kernel's ``probabilities`` gives the expression below bit for bit (tested on
        # 1.4 M logits, rounding halves included) in one call: ~0.6 instead of ~8-12 µs for 13
        # categories, read by ``settle`` on every message with a topic word.
        probabilities = getattr(features.NATIVE, "probabilities", None)
        if probabilities is not None:
            return dict(zip(bound.cats, probabilities(z)))
        # Plain floats and math.exp: for ~13 values numpy's per-call overhead costs more.
        exp = math.exp
        return {c: round(1.0 / (1.0 + exp(-max(min(v, 700.0), -700.0))), 4) for c, v in zip(bound.cats, z)}  # zip: no reach head

    def logit_scorer(self, category: str):
        """``(score(text) -> logit, cut logit)`` for one of the model's categories, or None: the
        same model on another text (counter-speech and discussion frames re-judge a flag on the
        text with the frame's words cut out; ``mention.py``, ``discussion.py``)."""
        bound = self._bound
        if category not in bound.cats:
            return None
        k = bound.cats.index(category)
        model, norm = bound.model, self.normaliser

        def score(text: str) -> float:
            return float(model.logits_codes(norm.normalise(text).codes)[k])

        return score, float(bound.cut[k])

    @property
    def corroboration_levels(self) -> dict[str, float] | None:
        """The loaded model's per-category corroboration levels, or None (``corroborate.levels_of``)."""
        return self._bound.levels

    @property
    def flag_bands(self) -> dict[str, float] | None:
        """The categories with a flag band and their thresholds, or None (``corroborate.bands_of``)."""
        return self._bound.bands

    def scan(self, text: str) -> Verdict:
        return self.scan_normalised(text, self.normaliser.normalise(text))

    def scan_normalised(self, text: str, n: Normalised) -> Verdict:
        t0 = time.perf_counter()
        findings = self.find_in(text, n)
        return Verdict(findings, (time.perf_counter() - t0) * 1e6, (self.name,))

    def find_in(self, text: str, n: Normalised) -> list[Finding]:
        """Findings only (no timing, no ``Verdict``): what the pipeline calls per message."""
        if self.reload_interval and time.monotonic() - self._last_check > self.reload_interval:
            self.reload_when_due()  # the due test inlined: a Python call fewer per message
        codes = n.codes
        if codes.size < MIN_CHARS:
            return []
        bound = self._bound
        if bound.max_han is not None:
            if over_max_share(n, self.normaliser.tables, bound.max_han):
                return []  # mostly Han (or no letters): not this model's script, not scored at all
        elif bound.min_han:
            last = script.LAST_SHARE  # another check's gate measured this very message: skip the scoring
            if last[0] is n and (last[1] is None or last[1] < bound.min_han):
                return []
        # The C kernel scores and tests the thresholds in one call: find_in per 50-character
        # COLD dev cut 16.4 -> 2.9 µs, per ~1 KB cut 88 -> 20.5 µs (thread CPU, old and new code
        # alternately in fresh processes, load 10-11; the numpy path below is the fallback).
        got = bound.model.logits_hits(codes, bound.cut_bytes)
        if got is not None:
            z, hits = got
            self._last = (n, bound, z)  # scores_in on the same message reuses it (_logits)
            if not hits:
                return []
            zs = [_AT(z, 8 * k)[0] for k in hits]  # ~0.1 µs a hit; memoryview(z).cast: ~0.9
        else:
            z = bound.model.logits_codes(codes)
            self._last = (n, bound, z)
            hits = (z >= (bound.low32 if z.dtype == _F32 else bound.low)).nonzero()[0].tolist()
            if not hits:
                return []
            zs = [float(z[k]) for k in hits]
        if bound.min_han and (share_or_none(n, self.normaliser.tables) or 0.0) < bound.min_han:
            return []  # checked only when something fires: most texts pay nothing
        out = []
        flags = bound.band
        for k, v in zip(hits, zs):
            if k >= bound.k:  # a reach head: a flag, unless its category's own head fired
                out += reach.finding(bound.reach[k - bound.k], v, hits, text, bound.rule_name)
                continue
            rule = bound.rules[k]
            p = 1.0 / (1.0 + math.exp(-min(v, 700.0)))
            # In a flag band, under the threshold: review, not a block (float(z) vs cut == z vs cut32).
            act = Action.FLAG if flags is not None and flags[k] and v < bound.cut[k] else rule.action
            out.append(Finding(bound.cats[k], 0, len(text), bound.rule_name, act, rule.risk, round(p, 4)))
        return out


def model_path_for(model, base_dir: Path) -> Path:
    """``shipped`` (the packaged model), ``default`` (trained into the user data dir) or a path."""
    from fenghuo.checks.config import resolve_path

    if model == "shipped":
        return shipped_model_path()
    if model in (None, "default"):
        return default_model_path()
    return resolve_path(str(model), base_dir)


def from_config(spec: dict, policy: Policy, base_dir: Path) -> ClassifierCheck:
    from fenghuo.checks.config import check_keys

    keys = {"name", "model", "threshold", "thresholds", "category", "reload_interval", "min_han_share", "max_han_share", "flag_thresholds"}
    keys.add("reach")
    check_keys(spec, keys, "classifier")
    th = spec.get("threshold")
    ths = spec.get("thresholds") or {}
    if not isinstance(ths, dict):
        raise ValueError("classifier.thresholds: expected a mapping category -> threshold / 应为 类别: 阈值 映射")
    return ClassifierCheck(
        model_path_for(spec.get("model", "default"), base_dir), None if th is None else float(th),
        None if spec.get("category") is None else str(spec["category"]), policy, str(spec.get("name", "classifier")),
        float(spec.get("reload_interval", 5.0)), {str(k): float(v) for k, v in ths.items()},
        None if spec.get("min_han_share") is None else float(spec["min_han_share"]),
        None if spec.get("max_han_share") is None else float(spec["max_han_share"]), band.from_spec(spec.get("flag_thresholds")),
        reach.from_spec(spec.get("reach")),
    )  # fmt: skip
