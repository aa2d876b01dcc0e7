"""Training: one NB-LR model per category over shared hashed n-grams, thresholds per category.

``train_multi`` takes texts with a set of category names each (empty = harmless) and fits one
logistic regression per category (one-vs-rest) on the same design matrix. A row labelled with
a *related* category (``ignore``: crime vs fraud, offensive vs discrimination) is left out of
a category's negatives rather than counted against it, since the sources label only the
category they were collected for. ``train`` is the binary (COLD) form.

With a word table (``words``, ``classifier/words.py``) the categories in ``word_categories``
are fitted on the char n-grams and the FMM words together; ``word_average`` averages that model
with the char-only one in logit space (one table still: the char weights are averaged, the word
weights halved), the form cross-validation chose for the shipped offensive head (docs/checks.md).

``train_from_dir`` / ``train_from_files`` read a user's data (``data.read_dataset``): a
directory with ``train.csv`` or ``train.jsonl`` (and optionally ``dev.*``), and save a model
the pipeline config can name (``model: path/to/model.npz``).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from fenghuo.checks.classifier.data import decode as _decode  # noqa: F401  (kept for callers)
from fenghuo.checks.classifier.data import read_dataset, read_labelled  # noqa: F401  (re-exported)
from fenghuo.checks.classifier.features import design_matrix
from fenghuo.checks.classifier.model import Model, default_model_path
from fenghuo.checks.classifier.words import WordTable, jieba_words, seen_words, word_matrix
from fenghuo.checks.normalize import default_normaliser

# Chosen on COLD dev (docs/checks.md). 2^18 buckets rather than 2^20: dev accuracy 0.9090 vs
# 0.9095 (F1 0.9074 vs 0.9078), while a quarter of the table stays far more of it in cache.
MAX_N, BITS, C = 3, 18, 16.0


def codes_of(texts: list[str]) -> list[np.ndarray]:
    norm = default_normaliser()
    return [norm.normalise(t).codes for t in texts]


def fit_one(x, y: np.ndarray, c: float, pos_weight: float, row_weight: np.ndarray | None = None):
    """NB-LR for one category: (weights per bucket, bias)."""
    from sklearn.linear_model import LogisticRegression

    pos = np.asarray(x[y == 1].sum(0)).ravel() + 1.0
    neg = np.asarray(x[y == 0].sum(0)).ravel() + 1.0
    ratio = np.log((pos / pos.sum()) / (neg / neg.sum()))  # naive-Bayes log-count ratio
    lr = LogisticRegression(C=c, max_iter=3000, solver="liblinear")
    sw = np.where(y == 1, pos_weight, 1.0) if pos_weight != 1.0 else None
    if row_weight is not None:
        sw = row_weight if sw is None else sw * row_weight
    lr.fit(x.multiply(ratio).tocsr(), y, sample_weight=sw)
    return (lr.coef_.ravel() * ratio).astype(np.float32), float(lr.intercept_[0])


def train_multi(
    texts: list[str],
    labels: list[frozenset[str]],
    categories: list[str] | None = None,
    ignore: dict[str, set[str]] | None = None,
    c: float | dict[str, float] = C,
    max_n: int = MAX_N,
    bits: int = BITS,
    pos_weight: float | dict[str, float] = 1.0,
    progress: Callable[[str], None] | None = None,
    x=None,
    row_weight: np.ndarray | None = None,
    words: WordTable | None = None,
    word_categories: Iterable[str] | None = None,
    word_average: bool = False,
    wx=None,
) -> Model:
    """One-vs-rest NB-LR; ``x`` may pass a design matrix already built for ``texts``;
    ``row_weight`` weighs rows in the regression (e.g. a small, hand-made set of hard negatives);
    ``words``: a word table for ``word_categories`` (None: every category), ``wx`` its rows
    (``words.word_matrix``) if already built."""
    if len(texts) != len(labels):
        raise ValueError(f"{len(texts)} texts but {len(labels)} label sets / 文本与标签数量不一致")
    cats = sorted(set().union(*labels)) if categories is None else list(categories)
    if not cats:
        raise ValueError("training data has no positive rows (every label is 0/safe) / 训练数据没有正例")
    ignore = ignore or {}
    if x is None:
        if progress:
            progress(f"features 特征: {len(texts)} texts")
        x = design_matrix(codes_of(texts), max_n, bits)
    wcats = set(cats if word_categories is None else word_categories) if words is not None else set()
    if wcats and wx is None:
        if progress:
            progress(f"word features 词特征: {len(words)} words")
        wx = word_matrix(words, codes_of(texts))
    xw = sp.hstack([x, wx]).tocsr() if wcats else None
    weights = np.zeros((1 << bits, len(cats)), dtype=np.float32)
    word_weights = np.zeros((len(words), len(cats)), dtype=np.float32) if words is not None else None
    bias = np.zeros(len(cats))
    counts = {}
    for k, cat in enumerate(cats):
        has = np.fromiter((cat in s for s in labels), bool, len(labels))
        related = ignore.get(cat, set())
        keep = has | ~np.fromiter((bool(s & related) for s in labels), bool, len(labels)) if related else np.ones(len(labels), bool)
        y = has[keep].astype(int)
        if y.sum() == 0 or y.sum() == y.size:
            raise ValueError(f"category {cat!r} needs both positive and negative rows ({int(y.sum())} of {y.size} positive) / 类别需同时有正负样本")
        if progress:
            progress(f"category 类别 {k + 1}/{len(cats)}: {cat} ({int(y.sum())} positive of {y.size})")
        pw = pos_weight.get(cat, 1.0) if isinstance(pos_weight, dict) else pos_weight
        ck = c.get(cat, C) if isinstance(c, dict) else c
        rw = None if row_weight is None else np.asarray(row_weight)[keep]
        if cat not in wcats or word_average:
            weights[:, k], bias[k] = fit_one(x[keep], y, ck, pw, rw)
        if cat in wcats:
            w, b = fit_one(xw[keep], y, ck, pw, rw)
            share = 0.5 if word_average else 1.0  # averaged in logit space with the char-only fit
            weights[:, k] = weights[:, k] * (1.0 - share) + w[: 1 << bits] * share
            word_weights[:, k] = w[1 << bits : (1 << bits) + len(words)] * share
            bias[k] = bias[k] * (1.0 - share) + b * share
        counts[cat] = {"positive": int(y.sum()), "rows": int(y.size)}
    meta = {"c": c, "train_rows": len(texts), "counts": counts}
    if words is not None:
        meta["word_categories"], meta["word_average"] = sorted(wcats), word_average
    return Model(weights, bias, max_n, bits, meta, cats, dict.fromkeys(cats, 0.5), words, word_weights)


def train(texts: list[str], labels: np.ndarray, c: float = C, max_n: int = MAX_N, bits: int = BITS, category: str = "offensive") -> Model:
    """Binary training (COLD's 1 = offensive/unsafe, 0 = safe): a one-category model."""
    labels = np.asarray(labels)
    if len(set(labels.tolist())) < 2:
        raise ValueError("training data needs both labels 0 and 1 / 训练数据需同时包含正负样本")
    sets = [frozenset({category}) if v == 1 else frozenset() for v in labels.tolist()]
    return train_multi(texts, sets, [category], c=c, max_n=max_n, bits=bits)


def score_matrix(model: Model, texts: list[str]) -> np.ndarray:
    """Probabilities float[len(texts), K], as the check computes them."""
    return np.array([model.probs_codes(c) for c in codes_of(texts)]).reshape(len(texts), len(model.categories))


def _floor(neg_scores: np.ndarray, max_fpr: float) -> float:
    """The lowest threshold that flags at most ``max_fpr`` of these harmless scores."""
    neg = np.sort(neg_scores)[::-1]
    k = int(np.floor(max_fpr * neg.size))
    return float(np.nextafter(neg[k], 1.0)) if k < neg.size else 0.0


def pick_threshold(scores: np.ndarray, y: np.ndarray, harmless: np.ndarray, max_fpr: float, groups: list[np.ndarray] | None = None) -> float:
    """The threshold with the best F1 among those that flag at most ``max_fpr`` of harmless rows
    — of each group of harmless rows when ``groups`` (masks) are given, so a small source of
    harmless text is not outvoted by a large one."""
    floor = max([_floor(scores[harmless], max_fpr)] + [_floor(scores[harmless & g], max_fpr) for g in groups or [] if (harmless & g).any()])
    best_t, best_f1 = max(floor, 0.5), -1.0
    pos_total = int(y.sum())
    for t in np.unique(np.concatenate([scores[y == 1], [0.5]])):
        if t < floor:
            continue
        pred = scores >= t
        tp = int((pred & (y == 1)).sum())
        fp = int((pred & (y == 0)).sum())
        f1 = 2 * tp / (2 * tp + fp + (pos_total - tp)) if pos_total else 0.0
        if f1 > best_f1:
            best_t, best_f1 = float(t), f1
    # Never above 0.5 unless the false-positive budget demands it: validation positives from the
    # same sources as training score near 1, and a threshold fitted just under them would miss
    # every new phrasing (measured: held-out recall 0 on generated ads/porn/gambling).
    return min(max(floor, min(best_t, 0.5), 1e-4), 0.9999)


def round_up(t: float, digits: int = 4) -> float:
    """``t`` rounded *up* to ``digits`` decimals. A threshold is ``nextafter`` of the highest
    harmless score the budget excludes; rounding it to nearest (as before) could land below that
    score and flag the very row it was set to spare (the shipped crime threshold 0.8075 flagged a
    CValues val prompt scoring 0.807523)."""
    return math.ceil(round(t * 10**digits, 6)) / 10**digits  # round(…, 6): 0.9999 * 1e4 is not 9999 exactly


def calibrate(
    model: Model, texts: list[str], labels: list[frozenset[str]], max_fpr: float | dict[str, float] = 0.01, probs=None, groups: list[np.ndarray] | None = None
) -> dict[str, float]:
    """Set ``model.thresholds`` from a validation split (never the held-out test data)."""
    p = score_matrix(model, texts) if probs is None else probs
    harmless = np.array([not s for s in labels])
    for k, cat in enumerate(model.categories):
        y = np.array([cat in s for s in labels], dtype=int)
        if not y.any() or not harmless.any():
            continue
        budget = max_fpr.get(cat, 0.01) if isinstance(max_fpr, dict) else max_fpr
        model.thresholds[cat] = round_up(pick_threshold(p[:, k], y, harmless, budget, groups))
    return model.thresholds


def evaluate(model: Model, texts: list[str], labels: np.ndarray, threshold: float | None = None) -> dict:
    """Binary figures: a text counts as positive when any category passes its threshold
    (``threshold`` overrides all); ``labels`` 1/0."""
    p = score_matrix(model, texts)
    th = np.array([threshold if threshold is not None else model.thresholds.get(c, 0.5) for c in model.categories])
    pred = (p >= th).any(1).astype(int)
    labels = np.asarray(labels)
    tp = int(((pred == 1) & (labels == 1)).sum())
    fp = int(((pred == 1) & (labels == 0)).sum())
    fn = int(((pred == 0) & (labels == 1)).sum())
    tn = int(((pred == 0) & (labels == 0)).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    npv = tn / (tn + fn) if tn + fn else 0.0
    spec = tn / (tn + fp) if tn + fp else 0.0
    f1_neg = 2 * npv * spec / (npv + spec) if npv + spec else 0.0
    return {
        "n": len(texts), "accuracy": float((pred == labels).mean()), "precision": precision, "recall": recall, "f1": f1,
        "macro_f1": (f1 + f1_neg) / 2, "fpr": fp / (fp + tn) if fp + tn else 0.0,
    }  # fmt: skip


def _find(data: Path, stem: str) -> Path | None:
    for ext in (".csv", ".jsonl"):
        if (data / f"{stem}{ext}").is_file():
            return data / f"{stem}{ext}"
    return None


def jieba_table(code_arrays: list[np.ndarray], bits: int | None = None) -> WordTable:
    """A word table of jieba's dictionary words (2-4 characters) that occur in the training
    rows, most frequent first; ``bits`` by default leaves ~6 slots a word (the shipped model:
    36k words, 2^18 slots, ~7 % of the rarest lost to collisions)."""
    seen = seen_words(jieba_words(), code_arrays)
    return WordTable(seen, bits or min(22, max(12, (len(seen) * 6).bit_length())))


def train_from_dir(
    data: str | Path, out: str | Path | None = None, limit: int | None = None, progress: Callable[[str], None] | None = None, max_fpr: float = 0.03,
    words: bool = False,
) -> dict:
    """Train on ``data/train.{csv,jsonl}`` (or a file); with ``dev.*`` beside it, thresholds are
    calibrated to flag at most ``max_fpr`` of its harmless rows and its figures reported.
    ``words``: every category also gets word features (``jieba_table`` of the training rows)."""
    data = Path(data)
    train_file = data if data.is_file() else _find(data, "train")
    if train_file is None:
        raise ValueError(f"{data}: no train.csv or train.jsonl / 缺少 train.csv 或 train.jsonl")
    dev_file = None if data.is_file() else _find(data, "dev")
    t0 = time.perf_counter()
    texts, labels = read_dataset(train_file, limit)
    if not any(labels):
        raise ValueError(f"{train_file}: training data needs both labels 0 and 1 (no positive rows) / 训练数据需同时包含正负样本")
    if all(labels):
        raise ValueError(f"{train_file}: training data needs both labels 0 and 1 (no harmless rows) / 训练数据需同时包含正负样本")
    table = None
    if words:
        if progress:
            progress("word table 词表: jieba's dictionary words seen in the training rows")
        table = jieba_table(codes_of(texts))
    model = train_multi(texts, labels, progress=progress, words=table)
    report: dict = {"train_rows": len(texts), "data": str(data), "categories": model.categories, "words": len(table) if table else 0}
    if dev_file is not None:
        dtexts, dlabels = read_dataset(dev_file)
        probs = score_matrix(model, dtexts)
        if len(model.categories) > 1:  # a binary model keeps 0.5, as COLD-format training always did
            calibrate(model, dtexts, dlabels, max_fpr, probs=probs)
        report["dev"] = evaluate(model, dtexts, np.array([1 if s else 0 for s in dlabels]))
        report["thresholds"] = dict(model.thresholds)
        model.meta["dev"] = report["dev"]
    path = Path(out) if out else default_model_path()
    model.save(path)
    report["model"] = str(path)
    report["seconds"] = time.perf_counter() - t0
    path.with_suffix(".json").write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    return report
