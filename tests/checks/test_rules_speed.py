"""The rules check's per-message fast path (issue 19) and its prefilter, against references in the same run.

``RulesCheck.find_in`` evaluates a rule only when it is due (``rules_due.py``): a clause's key
literal occurs (one hyperscan scan per side, module-level callbacks, no ``Message``) and, for a
clause with other factors, those occur too, close enough (a second scan, only then). These tests
compare, on several hundred varied texts (the verdict fixture's texts, every rule's examples and
mixes of them), the fast path's rule list with the reference (``RulesCheck.todo_general``:
``str.find`` over the decoded text, no hyperscan), and its findings with engine ``re``'s, which
evaluates every rule over the whole text with no prefilter. A prefilter that dropped a true hit
fails ``test_no_true_hit_is_dropped`` (written sets, COLD train cuts, every hit example inside
long text) and ``test_factors_are_in_every_match`` (the factors behind the clauses).
"""

from __future__ import annotations

import json
import random
import re
import sys
from pathlib import Path

import pytest

from fenghuo.checks.rules import RulesCheck, hyperscan
from fenghuo.checks.rules_pattern import max_width
from fenghuo.checks.rules_regex import clause_factors
from fenghuo.platform.paths import shared_data_dir

pytestmark = pytest.mark.skipif(hyperscan is None, reason="hyperscan not installed")

sys.path.insert(0, str(Path(__file__).parent))
from test_verdicts_unchanged import texts as fixture_texts  # noqa: E402

WRITTEN = Path(__file__).parent / "data" / "written_zh"


@pytest.fixture(scope="module")
def checks(shipped_rules, shipped_rules_re) -> tuple[RulesCheck, RulesCheck]:
    return shipped_rules, shipped_rules_re  # compiled once per test process (tests/checks/conftest.py)


@pytest.fixture(scope="module")
def items(checks) -> list[str]:
    """Every rule's hit and near-miss examples (all of them: each rule due and found on its own
    examples), 200 mixes of two, and every second text of the verdict fixture. The references
    (``todo_general``, engine ``re``) cost ~3-4 ms per text however short, so the fixture's 891
    texts took ~7 s of the two tests below; they are everyday traffic in which few rules are
    due (measured: all 891 make 150 texts with a rule due, 19 rules; every second one 81 and
    16), which the examples and mixes cover many times over (172 and 81 rules due)."""
    fast, _ = checks
    rng = random.Random(1919)
    examples = [t for r in fast.rules for t in (*r.hit, *r.near_miss)]
    out = [t for t in fixture_texts() if len(t) < 5000][1::2]
    out += examples
    for _ in range(200):  # two examples, cut and joined: several rules' literals in one message
        a, b = rng.sample(examples, 2)
        out.append(a[: rng.randint(0, len(a))] + rng.choice(["", "，", " ", "😂"]) + b[rng.randint(0, len(b)) :])
    return list(dict.fromkeys(out))


def _written(every: int = 1) -> list[str]:
    """The written dev sets' texts (every ``every``-th line of each file)."""
    return [json.loads(line)["text"] for p in sorted(WRITTEN.glob("*.jsonl"))
            for line in [x for x in p.read_text(encoding="utf-8").splitlines() if x.strip()][::every]]


def _cold_train_cuts(n: int) -> list[str]:
    """≤ 1 KB cuts of COLD train (toxic comments: where rules were most often due), or none."""
    import csv

    shared = shared_data_dir()
    if shared is None:
        return []
    with (shared / "classifier" / "cold" / "train.csv").open(encoding="utf-8-sig", newline="") as fh:
        text = "".join(row[4] for row in list(csv.reader(fh))[1:])
    return [text[i : i + 340] for i in range(0, min(len(text) - 340, 340 * n), 340)]


def test_rules_evaluated_match_reference(checks, items):
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


def test_no_true_hit_is_dropped(checks):
    """Findings equal the no-prefilter reference (engine ``re``: every rule over the whole text)
    on the written sets, COLD train cuts and every rule's hit examples inside long text; every
    rule that finds something was due; and the confirmation stage did drop rules (so the test
    covers it).

    Every rule is found here in its hit examples inside long text (all 172, measured). The
    written sets take every second line of each of their five files: engine re costs ~3 ms a
    text, and all 3253 lines took ~10 s of this test (more under make test's load); half of
    each file still has texts with findings of 135 rules (all lines: 147) and ~1700 rules
    dropped by the confirmation stage (all: ~3450)."""
    fast, slow = checks
    rng = random.Random(2026)
    cold = _cold_train_cuts(400)
    texts = _written(every=2) + cold
    filler = "".join(cold) or "今天天气不错，我们去公园散步吧。" * 40
    for spec in fast.rules:
        for hit in spec.hit:
            at = rng.randint(0, 600)
            texts.append(filler[at : at + rng.randint(0, 300)] + hit + filler[at + 300 : at + 300 + rng.randint(0, 300)])
    c = fast._compiled
    found = dropped = 0
    for t in texts:
        n = fast.normaliser.normalise(t)
        want = slow.find_in(t, n)
        assert fast.find_in(t, n) == want, t
        due = set(fast.todo_fast(t, n))
        assert {f.rule.removeprefix("rules:") for f in want} <= due, t
        found += bool(want)
        keyed = {c.clauses[k].rule for i in {h & 0xFFFFF for h in c.index.prefilter(t, n)} for k in c.index.keyed[i]}
        dropped += len(keyed) - len(due)
    assert found >= 500 and dropped >= 50, (found, dropped)  # measured: 1084 and 5118


