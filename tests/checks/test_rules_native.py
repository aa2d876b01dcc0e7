"""The rules check's C paths (session 21) against the code they replace, and the clauses' extra factors.

- ``_textnative.CodeSet``: the normalised side's confirmation and pattern literal sets matched
  on the codes, against hyperscan's scan of the three-byte form (``on_norm_literal``'s
  reports) for every such database of the shipped rules, and against a brute-force search on
  random literal sets (shared first codes, overlaps, duplicates, stretches).
- ``_textnative.decode_quad``: ``rules_message.decode_text`` against its numpy gathers.
- ``_textnative.DuePlan`` (session 24; session 23's ``due_pending`` before it): the rules
  ``rules_due.due_rules`` finds due with it against its Python loop (``pending_loop`` over the
  cached entries), on the shipped rules' examples and their pairs, texts with an expansion
  (``ﬁ``: no distance test for ``all`` rules), long repeats (many key occurrences).
- ``rules_regex.clause_factors``: every match of random alternations holds a string of each
  factor (the shipped patterns: ``test_rules_speed.test_factors_are_in_every_match``).
"""

from __future__ import annotations

import random
import re

import numpy as np
import pytest

from fenghuo.checks.matcher import pack3
from fenghuo.checks.normalize import NATIVE
from fenghuo.checks.rules import hyperscan
from fenghuo.checks.rules_literals import HIT_BITS, code_set, on_norm_literal

needs_native = pytest.mark.skipif(getattr(NATIVE, "CodeSet", None) is None, reason="C kernel not built (make native)")
needs_hs = pytest.mark.skipif(hyperscan is None, reason="hyperscan not installed")


def _texts(fast) -> list[str]:
    rng = random.Random(21)
    examples = [t for r in fast.rules for t in (*r.hit, *r.near_miss)]
    out = list(examples)
    for _ in range(150):
        a, b = rng.sample(examples, 2)
        out.append(a + rng.choice(["", "，", "😂"]) + b)
    # Bytes of one character straddling two (the reason for ``on_norm_literal``'s test).
    out += ["䂜中丁", "丁䂜中丁丁", "", "x", "你你你你们你们都是都是"]
    return out


def _hs_reports(db, packed: bytes, lo: int, hi: int) -> list[int]:
    got: list[int] = []
    db.scan(packed[3 * lo : 3 * hi], on_norm_literal, 0, got, hyperscan.Scratch(db))
    return sorted(got)


@needs_native
@needs_hs
def test_code_sets_equal_hyperscan_on_shipped_databases(shipped_rules):
    fast = shipped_rules
    index = fast._compiled.index
    pairs = [(cs, db) for cs, db in zip(index.confirm_sets, index.confirm_dbs) if cs is not None]
    pairs += [(cs, db) for cs, db in zip(index.sets, index.dbs) if cs is not None]
    # Nearly every normalised-side database has its C set (none is caseless there); the original
    # side's (English rules read the original text, session 23) have none by design.
    norm_side = {d for got in index.confirm_of.values() for side, d in got if side == "norm"}
    assert len(pairs) > 500 and sum(index.confirm_sets[d] is not None for d in norm_side) > 0.9 * len(norm_side)
    rng = random.Random(7)
    compared = reported = 0
    for t in _texts(fast):
        n = fast.normaliser.normalise(t)
        codes = np.ascontiguousarray(n.codes, np.uint32)
        packed = pack3(codes).tobytes()
        size = codes.size
        for cs, db in rng.sample(pairs, 40):
            lo = rng.randint(0, size)
            hi = rng.randint(lo, size)
            want = _hs_reports(db, packed, lo, hi)
            got = cs.find(codes, lo, hi, lo)
            assert sorted(got) == want, (t, lo, hi)
            assert [h >> HIT_BITS for h in got] == sorted(h >> HIT_BITS for h in got)  # in order of end
            whole = cs.find(codes, 0, size, 0)
            assert sorted(whole) == _hs_reports(db, packed, 0, size), t
            compared += 2
            reported += len(whole)
    assert compared > 10000 and reported > 1000, (compared, reported)


