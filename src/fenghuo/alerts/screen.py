"""Which of the services a batch touched can have a rule that holds — answered for all of them
at once with array operations over the indicator columns (monitor.columns), so only those go
through the per-service evaluation (``measure`` and the lifecycle) in ``AlertEngine.evaluate``.

Why: a batch spread over 1,000 services evaluated every rule of each (~14 with the default
packs) in Python, ≈ 60 % of ingest's CPU (issue 19). app service needs the per-service path only
if one of its rules holds now or it has an open warning; for all others evaluation changes
nothing but the change rules' baselines, which learn here as arrays.

The screen never misses: a threshold rule holds exactly as ``measure`` says (same float
operations on the same counts); a latency quantile rule is screened by counting latencies at
or above the threshold's histogram bin (a column the windows keep, ``Indicators.watch_latency``),
conservatively by one bin and one rank; anything it cannot decide (a change rule on a latency,
an indicator it does not know) sends the service to the per-service path.

With the ingest kernel built (``monitor/_ingestnative.c``, ``_ingestscreen.h`` and
``_ingestscreenreads.h``; called from ``screen_native.py``) the threshold groups, the latency
rules, the change rules and their learning, the ratio reads and the columns the reads take run
as C loops with the same comparisons and float operations (~100 small numpy calls per batch
before); the numpy forms stay as the reference (``FENGHUO_NATIVE=0``), and
tests/monitor/test_ingest_native.py holds the two to the same services and baselines.

Change-rule baselines live here per indicator row (mean, variance, count, last update); a row
given to another service after eviction starts a new baseline, as a service idle past every
window does (``Baselines``/``RowBaseline`` give ``measure`` the same state per (rule, service)).
"""

from __future__ import annotations

from operator import attrgetter
from typing import Any

import numpy as np

from fenghuo.alerts import screen_native
from fenghuo.alerts.rules import Rule
from fenghuo.alerts.screen_state import Baselines, Columns, RowBaseline, _Arrays
from fenghuo.monitor.catalogue import CATALOGUE, quantile_of
from fenghuo.monitor.colfold import COL, LAT_N, NATIVE
from fenghuo.monitor.indicators import Indicators
from fenghuo.monitor.window import _GAMMA, _MAX_KEY, _MULT

_OPS = {">": np.greater, ">=": np.greater_equal, "<": np.less, "<=": np.less_equal}
_RATIOS = {  # indicator -> (numerator column, denominator column)
    "refusal_rate": ("refusals", "calls"), "error_rate": ("errors", "calls"), "backup_share": ("backup", "calls"),
    "failsafe_share": ("failsafe", "calls"), "output_masked_rate": ("out_masked", "out_checked"),
    "answer_refusal_rate": ("out_answer_refused", "out_judged"),
    "input_violation_rate": ("in_violations", "in_checked"), "output_violation_rate": ("out_violations", "out_checked"),
}
_COUNTS = {"calls": ("calls", "calls"), "refusals": ("refusals", "calls"), "complaints": ("complaints", "complaints"),
           "factual_errors": ("factual_errors", "factual_errors")}


_KIND = attrgetter("kind")


def _kind(info: Any) -> Any:
    """The directory's number for the service's kind, or (grade, sector, labels) itself."""
    k = getattr(info, "kind", None)
    return k if k is not None else ("", info.grade, info.sector, tuple(sorted(info.labels.items())))


def _value_of_key(k: int) -> float:
    return 2.0 ** (k / _MULT) * (2.0 / (1 + _GAMMA))  # as LogHistogram.quantile


def _first_key(op: str, t: float) -> int:
    """Smallest bin key whose value ``op`` t is true (op ``>``/``>=``) or false (``<``/``<=``)."""
    up = op in (">", ">=")
    test = (lambda v: v > t if op == ">" else v >= t) if up else (lambda v: not (v < t if op == "<" else v <= t))
    lo, hi = -40000, _MAX_KEY
    while lo < hi:
        mid = (lo + hi) // 2
        if test(_value_of_key(mid)):
            hi = mid
        else:
            lo = mid + 1
    return lo


