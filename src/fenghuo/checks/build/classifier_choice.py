"""Choosing the written rows' weight of the Chinese classifier on the val split only.

``python -m fenghuo.checks.build.classifier_choice [--data DIR] [WEIGHT ...]`` trains the build's
model (``classifier.fit``: same rows, features, calibration) once per weight and prints the val
figures the choice reads, beside the shipped model's on the same val rows (its thresholds as
shipped). Nothing here reads a test split: COLD dev, CValues' held-out half, the held-out
templates and the written rows' test split stay unread, and so do the written dev sets of
``tests/checks/data/written_zh/``.

The heads the written rows train (``classifier.WRITTEN_SKIP``), whether written harmful rows are
other categories' negatives (``WRITTEN_NOT_NEGATIVE``) and whether written harmless rows are their
own calibration group (``WRITTEN_OWN_GROUP``) were compared with this script too (``--skip``,
``--not-negative``, ``--pooled``; session 17's readings are in docs/checks.md). The build trains
no head on written rows since session 17, so try heads with ``--heads``: session 17's candidate
was ``--heads discrimination,violence,terrorism,harm,misinformation`` (weight 8 chosen).

``--levels share:Q`` / ``fraction:F`` sets the rule of the written heads' corroboration levels
(``classifier_levels``; printed as ``corroborate`` and saved with ``--save``). The val figures
below are the model's own flags, which the levels do not change: they act in the pipeline, on
lexicon topic words, so a candidate's levels are judged on the whole pipeline.

Rule (``choose``), fixed before the first reading: among the weights whose COLD val macro-F1 is
within ``COLD_SLACK`` of the shipped model's and whose CValues val and written harmless val rows
flagged are no more than the shipped model's, the best mean of written harmful val recall, JADE
val recall and XSafety val recall (any category); within ``TIE`` of the best, the smallest weight.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from fenghuo.checks.build.classifier import MIN_HAN_SHARE, _flags, _probs, features, fit
from fenghuo.checks.build.classifier_data import CATEGORIES, Row, load_rows
from fenghuo.checks.build.classifier_levels import parse_rule
from fenghuo.checks.classifier.model import Model

WEIGHTS = (1.0, 2.0, 4.0, 8.0)
COLD_SLACK = 0.005
TIE = 0.005


def val_figures(model: Model, val: list[Row]) -> dict:
    """What the choice reads, on val rows only (thresholds as the model carries them)."""
    flags = _flags(model, _probs(model, [r.text for r in val]))
    anyf = flags.any(1)
    src = np.array([r.source for r in val])
    harmful = np.array([bool(r.labels) for r in val])

    def rate(m: np.ndarray) -> dict:
        return {"n": int(m.sum()), "flagged": int(anyf[m].sum()), "rate": round(float(anyf[m].mean()), 4) if m.any() else 0.0}

    cold = src == "cold"
    tp, fp = int((anyf & harmful & cold).sum()), int((anyf & ~harmful & cold).sum())
    fn, tn = int((~anyf & harmful & cold).sum()), int((~anyf & ~harmful & cold).sum())
    macro = (2 * tp / (2 * tp + fp + fn) + 2 * tn / (2 * tn + fn + fp)) / 2
    wr = src == "written_zh"
    out = {
        "cold_val_macro_f1": round(macro, 4), "cold_val_harmless": rate(cold & ~harmful),
        "cvalues_val": rate(src == "cvalues"), "jade_val": rate((src == "jade") & harmful), "xsafety_val": rate((src == "xsafety") & harmful),
        "written_val_harmful": rate(wr & harmful), "written_val_harmless": rate(wr & ~harmful),
        "generated_val_harmless": rate(np.char.startswith(src.astype(str), "gen_") & ~harmful),
        "written_val_per_label": {},
        "cold_val_offensive_caught_by": {c: int(flags[cold & harmful, k].sum()) for k, c in enumerate(model.categories) if flags[cold & harmful, k].any()},
        "written_val_harmless_flagged_by": {c: int(flags[wr & ~harmful, k].sum()) for k, c in enumerate(model.categories) if flags[wr & ~harmful, k].any()},
        "cold_val_harmless_flagged_by": {c: int(flags[cold & ~harmful, k].sum()) for k, c in enumerate(model.categories) if flags[cold & ~harmful, k].any()},
        "thresholds": dict(model.thresholds),
    }  # fmt: skip
    for cat in model.categories:
        m = wr & np.array([cat in r.labels for r in val])
        if m.any():
            out["written_val_per_label"][cat] = rate(m)
    out["score"] = round((out["written_val_harmful"]["rate"] + out["jade_val"]["rate"] + out["xsafety_val"]["rate"]) / 3, 4)
    return out


def choose(shipped: dict, by_weight: dict[float, dict]) -> float | None:
    """The rule in the module docstring; None when no weight keeps the shipped model's bounds."""
    ok = {
        w: f for w, f in by_weight.items()
        if f["cold_val_macro_f1"] >= shipped["cold_val_macro_f1"] - COLD_SLACK
        and f["cvalues_val"]["flagged"] <= shipped["cvalues_val"]["flagged"]
        and f["written_val_harmless"]["flagged"] <= shipped["written_val_harmless"]["flagged"]
    }  # fmt: skip
    if not ok:
        return None
    best = max(f["score"] for f in ok.values())
    return min(w for w, f in ok.items() if f["score"] >= best - TIE)


