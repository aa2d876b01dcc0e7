"""The cost per message of the word matchers measured by ``bench.checks_wordfeatures`` (issue 12,
session 8), split from it to keep each file short: ``python -m bench.checks_wordfeatures --cost``.
Python (Aho-Corasick, numpy table lookups, jieba) and a C sketch of the loop a kernel beside the
n-gram one would run, timed per 1 KB and 50-character cut of COLD dev text, beside the shipped
classifier's own scoring."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from bench.checks_wordfeatures import WBITS, Matcher, jieba_words
from fenghuo.checks.normalize import default_normaliser

# --- cost per message ----------------------------------------------------------------------------


def messages() -> dict[str, list[str]]:
    """1 KB (≤ 1,024 UTF-8 bytes, ~340 characters) and 50-character cuts of COLD dev text, as
    the pipeline timing cuts them (only timed, never scored)."""
    from bench.checks_quality import cold_messages

    kb = cold_messages(200)
    return {"1 KB": kb, "50 chars": [m[:50] for m in kb]}


def _timed(fn, items, repeat: int = 5) -> float:
    """Median over ``repeat`` passes of the per-item mean, µs (thread CPU time)."""
    per = []
    for _ in range(repeat):
        t0 = time.thread_time()
        for it in items:
            fn(it)
        per.append((time.thread_time() - t0) / len(items) * 1e6)
    return float(np.median(per))


# The same lookups in C (ctypes, compiled into a temporary directory when a compiler is at hand):
# what a kernel beside the n-gram one would cost. ``fmm`` = forward maximum matching: at each
# position the longest dictionary word of 4..2 characters, else one character.
C_SOURCE = r"""
#include <stdint.h>
/* entries: words.WordTable.entries (tag << 32 | id + 1); w: a weight per word id */
static inline int64_t probe(uint64_t k, const uint64_t *entries, int sh) {
    uint64_t h = k * 0xD6E8FEB86659FD93ULL, e = entries[h >> sh];
    return (e >> 32) == (h & 0xFFFFFFFFULL) ? (int64_t)(e & 0xFFFFFFFFULL) - 1 : -1;
}
double words_sum(const uint32_t *c, long n, const uint64_t *entries, const float *w, int bits, int fmm) {
    const uint64_t P = 1000003ULL; int sh = 64 - bits; double s = 0; int64_t id;
    for (long i = 0; i + 1 < n;) {
        uint64_t k = c[i], keys[3]; int lens = 0;
        for (int L = 2; L <= 4 && i + L - 1 < n; L++) { k = k * P + c[i + L - 1]; keys[lens++] = k; }
        if (!fmm) { for (int j = 0; j < lens; j++) if ((id = probe(keys[j], entries, sh)) >= 0) s += w[id]; i++; continue; }
        long step = 1;
        for (int j = lens - 1; j >= 0; j--) if ((id = probe(keys[j], entries, sh)) >= 0) { s += w[id]; step = j + 2; break; }
        i += step;
    }
    return s;
}
double nothing(const uint32_t *c, long n, const uint64_t *entries, const float *w, int bits, int fmm) { return 0; }
"""


def _c_words():
    import ctypes
    import shutil
    import subprocess
    import tempfile

    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        return None
    tmp = Path(tempfile.mkdtemp(prefix="fenghuo-words-"))
    (tmp / "w.c").write_text(C_SOURCE)
    subprocess.run([cc, "-O2", "-shared", "-fPIC", "-o", str(tmp / "w.so"), str(tmp / "w.c")], check=True)
    lib = ctypes.CDLL(str(tmp / "w.so"))
    for f in (lib.words_sum, lib.nothing):
        f.restype = ctypes.c_double
        f.argtypes = [ctypes.c_void_p, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
    return lib


def cost() -> list[str]:
    import jieba

    from fenghuo.checks.classifier.model import Model, shipped_model_path
    from fenghuo.checks.classifier.words import WordTable
    from fenghuo.checks.classifier.words import jieba_words as by_freq

    jieba.setLogLevel(60)
    jieba.initialize()
    norm = default_normaliser()
    model = Model.load(shipped_model_path())
    words = jieba_words()
    over, longest = Matcher(words, False), Matcher(words, True)
    freq = by_freq()
    full = WordTable(freq, 21)  # all ~320,000 words of 2-4 characters: 2^21 slots, 16 MB
    small = WordTable(freq[:36000], 18)  # the size of the table the build's train rows give, 2 MB
    wfull = np.random.default_rng(1).standard_normal(len(full)).astype(np.float32)  # a weight per word
    wsmall = wfull[: len(small)]
    wtab = np.random.default_rng(0).standard_normal(1 << WBITS).astype(np.float32)  # hashed word buckets

    def ac_score(m: Matcher):
        def f(n):
            ids = m.ids(n.text())
            return float(wtab.take(m.bucket.take(ids)).sum()) if ids else 0.0

        return f

    # Since session 9 the shipped model carries a word table: its cost beside the same weights
    # without it (the yardstick of session 8's rows).
    plain = Model(model.weights.copy(), model.bias.copy(), model.max_n, model.bits, {}, list(model.categories))
    steps = {
        "shipped classifier logits_codes (13 categories, no word table)": lambda n: plain.logits_codes(n.codes),
        "shipped classifier logits_codes (13 categories + its word table)": lambda n: model.logits_codes(n.codes),
        "Normalised.text() (the string the matcher reads)": lambda n: n.text(),
        "AC all jieba words, overlapping + weights": ac_score(over),
        "AC leftmost-longest (forward max. matching) + weights": ac_score(longest),
        "words.WordTable.all_words (numpy), all jieba words of 2-4 characters": lambda n: float(wfull.take(full.all_words(n.codes)).sum()),
        "words.WordTable.segment_words (numpy + a Python walk), 36k words": lambda n: float(
            wsmall.take(small.segment_words(n.codes)).sum()
        ),
        "jieba.lcut (HMM on)": lambda n: jieba.lcut(n.text()),
    }
    from fenghuo.checks.classifier import features

    if model.words is not None and features.NATIVE is not None and hasattr(features.NATIVE, "fmm_words"):
        fmm, entries = features.NATIVE.fmm_words, model.words.entries
        steps["_clfnative.fmm_words: the kernel's walk over the shipped table, with its call"] = lambda n: fmm(entries, n.codes)
    lib = _c_words()
    if lib is not None:

        def c_call(fn, v, table, fmm):
            # Pointers read once (numpy's ``.ctypes`` costs ~3 µs a call): what remains is the C
            # loop and ctypes' own call overhead (the empty call), which a kernel's C entry
            # point taking the array directly would not pay.
            tp, wp, bits = v.entries.ctypes.data, table.ctypes.data, v.bits
            return lambda n: fn(ptrs[id(n)], n.codes.size, tp, wp, bits, fmm)

        steps |= {
            "C, ctypes: empty call (the overhead in the rows below)": c_call(lib.nothing, full, wfull, 0),
            "C, ctypes: all jieba words of 2-4 characters (2^21 slots)": c_call(lib.words_sum, full, wfull, 0),
            "C, ctypes: forward max. matching, all jieba words (2^21 slots)": c_call(lib.words_sum, full, wfull, 1),
            "C, ctypes: all words, 36k-word table (2^18 slots)": c_call(lib.words_sum, small, wsmall, 0),
            "C, ctypes: forward max. matching, 36k-word table": c_call(lib.words_sum, small, wsmall, 1),
        }
    out, ptrs = [], {}
    for size, msgs in messages().items():
        ns = [norm.normalise(m) for m in msgs]
        ptrs.update({id(n): n.codes.ctypes.data for n in ns})
        matches = np.mean([len(over.ids(n.text())) for n in ns])
        for name, fn in steps.items():
            fn(ns[0])
            reps = 1 if name.startswith("jieba") else 5
            out.append(f"| {size} | {name} | {_timed(fn, ns, reps):.1f} |")
        out.append(f"| {size} | (overlapping jieba words per message: {matches:.0f}) | |")
    return ["| message | step | µs (CPU, median of 5 passes over 200) |", "|---|---|---|", *out]