class Screen:
    def __init__(self, rules: list[Rule], indicators: Indicators) -> None:
        self.rules = rules
        self.ind = indicators
        self._sigs: dict[tuple[int, ...], int] = {(): 0}
        self._by_id = any(r.services.ids for r in rules)
        self._kind_sig: dict[tuple, int] = {}  # kind of service (ServiceInfo.kind) -> rule-set id
        # ServiceInfo.kind -> rule-set id (-1: not matched yet), for kinds gathered by slot (_by_kind)
        self._kind_sig_arr = np.full(0, -1, dtype=np.int64)
        self._row_sig = np.zeros(0, dtype=np.int64)  # per indicator row: rule-set id (see _sigs_of)
        self._row_gen = np.zeros(0, dtype=np.int64)
        self._infos: Any = None
        self.applies = np.zeros((1, len(rules)), dtype=bool)
        self.reads: list[tuple[str, str, str | None]] = []
        thr, self.ms, self.change, self.exact = [], [], [], []
        for j, r in enumerate(rules):
            d = CATALOGUE.get(r.indicator)
            known = r.indicator in _RATIOS or r.indicator in _COUNTS or r.indicator == "risky_compliance_rate"
            if d is not None and d.kind == "ms" and r.threshold is not None and not r.threshold.holds(0.0):
                key = _first_key(r.threshold.op, r.threshold.value)
                up = r.threshold.op in (">", ">=")
                col = indicators.watch_latency(key - 1 if up else key + 1)  # one bin of slack
                self.ms.append((j, r, col, up))
            elif known and (r.threshold is not None or r.change is not None):
                read = (r.indicator, r.window, r.category)
                if read not in self.reads:
                    self.reads.append(read)
                (thr if r.threshold is not None else self.change).append((j, self.reads.index(read), r))
            else:
                self.exact.append(j)
        self.thr_cols = np.array([j for j, _, _ in thr], dtype=np.int64)
        self.thr_value = np.array([r.threshold.value for _, _, r in thr], dtype=np.float64)  # type: ignore[union-attr]
        self.thr_op = {op: np.array([r.threshold.op == op for _, _, r in thr], dtype=bool) for op in _OPS}  # type: ignore[union-attr]
        # Threshold rules grouped by (read, op, min_samples): some rule of a group holds for a
        # service iff its value passes the loosest threshold among the group's rules that select
        # the service (the least for > and >=, the greatest for < and <=). With the default packs
        # 60 threshold rules fall into a few groups, so a batch compares a few columns per
        # service instead of 60 (issue 19); the per-rule-set thresholds are a small table.
        groups: dict[tuple[int, str, int], list[int]] = {}
        for i, (_, k, r) in enumerate(thr):
            groups.setdefault((k, r.threshold.op, r.min_samples), []).append(i)  # type: ignore[union-attr]
        self.grp_read = np.array([k for k, _, _ in groups], dtype=np.int64)
        self.grp_min = np.array([ms for _, _, ms in groups], dtype=np.int64)
        self.grp_op = {op: np.array([o == op for _, o, _ in groups], dtype=bool) for op in _OPS}
        self.grp_code = np.array([list(_OPS).index(o) for _, o, _ in groups], dtype=np.int64)  # for the C kernel
        self._grp_members = list(groups.values())
        self._loosest = np.zeros((0, len(groups)))  # rule set × group (see loosest_of)
        self.base = {r.name: _Arrays() for _, _, r in self.change}
        # the columns each window's reads take, gathered at once per batch (screen_state.Columns)
        self.need: dict[str, list[int]] = {}
        for name, window, _category in self.reads:
            cols = ((_COUNTS[name] if name in _COUNTS else _RATIOS[name]) if name != "risky_compliance_rate"
                    else ("out_compliance", "out_judged", "out_answer_refused"))
            self.need.setdefault(window, []).extend(COL[c] for c in cols)
        for _, r, col, _ in self.ms:
            self.need.setdefault(r.window, []).extend((LAT_N, col))
        self.need = {w: list(dict.fromkeys(cols)) for w, cols in self.need.items()}

    def loosest_of(self) -> np.ndarray:
        """Per rule set (rows of ``applies``) and group: the loosest threshold of the group's
        rules in the set; +inf (for > and >=) or -inf (< and <=) when none is, so none holds."""
        if self._loosest.shape[0] != self.applies.shape[0]:
            sel = self.applies[:, self.thr_cols]  # rule set × threshold rule
            out = np.empty((sel.shape[0], len(self._grp_members)))
            for g, members in enumerate(self._grp_members):
                t = self.thr_value[members]
                if self.thr_op[">"][members[0]] or self.thr_op[">="][members[0]]:
                    out[:, g] = np.where(sel[:, members], t, np.inf).min(axis=1)
                else:
                    out[:, g] = np.where(sel[:, members], t, -np.inf).max(axis=1)
            self._loosest = out
        return self._loosest

    def sig(self, service: str, info: Any) -> int:
        """The set of rules selecting a service, as a small id (rows of ``applies``)."""
        if info is None:
            return 0
        # Without id selectors a service's rules follow from its grade, sector and labels: one
        # match per distinct kind of service, not per service (100,000 services, first touch).
        kind = None if self._by_id else _kind(info)
        sid = self._kind_sig.get(kind) if kind is not None else None
        if sid is not None:
            return sid
        key = tuple(j for j, r in enumerate(self.rules) if r.services.matches(info))
        sid = self._sigs.get(key)
        if sid is None:
            sid = self._sigs[key] = len(self._sigs)
            row = np.zeros((1, len(self.rules)), dtype=bool)
            row[0, list(key)] = True
            self.applies = np.vstack([self.applies, row])
        if kind is not None:
            self._kind_sig[kind] = sid
        return sid

    def sigs(self, services: list[str], infos: Any) -> list[int]:
        """``sig`` of many services: their kinds looked up in C, only a kind not seen before
        matched in Python."""
        found = list(map(infos.get, services))
        # filter(None, …), not ``None in found``: ``in`` would call each info's __eq__ in Python
        if self._by_id or len(list(filter(None, found))) != len(found):
            return [self.sig(s, i) for s, i in zip(services, found)]
        kinds = list(map(_KIND, found))
        if None in kinds:  # infos built by hand, not numbered by the directory
            kinds = list(map(_kind, found))
        got = list(map(self._kind_sig.get, kinds))
        if None in got:
            got = [g if g is not None else self.sig(s, i) for s, i, g in zip(services, found, got)]
        return got  # type: ignore[return-value]

    def _by_kind(self, services: list[str], pos: np.ndarray, rows: np.ndarray, infos: Any,
                 kinds: np.ndarray) -> np.ndarray | None:
        """Rule-set ids of ``rows`` (of ``services[pos[i]]``) as gathers: row -> directory slot
        (``Indicators.slot_by_row``) -> kind (``kinds``, the directory's array published with
        ``infos``) -> rule set (``_kind_sig_arr``); a kind not met before is matched once
        (``sig``). None when some row has no slot or its slot no kind (the caller looks those
        services up by name).

        Why (issue 19): at 100,000 services every service of a spread batch is new to the
        screen, and looking each up in the directory's dict and reading its ServiceInfo missed
        the cache twice per service (~0.45 ms a 1,000-service batch); three gathers from
        arrays cost ~0.02 ms, first touch or not."""
        if self._by_id or not rows.size:
            return None
        slots = self.ind.slot_by_row[rows]
        if int(slots.min()) < 0 or int(slots.max()) >= kinds.size:
            return None
        k = kinds[slots]
        if int(k.min()) < 0:
            return None
        top = int(k.max())
        if top >= self._kind_sig_arr.size:
            grown = np.full(max(2 * self._kind_sig_arr.size, top + 1, 16), -1, dtype=np.int64)
            grown[:self._kind_sig_arr.size] = self._kind_sig_arr
            self._kind_sig_arr = grown
        sigs = self._kind_sig_arr[k]
        new = np.flatnonzero(sigs < 0)
        if new.size:  # one match per kind not met before (its first service stands for it)
            for i in new.tolist():
                kind = int(k[i])
                if self._kind_sig_arr[kind] < 0:
                    name = services[int(pos[i])]
                    info = infos.get(name)
                    if info is None or info.kind != kind:  # not what the array says: by name
                        return None
                    self._kind_sig_arr[kind] = self.sig(name, info)
            sigs = self._kind_sig_arr[k]
        return sigs

    def _sigs_of(self, services: list[str], rows: np.ndarray, infos: Any, kinds: np.ndarray | None = None) -> np.ndarray:
        """Rule-set ids of rows, remembered per row while the directory's mapping is the same
        object (it is replaced whenever a service changes) and the row has the same owner; rows
        not remembered (first touch) by kind (``_by_kind``) when the directory's kinds are
        given and cover them, else by name (``sigs``). The per-row memory stays first: for
        rows seen before it is one gather fewer than by kind (~0.015 ms a batch)."""
        gen = self.ind.generation
        if self._row_sig.size < gen.size:
            grown = np.full(gen.size, -1, dtype=np.int64)
            grown[:self._row_sig.size] = self._row_sig
            self._row_sig = grown
            g2 = np.full(gen.size, -1, dtype=np.int64)
            g2[:self._row_gen.size] = self._row_gen
            self._row_gen = g2
        if infos is not self._infos:
            self._infos = infos
            self._row_gen[:] = -1
        sigs = self._row_sig[rows]
        stale = self._row_gen[rows] != gen[rows]
        if stale.any():
            idx = np.flatnonzero(stale)
            got = None if kinds is None else self._by_kind(services, idx, rows[idx], infos, kinds)
            sigs[idx] = got if got is not None else self.sigs([services[i] for i in idx.tolist()], infos)
            self._row_sig[rows[stale]] = sigs[stale]
            self._row_gen[rows[stale]] = gen[rows[stale]]
        return sigs

    def _read(self, totals: Columns, rows: np.ndarray, read: tuple[str, str, str | None]) -> tuple[np.ndarray, np.ndarray]:
        name, window, category = read
        t = totals.window(window)
        if name in _COUNTS:
            a, b = _COUNTS[name]
            return t[:, COL[a]].astype(np.float64), t[:, COL[b]]
        if name == "risky_compliance_rate":
            num, den = t[:, COL["out_compliance"]], t[:, COL["out_judged"]] - t[:, COL["out_answer_refused"]]
        else:
            a, b = _RATIOS[name]
            num, den = t[:, COL[a]], t[:, COL[b]]
            if category:
                side = "in" if name.startswith("input") else "out"
                num = self.ind.category_counts(rows.tolist(), window, side, category)
        if NATIVE is not None and not category:  # one C pass instead of zeros, != and divide
            val = np.empty(rows.size, dtype=np.float64)
            try:
                NATIVE.screen_ratio(num, den, val)
                return val, den
            except (TypeError, ValueError, BufferError):
                pass  # another dtype or layout: numpy decides
        val = np.zeros(rows.size, dtype=np.float64)
        np.divide(num, den, out=val, where=den != 0)
        return val, den

    def run(self, services: list[str], infos: dict[str, Any], open_services: set[str], now: float,
            rows: np.ndarray | None = None, kinds: np.ndarray | None = None) -> list[str]:
        """The services that need the per-service evaluation; the others' baselines learn.
        ``rows``: the services' rows, if the caller has them (distinct services, each with a row);
        ``kinds``: each directory slot's ``ServiceInfo.kind``, published with ``infos``
        (``Directory.services_and_kinds``), if the caller has them."""
        self.now = now
        exact: list[str] = []
        try:  # every service has a row (the usual): C-level lookups straight into the array
            rs = rows if rows is not None else np.fromiter(map(self.ind.row_of.get, services), dtype=np.int64, count=len(services))
        except TypeError:  # some without a row (no event counted): the per-service pass reads zeros
            got = list(map(self.ind.row_of.get, services))
            exact = [s for s, r in zip(services, got) if r is None and self.sig(s, infos.get(s))]
            services = [s for s, r in zip(services, got) if r is not None]
            rs = np.array([r for r in got if r is not None], dtype=np.int64)
        if not rs.size:
            return exact
        sigs = self._sigs_of(services, rs, infos, kinds)
        keep = sigs > 0  # selected by some rule
        if open_services and not open_services.isdisjoint(services):
            is_open = np.array([s in open_services for s in services], dtype=bool)
            exact += [s for s, o, k in zip(services, is_open.tolist(), keep.tolist()) if o and k]
            keep &= ~is_open
        if not keep.all():
            services = [s for s, k in zip(services, keep.tolist()) if k]
            rs, sigs = rs[keep], sigs[keep]
        if not rs.size:
            return exact
        names = services
        app = self.applies[sigs]
        totals = Columns(self.ind, rs, now, self.need)
        vals = [self._read(totals, rs, rd) for rd in self.reads]
        maybe = app[:, self.exact].any(axis=1) if self.exact else np.zeros(rs.size, dtype=bool)
        if self.grp_read.size and not screen_native.groups(NATIVE, self, vals, sigs, maybe):
            vv = np.stack([v for v, _ in vals], axis=1)[:, self.grp_read]
            ss = np.stack([s for _, s in vals], axis=1)[:, self.grp_read]
            valid = ~((self.grp_min > ss) | ((self.grp_min > 0) & (ss == 0)))
            loose = self.loosest_of()[sigs]
            res = np.zeros(vv.shape, dtype=bool)
            for op, f in _OPS.items():
                cols = self.grp_op[op]
                if cols.any():
                    res[:, cols] = f(vv[:, cols], loose[:, cols])
            maybe |= (valid & res).any(axis=1)
        for j, r, col, up in (() if screen_native.latency(NATIVE, self, totals, sigs, maybe) else self.ms):
            t = totals.window(r.window)
            n = t[:, LAT_N]
            valid = ~((n < r.min_samples) | ((r.min_samples > 0) & (n == 0)))
            rank = quantile_of(r.indicator) * (n - 1)
            below = n - t[:, col]  # latencies (zeros included) under the screened bin
            hit = below <= rank + 1 if up else below > rank - 1
            maybe |= app[:, j] & valid & hit
        learn = []
        for j, k, r in (() if screen_native.change(NATIVE, self, vals, sigs, rs, maybe, now) else self.change):
            x, samples = vals[k]
            ms = r.min_samples
            valid = app[:, j] & ~((samples < ms) | ((ms > 0) & (samples == 0)))
            b = self.base[r.name].at(rs, self.ind.generation)
            ch = r.change
            warm = b.n >= ch.warmup  # type: ignore[union-attr]
            sd = np.sqrt(b.var)
            floor = np.maximum(1e-9, 0.01 * np.abs(b.mean))
            z = (x - b.mean) / np.maximum(sd, floor)
            zs = ch.zscore  # type: ignore[union-attr]
            hold = (z > zs) if ch.direction == "up" else (z < -zs) if ch.direction == "down" else (np.abs(z) > zs)  # type: ignore[union-attr]
            maybe |= valid & warm & hold
            learn.append((r, valid & ~(warm & hold), x, b))
        for r, ok, x, b in learn:
            step = self.ind.window_lengths[r.window] / 60
            due = ok & ~maybe & (now - b.last >= step)
            if due.any():
                self.base[r.name].update(rs[due], x[due], r.change.alpha, now)  # type: ignore[union-attr]
        if maybe.any():
            exact += [names[i] for i in np.flatnonzero(maybe).tolist()]
        return exact

    def baselines(self) -> Baselines:
        return Baselines(self)


__all__ = ["Baselines", "RowBaseline", "Screen"]
