"""Build step ``classifier``: the shipped multi-category classifier (``shipped/classifier.npz``).

Trains one NB-LR model per category (``classifier.train.train_multi``) on the train splits of
``classifier_data``, calibrates each category's threshold on the val splits so that harmless
val rows are rarely flagged (``MAX_FPR``), and measures on the test splits only: COLD's
official dev set, the held-out half of CValues, held-out JADE/XSafety rows and text from
held-out templates (incl. anti-bias statements). Nothing is tuned on the test splits.

The offensive head also reads words (session 9): a ``words.WordTable`` of jieba's dictionary
words (2-4 characters) that occur in the train split, and the forward-maximum-matching
segmentation over it; the head is the char-only fit averaged with the char + words fit, the
form 5-fold cross-validation over COLD train chose (docs/checks.md, "Session 8"). jieba's
``dict.txt`` comes with the jieba package: its sha256 is recorded in the settings.

Written Chinese text (``build/written_zh/*.jsonl``, session 17; ``classifier_data``) trains the
heads in ``WRITTEN_HEADS`` at ``WRITTEN_WEIGHT`` (harmful and harmless rows alike), chosen on the
val split (``classifier_choice``); every other head never sees a written row and is calibrated
without them. For the written heads, written harmless val rows are a calibration group of their
own (``WRITTEN_OWN_GROUP``), with the written harmless train rows scored out of fold
(``WRITTEN_OOF_FOLDS``). The manifest records the files (``written_inputs``, sha256) and the
figures on their test split (``written_zh_test``). ``WRITTEN_HEADS`` was empty from session 17
(its five-head candidate failed the acceptance rule) to session 24 (harm, see there). A written head also gets a
corroboration level of its own (``classifier_levels``, session 20) in the model's meta and the
manifest (``corroborate``, beside ``thresholds``): what its score must reach to corroborate a
lexicon topic word (``checks/corroborate.py``); a model without written heads declares none.
A block head may get a flag band (``FLAG_THRESHOLDS``, session 24; ``classifier/band.py``): its
flag threshold goes into the model's meta and the manifest (``flag_thresholds``) beside the
thresholds; ``SET_THRESHOLDS`` replace calibrated ones (session 24: harm, band 0.70-0.98). Reach heads
(``classifier_reach``, session 26: none shipped) are appended after the heads are measured.

The regression's numbers also depend on the machine: liblinear calls scipy's OpenBLAS, whose
kernel is picked per processor and whose long dot products are split between threads, each
changing the rounding. The build runs with one BLAS thread and records ``environment()`` in the
settings (``build/environment.py``: library versions, the BLAS and its kernel, a solver fingerprint); a build whose
environment differs from the shipped model's says so before it starts (it will not give the
shipped bytes), and tests/checks/test_models.py compares the fingerprint.
"""

from __future__ import annotations

import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from fenghuo.checks.build import artefact_record, file_record, load_manifest, sha256_file
from fenghuo.checks.build.classifier_data import (
    CATEGORIES,
    GEN_PER_KIND,
    IGNORE,
    SEED,
    WRITTEN_SPLIT,
    WRITTEN_ZH_DIR,
    Row,
    bucket,
    load_rows,
    written_zh_files,
)
from fenghuo.checks.build.classifier_levels import LEVEL_RULE, levels
from fenghuo.checks.build.environment import environment, environment_differences, jieba_version, one_blas_thread
from fenghuo.checks.classifier.features import design_matrix
from fenghuo.checks.classifier.model import Model
from fenghuo.checks.classifier.train import MAX_N, calibrate, codes_of, train_multi
from fenghuo.checks.classifier.words import WordTable, jieba_dictionary, jieba_words, seen_words

