"""The shipped context model: two linear heads over hashed character n-grams.

- the *prompt* head: one weight column per output — ``harm`` (does the prompt ask for harm?)
  and one per TC260-003 risk code with enough training questions — over the prompt's n-grams;
- the *answer* head: one column, ``comply`` (read as a reply to a harmful request, does the
  answer comply?), over the answer's n-grams.

Same n-gram definition as the text classifier (:mod:`fenghuo.checks.classifier.features`, on
the normalised code points), same NB-LR weighting folded into the weights at build time, so a
score is ``sigmoid(bias + sum(w[g]) / sqrt(|g|))``. Stored as float16 (half the file), scored
as float32 (numpy sums float16 in software). Built by ``fenghuo.checks.build.context``.
"""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from fenghuo.checks.classifier import features
from fenghuo.checks.classifier.features import ngram_buckets

FORMAT = "fenghuo-context-1"
_ONES = np.ones(1 << 14, dtype=np.float32)
_LOGIT = struct.Struct("d")  # the kernel's one float64 logit, read without numpy (~0.1 µs)


def shipped_context_path() -> Path:
    return Path(str(resources.files("fenghuo.checks").joinpath("shipped/context.npz")))


class ContextModelError(ValueError):
    """A context model file that cannot be used; the message names the file."""


def _sigmoid1(z: float) -> float:
    # math, not numpy: np.clip + np.exp on one value cost ~7 µs a call (measured), math ~0.1 µs.
    return 1.0 / (1.0 + math.exp(-z)) if z > -700.0 else 0.0


def _sigmoid_list(z: np.ndarray) -> list[float]:
    # ``tolist`` gives Python floats at once: ``float(x)`` per numpy scalar cost ~0.3 µs each
    # (15 columns on every harmful prompt). The same doubles, so the same probabilities.
    return [_sigmoid1(x) for x in np.asarray(z, dtype=np.float64).ravel().tolist()]


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return np.array(_sigmoid_list(z))


@dataclass
class Head:
    """A linear model over hashed n-grams with one or more output columns."""

    weights: np.ndarray  # float32[2**bits, K]
    bias: np.ndarray  # float64[K]
    columns: list[str]
    max_n: int
    bits: int

    def __post_init__(self) -> None:
        # The first column alone, contiguous: the judge needs only it on most calls (harm, or
        # comply), and a 1-D gather + dot is several times cheaper than gathering K columns.
        self.first = np.ascontiguousarray(self.weights[:, 0])
        self.first_bias = float(self.bias[0])  # a Python float once, not a numpy scalar per call
        # The classifier's C kernel (features.NATIVE, ``make native``) over the first column as a
        # one-column table: the same n-grams and buckets (its ``bits`` and ``max_n`` are
        # parameters), hashed, gathered and summed in one call. None without the kernel or with
        # FENGHUO_NATIVE=0 (read here, at load, like the classifier's Model).
        self.native_score = None
        if features.NATIVE is not None:
            try:
                self.native_score = features.NATIVE.Scorer(self.first.reshape(-1, 1), np.array([self.first_bias]), self.bits, self.max_n).score
            except (TypeError, ValueError, BufferError):
                self.native_score = None

    def buckets(self, codes: np.ndarray) -> np.ndarray:
        return ngram_buckets(codes, self.max_n, self.bits)

    def first_prob(self, g: np.ndarray) -> float:
        """P of the first column for n-gram buckets ``g`` (from ``buckets``)."""
        n = g.size
        if n == 0:
            return _sigmoid1(self.first_bias)
        w = self.first.take(g)
        total = w.dot(_ONES[:n]) if n <= _ONES.size else w.sum()
        return _sigmoid1(self.first_bias + float(total) / math.sqrt(n))

    def first_prob_codes(self, codes: np.ndarray, native: bool = True) -> float:
        """P of the first column for normalised ``codes``: with ``native`` and the kernel, one C
        call (its sum: float32 blocks of <= 63 rows added in float64, within ~1e-7 of an exact
        sum, where numpy's float32 dot in ``first_prob`` differs from it by up to ~1e-7 too), else
        ``first_prob(buckets(codes))``, the reference."""
        score = self.native_score
        if native and score is not None:
            try:
                return _sigmoid1(_LOGIT.unpack(score(codes)[0])[0])
            except (TypeError, ValueError, BufferError):
                pass  # not contiguous uint32: numpy converts them
        return self.first_prob(self.buckets(codes))

    def probs_of(self, g: np.ndarray) -> np.ndarray:
        """P of every column for n-gram buckets ``g``."""
        return np.array(self.probs_list(g))

    def probs_list(self, g: np.ndarray) -> list[float]:
        """``probs_of`` as a list of Python floats (what the judge ranks; no array built)."""
        if g.size == 0:
            return _sigmoid_list(self.bias)
        rows = self.weights.take(g, axis=0)
        # Column sums as a product with ones (BLAS): cheaper than numpy's reduction on ~1000 rows.
        total = _ONES[: g.size].dot(rows) if g.size <= _ONES.size else rows.sum(0)
        return _sigmoid_list(self.bias + total / math.sqrt(g.size))

    def probs(self, codes: np.ndarray) -> np.ndarray:
        return self.probs_of(self.buckets(codes))


@dataclass
class ContextModel:
    prompt: Head  # columns: "harm", then risk codes
    answer: Head  # columns: "comply"
    meta: dict = field(default_factory=dict)  # thresholds, settings, figures

    @property
    def risk_codes(self) -> list[str]:
        return self.prompt.columns[1:]

    def save(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = dict(self.meta, format=FORMAT, prompt_columns=self.prompt.columns, answer_columns=self.answer.columns,
                    prompt_bias=self.prompt.bias.tolist(), answer_bias=self.answer.bias.tolist(),
                    max_n=self.prompt.max_n, prompt_bits=self.prompt.bits, answer_bits=self.answer.bits)
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez_compressed(tmp, prompt=self.prompt.weights.astype(np.float16), answer=self.answer.weights.astype(np.float16),
                            meta=np.array(json.dumps(meta, ensure_ascii=False, sort_keys=True)))
        tmp.replace(path)  # atomic: a reader never sees half a file
        return path

    @classmethod
    def load(cls, path: Path | None = None) -> ContextModel:
        path = Path(path) if path else shipped_context_path()
        if not path.is_file():
            raise ContextModelError(f"{path}: no context model; run `make models` (fenghuo.checks.build) / 未找到上下文模型")
        try:
            with np.load(path, allow_pickle=False) as z:
                meta = json.loads(str(z["meta"]))
                pw, aw = z["prompt"].astype(np.float32), z["answer"].astype(np.float32)
        except (ValueError, KeyError, OSError) as exc:
            raise ContextModelError(f"{path}: not a fenghuo context model ({exc}) / 上下文模型文件无效") from None
        if meta.get("format") != FORMAT:
            raise ContextModelError(f"{path}: unsupported context model format {meta.get('format')!r}; rebuild with `make models` / 模型格式不支持")
        n = int(meta["max_n"])
        prompt = Head(pw, np.array(meta["prompt_bias"]), list(meta["prompt_columns"]), n, int(meta["prompt_bits"]))
        answer = Head(aw, np.array(meta["answer_bias"]), list(meta["answer_columns"]), n, int(meta["answer_bits"]))
        if prompt.weights.shape != (1 << prompt.bits, len(prompt.columns)) or answer.weights.shape != (1 << answer.bits, len(answer.columns)):
            raise ContextModelError(f"{path}: weight shapes do not match the recorded columns / 模型维度不一致")
        return cls(prompt, answer, meta)
