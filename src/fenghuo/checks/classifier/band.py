"""Flag bands (session 24): a score a little under a block category's threshold asks for review.

A category whose action is ``block`` (harm, violence, privacy …) may have a *flag threshold* below
its threshold. A score at or above the category's threshold gives a finding with the category's
action, as before; a score at or above the flag threshold but under the threshold gives one whose
action is ``flag``: the text goes to a person instead of being stopped, and what the model blocked
before it still blocks. Why not a lower threshold: a head retrained on written self-harm text
(session 23) caught a fifth of the self-harm it missed, but its new hits were blocks, and on
other writers' teasing, game slang and victims' pleas a block is the wrong answer to a guess.
Why not every unsure block as a flag: tried in session 21, it let 48 of JADE v3's 500 harmful
questions through the gateway's input check (docs/checks/classifier-history.md).

Declared by the model (``meta["flag_thresholds"]``, set when it was built: ``build/classifier.py``
``FLAG_THRESHOLDS``, recorded in the manifest) and/or set in the classifier's config entry
(``flag_thresholds: {harm: 0.3}``), which overrides the model per category; ``0`` turns a
declared band off. A configured band is refused, in English and Chinese, for a category the model
does not score, for one whose action is not ``block`` (there a band is only a lower threshold:
say so with ``thresholds``), and at or above the category's threshold. A declared band that the
configured thresholds or the policy leave empty is ignored: the user's thresholds and actions rule.
"""

from __future__ import annotations

from fenghuo.checks.base import Action


def from_spec(value) -> dict[str, float]:
    """The config entry's ``flag_thresholds`` (None: none) as category -> float."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError("classifier.flag_thresholds: expected a mapping category -> flag threshold / 应为 类别: 标记阈值 映射")
    out = {}
    for k, v in value.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ValueError(f"classifier.flag_thresholds.{k}: expected a number, got {v!r} / 标记阈值应为数字")
        out[str(k)] = float(v)
    return out


def check_value(t: float) -> None:
    if not 0.0 <= t < 1.0:
        raise ValueError(f"classifier flag threshold must be at least 0 and below 1, got {t} / 标记阈值应不小于 0 且小于 1")


def flag_thresholds(
    cats: list[str], model_cats: list[str], rules: list, thresholds: list[float], declared: dict, configured: dict[str, float]
) -> list[float | None]:
    """Per category (``cats``, the names the check reports; ``model_cats``, the model's own), its
    flag threshold, or None where it has no band. ``rules``: the policy's rule per category;
    ``thresholds``: the category thresholds in force (the model's, or the config's)."""
    unknown = sorted(set(configured) - set(cats))
    if unknown:
        raise ValueError(
            f"classifier.flag_thresholds: this model scores no category {', '.join(unknown)} (it scores {', '.join(cats)}) / 模型没有这些类别: {', '.join(unknown)}"
        )
    out: list[float | None] = []
    for c, mc, rule, th in zip(cats, model_cats, rules, thresholds):
        mine = c in configured
        f = configured[c] if mine else declared.get(mc)
        if not f:
            out.append(None)
            continue
        f = float(f)
        if mine and rule.action is not Action.BLOCK:
            raise ValueError(
                f"classifier.flag_thresholds: {c}'s action is {rule.action.value}, not block, so a flag band would only lower its threshold; "
                f"use thresholds: {{{c}: {f}}} / 类别 {c} 的处置不是拦截，标记区间只等于降低阈值，请改用 thresholds"
            )
        if mine and f >= th:
            raise ValueError(
                f"classifier.flag_thresholds: {c}'s flag threshold {f} is not below its threshold {th} / 类别 {c} 的标记阈值 {f} 不低于其阈值 {th}"
            )
        out.append(f if rule.action is Action.BLOCK and f < th else None)
    return out
