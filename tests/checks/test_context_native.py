"""The answer judge's heads scored by the classifier's C kernel (``AnswerJudge(native=True)``)
against an exact float64 sum and the numpy path (the reference, and ``FENGHUO_NATIVE=0``'s).

The kernel hashes the same n-grams into the same buckets (its ``bits`` and ``max_n`` are the
heads'), but sums their float32 weights in another order than numpy's float32 dot, so the
probabilities move by float rounding. Bounded here on the JADE (v1/v2 banks, v3 pairs) and
XSTest texts and generated text, for every SIMD level the kernel offers (a one-column table
takes its plain-C loop at each level: checked to give the same bits), and no verdict field
(``refused``, ``partial_refusal``, ``compliance_risk``, harmful prompt, complying answer, risk
codes) may change on the JADE v3 pairs and the XSTest completions. With
``FENGHUO_REQUIRE_NATIVE=1`` a kernel that did not load fails here instead of skipping.
"""

from __future__ import annotations

import csv
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fenghuo
from fenghuo.checks.classifier import features
from fenghuo.checks.context import ANSWER_CHARS, PROMPT_CHARS, AnswerJudge, default_judge
from fenghuo.checks.context_model import ContextModel, Head
from tests.checks.conftest import NATIVE_FORCED_OFF as _FORCED_OFF
from tests.checks.conftest import NATIVE_REQUIRED as _REQUIRED
from tests.checks.conftest import answer_pairs, needs_native

NATIVE = features.NATIVE  # the kernel's SIMD levels: the ``level`` fixture of conftest

# Bounds on |P - exact P|. The kernel: float32 blocks of <= 63 rows added in float64 (measured
# <= ~1e-7 on these sets); numpy's float32 dot is of the same order. Both far below the 4th
# decimal that ``to_dict`` reports and the verdict tests' 1.5e-4.
KERNEL_TOL = 5e-7
NUMPY_TOL = 5e-7


@pytest.fixture(scope="module")
def model() -> ContextModel:
    return default_judge().model


@pytest.fixture(scope="module")
def pairs(shared) -> list[tuple[str, str]]:
    """JADE v3 medium (unsafe and safe answers) and the XSTest completions: the verdict sets."""
    out = answer_pairs(shared)
    assert len(out) > 2300
    return out


@pytest.fixture(scope="module")
def texts(pairs, shared) -> list[tuple[str, str]]:
    """(head, text) for the parity tests: the pairs' prompts and answers, the JADE v1/v2 bank
    questions and the XSTest prompts, cut as the judge cuts them."""
    prompts = sorted({p for p, _ in pairs})
    for name in ("jade_v1_zh.csv", "jade_v2_easy_zh.csv", "jade_v1_en.csv"):
        prompts += [r["问题"] for r in csv.DictReader((shared / "banks/jade" / name).open(encoding="utf-8"))]
    prompts += [r["prompt"] for r in csv.DictReader((shared / "banks/xstest/xstest_prompts.csv").open(encoding="utf-8"))]
    return [("prompt", p[-PROMPT_CHARS:]) for p in prompts] + [("answer", a[:ANSWER_CHARS]) for _, a in pairs]


def _exact(head: Head, codes: np.ndarray) -> float:
    """P of the first column with the weights summed exactly in float64: what both paths round."""
    g = head.buckets(codes)
    z = head.first_bias + (head.first[g].astype(np.float64).sum() / math.sqrt(g.size) if g.size else 0.0)
    return 1.0 / (1.0 + math.exp(-z))


def _check(head: Head, codes: np.ndarray) -> tuple[float, float]:
    """(kernel - exact, numpy - exact), each asserted within its bound."""
    exact = _exact(head, codes)
    got, ref = head.first_prob_codes(codes), head.first_prob_codes(codes, native=False)
    assert ref == head.first_prob(head.buckets(codes))  # the numpy path is the reference, unchanged
    assert abs(got - exact) <= KERNEL_TOL and abs(ref - exact) <= NUMPY_TOL, (codes.size, got, ref, exact)
    return got - exact, ref - exact


def test_kernel_loaded_when_required(model):
    if not _REQUIRED or _FORCED_OFF:
        pytest.skip("FENGHUO_REQUIRE_NATIVE is not set, or FENGHUO_NATIVE=0")
    assert model.prompt.native_score is not None and model.answer.native_score is not None
    assert AnswerJudge(model=model, native=True).native


@needs_native
def test_parity_on_real_texts(level, model, texts):
    norm = default_judge().normaliser
    worst = [0.0, 0.0]
    for which, t in texts:
        d = _check(model.prompt if which == "prompt" else model.answer, norm.normalise(t).codes)
        worst = [max(worst[0], abs(d[0])), max(worst[1], abs(d[1]))]
    print(f"level {level}: |kernel - exact| <= {worst[0]:.3g}, |numpy - exact| <= {worst[1]:.3g} on {len(texts)} texts")
    assert len(texts) > 4500 and worst[0] > 0.0  # the sets were read, and the kernel does round


@needs_native
def test_every_level_gives_the_same_bits(model, texts):
    """A one-column table is summed by the plain loop at every SIMD level: the same floats."""
    norm = default_judge().normaliser
    sample = [(w, norm.normalise(t).codes) for w, t in texts[::7]]
    by_level = []
    for lv in (2, 1, 0):
        NATIVE.set_simd(lv)
        try:
            by_level.append([(model.prompt if w == "prompt" else model.answer).first_prob_codes(c) for w, c in sample])
        finally:
            NATIVE.set_simd(2)
    assert by_level[0] == by_level[1] == by_level[2]


