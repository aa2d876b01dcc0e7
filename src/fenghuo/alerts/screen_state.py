"""What the rules' screen (``alerts/screen.py``) reads and keeps per indicator row: the windows'
totals of the screened rows, gathered a window at a time, and the change rules' baselines as
arrays (one slot per row), with the ``Baseline`` views ``measure`` is given for them.

Split from screen.py, which decides; this file holds its state and reads.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from fenghuo.alerts.evaluate import Baseline
from fenghuo.monitor.native import KERNEL as NATIVE

if TYPE_CHECKING:
    from fenghuo.alerts.screen import Screen
    from fenghuo.monitor.indicators import Indicators


class Columns:
    """The windows' totals of the screened rows. The columns the rules read in a window are
    known when the screen is built (``need``: window -> columns), so they are gathered with one
    fancy index per window (each column then a contiguous row of the block); a column not
    listed is gathered alone. ``window(w)[:, c]`` reads column c. Only what the reads ask is
    gathered (a read needs two or three of ~25 columns; whole rows of three windows were a tenth
    of the screen at 1,000 services, issue 19); a gather per column was ~8 us each, a dozen a
    batch."""

    def __init__(self, ind: Indicators, rows: np.ndarray, now: float, need: dict[str, list[int]] | None = None) -> None:
        self.ind, self.rows, self.now, self.need = ind, rows, now, need or {}
        self._w: dict[str, Window] = {}

    def window(self, window: str) -> Window:
        w = self._w.get(window)
        if w is None:
            cw = self.ind.windows[window]
            cw.expire(self.now)
            w = self._w[window] = Window(cw.total, self.rows, self.need.get(window))
        return w


class Window:
    __slots__ = ("total", "rows", "cols")

    def __init__(self, total: np.ndarray, rows: np.ndarray, need: list[int] | None = None) -> None:
        self.total, self.rows, self.cols = total, rows, {}
        if need:
            cols = np.array(need, dtype=np.int64)
            block = np.empty((cols.size, rows.size), dtype=np.int64)  # a row per column: contiguous
            if (NATIVE is not None and total.dtype == np.int64 and total.flags.c_contiguous and rows.dtype == np.int64
                    and rows.flags.c_contiguous):
                NATIVE.gather_columns(total, total.shape[1], rows, cols, block)  # one pass over the rows, in C
            else:
                block[:] = total.T[cols[:, None], rows]
            self.cols = dict(zip(need, block))

    def __getitem__(self, key: tuple[slice, int]) -> np.ndarray:
        c = key[1]
        got = self.cols.get(c)
        if got is None:
            got = self.cols[c] = self.total[self.rows, c]
        return got


class _State:
    __slots__ = ("mean", "var", "n", "last")


class _Arrays:
    """One change rule's baselines, one slot per indicator row (``gen``: the row's owner)."""

    def __init__(self) -> None:
        self.mean = np.zeros(0)
        self.var = np.zeros(0)
        self.n = np.zeros(0, dtype=np.int64)
        self.last = np.zeros(0)
        self.gen = np.zeros(0, dtype=np.int64)

    def fit(self, generation: np.ndarray) -> None:
        size = generation.size
        if self.gen.size < size:
            for a, fill in (("mean", 0.0), ("var", 0.0), ("n", 0), ("last", -math.inf), ("gen", -1)):
                old = getattr(self, a)
                new = np.full(size, fill, dtype=old.dtype)
                new[:old.size] = old
                setattr(self, a, new)

    def at(self, rows: np.ndarray, generation: np.ndarray) -> _State:
        """The baselines of ``rows``, reset where the row has changed owner."""
        self.fit(generation)
        stale = self.gen[rows] != generation[rows]
        if stale.any():
            s = rows[stale]
            self.mean[s], self.var[s], self.n[s], self.last[s], self.gen[s] = 0.0, 0.0, 0, -math.inf, generation[s]
        st = _State()
        st.mean, st.var, st.n, st.last = self.mean[rows], self.var[rows], self.n[rows], self.last[rows]
        return st

    def update(self, rows: np.ndarray, x: np.ndarray, alpha: float, now: float) -> None:
        """``Baseline.update`` for each row, with the same float operations."""
        first = self.n[rows] == 0
        mean, var = self.mean[rows], self.var[rows]
        d = x - mean
        incr = alpha * d
        new_mean = np.where(first, x, mean + incr)
        new_var = np.where(first, 0.0, (1 - alpha) * (var + d * incr))
        self.mean[rows], self.var[rows] = new_mean, new_var
        self.n[rows] += 1
        self.last[rows] = now


class RowBaseline(Baseline):
    """A ``Baseline`` whose state is one row of a rule's arrays (what ``measure`` is given)."""

    def __init__(self, arrays: _Arrays, row: int) -> None:  # state lives in the arrays, not in dataclass fields
        object.__setattr__(self, "_a", arrays)
        object.__setattr__(self, "_r", row)

    def __getattribute__(self, name: str) -> Any:
        if name in ("mean", "var", "n", "last"):
            a = object.__getattribute__(self, "_a")
            v = getattr(a, name)[object.__getattribute__(self, "_r")]
            return int(v) if name == "n" else float(v)
        return object.__getattribute__(self, name)

    def __setattr__(self, name: str, value: Any) -> None:
        getattr(self._a, name)[self._r] = value


class Baselines:
    """``AlertEngine.baselines``: (rule name, service) → baseline, backed by the screen's arrays
    for services with an indicator row (a plain Baseline otherwise)."""

    def __init__(self, screen: Screen) -> None:
        self.screen = screen
        self.loose: dict[tuple[str, str], Baseline] = {}

    def setdefault(self, key: tuple[str, str], default: Baseline) -> Baseline:
        arrays = self.screen.base.get(key[0])
        ind = self.screen.ind
        row = ind.row_of.get(key[1])
        if arrays is None or row is None:
            return self.loose.setdefault(key, default)
        arrays.at(np.array([row], dtype=np.int64), ind.generation)
        return RowBaseline(arrays, row)
