"""Content checks per 50-character message (issue 19), the short-message part of ``bench checks``:
``LexiconCheck.scan`` against bare hyperscan on the same words, all interleaved per repetition,
then the shipped pipeline's per-message p50/p99 (split from ``bench_checks.py`` to keep it short)."""

from __future__ import annotations

import time

import numpy as np

from bench.bench_checks import _cold, _fresh, _load, _no_reload, _round_robin


def _cold50(n: int) -> list[str]:
    """``n`` 50-character cuts of COLD dev text (what one chat message is), in file order."""
    text = "".join(_cold("dev"))
    return [text[i : i + 50] for i in range(0, min(len(text) - 50, 50 * n), 50)]


def _bare_hyperscan(words: list[str], positional: bool = False):
    """Bare hyperscan over the same words, UTF-8 literals on the raw UTF-8 message, a counting
    callback: the floor a Python caller of hyperscan pays per message (no normalisation, no
    spans, no allow-list). ``positional``: ``db.scan``'s arguments passed by position and a
    module-level callback — the binding parses keyword arguments at ~0.5 µs a call, so this is
    the lower floor; the keyword form is the baseline of the earlier runs."""
    import hyperscan

    pats = [w.encode() for w in dict.fromkeys(words) if w]
    db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    db.compile(expressions=pats, ids=list(range(len(pats))), elements=len(pats), literal=True)
    scratch = hyperscan.Scratch(db)

    if positional:

        def scan_pos(m: str) -> int:
            hits: list[int] = []
            db.scan(m.encode(), _count, 0, hits, scratch)
            return len(hits)

        return scan_pos

    def scan(m: str) -> int:
        hits = []
        db.scan(m.encode(), match_event_handler=lambda pid, a, b, f, c: hits.append(pid), scratch=scratch)
        return len(hits)

    return scan


def _count(pid: int, _a: int, _b: int, _f: int, hits: list[int]) -> None:
    hits.append(pid)