def main(argv: list[str] | None = None) -> int:
    from fenghuo.checks.classifier.model import shipped_model_path
    from fenghuo.platform.paths import shared_data_dir

    ap = argparse.ArgumentParser(prog="python -m fenghuo.checks.build.classifier_choice", description=__doc__.split("\n\n")[0])
    ap.add_argument("weights", nargs="*", type=float, default=list(WEIGHTS))
    ap.add_argument("--data", type=Path, default=None)
    ap.add_argument("--not-negative", default=None, help="comma-separated categories written harmful rows are not negatives of (default: the build's)")
    ap.add_argument("--skip", default=None, help="comma-separated categories whose heads never see written rows (default: the build's)")
    ap.add_argument("--heads", default=None, help="comma-separated categories the written rows train (the others skip them; overrides --skip)")
    ap.add_argument("--pooled", action="store_true", help="calibrate written harmless val rows with the other small sources")
    ap.add_argument("--save", type=Path, default=None, help="directory to save each weight's model in (classifier_w<weight>.npz)")
    ap.add_argument("--levels", type=parse_rule, default=None, help="the written heads' corroboration levels: share:Q or fraction:F (default: the build's LEVEL_RULE)")
    args = ap.parse_args(argv)
    data = args.data or shared_data_dir()
    rows, _ = load_rows(Path(data))
    train = [r for r in rows if r.split == "train"]
    val = [r for r in rows if r.split == "val"]
    shipped = val_figures(Model.load(shipped_model_path()), val)
    print(json.dumps({"shipped": shipped}, ensure_ascii=False), flush=True)
    skip = None if args.skip is None else tuple(c for c in args.skip.split(",") if c)
    if args.heads is not None:
        skip = tuple(c for c in CATEGORIES if c not in args.heads.split(","))
    x, words = features(train, lambda m: print(m, file=sys.stderr), skip)
    by_weight = {}
    for w in args.weights:
        t0 = time.perf_counter()
        nn = None if args.not_negative is None else tuple(c for c in args.not_negative.split(",") if c)
        model = fit(train, val, lambda m: None, w, x, words, nn, skip, not args.pooled, level_rule=args.levels)
        by_weight[w] = val_figures(model, val)
        if args.save:
            args.save.mkdir(parents=True, exist_ok=True)
            model.meta.update({"built_by": "fenghuo.checks.build.classifier_choice", "min_han_share": MIN_HAN_SHARE, "written_weight": w})
            model.save(args.save / f"classifier_w{w:g}.npz")
        print(json.dumps({"weight": w, "not_negative": nn, "skip": skip, "pooled": args.pooled, "seconds": round(time.perf_counter() - t0, 1),
                          "corroborate": model.meta.get("corroborate"), **by_weight[w]}, ensure_ascii=False), flush=True)
    print(json.dumps({"chosen": choose(shipped, by_weight)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
