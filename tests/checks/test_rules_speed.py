"""The rules check's per-message fast path (issue 19) against the general one, in the same run.

``RulesCheck.find_in`` no longer builds a ``Message`` nor tests every rule on each message: the
prefilter literals come from ``LiteralIndex.candidate_literals`` (module-level callbacks, no
closure) and only the rules those literals touch are tested (``lit_rules``, ``single_todo``).
These tests compare, on several hundred varied texts (the verdict fixture's texts, every rule's
examples and mixes of them), the fast path's prefilter result and rule list with the general
ones (``LiteralIndex.candidates``, ``RulesCheck.todo_general``), and its findings with engine
``re``'s, which evaluates every rule over the whole text.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

from fenghuo.checks.rules import RulesCheck, hyperscan
from fenghuo.checks.rules_match import Message

pytestmark = pytest.mark.skipif(hyperscan is None, reason="hyperscan not installed")

sys.path.insert(0, str(Path(__file__).parent))
from test_verdicts_unchanged import texts as fixture_texts  # noqa: E402


@pytest.fixture(scope="module")
def checks() -> tuple[RulesCheck, RulesCheck]:
    return RulesCheck(engine="hyperscan"), RulesCheck(engine="re")


@pytest.fixture(scope="module")
def items(checks) -> list[str]:
    fast, _ = checks
    rng = random.Random(1919)
    examples = [t for r in fast.rules for t in (*r.hit, *r.near_miss)]
    out = [t for t in fixture_texts() if len(t) < 5000]
    out += examples
    for _ in range(200):  # two examples, cut and joined: several rules' literals in one message
        a, b = rng.sample(examples, 2)
        out.append(a[: rng.randint(0, len(a))] + rng.choice(["", "，", " ", "😂"]) + b[rng.randint(0, len(b)) :])
    return list(dict.fromkeys(out))


def test_literal_prefilter_matches_general(checks, items):
    fast, _ = checks
    index = fast._compiled.index
    for t in items:
        n = fast.normaliser.normalise(t)
        lit = index.candidate_literals(t, n)
        assert {p for i in lit for p in index.pre_pids[i]} == index.candidates(Message(t, n)), t


def test_rules_evaluated_match_general(checks, items):
    fast, _ = checks
    due = 0
    for t in items:
        n = fast.normaliser.normalise(t)
        general = fast.todo_general(t, n)
        assert fast.todo_fast(t, n) == general, t
        due += bool(general)
    assert due >= 100  # the texts exercise the path past the prefilter, not only the early exit


def test_findings_match_engine_re(checks, items):
    fast, slow = checks
    hits = 0
    for t in items:
        n = fast.normaliser.normalise(t)
        got = fast.find_in(t, n)
        assert got == slow.find_in(t, n), t
        hits += bool(got)
    assert hits >= 50
