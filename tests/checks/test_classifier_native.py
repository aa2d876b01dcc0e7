"""The classifier's C kernel (``fenghuo.checks._clfnative``, built by ``make native``) against the
numpy path it replaces and an exact float64 sum: the same n-gram buckets (a wrong bucket moves a
logit by ~1/sqrt(n-grams), far beyond the tolerances), logits within float rounding, the same
findings and scores, on COLD dev rows and cuts, random texts and random code arrays, for every
SIMD level the CPU has. ``FENGHUO_NATIVE=0`` forces the numpy path; with
``FENGHUO_REQUIRE_NATIVE=1`` (CI) a kernel that did not load fails here instead of skipping."""

from __future__ import annotations

import csv
import math
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fenghuo
from fenghuo.checks.classifier import features
from fenghuo.checks.classifier.check import ClassifierCheck
from fenghuo.checks.classifier.features import ngram_buckets
from fenghuo.checks.classifier.model import Model, shipped_model_path
from fenghuo.checks.classifier.script import han_share, han_share_counted, han_share_of
from fenghuo.checks.normalize import default_normaliser
from tests.checks.conftest import NATIVE_FORCED_OFF as _FORCED_OFF
from tests.checks.conftest import NATIVE_REQUIRED as _REQUIRED
from tests.checks.conftest import needs_native

NATIVE = features.NATIVE  # the kernel's SIMD levels: the ``level`` fixture of conftest


def test_kernel_loaded_when_required():
    if not _REQUIRED:
        pytest.skip("FENGHUO_REQUIRE_NATIVE is not set")
    import fenghuo.checks._clfnative  # noqa: F401 - must have been built, even when FENGHUO_NATIVE=0

    if not _FORCED_OFF:
        assert NATIVE is not None, "the classifier's C kernel did not load"
        assert Model.load(shipped_model_path()).native


@pytest.fixture(scope="module")
def shipped():
    return Model.load(shipped_model_path())


def _exact(model: Model, codes: np.ndarray) -> np.ndarray:
    """Float64 logits summed exactly (float64 rows): what both paths approximate. A model with a
    word table adds its words' share (``word_logits``, float64: the definition)."""
    g = ngram_buckets(codes, model.max_n, model.bits)
    if not g.size:
        return model.bias.copy()
    return model.bias + model.weights[g].astype(np.float64).sum(0) / math.sqrt(g.size) + model.word_logits(codes)


def _close(model: Model, codes: np.ndarray, tol_exact: float = 2e-6) -> None:
    got = model.logits_codes(codes)
    assert got.shape == (len(model.categories),) and (got.dtype == np.float64 or not model.native)
    exact = _exact(model, codes)
    assert np.abs(got - exact).max() <= tol_exact * max(1.0, np.abs(exact).max()), (codes.size, got, exact)
    assert np.abs(got - model.logits_reference(codes)).max() < 1e-4 * max(1.0, np.abs(exact).max())


def _random_model(k: int, bits: int, max_n: int, seed: int) -> Model:
    rng = np.random.default_rng(seed)
    w = rng.normal(0, 1, (1 << bits, k)).astype(np.float32)
    return Model(w if k > 1 else w[:, 0], rng.normal(0, 3, k), max_n, bits, {}, [f"c{i}" for i in range(k)])


def _codes(rng, n: int) -> np.ndarray:
    return rng.integers(0, 1 << 32, n, dtype=np.uint64).astype(np.uint32)  # keys wrap mod 2^64


@needs_native
@pytest.mark.parametrize("k", [1, 2, 3, 5, 13, 16, 17])
@pytest.mark.parametrize("max_n", [1, 2, 3])
def test_random_models_and_codes(level, k, max_n):
    model = _random_model(k, 12 if k != 13 else 18, max_n, seed=10 * k + max_n)
    assert model.native
    rng = np.random.default_rng(k * 7 + max_n)
    for n in [0, 1, 2, 3, 4, 5, 20, 21, 22, 50, 63, 64, 255, 256, 257, 1000, 9000]:
        _close(model, _codes(rng, n))


@needs_native
def test_shipped_model_on_cold_dev(level, shipped):
    """Every COLD dev row and 1,000 50-character and 40 ~1 KB cuts of them: within 2e-6 of the
    exact sum (the numpy paths' float32 sums: within 1e-4)."""
    rows = _cold_rows()
    if rows is None:
        pytest.skip("no COLD dev data ($FENGHUO_DATA)")
    text = "".join(rows)
    texts = rows + [text[i : i + 50] for i in range(0, 50_000, 50)] + [text[i : i + 1000] for i in range(0, 40_000, 1000)]
    norm = default_normaliser()
    for t in texts:
        _close(shipped, norm.normalise(t).codes)


