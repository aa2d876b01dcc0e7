"""The classifier's numpy fast path (one matmul for the n-gram hashes, the bias as a table row, a
cached scale vector; what scores when the C kernel is not built or FENGHUO_NATIVE=0) against the
reference computation it replaces: the same buckets, logits within float32 rounding, the same
findings. The C kernel's own parity tests: tests/checks/test_classifier_native.py."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest

from fenghuo.checks.classifier.check import ClassifierCheck
from fenghuo.checks.classifier.features import ngram_buckets, window_buckets
from fenghuo.checks.classifier.model import _FAST_MAX, Model, shipped_model_path
from fenghuo.checks.normalize import default_normaliser

TEXTS = ["今天天气很好，我们去公园", "a b*c 賭博!!", "你这个傻逼，滚出去", "加微信领取彩金，百家乐稳赢", "買賣槍支，私聊", "abc", "①②③④"]


def _padding(n: int) -> np.ndarray:
    keep = np.ones(3 * n, bool)
    keep[[3 * n - 4, 3 * n - 2, 3 * n - 1]] = False
    return keep


def _random_codes(rng, n: int) -> np.ndarray:
    # Large values too: the keys wrap mod 2^64, which the matmul must do like the reference.
    return rng.integers(0, 1 << 32, n, dtype=np.uint64).astype(np.uint32)


@pytest.mark.parametrize("bits", [10, 18, 20])
def test_window_buckets_are_the_reference_ngrams(bits):
    rng = np.random.default_rng(bits)
    arrays = [_random_codes(rng, n) for n in (3, 4, 5, 17, 50, 255, 600)]
    arrays += [default_normaliser().normalise(t).codes for t in TEXTS if len(default_normaliser().normalise(t).codes) >= 3]
    for codes in arrays:
        got = window_buckets(codes, bits)
        assert got.size == 3 * codes.size
        assert sorted(got[_padding(codes.size)].tolist()) == sorted(ngram_buckets(codes, 3, bits).tolist())
    codes = _random_codes(rng, 40)
    strided = np.repeat(codes, 2)[::2]  # a non-contiguous view gives the same buckets
    assert window_buckets(strided, bits).tolist() == window_buckets(codes, bits).tolist()


def _random_model(k: int, bits: int = 12, seed: int = 0) -> Model:
    rng = np.random.default_rng(seed)
    w = rng.normal(0, 1, (1 << bits, k)).astype(np.float32)
    cats = [f"c{i}" for i in range(k)]
    return Model(w if k > 1 else w[:, 0], rng.normal(0, 3, k), 3, bits, {}, cats)


@pytest.mark.parametrize("k", [1, 3, 13])
def test_fast_logits_equal_the_reference_on_random_codes(k):
    model = _random_model(k, seed=k)
    rng = np.random.default_rng(100 + k)
    for n in [1, 2, 3, 4, 5, 10, 49, 50, 51, 150, _FAST_MAX, _FAST_MAX + 1, 700]:
        for _ in range(5):
            codes = _random_codes(rng, n)
            ref = model.logits_reference(codes)
            got = model.logits_numpy(codes)
            assert got.shape == (k,)
            assert np.abs(got.astype(np.float64) - ref).max() < 1e-4 * max(1.0, np.abs(ref).max()), (n, got, ref)


def test_fast_logits_equal_the_reference_on_the_shipped_model():
    model = Model.load(shipped_model_path())
    norm = default_normaliser()
    texts = TEXTS + ["".join(TEXTS)] + [t[i:] for t in TEXTS for i in range(3)]
    for text in texts:
        codes = norm.normalise(text).codes
        ref, got = model.logits_reference(codes), model.logits_numpy(codes)
        assert np.abs(got.astype(np.float64) - ref).max() < 1e-4, text


def test_reassigned_weights_and_bias_are_seen():
    """The training build assigns ``model.weights`` after construction; the fast path's table
    (weights plus a bias row) must follow, as must in-place edits of ``weights``."""
    model = _random_model(3)
    codes = np.arange(1000, 1020, dtype=np.uint32)
    before = model.logits_numpy(codes)
    model.weights = model.weights * 2.0
    model.bias = model.bias + 1.0
    after = model.logits_numpy(codes)
    assert np.abs(after.astype(np.float64) - model.logits_reference(codes)).max() < 1e-4
    assert np.abs(model.logits_codes(codes) - model.logits_reference(codes)).max() < 1e-4  # the kernel rebinds too
    assert not np.allclose(before, after)
    model.weights[:] = 0.0
    assert np.allclose(model.logits_numpy(codes), model.bias, atol=1e-5)
    assert np.allclose(model.logits_codes(codes), model.bias, atol=1e-5)  # the C kernel too, when built


def test_float32_cut_is_the_float64_comparison():
    """``z >= cut32`` (least float32 ≥ cut) must say exactly what ``float64(z) >= cut`` says."""
    check = ClassifierCheck(shipped_model_path(), reload_interval=0)
    bound = check._bound
    assert bound.cut32.dtype == np.float32
    for cut, c32 in zip(bound.cut.tolist(), bound.cut32.tolist()):
        near = np.float32(c32)
        below = np.nextafter(near, np.float32(-np.inf))
        for z in (near, below, np.nextafter(near, np.float32(np.inf))):
            assert (z >= np.float32(c32)) == (float(z) >= cut)


def _cold_cuts(limit: int) -> list[str] | None:
    import os
    from pathlib import Path

    root = os.environ.get("FENGHUO_DATA")
    path = Path(root or "/nonexistent") / "classifier" / "cold" / "dev.csv"
    if not path.is_file():
        return None
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = [r[4] for r in list(csv.reader(fh))[1:]]
    text = "".join(rows)
    return [text[i : i + 50] for i in range(0, 50 * limit, 50)] + rows[:300]


def test_findings_equal_the_reference_on_real_text():
    """On COLD dev cuts and rows (or the fixed texts without the shared data): the check's
    findings are the categories whose *reference* logit passes the threshold, scores within 1e-4."""
    texts = _cold_cuts(1500) or (TEXTS * 3)
    check = ClassifierCheck(shipped_model_path(), reload_interval=0)
    bound = check._bound
    fired = 0
    for text in texts:
        n = check.normaliser.normalise(text)
        got = check.find_in(text, n)
        if n.codes.size < 3:
            assert got == []
            continue
        ref = bound.model.logits_reference(n.codes)
        want = [bound.cats[k] for k in np.nonzero(ref >= bound.cut)[0]]
        if want and bound.min_han and check.scores_in(text, n) == {}:
            want = []  # a script the model does not judge
        assert [f.category for f in got] == want, text
        for f in got:
            k = bound.cats.index(f.category)
            assert abs(f.score - 1.0 / (1.0 + math.exp(-float(ref[k])))) <= 1.5e-4
        fired += bool(got)
    assert fired or len(texts) < 100
