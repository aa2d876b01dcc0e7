"""Does cleaning COLD's conflicting training labels lift the offensive head at 3 % FPR?

Session 6 found COLD's labels in conflict (93 % of its train rows naming 歧视 are offensive, 88 %
of those opposing it; its safe rows discuss the same groups in the same words). A standard
remedy for label noise is to find the training rows whose out-of-fold prediction disagrees
strongly with their label and drop or down-weight them before the final fit ("confident
learning"). This measures it the way session 8 measured word features: 5-fold cross-validation
over COLD's train.csv (the build's train + val; fold = the COLD split bucket's fifth), recall
at 3 % of the fold's safe rows flagged, read against the fold's labels as they are.

Inside each outer fold only its training rows are used to find suspects: the other four folds
each get out-of-fold scores from a char 1-3-gram NB-LR trained without them (and without the
outer fold). A COLD row labelled offensive scoring below ``lo`` or labelled safe scoring above
``hi`` is a suspect; generated and other sources are never touched. Then the shipped form
(char 1-3-grams averaged with char + `WordTable` FMM words, NB-LR C 8, the build's weights) is
fitted on the cleaned rows and scored on the outer fold.

``--topic-oracle``: instead, how much per-topic score offsets would gain if the topic were known
(COLD's own race / region / gender column; offsets on a grid, chosen on the other four folds'
out-of-fold scores, applied to the fifth) - an upper bound for thresholds that differ by topic.

``nice -n 10 .venv/bin/python -m bench.checks_labelnoise [--only NAMES] [--topic-oracle]``
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import scipy.sparse as sp

from bench.checks_wordfeatures import SHIPPED_FORM, Lab, at_fpr, cv_rows, fit, load, log, paired_gain

# name -> (lo, hi, weight given to suspects: 0 = dropped)
VARIANTS = {
    "none": (None, None, 1.0),
    "drop_10_90": (0.10, 0.90, 0.0),
    "drop_20_80": (0.20, 0.80, 0.0),
    "drop_05_95": (0.05, 0.95, 0.0),
    "weight03_20_80": (0.20, 0.80, 0.3),
    "drop_pos_only_10": (0.10, 1.01, 0.0),
    "drop_neg_only_90": (-1.0, 0.90, 0.0),
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", help="comma-separated variant names (default: all)")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--topic-oracle", action="store_true", help="per-topic offsets with COLD's true topics (an upper bound)")
    a = ap.parse_args(argv)
    names = a.only.split(",") if a.only else list(VARIANTS)
    d = load()
    folds = a.folds
    all_, fold = cv_rows(d, folds)
    y, w0 = all_["y"], all_["w"]
    dk = {"all": all_, "c": d["c"]}
    lab = Lab(dk)
    lab.mine_split = "all"
    x3 = lab.block("char3", "all")

    def fit_score(x, keep, w, test):
        dk["train"] = {"y": y[keep], "w": w[keep]}
        wt, b = fit(x[keep], dk, d["c"])
        return np.asarray(x[test] @ wt + b)

    if a.topic_oracle:
        return topic_oracle(all_, fold, folds, lab, fit_score)
    # Out-of-fold probabilities per outer fold: oof[k][i] for COLD rows outside fold k.
    t0 = time.perf_counter()
    oof = {}
    for k in range(folds):
        p = np.full(len(y), np.nan)
        for j in range(folds):
            if j == k:
                continue
            keep, test = (fold != k) & (fold != j), fold == j
            p[test] = 1 / (1 + np.exp(-fit_score(x3, keep, w0, test)))
        oof[k] = p
    log(f"inner out-of-fold scores: {time.perf_counter() - t0:.0f} s")
    print("| variant | suspects dropped/weighted per fold (pos / neg) | CV recall @ 3 % | − first, points (± SE) | CV macro-F1 |")
    print("|---|---|---|---|---|")
    first = None
    for name in names:
        lo, hi, sw = VARIANTS[name]
        rec, f1, npos, nneg = [], [], [], []
        for k in range(folds):
            lab.mine_mask, lab.fold_tag = fold != k, k
            test, keep = fold == k, fold != k
            w = w0.copy()
            if lo is not None:
                p = oof[k]
                sus_pos = keep & all_["cold"] & y & (p < lo)
                sus_neg = keep & all_["cold"] & ~y & (p > hi)
                w[sus_pos | sus_neg] *= sw
                npos.append(int(sus_pos.sum()))
                nneg.append(int(sus_neg.sum()))
            total = 0.0
            for blocks in SHIPPED_FORM:
                x = sp.hstack([lab.block(b, "all") for b in blocks]).tocsr()
                kk = keep & (w > 0)
                total = total + fit_score(x, kk, w, test) / len(SHIPPED_FORM)
            r = at_fpr(np.asarray(total), y[test])
            rec.append(r["recall"])
            f1.append(r["macro_f1"])
        rec = np.array(rec)
        first = rec if first is None else first
        gain = paired_gain(rec, first)
        sus = f"{np.mean(npos):.0f} / {np.mean(nneg):.0f}" if npos else "—"
        print(f"| {name} | {sus} | {rec.mean():.3f} | {gain} | {np.mean(f1):.3f} |", flush=True)
    return 0


def topic_oracle(all_: dict, fold: np.ndarray, folds: int, lab: Lab, fit_score) -> int:
    import csv
    import itertools

    from fenghuo.platform.paths import shared_data_dir

    y, w = all_["y"], all_["w"]
    oof = np.full(len(y), np.nan)
    for k in range(folds):
        lab.mine_mask, lab.fold_tag = fold != k, k
        for blocks in SHIPPED_FORM:
            x = sp.hstack([lab.block(b, "all") for b in blocks]).tocsr()
            oof[fold == k] = np.nan_to_num(oof[fold == k]) + fit_score(x, fold != k, w, fold == k) / len(SHIPPED_FORM)
    with (shared_data_dir() / "classifier" / "cold" / "train.csv").open(encoding="utf-8-sig", newline="") as fh:
        topic_of = {r["TEXT"].strip(): r["topic"] for r in csv.DictReader(fh)}
    m = fold >= 0
    s, yy, f = oof[m], y[m], fold[m]
    t = np.array([topic_of.get(r.text, "?") for r, k in zip(all_["rows"], m) if k])
    topics = sorted(set(t))
    grid = np.arange(-1.5, 1.51, 0.25)  # logit offsets; the first topic stays at 0
    base, tuned = [], []
    for k in range(folds):
        tr, te = f != k, f == k
        best, off = -1.0, None
        for o in itertools.product(grid, repeat=len(topics) - 1):
            o = dict(zip(topics, (0.0, *o)))
            r = at_fpr(s[tr] + np.array([o[x] for x in t[tr]]), yy[tr])["recall"]
            if r > best:
                best, off = r, o
        base.append(at_fpr(s[te], yy[te])["recall"])
        tuned.append(at_fpr(s[te] + np.array([off[x] for x in t[te]]), yy[te])["recall"])
        log(f"fold {k}: offsets {off}, recall {base[-1]:.3f} -> {tuned[-1]:.3f}")
    diff = np.array(tuned) - np.array(base)
    print(
        f"| per-topic offsets, true topics | {np.mean(base):.3f} -> {np.mean(tuned):.3f} | {diff.mean() * 100:+.1f} (± {diff.std(ddof=1) / math.sqrt(folds) * 100:.1f}) |"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
