"""The numbers the audit reports, pure: which samples a seeded fraction takes, Wilson intervals,
and the per-source verdict (CN-TC-01/02: above 5 % harmful → do not use).

Selection hashes (seed, source, file, line), never a position in a stream: the same samples are
taken whatever the engine, the number of workers, the batch size or the order files are read in,
so the in-process and the Ray scan of one seed report the same numbers.
"""

from __future__ import annotations

import hashlib

from fenghuo.platform.intervals import Z95, wilson  # noqa: F401 - re-exported

HARMFUL_MAX = 0.05  # CN-TC-01/02
TECHNICAL_MIN_FRACTION = 0.10  # CN-TC-27
TECHNICAL_PASS_MIN = 0.98  # CN-TC-27
MANUAL_MIN_N = 4000  # CN-TC-26
MANUAL_PASS_MIN = 0.96  # CN-TC-26
_SCALE = float(1 << 64)


def unit(seed: int, source: str, file: str, line: int) -> float:
    """A number in [0, 1) fixed by the seed and where the sample is."""
    h = hashlib.blake2b(f"{seed}\x1f{source}\x1f{file}\x1f{line}".encode(), digest_size=8).digest()
    return int.from_bytes(h, "big") / _SCALE


def selected(seed: int, fraction: float, source: str, file: str, line: int) -> bool:
    return fraction >= 1.0 or unit(seed, source, file, line) < fraction


def source_figures(source: str, scanned: int, harmful: int) -> dict:
    """One source's line in ``scan --json``: a rate above 5 % is ``do-not-use``, and so is a
    source of which nothing was scanned (no evidence: fail closed)."""
    rate = harmful / scanned if scanned else 0.0
    lo, hi = wilson(harmful, scanned)
    bad = harmful * 20 > scanned or scanned == 0  # exact integer test of > 5 % (HARMFUL_MAX)
    return {"id": source, "scanned": scanned, "harmful": harmful, "rate": round(rate, 6),
            "ci_low": round(lo, 6), "ci_high": round(hi, 6), "verdict": "do-not-use" if bad else "use"}


def pass_rate(passed: int, n: int, minimum: float, min_n: int) -> dict:
    """A pass rate against its requirement: ``pass`` needs n ≥ min_n and rate ≥ minimum."""
    rate = passed / n if n else 0.0
    lo, hi = wilson(passed, n)
    meets = passed * 10_000 >= round(minimum * 10_000) * n  # exact in integers: 96 % of 4,000 is 3,840
    status = "insufficient" if n < min_n else ("pass" if meets and n else "fail")
    return {"passed": passed, "n": n, "rate": round(rate, 6), "ci_low": round(lo, 6), "ci_high": round(hi, 6),
            "required": minimum, "min_n": min_n, "status": status}
