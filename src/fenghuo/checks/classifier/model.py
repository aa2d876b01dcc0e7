"""The trained model: a weight per hashed n-gram bucket and category, a bias and a threshold per
category, and how features were made.

One linear model per category (one-vs-rest) over the same features, stored as one matrix
``weights[bucket, category]``, so scoring every category is one gather of the message's
n-gram rows and one vector-matrix product (measured 8.6 µs for 13 categories vs 4.4 µs for one
on a 1 KB message; the n-grams themselves cost ~7 µs). Training weights features by their
naive-Bayes log-count ratio before the logistic regression (NB-LR; measured +0.5–1 point
accuracy on COLD dev over plain LR); both factors are multiplied into ``weights`` at save
time, so a category's score is ``sigmoid(bias + sum(w[g]) / sqrt(|g|))``.

Stored as float16 (half the file; the load converts to float32 because numpy sums float16 in
software, 17.6 vs 7.4 µs); ``thresholds`` are calibrated per category at training time.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fenghuo.checks.classifier.features import ngram_buckets
from fenghuo.platform.paths import data_dir

# Format 3: a weight matrix with named categories and per-category thresholds. Format 2 (one
# weight vector, the same n-gram keys) still loads as a one-category model; format 1 used other
# n-gram keys, so it is refused with a request to retrain.
FORMAT = "fenghuo-classifier-3"
_READABLE = {"fenghuo-classifier-2", FORMAT}
_ONES = np.ones(1 << 14, dtype=np.float32)  # covers a ~5 KB message's n-grams; longer ones use sum()


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

    def __post_init__(self) -> None:
        w = np.asarray(self.weights, dtype=np.float32)
        self.weights = w.reshape(-1, 1) if w.ndim == 1 else np.ascontiguousarray(w)
        self.bias = np.asarray(self.bias, dtype=np.float64).reshape(-1)
        if self.weights.shape[1] != len(self.categories) or self.bias.size != len(self.categories):
            raise ModelError(f"model has {self.weights.shape[1]} weight columns, {self.bias.size} biases and {len(self.categories)} categories / 模型维度不一致")

    def logits_codes(self, codes: np.ndarray) -> np.ndarray:
        """Per-category logits (float64[K]) for normalised codes."""
        if codes.size == 0:
            return self.bias
        g = ngram_buckets(codes, self.max_n, self.bits)
        rows = self.weights.take(g, axis=0)
        # The column sums as a product with ones (BLAS): numpy's reduction machinery costs more
        # than the sum itself on ~1000 rows (measured 2.0 vs 2.8 µs for one column).
        total = _ONES[: g.size].dot(rows) if g.size <= _ONES.size else rows.sum(0)
        return self.bias + total / math.sqrt(g.size)

    def probs_codes(self, codes: np.ndarray) -> np.ndarray:
        z = np.clip(self.logits_codes(codes), -700.0, 700.0)
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
        if dtype == np.float16 and not np.isfinite(w).all():
            raise ModelError("weights overflow float16; save with dtype=np.float32 / 权重超出 float16 范围")
        np.savez_compressed(tmp, weights=w, meta=np.array(json.dumps(meta, ensure_ascii=False, sort_keys=True)))
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
        except (ValueError, KeyError, OSError, EOFError) as exc:
            raise ModelError(f"{path}: not a fenghuo classifier model ({type(exc).__name__}) / 模型文件无效") from None
        if meta.get("format") not in _READABLE or weights.shape[0] != 1 << int(meta.get("bits", -1)):
            raise ModelError(f"{path}: unsupported model format {meta.get('format')!r}; retrain with `fenghuo classifier train` / 模型格式不支持，请重新训练")
        cats = list(meta.get("categories") or ["offensive"])
        return cls(weights, meta["bias"], int(meta["max_n"]), int(meta["bits"]), meta, cats, dict(meta.get("thresholds") or {}))