BITS = 18
# Offensive: C = 8, chosen on the val split with the other settings fixed (COLD val macro-F1
# at the calibrated threshold: C 4 0.833, 8 0.851, 16 0.846, 32 0.848). The small categories
# are regularised harder: their positives are few and partly generated, and a weakly
# regularised model keys on whole patterns (measured: an extra phrase in a generated ad
# dropped its score from 0.71 to 0.28 at C=16).
C = dict.fromkeys(CATEGORIES, 2.0) | {"offensive": 8.0}
# Share of harmless val rows each category may flag. Offensive gets most of the budget: COLD's
# safe rows discuss the same topics in the same words as its offensive ones.
# Offensive's budget is the 3 % target minus the other shipped checks' share of COLD's harmless
# val rows (lexicon, rules, PII: what they flag that the classifier does not) minus one standard
# error of a rate read on ~1,300 val rows (~0.5 points), rounded down to 0.05: the target is the
# whole pipeline's. Session 5: the other checks took 0.4 points, budget 2.25 % (at 2.5 % the
# pipeline read 3.0 % on val and 3.3 % on COLD dev). Session 7: topic words need a *related*
# model category (checks/corroborate.py) and the other checks take 0.08 points (1 of 1,294):
# 3 - 0.08 - 0.5 -> 2.4 %.
MAX_FPR = dict.fromkeys(CATEGORIES, 0.002) | {"offensive": 0.024, "discrimination": 0.004}
# Small categories are up-weighted so their logistic regression does not collapse to "never".
POS_WEIGHT = dict.fromkeys(CATEGORIES, 3.0) | {"offensive": 1.0}
# Trained on Chinese only: below this share of Han characters among a text's letters the check
# does not judge it (``classifier/check.py``: English text scored at random, 38 % flagged).
MIN_HAN_SHARE = 0.25
# Generated harmless text (anti-bias statements, warnings, refusals, questions about groups) is
# a few hundred rows against COLD's 11k offensive ones: weighted up so that it is heard.
GEN_NEGATIVE_WEIGHT = 4.0
# Real harmless questions (CValues' trained third, Flames everyday, XSafety commonsense) are a
# few hundred rows too: weighted like the generated negatives. Chosen on val (docs/checks.md):
# COLD val macro-F1 0.857 -> 0.865, CValues val 1.4 % either way, JADE val recall 0.69 -> 0.73.
REAL_NEGATIVE_WEIGHT = 4.0
REAL_NEGATIVE_SOURCES = ("cvalues", "flames_harmless", "xsafety_commonsense", "xsafety_mental")
# Written Chinese rows (build/written_zh), harmful and harmless, in the regression. Chosen on
# the val split (never on COLD dev, CValues' held-out half or the written dev sets) by the rule of
# ``classifier_choice`` among 1 / 2 / 4 / 8 (session 17: 8 for five heads; its val figures are in
# docs/checks/classifier-history.md "Session 17"). Session 24: 2 for the harm head alone, session
# 23's choice (``classifier_choice --heads harm --levels fraction:0.4`` with the s19/s20 written
# training rows, build/written_zh/s19_*, s20_*).
WRITTEN_WEIGHT = 2.0
# Per category, the flag threshold of its flag band (``classifier/band.py``): a score at or above it
# but under the category's threshold flags instead of blocking; and thresholds the build sets over
# the calibrated ones (``SET_THRESHOLDS``, recorded with the calibrated value in the manifest). Session
# 24: the harm head blocks at 0.98 (calibrated 0.813; comfort messages reach 0.93-0.96) and flags from
# 0.70, chosen on the written dev sets' half A and T and passed by a rule fixed before half B and a fresh
# judge set were read (docs/checks/classifier-history.md, "Session 24").
FLAG_THRESHOLDS: dict[str, float] = {"harm": 0.70}
SET_THRESHOLDS: dict[str, float] = {"harm": 0.98}
# Categories a written *harmful* row is never a negative of (beyond ``IGNORE``). None: tried on
# val in session 17 (every category, weight 1, only offensive skipped) it did not restore the
# offensive head (COLD val macro-F1 0.838 either way; ``classifier_choice --not-negative``).
WRITTEN_NOT_NEGATIVE: tuple[str, ...] = ()
WRITTEN_MARK, WRITTEN_HARMFUL_MARK = "?written", "?written_harmful"  # marker labels in training (not categories)
# The heads the written rows train: the categories issue 12 names as generalising poorly. Every
# other head never sees a written row, harmful or harmless, and is calibrated without them (so it
# is the model it would be without them; the word table, which only offensive reads, is made of
# the other rows' words). Session 17: (1) on val, written rows at any weight (0.25 to 4) cost the
# offensive head ~20-25 of COLD's ~1,200 offensive val rows at its calibrated threshold (COLD val
# macro-F1 0.852 -> 0.84), the loss session 14 saw on dev; (2) with only offensive skipped, the
# candidate chosen on val (weight 2) read CValues' held-out half 7 -> 11 of 229 flagged in the
# whole pipeline (crime 0.8076 -> 0.7215) and JADE held out 126 -> 114 of 162 (privacy 0.50 ->
# 0.81), as in session 14: so the crime-family heads keep their data.
# (3) Five heads (weight 8) raised harmless_hard's flags (33 -> 37 of 600): none shipped until session 24
# (classifier-history.md "Session 17"). Session 24: the harm head alone, with its flag band and set threshold.
WRITTEN_HEADS: tuple[str, ...] = ("harm",)
WRITTEN_SKIP: tuple[str, ...] = tuple(c for c in CATEGORIES if c not in WRITTEN_HEADS)
# Written harmless val rows are a calibration group of their own (each category within its budget
# of them alone, as for COLD and CValues), not pooled with the generated and other small sources.
WRITTEN_OWN_GROUP = True
# The written heads' thresholds are calibrated on the written harmless val rows *and* the written
# harmless train rows scored out of fold (this many folds by bucket("written_zh", text); each fit
# leaves the fold's written rows out, harmful and harmless, and fits only the written heads): a
# head trained on the harmless look-alikes scores them low in-sample, and ~200 val rows at a 0.2 %
# budget say nothing about look-alikes it has not seen (session 17: the weight-2 model without
# this flagged 33 -> 40 of 600 harmless texts of the written dev set harmless_hard).
WRITTEN_OOF_FOLDS = 3
# Word features for these categories only (what session 8 measured); 2^18 slots for the ~36k
# jieba words the train split holds (cross-validated in that form: +2.4 ± 0.7 points of recall
# at 3 % FPR, averaged with the char-only head).
WORD_CATEGORIES = ("offensive",)
WORD_BITS = 18
WORD_AVERAGE = True
OUT = "classifier.npz"


