"""Word features for the offensive head (issue 12, session 8): can an affordable word-level
signal lift the head's recall at 3 % of harmless rows flagged from ~0.75 towards the ~0.80 that
COLD dev macro-F1 0.88 needs?

The head is trained as ``checks.build.classifier`` trains its offensive column: the build's
train rows (COLD 90 % + JADE/XSafety/CValues/Flames/generated), rows of the related categories
(discrimination, harm) left out of the negatives, generated and real harmless rows weighted 4,
NB-LR (liblinear) at C 8. Every variant adds columns beside the shipped char 1-3-grams (2^18)
and is read on COLD val (the build's 10 %, ~2,500 rows): the threshold that flags 3 % of val's
safe rows, recall of its offensive rows there and macro-F1 there. COLD dev is read only for the
variants named with ``--dev`` (chosen on val first, never the other way round).

    nice -n 10 .venv/bin/python -m bench.checks_wordfeatures            # val table
    nice -n 10 .venv/bin/python -m bench.checks_wordfeatures --dev base,ac_jieba_bin
    nice -n 10 .venv/bin/python -m bench.checks_wordfeatures --cost     # µs per message

Word sources: jieba's bundled dictionary (words of ≥ 2 characters, normalised like the text);
words mined from COLD train alone (2-4-character n-grams seen ≥ 5 times whose PMI is high);
jieba.lcut itself (the costly reference). Matching: every overlapping dictionary word
(Aho-Corasick, ``ahocorasick_rs``), or leftmost-longest (forward maximum matching, a cheap
segmentation) with the word bigrams of that segmentation.
"""

from __future__ import annotations

import argparse
import math
import sys
import time

import numpy as np
import scipy.sparse as sp

from bench.checks_wordmatch import (
    WBITS,
    Matcher,
    _rows_to_csr,
    ac_features,
    char_features,
    jieba_words,
    lexicon_features,
    mined_words,
    token_features,
)
from fenghuo.checks.normalize import default_normaliser

FPR = 0.03


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --- data -------------------------------------------------------------------------------------


def load() -> dict:
    """The offensive head's train rows (as the build builds them), COLD val and COLD dev."""
    from fenghuo.checks.build.classifier import C, _row_weight
    from fenghuo.checks.build.classifier_data import IGNORE, load_rows
    from fenghuo.platform.paths import shared_data_dir

    rows, _ = load_rows(shared_data_dir())
    related = IGNORE["offensive"]
    train = [r for r in rows if r.split == "train" and r.source != "written_zh" and ("offensive" in r.labels or not (r.labels & related))]
    val = [r for r in rows if r.split == "val" and r.source == "cold"]
    dev = [r for r in rows if r.split == "test" and r.source == "cold"]
    norm = default_normaliser()
    out = {"c": C["offensive"]}
    for name, rs in (("train", train), ("val", val), ("dev", dev)):
        ns = [norm.normalise(r.text) for r in rs]
        out[name] = {
            "rows": rs, "codes": [n.codes for n in ns], "text": [n.text() for n in ns], "raw": [r.text for r in rs],
            "y": np.array(["offensive" in r.labels for r in rs]), "cold": np.array([r.source == "cold" for r in rs]),
        }  # fmt: skip
    out["train"]["w"] = np.array([_row_weight(r) for r in train])
    log(f"rows: train {len(train)}, COLD val {len(val)} ({int(out['val']['y'].sum())} offensive), COLD dev {len(dev)}")
    return out


# --- fitting and reading off ---------------------------------------------------------------------


def fit(x: sp.csr_matrix, d: dict, c: float) -> tuple[np.ndarray, float]:
    """NB-LR as the build fits the offensive column (``classifier.train.fit_one``)."""
    from fenghuo.checks.classifier.train import fit_one

    return fit_one(x.tocsr(), d["train"]["y"].astype(int), c, 1.0, d["train"]["w"])


def at_fpr(scores: np.ndarray, y: np.ndarray, fpr: float = FPR) -> dict:
    """Recall and macro-F1 at the lowest threshold flagging at most ``fpr`` of the safe rows."""
    neg = np.sort(scores[~y])[::-1]
    k = int(math.floor(fpr * neg.size))
    t = np.nextafter(neg[k], np.inf) if k < neg.size else -np.inf
    pred = scores >= t
    tp, fp = int((pred & y).sum()), int((pred & ~y).sum())
    fn, tn = int((~pred & y).sum()), int((~pred & ~y).sum())
    f1p, f1n = 2 * tp / (2 * tp + fp + fn), 2 * tn / (2 * tn + fn + fp)
    return {"recall": tp / (tp + fn), "macro_f1": (f1p + f1n) / 2, "fpr": fp / (fp + tn)}


