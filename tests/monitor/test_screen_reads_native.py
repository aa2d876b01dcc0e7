"""The screen's latency rules and ratio reads in C (``_ingestscreenreads.h``: ``screen_latency``,
``screen_ratio``) give what the numpy forms in ``alerts/screen.py`` give, boundaries included
(a rank met exactly, no samples, a zero denominator), and refuse what they cannot read, so the
screen falls back to numpy. The whole screen with and without the kernel is held to the same
services in tests/monitor/test_ingest_native.py (``test_screen_groups_equal_numpy``)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fenghuo.monitor import colfold

NATIVE = colfold.NATIVE
needs_native = pytest.mark.skipif(NATIVE is None, reason="the _ingestnative kernel is not built (or FENGHUO_NATIVE=0)")


def _latency_numpy(n, c, app, j, sigs, ms, q, up, maybe):
    """The numpy form of one latency rule, as ``Screen.run`` has it."""
    a = app[sigs]
    valid = ~((n < ms) | ((ms > 0) & (n == 0)))
    rank = q * (n - 1)
    below = n - c
    hit = below <= rank + 1 if up else below > rank - 1
    return maybe | (a[:, j] & valid & hit)


@needs_native
@settings(max_examples=300, deadline=None)
@given(st.integers(0, 400), st.integers(0, 2**31), st.sampled_from([0.5, 0.95, 0.99, 0.0, 1.0]), st.booleans(),
       st.integers(0, 5))
def test_screen_latency_equals_numpy(size, seed, q, up, ms):
    rng = np.random.default_rng(seed)
    n = rng.integers(0, 12, size)
    c = np.minimum(n, rng.integers(0, 12, size))
    # ranks met exactly: below == q*(n-1) + 1 (up) or - 1 (down) where q*(n-1) is whole
    exact = rng.random(size) < 0.3
    whole = (q * (n - 1)) == np.floor(q * (n - 1))
    target = (q * (n - 1) + (1 if up else -1)).astype(np.int64)
    pick = exact & whole & (target >= 0) & (target <= n)
    c[pick] = n[pick] - target[pick]
    app = rng.random((4, 6)) < 0.7
    sigs = rng.integers(0, 4, size)
    j = int(rng.integers(0, 6))
    maybe = rng.random(size) < 0.2
    want = _latency_numpy(n, c, app, j, sigs, ms, q, up, maybe.copy())
    got = maybe.copy()
    NATIVE.screen_latency(n, c, app, j, sigs, ms, q, up, got)
    assert np.array_equal(got, want)


@needs_native
def test_screen_latency_boundaries():
    n = np.array([0, 1, 5, 5, 5, 5, 3], dtype=np.int64)
    c = np.array([0, 0, 2, 3, 4, 0, 3], dtype=np.int64)
    app = np.ones((1, 1), dtype=bool)
    sigs = np.zeros(7, dtype=np.int64)
    for up in (True, False):
        for ms in (0, 1, 2):
            got = np.zeros(7, dtype=bool)
            NATIVE.screen_latency(n, c, app, 0, sigs, ms, 0.5, up, got)
            assert np.array_equal(got, _latency_numpy(n, c, app, 0, sigs, ms, 0.5, up, np.zeros(7, dtype=bool))), (up, ms)
    # q*(n-1) = 2 at n = 5: below = 3 meets rank + 1 exactly (up holds), below = 1 meets rank - 1 (down does not)
    got = np.zeros(2, dtype=bool)
    NATIVE.screen_latency(np.array([5, 5]), np.array([2, 4]), app, 0, np.zeros(2, dtype=np.int64), 0, 0.5, True, got)
    assert got.tolist() == [True, True]
    got = np.zeros(2, dtype=bool)
    NATIVE.screen_latency(np.array([5, 5]), np.array([2, 4]), app, 0, np.zeros(2, dtype=np.int64), 0, 0.5, False, got)
    assert got.tolist() == [True, False]


@needs_native
def test_screen_latency_refuses_what_it_cannot_read():
    n = np.ones(3, dtype=np.int64)
    app = np.ones((2, 2), dtype=bool)
    ok = dict(c=n, app=app, j=0, sigs=np.zeros(3, dtype=np.int64), maybe=np.zeros(3, dtype=bool))
    for bad, err in ((dict(c=n.astype(np.float64)), TypeError), (dict(j=2), TypeError), (dict(app=app[0]), TypeError),
                     (dict(sigs=np.array([0, 2, 0])), IndexError), (dict(maybe=np.zeros(3, dtype=np.int64)), TypeError),
                     (dict(c=np.ones(2, dtype=np.int64)), TypeError)):
        a = {**ok, **bad}
        with pytest.raises(err):
            NATIVE.screen_latency(n, a["c"], a["app"], a["j"], a["sigs"], 0, 0.5, True, a["maybe"])


@needs_native
@settings(max_examples=300, deadline=None)
@given(st.integers(0, 300), st.integers(0, 2**31))
def test_screen_ratio_equals_numpy(size, seed):
    rng = np.random.default_rng(seed)
    num = rng.integers(-(2**40), 2**40, size)
    den = rng.integers(-3, 4, size) * rng.integers(1, 2**33, size)  # zeros among them
    want = np.zeros(size)
    np.divide(num, den, out=want, where=den != 0)
    got = np.full(size, np.nan)
    NATIVE.screen_ratio(num, den, got)
    assert np.array_equal(got, want)


@needs_native
def test_screen_ratio_refuses_what_it_cannot_read():
    one = np.ones(3, dtype=np.int64)
    for num, den, out in ((one.astype(np.float64), one, np.empty(3)), (one, one, np.empty(3, dtype=np.int64)),
                          (one, one, np.empty(2)), (one[:2], one, np.empty(3)), (one, one, np.empty(4))):
        with pytest.raises((TypeError, ValueError)):
            NATIVE.screen_ratio(num, den, out)
