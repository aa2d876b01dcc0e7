"""Which of the 31 TC260-003 appendix A risks the configured checks can detect (CN-TC-24).

Derived, not written down: each check says which categories it can report (``categories()``),
the pipeline's policy maps each category to a risk code, and a risk is covered when at least
one check can report a category that maps to it. A hand-written table would drift from the
configuration the moment someone edits a lexicon or turns a check off; this one cannot.

Checks that do not (yet) offer ``categories()`` are read through what they are known to hold
(a lexicon's compiled tags, PII's types, the classifier's category, the LLM guard's label
map); a check of unknown kind contributes nothing and is listed as such, so the report never
claims coverage it cannot show.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fenghuo.checks.risks import RISKS


def check_categories(check) -> set[str] | None:
    """Every category ``check`` can report; None when it cannot say."""
    own = getattr(check, "categories", None)
    if callable(own):
        return set(own())
    if isinstance(own, (set, frozenset, list, tuple)):
        return set(own)
    kind = type(check).__name__
    if kind == "LexiconCheck":
        return {c for cats in check._state.categories for c in cats}
    if kind == "PIICheck":
        return {f"pii.{t}" for t in check.types} | ({"pii"} if check.detectors else set())
    if kind == "ClassifierCheck":
        return {check.category}
    if kind == "LLMGuardCheck":
        from fenghuo.checks.llm_guard import LLAMAGUARD, QWEN3GUARD

        labels = QWEN3GUARD if check.fmt == "qwen3guard" else LLAMAGUARD
        return set(labels.values()) | {"unsafe", "controversial"}
    return None


def direct_risks(check) -> list[str] | None:
    """Risk codes a check reports directly rather than through categories: the answer judge
    names the codes of what the prompt asked for (its model's ``risk_codes``)."""
    own = getattr(check, "risk_codes", None)
    if callable(own):
        own = own()
    if own is None and type(check).__name__ == "AnswerJudge":
        own = getattr(getattr(check, "model", None), "risk_codes", None)
    return list(own) if own is not None else None


def category_risk(check, policy, category: str) -> str | None:
    """The risk code a finding of ``category`` from ``check`` carries."""
    own = getattr(check, "risk_for", None)
    if callable(own):
        return own(category)
    if type(check).__name__ == "LLMGuardCheck":  # guard-only categories have their own codes
        from fenghuo.checks.llm_guard import GUARD_RULES

        rule = check._configured(category)
        if rule is None:
            return GUARD_RULES.get(category, policy.rule("unsafe").risk)
        return rule.risk
    return policy.rule(category).risk


@dataclass
class Coverage:
    by_risk: dict[str, list[tuple[str, str]]]  # risk -> [(check name, category)]
    checks: dict[str, list[str] | None]  # check name -> its categories (None: cannot say)
    unmapped: dict[str, list[str]] = field(default_factory=dict)  # check -> categories with no risk code
    degraded: list[str] = field(default_factory=list)  # configured checks that did not load

    @property
    def covered(self) -> list[str]:
        return [r for r in RISKS if self.by_risk.get(r)]

    @property
    def missing(self) -> list[str]:
        return [r for r in RISKS if not self.by_risk.get(r)]

    def to_dict(self) -> dict:
        return {
            "covered": len(self.covered),
            "total": len(RISKS),
            "risks": [
                {"code": r, "zh": zh, "en": en, "detected": bool(self.by_risk.get(r)),
                 "by": [{"check": c, "category": cat} for c, cat in self.by_risk.get(r, [])]}
                for r, (zh, en) in RISKS.items()
            ],
            "checks": {k: (sorted(v) if v is not None else None) for k, v in self.checks.items()},
            "unmapped": {k: sorted(v) for k, v in self.unmapped.items()},
            "degraded": list(self.degraded),
        }

    def lines(self) -> list[str]:
        out = [f"TC260-003 appendix A: {len(self.covered)} of {len(RISKS)} risks detectable by the configured checks "
               f"(CN-TC-24) / 可检测 {len(self.covered)}/{len(RISKS)} 项风险"]
        for r, (zh, en) in RISKS.items():
            by = self.by_risk.get(r)
            if by:
                detail = "; ".join(f"{c}: {', '.join(sorted({cat for cc, cat in by if cc == c}))}" for c in dict.fromkeys(c for c, _ in by))
                out.append(f"  ✓ {r}  {zh} / {en}  ← {detail}")
            else:
                out.append(f"  ✗ {r}  {zh} / {en}  — not detected / 未覆盖")
        for name, cats in self.checks.items():
            if cats is None:
                out.append(f"note 提示: check {name} does not say which categories it reports; not counted / 未计入")
        for name, cats in self.unmapped.items():
            out.append(f"note 提示: {name} reports categories with no risk code / 无风险代码的类别: {', '.join(sorted(cats))}")
        return out  # checks that did not load are named on stderr when the pipeline loads


def coverage(pipe, extra: list | None = None) -> Coverage:
    """Coverage of ``pipe``'s checks (plus ``extra`` checks, e.g. the answer judge)."""
    by_risk: dict[str, list[tuple[str, str]]] = {}
    checks: dict[str, list[str] | None] = {}
    unmapped: dict[str, list[str]] = {}
    for check in list(pipe.checks) + list(extra or []):
        codes = direct_risks(check)
        if codes is not None:  # the judge: its category is compliance, its codes its own
            checks[check.name] = ["compliance"]
            for code in codes:
                if code in RISKS:
                    by_risk.setdefault(code, []).append((check.name, "compliance"))
            continue
        cats = check_categories(check)
        checks[check.name] = sorted(cats) if cats is not None else None
        for cat in sorted(cats or ()):
            risk = category_risk(check, pipe.policy, cat)
            if risk is None:
                unmapped.setdefault(check.name, []).append(cat)
            else:
                by_risk.setdefault(risk, []).append((check.name, cat))
    return Coverage(by_risk, checks, unmapped, [d.line() for d in getattr(pipe, "degraded", [])])