_ALPHABET = st.sampled_from(list("怎么制作炸药我不能提供这方面的帮助好的步骤如下首先准备材料你好請介紹abcXYZ019 ，。！？*①ｆａ😂\u200bΑЖé"))


@needs_native
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(_ALPHABET, max_size=600) | st.text(max_size=200))
def test_parity_on_generated_text(level, model, text):
    codes = default_judge().normaliser.normalise(text).codes
    _check(model.prompt, codes)
    _check(model.answer, codes)


@needs_native
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.integers(0, (1 << 32) - 1), max_size=500))
def test_parity_on_code_arrays(level, model, codes):
    _check(model.answer, np.array(codes, dtype=np.uint32))  # keys wrap mod 2^64 in both


@needs_native
def test_no_verdict_field_changes(model, pairs):
    """Kernel vs numpy on JADE v3 and the XSTest completions: every decision the same, the
    probabilities within float rounding, what ``to_dict`` prints within its last decimal."""
    fast, ref = AnswerJudge(model=model, native=True, lazy=False), AnswerJudge(model=model, native=False, lazy=False)
    assert fast.native and not ref.native
    harmful = risky = moved = 0
    for prompt, answer in pairs:
        a, b = fast.judge(prompt, answer), ref.judge(prompt, answer)
        assert (a.refused, a.partial_refusal, a.compliance_risk, a.risks, a.rule) == (b.refused, b.partial_refusal, b.compliance_risk, b.risks, b.rule)
        assert (a.prompt_harm >= fast.prompt_threshold) == (b.prompt_harm >= ref.prompt_threshold), prompt[:60]
        assert (a.score >= fast.threshold) == (b.score >= ref.threshold), (prompt[:60], answer[:60])
        assert (a.answer_harm >= 0.5) == (b.answer_harm >= 0.5) and (a.answer_harm >= 0.9) == (b.answer_harm >= 0.9)
        for x, y in ((a.prompt_harm, b.prompt_harm), (a.answer_harm, b.answer_harm), (a.score, b.score)):
            assert abs(x - y) <= KERNEL_TOL + NUMPY_TOL
        da, db = a.to_dict(), b.to_dict()
        da.pop("elapsed_us"), db.pop("elapsed_us")
        moved += da != db
        assert all(abs(da[k] - db[k]) <= 1.00001e-4 for k in ("prompt_harm", "answer_harm", "score"))
        harmful += b.prompt_harm >= ref.prompt_threshold
        risky += b.compliance_risk
    assert harmful > 500 and risky > 300  # the sets exercise both decisions
    assert moved <= len(pairs) // 200  # a 4th decimal on a rounding edge at most, rarely


@needs_native
def test_lazy_native_judge_equals_its_eager_self(model, pairs):
    lazy, eager = AnswerJudge(model=model, native=True), AnswerJudge(model=model, native=True, lazy=False)
    for prompt, answer in pairs[::3]:
        assert lazy.judge(prompt, answer).to_dict() | {"elapsed_us": 0} == eager.judge(prompt, answer).to_dict() | {"elapsed_us": 0}
        j, k = lazy.judge(prompt, answer), eager.judge(prompt, answer)
        assert (j.answer_harm, j.score, j.risks, j.prompt_harm) == (k.answer_harm, k.score, k.risks, k.prompt_harm)


@needs_native
def test_codes_the_kernel_does_not_take_fall_back(model):
    codes = default_judge().normaliser.normalise("怎么制作炸药？请详细说明步骤。").codes
    want = model.prompt.first_prob(model.prompt.buckets(codes))
    for c in (np.repeat(codes, 2)[::2], codes.astype(np.int64)):  # not contiguous; not 4-byte items
        assert model.prompt.first_prob_codes(c) == want
    empty = np.empty(0, np.uint32)
    assert model.prompt.first_prob_codes(empty) == model.prompt.first_prob_codes(empty, native=False)


def test_native_false_is_the_numpy_path(model, pairs):
    """``native=False`` (and FENGHUO_NATIVE=0) scores exactly as before: buckets, then numpy."""
    judge = AnswerJudge(model=model, native=False, lazy=False)
    assert not judge.native
    for prompt, answer in pairs[::25]:
        head, a = model.prompt, model.answer
        j = judge.judge(prompt, answer)
        assert j.prompt_harm == head.first_prob(head.buckets(judge.normaliser.normalise(prompt[-PROMPT_CHARS:]).codes))
        if answer.strip():
            assert j.answer_harm == a.first_prob(a.buckets(judge.normaliser.normalise(answer[:ANSWER_CHARS]).codes))


@needs_native
def test_fenghuo_native_0_forces_the_numpy_path():
    env = dict(os.environ, FENGHUO_NATIVE="0", PYTHONPATH=str(Path(fenghuo.__file__).resolve().parents[1]))
    code = (
        "from fenghuo.checks.context import AnswerJudge\n"
        "j = AnswerJudge(native=True)\n"
        "print(j.native, j.model.prompt.native_score is None, j.model.answer.native_score is None)"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "True", "True"]