def _row_weight(r: Row, written_weight: float = WRITTEN_WEIGHT) -> float:
    if r.source == "written_zh":
        return written_weight
    if r.labels:
        return 1.0
    if r.source.startswith("gen_"):
        return GEN_NEGATIVE_WEIGHT
    return REAL_NEGATIVE_WEIGHT if r.source in REAL_NEGATIVE_SOURCES else 1.0


def _probs(model: Model, texts: list[str]) -> np.ndarray:
    return np.array([model.probs_codes(c) for c in codes_of(texts)]).reshape(len(texts), len(model.categories))


def _flags(model: Model, probs: np.ndarray) -> np.ndarray:
    th = np.array([model.thresholds.get(c, 0.5) for c in model.categories])
    return probs >= th


def _binary(pred: np.ndarray, y: np.ndarray) -> dict:
    tp, fp = int((pred & y).sum()), int((pred & ~y).sum())
    fn, tn = int((~pred & y).sum()), int((~pred & ~y).sum())
    f1p = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    f1n = 2 * tn / (2 * tn + fn + fp) if tn else 0.0
    return {
        "n": int(y.size), "precision": round(tp / (tp + fp), 4) if tp + fp else 0.0, "recall": round(tp / (tp + fn), 4) if tp + fn else 0.0,
        "f1": round(f1p, 4), "macro_f1": round((f1p + f1n) / 2, 4), "fpr": round(fp / (fp + tn), 4) if fp + tn else 0.0,
    }  # fmt: skip


def measure(model: Model, rows: list[Row]) -> dict:
    """Held-out figures (rows from the test splits only)."""
    probs = _probs(model, [r.text for r in rows])
    flags = _flags(model, probs)
    anyflag = flags.any(1)
    src = np.array([r.source for r in rows])
    harmful = np.array([bool(r.labels) for r in rows])
    k_off = model.categories.index("offensive")
    out: dict = {}
    cold = src == "cold"
    out["cold_dev"] = _binary(anyflag[cold], harmful[cold]) | {"offensive_only": _binary(flags[cold, k_off], harmful[cold])}
    out["cold_dev"]["fpr_safe_rows"] = out["cold_dev"]["fpr"]
    for name in ("cvalues", "flames_harmless", "xsafety_commonsense", "xsafety_mental", "gen_antibias", "gen_refusal", "gen_warning", "gen_help", "gen_neutral", "gen_everyday", "gen_hardneg"):
        m = src == name
        if m.any():
            out[f"fpr_{name}"] = {"n": int(m.sum()), "flagged": int(anyflag[m].sum()), "rate": round(float(anyflag[m].mean()), 4)}
    # Per category, on held-out harmful rows of JADE, XSafety and the held-out templates: recall
    # of the category itself and of "flagged at all" (a fraud ad caught as ads still stops).
    per: dict = defaultdict(lambda: {"n": 0, "category_hit": 0, "any_hit": 0})
    for i, r in enumerate(rows):
        if r.source == "cold" or not r.labels:
            continue
        group = "generated" if r.source.startswith("gen_") else r.source
        for cat in r.labels:
            e = per[f"{group}:{cat}"]
            e["n"] += 1
            e["category_hit"] += int(flags[i, model.categories.index(cat)])
            e["any_hit"] += int(anyflag[i])
    out["recall_heldout"] = {
        k: {"n": v["n"], "category_recall": round(v["category_hit"] / v["n"], 4), "any_recall": round(v["any_hit"] / v["n"], 4)} for k, v in sorted(per.items())
    }
    for group in ("jade", "xsafety", "generated"):
        sel = np.array([r.source.startswith("gen_") if group == "generated" else r.source == group for r in rows]) & harmful
        if sel.any():
            out[f"any_recall_{group}"] = {"n": int(sel.sum()), "rate": round(float(anyflag[sel].mean()), 4)}
    wr = src == "written_zh"
    if wr.any():
        kinds = np.array([r.kind or "-" for r in rows])
        out["written_zh_test"] = {
            "harmful_flagged": _rate(anyflag[wr & harmful]), "harmless_flagged": _rate(anyflag[wr & ~harmful]),
            "harmless_flagged_by_kind": {k: _rate(anyflag[wr & ~harmful & (kinds == k)]) for k in sorted(set(kinds[wr & ~harmful]))},
        }  # fmt: skip
    return out


