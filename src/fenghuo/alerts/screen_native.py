"""The rules' screen's C paths (``alerts/screen.py``; the kernel's loops in ``_ingestscreen.h``
and ``_ingestscreenreads.h``): the threshold groups, the latency rules, and the change rules with
their learning, each answering False when the kernel is not built (``kernel`` None: the screen
module's ``NATIVE``, which the tests and ``FENGHUO_NATIVE=0`` set to None) or refuses the arrays
before anything is learned, so the numpy form in ``Screen.run`` decides. Split from screen.py
(which keeps the numpy reference) to keep that file readable.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from fenghuo.monitor.catalogue import quantile_of
from fenghuo.monitor.colfold import LAT_N

if TYPE_CHECKING:
    from fenghuo.alerts.screen import Screen
    from fenghuo.alerts.screen_state import Columns

_DIRECTION = {"up": 1, "down": -1}  # a change rule's direction for the C kernel (else both: 0)


def change(kernel: Any, screen: Screen, vals: list[tuple[np.ndarray, np.ndarray]], sigs: np.ndarray, rs: np.ndarray,
           maybe: np.ndarray, now: float) -> bool:
    """The change rules of ``Screen.run`` and their learning in C (``screen_change`` per rule, then
    ``screen_learn`` once ``maybe`` is final: the same float operations, a row at a time,
    instead of ~25 numpy calls per rule); False when the kernel is not built or refuses the
    arrays before anything is learned (numpy then decides; a baseline reset for a new owner
    is the same either way)."""
    if kernel is None or not screen.change:
        return False
    gen = screen.ind.generation
    oks = []
    try:
        for j, k, r in screen.change:
            x, samples = vals[k]
            a = screen.base[r.name]
            a.fit(gen)
            ok = np.zeros(rs.size, dtype=bool)
            ch = r.change
            kernel.screen_change(x, samples, screen.applies, j, sigs, rs, gen, a.mean, a.var, a.n, a.last, a.gen,
                                 r.min_samples, ch.warmup, ch.zscore, _DIRECTION.get(ch.direction, 0), now,  # type: ignore[union-attr]
                                 screen.ind.window_lengths[r.window] / 60, maybe, ok)
            oks.append(ok)
    except (TypeError, ValueError, IndexError):
        return False
    for (_, k, r), ok in zip(screen.change, oks):  # cannot refuse now: the same arrays, checked above
        a = screen.base[r.name]
        kernel.screen_learn(rs, vals[k][0], ok, maybe, a.mean, a.var, a.n, a.last, r.change.alpha, now)  # type: ignore[union-attr]
    return True


def latency(kernel: Any, screen: Screen, totals: Columns, sigs: np.ndarray, maybe: np.ndarray) -> bool:
    """The latency rules of ``Screen.run`` in C (``screen_latency`` per rule: the same comparisons
    in float64, one pass over the rows instead of ~10 numpy calls per rule, ~110 us of a
    1,000-service batch with the default packs' four); False when the kernel is not built
    or refuses the arrays before any rule is applied (numpy then decides)."""
    if kernel is None or not screen.ms:
        return False
    cols = []
    for _, r, col, _ in screen.ms:
        t = totals.window(r.window)
        n, c = t[:, LAT_N], t[:, col]
        if not (n.dtype == c.dtype == np.int64 and n.flags.c_contiguous and c.flags.c_contiguous):
            return False
        cols.append((n, c))
    try:
        for (j, r, _, up), (n, c) in zip(screen.ms, cols):
            kernel.screen_latency(n, c, screen.applies, j, sigs, r.min_samples, quantile_of(r.indicator), up, maybe)
    except (TypeError, ValueError, IndexError):
        return False  # what a rule already set is what numpy sets again (maybe only grows)
    return True


def groups(kernel: Any, screen: Screen, vals: list[tuple[np.ndarray, np.ndarray]], sigs: np.ndarray, maybe: np.ndarray) -> bool:
    """The threshold groups of ``Screen.run`` in one C pass (``_ingestnative.screen_groups``: the
    same comparisons, a row at a time, instead of ~10 numpy calls over services x groups
    matrices); False when the kernel is not built or refuses the arrays (numpy decides)."""
    if kernel is None:
        return False
    try:
        kernel.screen_groups([v for v, _ in vals], [s for _, s in vals], screen.grp_read, screen.grp_min, screen.grp_code,
                             screen.loosest_of(), sigs, maybe)
    except (TypeError, ValueError, IndexError):
        return False
    return True
