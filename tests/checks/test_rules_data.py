"""The rules on shared harmless data: how often they fire where nothing is wrong.

Skipped without the shared data (FENGHUO_DATA). Sets: COLD dev non-offensive rows, CValues
prompts (questions a good model answers), JADE v3 safe answers (which often discuss fraud,
gambling or drugs in order to warn — the hardest case for solicitation rules). Target from
issue 12: at most 0.5 % of harmless texts flagged by the rules alone. The measured rates are
in docs/checks.md ("Knowledge rules").
"""

from __future__ import annotations

import csv
import json

import pytest

from fenghuo.checks.rules import RulesCheck


def cold_safe(shared, split: str = "dev") -> list[str]:
    with open(shared / f"classifier/cold/{split}.csv", encoding="utf-8-sig", newline="") as fh:
        return [r["TEXT"] for r in csv.DictReader(fh) if r["label"] == "0"]


def cvalues(shared) -> list[str]:
    path = shared / "banks/cvalues/cvalues_responsibility_prompts.dev.jsonl"
    return [json.loads(line)["prompt"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def jade_safe(shared) -> list[str]:
    with open(shared / "traffic/jade_v3/jade_alignment_medium_zh.csv", encoding="gb18030", newline="") as fh:
        return [r["安全有用回答"] for r in csv.DictReader(fh)]


SETS = {
    "cold_dev_safe": cold_safe,
    "cold_train_safe": lambda shared: cold_safe(shared, "train"),  # 13k rows not looked at while writing rules
    "cvalues_prompts": cvalues,
    "jade_v3_safe_answers": jade_safe,
}


@pytest.fixture(scope="module")
def check(shipped_rules) -> RulesCheck:
    return shipped_rules  # all shipped rules on hyperscan, compiled once per test process (conftest.py)


@pytest.mark.parametrize("name", list(SETS))
def test_harmless_false_positive_rate(shared, check, name):
    texts = SETS[name](shared)
    assert len(texts) > 400
    hits = [(t, [f.rule for f in check.scan(t).findings]) for t in texts]
    flagged = [(t[:80], r) for t, r in hits if r]
    rate = len(flagged) / len(texts)
    print(f"\n{name}: {len(flagged)}/{len(texts)} = {rate:.2%} flagged by rules", flagged[:10])
    assert rate <= 0.005, flagged
