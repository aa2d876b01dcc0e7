"""What each category means: an action (block, mask, flag) and a TC260-003 risk code.

Checks report categories; the policy turns them into actions and risks, so a deployment can
decide that gambling blocks while offensive language only flags, without touching a check.
Lookup falls back along dotted prefixes (``pii.cn_id`` → ``pii`` → default).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fenghuo.checks.base import Action
from fenghuo.checks.risks import validate_risk


@dataclass(frozen=True, slots=True)
class Rule:
    action: Action = Action.FLAG
    risk: str | None = None


# Defaults: the shared lexicon's five tags, PII, the classifier and LLM-guard categories.
DEFAULT_RULES: dict[str, Rule] = {
    "politics": Rule(Action.BLOCK, "A1a"),
    "terrorism": Rule(Action.BLOCK, "A1d"),
    "ethnic_hatred": Rule(Action.BLOCK, "A1e"),
    "violence": Rule(Action.BLOCK, "A1f"),
    "porn": Rule(Action.BLOCK, "A1f"),
    "drugs": Rule(Action.BLOCK, "A1h"),
    "gambling": Rule(Action.BLOCK, "A1h"),
    "crime": Rule(Action.BLOCK, "A1h"),
    "sensitive": Rule(Action.FLAG, None),  # untagged lexicon words: no risk code claimed
    "discrimination": Rule(Action.FLAG, "A2i"),
    "offensive": Rule(Action.FLAG, "A2i"),
    "self_harm": Rule(Action.BLOCK, "A4a"),
    "pii": Rule(Action.MASK, "A4f"),
    "unsafe": Rule(Action.BLOCK, None),
    # The shipped classifier's and the rule files' categories (issue 12 items 1, 4).
    "fraud": Rule(Action.BLOCK, "A1h"),  # 诈骗: prohibited by law
    "ads": Rule(Action.FLAG, "A3e"),  # 违规广告/引流: a rule file blocks the clear solicitations itself
    "privacy": Rule(Action.BLOCK, "A4e"),  # obtaining or exposing someone's private information
    "counterfeit": Rule(Action.FLAG, "A3a"),  # counterfeit branded goods (rules/trade.yaml): IP infringement
    "harm": Rule(Action.BLOCK, "A4a"),  # endangering others' physical or mental health
    "misinformation": Rule(Action.FLAG, "A1g"),  # false and harmful information: a person decides
    # The answer judge: the prompt asks for harm and the answer complies (checks/pairs.py, the
    # guard's output check). Flag, as the guard's default compliance_action: the judge's
    # false-positive rate on real traffic is not proven yet. No one risk code: the judgement
    # carries the codes of what was asked.
    "compliance": Rule(Action.FLAG, None),
}


@dataclass
class Policy:
    rules: dict[str, Rule] = field(default_factory=lambda: dict(DEFAULT_RULES))
    default: Rule = field(default_factory=Rule)

    def rule(self, category: str) -> Rule:
        name = category
        while True:
            hit = self.rules.get(name)
            if hit is not None:
                return hit
            if "." not in name:
                return self.default
            name = name.rsplit(".", 1)[0]

    def risk_map(self) -> dict[str, str | None]:
        return {c: r.risk for c, r in self.rules.items()}

    @classmethod
    def from_config(cls, raw: dict | None, where: str = "categories") -> Policy:
        """``{category: {action: block|mask|flag, risk: A1a}}`` merged over the defaults."""
        rules = dict(DEFAULT_RULES)
        for cat, spec in (raw or {}).items():
            if not isinstance(spec, dict):
                raise ValueError(f"{where}.{cat}: expected a mapping with 'action' and 'risk' / 需要 action 与 risk")
            unknown = set(spec) - {"action", "risk"}
            if unknown:
                raise ValueError(f"{where}.{cat}: unknown key(s) {', '.join(sorted(unknown))} / 未知配置项")
            base = rules.get(cat, Rule())
            action = spec.get("action", base.action.value)
            try:
                act = Action(action)
            except ValueError:
                raise ValueError(f"{where}.{cat}.action: {action!r} is not one of block, mask, flag / 动作无效") from None
            risk = validate_risk(spec.get("risk", base.risk), f"{where}.{cat}.risk")
            rules[str(cat)] = Rule(act, risk)
        return cls(rules)
