"""Dictionary words of a normalised text, for word features beside the character n-grams
(issue 12, session 8; docs/checks.md "Session 8: word features for the offensive head").

A ``WordTable`` holds words of 2-4 normalised characters in a direct-mapped hash table: a
word's key is the Horner polynomial of its codes (``c0·P + c1``, then ``·P + c2`` …, mod 2^64),
mixed by a multiply; the top ``bits`` of the mixed key pick a slot, whose entry holds the low 32 bits of the key (the tag) and the
word's id. A lookup of every 2-, 3- and 4-gram of a message is then a few whole-array steps,
and the same table drives a C loop (one probe per n-gram, no allocation).

``segment`` is forward maximum matching (FMM): from the left, the longest table word starting
at the current position, else one character. Why FMM and not every overlapping word: on COLD
(5-fold cross-validation over its train.csv, ~25,000 rows) FMM words beside the char 1-3-grams
raised the offensive head's recall at 3 % of harmless rows flagged by 1.8 ± 0.6 points (this
table's form: 1.5 ± 0.6), like jieba's own segmentation (1.4-1.8), while every overlapping
dictionary word gained 0.6-0.8: a word inside a longer one (人大 in 河南人大部分) is the noise
segmentation removes. 95 % of jieba's dictionary is 2-4 characters long, so longer words are
left out.

Two words of a table can share a slot; the one inserted later is dropped (``dropped``), so
callers insert the most frequent first. Training and scoring must use the same table: which
words it holds changes the segmentation, not only which words are counted — so a model that
reads words carries its table (``Model.words``, format 4; ``word_matrix`` makes the training
rows, ``seen_words`` picks the dictionary words a training set holds). Scoring walks the table
in C (``_clfnative.c``: ``fmm_block``); ``segment_words`` here is the definition it is tested
against and the fallback.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

MIN_LEN, MAX_LEN = 2, 4
_P = np.uint64(1000003)
_MIX = np.uint64(0xD6E8FEB86659FD93)  # not features._MIX: word slots are not n-gram buckets
_U32 = np.dtype(np.uint32)
_U64 = np.dtype(np.uint64)
_EMPTY = np.uint64(0)
_32, _LOW = np.uint64(32), np.uint64(0xFFFFFFFF)


def gram_keys(codes: np.ndarray) -> np.ndarray:
    """Mixed keys (uint64) of every 2-, 3- and 4-gram of ``codes`` (uint32), in one array:
    the ``n − 1`` 2-grams by start, then the ``n − 2`` 3-grams, then the ``n − 3`` 4-grams."""
    n = codes.size
    c = np.asarray(codes, _U32).astype(_U64)
    m2, m3, m4 = max(n - 1, 0), max(n - 2, 0), max(n - 3, 0)
    buf = np.empty(m2 + m3 + m4, _U64)
    if m2:
        k2 = buf[:m2]
        np.multiply(c[:-1], _P, out=k2)
        k2 += c[1:]
        if m3:
            k3 = buf[m2 : m2 + m3]
            np.multiply(k2[:-1], _P, out=k3)
            k3 += c[2:]
            if m4:
                k4 = buf[m2 + m3 :]
                np.multiply(k3[:-1], _P, out=k4)
                k4 += c[3:]
    buf *= _MIX  # unsigned integer ufuncs wrap around silently
    return buf


class WordTable:
    """Words of 2-4 normalised characters → ids 0..len-1, found by n-gram key."""

    def __init__(self, words: Iterable[str] = (), bits: int = 18, normaliser=None):
        if not 8 <= bits <= 26:
            raise ValueError(f"bits must be 8..26, got {bits}")
        from fenghuo.checks.normalize import default_normaliser

        norm = normaliser or default_normaliser()
        self.bits = bits
        self._shift = np.uint64(64 - bits)
        # One uint64 per slot: tag (the key's low 32 bits) << 32 | (id + 1); 0 = empty.
        self.entries = np.zeros(1 << bits, _U64)
        self.words: list[str] = []
        self.dropped = 0
        for w in words:
            c = norm.normalise(w).codes
            if not MIN_LEN <= c.size <= MAX_LEN:
                continue
            k = int(gram_keys(c)[-1])  # the whole word's key: the last one computed
            slot = k >> (64 - bits)
            if self.entries[slot] != _EMPTY:
                self.dropped += 1  # a slot collision (or the same word twice)
                continue
            self.entries[slot] = np.uint64(((k & 0xFFFFFFFF) << 32) | (len(self.words) + 1))
            self.words.append(norm.normalise_text(w))

    def __len__(self) -> int:
        return len(self.words)

    def _hits(self, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(word id or −1, per n-gram in ``gram_keys`` order) and the n-gram count per length."""
        keys = gram_keys(codes)
        e = self.entries.take((keys >> self._shift).view(np.int64))
        ok = (e >> _32) == (keys & _LOW)
        ids = (e & _LOW).view(np.int64) - 1
        return np.where(ok, ids, -1), tuple(max(codes.size - k, 0) for k in (1, 2, 3))

    def all_words(self, codes: np.ndarray) -> np.ndarray:
        """Ids of every table word occurring in ``codes``, overlapping, with repetition."""
        if codes.size < MIN_LEN:
            return np.empty(0, np.int64)
        ids, _ = self._hits(codes)
        return ids[ids >= 0]

    def longest(self, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per position: the length of the longest table word starting there (1 if none), and
        that word's id (−1 if none)."""
        n = codes.size
        length = np.ones(n, np.int64)
        wid = np.full(n, -1, np.int64)
        if n < MIN_LEN:
            return length, wid
        ids, sizes = self._hits(codes)
        start = 0
        for k, m in zip((2, 3, 4), sizes):  # shorter first: a longer word overwrites
            seg = ids[start : start + m]
            hit = seg >= 0
            length[:m][hit] = k
            wid[:m][hit] = seg[hit]
            start += m
        return length, wid

    def segment(self, codes: np.ndarray) -> list[tuple[int, int]]:
        """Forward maximum matching: ``(start, length)`` of every token, words and single
        characters, covering ``codes`` left to right."""
        length, _ = self.longest(codes)
        out, i, steps, n = [], 0, length.tolist(), codes.size
        while i < n:
            out.append((i, steps[i]))
            i += steps[i]
        return out

    def segment_words(self, codes: np.ndarray) -> np.ndarray:
        """Ids of the table words of the FMM segmentation, in order (the word features)."""
        length, wid = self.longest(codes)
        steps, n, i, out = length.tolist(), codes.size, 0, []
        while i < n:  # sequential: ~85 µs per KB here, a C loop ~4 µs (bench/checks_wordfeatures.py --cost)
            if steps[i] > 1:
                out.append(i)
            i += steps[i]
        return wid.take(out) if out else np.empty(0, np.int64)

    def distinct_words(self, codes: np.ndarray) -> list[int]:
        """The distinct ids of ``segment_words``, in order of first appearance (what a model
        scores; a Python set beats ``np.unique`` on the few dozen words of a message)."""
        length, wid = self.longest(codes)
        steps, ids, n, i = length.tolist(), wid.tolist(), codes.size, 0
        seen: dict[int, None] = {}
        while i < n:
            if steps[i] > 1:
                seen[ids[i]] = None
            i += steps[i]
        return list(seen)

    def save(self, path: Path) -> Path:
        np.savez_compressed(path, entries=self.entries, words=np.array(self.words), bits=np.array(self.bits))
        return Path(path)

    @classmethod
    def from_arrays(cls, entries: np.ndarray, words: list[str]) -> WordTable:
        """The table as a model file stores it: its slots and its words in id order."""
        entries = np.ascontiguousarray(entries, _U64)
        bits = int(entries.size).bit_length() - 1
        if entries.ndim != 1 or entries.size != 1 << bits or not 8 <= bits <= 26:
            raise ValueError(f"a word table needs 2**8..2**26 slots, got {entries.shape}")
        t = cls((), bits)
        t.entries, t.words = entries, list(words)
        return t

    @classmethod
    def load(cls, path: Path) -> WordTable:
        with np.load(path, allow_pickle=False) as z:
            t = cls((), int(z["bits"]))
            t.entries = z["entries"].astype(_U64)
            t.words = [str(w) for w in z["words"]]
        return t


def word_matrix(table: WordTable, code_arrays: list[np.ndarray]):
    """Training rows of word features (scipy CSR, ``len(codes) × len(table)``): each distinct
    word of a row's FMM segmentation, valued 1/sqrt(the row's number of distinct words) — what
    ``Model.word_logits`` and the C kernel score."""
    import scipy.sparse as sp

    indptr, cols, vals = [0], [], []
    for codes in code_arrays:
        u = np.unique(table.segment_words(codes))
        cols.append(u)
        vals.append(np.full(u.size, 1.0 / np.sqrt(max(u.size, 1))))
        indptr.append(indptr[-1] + u.size)
    data = np.concatenate(vals) if vals else np.empty(0)
    idx = np.concatenate(cols) if cols else np.empty(0, np.int64)
    return sp.csr_matrix((data, idx, np.array(indptr)), shape=(len(code_arrays), max(len(table), 1)))


def seen_words(words: Iterable[str], code_arrays: list[np.ndarray], normaliser=None) -> list[str]:
    """Those of ``words`` (2-4 normalised characters) that occur anywhere in the normalised
    ``code_arrays``, normalised, in the given order without repeats: a table of the words a
    training set can weigh (36k of jieba's 340k on the shipped model's rows, so 2^18 slots)."""
    from fenghuo.checks.normalize import default_normaliser

    norm = normaliser or default_normaliser()
    seen = np.unique(np.concatenate([gram_keys(np.asarray(c, _U32)) for c in code_arrays] or [np.empty(0, _U64)]))
    texts, keys = [], []
    for w in words:
        c = norm.normalise(w).codes
        if MIN_LEN <= c.size <= MAX_LEN:
            texts.append(norm.normalise_text(w))
            keys.append(gram_keys(c)[-1])
    hit = np.isin(np.array(keys, _U64), seen)
    return list(dict.fromkeys(t for t, h in zip(texts, hit.tolist()) if h))


def jieba_dictionary() -> Path:
    """jieba's bundled dictionary file (jieba is a dependency): its sha256 goes in the manifest."""
    import jieba

    return Path(jieba.__file__).parent / "dict.txt"


def jieba_words(min_len: int = MIN_LEN, max_len: int = MAX_LEN) -> list[str]:
    """jieba's bundled dictionary (a dependency), most frequent first, ``min_len``..``max_len``
    characters with a Han character: the order to insert into a ``WordTable``."""
    rows = []
    for line in jieba_dictionary().read_text(encoding="utf-8").splitlines():
        parts = line.split(" ")
        if len(parts) >= 2 and min_len <= len(parts[0]) <= max_len and any("\u4e00" <= ch <= "\u9fff" for ch in parts[0]):
            rows.append((-int(parts[1]), parts[0]))
    rows.sort()
    return [w for _, w in rows]