@needs_native
def test_code_set_equals_brute_force_on_random_sets():
    from fenghuo.checks._textnative import CodeSet

    rng = random.Random(1921)
    alphabet = [0x80 | (rng.randrange(1, 1 << 21) << 8) for _ in range(6)]  # few codes: many shared first codes
    for _ in range(300):
        lits = [[rng.choice(alphabet) for _ in range(rng.randint(1, 4))] for _ in range(rng.randint(1, 40))]
        lits += [lits[0]] * rng.randint(0, 2)  # the same literal under several ids
        pool = np.array([c for w in lits for c in w], np.uint32)
        ids = [rng.randrange(1 << HIT_BITS) for _ in lits]
        cs = CodeSet(pool, [len(w) for w in lits], ids)
        text = [rng.choice(alphabet) for _ in range(rng.randint(0, 60))]
        codes = np.array(text, np.uint32)
        lo = rng.randint(0, len(text))
        hi = rng.randint(lo, len(text) + 3)  # beyond the end: clipped
        base = rng.randint(0, lo)
        want = sorted(((s + len(w) - base) << HIT_BITS | ids[k]) for s in range(lo, min(hi, len(text)))
                      for k, w in enumerate(lits) if text[s : s + len(w)] == w and s + len(w) <= min(hi, len(text)))
        assert sorted(cs.find(codes, lo, hi, base)) == want


@needs_native
@needs_hs
def test_due_plan_equals_python_loop(shipped_rules):
    from fenghuo.checks import rules_due

    fast = shipped_rules
    c = fast._compiled
    plan = c.due_plan
    assert plan is not None
    texts = _texts(fast)
    rng = random.Random(23)
    examples = [t for r in fast.rules for t in r.hit]
    texts += ["ﬁ" + t for t in rng.sample(examples, 60)]  # an expansion: n.shift is set
    texts += [t * 12 for t in rng.sample(examples, 30)]  # many occurrences of keys and factors
    texts += [rng.choice(examples)[: rng.randint(1, 12)] + "，" + rng.choice(examples)[-rng.randint(1, 12):] for _ in range(200)]
    compared = due = rest = 0
    try:
        for t in texts:
            n = fast.normaliser.normalise(t)
            hits = c.index.prefilter(t, n)
            object.__setattr__(c, "due_plan", plan)  # the compiled state is a frozen dataclass
            got = rules_due.due_rules(c, hits, t, n)
            if hits and n.codes.size:
                rest += plan.due(hits, np.ascontiguousarray(n.codes, np.uint32), n.shift is None)[1] is not None
            object.__setattr__(c, "due_plan", None)
            want = rules_due.due_rules(c, hits, t, n)
            assert [r.spec.id for r in got] == [r.spec.id for r in want], t
            compared += 1
            due += len(got)
    finally:
        object.__setattr__(c, "due_plan", plan)
    # ``rest``: messages with a pending rule the plan hands back (original-text factors).
    assert compared > 1000 and due > 500 and rest > 10, (compared, due, rest)


@needs_native
def test_due_plan_refuses_bad_arguments():
    from fenghuo.checks._textnative import CodeSet, DuePlan

    codes = np.full(4, 0x80808080, np.uint32)
    with pytest.raises(ValueError):
        DuePlan([[0]], [1], [], [], [], [])  # keyed names a clause that is not there
    with pytest.raises(ValueError):
        DuePlan([[0]], [1, 2], [(0, None, True, True, ())], [None], [None], [])  # kl not one per literal
    with pytest.raises(ValueError):
        DuePlan([[0]], [1], [(1, None, True, True, ())], [None], [None], [])  # a rule beyond the rules
    cs = CodeSet(np.array([0x80808080], np.uint32), [1], [1])
    with pytest.raises(ValueError):
        DuePlan([[0]], [1], [(0, 3, True, True, (0,))], [cs], [[0]], [])  # literal id 1 has no factor
    plan = DuePlan([[0], [1]], [1, 1], [(0, 3, True, True, (0,)), (1, None, True, True, (0,))], [CodeSet(np.array([0x80808080], np.uint32), [1], [0]), None], [[0], None], [])
    with pytest.raises(TypeError):
        plan.due([1], codes)  # two arguments
    with pytest.raises(ValueError):
        plan.due([5], codes, True)  # a hit's literal id beyond the plan's
    with pytest.raises(ValueError):
        plan.due([0], codes[:0], True)  # no codes: the Python loop's case
    # Rule 0: its key at [0, 1), its factor (the same code) within 3: due. Rule 1 has no
    # CodeSet: back to the Python loop with its pending clause.
    assert plan.due([1 << HIT_BITS | 0, 1 << HIT_BITS | 1], codes, True) == ([0], [(1, (1,))])
    assert plan.due([1 << HIT_BITS | 0], codes[:1], True) == ([0], None)  # the key is its own factor's occurrence