def _rate(f: np.ndarray) -> dict:
    return {"n": int(f.size), "flagged": int(f.sum()), "rate": round(float(f.mean()), 4) if f.size else 0.0}


def features(train: list[Row], log=print, skip: tuple[str, ...] | None = None):
    """The train split's design matrix and word table (the same for every row weighting); the
    table holds no word seen only in written rows when the word categories skip them."""
    codes = codes_of([r.text for r in train])
    x = design_matrix(codes, MAX_N, BITS)
    skip = WRITTEN_SKIP if skip is None else skip
    own = set(WORD_CATEGORIES) <= set(skip)
    words = WordTable(seen_words(jieba_words(), [c for c, r in zip(codes, train) if not (own and r.source == "written_zh")]), WORD_BITS)
    log(f"  classifier: word table {len(words)} words ({words.dropped} lost to slot collisions)")
    return x, words


def _written_labels(r: Row, not_negative: set[str], skip: set[str]) -> frozenset[str]:
    """A written row's training labels: a skipped category's label becomes its ``?`` marker (the
    categories that ignore the category ignore the marker too); every written row carries
    ``WRITTEN_MARK`` (ignored by the skipped categories) and a harmful one ``WRITTEN_HARMFUL_MARK``
    (ignored by ``not_negative``)."""
    if r.source != "written_zh":
        return r.labels
    labels = frozenset(f"?{c}" if c in skip else c for c in r.labels) | {WRITTEN_MARK}
    return labels | {WRITTEN_HARMFUL_MARK} if r.labels else labels


def _written_ignore(not_negative: set[str], skip: set[str]) -> dict[str, set[str]]:
    out = {}
    for c, v in IGNORE.items():
        v = v | {f"?{s}" for s in skip if s in v}
        out[c] = v | ({WRITTEN_MARK} if c in skip else set()) | ({WRITTEN_HARMFUL_MARK} if c in not_negative else set())
    return out


def _out_of_fold(train: list[Row], labels, ignore, x, row_weight, heads: list[str], folds: int, log) -> tuple[list[str], np.ndarray]:
    """The written harmless train rows and their scores by models that did not see their fold
    (only ``heads`` scored; the other columns 0)."""
    fold = np.array([bucket("written_zh", r.text) % folds if r.source == "written_zh" else -1 for r in train])
    target = np.array([r.source == "written_zh" and not r.labels for r in train])
    texts, out = [], []
    for k in range(folds):
        keep = fold != k
        m = train_multi(
            [r.text for r, kk in zip(train, keep) if kk], [lab for lab, kk in zip(labels, keep) if kk], heads, ignore, C, MAX_N, BITS, POS_WEIGHT, None,
            x[keep], row_weight[keep],
        )  # fmt: skip
        m.weights = m.weights.astype(np.float16).astype(np.float32)
        sel = [r.text for r, t, f in zip(train, target, fold) if t and f == k]
        p = np.zeros((len(sel), len(CATEGORIES)))
        p[:, [CATEGORIES.index(c) for c in heads]] = _probs(m, sel)
        texts += sel
        out.append(p)
        log(f"  out of fold {k + 1}/{folds}: {len(sel)} written harmless rows")
    return texts, np.vstack(out)


