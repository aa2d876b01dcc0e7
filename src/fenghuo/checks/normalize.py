"""Evasion-resistant text normalisation in one vectorised pass, with a map back to the original.

Evasion is the normal case in Chinese moderation: full-width letters, traditional characters,
upper case, zero-width characters and inserted separators (``法*轮``, ``赌 博``). Applying NFKC
and then OpenCC per message costs ~26 MB/s (anchor-measurements.md), ten times the matching
itself. So every rule is folded, per code point, into one precomputed table
``code point -> normalised code point | DROP``; normalising is then a numpy gather and a
compress. A handful of code points normalise to several characters (``①`` → ``1``, ``ﬁ`` →
``fi``); they are rare, so they take a slower exact path only when present.

The normaliser never returns a span itself: it returns the normalised code points plus what is
needed to map a normalised position back to the original one (``Normalised.to_original``), so
every finding is reported on the text the user wrote.

Rules, in order, per code point: NFKC; lower case; traditional → simplified (character level,
table generated from OpenCC, see ``tools/gen_t2s.py``); then characters that are separators
are dropped. Separators are: whitespace except line breaks, format characters (zero-width
space/joiners, BOM), combining marks, and symbols/punctuation *except* sentence punctuation
(``，。！？；：、`` and ASCII ``,!?;:``) and line breaks, which stay as hard boundaries so that a
word is never assembled across a clause or a line.
"""

from __future__ import annotations

import os
import sys
from bisect import bisect_right

import msgspec
import numpy as np

from fenghuo.checks.normalize_table import (  # noqa: F401 - re-exported: the table's names are imported from here
    ASTRAL_RANGES,
    BOUNDARY_CHARS,
    DROP,
    EXPAND,
    N_CODEPOINTS,
    SEPARATOR_CATEGORIES,
    SPECIAL,
    Tables,
    build_tables,
    decode_quad,
    encode_quad,
    is_separator,
    kept_flags,
    normalise_char,
)

# The dtype as an object, passed positionally: ``np.frombuffer(b, _U4)`` measured 0.17 µs
# against 0.37 µs for ``dtype=np.uint32`` (per 50-character message, paid on every scan).
_U4 = np.dtype(np.uint32)
# ``SPECIAL`` as a 0-d array: ``mapped >= _SPECIAL0`` measured 0.28 µs against 0.62 µs with the
# numpy scalar (per 50-character message; same uint32 comparison, same result).
_SPECIAL0 = np.array(EXPAND, dtype=np.uint32)
_LEAD = 0 if sys.byteorder == "little" else 3  # offset of a code's constant byte (0x80 when kept)
_FEW_DROPS = 8  # drops up to which ``_few_steps`` finds them with bytes searches
BLOCK = 16384  # characters normalised per step of a long text (see ``Normaliser._blocked``)
_ARANGE = np.arange(BLOCK + 1, dtype=np.intp)  # read only: sliced by ``normalise_codes``
_ARANGE.flags.writeable = False
_IDX = np.dtype(np.intp)
_BOOL = np.dtype(np.bool_)


def _load_native():
    """The C kernel (``_textnative.c``: per-character normalisation and the lexicon's scan
    input in one call each), or None: not built (no compiler), or ``FENGHUO_NATIVE=0``, which
    forces the numpy path below (same results, tests/checks/test_text_native.py)."""
    if os.environ.get("FENGHUO_NATIVE", "").strip() == "0":
        return None
    try:
        from fenghuo.checks import _textnative
    except ImportError:
        return None
    return _textnative


NATIVE = _load_native()


def native_kernel(tables: Tables, fused: np.ndarray | None = None):
    """A C kernel over ``tables`` (and the lexicon's ``variants.fused4`` table), or None
    without the native module. It holds the tables' buffers, so they stay alive with it."""
    if NATIVE is None:
        return None
    return NATIVE.Kernel(tables.single, fused)