_ALPHABET = st.sampled_from(list("赌博百家乐彩金微信加私聊傻逼滚出去今天天气很好賭買賣槍支法轮功abcXYZ019 ，。!*①②ｆａ😂\u200bΑЖé"))


@needs_native
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(_ALPHABET, max_size=300) | st.text(max_size=120))
def test_random_texts(shipped, text):
    n = default_normaliser().normalise(text)
    _close(shipped, n.codes)
    assert han_share_counted(n, default_normaliser().tables) == han_share(n.codes) == han_share_of(n, default_normaliser().tables)


@needs_native
@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, (1 << 32) - 1), max_size=400), st.integers(1, 3))
def test_random_code_arrays(codes, max_n):
    model = _random_model(3, 10, max_n, seed=max_n)  # 2^10 buckets: many collisions, same sums
    _close(model, np.array(codes, dtype=np.uint32))


@needs_native
def test_findings_and_scores_equal_the_numpy_path(shipped, monkeypatch):
    """The check on the kernel and on the numpy path (FENGHUO_NATIVE=0's): the same findings,
    scores within one unit of their 4th place."""
    rows = _cold_rows()
    text = "".join(rows) if rows else "加微信领取彩金，百家乐稳赢。你这个傻逼，滚出去。今天天气很好。" * 40
    texts = (rows or [])[::5] + [text[i : i + 50] for i in range(0, 100_000, 50)] + [text[i : i + 1000] for i in range(0, 30_000, 1000)]
    native = ClassifierCheck(shipped_model_path(), reload_interval=0)
    assert native.model.native
    monkeypatch.setattr(features, "NATIVE", None)
    plain = ClassifierCheck(shipped_model_path(), reload_interval=0)
    assert not plain.model.native
    fired = 0
    for t in texts:
        n = native.normaliser.normalise(t)
        a, b = native.find_in(t, n), plain.find_in(t, n)
        assert [(f.category, f.start, f.end, f.action, f.risk) for f in a] == [(f.category, f.start, f.end, f.action, f.risk) for f in b], t
        assert all(abs(x.score - y.score) <= 1.5e-4 for x, y in zip(a, b))
        sa, sb = native.scores_in(t, n), plain.scores_in(t, n)  # from find_in's cached logits
        assert sa.keys() == sb.keys() and all(abs(sa[c] - sb[c]) <= 1.5e-4 for c in sa), t
        assert sa == ClassifierCheck.scores_in(native, t, native.normaliser.normalise(t))  # scored afresh: the same
        fired += bool(a)
    assert fired


@needs_native
def test_codes_the_kernel_does_not_take_fall_back(shipped):
    rng = np.random.default_rng(5)
    codes = _codes(rng, 120)
    want = shipped.logits_reference(codes)
    strided = np.repeat(codes, 2)[::2]  # not contiguous
    for c in (strided, codes.astype(np.int64), codes.astype(np.uint64)):
        assert np.abs(shipped.logits_codes(c) - want).max() < 1e-4
    assert shipped.logits_hits(strided, b"\0" * 8 * 13) is None  # the check then takes logits_codes
    assert np.array_equal(shipped.logits_codes(np.empty(0, np.uint32)), shipped.bias)


@needs_native
def test_in_place_edits_and_reassignment_are_seen():
    model = _random_model(13, 12, 3, seed=3)
    codes = np.arange(1000, 1050, dtype=np.uint32)
    model.weights *= 2.0  # in place: the table the kernel holds
    model.bias += 1.0  # in place: the array the kernel holds
    _close(model, codes)
    model.weights = model.weights * 0.5  # assigned: rebound at the next message
    model.bias = model.bias - 1.0
    _close(model, codes)
    assert model.native


@needs_native
def test_tables_the_kernel_does_not_take():
    wide = _random_model(300, 6, 3, seed=1)  # 304-float rows: over the kernel's 256
    assert not wide.native
    _close(wide, np.arange(500, 560, dtype=np.uint32), tol_exact=1e-4)
    table = np.zeros((1 << 8, 16), np.float32)
    with pytest.raises(TypeError):
        NATIVE.Scorer(table.astype(np.float64), np.zeros(13), 8, 3)
    with pytest.raises(ValueError):
        NATIVE.Scorer(table, np.zeros(13), 9, 3)  # 2^9 rows needed
    with pytest.raises(ValueError):
        NATIVE.Scorer(table, np.zeros(13), 8, 4)
    s = NATIVE.Scorer(table, np.zeros(13), 8, 3)
    with pytest.raises(TypeError):
        s.score(np.zeros(5, np.uint8))
    with pytest.raises(ValueError):
        s.score(np.zeros(5, np.uint32), b"\0" * 8)  # a cut per category