_SHORT_HISTORY = (
    "Before the short-message work of issue 19 (commit 7d74a08, load 4): shipped LexiconCheck.scan 10.6 µs = 6.2× bare "
    "hyperscan, pipeline p50 38 µs. Old and new code run alternately in fresh processes on the same models (load ~15): "
    "scan 7.6–8.1 → 4.8–5.5 µs thread CPU against bare hyperscan 1.4–1.5 (5.3× → 3.5–3.7×), pipeline p50 29–32 → 21–23 µs. "
    "What changed: the homophone patterns share the main hyperscan database in a byte form of their own, so a message is "
    "one scan over the main form followed by the homophone form, gathered in one `take` from a two-row table per code "
    "point; `scan` builds no `Normalised` unless something matched; normalisation tests for dropped characters by a bytes "
    "search; the classifier's script share is one gather. What is left is per-call cost of ~8 numpy/hyperscan calls "
    "(~0.3 µs each), the jieba word-boundary check on hits (~13 µs per message with a hit; 1 in 25 COLD cuts on the "
    "shipped lexicon, most of the shared lexicon's cost), the rules check's own pack and two prefilter scans, and the "
    "classifier's gather of ~150 rows from a 13.6 MB weight table (memory-bound under load).\n\n"
    "Rules check, second round (old and new code alternately in fresh processes, load ~6–9): `RulesCheck.find_in` "
    "4.0 → 2.9–3.0 µs thread CPU per 50-character cut, pipeline thread-CPU p50 21.6–24.3 → 19.8–21.8 µs. The prefilter "
    "scans call module-level callbacks writing into a list (no closures, no `Message` before a rule is due) and only the "
    "rules a found literal touches are tested, not all 38; the jieba pre-test `_aligned` is cached per window like "
    "jieba's cuts (helps repeated text, not p50: 72 of 2,000 cuts have a lexicon finding). Left in the rules check: its own "
    "`pack3` of the codes (~0.65 µs; reusing the lexicon's per-message gather would need the lexicon to keep it) and the two scans "
    "(~0.7 + 0.4 µs).\n\n"
    "Third round (commit 4529cab and after; old code d3cc731 and new alternately in fresh processes, load 11–14, thread CPU "
    "per cut): `LexiconCheck.scan` 6.8–7.5 → 5.2–5.4 µs against bare hyperscan 1.6–1.8 µs in the keyword form (4.2–4.5× → "
    "3.0–3.1×) and 1.1–1.3 µs in the positional form (6.0–6.2× → 4.2–5.0×); `RulesCheck.find_in` 3.6–4.2 → 3.0–3.1 µs; "
    "normalise 3.3–3.7 → 2.9–3.1 µs; pipeline p50 wall 25.1–29.1 → 24.3–25.4 µs (mean 34–41 → 32–33 µs). What changed: "
    "`scan` gathers every code point from the fused table, whose rows for dropped and expanded characters are marker bytes "
    "no character's bytes contain, so one `bytes.translate` deletes dropped characters and a memchr finds expansions (no "
    "kept-flags gather, no boolean index, one intp cast); every per-message hyperscan call passes its arguments by position "
    "(the binding's keyword parsing measured ~0.5 µs a call, as much as scanning the message); `Verdict` and `Normalised` "
    "are msgspec Structs (~0.6 → ~0.2 µs to build); the lexicon leaves the packed main form on the message's `Normalised` "
    "for the rules prefilter (no second `pack3`); rules due for a set of several literals are cached; the short-word "
    "window test is cached by the window's codes (no quad decode when it repeats); text is encoded without naming an "
    "error handler unless it holds a lone surrogate. What is left: the numpy path's floor — UTF-32 encode, one gather with "
    "its intp cast, the scan of the main and homophone forms (twice bare's bytes), `Verdict` and the clock — is ~3 µs before "
    "any hit, 2× the keyword baseline and ~2.5× the positional one, so 2× needs the gather and scan in one C call; hits "
    "(87 of 2,000 cuts) ~10 µs each; in the pipeline the classifier (~11–12 µs, half of it), cache contention between "
    "the checks' tables (the pipeline's mean exceeds the sum of its checks alone by ~30 %), cyclic GC (~2.5 µs per message "
    "on the mean: `gc.freeze()` after start-up would help, the service's decision), and the rules check's two prefilter "
    "scans (its normalised-side literals could join the lexicon's database).\n\n"
    "Classifier, fourth round (commit b3314bd; old code 72a0db7 and new alternately in fresh processes, 7 rounds, load 2.8–3.6, thread CPU): `ClassifierCheck.find_in` per 50-character cut 10.0–11.3 → 8.1–9.4 µs (median ratio 0.83; its logits alone 0.75–0.77× interleaved in one process), pipeline p50 wall 22.8–25.2 → 20.2–22.6 µs (median ratio 0.94; thread CPU 22.9–25.4 → 20.3–22.7), per ~1 KB cut the classifier 19.8–21.9 → 19.1–23.6 µs (no change beyond the noise) and the pipeline p50 69.9–80.9 → 66.2–72.4 µs — texts of up to 256 codes hash all their n-grams in one uint64 matmul over overlapping windows of the codes, gather from a 64-byte-aligned table whose 16-float rows are one cache line each with the bias as one more row, and sum with a cached scale vector (8 numpy calls instead of ~16); longer texts keep the reference path; no finding changed on COLD dev rows and cuts, scores within 1e-4.\n\n"
    "Lexicon, fifth round (session 7, on a 2-core AMD EPYC; old code 123cb37 and new interleaved, thread CPU per cut): "
    "`LexiconCheck.scan` 5.66 → 5.17 µs in one process (21 repetitions, load 3.6–5.3; 0.91×) against bare hyperscan "
    "1.99 µs in the keyword form (2.85× → 2.60×) and 1.28 µs in the positional form (4.4× → 4.05×); in fresh processes "
    "run alternately (5 pairs, load 5–6) 0.975× and 2.67–2.90× → 2.53–2.72× the keyword form; normalising a cut with a "
    "dropped character 0.96–0.975×; the pipeline's p50 unchanged within the noise (0.98×). What changed: the fused table "
    "is gathered as 4-byte entries (numpy's `take` copies 4-byte items with a loop of its own, 3-byte ones with a memmove "
    "each) whose pad byte the `translate` that deletes dropped characters also deletes; the code points are cast to intp "
    "once and reused by a hit's normalisation; the scan's `Verdict.checks` tuple is made once and the hyperscan scratch "
    "read without `getattr`; `normalise_codes` finds a few drops with bytes searches on the codes' constant bytes; "
    "`LazyScores` is a msgspec Struct. Tried and reverted: the rules check's 1,888 normalised-side prefilter literals in "
    "the lexicon's database (one scan fewer per message) made the lexicon's scan slower than the scan it saved (5.04 → "
    "5.83 µs); an exact prefilter on the raw UTF-8 message cannot cover the homophone layer (hyperscan did not finish "
    "compiling 1,372 character-class prefixes in 10 minutes, and a one-character necessary condition holds in every cut). "
    "What is left for 2×: the numpy path is ~7 C calls before the scan (UTF-32 encode, frombuffer, intp cast, gather, "
    "tobytes, translate, memchr) plus `Verdict` and the clock, ~2.6× the keyword baseline with hits included.\n\n"
    "Sixth round (session 8, the C text kernel; a 2-core Intel Xeon shared with other helpers, load 5.9–9.9; old code "
    "fffb626 and the same commit with the new files alternately in fresh processes, 6 pairs, thread CPU per 50-character "
    "COLD cut, medians of 7 interleaved repetitions of 1,000 cuts): `LexiconCheck.scan` 6.0–9.7 → 3.1–5.4 µs (median "
    "ratio 0.53), against bare hyperscan's keyword form 2.66–3.47× → 1.35–1.81× and its positional form 4.07–4.46× → "
    "1.87–2.20×; `Normaliser.normalise` 4.2–6.9 → 1.9–3.6 µs (median 0.52); the pipeline's thread CPU median ratio 0.92 "
    "(0.70–1.25, noisy) and p50 wall 31–50 → 24–41 µs (median 0.75), with the classifier unchanged in both trees; "
    "normalising 2 M characters 0.66×. `bench checks --quick` on the whole tree (other helpers' classifier and PII work "
    "included, load 9.0–9.4): shipped scan 1.1× keyword / 1.6× positional bare hyperscan, pipeline p50 13.7 µs wall; the "
    "shared lexicon 2.6× / 3.5×. What changed: `checks/_textnative.c` (CPython buffer protocol only, no numpy headers): "
    "`Kernel.fuse(text)` reads the str's own storage and writes the main then the homophone 3-byte forms of the kept "
    "characters in one call (None on an expansion), the bytes the numpy path made with encode, frombuffer, intp cast, "
    "gather, tobytes, translate and memchr (0.18 µs a call); `Kernel.normalise(text)` gives the original code points and "
    "the kept quad codes in one bytearray (one frombuffer and two slices: a frombuffer measured ~0.6 µs here, a slice "
    "~0.1) and, when something was dropped, the steps and kept flags; long texts go through it block by block. The numpy "
    "path is the fallback (FENGHUO_NATIVE=0; tests/checks/test_text_native.py holds both equal on COLD rows and cuts, "
    "every code point, evasions and hypothesis text). Tried and taken out: leaving the homophone form off when no three "
    "consecutive kept characters begin a homophone pattern (exact set of the patterns' first three codes; 21 of 2,000 "
    "cuts need the form with the shipped lexicon, 556 with the shared one): hyperscan then scans half the bytes (~0.3 µs "
    "less) but the per-character test cost as much (fuse 0.29 → 0.58 µs). What is left: the scan itself — the binding "
    "costs ~0.45 µs a call before a byte is scanned and ~5 ns a byte here, and the lexicon scans 6 bytes per kept "
    "character (main and homophone forms) against bare's ~3 UTF-8 bytes, so the positional 2× is on the edge; messages "
    "with a hit (87 of 2,000 COLD cuts with the shipped lexicon, ~13–18 µs each; 757 with the shared lexicon, ~22 µs "
    "each) spend a third of it in resolve.py's `resolve_few` and its jieba test, which keeps the shared lexicon at "
    "2.6×; in the pipeline, the rules check's two prefilter scans and PII."
    "\n"
)