class Lab:
    """Feature blocks by name, built once per split; a variant is a list of blocks."""

    def __init__(self, d: dict):
        self.d = d
        self.cache: dict[tuple[str, str], sp.csr_matrix] = {}
        self.matchers: dict[str, Matcher] = {}
        self._words: dict[str, list[str]] = {}
        self.mine_split, self.mine_mask = "train", None  # cross-validation mines each fold's own words
        self.fold_tag = None

    def words(self, src: str) -> list[str]:
        if src in ("mined", "seen"):
            src = f"{src}:{self.fold_tag}"
        if src not in self._words:
            t0 = time.perf_counter()
            if src == "jieba":
                self._words[src] = jieba_words()
            elif src.startswith("seen"):  # jieba's 2-4-character words occurring in the training rows, most frequent first
                from fenghuo.checks.classifier.words import jieba_words as by_freq

                tr = self.d[self.mine_split]
                if "row_ids" not in self.__dict__:  # once: each row's words, jieba's by frequency
                    m = self.matcher("jieba", False)
                    self.row_ids = [set(m.ids(t)) for t in tr["text"]]
                    norm = default_normaliser()
                    self.by_freq = [norm.normalise_text(w) for w in by_freq()]
                mask = self.mine_mask if self.mine_mask is not None else [True] * len(self.row_ids)
                ids = set().union(*(r for r, k in zip(self.row_ids, mask) if k))
                seen = {self.matcher("jieba", False).words[i] for i in ids}
                self._words[src] = list(dict.fromkeys(w for w in self.by_freq if w in seen))
            else:  # mined from COLD train only (in cross-validation: the fold's training rows)
                tr = self.d[self.mine_split]
                mask = tr["cold"] if self.mine_mask is None else tr["cold"] & self.mine_mask
                self._words[src] = mined_words([t for t, c in zip(tr["text"], mask) if c])
            log(f"{src} words: {len(self._words[src])} ({time.perf_counter() - t0:.1f} s)")
        return self._words[src]

    def matcher(self, src: str, longest: bool) -> Matcher:
        key = f"{src}:{longest}:{self.fold_tag if src == 'mined' else ''}"
        if key not in self.matchers:
            self.matchers[key] = Matcher(self.words(src), longest)
        return self.matchers[key]

    def block(self, name: str, split: str) -> sp.csr_matrix:
        key = (name, split, self.fold_tag if name.startswith(("acm", "fmmt")) else None)
        if key in self.cache:
            return self.cache[key]
        s = self.d[split]
        kind, _, opt = name.partition(":")
        binary = opt != "cnt"  # for fmmt the option is the table's bits
        if kind == "char3":
            x = char_features(s["codes"], 3)
        elif kind == "char4":
            x = char_features(s["codes"], 4)
        elif kind in ("acj", "acm"):  # all overlapping dictionary words: jieba's / mined
            x = ac_features(self.matcher("jieba" if kind == "acj" else "mined", False), s["text"], binary)
        elif kind in ("fmm", "fmm2"):  # forward maximum matching over jieba's words (+ token bigrams)
            m = self.matcher("jieba", True)
            x = token_features([m.tokens(t) for t in s["text"]], binary, True, kind == "fmm2")
        elif kind in ("jb", "jb2"):  # jieba.lcut (the 2 ms reference) (+ token bigrams)
            import jieba

            x = token_features([jieba.lcut(t) for t in s["text"]], binary, True, kind == "jb2")
        elif kind == "fmmt":  # words.WordTable's FMM over the words seen in training (what would ship)
            from fenghuo.checks.classifier.words import WordTable

            tkey = f"table:{self.fold_tag}"
            if tkey not in self._words:
                self._words[tkey] = WordTable(self.words("seen"), int(opt or 18))
                log(f"word table: {len(self._words[tkey])} words, {self._words[tkey].dropped} dropped")
            tab = self._words[tkey]
            x = _rows_to_csr([tab.segment_words(c) for c in s["codes"]], WBITS, True)
        elif kind == "lex":
            x = lexicon_features(s["text"])
        else:
            raise ValueError(name)
        self.cache[key] = x.tocsr()
        return self.cache[key]

    def scores(self, blocks: list[str], splits: tuple[str, ...]) -> dict[str, np.ndarray]:
        xs = {sp_: sp.hstack([self.block(b, sp_) for b in blocks]).tocsr() for sp_ in ("train", *splits)}
        w, b = fit(xs["train"], self.d, self.d["c"])
        return {sp_: xs[sp_] @ w + b for sp_ in splits}