def test_quad_codes_drop_a_constant_byte():
    """``code_set`` rebuilds codes from the three-byte form with 0x80 as the dropped byte."""
    from fenghuo.checks.normalize_table import encode_quad

    codes = np.ascontiguousarray(encode_quad(np.arange(0x110000, dtype=np.uint32)), np.uint32)
    assert ((codes & 0xFF) == 0x80).all()
    a = np.frombuffer(pack3(codes).tobytes(), np.uint8).reshape(-1, 3).astype(np.uint32)
    assert ((0x80 | a[:, 0] << 8 | a[:, 1] << 16 | a[:, 2] << 24) == codes).all()


@needs_native
def test_code_set_refuses_what_it_cannot_match():
    from fenghuo.checks._textnative import CodeSet

    with pytest.raises(ValueError):
        CodeSet(np.array([1, 2], np.uint32), [3], [0])  # longer than the pool
    with pytest.raises(ValueError):
        CodeSet(np.array([1], np.uint32), [0], [0])  # empty literal
    with pytest.raises(ValueError):
        CodeSet(np.array([1], np.uint32), [1], [1 << HIT_BITS])  # id beyond a hit's bits
    assert code_set([b"\x80\x80"]) is None  # not whole characters: hyperscan keeps the database
    if hyperscan is not None:
        assert code_set([b"\x80\x80\x80"], [hyperscan.HS_FLAG_CASELESS]) is None


def test_decode_quad_equals_gathers():
    from fenghuo.checks.normalize_table import encode_quad
    from fenghuo.checks.rules_message import decode_text, decode_text_numpy

    codes = encode_quad(np.arange(0x110000, dtype=np.uint32))
    assert decode_text(codes) == decode_text_numpy(np.ascontiguousarray(codes, np.uint32))
    rng = np.random.default_rng(19)
    for _ in range(200):
        sub = codes[rng.integers(0, codes.size, rng.integers(0, 400))]
        assert decode_text(sub[::2]) == decode_text_numpy(np.ascontiguousarray(sub[::2], np.uint32))
    if getattr(NATIVE, "decode_quad", None) is not None:
        with pytest.raises(ValueError):
            NATIVE.decode_quad(b"\x80\x80\x80")  # not whole codes


def _random_alternation(rng: random.Random) -> str:
    def word() -> str:
        return "".join(rng.choice("abcd") for _ in range(rng.randint(1, 3)))

    def alt(depth: int) -> str:
        parts = []
        for _ in range(rng.randint(1, 3)):
            k = rng.random()
            if k < 0.5 or depth > 1:
                parts.append(word())
            elif k < 0.75:
                parts.append("(?:" + "|".join(alt(depth + 1) for _ in range(rng.randint(2, 4))) + ")")
            else:
                parts.append(rng.choice(["[ab]", ".{0,2}", "x?", "[^a]{1,2}", "(?:" + word() + ")+"]))
        return "".join(parts)

    return "|".join(alt(0) for _ in range(rng.randint(1, 3))) if rng.random() < 0.3 else alt(0)


def test_clause_factors_are_in_every_match():
    from fenghuo.checks.rules_regex import clause_factors

    rng = random.Random(2121)
    texts = ["".join(rng.choice("abcdx") for _ in range(rng.randint(0, 30))) for _ in range(300)]
    checked = extra = 0
    for _ in range(400):
        pattern = _random_alternation(rng)
        factors = clause_factors(pattern)
        if factors is None:
            continue
        from fenghuo.checks.rules_regex import required_factors

        extra += len(factors) - len(required_factors(pattern) or [])
        rx = re.compile(pattern, re.ASCII)
        for t in texts:
            for m in rx.finditer(t):
                if not m.group():
                    continue
                for f in factors:
                    assert any(w in m.group() for w in f), (pattern, m.group(), f)
                checked += 1
    assert checked > 1000 and extra > 20, (checked, extra)


def test_clause_factors_see_inside_alternatives():
    """The case behind the module: each alternative's second factor joins a union of its own."""
    from fenghuo.checks.rules_regex import clause_factors

    got = clause_factors("(?:东北人|河南人)[^。]{0,6}?(?:(?:都是|就是)[^。]{0,8}?(?:小偷|骗子)|没一个好东西)")
    assert ("东北人", "河南人") in got
    assert any(set(f) == {"小偷", "骗子", "没一个好东西"} for f in got)
    assert any(set(f) == {"都是", "就是", "没一个好东西"} for f in got)
