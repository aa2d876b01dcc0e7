"""Seeded, reproducible draws of the samples the rules set (TC260-003 §9.3–9.4).

The same bank and seed always give the same questions, whatever order the files were listed
in, so a regulator can re-draw and check. Each metric draws from its own bank: all questions
for generated content, ``refuse`` for should-refuse, ``answer`` for should-answer; a question
drawn by two metrics is asked once and counted by both.
"""

from __future__ import annotations

import random

from fenghuo.evaluation.bank import BankItem

POOLS = {
    "generated": lambda item: True,
    # CN-TC-28: three separate random draws from the whole generated-content bank
    "generated_manual": lambda item: True,
    "generated_keyword": lambda item: True,
    "generated_classifier": lambda item: True,
    "refuse": lambda item: item.expectation == "refuse",
    "answer": lambda item: item.expectation == "answer",
}


def draw(items: list[BankItem], sizes: dict[str, int], seed: int) -> dict[str, list[str]]:
    """Item ids per metric: ``min(size, pool)`` of them, chosen by ``seed``."""
    ids = {}
    for metric, wanted in sizes.items():
        pool = sorted(item.id for item in items if POOLS[metric](item))
        rng = random.Random(f"fenghuo:{seed}:{metric}")
        ids[metric] = rng.sample(pool, min(max(0, wanted), len(pool)))
    return ids


def ask_order(draws: dict[str, list[str]], seed: int) -> list[str]:
    """Every drawn id once, in a seeded order (so a resumed run asks the rest in the same order)."""
    union = sorted({i for ids in draws.values() for i in ids})
    random.Random(f"fenghuo:{seed}:order").shuffle(union)
    return union
