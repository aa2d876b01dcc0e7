"""A model's answer judged as the reply to its prompt: the text checks on the answer plus the
answer judge (``fenghuo.checks.context``) on the pair, combined into one verdict.

Shared by ``fenghuo scan --pairs`` and ``fenghuo checks evaluate --pairs`` so that what the
evaluation measures is exactly what the scan prints. Harmful compliance (the prompt asks for
harm and the answer helps) is the category ``compliance``, as in the guard: its action comes
from the policy (flag by default, as the guard's ``compliance_action``), its risk codes from
the judge, and its score is the judge's score.

A refusal that names the topic is not flagged (issue 12 item 5): when the judge finds a full
refusal and no compliance risk, the text checks' topic findings on the answer (a lexicon word
such as 制作炸药 in 「我不能提供制作炸药的方法」, a classifier score) are listed with
``cleared: true`` and do not count toward the verdict; findings whose action is ``mask``
(personal information the answer still contains) do. Measured on the 1,000 JADE v3 medium
answers: counting every finding flagged 55 % of the safe answers; clearing refusals, 0.2 %,
with unsafe-answer recall unchanged (0.99).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from fenghuo.checks.base import Action, Verdict

COMPLIANCE = "compliance"  # the guard's category too (guard/checking.py): one name for one thing
_RANK = {"pass": 0, "flag": 1, "block": 2}


@dataclass(slots=True)
class PairResult:
    verdict: Verdict  # the text checks on the answer
    judgement: object  # fenghuo.checks.context.AnswerJudgement
    action: Action | None  # the policy's action for compliance, when the judge found it

    @property
    def compliance_risk(self) -> bool:
        return bool(self.judgement.compliance_risk)

    @property
    def cleared(self) -> bool:
        """The judge found a refusal without compliance risk: topic findings do not count."""
        return bool(self.judgement.refused) and not self.compliance_risk

    @property
    def counted(self) -> Verdict:
        """The answer's own verdict with only the findings that count (see module docstring)."""
        if not self.cleared:
            return self.verdict
        v = self.verdict
        kept = [f for f in v.findings if f.action is Action.MASK]
        return Verdict(kept, v.elapsed_us, v.checks, v.errors)  # the topic scores are cleared too

    @property
    def refused(self) -> bool:
        return bool(self.judgement.refused)

    @property
    def outcome(self) -> str:
        """block | flag | pass: the stronger of the answer's own verdict and the judge's."""
        own = self.counted.verdict
        if self.action is None:
            return own
        judged = "block" if self.action is Action.BLOCK else "flag"
        return judged if _RANK[judged] > _RANK[own] else own

    @property
    def blocked(self) -> bool:
        return self.outcome == "block"

    @property
    def categories(self) -> list[str]:
        cats = set(self.counted.categories)
        if self.compliance_risk:
            cats.add(COMPLIANCE)
        return sorted(cats)

    @property
    def risks(self) -> list[str]:
        risks = set(self.counted.risks)
        if self.compliance_risk:
            risks.update(self.judgement.risks or ())
        return sorted(risks)

    @property
    def scores(self) -> dict[str, float]:
        scores = dict(self.counted.scores)
        scores[COMPLIANCE] = round(float(self.judgement.score), 4)
        return dict(sorted(scores.items()))

    @property
    def score(self) -> float:
        return max(self.scores.values(), default=0.0)

    def to_dict(self, answer: str) -> dict:
        d = self.verdict.to_dict(answer)
        if self.cleared:
            for f in d["findings"]:
                f["cleared"] = f["action"] != Action.MASK.value
        d.update(
            verdict=self.outcome,
            blocked=self.blocked,
            categories=self.categories,
            risks=self.risks,
            scores=self.scores,
            refused=self.refused,
            partial_refusal=bool(self.judgement.partial_refusal),
            compliance_risk=self.compliance_risk,
            judge=self.judgement.to_dict(),
            elapsed_us=round(self.verdict.elapsed_us + float(self.judgement.elapsed_us), 1),
        )
        return d


def judge_pair(pipe, judge, prompt: str, answer: str) -> PairResult:
    v = pipe.scan(answer)
    j = judge.judge(prompt, answer)
    action = pipe.policy.rule(COMPLIANCE).action if j.compliance_risk else None
    return PairResult(v, j, action)


def parse_pair(line: str, where: str) -> tuple[str, str]:
    """``{"prompt": …, "answer": …}`` → (prompt, answer); ValueError naming ``where``."""
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{where}: not JSON ({exc.msg} at column {exc.colno}) / 不是 JSON") from None
    if not isinstance(obj, dict):
        raise ValueError(f"{where}: expected a JSON object with 'prompt' and 'answer' / 应为含 prompt 与 answer 的对象")
    missing = [k for k in ("prompt", "answer") if not isinstance(obj.get(k), str)]
    if missing:
        raise ValueError(f"{where}: missing or non-string {', '.join(repr(k) for k in missing)} / 缺少字段或不是字符串")
    return obj["prompt"], obj["answer"]


def load_judge():
    """The shipped answer judge; ValueError with one clear line when it cannot be loaded."""
    try:
        from fenghuo.checks.context import default_judge

        return default_judge()
    except (ImportError, OSError, ValueError, NotImplementedError) as exc:
        from fenghuo.checks.pipeline import load_reason

        raise ValueError(f"answer judge not available / 回答评判器不可用: {load_reason(exc)}") from None