# A variant: (blocks of one model) or "+"-joined models averaged in logit space.
VARIANTS = {
    "base": "char3",
    "char4": "char4",
    "ac_jieba_cnt": "char3 acj:cnt",
    "ac_jieba_bin": "char3 acj",
    "ac_mined_bin": "char3 acm",
    "char4_ac_jieba": "char4 acj",
    "fmm": "char3 fmm",
    "fmm_bigrams": "char3 fmm2",
    "fmm_table18": "char3 fmmt:18",  # words.WordTable, 2^18 slots, the training rows' words
    "fmm_table20": "char3 fmmt:20",
    "jieba_lcut": "char3 jb",
    "jieba_lcut_bigrams": "char3 jb2",
    "lexicon": "char3 lex",
    "ac_jieba_lexicon": "char3 acj lex",
    "avg_base_acwords": "char3 + acj",
    "avg_base_fmm_bigrams": "char3 + fmm2",
    "avg_base_ac_jieba": "char3 + char3 acj",
    "avg_base_ac_jieba_cnt": "char3 + char3 acj:cnt",
    "avg_base_jieba_lcut": "char3 + char3 jb",
    "avg_base_fmm": "char3 + char3 fmm",
    "avg_base_fmm_table18": "char3 + char3 fmmt:18",  # folds into one table: the shippable form
    "avg_base_char4": "char3 + char4",  # control: does averaging two n-gram models alone gain?
}
# The shipped offensive head's form: its feature blocks per averaged part (build: WORD_AVERAGE)
SHIPPED_FORM = [p.split() for p in VARIANTS["avg_base_fmm_table18"].split("+")]


def paired_gain(rec: np.ndarray, first: np.ndarray) -> str:
    """Per-fold recall against the first variant's, in points: mean (± standard error), or "—"
    for the first variant itself."""
    if rec is first:
        return "—"
    diff = rec - first
    return f"{diff.mean() * 100:+.1f} (± {diff.std(ddof=1) / math.sqrt(len(diff)) * 100:.1f})"


