"""Build step ``classifier_en``: the shipped English classifier (``shipped/classifier_en.npz``).

Opt-in: the packaged ``default.yaml`` does not list it (session 14: in the whole pipeline it
flagged 9 of 267 harmless OpenAI test rows, over the 3 % bar for a default; XSTest safe 4.0 %);
a config adds ``{type: classifier, name: classifier_en, model: pkg:shipped/classifier_en.npz}``.

The shipped Chinese classifier declares ``min_han_share`` and judges no English text; this model
is its mirror image: trained on English only, it declares ``max_han_share`` (``MAX_HAN_SHARE``)
and the check leaves a text whose letters are more than that share Han to the Chinese model,
*before* scoring it (``classifier/check.py``), so Chinese messages pay one script count for it.

Same learner and features as the Chinese build (``classifier.train.train_multi``: one NB-LR per
category over hashed character 1-3-grams of the normalised text; the normaliser lowercases
Latin and drops spaces), no word table. Categories are the policy's, so TC260 codes apply:
OpenAI moderation S/S3 -> porn, H/H2 -> discrimination, HR -> offensive, V/V2 -> violence,
SH -> harm; XSafety en and JADE v1 en add privacy (and insult -> offensive, discrimination);
their crime rows are labelled crime, a category the model does not score (``DROPPED``).

Sources (all under the shared data dir, licences allow training; shared/data/README.md):

* ``moderation/openai_samples_1680.jsonl.gz`` (MIT): a key 1 -> the mapped category; a row with
  no 1 is harmless. A key *missing* is unknown: the row is left out of that category's
  negatives (a marker label ``?cat`` that ``IGNORE`` names) but counts as harmless when
  thresholds are calibrated and figures read, as the data's own "not flagged" count does.
  Split 50 / 25 / 25 (train / val / test).
* XSafety en (Apache-2.0): the files whose prompts are harmful themselves (crimes, insult,
  discrimination, privacy) -> those categories, commonsense -> harmless, 70 / 15 / 15;
  Mental_Health -> harmless (people describing distress), 50 / - / 50. The other files
  (``XSAFETY_UNUSED``: ethics, physical harm, instruction attacks...) mix harmless and harmful
  prompts: never trained on, only measured (share flagged per file). Decided before measuring,
  as the Chinese build decided for the parallel zh files.
* JADE v1 en (MIT, 80 questions): sub-types mapped as the Chinese build maps them, 70 / 15 / 15.
* Generated text (``GEN`` below, written for this step): harmful messages of each category and
  harmless look-alikes (news about violence, medical and safety questions, anti-hate
  statements, refusals, support for someone in distress, figurative and technical uses of
  violent words, history, fiction and games, sex education, everyday chat). Every fourth phrase
  of each slot is held out; a held-out text takes one slot from those (test), the others are
  split 85 / 15 (train / val).
* Written English text (``build/written_en/*.jsonl``, package data, session 14): harmful messages
  of each label and hard harmless look-alikes (violent words used innocently, definitions,
  fiction, public figures, ...), written for this model without reading any data set; split
  70 / 15 / 15 by hash (source ``written_en``), weighted ``WRITTEN_WEIGHT``, recorded in the
  manifest (``written_inputs``) with sha256. A bad line stops the build with file:line.

Splits are decided by ``sha256(source NUL text)`` before anything is trained. Thresholds: on the
val splits only, per category, within a share of *each* harmless val source (``MAX_FPR``;
openai, generated, written, the rest). ``crime`` is not scored (``DROPPED``: see there). Figures in the manifest are read on the test splits, the XSafety
files never trained on, and XSTest's prompts (evaluation only, never trained or calibrated on;
recorded under ``measured_on``).
"""

from __future__ import annotations

import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from fenghuo.checks.build import artefact_record, file_record
from fenghuo.checks.build.environment import environment, one_blas_thread
from fenghuo.checks.build.classifier_en_data import (
    CATEGORIES,
    DROPPED,
    GEN_PER_KIND,
    IGNORE,
    LABELS,
    OPENAI_MAP,
    SEED,
    WRITTEN_EN_DIR,
    XSAFETY_DIR,
    XSAFETY_UNUSED,
    XSTEST,
    Row,
    load_rows,
    written_en_files,
    xsafety_unused,
    xstest,
)
from fenghuo.checks.classifier.features import design_matrix
from fenghuo.checks.classifier.model import Model
from fenghuo.checks.classifier.train import MAX_N, calibrate, codes_of, train_multi

