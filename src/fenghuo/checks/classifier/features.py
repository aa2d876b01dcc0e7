"""Hashed character n-grams of normalised text, in a few whole-array operations.

The n-gram hash is a rolling polynomial over the normalised code points (so ``賭博`` and
``赌博`` share features, and inserted separators do not break them), mixed by a multiplicative
hash into ``2**bits`` buckets. The same function is used for training and scoring.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

_MIX = np.uint64(0x9E3779B97F4A7C15)
_P = np.uint64(1000003)


def ngram_buckets(codes: np.ndarray, max_n: int, bits: int) -> np.ndarray:
    """Bucket ids of all character 1..max_n-grams of ``codes`` (with repetition)."""
    c = codes.astype(np.uint64)
    shift = np.uint64(64 - bits)
    parts = []
    h = np.zeros(c.size, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for n in range(1, max_n + 1):
            if c.size < n:
                break
            h = h[: c.size - n + 1] * _P + c[n - 1 :] + np.uint64(n)
            parts.append((h * _MIX) >> shift)
    if not parts:
        return np.empty(0, dtype=np.int64)
    return np.concatenate(parts).astype(np.int64)


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
