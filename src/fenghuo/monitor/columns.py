"""Sliding windows held column-wise across services (issue 19).

Each service has a row (``Rows``: service → row, reused after eviction). A window keeps its
running total as one int64 matrix, services as rows and the counters as columns (plus the
number of latencies, of zero latencies, and one "latencies at or above key K" column per key a
rule watches); and, per slice of time (a bucket: L/60 seconds, at least 1 s), the pieces added
to it: the rows touched, their counts, their latency bins (row, key, count) and their categories
(rare). A batch is added with one grouped array operation per window, and a bucket that leaves
the window is subtracted the same way — no Python per service.

Why not one object per (service, window) as before: a batch spread over 1,000 services cost
≈ 100 µs of Python per service (bucket adds into 3 windows, a numpy histogram per value, then
each rule's read); here the cost is per batch and per array element.

Memory stays bounded by what is configured: pieces of one bucket are merged (one row per
service, one entry per (service, latency bin)) once they hold as many rows as the merged part,
so a bucket holds at most a few rows per distinct service; buckets leave with their window;
rows of evicted services are cleared everywhere and reused.

The same semantics as ``window.Window`` (a bucket is dropped for good once it leaves the
window; an add to a bucket already outside is ignored) — ``tests/monitor/test_fold.py`` holds
the store to its reference model.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from fenghuo.monitor.colfold import LAT_N, LAT_ZEROS, NATIVE
from fenghuo.monitor.window import BUCKETS_PER_WINDOW, LogHistogram

_E = np.zeros(0, dtype=np.int64)


def add_rows(total: np.ndarray, rows: np.ndarray, counts: np.ndarray, sign: int = 1) -> None:
    """``total[rows] += counts`` (or ``-=``) for distinct ``rows``: one C loop when the kernel is
    built (numpy gathers the rows, adds and scatters them back through a temporary: ~3x), the
    numpy form otherwise and for any array the kernel does not take as it is."""
    if (NATIVE is not None and counts.ndim == 2 and counts.shape[1] == total.shape[1] and counts.dtype == np.int64
            and rows.dtype == np.int64 and total.dtype == np.int64 and total.flags.c_contiguous
            and counts.flags.c_contiguous and rows.flags.c_contiguous):
        NATIVE.scatter_add(total, total.shape[1], rows, counts, counts.shape[1], sign)
    elif sign > 0:
        total[rows] += counts
    else:
        total[rows] -= counts


class Piece:
    """Rows (sorted, distinct) with their counts, latency bins and categories."""

    __slots__ = ("rows", "counts", "hrow", "hkey", "hcount", "cats")

    def __init__(self, rows: np.ndarray, counts: np.ndarray, hrow: np.ndarray, hkey: np.ndarray, hcount: np.ndarray,
                 cats: list[tuple[int, str, Counter]]) -> None:
        self.rows, self.counts, self.hrow, self.hkey, self.hcount, self.cats = rows, counts, hrow, hkey, hcount, cats


def sum_bins(rows: np.ndarray, keys: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, latency key, count) entries (not empty) summed per (row, key), in (row, key) order.

    When the (row, key) pairs span a range not much larger than the entries, they are counted
    in place with ``np.bincount`` over that range; otherwise sorted. Both give
    the same pairs (every pair present, a zero sum included) and the same sums. At 1,000
    services a merge of 64 batches' latency bins sorted 64,000 pairs (~4-7 ms, several times a
    second); counted, it is a tenth of that. The sort is numpy's stable one (timsort for int64)
    and the sums are taken over its runs (``reduceat``), not ``np.unique``'s quicksort with an
    inverse and a ``bincount``: a bucket's merged part is one sorted run already, and each batch
    piece's entries come in few runs, which timsort merges instead of sorting again (issue 19:
    at 10,000 services the merges' ``np.unique`` was ~5 % of the ingest thread; on a merged part
    of 60,000 entries plus 64 pieces of 1,000, 16.7 → 6.6 ms)."""
    lo = int(keys.min())
    span = int(keys.max()) - lo + 1
    rlo = int(rows.min())
    pair = (rows - rlo) * span + (keys - lo)
    if (int(rows.max()) - rlo + 1) * span <= 8 * rows.size + 4096:
        up = np.flatnonzero(np.bincount(pair))
        sums = np.bincount(pair, weights=counts)[up]
    else:
        order = np.argsort(pair, kind="stable")
        pair = pair[order]
        starts = np.flatnonzero(np.r_[True, pair[1:] != pair[:-1]])
        up = pair[starts]
        sums = np.add.reduceat(counts[order], starts)
    return up // span + rlo, up % span + lo, sums.astype(np.int64)


