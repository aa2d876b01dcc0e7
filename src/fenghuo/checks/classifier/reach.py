"""Reach heads (session 25): a second head for a category that may only *add* a flag.

A head retrained on written rows reaches harmful text the shipped head misses, but swapped in for
the shipped head it loses what that head caught (JADE v3's plain crime, violence and fraud
questions, session 25) or, through lexicon corroboration, blocks harmless text. A reach head sits
beside the shipped head instead: a model column named ``<category>~reach`` (``porn~reach``),
declared with its threshold in the model's metadata (``meta["reach"] = {"porn~reach": 0.7}``; the
build's ``REACH_HEADS``, recorded in the manifest). A score at or above that threshold gives a
finding for the category whose action is ``flag`` (never more than the category's own action),
unless the category's own head already fired. The reach head's score is in no ``scores_in``:
it never corroborates a lexicon topic word and counts in no corroboration level or band
(``corroborate.py`` does not see it), so with reach heads a verdict of the shipped heads can only
gain a flag.

Reach columns come after the model's categories and fit in the padding of its rows (13
categories are stored as 16 floats, one 64-byte cache line: up to 3 reach heads), so the C
kernel's gather reads the same lines as before and tests the reach cuts with the others.

``reach: false`` in the classifier's config entry turns them off (their cut is then +inf: the
kernel still sums the columns, at no extra memory traffic, and nothing fires).
"""

from __future__ import annotations

import math

from fenghuo.checks.base import Action, Finding

SUFFIX = "~reach"
_RANK = {Action.FLAG: 1, Action.MASK: 2, Action.BLOCK: 3}


def _padded(k: int) -> int:
    """The row width ``Model._bind_table`` pads ``k`` columns to."""
    return 1 << (k - 1).bit_length() if k <= 16 else -(-k // 16) * 16


def from_spec(value) -> bool:
    """The config entry's ``reach`` (None: as the model declares) as on / off."""
    if value is None:
        return True
    if not isinstance(value, bool):
        raise ValueError(f"classifier.reach: expected true or false, got {value!r} / reach 应为 true 或 false")
    return value


def split(model) -> tuple[int, list[tuple[int, str, float]]]:
    """``(K, heads)``: the number of the model's own categories (its first ``K`` columns) and per
    declared reach head ``(column, category, threshold)``. Raises ``ValueError`` (English and
    Chinese) for a declaration that does not fit the model."""
    declared = model.meta.get("reach") or {}
    cats = list(model.categories)
    if not isinstance(declared, dict):
        raise ValueError("model meta reach: expected a mapping head -> threshold / 模型 reach 应为 头: 阈值 映射")
    marked = [c for c in cats if c.endswith(SUFFIX)]
    if set(marked) != set(declared):
        raise ValueError(f"model reach heads {sorted(declared)} do not match its {SUFFIX} columns {marked} / 模型声明的扩展头与其列不一致")
    k = len(cats) - len(marked)
    if marked and cats[k:] != marked:
        raise ValueError(f"model reach columns must come after its categories, got {cats} / 扩展头的列应排在类别之后")
    if marked and _padded(len(cats)) != _padded(k):
        raise ValueError(
            f"model has {len(marked)} reach heads: they must fit the padding of its {k} categories' rows ({_padded(k) - k} free) / 扩展头超出行的空位"
        )
    heads = []
    for j, name in enumerate(marked, k):
        cat, t = name[: -len(SUFFIX)], declared[name]
        if cat not in cats[:k]:
            raise ValueError(f"model reach head {name}: the model scores no category {cat} / 模型没有类别 {cat}")
        if isinstance(t, bool) or not isinstance(t, (int, float)) or not 0.0 < t < 1.0:
            raise ValueError(f"model reach head {name}: threshold must be between 0 and 1, got {t!r} / 扩展头阈值应在 0 与 1 之间")
        heads.append((j, cat, float(t)))
    return k, heads


def cuts(heads: list[tuple[int, str, float]], on: bool) -> list[float]:
    """The logit cut per reach column (+inf: off)."""
    return [math.log(t / (1.0 - t)) if on else math.inf for _, _, t in heads]


def action(rule_action: Action) -> Action:
    """A reach finding's action: flag, or the category's own action where that is milder."""
    return rule_action if _RANK.get(rule_action, 0) < 1 else Action.FLAG


def finding(head: tuple, z: float, hits, text: str, rule_name: str) -> list[Finding]:
    """A reach hit's finding (``head``: the bound ``(category, its own column, rule)``; ``z``: the
    reach head's logit), or none where the category's own head fired (``hits``) already."""
    cat, own, rule = head
    if own in hits:
        return []
    p = round(1.0 / (1.0 + math.exp(-min(z, 700.0))), 4)
    return [Finding(cat, 0, len(text), rule_name + SUFFIX, action(rule.action), rule.risk, p)]