def _few_steps(lead: bytes, k: int) -> np.ndarray:
    """``Normalised.steps`` of a text with ``k`` dropped characters and no expansion, from the
    codes' constant bytes (``lead``: 0xFF where dropped): the ``j``-th drop at ``i`` is a step
    at normalised position ``i - j``. A few ``bytes.find`` instead of ``nonzero``, an inverted
    mask and a subtraction (50-character messages with a drop: 35 % of COLD cuts)."""
    out, i = [], -1
    for j in range(k):
        i = lead.find(b"\xff", i + 1)
        out.append(i - j)
    return np.array(out, np.intp)


class Normalised(msgspec.Struct, gc=False):
    """Normalised code points of one text and the way back to original character offsets.

    ``codes`` is the normalised text as uint32 values in the matcher's quad form
    (``encode_quad``); ``text()`` decodes it. The map back is piecewise: ``steps`` (sorted
    normalised positions, None when nothing was dropped or expanded) mark where the distance
    between original and normalised index changes; ``shift`` is that distance from each step
    on (None means +1 per step, the drop-only case). Storing only the changes keeps the map
    as small as the number of dropped/expanded characters: the earlier full ``origin`` array
    (``np.repeat`` over the whole text when a single ``‼`` appeared) cost 400 ms per 20 MB.

    A ``msgspec.Struct`` rather than a slots dataclass: one is made per message, and it is
    built in ~0.2 µs instead of ~0.6 µs. ``gc=False``: it holds arrays, bytes and numbers only,
    never part of a reference cycle.
    """

    codes: np.ndarray
    length: int  # original length in characters
    steps: np.ndarray | None = None
    shift: np.ndarray | None = None  # int64[len(steps) + 1], shift[0] == 0
    # The original code points (uint32), when normalised in one piece: the homophone layer
    # gathers from them again, and re-encoding the text cost ~0.6 µs per 50-character message.
    raw: np.ndarray | None = None
    kept: np.ndarray | None = None  # bool per original character, when some were dropped (none expanded)
    # ``codes`` in the matcher's 3-bytes-per-character form (``matcher.pack3``), when a check
    # already made it: the lexicon's scan leaves it for the rules check's prefilter, which
    # would otherwise pack the same codes again (~0.6 µs per 50-character message). A cache
    # on the one message's object: set at most from ``codes`` themselves, so always equal.
    packed: bytes | None = None

    def to_original(self, positions: np.ndarray) -> np.ndarray:
        """Original start index of each normalised position (vectorised)."""
        positions = np.asarray(positions, dtype=np.int64)
        if self.steps is None:
            return positions
        k = np.searchsorted(self.steps, positions, side="right")
        return positions + (k if self.shift is None else self.shift[k])

    def to_original_list(self, positions: list[int]) -> list[int]:
        """``to_original`` for a few positions, in plain Python (no numpy call overhead)."""
        if self.steps is None:
            return positions
        steps = self.steps.tolist()
        if self.shift is None:
            return [p + bisect_right(steps, p) for p in positions]
        shift = self.shift.tolist()
        return [p + shift[bisect_right(steps, p)] for p in positions]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original ``[start, end)`` covering normalised ``[start, end)`` (end > start)."""
        a, b = self.to_original(np.array([start, end - 1]))
        return int(a), int(b) + 1

    def text(self) -> str:
        return decode_quad(self.codes).tobytes().decode("utf-32-le", "surrogatepass")


class Normaliser:
    """Applies the folded table. Thread-safe: it holds only read-only arrays."""

    def __init__(self, t2s: bool = True, fold_case: bool = True, drop_separators: bool = True) -> None:
        self.options = (t2s, fold_case, drop_separators)
        self.tables = build_tables(t2s, fold_case, drop_separators)
        self.flags = kept_flags(self.tables)
        self._kernel = native_kernel(self.tables)
        multi = self.tables.multi
        # Expansions as arrays (sorted keys, lengths, offsets into one pool of quad codes), so
        # a text with many of them (a line of ①②③) is still handled in whole-array steps.
        self._mkeys = np.array(sorted(multi), dtype=np.uint32)
        self._mlen = np.array([len(multi[k]) for k in sorted(multi)], dtype=np.int64)
        self._moff = np.concatenate([[0], np.cumsum(self._mlen)[:-1]]).astype(np.int64) if multi else np.empty(0, np.int64)
        pool = "".join(multi[k] for k in sorted(multi))
        self._mpool = encode_quad(np.frombuffer(pool.encode("utf-32-le", "surrogatepass"), dtype=np.uint32))

    def codes(self, text: str) -> np.ndarray:
        return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), _U4)

    def normalise(self, text: str) -> Normalised:
        kernel = self._kernel
        if kernel is not None and len(text) <= BLOCK:
            # ``normalise_codes(codes(text))`` in one C pass over the str's own storage
            # (no UTF-32 encode, gather, bytes search or boolean index): per 50-character
            # COLD cut 5.8-7.8 -> 2.3-3.8 µs thread CPU, 0.36-0.52x in alternating fresh
            # processes (bench/checks_short.py ``_SHORT_HISTORY``). None: an expansion.
            got = kernel.normalise(text)
            if got is not None:
                both, steps, kept = got
                a = np.frombuffer(both, _U4)  # raw, then codes: one frombuffer, two slices
                n = len(text)
                if steps is None:
                    return Normalised(a[n:], n, raw=a[:n])
                return Normalised(a[n:], n, np.frombuffer(steps, _IDX), None, a[:n], np.frombuffer(kept, _BOOL))
        if len(text) <= BLOCK:  # ``codes`` inlined: one Python call fewer per message
            # Without an error handler first: naming one takes the codec's slow path (~0.5 µs
            # more per 50-character message); only a lone surrogate needs ``surrogatepass``.
            try:
                b = text.encode("utf-32-le")
            except UnicodeEncodeError:
                b = text.encode("utf-32-le", "surrogatepass")
            return self.normalise_codes(np.frombuffer(b, _U4))
        return self._blocked(text)

    def _blocked(self, text: str) -> Normalised:
        """A long text block by block, so that the intermediate arrays stay in the CPU cache.

        Whole-array numpy on a 20 MB text streams ~6 arrays of 28 MB through memory; in
        16k-character blocks the same work measured 2.6× faster (47 vs 123 ms CPU), more so
        on a machine whose memory bandwidth is shared. Each block goes through ``normalise``,
        so through the C kernel when it is built. Each block is normalised on its own
        (no rule looks at a neighbour), then the pieces and their maps back are joined.
        """
        # Written straight into one array (no final concatenate) while nothing expands, which
        # is all but guaranteed: only an expansion can make the output longer than the input.
        out = np.empty(len(text), dtype=np.uint32)
        parts: list[np.ndarray] | None = None
        blocks: list[tuple[int, int, Normalised]] = []  # (original start, normalised start, block)
        fill = 0
        for i in range(0, len(text), BLOCK):
            b = self.normalise(text[i : i + BLOCK])  # one block: the C kernel when built
            m = b.codes.size
            if parts is None and fill + m > out.size:
                parts = [out[:fill]]
            if parts is None:
                out[fill : fill + m] = b.codes
            else:
                parts.append(b.codes)
            if b.steps is not None:
                blocks.append((i, fill, b))
            fill += m
        codes = out[:fill] if parts is None else np.concatenate(parts)
        if not blocks:
            return Normalised(codes, len(text))
        if all(b.shift is None for _, _, b in blocks):  # drops only: steps are global as is
            return Normalised(codes, len(text), np.concatenate([b.steps + f for _, f, b in blocks]))
        # General case: from each block's start the distance is (original - normalised start),
        # plus that block's own shifts.
        steps, shift = [], [np.zeros(1, np.int64)]
        for i, f, b in blocks:
            local = b.shift[1:] if b.shift is not None else np.arange(1, b.steps.size + 1)
            steps += [np.array([f]), b.steps + f]
            shift += [np.array([i - f]), local + (i - f)]
        return Normalised(codes, len(text), np.concatenate(steps), np.concatenate(shift))

    def normalise_codes(self, raw: np.ndarray) -> Normalised:
        # Fast path first: one gather and one comparison decide that nothing is dropped or
        # expanded, which is the common case for short clean messages.
        # (Each numpy call costs ~1 µs on a 1 KB message, so the op count matters.)
        # (``take``, ``nonzero()[0]`` and ``min`` rather than ``[]``, ``flatnonzero`` and
        # ``== .any()``: measured 2 µs less per 1 KB message.)
        mapped = self.tables.single.take(raw)
        # Nothing dropped or expanded? A kept code's bytes are 0x80, 0x80..0xC3, then two more
        # (``encode_quad``), so three 0xFF bytes in a row occur exactly when DROP (FF FF FF FF)
        # or EXPAND (FE FF FF FF, little-endian) is there: a bytes search of a 200-byte copy
        # instead of a comparison and ``nonzero`` (~0.3 vs ~0.6 µs per 50-character message).
        tb = mapped.tobytes()
        if b"\xff\xff\xff" not in tb:
            return Normalised(mapped, raw.size, raw=raw)
        # Each code's constant byte says what it is: 0x80 kept, 0xFF dropped (DROP), 0xFE
        # expanded (EXPAND): one strided copy of the bytes answers "an expansion?" and counts
        # the drops without a comparison and ``nonzero`` (``_few_steps``).
        lead = tb[_LEAD::4]
        if b"\xfe" in lead:
            special = mapped >= _SPECIAL0
            return self._expand(raw, mapped, special, special.nonzero()[0])
        kept = mapped < _SPECIAL0
        k = lead.count(b"\xff")
        if k <= _FEW_DROPS:
            steps = _few_steps(lead, k)
        else:  # a slice of a ready ``arange`` (0.44 vs 0.72 µs with ``np.arange`` per call)
            steps = (~kept).nonzero()[0] - (_ARANGE[:k] if k <= BLOCK else np.arange(k))
        return Normalised(mapped[kept], raw.size, steps, None, raw, kept)

    def _expand(self, raw: np.ndarray, mapped: np.ndarray, special: np.ndarray, sp: np.ndarray) -> Normalised:
        """Texts containing one-to-many characters (``①``, ``ﬁ``): whole-array, but only the
        special positions ``sp`` get per-character work."""
        is_exp = mapped[sp] == EXPAND
        k = np.searchsorted(self._mkeys, raw[sp[is_exp]])
        lens = np.zeros(sp.size, dtype=np.int64)
        lens[is_exp] = self._mlen[k]
        # Normalised position where each special original character starts.
        q = sp + np.concatenate([[0], np.cumsum(lens - 1)[:-1]])
        # Output: kept characters, with each expansion inserted where its character was.
        exp_lens = lens[is_exp]
        pool_idx = np.repeat(self._moff[k] - np.cumsum(exp_lens) + exp_lens, exp_lens) + np.arange(exp_lens.sum())
        ins_at = np.repeat(sp[is_exp] - np.flatnonzero(is_exp), exp_lens)
        out = np.insert(mapped[~special], ins_at, self._mpool[pool_idx])
        # Map back: a drop at q adds +1 from q on; an expansion of length L maps q+1..q+L-1
        # back onto the same original character (-1 at each).
        drop_q = q[~is_exp]
        exp_q = np.repeat(q[is_exp], exp_lens - 1)
        first = np.repeat(np.cumsum(exp_lens - 1) - (exp_lens - 1), exp_lens - 1)
        exp_q = exp_q + 1 + (np.arange(exp_q.size) - first)
        steps = np.concatenate([drop_q, exp_q])
        delta = np.concatenate([np.ones(drop_q.size, np.int64), -np.ones(exp_q.size, np.int64)])
        order = np.argsort(steps, kind="stable")
        shift = np.concatenate([[0], np.cumsum(delta[order])])
        return Normalised(out.astype(np.uint32, copy=False), raw.size, steps[order], shift, raw)

    def normalise_text(self, text: str) -> str:
        """Normalised text as a string (used for lexicon words and tests)."""
        return self.normalise(text).text()


_DEFAULT: Normaliser | None = None


def default_normaliser() -> Normaliser:
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = Normaliser()
    return _DEFAULT