OUT = "classifier_en.npz"
BITS = 18
C = dict.fromkeys(LABELS, 2.0)
POS_WEIGHT = dict.fromkeys(LABELS, 2.0)
# Share of harmless val rows of each source each category may flag; ~3 % in all.
# Budgets: a category may flag floor(b * n) of each harmless val source's n rows. With ~290
# openai harmless val rows, 0.004 lets each category flag 1 of them; 7 categories doing so flag
# at most 7 (2.4 %). (Session 14's first build split openai 60 / 15 / 25 with 0.006: 1 of 175
# each, and read 7.5 % of harmless test rows flagged: per-category floors add up.)
MAX_FPR = dict.fromkeys(LABELS, 0.004)
GEN_WEIGHT = 0.3  # generated rows (harmful and harmless) in the regression
# Written rows (build/written_en) in the regression. Chosen on val among 0.5 / 1 / 2 / 4 (rule:
# the best mean of OpenAI val any-harm recall and written val harmful recall at the calibrated
# thresholds; within 0.005 of it, the smallest): 0.176 / 0.176 / 0.156 / 0.175.
WRITTEN_WEIGHT = 0.5
# Trained on English only: a text whose letters are more than this share Han is not judged.
MAX_HAN_SHARE = 0.25


# --- Measuring -----------------------------------------------------------------------------


def probs(model: Model, texts: list[str]) -> np.ndarray:
    return np.array([model.probs_codes(c) for c in codes_of(texts)]).reshape(len(texts), len(model.categories))


def flags(model: Model, texts: list[str]) -> np.ndarray:
    """bool[len(texts), K] as the check decides (texts under 3 normalised characters: none)."""
    th = np.array([model.thresholds.get(c, 0.5) for c in model.categories])
    short = np.array([c.size < 3 for c in codes_of(texts)])
    return (probs(model, texts) >= th) & ~short[:, None]


def _rate(f: np.ndarray) -> dict:
    return {"n": int(f.size), "flagged": int(f.sum()), "rate": round(float(f.mean()), 4) if f.size else 0.0}


def _pr(pred: np.ndarray, y: np.ndarray) -> dict:
    tp, fp, fn = int((pred & y).sum()), int((pred & ~y).sum()), int((~pred & y).sum())
    return {"n": int(y.sum()), "recall": round(tp / (tp + fn), 4) if tp + fn else 0.0, "precision": round(tp / (tp + fp), 4) if tp + fp else 0.0}


def measure(model: Model, test: list[Row], data_dir: Path) -> dict:
    """Held-out figures: the test splits, the XSafety files never trained on, XSTest."""
    out: dict = {}
    cats = model.categories
    oa = [r for r in test if r.source == "openai"]
    f = flags(model, [r.text for r in oa])
    anyf = f.any(1)
    harmful = np.array([bool(r.harm) for r in oa])
    out["openai_test"] = {
        "any": _pr(anyf, harmful) | {"rows": len(oa)},
        "harmless_flagged": _rate(anyf[~harmful]),
        "per_category": {c: _pr(f[:, k], np.array([c in r.harm for r in oa])) | {"any_recall": round(float(anyf[[c in r.harm for r in oa]].mean()), 4)}
                         for k, c in enumerate(cats) if any(c in r.harm for r in oa)},
    }  # fmt: skip
    for name in ("jade", "xsafety"):
        rs = [r for r in test if r.source == name]
        ff = flags(model, [r.text for r in rs])
        out[f"{name}_test"] = {
            "any_recall": _rate(ff.any(1)),
            "per_category": {c: _rate(ff[[c in r.harm for r in rs]].any(1)) for c in cats if any(c in r.harm for r in rs)},
        }
    wr = [r for r in test if r.source == "written_en"]
    if wr:
        fw = flags(model, [r.text for r in wr]).any(1)
        hw = np.array([bool(r.harm) for r in wr])
        out["written_en_test"] = {
            "harmful_flagged": _rate(fw[hw]), "harmless_flagged": _rate(fw[~hw]),
            "per_label": {c: _rate(fw[[c in r.harm for r in wr]]) for c in LABELS if any(c in r.harm for r in wr)},
        }
    for name in ("xsafety_commonsense", "xsafety_mental"):
        rs = [r for r in test if r.source == name]
        out[f"fpr_{name}"] = _rate(flags(model, [r.text for r in rs]).any(1))
    gen = [r for r in test if r.source.startswith("gen_")]
    fg = flags(model, [r.text for r in gen]).any(1)
    by = defaultdict(list)
    for r, v in zip(gen, fg):
        by[r.source].append(v)
    out["generated_heldout"] = {k: _rate(np.array(v)) for k, v in sorted(by.items())}
    out["xsafety_unused_flagged"] = {name: _rate(flags(model, texts).any(1)) for name, texts in xsafety_unused(data_dir).items()}
    xs = xstest(data_dir)
    fx = flags(model, [t for t, _, _ in xs]).any(1)
    lab = np.array([lb for _, _, lb in xs])
    out["xstest"] = {
        "safe_flagged": _rate(fx[lab == "safe"]), "unsafe_flagged": _rate(fx[lab == "unsafe"]),
        "safe_flagged_by_type": {t: _rate(fx[[(ty == t and lb == "safe") for _, ty, lb in xs]]) for t in sorted({ty for _, ty, lb in xs if lb == "safe"})},
    }  # fmt: skip
    return out


