"""Hashed character n-grams of normalised text, in a few whole-array operations.

The n-gram key is built from the normalised code points (so ``賭博`` and ``赌博`` share
features, and inserted separators do not break them), mixed by a multiplicative hash into
``2**bits`` buckets. The same function is used for training and scoring.

Why this definition (format 2): the per-message cost is numpy call overhead (~1 µs a call on
a 1 KB message), not arithmetic. A bigram of two uint32 codes *is* one uint64 — an
overlapping view of the code array at a 4-byte stride, no arithmetic at all — and a trigram is
one multiply-add on that view. That is 8 calls where the rolling polynomial of format 1 took
13 plus a cast: measured 19.5 vs 25.0 µs per 1 KB message under the same load (A/B,
interleaved). COLD dev accuracy 0.9095 vs 0.9115 at 2^20 buckets, F1 0.9078 vs 0.9098 (−0.2
points: different keys, so different collisions; at 2^18 buckets 0.9090 / 0.9074).
The view reads the machine's byte order: a model trained on a big-endian machine would not
score the same features on a little-endian one (every supported platform is little-endian).

Scoring a message does not go through these functions when the C kernel is built: ``NATIVE``
(``fenghuo.checks._clfnative``, from ``_clfnative.c``) hashes the same keys, gathers and sums in
one call (``Model.logits_codes``); these stay the definition, the training path and the fallback.
"""

from __future__ import annotations

import os

import numpy as np
import scipy.sparse as sp


def _load_native():
    """The C scoring kernel, or None: not built (no compiler; ``make native`` builds it) or
    ``FENGHUO_NATIVE=0`` (forces the numpy path). Read at bind time by ``Model``, so a test can
    set this module's ``NATIVE`` to None to get the numpy path."""
    if os.environ.get("FENGHUO_NATIVE", "").strip() == "0":
        return None
    try:
        from fenghuo.checks import _clfnative
    except ImportError:
        return None
    # A stale build from before a function was added counts as none (``make native`` rebuilds it).
    return _clfnative if all(hasattr(_clfnative, f) for f in ("Scorer", "script_counts", "set_simd")) else None


NATIVE = _load_native()

_MIX = np.uint64(0x9E3779B97F4A7C15)
_P = np.uint64(1000003)
_U64 = np.dtype(np.uint64)
_U32 = np.dtype(np.uint32)
_I64 = np.dtype(np.int64)
_SHIFT = {b: np.uint64(64 - b) for b in range(1, 33)}


def ngram_buckets(codes: np.ndarray, max_n: int, bits: int) -> np.ndarray:
    """Bucket ids of all character 1..max_n-grams (max_n ≤ 3) of ``codes``, with repetition, as int64.

    Keys (mod 2^64): 1-gram ``c[i]``; 2-gram ``c[i] + c[i+1]·2^32``; 3-gram
    ``(c[i+1] + c[i+2]·2^32)·P + c[i]``; bucket = ``(key·MIX mod 2^64) >> (64 − bits)``.
    """
    if not 1 <= max_n <= 3:
        raise ValueError(f"n-grams of length 1..3 are supported, got {max_n}")
    # The dtypes and the shift as ready objects: ``np.uint64(64 - bits)`` and ``dtype=np.uint64``
    # per call measured ~0.3 µs of a 50-character message's ~4 µs here.
    codes = np.ascontiguousarray(codes, _U32)
    size = codes.size
    if size == 0:
        return np.empty(0, _I64)
    n2 = size - 1 if max_n >= 2 else 0
    n3 = size - 2 if max_n >= 3 and size >= 3 else 0
    buf = np.empty(size + n2 + n3, _U64)
    buf[:size] = codes
    if n2:
        pairs = np.ndarray((n2,), _U64, codes, 0, (4,))  # c[i] | c[i+1] << 32, zero-copy
        buf[size : size + n2] = pairs
        if n3:
            tri = buf[size + n2 :]
            np.multiply(pairs[1:], _P, out=tri)
            tri += codes[:-2]
    buf *= _MIX  # integer ufuncs wrap around silently: no errstate needed
    buf >>= _SHIFT.get(bits) or np.uint64(64 - bits)
    return buf.view(_I64)  # < 2**bits after the shift, so exact


# The three n-gram keys of the window ``(c[i], c[i+1], c[i+2])`` are one row of a 3×3 matrix
# product (mod 2^64, numpy's unsigned integers wrap): unigram ``c[i]``, bigram
# ``c[i] + c[i+1]·2^32``, trigram ``c[i] + c[i+1]·P + c[i+2]·P·2^32`` — ``ngram_buckets``'s keys,
# with the multiply by MIX folded into the matrix. One matmul replaces the ~8 calls of building
# and mixing the key array piece by piece (numpy costs ~0.3 µs a call; on a 50-character message
# the calls, not the arithmetic, are the cost).
_M64 = (1 << 64) - 1
_WINDOW = np.array(
    [[(k * int(_MIX)) & _M64 for k in row] for row in ((1, 1, 1), (0, 1 << 32, int(_P)), (0, 0, (int(_P) << 32) & _M64))], _U64
)
_PAD = np.zeros(2, _U64)


def window_buckets(codes: np.ndarray, bits: int) -> np.ndarray:
    """Bucket ids (uint64, a writable array of ``3·len(codes)``) of the 1..3-grams of ``codes``
    (uint32, at least 3 of them) in window order: for each position its unigram, bigram and
    trigram. The codes are padded with two zeros, so the last three entries — the trigram at
    ``3n − 4`` and the bigram and trigram at ``3n − 2`` and ``3n − 1`` — are not n-grams and
    must be weighted 0 by the caller; the other ``3n − 3`` are, as a multiset,
    ``ngram_buckets(codes, 3, bits)`` (tests/checks/test_classifier_fast.py)."""
    n = codes.size
    padded = np.concatenate((codes, _PAD))  # uint32 + uint64 -> uint64
    keys = np.ndarray((n, 3), _U64, padded, 0, (8, 8)) @ _WINDOW  # overlapping windows, zero-copy
    keys >>= _SHIFT[bits]
    return keys.view(_I64).reshape(-1)


def design_matrix(code_arrays: list[np.ndarray], max_n: int, bits: int) -> sp.csr_matrix:
    """Rows of n-gram counts scaled by 1/sqrt(number of n-grams) — what ``Model.score`` sees."""
    indptr = [0]
    cols, vals = [], []
    for codes in code_arrays:
        g = ngram_buckets(codes, max_n, bits)
        u, cnt = np.unique(g, return_counts=True)
        cols.append(u)
        vals.append(cnt / np.sqrt(max(g.size, 1)))
        indptr.append(indptr[-1] + u.size)
    data = np.concatenate(vals) if vals else np.empty(0)
    idx = np.concatenate(cols) if cols else np.empty(0, dtype=np.int64)
    return sp.csr_matrix((data, idx, np.array(indptr)), shape=(len(code_arrays), 1 << bits))