@needs_native
def test_long_texts_in_threads(shipped):
    """Texts of ≥ 8,192 codes are summed without the GIL: concurrent calls give the same logits."""
    rng = np.random.default_rng(9)
    arrays = [_codes(rng, 20_000 + i) for i in range(4)]
    want = [shipped.logits_codes(c) for c in arrays]
    got: dict[int, list] = {}

    def run(i: int) -> None:
        got[i] = [shipped.logits_codes(arrays[i]) for _ in range(5)]

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i in range(4):
        assert all(np.array_equal(z, want[i]) for z in got[i])


@needs_native
def test_fenghuo_native_0_forces_the_numpy_path():
    env = dict(os.environ, FENGHUO_NATIVE="0", PYTHONPATH=str(Path(fenghuo.__file__).resolve().parents[1]))
    code = (
        "from fenghuo.checks.classifier import features\n"
        "from fenghuo.checks.classifier.model import Model, shipped_model_path\n"
        "print(features.NATIVE is None, Model.load(shipped_model_path()).native)"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True", "False"]


def _cold_rows() -> list[str] | None:
    path = Path(os.environ.get("FENGHUO_DATA") or "/nonexistent") / "classifier" / "cold" / "dev.csv"
    if not path.is_file():
        return None
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return [r[4] for r in list(csv.reader(fh))[1:]]


def _probabilities_or_skip():
    """The kernel's ``probabilities``; a kernel built before it was added skips (fails in CI)."""
    got = getattr(NATIVE, "probabilities", None)
    if got is None:
        if _REQUIRED:
            pytest.fail("the classifier's C kernel has no probabilities(): rebuild it (make native)")
        pytest.skip("the classifier's C kernel was built before probabilities() (make native)")
    return got


def _probabilities_reference(zs: list[float]) -> list[float]:
    """What ``ClassifierCheck.scores_in`` computes without the kernel."""
    exp = math.exp
    return [round(1.0 / (1.0 + exp(-max(min(v, 700.0), -700.0))), 4) for v in zs]


@needs_native
def test_probabilities_bit_for_bit():
    """The kernel's ``probabilities`` (scores_in's numbers in one call) gives the Python
    expression's doubles exactly: random logits, the clamps, infinities, NaN, subnormals, random
    bit patterns, and logits whose probability lies on or next to a rounding half (p * 10^4 = k + 0.5),
    where the kernel hands the rounding to float.__round__."""
    import random
    import struct

    probabilities = _probabilities_or_skip()
    rng = random.Random(12)
    vals = [rng.gauss(0, 3) for _ in range(20_000)] + [rng.uniform(-800, 800) for _ in range(5_000)]
    vals += [0.0, -0.0, 700.0, -700.0, 700.1, -700.1, 1e308, -1e308, math.inf, -math.inf, 5e-324, -5e-324]
    for k in range(0, 10_000, 7):
        v = math.log((k + 0.5) / (1e4 - k - 0.5))
        vals += [v, math.nextafter(v, math.inf), math.nextafter(v, -math.inf)]
    vals += [struct.unpack("d", struct.pack("Q", rng.getrandbits(64)))[0] for _ in range(5_000)]
    got, want = probabilities(vals), _probabilities_reference(vals)
    assert len(got) == len(want)
    for v, a, b in zip(vals, got, want):
        assert (a != a and b != b) or struct.pack("d", a) == struct.pack("d", b), (v, a, b)
    assert probabilities([]) == []
    with pytest.raises(TypeError):
        probabilities(["x"])


@needs_native
def test_scores_in_same_with_and_without_probabilities(shipped, monkeypatch):
    """``scores_in`` through the kernel's ``probabilities`` and through the Python expression."""
    _probabilities_or_skip()
    check = ClassifierCheck(shipped_model_path(), reload_interval=0)
    norm = default_normaliser()
    texts = ["你这个垃圾，滚", "今天天气不错", "加微信看片，一晚300", "河南人都是骗子吗？", "hello world", "😀😀😀"]
    want = [check.scores_in(t, norm.normalise(t)) for t in texts]

    class _Without:  # the kernel without ``probabilities``: scores_in's Python expression
        def __getattr__(self, name):
            if name == "probabilities":
                raise AttributeError(name)
            return getattr(NATIVE, name)

    monkeypatch.setattr(features, "NATIVE", _Without())
    assert [check.scores_in(t, norm.normalise(t)) for t in texts] == want