def merge(pieces: list[Piece], distinct: bool = True) -> Piece:
    """One piece with one row per service and one entry per (row, latency bin). ``distinct``:
    each piece's rows are distinct (as a stored piece's are)."""
    total = sum(p.rows.size for p in pieces)
    cap = max(int(p.rows.max()) for p in pieces if p.rows.size) + 1 if total else 0
    if distinct and total * 8 >= cap:
        # Rows are indicator rows (0 ≤ row < capacity): mark them and add each piece in place,
        # no sort. At 100,000 services a bucket's merged part holds ~100,000 rows; sorting it
        # with 64 new pieces and gathering every count row in that order took ~100 ms per merge
        # (a quarter of a spread batch's CPU, issue 19); this takes ~20 ms.
        mark = np.zeros(cap, dtype=bool)
        for p in pieces:
            mark[p.rows] = True
        u = np.flatnonzero(mark)
        pos = np.empty(cap, dtype=np.int64)
        pos[u] = np.arange(u.size)
        out = np.zeros((u.size, pieces[0].counts.shape[1]), dtype=np.int64)
        # the first piece (a bucket's merged part: the largest) is written, not added: out is
        # zero there, and an add reads every row back first (~2x at 100,000 rows)
        out[pos[pieces[0].rows]] = pieces[0].counts
        for p in pieces[1:]:
            add_rows(out, pos[p.rows], p.counts)  # distinct rows: no lost update
    else:
        rows = np.concatenate([p.rows for p in pieces])
        counts = np.concatenate([p.counts for p in pieces])
        order = np.argsort(rows, kind="stable")
        rows = rows[order]
        starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
        u, out = rows[starts], np.add.reduceat(counts[order], starts, axis=0)
    hrow = np.concatenate([p.hrow for p in pieces])
    hkey = np.concatenate([p.hkey for p in pieces])
    hcount = np.concatenate([p.hcount for p in pieces])
    if hrow.size:
        hrow, hkey, hcount = sum_bins(hrow, hkey, hcount)
    cats = [c for p in pieces for c in p.cats]
    return Piece(u, out, hrow, hkey, hcount, cats)


# a bucket keeps at most this many pieces whose rows are disjoint before it merges them anyway
# (per-row reads, ``hist`` and ``bucket_rows``, walk a bucket's pieces; a piece whose rows do not
# span the row is passed over without a search: rows are given out in order, so a first touch's
# pieces hold ranges of their own)
MAX_PIECES = 128


def _spans(rows: np.ndarray, row: int) -> bool:
    """Whether ``row`` is within the first and last of ``rows`` (sorted)."""
    return bool(rows.size) and rows[0] <= row <= rows[-1]


def disjoint(pieces: list[Piece]) -> bool:
    """Whether no row is in two of ``pieces`` (a stored piece's rows are sorted and distinct),
    so merging them would keep every row: told by marking them all in one array."""
    rows = np.concatenate([p.rows for p in pieces])
    if not rows.size:
        return True
    mark = np.zeros(int(rows.max()) + 1, dtype=bool)
    mark[rows] = True
    return int(np.count_nonzero(mark)) == rows.size


def _piece(rows: np.ndarray, counts: np.ndarray, hrow: np.ndarray, hkey: np.ndarray, hcount: np.ndarray,
           cats: list[tuple[int, str, Counter]], remap: np.ndarray | None = None) -> Piece:
    """Groups of one bucket as a piece: rows sorted and distinct, categories keyed by row."""
    # cats arrive keyed by group; store them by row
    if cats:
        if remap is None:
            cats = [(int(rows[g]), s, c) for g, s, c in cats]
        else:
            pos = {g: i for i, g in enumerate(remap.tolist())}
            cats = [(int(rows[pos[g]]), s, c) for g, s, c in cats]
    if rows.size > 1 and (rows[1:] < rows[:-1]).any():
        order = np.argsort(rows, kind="stable")
        rows, counts = rows[order], counts[order]
    if rows.size > 1 and (rows[1:] == rows[:-1]).any():  # a service's seconds in one bucket
        return merge([Piece(rows, counts, hrow, hkey, hcount, cats)], distinct=False)
    return Piece(rows, counts, hrow, hkey, hcount, cats)