def test_factors_are_in_every_match(checks, items):
    """Soundness of the clauses: every match of a rule alternative holds a string of each of its
    factors (``clause_factors``: ``required_factors`` and the alternations' unions), within the
    alternative's longest match."""
    fast, _ = checks
    norm = fast.normaliser.normalise_text
    texts = items + _written()
    ntexts = [norm(t) for t in texts]
    # A plan's ``caseless``: an orig pattern with a scoped (?i:...) group, whose factors the engine
    # matches caselessly although the compiled regex carries no global IGNORECASE flag.
    branches = {(p.side, b.pattern, p.caseless) for p in fast._compiled.plans for b, _, _ in p.branches}
    checked = 0
    for side, pattern, plan_caseless in sorted(branches):
        factors = clause_factors(pattern)
        if factors is None:
            continue
        rx, width = re.compile(pattern, re.ASCII), max_width(pattern)
        caseless = rx.flags & re.IGNORECASE or plan_caseless
        for target in ntexts if side == "norm" else texts:
            for m in rx.finditer(target):
                got = m.group().lower() if caseless else m.group()
                assert len(got) <= width, (pattern, got)
                for f in factors:
                    assert any((w.lower() if caseless else w) in got for w in f), (pattern, got, f)
                checked += 1
    assert checked > 1000


def test_leading_literals_start_every_match(checks, items):
    """Soundness of the anchored search (``rules_match._anchored``): every match of a regex
    alternative tried only where its leading strings occur starts with one of them."""
    fast, _ = checks
    norm = fast.normaliser.normalise_text
    texts = items + _written()
    ntexts = [norm(t) for t in texts]
    checked = anchored = 0
    for p in fast._compiled.plans:
        for (rx, _width, _lits), leads in zip(p.branches, p.leads):
            if leads is None:
                continue
            anchored += 1
            # A scoped (?i:...) group leaves no global flag: the plan's own flag says caseless.
            caseless = p.caseless or rx.flags & re.IGNORECASE
            want = tuple(w.lower() for w in leads) if caseless else tuple(leads)
            for target in ntexts if p.side == "norm" else texts:
                for m in rx.finditer(target):
                    got = m.group().lower() if caseless else m.group()
                    assert got.startswith(want), (rx.pattern[:60], got)
                    checked += 1
    assert anchored > 100 and checked > 1000, (anchored, checked)


@pytest.mark.parametrize(
    ("pattern", "want"),
    [
        (r"(?<![a-z])(?:ab|[三四]十岁)x", ["abx", "三十岁x", "四十岁x"]),
        (r"(?:你们|你)(?:这种)?人", ["你人", "你们人", "你们这种人", "你这种人"]),  # optional parts: shorter prefixes
        (r"低能儿?|垃圾", ["低能", "垃圾"]),  # a string another one starts with is dropped
        (r"\d{2}岁以上", [f"{i:02d}岁以上" for i in range(100)]),  # \d is 0-9 (re.ASCII)
        (r"(?:a|b.)c", ["ac", "b"]),  # the known part of an alternative
        (r"x+y", ["x"]),
        (r"a*b", None),  # may start with a or b: not followed up
        (r".a", None),
        (r"(?:a|)b", ["ab", "b"]),  # an empty alternative: the rest leads there
    ],
)
def test_leading_literals(pattern, want):
    from fenghuo.checks.rules_regex import leading_literals

    assert leading_literals(pattern) == want


def test_decode_text_equals_normalised_text():
    """``rules_match.decode_text`` (two gathers) gives ``Normalised.text`` for every code point."""
    import numpy as np

    from fenghuo.checks.normalize import default_normaliser
    from fenghuo.checks.normalize_table import decode_quad, encode_quad
    from fenghuo.checks.rules_message import decode_text

    codes = encode_quad(np.arange(0x110000, dtype=np.uint32))
    assert decode_text(codes) == decode_quad(codes).tobytes().decode("utf-32-le", "surrogatepass")
    assert decode_text(codes[:0]) == ""
    n = default_normaliser().normalise("你好，ＡＢＣ①臺灣 😂 x")  # the rules check's normaliser (RulesCheck() compiled every rule for it)
    assert decode_text(n.codes) == n.text()
