"""Bank coverage against the TC260-003 §8.2–8.3 minimums, with exactly what is missing.

"Not enough A2f questions" is useless to the person building the bank; "A2f 年龄歧视内容: 9 of
50 generated-content questions, 41 missing" is a task. Every shortfall is one such line.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from fenghuo.evaluation.bank import BankItem
from fenghuo.evaluation.minimums import ANSWER_TOPICS, CODES, CORE_CODES, MINIMUMS, Minimums, label, topic_label


@dataclass(slots=True)
class Shortfall:
    bank: str  # generated | refuse | answer
    what: str  # "total" or a risk code
    have: int
    need: int

    @property
    def missing(self) -> int:
        return self.need - self.have

    def __str__(self) -> str:
        names = {"generated": "生成内容测试题库 / generated-content bank", "refuse": "应拒答题库 / should-refuse bank", "answer": "非拒答题库 / should-answer bank"}
        subject = ("总数 / total" if self.what == "total" else topic_label(self.what) if self.what in ANSWER_TOPICS
                   else label(self.what))
        return f"{names[self.bank]} · {subject}: {self.have}/{self.need}, 缺 / missing {self.missing}"

    def to_dict(self) -> dict:
        return {"bank": self.bank, "what": self.what, "have": self.have, "need": self.need, "missing": self.missing}


@dataclass(slots=True)
class Coverage:
    total: int
    by_risk: dict[str, int]
    refuse_by_risk: dict[str, int]
    refuse_total: int
    answer_total: int
    answer_by_topic: dict[str, int]
    safe_answer_total: int
    unmapped: int
    by_source: dict[str, int]
    shortfalls: list[Shortfall] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.shortfalls

    def to_dict(self) -> dict:
        return {
            "total": self.total,
            "by_risk": self.by_risk,
            "refuse_total": self.refuse_total,
            "refuse_by_risk": self.refuse_by_risk,
            "answer_total": self.answer_total,
            "answer_by_topic": self.answer_by_topic,
            "safe_answer_total": self.safe_answer_total,
            "unmapped": self.unmapped,
            "by_source": self.by_source,
            "complete": self.complete,
            "shortfalls": [s.to_dict() for s in self.shortfalls],
        }


def coverage(items: list[BankItem], minimums: Minimums = MINIMUMS) -> Coverage:
    """Count the bank by risk and expectation and list every minimum it does not meet.

    Every item is a generated-content question; ``refuse`` items also form the should-refuse
    bank and ``answer`` items the should-answer bank (TC260-003 §8.2 and §8.3).
    """
    by_risk = Counter(i.risk for i in items if i.risk)
    refuse = [i for i in items if i.expectation == "refuse"]
    refuse_by_risk = Counter(i.risk for i in refuse if i.risk)
    answer_total = sum(1 for i in items if i.expectation == "answer")
    answer_by_topic = Counter(i.topic for i in items if i.expectation == "answer" and i.topic)
    cov = Coverage(
        total=len(items),
        by_risk={c: by_risk.get(c, 0) for c in CODES},
        refuse_by_risk={c: refuse_by_risk.get(c, 0) for c in CORE_CODES},
        refuse_total=len(refuse),
        answer_total=answer_total,
        answer_by_topic={t: answer_by_topic.get(t, 0) for t in ANSWER_TOPICS},
        safe_answer_total=sum(1 for i in items if i.expectation == "safe_answer"),
        unmapped=sum(1 for i in items if not i.risk),
        by_source=dict(Counter(i.source or "?" for i in items)),
    )
    short = cov.shortfalls
    if cov.total < minimums.total:
        short.append(Shortfall("generated", "total", cov.total, minimums.total))
    for code in CODES:
        need = minimums.per_core_risk if code in CORE_CODES else minimums.per_other_risk
        if cov.by_risk[code] < need:
            short.append(Shortfall("generated", code, cov.by_risk[code], need))
    if cov.refuse_total < minimums.refuse_total:
        short.append(Shortfall("refuse", "total", cov.refuse_total, minimums.refuse_total))
    for code in CORE_CODES:
        if cov.refuse_by_risk[code] < minimums.refuse_per_core_risk:
            short.append(Shortfall("refuse", code, cov.refuse_by_risk[code], minimums.refuse_per_core_risk))
    if cov.answer_total < minimums.answer_total:
        short.append(Shortfall("answer", "total", cov.answer_total, minimums.answer_total))
    for topic in ANSWER_TOPICS:  # CN-TC-23: a total of 500 is not enough if a topic is missing
        if cov.answer_by_topic[topic] < minimums.answer_per_topic:
            short.append(Shortfall("answer", topic, cov.answer_by_topic[topic], minimums.answer_per_topic))
    return cov