class ColumnWindow:
    """One window length over all services."""

    __slots__ = ("length", "width", "total", "slices", "_low", "cats", "_fresh", "_look")

    def __init__(self, length: float, capacity: int, ncol: int) -> None:
        self.length = float(length)
        self.width = max(1.0, self.length / BUCKETS_PER_WINDOW)
        self.total = np.zeros((capacity, ncol), dtype=np.int64)
        self.slices: dict[int, list[Piece]] = {}  # bucket key -> pieces; [0] is the merged part
        self._low = 0
        # row -> (in, out) category counts over the window (rare: only violations with categories)
        self.cats: dict[int, tuple[Counter, Counter]] = {}
        self._fresh: dict[int, int] = {}  # bucket key -> rows in its pieces after the merged part
        self._look: dict[int, int] = {}  # bucket key -> pieces at which a merge is next considered

    def oldest(self, now: float) -> int:
        return int((now - self.length) // self.width) + 1

    def expire(self, now: float) -> None:
        oldest = self.oldest(now)
        if oldest <= self._low:
            return
        for k in [k for k in self.slices if k < oldest]:
            self._fresh.pop(k, None)
            self._look.pop(k, None)
            for p in self.slices.pop(k):
                add_rows(self.total, p.rows, p.counts, -1)  # rows are distinct in a piece
                self._cats(p.cats, -1)
        self._low = min(self.slices, default=oldest)

    def _cats(self, cats: list[tuple[int, str, Counter]], sign: int) -> None:
        for row, side, c in cats:
            pair = self.cats.get(row)
            if pair is None:
                pair = self.cats[row] = (Counter(), Counter())
            mine = pair[0] if side == "in" else pair[1]
            if sign > 0:
                mine.update(c)
            else:
                mine.subtract(c)
                for k in [k for k, v in mine.items() if v == 0]:
                    del mine[k]
                if not pair[0] and not pair[1]:
                    del self.cats[row]

    def add(self, rows: np.ndarray, seconds: np.ndarray, counts: np.ndarray, hrow: np.ndarray, hkey: np.ndarray,
            hcount: np.ndarray, hgroup: np.ndarray, cats: list[tuple[int, str, Counter]], now: float,
            shared: dict | None = None) -> None:
        """Groups g (one per (service, second)): ``rows[g]``, ``seconds[g]``, ``counts[g]``;
        latency entries carry their group in ``hgroup`` (and their row in ``hrow``).
        ``shared``: a dict kept across the windows a batch is added to — a batch that falls in
        one bucket of each window makes the same piece for every window, so it is built once
        (sorted, its categories by row) and held by all of them (pieces are not changed in
        place, except by ``add_column``, which minds this). ``shared["span"]``, if given, is
        the first and last of ``seconds``."""
        span = shared.get("span") if shared is not None else None
        keys = None
        if span is not None:  # the batch's first and last second: floor division is monotone
            kmin, kmax = span if self.width == 1.0 else (int(span[0] // self.width), int(span[1] // self.width))
        else:
            keys = (seconds // self.width).astype(np.int64) if self.width != 1.0 else seconds
            kmin, kmax = int(keys.min()), int(keys.max())
        oldest = self.oldest(now)
        if kmin == kmax:
            if kmin >= oldest:
                p = shared.get("piece") if shared is not None else None
                if p is None:
                    p = _piece(rows, counts, hrow, hkey, hcount, cats)
                    if shared is not None:
                        shared["piece"] = p
                self._store(kmin, p)
            return
        if keys is None:
            keys = (seconds // self.width).astype(np.int64) if self.width != 1.0 else seconds
        for k in np.unique(keys).tolist():
            if k < oldest:
                continue
            sel = np.flatnonzero(keys == k)
            hsel = np.isin(hgroup, sel)
            gset = set(sel.tolist())
            self._store(k, _piece(rows[sel], counts[sel], hrow[hsel], hkey[hsel], hcount[hsel],
                                  [(r, s, c) for r, s, c in cats if r in gset], remap=sel))

    def _store(self, key: int, p: Piece) -> None:
        add_rows(self.total, p.rows, p.counts)  # rows are distinct in a piece
        self._cats(p.cats, 1)
        pieces = self.slices.get(key)
        if pieces is None:
            self.slices[key] = [p]
            self._low = key if len(self.slices) == 1 else min(self._low, key)
            # time moved on: the bucket before is (nearly always) complete, so merge it once
            # now rather than hold its pieces for the rest of the window — unless no row is in
            # two of them: then the merge would keep every row and save nothing (below)
            before = self.slices.get(key - 1)
            if before is not None and len(before) > 1 and (len(before) > MAX_PIECES or not disjoint(before)):
                self.slices[key - 1] = [merge(before)]
            self._fresh.pop(key - 1, None)
            self._look.pop(key - 1, None)
            return
        pieces.append(p)
        fresh = self._fresh[key] = self._fresh.get(key, 0) + p.rows.size
        if len(pieces) < self._look.get(key, 0):
            return
        # An open bucket is merged when its new pieces outgrow the merged part 4× (and 64k
        # rows): a merge touches every row held, so merging often (it was every 2-3 batches for
        # a 1-second bucket) cost more than all the other work of a batch. At 64 pieces (reads
        # of one row walk them) the new pieces alone are merged into one while they are small
        # beside the merged part: one-event requests had merged a 100,000-row part every 64
        # requests, ~0.1 ms a request at 100,000 services (issue 19). Amortised O(1) per row;
        # the bucket is merged for good once time moves on (above).
        if fresh >= 4 * max(pieces[0].rows.size, 16384):
            todo = pieces
        elif len(pieces) >= 64:
            todo = pieces[1:] if 8 * fresh < pieces[0].rows.size else pieces
        else:
            return
        if len(pieces) < MAX_PIECES and disjoint(todo):
            # No row in two of them (services seen first in this bucket: at 100,000 services
            # every spread batch's): a merge would copy every row (64 pieces of 1,000 rows:
            # 14-32 ms, ~0.7 ms a batch, issue 19) and keep them all. Looked at again at twice
            # as many pieces; reads of one row walk at most MAX_PIECES of them.
            self._look[key] = min(2 * len(pieces), MAX_PIECES)
            return
        self._look.pop(key, None)
        if todo is pieces:
            self.slices[key] = [merge(pieces)]
            self._fresh[key] = 0
        else:
            self.slices[key] = [pieces[0], merge(todo)]
            self._fresh[key] = self.slices[key][1].rows.size

    # -- reads of one row ------------------------------------------------------------------------
    def hist(self, row: int, keys: list[int] | None = None) -> LogHistogram | None:
        """Latency histogram of one row over the window (or over the buckets ``keys``)."""
        ks, cs = [], []
        zeros = count = 0
        for k in (list(self.slices) if keys is None else keys):
            for p in self.slices.get(k, ()):
                if not _spans(p.rows, row):
                    continue
                i = int(np.searchsorted(p.rows, row))
                if i < p.rows.size and p.rows[i] == row:
                    count += int(p.counts[i, LAT_N])
                    zeros += int(p.counts[i, LAT_ZEROS])
                    if p.hrow.size:
                        m = p.hrow == row
                        if m.any():
                            ks.append(p.hkey[m])
                            cs.append(p.hcount[m])
        if not count:
            return None
        h = LogHistogram()
        h.count, h.zeros = count, zeros
        if ks:
            kk, cc = np.concatenate(ks), np.concatenate(cs)
            h.offset = int(kk.min())
            h.counts = np.bincount(kk - h.offset, weights=cc).astype(np.int64)
        return h

    def bucket_rows(self, row: int) -> list[tuple[int, np.ndarray]]:
        """(bucket key, counts) of one row, per bucket it has counts in, oldest first."""
        out = []
        for k in sorted(self.slices):
            tot = None
            for p in self.slices[k]:
                if not _spans(p.rows, row):
                    continue
                i = np.searchsorted(p.rows, row)
                if i < p.rows.size and p.rows[i] == row:
                    tot = p.counts[i].copy() if tot is None else tot + p.counts[i]
            if tot is not None:
                out.append((k, tot))
        return out

    def bucket_cats(self, row: int, key: int) -> tuple[Counter, Counter]:
        cin, cout = Counter(), Counter()
        for p in self.slices.get(key, ()):
            for r, side, c in p.cats:
                if r == row:
                    (cin if side == "in" else cout).update(c)
        return cin, cout

    # -- structure -----------------------------------------------------------------------------
    def grow(self, capacity: int) -> None:
        grown = np.zeros((capacity, self.total.shape[1]), dtype=np.int64)
        grown[:self.total.shape[0]] = self.total
        self.total = grown

    def add_column(self, key: int) -> None:
        """A new "latencies with key ≥ ``key``" column, counted from the bins already held."""
        self.total = np.hstack([self.total, np.zeros((self.total.shape[0], 1), dtype=np.int64)])
        for pieces in self.slices.values():
            for p in pieces:
                if p.counts.shape[1] == self.total.shape[1]:  # a piece shared with a window done before
                    col = p.counts[:, -1]
                else:
                    col = np.zeros(p.rows.size, dtype=np.int64)
                    if p.hrow.size:
                        m = p.hkey >= key
                        np.add.at(col, np.searchsorted(p.rows, p.hrow[m]), p.hcount[m])
                    p.counts = np.hstack([p.counts, col[:, None]])
                np.add.at(self.total[:, -1], p.rows, col)

    def clear_rows(self, rows: np.ndarray) -> None:
        """Forget rows everywhere (their services were evicted)."""
        self.total[rows] = 0
        for r in rows.tolist():
            self.cats.pop(r, None)
        drop = set(rows.tolist())
        for k, pieces in self.slices.items():
            kept = []
            for p in pieces:
                keep = ~np.isin(p.rows, rows)
                hkeep = ~np.isin(p.hrow, rows)
                if keep.all() and hkeep.all():
                    kept.append(p)
                elif keep.any():
                    kept.append(Piece(p.rows[keep], p.counts[keep], p.hrow[hkeep], p.hkey[hkeep], p.hcount[hkeep],
                                      [c for c in p.cats if c[0] not in drop]))
            self.slices[k] = kept