def fit(
    train: list[Row], val: list[Row], log=print, written_weight: float | None = None, x=None, words=None, not_negative: tuple[str, ...] | None = None,
    skip: tuple[str, ...] | None = None, own_group: bool | None = None, oof_folds: int | None = None,
    level_rule: tuple[str, float] | None = None,
) -> Model:  # fmt: skip
    """Train on ``train`` and calibrate on ``val``: the build's model, and what val-only
    comparisons of settings call (``classifier_choice``); ``x``, ``words`` from ``features``.
    The heads the written rows train also get their corroboration levels (``classifier_levels``,
    ``level_rule`` or the build's ``LEVEL_RULE``) in ``meta["corroborate"]``."""
    skip = WRITTEN_SKIP if skip is None else skip
    if x is None or words is None:
        x, words = features(train, log, skip)
    ww = WRITTEN_WEIGHT if written_weight is None else written_weight
    row_weight = np.array([_row_weight(r, ww) for r in train])
    nn = set(WRITTEN_NOT_NEGATIVE if not_negative is None else not_negative)
    labels = [_written_labels(r, nn, set(skip)) for r in train]
    ignore = _written_ignore(nn, set(skip))
    model = train_multi(
        [r.text for r in train], labels, CATEGORIES, ignore, C, MAX_N, BITS, POS_WEIGHT, lambda m: log(f"  {m}"), x, row_weight,
        words, WORD_CATEGORIES, WORD_AVERAGE,
    )  # fmt: skip
    # Calibrate on the float16 weights the package ships, so thresholds match what is scored.
    model.weights = model.weights.astype(np.float16).astype(np.float32)
    model.word_weights = model.word_weights.astype(np.float16).astype(np.float32)
    # Each harmless source within budget on its own: COLD's ~1,300 safe val rows must not
    # outvote CValues' ~70 (questions about groups look like JADE's discrimination questions).
    # Written harmless rows: a group of their own (``WRITTEN_OWN_GROUP``) or with the other small
    # sources (generated, Flames, XSafety).
    src = np.array([r.source for r in val])
    own = WRITTEN_OWN_GROUP if own_group is None else own_group
    apart = ["cold", "cvalues", "written_zh"] if own else ["cold", "cvalues"]
    groups = [src == s for s in apart] + [~np.isin(src, apart)]
    probs = _probs(model, [r.text for r in val])
    folds = WRITTEN_OOF_FOLDS if oof_folds is None else oof_folds
    heads = [c for c in CATEGORIES if c not in skip]
    if folds and heads and own:
        oof_texts, oof_probs = _out_of_fold(train, labels, ignore, x, row_weight, heads, folds, log)
        n = len(oof_texts)
        cal_labels = [r.labels for r in val] + [frozenset()] * n
        cal_src = np.concatenate([src, np.full(n, "written_zh")])
        cal_groups = [cal_src == s for s in apart] + [~np.isin(cal_src, apart)]
        cal_probs = np.vstack([probs, oof_probs])
    else:
        cal_labels, cal_probs, cal_groups = [r.labels for r in val], probs, groups
    calibrate(model, None, cal_labels, MAX_FPR, cal_probs, cal_groups)
    if heads:
        model.meta["corroborate"] = levels(model, cal_probs, cal_labels, cal_groups, heads, level_rule or LEVEL_RULE)
    if FLAG_THRESHOLDS:
        model.meta["flag_thresholds"] = dict(FLAG_THRESHOLDS)
    if skip:
        # A head the written rows do not train is calibrated without them too: it is the model
        # it would be without them (weights and threshold).
        keep = src != "written_zh"
        own_th = dict(model.thresholds)
        calibrate(model, [r.text for r, k in zip(val, keep) if k], [r.labels for r, k in zip(val, keep) if k], MAX_FPR, probs[keep], [g[keep] for g in groups])
        model.thresholds = {c: model.thresholds[c] if c in skip else own_th[c] for c in model.categories}
    return model


def build(data_dir: Path, out_dir: Path, log=print) -> dict:
    env = environment()
    shipped_env = load_manifest().get("steps", {}).get("classifier", {}).get("settings", {}).get("environment")
    diff = environment_differences(shipped_env, env)
    if diff:
        log("  classifier: WARNING: this machine's build environment differs from the shipped model's, so this build will not reproduce "
            f"shipped/classifier.npz byte for byte / 构建环境与内置模型不同: {'; '.join(diff)}")  # fmt: skip
    with one_blas_thread():
        return _build(data_dir, out_dir, env, log)


