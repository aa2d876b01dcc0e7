"""What a classifier build's numbers depend on beyond code and data, and how to tell whether this
machine gives the recorded build's numbers.

liblinear (scikit-learn) calls scipy's OpenBLAS, whose kernel is picked per processor and whose
long dot products are split between threads, each changing the rounding: the same code and inputs
gave the shipped offensive threshold 0.8128 on one machine and 0.8123 on another (session 17).
The build runs with ``one_blas_thread`` and records ``environment()`` in the manifest;
``environment_differences`` names what differs from a recorded one.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from fenghuo.checks.classifier.train import fit_one


def jieba_version() -> str:
    import jieba

    return str(getattr(jieba, "__version__", "?"))


def solver_fingerprint() -> str:
    """sha256 of two small NB-LR fits (``train.fit_one``, liblinear) on fixed rows made by integer
    arithmetic (no random stream): the regression's numbers depend on the BLAS kernel liblinear
    calls (OpenBLAS picks one per processor: the same code and inputs gave the shipped offensive
    threshold 0.8128 on one machine and 0.8123 on another) and on the library versions. Equal
    fingerprints: this machine's solver gives the numbers the recorded build's did. ~0.2 s."""
    n, d = 3000, 400
    rows, cols, y = [], [], []
    for i in range(n):
        h = (i * 2654435761 + 12345) % 4294967296
        harmful = (h >> 7) % 3 == 0
        for k in range(12):
            h = (h * 1103515245 + 12345) % 2147483648
            j = (h >> 8) % d
            rows.append(i)
            cols.append(j % 40 if harmful and k < 3 else j)
        y.append(int(harmful) if (h >> 3) % 11 else 1 - int(harmful))  # some label noise
    x = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, d))
    yy = np.array(y)
    digest = hashlib.sha256()
    with one_blas_thread():
        for c, pw, rw in ((8.0, 1.0, np.where(np.arange(n) % 7 == 0, 4.0, 1.0)), (2.0, 3.0, None)):
            w, b = fit_one(x, yy, c, pw, rw)
            digest.update(np.ascontiguousarray(w).tobytes())
            digest.update(np.float64(b).tobytes())
    return digest.hexdigest()


def one_blas_thread():
    """One BLAS thread: OpenBLAS splits a long dot product between threads, and the split
    changes its rounding (measured: 1 and 2 threads fit different biases)."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def environment() -> dict:
    """What the build's numbers depend on beyond code and data: library versions, the BLAS that
    liblinear calls (scipy's) and its kernel, and ``solver_fingerprint``."""
    from importlib.metadata import version

    import scipy.linalg  # noqa: F401  (loads scipy's BLAS, which liblinear calls)
    from threadpoolctl import threadpool_info

    blas = sorted(
        f"{i.get('internal_api')} {i.get('version')} {i.get('architecture')}" for i in threadpool_info() if i.get("user_api") == "blas" and "scipy" in Path(i.get("filepath", "")).parent.name
    )  # fmt: skip
    return {
        "numpy": version("numpy"), "scipy": version("scipy"), "scikit-learn": version("scikit-learn"), "jieba": jieba_version(),
        "scipy_blas": blas, "blas_threads": 1, "solver_fingerprint": solver_fingerprint(),
    }  # fmt: skip


def environment_differences(recorded: dict | None, now: dict) -> list[str]:
    """``key: recorded -> now`` for each entry that differs (all of them when none is recorded)."""
    if not recorded:
        return ["no build environment recorded"]
    return [f"{k}: {recorded.get(k)} -> {now.get(k)}" for k in sorted(set(recorded) | set(now)) if recorded.get(k) != now.get(k)]