def _met(per: dict, k: str, baseline: str) -> str:
    """Whether lexicon ``k``'s scan is within 2× the named bare-hyperscan baseline (thread CPU)."""
    return "met" if per[f"{k}:scan"][1] <= 2 * per[f"{k}:{baseline}"][1] else "NOT met"


def short_section(quick: bool, shared_lexicon) -> list[str]:
    """Per 50-character message: LexiconCheck.scan against bare hyperscan on the same words, all
    interleaved per repetition, then the shipped pipeline's per-message p50/p99."""
    import ahocorasick

    from fenghuo.checks import normalize
    from fenghuo.checks.pipeline import load_pipeline

    msgs = _cold50(500 if quick else 2000)
    pipe = load_pipeline()
    _no_reload(pipe)
    shipped = next(c for c in pipe.checks if c.name == "lexicon")
    fns, rows = {}, []
    for label, lx in (("shipped lexicon (packaged default)", shipped), ("shared lexicon", shared_lexicon)):
        st = lx._state
        words = st.words[: len(st.engine.lengths)]  # the main matcher's words (listed + variants + allow)
        bare = _bare_hyperscan(words)
        barep = _bare_hyperscan(words, positional=True)
        norm = lx.normaliser
        ns = [norm.normalise(m) for m in msgs]
        k = label.split()[0]
        fns[f"{k}:bare"] = lambda bare=bare: [bare(_fresh(m)) for m in msgs]
        fns[f"{k}:barep"] = lambda barep=barep: [barep(_fresh(m)) for m in msgs]
        fns[f"{k}:norm"] = lambda norm=norm: [norm.normalise(_fresh(m)) for m in msgs]
        fns[f"{k}:find"] = lambda lx=lx, ns=ns: [lx.find_in(m, n) for m, n in zip(msgs, ns)]
        fns[f"{k}:scan"] = lambda lx=lx: [lx.scan(_fresh(m)) for m in msgs]
        rows.append((label, k, len(words)))
    ac = ahocorasick.Automaton()
    for i, w in enumerate(shipped._state.words[: len(shipped._state.engine.lengths)]):
        ac.add_word(w, i)
    ac.make_automaton()
    fns["gauge"] = lambda: [len(list(ac.iter(_fresh(m)))) for m in msgs]
    for fn in fns.values():
        fn()
    load_before = _load()
    res = _round_robin(fns, 5 if quick else 15)
    per = {key: (w / len(msgs) * 1e6, c / len(msgs) * 1e6) for key, (w, c) in res.items()}
    out = [
        f"### Short messages (50 characters)\n\n{len(msgs):,} consecutive 50-character cuts of COLD dev text; per message, "
        f"mean over all of them, median of {5 if quick else 15} repetitions with every row interleaved in each, wall-clock "
        f"and process CPU. Bare hyperscan: the same words as UTF-8 literals on the raw UTF-8 message with a counting "
        f"callback (no normalisation, spans or allow-list), `db.scan` called with keyword arguments and a closure as in "
        f"the earlier runs; *positional*: the same with positional arguments and a module-level callback, the lower "
        f"floor (the binding parses keywords at ~0.5 µs a call; fenghuo's own scans pass arguments by position). "
        f"File-change checks (reload) off while timing. Normalisation and the lexicon's scan input: "
        f"{'the C kernel (checks/_textnative.c)' if normalize.NATIVE is not None else 'the numpy fallback (kernel not built, or FENGHUO_NATIVE=0)'}. "
        f"Load average {load_before} before, {_load()} after; load gauge: "
        f"pyahocorasick on the shipped words {per['gauge'][0]:.1f} µs wall / {per['gauge'][1]:.1f} µs CPU per message. "
        f"Target: LexiconCheck.scan ≤ 2× bare hyperscan.\n",
        "| lexicon | words | bare hyperscan µs (CPU) | bare, positional µs (CPU) | normalise µs (CPU) | match + homophones + resolve µs (CPU) "
        "| **LexiconCheck.scan** µs (CPU) | scan ÷ bare (wall / CPU) | scan ÷ positional bare (CPU) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for label, k, nw in rows:
        b, bp, nm, f, sc = per[f"{k}:bare"], per[f"{k}:barep"], per[f"{k}:norm"], per[f"{k}:find"], per[f"{k}:scan"]
        out.append(
            f"| {label} | {nw:,} | {b[0]:.1f} ({b[1]:.1f}) | {bp[0]:.1f} ({bp[1]:.1f}) | {nm[0]:.1f} ({nm[1]:.1f}) | "
            f"{f[0]:.1f} ({f[1]:.1f}) | {sc[0]:.1f} ({sc[1]:.1f}) | {sc[0] / b[0]:.1f}× / {sc[1] / b[1]:.1f}× | {sc[1] / bp[1]:.1f}× |"
        )
    # The whole shipped pipeline, per message.
    for m in msgs[:200]:
        pipe.scan(m)
    wall, cpu = [], []
    for m in msgs:
        m = _fresh(m)
        t0, u0 = time.perf_counter(), time.thread_time()
        pipe.scan(m)
        wall.append(time.perf_counter() - t0)
        cpu.append(time.thread_time() - u0)
    w50, w99 = np.percentile(np.array(wall) * 1e6, [50, 99])
    c50, c99 = np.percentile(np.array(cpu) * 1e6, [50, 99])
    out.append(
        f"\nShipped pipeline ({', '.join(pipe.names)}) per 50-character message: p50 {w50:.1f} µs, p99 {w99:.1f} µs wall; "
        f"thread CPU p50 {c50:.1f} µs, p99 {c99:.1f} µs. Target p50 ≤ 20 µs: {'met' if w50 <= 20 else 'NOT met'}. "
        f"LexiconCheck.scan ≤ 2× bare hyperscan (CPU), keyword-argument / positional baseline: "
        + "; ".join(f"{label} {_met(per, k, 'bare')} / {_met(per, k, 'barep')}" for label, k, _ in rows)
        + ".\n"
    )
    out.append(_SHORT_HISTORY)
    return out