def _row_weight(r: Row, written_weight: float) -> float:
    return GEN_WEIGHT if r.source.startswith("gen_") else written_weight if r.source == "written_en" else 1.0


def fit(train: list[Row], val: list[Row], log=print, categories: list[str] | None = None, written_weight: float | None = None, x=None) -> Model:
    """Train on ``train`` and calibrate on ``val`` (the build's model; also what val-only
    comparisons of settings call; ``x`` may pass the design matrix of ``train``)."""
    cats = CATEGORIES if categories is None else categories
    ww = WRITTEN_WEIGHT if written_weight is None else written_weight
    texts = [r.text for r in train]
    if x is None:
        x = design_matrix(codes_of(texts), MAX_N, BITS)
    model = train_multi(
        texts, [r.labels for r in train], cats, IGNORE, C, MAX_N, BITS, POS_WEIGHT, lambda m: log(f"  {m}"), x,
        np.array([_row_weight(r, ww) for r in train]),
    )  # fmt: skip
    # Calibrate on the float16 weights the package ships, so thresholds match what is scored.
    model.weights = model.weights.astype(np.float16).astype(np.float32)
    src = np.array([r.source for r in val]).astype(str)
    oa, gen, wr = src == "openai", np.char.startswith(src, "gen_"), src == "written_en"
    # Each source of harmless val rows has its own budget: the written look-alikes (definitions,
    # fiction, public figures, innocent violent words) are not outvoted by the larger sources.
    groups = [oa, gen, wr, ~(oa | gen | wr)]
    calibrate(model, [r.text for r in val], [r.harm for r in val], MAX_FPR, groups=groups)
    return model


def build(data_dir: Path, out_dir: Path, log=print) -> dict:
    # One BLAS thread, as the Chinese classifier's build: liblinear's dot products are split
    # between BLAS threads and the split changes the rounding, so without it the model's bytes
    # depended on how many cores the building machine had (1 and 2 threads gave different files).
    with one_blas_thread():
        return _build(data_dir, out_dir, environment(), log)


def _build(data_dir: Path, out_dir: Path, env: dict, log=print) -> dict:
    t0 = time.perf_counter()
    rows, inputs = load_rows(data_dir)
    train = [r for r in rows if r.split == "train"]
    val = [r for r in rows if r.split == "val"]
    test = [r for r in rows if r.split == "test"]
    log(f"  classifier_en: {len(train)} train, {len(val)} val, {len(test)} test rows")
    model = fit(train, val, log)
    figures = measure(model, test, data_dir)
    oa = figures["openai_test"]
    model.meta.update(
        {"built_by": "fenghuo.checks.build.classifier_en", "language": "en", "max_han_share": MAX_HAN_SHARE,
         "heldout": {"openai_any_recall": oa["any"]["recall"], "openai_harmless_flagged": oa["harmless_flagged"]["rate"],
                     "xstest_safe_flagged": figures["xstest"]["safe_flagged"]["rate"]}}
    )  # fmt: skip
    path = model.save(out_dir / OUT)
    counts: dict = defaultdict(lambda: defaultdict(int))
    for r in rows:
        counts[r.source][r.split] += 1
    return {
        "inputs": [file_record(data_dir, data_dir / rel) for rel in inputs],
        "written_inputs": [file_record(WRITTEN_EN_DIR, p) for p in written_en_files()],
        "measured_on": [file_record(data_dir, data_dir / rel) for rel in [XSTEST] + [f"{XSAFETY_DIR}/{n}" for n in XSAFETY_UNUSED]],
        "artefacts": [artefact_record(out_dir, path)],
        "settings": {
            "categories": CATEGORIES, "openai_map": OPENAI_MAP, "ignore": {k: sorted(v) for k, v in IGNORE.items()}, "bits": BITS, "max_n": MAX_N,
            "labels": LABELS, "dropped": DROPPED, "c": C, "pos_weight": POS_WEIGHT, "generated_weight": GEN_WEIGHT, "written_weight": WRITTEN_WEIGHT, "max_fpr_val": MAX_FPR, "storage": "float16", "seed": SEED,
            "generated_per_kind": GEN_PER_KIND, "max_han_share": MAX_HAN_SHARE,
            "split": "bucket = sha256(source NUL text)[:4] mod 100; openai <50 train, <75 val, else test; JADE en / XSafety en crimes, insult, "
                     "discrimination, privacy, commonsense <70 train, <85 val, else test; XSafety Mental_Health <50 train, else test; generated: "
                     "training phrases <85 train else val, held-out phrases test",
            "xsafety_unused": XSAFETY_UNUSED, "environment": env,
        },
        "thresholds": dict(model.thresholds),
        "rows": {k: dict(v) for k, v in sorted(counts.items())},
        "figures": figures,
        "seconds": round(time.perf_counter() - t0, 1),
    }  # fmt: skip
