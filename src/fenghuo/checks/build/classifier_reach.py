"""Reach heads in the build (session 26; ``classifier/reach.py``): extra ``<category>~reach`` columns
fitted on the build's written rows *plus* the reach rows of ``build/written_reach``, appended to the
model after its own heads are fitted, calibrated and measured.

A reach head may only add a flag: its score corroborates nothing and decides no block, so the
shipped heads and their verdicts stay as they are (session 25: heads retrained on written rows
and swapped in lost JADE v3 questions or blocked harmless text). The reach rows
(``written_reach/*.jsonl``, recorded in the manifest's ``reach`` entry with their sha256) train only
these columns: ``classifier_data`` never reads that directory, so no other head sees them (a file
in ``build/written_zh`` would train the harm head and every head's calibration).

Each reach head is fitted as the session 25 "+s25" fits were: one-vs-rest NB-LR (``train_multi``)
on the build's train split, the written rows (``written_zh`` and ``written_reach`` alike, source
``written_zh``, split 70/15/15 by hash) at ``WRITTEN_WEIGHT``, the written labels of the other
categories as markers (``_written_labels``), stored as float16. A head is one-vs-rest, so its
column does not depend on which others are fitted with it. Its threshold is set, not calibrated
(``REACH_HEADS``).

``REACH_HEADS`` is empty, so the build makes the shipped model without reach heads (byte for byte)
and the directory holds no file. Session 26 built its candidate R2 this way (``{"drugs": 0.45,
"ads": 0.40}`` with session 25's 1,300 rows of ``tests/checks/data/written_train_s25/`` copied into
``written_reach/``): the 13 heads came out identical to the shipped ones; R2 failed its rule on the
written dev sets' half B and was not shipped (docs/checks/classifier-history.md, "Session 26").
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fenghuo.checks.build import file_record
from fenghuo.checks.build.classifier_data import CATEGORIES, WRITTEN_SPLIT, Row, _dedupe, bucket, read_written, split_of
from fenghuo.checks.classifier.model import Model
from fenghuo.checks.classifier.reach import SUFFIX
from fenghuo.checks.classifier.train import MAX_N, train_multi

REACH_DIR = Path(__file__).resolve().parent / "written_reach"
# Category -> reach threshold; the columns come in this order after the model's categories. Empty:
# no candidate has passed its rule (session 26: R2, drugs 0.45 and ads 0.40, did not; nor R3,
# violence 0.75).
REACH_HEADS: dict[str, float] = {}


def reach_files(directory: Path = REACH_DIR) -> list[Path]:
    return sorted(directory.glob("*.jsonl"))


def with_reach_rows(rows: list[Row], directory: Path = REACH_DIR) -> list[Row]:
    """The build's rows and the reach rows (after the written ones, as a file sorted after them in
    ``written_zh`` would come), a text kept once (``_dedupe``)."""
    extra = [Row(text, labels, "written_zh", split_of(bucket("written_zh", text), *WRITTEN_SPLIT), kind)
             for text, labels, kind in read_written(reach_files(directory), CATEGORIES)]  # fmt: skip
    return _dedupe(rows + extra)


def fit_reach(rows: list[Row], heads: list[str], log=print) -> tuple[np.ndarray, np.ndarray]:
    """The reach columns' weights (float16 values as float32, ``[2**BITS, len(heads)]``) and biases,
    trained on ``rows``' train split (``with_reach_rows``)."""
    from fenghuo.checks.build import classifier as b

    train = [r for r in rows if r.split == "train"]
    skip = {c for c in CATEGORIES if c not in heads}
    nn = set(b.WRITTEN_NOT_NEGATIVE)
    labels = [b._written_labels(r, nn, skip) for r in train]
    weight = np.array([b._row_weight(r, b.WRITTEN_WEIGHT) for r in train])
    m = train_multi([r.text for r in train], labels, list(heads), b._written_ignore(nn, skip), b.C, MAX_N, b.BITS, b.POS_WEIGHT,
                    lambda s: log(f"  reach {s}"), None, weight)  # fmt: skip
    return m.weights.astype(np.float16).astype(np.float32), np.asarray(m.bias, dtype=np.float64)


def attach(model: Model, heads: dict[str, float], weights: np.ndarray, bias: np.ndarray) -> Model:
    """``model`` with the reach columns after its categories, declared in its meta (its own
    columns, thresholds and word weights unchanged; a reach column has no word weights)."""
    names = [f"{c}{SUFFIX}" for c in heads]
    w = np.concatenate([model.weights, weights], axis=1)
    ww = None if model.word_weights is None else np.concatenate([model.word_weights, np.zeros((model.word_weights.shape[0], len(names)), np.float32)], axis=1)
    meta = dict(model.meta, reach={n: float(t) for n, t in zip(names, heads.values())})
    return Model(w, np.concatenate([model.bias, bias]), model.max_n, model.bits, meta, list(model.categories) + names, dict(model.thresholds), model.words, ww)


def add_reach(model: Model, rows: list[Row], log=print, heads: dict[str, float] | None = None) -> tuple[Model, dict]:
    """The model with the reach heads (``REACH_HEADS``) attached, and their manifest entry (heads,
    inputs, settings); with none, the model as it is and no entry."""
    heads = REACH_HEADS if heads is None else heads
    if not heads:
        return model, {}
    unknown = [c for c in heads if c not in CATEGORIES]
    if unknown:
        raise ValueError(f"reach heads {unknown}: not categories of the model / 扩展头不是模型类别")
    from fenghuo.checks.build import classifier as b

    all_rows = with_reach_rows(rows)
    weights, bias = fit_reach(all_rows, list(heads), log)
    train = [r for r in all_rows if r.split == "train" and r.source == "written_zh"]
    entry = {
        "heads": {f"{c}{SUFFIX}": t for c, t in heads.items()},
        "inputs": [file_record(REACH_DIR, p) for p in reach_files()],
        "settings": {"rows": "the build's train split and build/written_reach's (source written_zh, its split)", "written_train_rows": len(train),
                     "written_weight": b.WRITTEN_WEIGHT, "storage": "float16"},
    }
    return attach(model, heads, weights, bias), entry