def _build(data_dir: Path, out_dir: Path, env: dict, log=print) -> dict:
    t0 = time.perf_counter()
    rows, inputs = load_rows(data_dir)
    train = [r for r in rows if r.split == "train"]
    val = [r for r in rows if r.split == "val"]
    test = [r for r in rows if r.split == "test"]
    log(f"  classifier: {len(train)} train, {len(val)} val, {len(test)} test rows")
    model = fit(train, val, log)
    calibrated = {c: model.thresholds[c] for c in SET_THRESHOLDS}
    model.thresholds |= SET_THRESHOLDS
    figures = measure(model, test)  # the model's own heads: a reach column flags through the check only
    from fenghuo.checks.build.classifier_reach import add_reach  # it reads this module's settings

    model, reach = add_reach(model, rows, log)
    model.meta.update(
        {"built_by": "fenghuo.checks.build.classifier", "min_han_share": MIN_HAN_SHARE, "heldout": {"cold_dev_macro_f1": figures["cold_dev"]["macro_f1"], "fpr_cvalues": figures.get("fpr_cvalues", {}).get("rate")}}
    )  # fmt: skip
    path = model.save(out_dir / OUT)
    counts = defaultdict(lambda: defaultdict(int))
    for r in rows:
        counts[r.source][r.split] += 1
    cvalues_test = sorted(r.text for r in test if r.source == "cvalues")
    # A model with written heads records their corroboration levels and the rule beside the
    # thresholds; one without (the shipped one until session 20) keeps the manifest it had.
    declared = {"corroborate": model.meta["corroborate"], "corroborate_rule": list(LEVEL_RULE)} if model.meta.get("corroborate") else {}
    declared |= {"flag_thresholds": model.meta["flag_thresholds"]} if model.meta.get("flag_thresholds") else {}
    declared |= {"set_thresholds": dict(SET_THRESHOLDS), "calibrated_thresholds": calibrated} if SET_THRESHOLDS else {}
    declared |= {"reach": reach} if reach else {}
    return declared | {
        "inputs": [file_record(data_dir, data_dir / rel) for rel in inputs],
        "written_inputs": [file_record(WRITTEN_ZH_DIR, p) for p in written_zh_files()],
        "artefacts": [artefact_record(out_dir, path)],
        "settings": {
            "categories": CATEGORIES, "ignore": {k: sorted(v) for k, v in IGNORE.items()}, "bits": BITS, "max_n": MAX_N, "c": C,
            "pos_weight": POS_WEIGHT, "generated_negative_weight": GEN_NEGATIVE_WEIGHT, "written_weight": WRITTEN_WEIGHT, "written_not_negative": list(WRITTEN_NOT_NEGATIVE), "written_skip": list(WRITTEN_SKIP), "written_own_calibration_group": WRITTEN_OWN_GROUP, "written_heads": list(WRITTEN_HEADS), "written_oof_folds": WRITTEN_OOF_FOLDS,
            "real_negative_weight": dict.fromkeys(REAL_NEGATIVE_SOURCES, REAL_NEGATIVE_WEIGHT), "max_fpr_val": MAX_FPR, "storage": "float16", "seed": SEED, "generated_per_kind": GEN_PER_KIND,
            "split": "bucket = sha1(source NUL text)[:4] mod 100; COLD train.csv <90 train else val, dev.csv test; JADE/XSafety <70 train, <85 val, "
                     "else test; CValues <35 train, <50 val, else test (held-out half); generated train templates <85 train else val, held-out templates test; "
                     f"written_zh (build/written_zh) <{WRITTEN_SPLIT[0]} train, <{sum(WRITTEN_SPLIT)} val, else test",
            "cvalues_test_rows": len(cvalues_test),
            "environment": env,
            "words": {
                "dictionary": f"jieba {jieba_version()} dict.txt", "dictionary_sha256": sha256_file(jieba_dictionary()),
                "rule": "jieba words of 2-4 characters (normalised) occurring in the train split, most frequent first",
                "count": len(model.words), "dropped": model.words.dropped, "bits": WORD_BITS, "categories": list(WORD_CATEGORIES), "average_with_char_only": WORD_AVERAGE,
            },
        },
        "thresholds": dict(model.thresholds),
        "rows": {k: dict(v) for k, v in sorted(counts.items())},
        "figures": figures,
        "seconds": round(time.perf_counter() - t0, 1),
    }  # fmt: skip
