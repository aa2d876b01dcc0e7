"""The trained model: a weight per hashed n-gram bucket and category, a bias and a threshold per
category, and how features were made.

One linear model per category (one-vs-rest) over the same features, stored as one matrix
``weights[bucket, category]``, so scoring every category is one gather of the message's
n-gram rows and one vector-matrix product (measured 8.6 µs for 13 categories vs 4.4 µs for one
on a 1 KB message; the n-grams themselves cost ~7 µs). Training weights features by their
naive-Bayes log-count ratio before the logistic regression (NB-LR; measured +0.5–1 point
accuracy on COLD dev over plain LR); both factors are multiplied into ``weights`` at save
time, so a category's score is ``sigmoid(bias + sum(w[g]) / sqrt(|g|))``.

With the C kernel built (``fenghuo.checks._clfnative``, ``make native``) a message is scored in
one call (``logits_hits``): the per-call cost of numpy, not arithmetic, was the cost on a chat
message; the numpy paths remain as the fallback (``FENGHUO_NATIVE=0``) and the definition.

Stored as float16 (half the file; the load converts to float32 because numpy sums float16 in
software, 17.6 vs 7.4 µs); ``thresholds`` are calibrated per category at training time.

A model may carry a word table (format 4, issue 12 session 9; ``classifier/words.py``): the
distinct table words of the text's forward-maximum-matching segmentation add
``sum(word_weights[w]) / sqrt(|w|)`` to the logits. Why: on COLD, words beside the char n-grams
rank offensive rows better at a 3 % false-positive rate (docs/checks.md, "Session 8" and
"Session 9"); a model without one is saved as format 3, which older readers still take.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fenghuo.checks.classifier import features
from fenghuo.checks.classifier.features import ngram_buckets, window_buckets
from fenghuo.checks.classifier.words import WordTable
from fenghuo.platform.paths import data_dir

# Format 3: a weight matrix with named categories and per-category thresholds. Format 2 (one
# weight vector, the same n-gram keys) still loads as a one-category model; format 1 used other
# n-gram keys, so it is refused with a request to retrain.
# Format 4 adds a word table (``word_entries``, ``word_list``, ``word_weights``); a model without
# one is still written as format 3.
FORMAT = "fenghuo-classifier-3"
FORMAT_WORDS = "fenghuo-classifier-4"
_READABLE = {"fenghuo-classifier-2", FORMAT, FORMAT_WORDS}
_ONES = np.ones(1 << 14, dtype=np.float32)  # covers a ~5 KB message's n-grams; longer ones use sum()
_U32 = np.dtype(np.uint32)
_F64 = np.dtype(np.float64)
# Texts up to this many codes take the fast path: numpy's integer matmul has no BLAS and grows
# faster than the reference's elementwise passes (interleaved A/B, fast ÷ reference: 0.75 at 50
# codes, 0.93 at 200, 0.99 at ~245, 1.02 at ~290; 24 vs 21 µs at 600).
_FAST_MAX = 256  # its scale vectors are cached per length: at most ~0.8 MB


def default_model_path() -> Path:
    return data_dir() / "models" / "classifier.npz"


def shipped_model_path() -> Path:
    """The multi-category model built by `make models` and shipped in the package."""
    from importlib import resources

    return Path(str(resources.files("fenghuo.checks").joinpath("shipped/classifier.npz")))


class ModelError(ValueError):
    """A model file that cannot be used; the message is one line naming the file."""


@dataclass
class Model:
    weights: np.ndarray  # float32[2**bits, K] (a 1-D vector is taken as K = 1)
    bias: np.ndarray | float  # float[K]
    max_n: int
    bits: int
    meta: dict
    categories: list[str] = field(default_factory=lambda: ["offensive"])
    thresholds: dict[str, float] = field(default_factory=dict)
    words: WordTable | None = None  # the word table, or None (char n-grams only)
    word_weights: np.ndarray | None = None  # float32[len(words), K]

    def __post_init__(self) -> None:
        w = np.asarray(self.weights, dtype=np.float32)
        self.weights = w.reshape(-1, 1) if w.ndim == 1 else w  # _bind_table copies it into the table
        self.bias = np.asarray(self.bias, dtype=np.float64).reshape(-1)
        if self.weights.shape[1] != len(self.categories) or self.bias.size != len(self.categories):
            raise ModelError(f"model has {self.weights.shape[1]} weight columns, {self.bias.size} biases and {len(self.categories)} categories / 模型维度不一致")
        if (self.words is None) != (self.word_weights is None):
            raise ModelError("a word table needs its word weights and the other way round / 词表与词权重须同时给出")
        if self.words is not None and np.shape(self.word_weights) != (len(self.words), len(self.categories)):
            raise ModelError(f"word weights {np.shape(self.word_weights)} do not fit {len(self.words)} words x {len(self.categories)} categories / 词权重维度不一致")
        self._bind_table()

    def _bind_table(self) -> None:
        """The weights with the bias as one more row (``table[2**bits]``), for the fast path:
        ``weights`` becomes a view of the table's other rows (no second copy), so in-place
        edits of ``weights`` reach the table; assigning a new ``weights`` or ``bias`` rebuilds it
        at the next message (the identity test in ``logits_codes``)."""
        w = np.asarray(self.weights, dtype=np.float32)
        w = w.reshape(-1, 1) if w.ndim == 1 else w
        self.bias = np.asarray(self.bias, dtype=np.float64).reshape(-1)
        rows, k = w.shape[0] + 1, w.shape[1]
        # Rows padded with zeros to a power of two (16 floats for 13 categories: 64 bytes) in
        # a 64-byte-aligned table, so a gathered row is one cache line, not ~1.8 (52-byte rows
        # straddle lines): the gather of a 1 KB message's ~1,000 rows measured 7.5-8.2 -> 5.9-6.5 µs.
        kp = 1 << (k - 1).bit_length() if k <= 16 else -(-k // 16) * 16
        raw = np.zeros(rows * kp + 16, np.float32)
        start = (-raw.ctypes.data % 64) // 4
        table = raw[start : start + rows * kp].reshape(rows, kp)
        table[:-1, :k] = w
        table[-1, :k] = self.bias
        self.weights = table[:-1, :k]  # a view: no second copy of the weights
        wtable = wcols = None
        if self.words is not None:
            self.word_weights = np.ascontiguousarray(self.word_weights, np.float32).reshape(len(self.words), k)
            # Only the categories with word weights (the shipped model: offensive), one float
            # each per word: a 64-byte row per word would make the word rows 2.3 MB to fetch from.
            wcols = np.flatnonzero(np.any(self.word_weights != 0, axis=0)).tolist()
            wtable = np.ascontiguousarray(self.word_weights[:, wcols]) if wcols else None
        # The C kernel holds the tables and ``bias`` (buffer protocol, no copy): in-place edits
        # of ``weights`` and ``bias`` reach it (assign new word weights: the kernel has a copy of
        # their nonzero columns). None without the kernel, or for a table it does not take (a
        # kernel built before word tables leaves a model with one to numpy).
        score = None
        if features.NATIVE is not None and (wtable is None or hasattr(features.NATIVE, "fmm_words")):
            try:
                extra = () if wtable is None else (self.words.entries, wtable, wcols)
                score = features.NATIVE.Scorer(table, self.bias, self.bits, self.max_n, *extra).score
            except (TypeError, ValueError, BufferError):
                score = None
        self._table = (table, self.weights, self.bias, score, wtable, self.word_weights)
        self._scales: dict[int, np.ndarray] = {}

    def _current(self) -> tuple:
        """``(table, weights, bias, native score or None)``, rebound if ``weights`` or ``bias``
        was assigned since."""
        t = self._table
        if t[1] is not self.weights or t[2] is not self.bias or t[5] is not self.word_weights:
            self._bind_table()
            t = self._table
        return t

    @property
    def native(self) -> bool:
        """Whether this model scores with the C kernel (``fenghuo.checks._clfnative``)."""
        return self._current()[3] is not None

    def _scale(self, n: int) -> np.ndarray:
        """The vector ``logits_codes`` multiplies the gathered rows by for ``n`` codes: 1/sqrt of
        the n-gram count for each n-gram, 0 for the two padding entries, 1 for the bias row."""
        v = np.full(3 * n, 1.0 / math.sqrt(3 * n - 3), np.float32)
        v[3 * n - 4] = v[3 * n - 2] = 0.0
        v[3 * n - 1] = 1.0
        self._scales[n] = v
        return v

    def logits_codes(self, codes: np.ndarray) -> np.ndarray:
        """Per-category logits for normalised codes (uint32): float64[K] from the C kernel
        (``logits_hits``), else ``logits_numpy``'s (float32 up to ``_FAST_MAX`` codes)."""
        score = self._current()[3]
        if score is not None:
            try:
                return np.frombuffer(score(codes)[0], _F64)  # a bytearray: the array is writable
            except (TypeError, ValueError, BufferError):
                pass  # not 4-byte items, or not contiguous: numpy converts them
        return self.logits_numpy(codes)

    def logits_hits(self, codes: np.ndarray, cut: bytes) -> tuple | None:
        """``(logits, hits)`` from the C kernel in one call: the logits as a bytearray of K
        float64 (``memoryview(z).cast("d")`` reads them), ``hits`` the tuple of categories ``k``
        with ``logits[k] >= cut[k]`` (``cut``: K float64, e.g. ``array.tobytes()``). None when
        the kernel is not there or does not take ``codes``: the caller uses ``logits_codes``.

        Per 50-character COLD dev cut the call is ~0.9-1.1 µs of ``find_in``'s ~2.9 µs (thread
        CPU at load 10; the numpy path's find_in: ~16 µs), per ~1 KB cut ~15 of ~20 µs (~2,900 rows
        gathered from a 16.8 MB table: memory-bound). The sum is float32 per
        block of ≤ 63 rows, added in float64: within 1e-7 of an exact float64 sum where numpy's
        float32 sums are within 1e-4 (tests/checks/test_classifier_native.py)."""
        t = self._table
        if t[1] is not self.weights or t[2] is not self.bias or t[5] is not self.word_weights:
            t = self._current()
        score = t[3]  # the identity test inlined: a Python call fewer per message (~0.1 µs)
        if score is None:
            return None
        try:
            return score(codes, cut)
        except (TypeError, ValueError, BufferError):
            return None

    def logits_numpy(self, codes: np.ndarray) -> np.ndarray:
        """Per-category logits (float32[K]) without the C kernel.

        Fast path (trigram models, 3 to ``_FAST_MAX`` codes): one matmul hashes every n-gram
        (``window_buckets``), the entry at the end that is not an n-gram is pointed at the bias
        row, and one gather and one vector-matrix product with a cached scale vector give
        ``bias + sum(w[g]) / sqrt(|g|)`` — 8 numpy calls where ``logits_reference`` takes ~16:
        measured 7.3 → 5.0 µs per 50-character message. The float32 sum runs in another order
        and the bias is rounded to float32: on COLD dev texts the logits stay within 1.5e-5 of an
        exact float64 sum, as the reference's do (1.9e-5), and no finding changed
        (tests/checks/test_classifier_fast.py). Other texts: ``logits_reference`` (float64)."""
        n = codes.size
        if n < 3 or n > _FAST_MAX or self.max_n != 3 or codes.dtype != _U32:
            return self.logits_reference(codes)
        table = self._current()[0]
        g = window_buckets(codes, self.bits)
        g[-1] = table.shape[0] - 1  # padding entry -> the bias row
        v = self._scales.get(n)
        if v is None:
            v = self._scale(n)
        z = v.dot(table.take(g, axis=0))[: self.bias.size]
        return z if self.words is None else z + self.word_logits(codes).astype(np.float32)

    def logits_reference(self, codes: np.ndarray) -> np.ndarray:
        """Per-category logits (float64[K]) the plain way: ``ngram_buckets``, a gather, a sum."""
        if codes.size == 0:
            return self.bias
        table = self._current()[0]
        g = ngram_buckets(codes, self.max_n, self.bits)
        rows = table.take(g, axis=0)  # the padded table: whole rows (``weights`` is a strided view)
        # The column sums as a product with ones (BLAS): numpy's reduction machinery costs more
        # than the sum itself on ~1000 rows (measured 2.0 vs 2.8 µs for one column).
        total = _ONES[: g.size].dot(rows) if g.size <= _ONES.size else rows.sum(0)
        z = self.bias + total[: self.bias.size] / math.sqrt(g.size)
        return z if self.words is None else z + self.word_logits(codes)

    def word_logits(self, codes: np.ndarray) -> np.ndarray:
        """The word table's share of the logits (float64[K]; zeros without a table): the rows
        of the distinct words of the FMM segmentation, summed, over sqrt(their number). The
        definition the C kernel follows (``sum_words`` in _clfnative.c)."""
        if self.words is None:
            return np.zeros(self.bias.size)
        ids = self.words.distinct_words(np.ascontiguousarray(codes, _U32))
        if not ids:
            return np.zeros(self.bias.size)
        return self._current()[5].take(ids, axis=0).astype(np.float64).sum(0) / math.sqrt(len(ids))

    def probs_codes(self, codes: np.ndarray) -> np.ndarray:
        z = np.clip(self.logits_codes(codes).astype(np.float64), -700.0, 700.0)  # float32 would overflow exp
        return 1.0 / (1.0 + np.exp(-z))

    def score_codes(self, codes: np.ndarray) -> float:
        """The highest category probability (for a one-category model: its probability)."""
        return float(self.probs_codes(codes).max())

    def save(self, path: Path, dtype=np.float16) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp.npz")
        meta = dict(
            self.meta, format=FORMAT, max_n=self.max_n, bits=self.bits, bias=[float(b) for b in self.bias],
            categories=list(self.categories), thresholds={c: float(t) for c, t in self.thresholds.items()},
            dtype=np.dtype(dtype).name,
        )  # fmt: skip
        w = self.weights.astype(dtype)
        arrays = {}
        meta.pop("words", None)
        if self.words is not None:
            meta |= {"format": FORMAT_WORDS, "words": {"count": len(self.words), "bits": self.words.bits}}
            arrays = {"word_entries": self.words.entries, "word_list": np.array(self.words.words, dtype=str), "word_weights": self.word_weights.astype(dtype)}
        if dtype == np.float16 and not all(np.isfinite(a).all() for a in (w, arrays.get("word_weights", w))):
            raise ModelError("weights overflow float16; save with dtype=np.float32 / 权重超出 float16 范围")
        np.savez_compressed(tmp, weights=w, meta=np.array(json.dumps(meta, ensure_ascii=False, sort_keys=True)), **arrays)
        tmp.replace(path)  # atomic: a running guard never reads a half-written model
        return path

    @classmethod
    def load(cls, path: Path) -> Model:
        path = Path(path)
        if not path.is_file():
            raise ModelError(f"{path}: no such classifier model; train one with `fenghuo classifier train --data DIR` or use `model: shipped` / 未找到分类器模型")
        try:
            with np.load(path, allow_pickle=False) as z:
                meta = json.loads(str(z["meta"]))
                weights = z["weights"].astype(np.float32)
                words = word_weights = None
                if meta.get("format") == FORMAT_WORDS:
                    words = WordTable.from_arrays(z["word_entries"], [str(w) for w in z["word_list"]])
                    word_weights = z["word_weights"].astype(np.float32)
        except (ValueError, KeyError, OSError, EOFError) as exc:
            raise ModelError(f"{path}: not a fenghuo classifier model ({type(exc).__name__}) / 模型文件无效") from None
        if meta.get("format") not in _READABLE or weights.shape[0] != 1 << int(meta.get("bits", -1)):
            raise ModelError(f"{path}: unsupported model format {meta.get('format')!r}; retrain with `fenghuo classifier train` / 模型格式不支持，请重新训练")
        cats = list(meta.get("categories") or ["offensive"])
        return cls(weights, meta["bias"], int(meta["max_n"]), int(meta["bits"]), meta, cats, dict(meta.get("thresholds") or {}), words, word_weights)
