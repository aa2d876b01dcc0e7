"""Per-head corroboration levels (issue 12, session 20): what a retrained head's score must reach
to corroborate a lexicon topic word (``checks/corroborate.py``, "Per-head levels").

A topic word (诈骗, 验证码 …) stands where a related category scores at least ``corroborate``
(0.2). That level was fixed for heads that never saw written text; a head trained on the written
rows learns their harmless look-alikes' topics too and scores anti-fraud warnings and notices
above 0.2 («…如果有人让你先交钱，那就是诈骗»: the written violence head), so such words stood on
harmless text and the head's calibration, which only sets its threshold, never saw it (session 19).

So each head the written rows train gets a level of its own, worked out on the rows its
threshold is calibrated on, by one of two rules (``LEVEL_RULE``):

- ``("share", q)``: the lowest score that at most a share ``q`` of the harmless calibration rows
  reach, in every calibration group (COLD, CValues, the written rows, the rest) as for the
  threshold — the threshold's own rule at a wider budget;
- ``("fraction", f)``: ``f`` times the head's calibrated threshold (0.4: a head at the default
  threshold 0.5 gets the flat 0.2).

A head the written rows do not train declares no level: it is the model it was without them, and
keeps the flat ``corroborate``. The level only ever raises the bar: ``settle`` takes
``max(corroborate, level)``.
"""

from __future__ import annotations

import numpy as np

from fenghuo.checks.classifier.model import Model
from fenghuo.checks.classifier.train import _floor, round_up

# Session 20: both rules were measured in the whole pipeline on the written dev sets' half A with
# candidates trained on written rows (0.4 and 0.02 fixed before measuring; none was shipped:
# docs/checks/classifier-history.md). Five heads (violence, fraud, crime, terrorism,
# misinformation; weight 8): harmless flagged 66 without levels, 62 by share, 60 by fraction,
# harmful caught 758 / 756 / 757 of 972. The violence head alone (weight 4): 41 -> 40 either way
# (the one word it had corroborated). The share rule's level is set by the smallest group (CValues'
# 72 val rows: the second highest decides) and rose to 0.64-0.71 for crime, so the fraction rule.
LEVEL_RULE: tuple[str, float] = ("fraction", 0.4)
RULES = ("share", "fraction")


def parse_rule(text: str) -> tuple[str, float]:
    """``share:0.02`` or ``fraction:0.4`` (a command line's form of ``LEVEL_RULE``)."""
    kind, _, value = text.partition(":")
    if kind not in RULES or not value:
        raise ValueError(f"level rule must be share:Q or fraction:F, got {text!r} / 规则应为 share:Q 或 fraction:F")
    x = float(value)
    if not 0.0 < x < 1.0:
        raise ValueError(f"level rule value must be between 0 and 1, got {x} / 取值应在 0 与 1 之间")
    return kind, x


def levels(model: Model, probs: np.ndarray, labels: list[frozenset[str]], groups: list[np.ndarray], heads: list[str],
           rule: tuple[str, float] = LEVEL_RULE) -> dict[str, float]:
    """The level of each head in ``heads``: ``probs`` are the calibration rows' scores (one column
    per model category), ``labels`` their labels, ``groups`` the calibration groups (masks)."""
    kind, x = rule
    harmless = np.array([not s for s in labels])
    out = {}
    for c in heads:
        k = model.categories.index(c)
        if kind == "fraction":
            out[c] = round_up(x * model.thresholds[c])
            continue
        p = probs[:, k]
        floors = [_floor(p[harmless], x)] + [_floor(p[harmless & g], x) for g in groups if (harmless & g).any()]
        out[c] = _up(max(floors))
    return out


def _up(t: float) -> float:
    """``t`` rounded up to 4 decimals, never below it: ``round_up`` rounds ``nextafter(score)``
    back onto a score on the 4-decimal grid, which would then reach the level."""
    lv = round_up(t)
    return lv if lv >= t else round(lv + 1e-4, 4)