def cv_rows(d: dict, folds: int = 5) -> tuple[dict, np.ndarray]:
    """The build's train rows and COLD val as one set (``w``: val rows weighted 1), and each row's
    fold: the COLD split bucket's ``folds``-th part, -1 for the other sources (they always train).
    Shared by the cross-validating benches (this one, checks_labelnoise, checks_wordorder)."""
    from fenghuo.checks.build.classifier_data import bucket

    tr, va = d["train"], d["val"]
    all_ = {
        k: (tr[k] + va[k] if isinstance(tr[k], list) else np.concatenate([tr[k], va[k]]))
        for k in ("rows", "codes", "text", "raw", "y", "cold")
    }
    all_["w"] = np.concatenate([tr["w"], np.ones(len(va["rows"]))])
    fold = np.array([bucket("cold", r.text) * folds // 100 if r.source == "cold" else -1 for r in all_["rows"]])
    return all_, fold


def cross_validate(d: dict, names: list[str], folds: int = 5) -> list[str]:
    """Recall at 3 % FPR on COLD's train.csv (the build's train and val splits) by ``folds``-fold
    cross-validation: fold k holds out the COLD rows whose split bucket (0..99) falls in the
    k-th fifth; every other row of the build's train split trains. ~25,000 scored rows instead
    of val's 2,495, so a 1-2-point difference can be told from noise. Mined words are mined
    from each fold's training rows. Figures: mean over folds, and the paired gain over the first
    variant with its standard error across folds."""
    all_, fold = cv_rows(d, folds)
    out = [f"| variant | CV recall @ {FPR:.0%} (mean of {folds}) | − first, points (± SE) | CV macro-F1 there |", "|---|---|---|---|"]
    first = None
    dk = {"all": all_, "c": d["c"]}
    lab = Lab(dk)  # shared by the folds: only mined words differ per fold
    lab.mine_split = "all"
    for name in names:
        t0 = time.perf_counter()
        rec, f1 = [], []
        for k in range(folds):
            lab.mine_mask, lab.fold_tag = fold != k, k
            test = fold == k
            total = 0.0
            parts = [p.split() for p in VARIANTS[name].split("+")]
            for blocks in parts:
                x = sp.hstack([lab.block(b, "all") for b in blocks]).tocsr()
                keep = ~test
                dk["train"] = {"y": all_["y"][keep], "w": all_["w"][keep]}
                w, b = fit(x[keep], dk, d["c"])
                total = total + (x[test] @ w + b) / len(parts)
            r = at_fpr(np.asarray(total), all_["y"][test])
            rec.append(r["recall"])
            f1.append(r["macro_f1"])
        rec = np.array(rec)
        first = rec if first is None else first
        gain = paired_gain(rec, first)
        out.append(f"| {name} | {rec.mean():.3f} | {gain} | {np.mean(f1):.3f} |")
        print(out[-1], flush=True)
        log(f"cv {name}: {time.perf_counter() - t0:.0f} s")
    return out


def variant_scores(lab: Lab, spec: str, splits: tuple[str, ...]) -> dict[str, np.ndarray]:
    parts = [p.split() for p in spec.split("+")]
    total = dict.fromkeys(splits, 0.0)
    for blocks in parts:
        sc = lab.scores(blocks, splits)
        for s in splits:  # logits averaged: both are logistic regressions' log-odds
            total[s] = total[s] + sc[s] / len(parts)
    return {s: np.asarray(total[s]) for s in splits}


def paired_bootstrap(a: np.ndarray, b: np.ndarray, y: np.ndarray, n: int = 1000, seed: int = 0) -> tuple[float, float, float]:
    """Recall-at-3 %-FPR difference b − a on resamples of the same rows (thresholds re-read on
    each resample): the mean and a 95 % interval, so a gain can be told from sampling noise."""
    rng = np.random.default_rng(seed)
    diffs = []
    for _ in range(n):
        i = rng.integers(0, y.size, y.size)
        diffs.append(at_fpr(b[i], y[i])["recall"] - at_fpr(a[i], y[i])["recall"])
    lo, hi = np.percentile(diffs, [2.5, 97.5])
    return float(np.mean(diffs)), float(lo), float(hi)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", help="comma-separated variant names (default: all)")
    ap.add_argument("--dev", help="comma-separated variants also read on COLD dev (after choosing on val)")
    ap.add_argument("--cost", action="store_true", help="time the word matchers per message instead")
    ap.add_argument("--cv", action="store_true", help="5-fold cross-validation on COLD train.csv instead of val")
    a = ap.parse_args(argv)
    if a.cost:
        from bench.checks_wordcost import cost

        print("\n".join(cost()))
        return 0
    d = load()
    lab = Lab(d)
    names = a.only.split(",") if a.only else list(VARIANTS)
    if a.cv:
        cross_validate(d, names)
        return 0
    dev = set(a.dev.split(",")) if a.dev else set()
    # The first variant named is the baseline of the paired bootstrap (``base`` by default).
    print(
        f"| variant | blocks | val recall @ {FPR:.0%} | − first, points (95 % bootstrap) | val macro-F1 there | dev recall | dev macro-F1 |"
    )
    print("|---|---|---|---|---|---|---|")
    base = None
    for name in names:
        t0 = time.perf_counter()
        splits = ("val", "dev") if name in dev else ("val",)
        sc = variant_scores(lab, VARIANTS[name], splits)
        base = base or sc
        r = {s: at_fpr(sc[s], d[s]["y"]) for s in splits}
        dv = f"{r['dev']['recall']:.3f} | {r['dev']['macro_f1']:.3f}" if "dev" in r else "— | —"
        m, lo, hi = paired_bootstrap(base["val"], sc["val"], d["val"]["y"]) if sc is not base else (0.0, 0.0, 0.0)
        gain = f"{m * 100:+.1f} ({lo * 100:+.1f} to {hi * 100:+.1f})" if sc is not base else "—"
        print(f"| {name} | `{VARIANTS[name]}` | {r['val']['recall']:.3f} | {gain} | {r['val']['macro_f1']:.3f} | {dv} |", flush=True)
        log(f"{name}: {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
